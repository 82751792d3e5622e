-- Each person's lived-experience and carer attendance per calendar month, for each provider and
-- contract (`contract_id` '' for work under none): so that the evidence report counts distinct
-- people over the whole months of its period from one row per person and month, and reads
-- attendance itself only for the part-months at either end. Only attendance whose member brings
-- lived or caring experience is counted, as the report counts it. Kept by triggers in the same
-- transaction as the change, as deltas (never recounts).
CREATE TABLE attendance_months (
    organisation_id TEXT NOT NULL,
    contract_id TEXT NOT NULL,
    month DATE NOT NULL,
    participant_id TEXT NOT NULL,
    attended INTEGER NOT NULL,
    lived INTEGER NOT NULL,
    carer INTEGER NOT NULL,
    participating_minutes BIGINT NOT NULL,
    attending_minutes BIGINT NOT NULL,
    recognised_minutes BIGINT NOT NULL,
    PRIMARY KEY (organisation_id, contract_id, month, participant_id)
);

INSERT INTO attendance_months (organisation_id, contract_id, month, participant_id, attended,
    lived, carer, participating_minutes, attending_minutes, recognised_minutes)
SELECT o.organisation_id, COALESCE(o.contract_id, ''), date(s.starts_at, 'start of month'),
       a.participant_id, COUNT(*),
       SUM(a.experience IN ('lived_experience', 'both')),
       SUM(a.experience IN ('carer', 'both')),
       SUM(CASE WHEN a.participation = 'participated' THEN a.minutes ELSE 0 END),
       SUM(CASE WHEN a.participation = 'attended' THEN a.minutes ELSE 0 END),
       SUM(CASE WHEN a.recognised THEN a.minutes ELSE 0 END)
FROM attendance a JOIN sessions s ON s.id = a.session_id
JOIN opportunities o ON o.id = s.opportunity_id
WHERE a.experience <> 'none'
GROUP BY 1, 2, 3, 4;

-- Written to by the triggers below, one attendance row with a sign at a time (1 added, -1 taken
-- away): adds it to the month of its session, under the provider and contract of its work as
-- the database holds them at that moment. It holds no rows itself.
CREATE VIEW attendance_months_deltas AS
    SELECT session_id, participant_id, experience, participation, minutes, recognised, 1 AS sign
    FROM attendance WHERE 0;

CREATE TRIGGER attendance_months_deltas_add INSTEAD OF INSERT ON attendance_months_deltas
WHEN NEW.experience <> 'none'
BEGIN
    INSERT INTO attendance_months (organisation_id, contract_id, month, participant_id, attended,
        lived, carer, participating_minutes, attending_minutes, recognised_minutes)
    SELECT o.organisation_id, COALESCE(o.contract_id, ''), date(s.starts_at, 'start of month'),
           NEW.participant_id, NEW.sign,
           NEW.sign * (NEW.experience IN ('lived_experience', 'both')),
           NEW.sign * (NEW.experience IN ('carer', 'both')),
           CASE WHEN NEW.participation = 'participated' THEN NEW.sign * NEW.minutes ELSE 0 END,
           CASE WHEN NEW.participation = 'attended' THEN NEW.sign * NEW.minutes ELSE 0 END,
           CASE WHEN NEW.recognised THEN NEW.sign * NEW.minutes ELSE 0 END
    FROM sessions s JOIN opportunities o ON o.id = s.opportunity_id WHERE s.id = NEW.session_id
    ON CONFLICT (organisation_id, contract_id, month, participant_id) DO UPDATE SET
        attended = attended + excluded.attended,
        lived = lived + excluded.lived,
        carer = carer + excluded.carer,
        participating_minutes = participating_minutes + excluded.participating_minutes,
        attending_minutes = attending_minutes + excluded.attending_minutes,
        recognised_minutes = recognised_minutes + excluded.recognised_minutes;
END;

-- Attendance recorded, changed or removed.
CREATE TRIGGER attendance_months_insert AFTER INSERT ON attendance
BEGIN
    INSERT INTO attendance_months_deltas VALUES (NEW.session_id, NEW.participant_id,
        NEW.experience, NEW.participation, NEW.minutes, NEW.recognised, 1);
END;

