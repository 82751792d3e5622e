-- Each session's lived-experience and carer attendance, counted as it is recorded, so that the
-- evidence report reads one row per session rather than every attendance row. Kept by triggers
-- in the same transaction as the change: attendance recorded, changed or removed, and a
-- member's experience changed. Deltas (never recounts), so that two transactions recording at
-- one session at once each add their own.
ALTER TABLE sessions ADD COLUMN present_with_experience INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN participated_with_experience INTEGER NOT NULL DEFAULT 0;

UPDATE sessions s SET present_with_experience = t.present, participated_with_experience = t.participated
FROM (SELECT a.session_id, COUNT(*) AS present,
             COUNT(*) FILTER (WHERE a.participation = 'participated') AS participated
      FROM attendance a JOIN memberships m ON m.id = a.membership_id
      WHERE m.experience <> 'none' GROUP BY a.session_id) t
WHERE t.session_id = s.id;

-- Attendance recorded (TG_ARGV[0] = 1) or removed (-1): its rows, as `tally_rows`.
CREATE FUNCTION session_tallies_shift() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    direction INTEGER := TG_ARGV[0]::INTEGER;
BEGIN
    UPDATE sessions s
    SET present_with_experience = s.present_with_experience + direction * d.present,
        participated_with_experience = s.participated_with_experience + direction * d.participated
    FROM (SELECT r.session_id, COUNT(*) AS present,
                 COUNT(*) FILTER (WHERE r.participation = 'participated') AS participated
          FROM tally_rows r JOIN memberships m ON m.id = r.membership_id
          WHERE m.experience <> 'none' GROUP BY r.session_id) d
    WHERE s.id = d.session_id;
    RETURN NULL;
END $$;

CREATE FUNCTION session_tallies_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE sessions s
    SET present_with_experience = s.present_with_experience + d.present,
        participated_with_experience = s.participated_with_experience + d.participated
    FROM (SELECT session_id, SUM(sign) AS present,
                 SUM(CASE WHEN participation = 'participated' THEN sign ELSE 0 END) AS participated
          FROM (SELECT n.session_id, n.participation, 1 AS sign FROM tally_new n
                JOIN memberships m ON m.id = n.membership_id WHERE m.experience <> 'none'
                UNION ALL
                SELECT o.session_id, o.participation, -1 AS sign FROM tally_old o
                JOIN memberships m ON m.id = o.membership_id WHERE m.experience <> 'none') c
          GROUP BY session_id) d
    WHERE s.id = d.session_id AND (d.present <> 0 OR d.participated <> 0);
    RETURN NULL;
END $$;

-- A member whose experience changes between none and some: their attendance moves in or out.
CREATE FUNCTION session_tallies_experience() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE sessions s
    SET present_with_experience = s.present_with_experience + d.present,
        participated_with_experience = s.participated_with_experience + d.participated
    FROM (SELECT a.session_id, SUM(c.sign) AS present,
                 SUM(CASE WHEN a.participation = 'participated' THEN c.sign ELSE 0 END) AS participated
          FROM attendance a
          JOIN (SELECT n.id, CASE WHEN n.experience <> 'none' THEN 1 ELSE 0 END
                           - CASE WHEN o.experience <> 'none' THEN 1 ELSE 0 END AS sign
                FROM tally_new n JOIN tally_old o ON o.id = n.id) c ON c.id = a.membership_id
          WHERE c.sign <> 0 GROUP BY a.session_id) d
    WHERE s.id = d.session_id;
    RETURN NULL;
END $$;

CREATE TRIGGER attendance_tallies_insert AFTER INSERT ON attendance
    REFERENCING NEW TABLE AS tally_rows FOR EACH STATEMENT EXECUTE FUNCTION session_tallies_shift('1');
CREATE TRIGGER attendance_tallies_delete AFTER DELETE ON attendance
    REFERENCING OLD TABLE AS tally_rows FOR EACH STATEMENT EXECUTE FUNCTION session_tallies_shift('-1');
CREATE TRIGGER attendance_tallies_update AFTER UPDATE ON attendance
    REFERENCING OLD TABLE AS tally_old NEW TABLE AS tally_new
    FOR EACH STATEMENT EXECUTE FUNCTION session_tallies_change();
