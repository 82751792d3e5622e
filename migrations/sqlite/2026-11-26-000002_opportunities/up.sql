-- Involvement opportunities, their members, sessions, attendance and decisions; the glossary.
-- Lists of values (support, areas) are stored as ",a,b," so a filter can match ",a,".
CREATE TABLE opportunities (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    contract_id TEXT,
    facilitator_organisation_id TEXT REFERENCES organisations (id),
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    easy_read_description TEXT,
    kind TEXT NOT NULL,
    claimed_mode TEXT NOT NULL,
    status TEXT NOT NULL,
    starts_on DATE,
    ends_on DATE,
    format TEXT NOT NULL,
    venue TEXT,
    places INTEGER,
    places_taken INTEGER NOT NULL DEFAULT 0,
    time_commitment TEXT,
    paid BOOLEAN NOT NULL,
    payment_policy_id TEXT REFERENCES payment_policies (id),
    other_recognition TEXT,
    support_offered TEXT NOT NULL,
    lived_experience_areas TEXT NOT NULL,
    for_carers BOOLEAN NOT NULL,
    admission TEXT NOT NULL,
    advertised_on DATE,
    closing_on DATE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    CHECK (places IS NULL OR places_taken <= places)
);
CREATE INDEX opportunities_status ON opportunities (status, id);
CREATE INDEX opportunities_organisation ON opportunities (organisation_id, id);
CREATE INDEX opportunities_facilitator ON opportunities (facilitator_organisation_id, id);

CREATE TABLE memberships (
    id TEXT PRIMARY KEY NOT NULL,
    opportunity_id TEXT NOT NULL REFERENCES opportunities (id) ON DELETE CASCADE,
    participant_id TEXT NOT NULL,
    role TEXT NOT NULL,
    experience TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    joined_at TIMESTAMP,
    left_at TIMESTAMP,
    interests_declared_at TIMESTAMP,
    has_conflict BOOLEAN NOT NULL DEFAULT FALSE,
    interest_details TEXT,
    scoring BOOLEAN NOT NULL DEFAULT FALSE,
    version INTEGER NOT NULL DEFAULT 1,
    UNIQUE (opportunity_id, participant_id)
);
CREATE INDEX memberships_participant ON memberships (participant_id, opportunity_id);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY NOT NULL,
    opportunity_id TEXT NOT NULL REFERENCES opportunities (id) ON DELETE CASCADE,
    starts_at TIMESTAMP NOT NULL,
    duration_minutes INTEGER NOT NULL,
    format TEXT NOT NULL,
    lived_experience_agenda_slot BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX sessions_opportunity ON sessions (opportunity_id, starts_at);

CREATE TABLE attendance (
    id TEXT PRIMARY KEY NOT NULL,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    membership_id TEXT NOT NULL REFERENCES memberships (id),
    participant_id TEXT NOT NULL,
    minutes INTEGER NOT NULL,
    participation TEXT NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    UNIQUE (session_id, participant_id)
);
CREATE INDEX attendance_membership ON attendance (membership_id);

CREATE TABLE decisions (
    id TEXT PRIMARY KEY NOT NULL,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    description TEXT NOT NULL,
    shared_with_lived_experience BOOLEAN NOT NULL,
    recorded_at TIMESTAMP NOT NULL
);
CREATE INDEX decisions_session ON decisions (session_id, id);

CREATE TABLE glossary_terms (
    id TEXT PRIMARY KEY NOT NULL,
    term TEXT NOT NULL,
    term_key TEXT NOT NULL UNIQUE,
    meaning TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