CREATE TRIGGER attendance_months_delete AFTER DELETE ON attendance
BEGIN
    INSERT INTO attendance_months_deltas VALUES (OLD.session_id, OLD.participant_id,
        OLD.experience, OLD.participation, OLD.minutes, OLD.recognised, -1);
END;

CREATE TRIGGER attendance_months_update AFTER UPDATE OF session_id, participant_id, experience,
    participation, minutes, recognised ON attendance
BEGIN
    INSERT INTO attendance_months_deltas VALUES (OLD.session_id, OLD.participant_id,
        OLD.experience, OLD.participation, OLD.minutes, OLD.recognised, -1);
    INSERT INTO attendance_months_deltas VALUES (NEW.session_id, NEW.participant_id,
        NEW.experience, NEW.participation, NEW.minutes, NEW.recognised, 1);
END;

-- A session moved to another time or piece of work, or removed; a piece of work moved to another
-- contract or provider, or removed: its attendance leaves its months before (the rows it joins
-- still as they were) and, unless removed, joins them again after. A removal's own cascade to
-- the attendance then finds no session to count it against.
CREATE TRIGGER sessions_months_leave BEFORE UPDATE OF starts_at, opportunity_id ON sessions
WHEN OLD.starts_at IS NOT NEW.starts_at OR OLD.opportunity_id IS NOT NEW.opportunity_id
BEGIN
    INSERT INTO attendance_months_deltas SELECT session_id, participant_id, experience,
        participation, minutes, recognised, -1 FROM attendance WHERE session_id = OLD.id;
END;

-- Moved to another piece of work, whether its attendance was recognised then follows the
-- recognitions for that work (after the attendance has joined its months again, so that the
-- change is counted where it now belongs).
CREATE TRIGGER sessions_months_join AFTER UPDATE OF starts_at, opportunity_id ON sessions
WHEN OLD.starts_at IS NOT NEW.starts_at OR OLD.opportunity_id IS NOT NEW.opportunity_id
BEGIN
    INSERT INTO attendance_months_deltas SELECT session_id, participant_id, experience,
        participation, minutes, recognised, 1 FROM attendance WHERE session_id = NEW.id;
    UPDATE attendance SET recognised =
        EXISTS (SELECT 1 FROM claim_lines l JOIN claims c ON c.id = l.claim_id
                WHERE l.session_id = attendance.session_id
                  AND c.participant_id = attendance.participant_id AND c.status = 'paid')
        OR EXISTS (SELECT 1 FROM recognitions r JOIN sessions s ON s.opportunity_id = r.opportunity_id
                   WHERE s.id = attendance.session_id AND r.participant_id = attendance.participant_id)
    WHERE session_id = NEW.id AND OLD.opportunity_id IS NOT NEW.opportunity_id;
END;

CREATE TRIGGER sessions_months_remove BEFORE DELETE ON sessions
BEGIN
    INSERT INTO attendance_months_deltas SELECT session_id, participant_id, experience,
        participation, minutes, recognised, -1 FROM attendance WHERE session_id = OLD.id;
END;

CREATE TRIGGER opportunities_months_leave BEFORE UPDATE OF contract_id, organisation_id
ON opportunities
WHEN OLD.contract_id IS NOT NEW.contract_id OR OLD.organisation_id IS NOT NEW.organisation_id
BEGIN
    INSERT INTO attendance_months_deltas SELECT session_id, participant_id, experience,
        participation, minutes, recognised, -1 FROM attendance
        WHERE session_id IN (SELECT id FROM sessions WHERE opportunity_id = OLD.id);
END;

CREATE TRIGGER opportunities_months_join AFTER UPDATE OF contract_id, organisation_id
ON opportunities
WHEN OLD.contract_id IS NOT NEW.contract_id OR OLD.organisation_id IS NOT NEW.organisation_id
BEGIN
    INSERT INTO attendance_months_deltas SELECT session_id, participant_id, experience,
        participation, minutes, recognised, 1 FROM attendance
        WHERE session_id IN (SELECT id FROM sessions WHERE opportunity_id = NEW.id);
END;

CREATE TRIGGER opportunities_months_remove BEFORE DELETE ON opportunities
BEGIN
    INSERT INTO attendance_months_deltas SELECT session_id, participant_id, experience,
        participation, minutes, recognised, -1 FROM attendance
        WHERE session_id IN (SELECT id FROM sessions WHERE opportunity_id = OLD.id);
END;

