ALTER TABLE memberships RENAME TO memberships_old;
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
INSERT INTO memberships SELECT * FROM memberships_old;
ALTER TABLE attendance RENAME TO attendance_old;
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
INSERT INTO attendance SELECT * FROM attendance_old;
DROP TABLE attendance_old;
DROP TABLE memberships_old;
CREATE INDEX memberships_participant ON memberships (participant_id, opportunity_id);
CREATE INDEX attendance_membership ON attendance (membership_id);
DROP TABLE contact_access_log;
DROP TABLE consent_events;
DROP TABLE contact_details;
DROP TABLE participants;
