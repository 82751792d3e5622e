-- Closing the loop: feedback items and their responses ("You said - We did"), evaluations on the
-- Five Values, the ten-question self-assessment, and the outbox of events written in the same
-- transaction as the change they describe.
CREATE TABLE feedback_items (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    opportunity_id TEXT REFERENCES opportunities (id),
    -- Who said it; NULL when given anonymously.
    participant_id TEXT REFERENCES participants (id),
    said TEXT NOT NULL,
    channel TEXT NOT NULL,
    themes TEXT NOT NULL,
    received_at TIMESTAMP NOT NULL,
    -- The response: what was done, or honestly why not.
    outcome TEXT,
    we_did TEXT,
    responded_by TEXT,
    responded_at TIMESTAMP,
    -- Closed when the response was communicated back to the people who gave it.
    communicated_how TEXT,
    closed_by TEXT,
    closed_at TIMESTAMP,
    recorded_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX feedback_items_organisation ON feedback_items (organisation_id, id);
CREATE INDEX feedback_items_open ON feedback_items (organisation_id, id) WHERE closed_at IS NULL;
CREATE INDEX feedback_items_received ON feedback_items (organisation_id, received_at);
CREATE INDEX feedback_items_opportunity ON feedback_items (opportunity_id, received_at);
CREATE INDEX feedback_items_participant ON feedback_items (participant_id, id);

CREATE TABLE evaluations (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    opportunity_id TEXT REFERENCES opportunities (id),
    participant_id TEXT REFERENCES participants (id),
    empathy INTEGER NOT NULL,
    inclusion INTEGER NOT NULL,
    honesty INTEGER NOT NULL,
    working_together INTEGER NOT NULL,
    personalisation INTEGER NOT NULL,
    comment TEXT,
    evaluated_at TIMESTAMP NOT NULL,
    recorded_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX evaluations_organisation ON evaluations (organisation_id, evaluated_at);
CREATE INDEX evaluations_organisation_id ON evaluations (organisation_id, id);

CREATE TABLE self_assessments (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    period_from DATE NOT NULL,
    period_to DATE NOT NULL,
    current_level TEXT NOT NULL,
    staff_knowledge INTEGER NOT NULL,
    staff_confidence INTEGER NOT NULL,
    staff_notes TEXT,
    opportunities_completed INTEGER NOT NULL,
    successes TEXT,
    barriers TEXT NOT NULL,
    barriers_other TEXT,
    commitment INTEGER NOT NULL,
    prepared_to_pay TEXT NOT NULL,
    facilitators TEXT,
    cultural_attitudes TEXT,
    target_level TEXT NOT NULL,
    submitted_by TEXT NOT NULL,
    submitted_at TIMESTAMP NOT NULL
);
CREATE INDEX self_assessments_organisation ON self_assessments (organisation_id, id);

-- The outbox. No foreign keys: an event is a record of what happened, kept as it was.
CREATE TABLE events (
    id TEXT PRIMARY KEY NOT NULL,
    event_type TEXT NOT NULL,
    organisation_id TEXT NOT NULL,
    facilitator_organisation_id TEXT,
    opportunity_id TEXT,
    participant_id TEXT,
    occurred_at TIMESTAMP NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX events_organisation ON events (organisation_id, id);
CREATE INDEX events_facilitator ON events (facilitator_organisation_id, id) WHERE facilitator_organisation_id IS NOT NULL;
CREATE INDEX events_participant ON events (participant_id, id) WHERE participant_id IS NOT NULL;
CREATE INDEX events_opportunity ON events (opportunity_id, id) WHERE opportunity_id IS NOT NULL;
