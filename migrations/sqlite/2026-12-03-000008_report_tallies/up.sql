-- Each session's lived-experience and carer attendance, counted as it is recorded, so that the
-- evidence report reads one row per session rather than every attendance row. Kept by triggers
-- in the same transaction as the change: attendance recorded, changed or removed, and a
-- member's experience changed.
ALTER TABLE sessions ADD COLUMN present_with_experience INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN participated_with_experience INTEGER NOT NULL DEFAULT 0;

UPDATE sessions SET
    present_with_experience = (SELECT COUNT(*) FROM attendance a
        JOIN memberships m ON m.id = a.membership_id
        WHERE a.session_id = sessions.id AND m.experience <> 'none'),
    participated_with_experience = (SELECT COUNT(*) FROM attendance a
        JOIN memberships m ON m.id = a.membership_id
        WHERE a.session_id = sessions.id AND m.experience <> 'none'
          AND a.participation = 'participated');

CREATE TRIGGER attendance_tallies_insert AFTER INSERT ON attendance
WHEN (SELECT experience FROM memberships WHERE id = NEW.membership_id) <> 'none'
BEGIN
    UPDATE sessions SET present_with_experience = present_with_experience + 1,
        participated_with_experience = participated_with_experience
            + (CASE WHEN NEW.participation = 'participated' THEN 1 ELSE 0 END)
    WHERE id = NEW.session_id;
END;

CREATE TRIGGER attendance_tallies_delete AFTER DELETE ON attendance
WHEN (SELECT experience FROM memberships WHERE id = OLD.membership_id) <> 'none'
BEGIN
    UPDATE sessions SET present_with_experience = present_with_experience - 1,
        participated_with_experience = participated_with_experience
            - (CASE WHEN OLD.participation = 'participated' THEN 1 ELSE 0 END)
    WHERE id = OLD.session_id;
END;

CREATE TRIGGER attendance_tallies_update AFTER UPDATE OF session_id, membership_id, participation
ON attendance
BEGIN
    UPDATE sessions SET present_with_experience = present_with_experience - 1,
        participated_with_experience = participated_with_experience
            - (CASE WHEN OLD.participation = 'participated' THEN 1 ELSE 0 END)
    WHERE id = OLD.session_id
      AND (SELECT experience FROM memberships WHERE id = OLD.membership_id) <> 'none';
    UPDATE sessions SET present_with_experience = present_with_experience + 1,
        participated_with_experience = participated_with_experience
            + (CASE WHEN NEW.participation = 'participated' THEN 1 ELSE 0 END)
    WHERE id = NEW.session_id
      AND (SELECT experience FROM memberships WHERE id = NEW.membership_id) <> 'none';
END;

-- A member whose experience changes between none and some: their attendance moves in or out.
CREATE TRIGGER memberships_tallies_experience AFTER UPDATE OF experience ON memberships
WHEN (OLD.experience <> 'none') <> (NEW.experience <> 'none')
BEGIN
    UPDATE sessions SET
        present_with_experience = present_with_experience
            + (CASE WHEN NEW.experience <> 'none' THEN 1 ELSE -1 END)
              * (SELECT COUNT(*) FROM attendance a
                 WHERE a.session_id = sessions.id AND a.membership_id = NEW.id),
        participated_with_experience = participated_with_experience
            + (CASE WHEN NEW.experience <> 'none' THEN 1 ELSE -1 END)
              * (SELECT COUNT(*) FROM attendance a
                 WHERE a.session_id = sessions.id AND a.membership_id = NEW.id
                   AND a.participation = 'participated')
    WHERE id IN (SELECT session_id FROM attendance WHERE membership_id = NEW.id);
END;

-- Whether an attendance row's time was paid (a paid claim has a line for its session) or
-- recognised otherwise (a recognition for its piece of work), kept as claims are paid and
-- recognitions recorded; and the experience its member brings, kept as the membership
-- changes: so that the report's pass over attendance needs no join to claims or memberships.
ALTER TABLE attendance ADD COLUMN recognised BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE attendance ADD COLUMN experience TEXT NOT NULL DEFAULT 'none';
UPDATE attendance SET experience = COALESCE(
    (SELECT m.experience FROM memberships m WHERE m.id = attendance.membership_id), 'none');

