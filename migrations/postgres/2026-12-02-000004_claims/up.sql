-- Paying people properly: expense claims priced from the policy's dated rates, their lines,
-- receipts (kept in the database), their history, bank details (encrypted like contact details),
-- recognition that is not money, and payment runs.
CREATE TABLE payment_runs (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    due_by DATE NOT NULL,
    claims INTEGER NOT NULL,
    total_pence BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX payment_runs_organisation ON payment_runs (organisation_id, id);

CREATE TABLE claims (
    id TEXT PRIMARY KEY NOT NULL,
    participant_id TEXT NOT NULL REFERENCES participants (id),
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    opportunity_id TEXT NOT NULL REFERENCES opportunities (id),
    policy_id TEXT NOT NULL REFERENCES payment_policies (id),
    status TEXT NOT NULL,
    total_pence BIGINT NOT NULL,
    choice TEXT NOT NULL,
    payable_pence BIGINT NOT NULL,
    currency TEXT NOT NULL,
    submitted_at TIMESTAMP,
    due_on DATE,
    -- The Monday of the week of the claim's first activity: payments for one week are summed
    -- against a limit a person on benefits set.
    activity_week DATE,
    approved_at TIMESTAMP,
    paid_at TIMESTAMP,
    payment_method TEXT,
    payment_reference TEXT,
    payment_run_id TEXT REFERENCES payment_runs (id),
    rejection_reason TEXT,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX claims_participant ON claims (participant_id, id);
CREATE INDEX claims_organisation ON claims (organisation_id, id);
-- The finance lists: claims still owed, by due day (overdue, due soon), and claims paid, by day
-- paid. Partial, so each list reads only its own claims in order, however many are paid.
CREATE INDEX claims_unpaid_due ON claims (organisation_id, due_on, id) WHERE status IN ('submitted', 'approved');
CREATE INDEX claims_paid ON claims (organisation_id, paid_at, id) WHERE status = 'paid';

CREATE TABLE claim_lines (
    id TEXT PRIMARY KEY NOT NULL,
    claim_id TEXT NOT NULL REFERENCES claims (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    kind TEXT NOT NULL,
    activity_on DATE NOT NULL,
    session_id TEXT REFERENCES sessions (id),
    minutes INTEGER,
    miles_tenths INTEGER,
    description TEXT,
    receipt_id TEXT,
    rate_pence BIGINT,
    amount_pence BIGINT NOT NULL
);
CREATE INDEX claim_lines_claim ON claim_lines (claim_id, position);

CREATE TABLE receipts (
    id TEXT PRIMARY KEY NOT NULL,
    claim_id TEXT NOT NULL REFERENCES claims (id) ON DELETE CASCADE,
    content_type TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    content BYTEA NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_at TIMESTAMP NOT NULL
);
CREATE INDEX receipts_claim ON receipts (claim_id, id);

CREATE TABLE claim_events (
    id TEXT PRIMARY KEY NOT NULL,
    claim_id TEXT NOT NULL REFERENCES claims (id) ON DELETE CASCADE,
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    detail TEXT,
    at TIMESTAMP NOT NULL
);
CREATE INDEX claim_events_claim ON claim_events (claim_id, id);

CREATE TABLE bank_details (
    participant_id TEXT PRIMARY KEY NOT NULL REFERENCES participants (id) ON DELETE CASCADE,
    key_id TEXT NOT NULL,
    nonce BYTEA NOT NULL,
    ciphertext BYTEA NOT NULL,
    last_four TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX bank_details_key ON bank_details (key_id);

CREATE TABLE recognitions (
    id TEXT PRIMARY KEY NOT NULL,
    participant_id TEXT NOT NULL REFERENCES participants (id),
    opportunity_id TEXT NOT NULL REFERENCES opportunities (id),
    kind TEXT NOT NULL,
    description TEXT NOT NULL,
    value_pence BIGINT,
    recorded_by TEXT NOT NULL,
    recorded_at TIMESTAMP NOT NULL
);
CREATE INDEX recognitions_participant ON recognitions (participant_id, id);