CREATE TRIGGER memberships_tallies_experience AFTER UPDATE ON memberships
    REFERENCING OLD TABLE AS tally_old NEW TABLE AS tally_new
    FOR EACH STATEMENT EXECUTE FUNCTION session_tallies_experience();

-- Whether an attendance row's time was paid (a paid claim has a line for its session) or
-- recognised otherwise (a recognition for its piece of work), kept as claims are paid and
-- recognitions recorded; and the experience its member brings, kept as the membership
-- changes: so that the report's pass over attendance needs no join to claims or memberships.
ALTER TABLE attendance ADD COLUMN recognised BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE attendance ADD COLUMN experience TEXT NOT NULL DEFAULT 'none';
UPDATE attendance a SET experience = m.experience FROM memberships m WHERE m.id = a.membership_id;

CREATE FUNCTION attendance_recognised(session TEXT, participant TEXT) RETURNS BOOLEAN
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM claim_lines l JOIN claims c ON c.id = l.claim_id
                   WHERE l.session_id = session AND c.participant_id = participant
                     AND c.status = 'paid')
        OR EXISTS (SELECT 1 FROM recognitions r JOIN sessions s ON s.opportunity_id = r.opportunity_id
                   WHERE s.id = session AND r.participant_id = participant)
$$;

UPDATE attendance SET recognised = TRUE WHERE attendance_recognised(session_id, participant_id);

CREATE FUNCTION attendance_derived_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.recognised := attendance_recognised(NEW.session_id, NEW.participant_id);
    NEW.experience := COALESCE((SELECT m.experience FROM memberships m WHERE m.id = NEW.membership_id), 'none');
    RETURN NEW;
END $$;

CREATE FUNCTION attendance_experience() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE attendance SET experience = NEW.experience WHERE membership_id = NEW.id;
    RETURN NULL;
END $$;

-- A claim paid (or, were it ever undone, no longer paid): the attendance its lines name.
CREATE FUNCTION attendance_recognised_claim() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE attendance a SET recognised = attendance_recognised(a.session_id, a.participant_id)
    WHERE a.participant_id = NEW.participant_id
      AND a.session_id IN (SELECT l.session_id FROM claim_lines l WHERE l.claim_id = NEW.id);
    RETURN NULL;
END $$;

-- A line added to a claim that is already paid.
CREATE FUNCTION attendance_recognised_line() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE attendance a SET recognised = TRUE
    WHERE a.session_id = NEW.session_id AND NOT a.recognised
      AND a.participant_id = (SELECT c.participant_id FROM claims c
                              WHERE c.id = NEW.claim_id AND c.status = 'paid');
    RETURN NULL;
END $$;

CREATE FUNCTION attendance_recognised_recognition() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE attendance a SET recognised = TRUE
    WHERE a.participant_id = NEW.participant_id AND NOT a.recognised
      AND a.session_id IN (SELECT s.id FROM sessions s WHERE s.opportunity_id = NEW.opportunity_id);
    RETURN NULL;
END $$;

CREATE TRIGGER attendance_derived_row
    BEFORE INSERT OR UPDATE OF session_id, participant_id, membership_id
    ON attendance FOR EACH ROW EXECUTE FUNCTION attendance_derived_row();
CREATE TRIGGER memberships_experience AFTER UPDATE OF experience ON memberships FOR EACH ROW
    WHEN (OLD.experience <> NEW.experience) EXECUTE FUNCTION attendance_experience();
CREATE TRIGGER claims_recognised AFTER UPDATE OF status ON claims FOR EACH ROW
    WHEN ((OLD.status = 'paid') <> (NEW.status = 'paid'))
    EXECUTE FUNCTION attendance_recognised_claim();
CREATE TRIGGER claim_lines_recognised AFTER INSERT ON claim_lines FOR EACH ROW
    WHEN (NEW.session_id IS NOT NULL) EXECUTE FUNCTION attendance_recognised_line();
CREATE TRIGGER recognitions_recognised AFTER INSERT ON recognitions FOR EACH ROW
    EXECUTE FUNCTION attendance_recognised_recognition();