CREATE TRIGGER attendance_experience_insert AFTER INSERT ON attendance
BEGIN
    UPDATE attendance SET experience = COALESCE(
        (SELECT m.experience FROM memberships m WHERE m.id = NEW.membership_id), 'none')
    WHERE id = NEW.id;
END;

CREATE TRIGGER attendance_experience_update AFTER UPDATE OF membership_id ON attendance
BEGIN
    UPDATE attendance SET experience = COALESCE(
        (SELECT m.experience FROM memberships m WHERE m.id = NEW.membership_id), 'none')
    WHERE id = NEW.id;
END;

CREATE TRIGGER memberships_experience AFTER UPDATE OF experience ON memberships
WHEN OLD.experience <> NEW.experience
BEGIN
    UPDATE attendance SET experience = NEW.experience WHERE membership_id = NEW.id;
END;

UPDATE attendance SET recognised = TRUE
WHERE EXISTS (SELECT 1 FROM claim_lines l JOIN claims c ON c.id = l.claim_id
              WHERE l.session_id = attendance.session_id
                AND c.participant_id = attendance.participant_id AND c.status = 'paid')
   OR EXISTS (SELECT 1 FROM recognitions r JOIN sessions s ON s.opportunity_id = r.opportunity_id
              WHERE s.id = attendance.session_id AND r.participant_id = attendance.participant_id);

CREATE TRIGGER attendance_recognised_insert AFTER INSERT ON attendance
WHEN EXISTS (SELECT 1 FROM claim_lines l JOIN claims c ON c.id = l.claim_id
             WHERE l.session_id = NEW.session_id AND c.participant_id = NEW.participant_id
               AND c.status = 'paid')
  OR EXISTS (SELECT 1 FROM recognitions r JOIN sessions s ON s.opportunity_id = r.opportunity_id
             WHERE s.id = NEW.session_id AND r.participant_id = NEW.participant_id)
BEGIN
    UPDATE attendance SET recognised = TRUE WHERE id = NEW.id;
END;

CREATE TRIGGER attendance_recognised_update AFTER UPDATE OF session_id, participant_id ON attendance
BEGIN
    UPDATE attendance SET recognised =
        EXISTS (SELECT 1 FROM claim_lines l JOIN claims c ON c.id = l.claim_id
                WHERE l.session_id = NEW.session_id AND c.participant_id = NEW.participant_id
                  AND c.status = 'paid')
        OR EXISTS (SELECT 1 FROM recognitions r JOIN sessions s ON s.opportunity_id = r.opportunity_id
                   WHERE s.id = NEW.session_id AND r.participant_id = NEW.participant_id)
    WHERE id = NEW.id;
END;

-- A claim paid (or, were it ever undone, no longer paid): the attendance its lines name.
CREATE TRIGGER claims_recognised AFTER UPDATE OF status ON claims
WHEN (OLD.status = 'paid') <> (NEW.status = 'paid')
BEGIN
    UPDATE attendance SET recognised =
        EXISTS (SELECT 1 FROM claim_lines l JOIN claims c ON c.id = l.claim_id
                WHERE l.session_id = attendance.session_id
                  AND c.participant_id = attendance.participant_id AND c.status = 'paid')
        OR EXISTS (SELECT 1 FROM recognitions r JOIN sessions s ON s.opportunity_id = r.opportunity_id
                   WHERE s.id = attendance.session_id AND r.participant_id = attendance.participant_id)
    WHERE participant_id = NEW.participant_id
      AND session_id IN (SELECT l.session_id FROM claim_lines l WHERE l.claim_id = NEW.id);
END;

-- A line added to a claim that is already paid.
CREATE TRIGGER claim_lines_recognised AFTER INSERT ON claim_lines
WHEN NEW.session_id IS NOT NULL
BEGIN
    UPDATE attendance SET recognised = TRUE
    WHERE session_id = NEW.session_id AND NOT recognised
      AND participant_id = (SELECT c.participant_id FROM claims c
                            WHERE c.id = NEW.claim_id AND c.status = 'paid');
END;

CREATE TRIGGER recognitions_recognised AFTER INSERT ON recognitions
BEGIN
    UPDATE attendance SET recognised = TRUE
    WHERE participant_id = NEW.participant_id AND NOT recognised
      AND session_id IN (SELECT s.id FROM sessions s WHERE s.opportunity_id = NEW.opportunity_id);
END;
