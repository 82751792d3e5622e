-- Each session's decisions, and of those the ones marked shared with people of lived or caring
-- experience, counted as they are recorded: so that the evidence report weighs each piece of
-- work's decisions from its session rows, with no join to the decisions themselves. Kept by
-- triggers in the same transaction as the change.
ALTER TABLE sessions ADD COLUMN decisions_made INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN decisions_shared INTEGER NOT NULL DEFAULT 0;

UPDATE sessions SET
    decisions_made = (SELECT COUNT(*) FROM decisions d WHERE d.session_id = sessions.id),
    decisions_shared = (SELECT COUNT(*) FROM decisions d
                        WHERE d.session_id = sessions.id AND d.shared_with_lived_experience);

CREATE TRIGGER decisions_tallies_insert AFTER INSERT ON decisions
BEGIN
    UPDATE sessions SET decisions_made = decisions_made + 1,
        decisions_shared = decisions_shared
            + (CASE WHEN NEW.shared_with_lived_experience THEN 1 ELSE 0 END)
    WHERE id = NEW.session_id;
END;

CREATE TRIGGER decisions_tallies_delete AFTER DELETE ON decisions
BEGIN
    UPDATE sessions SET decisions_made = decisions_made - 1,
        decisions_shared = decisions_shared
            - (CASE WHEN OLD.shared_with_lived_experience THEN 1 ELSE 0 END)
    WHERE id = OLD.session_id;
END;

CREATE TRIGGER decisions_tallies_update AFTER UPDATE OF session_id, shared_with_lived_experience
ON decisions
BEGIN
    UPDATE sessions SET decisions_made = decisions_made - 1,
        decisions_shared = decisions_shared
            - (CASE WHEN OLD.shared_with_lived_experience THEN 1 ELSE 0 END)
    WHERE id = OLD.session_id;
    UPDATE sessions SET decisions_made = decisions_made + 1,
        decisions_shared = decisions_shared
            + (CASE WHEN NEW.shared_with_lived_experience THEN 1 ELSE 0 END)
    WHERE id = NEW.session_id;
END;
