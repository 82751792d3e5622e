-- Organisations, their payment policies, machine clients and stored idempotent answers.
CREATE TABLE organisations (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    kinds TEXT NOT NULL,
    contact_name TEXT,
    contact_email TEXT,
    contact_phone TEXT,
    default_payment_policy_id TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE payment_policies (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    fares_need_receipt BOOLEAN NOT NULL,
    travel_time_paid BOOLEAN NOT NULL,
    pay_within_days INTEGER NOT NULL,
    is_default BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX payment_policies_organisation ON payment_policies (organisation_id, id);

CREATE TABLE payment_policy_rates (
    id TEXT PRIMARY KEY NOT NULL,
    policy_id TEXT NOT NULL REFERENCES payment_policies (id) ON DELETE CASCADE,
    effective_from DATE NOT NULL,
    hourly_rate_pence BIGINT NOT NULL,
    mileage_rate_pence BIGINT NOT NULL,
    currency TEXT NOT NULL,
    UNIQUE (policy_id, effective_from)
);

CREATE TABLE api_clients (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    roles TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    rotated_at TIMESTAMP,
    revoked_at TIMESTAMP,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX api_clients_organisation ON api_clients (organisation_id, id);

CREATE TABLE idempotency_keys (
    scope TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status_code INTEGER,
    response_headers TEXT,
    response_body BYTEA,
    created_at TIMESTAMP NOT NULL,
    completed_at TIMESTAMP,
    PRIMARY KEY (scope, idempotency_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
