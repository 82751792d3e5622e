-- Contracts: a commissioner funds a provider for a period and writes co-production
-- requirements into it (each a metric, a threshold and a plain-English label, kept as JSON).
CREATE TABLE contracts (
    id TEXT PRIMARY KEY NOT NULL,
    commissioner_id TEXT NOT NULL REFERENCES organisations (id),
    provider_id TEXT NOT NULL REFERENCES organisations (id),
    title TEXT NOT NULL,
    starts_on DATE NOT NULL,
    ends_on DATE NOT NULL,
    requirements TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX contracts_commissioner ON contracts (commissioner_id, id);
CREATE INDEX contracts_provider ON contracts (provider_id, id);
-- Work under a contract, and what the evidence report reads by session and by date.
CREATE INDEX opportunities_contract ON opportunities (contract_id, id);
CREATE INDEX claim_lines_session ON claim_lines (session_id);
CREATE INDEX recognitions_opportunity ON recognitions (opportunity_id, participant_id);
CREATE INDEX claims_due ON claims (organisation_id, due_on);
