-- Participants: profiles, contact details (encrypted at rest, stored apart from the profile),
-- consent to share them (append-only events), and the log of reads of someone's contact details.
-- Lists of values are stored as ",a,b," like the opportunities' lists.
CREATE TABLE participants (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    name TEXT,
    preferred_name TEXT,
    roles TEXT NOT NULL,
    lived_experience_areas TEXT NOT NULL,
    involvement_kinds TEXT NOT NULL,
    time_available TEXT,
    contact_methods TEXT NOT NULL,
    support_needs TEXT NOT NULL,
    support_needs_other TEXT,
    payment_preference TEXT,
    receives_benefits BOOLEAN NOT NULL DEFAULT FALSE,
    weekly_payment_limit_pence BIGINT,
    identity_subject TEXT UNIQUE,
    erased_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX participants_organisation ON participants (organisation_id, id);

-- One row per participant and field (email, phone, postal_address): AES-256-GCM ciphertext under
-- the data key named by key_id, bound to the participant and the field.
CREATE TABLE contact_details (
    participant_id TEXT NOT NULL REFERENCES participants (id) ON DELETE CASCADE,
    field TEXT NOT NULL,
    key_id TEXT NOT NULL,
    nonce BLOB NOT NULL,
    ciphertext BLOB NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (participant_id, field)
);
CREATE INDEX contact_details_key ON contact_details (key_id);

CREATE TABLE consent_events (
    id TEXT PRIMARY KEY NOT NULL,
    participant_id TEXT NOT NULL REFERENCES participants (id) ON DELETE CASCADE,
    field TEXT NOT NULL,
    audience_kind TEXT NOT NULL,
    audience_id TEXT NOT NULL,
    granted BOOLEAN NOT NULL,
    method TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_by_organisation_id TEXT,
    recorded_at TIMESTAMP NOT NULL
);
CREATE INDEX consent_events_participant ON consent_events (participant_id, id);
CREATE INDEX consent_events_audience ON consent_events (audience_id, participant_id);

CREATE TABLE contact_access_log (
    id TEXT PRIMARY KEY NOT NULL,
    participant_id TEXT NOT NULL REFERENCES participants (id) ON DELETE CASCADE,
    accessed_by TEXT NOT NULL,
    accessed_by_organisation_id TEXT,
    accessed_by_roles TEXT NOT NULL,
    fields TEXT NOT NULL,
    purpose TEXT NOT NULL,
    accessed_at TIMESTAMP NOT NULL
);
CREATE INDEX contact_access_log_participant ON contact_access_log (participant_id, id);

-- Everyone already named by a membership becomes a registered participant of the organisation
-- that runs the work, with no name, and with the roles their memberships stated (so the
-- evidence stays exactly as it was).
INSERT INTO participants (id, organisation_id, roles, lived_experience_areas, involvement_kinds,
    contact_methods, support_needs, receives_benefits, created_at, updated_at, version)
SELECT m.participant_id,
    MIN(o.organisation_id),
    ',' || CASE WHEN MAX(CASE WHEN m.experience IN ('lived_experience', 'both') THEN 1 ELSE 0 END) = 1
               THEN 'lived_experience,' ELSE '' END
        || CASE WHEN MAX(CASE WHEN m.experience IN ('carer', 'both') THEN 1 ELSE 0 END) = 1
               THEN 'carer,' ELSE '' END,
    ',', ',', ',', ',', FALSE, MIN(m.created_at), MIN(m.created_at), 1
FROM memberships m JOIN opportunities o ON o.id = m.opportunity_id
GROUP BY m.participant_id;

-- SQLite cannot add a foreign key to a table, so memberships and attendance are rebuilt with
-- theirs, parent first: renaming a table away points the references to it at the old copy, so
-- attendance is rebuilt (pointing at the new memberships) before the old copies are dropped,
-- child first, when nothing refers to them any more.
ALTER TABLE memberships RENAME TO memberships_old;
CREATE TABLE memberships (
    id TEXT PRIMARY KEY NOT NULL,
    opportunity_id TEXT NOT NULL REFERENCES opportunities (id) ON DELETE CASCADE,
    participant_id TEXT NOT NULL REFERENCES participants (id),
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
INSERT INTO memberships SELECT * FROM memberships_old;
ALTER TABLE attendance RENAME TO attendance_old;
CREATE TABLE attendance (
    id TEXT PRIMARY KEY NOT NULL,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    membership_id TEXT NOT NULL REFERENCES memberships (id),
    participant_id TEXT NOT NULL REFERENCES participants (id),
    minutes INTEGER NOT NULL,
    participation TEXT NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    UNIQUE (session_id, participant_id)
);
INSERT INTO attendance SELECT * FROM attendance_old;
DROP TABLE attendance_old;
DROP TABLE memberships_old;
CREATE INDEX memberships_participant ON memberships (participant_id, opportunity_id);
CREATE INDEX attendance_membership ON attendance (membership_id);
