-- Each person's lived-experience and carer attendance per calendar month, for each provider and
-- contract (`contract_id` '' for work under none): so that the evidence report counts distinct
-- people over the whole months of its period from one row per person and month, and reads
-- attendance itself only for the part-months at either end. Only attendance whose member brings
-- lived or caring experience is counted, as the report counts it. Kept by triggers in the same
-- transaction as the change, as deltas (never recounts), so that two transactions recording
-- attendance at once each add their own; each statement's deltas are applied in key order, so
-- that two statements take these rows' locks in the same order.
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
) WITH (fillfactor = 50);
-- Half of each page is left free: a busy provider's rows for this month are updated with every
-- session posted, and with room on the page each update stays on it (no index entry to add),
-- and the page sheds the versions it replaced without waiting for a vacuum.

-- The statement that adds `source` (attendance rows with a `sign`: 1 added, -1 taken away) to
-- the months of their sessions, under the provider and contract of their work as the database
-- holds them when it runs. Run by each trigger itself (EXECUTE), where its transition tables
-- can be read.
CREATE FUNCTION attendance_months_sql(source TEXT) RETURNS TEXT LANGUAGE sql IMMUTABLE AS $$
    SELECT format($f$
    INSERT INTO attendance_months AS t (organisation_id, contract_id, month, participant_id,
        attended, lived, carer, participating_minutes, attending_minutes, recognised_minutes)
    SELECT * FROM (
        SELECT o.organisation_id, COALESCE(o.contract_id, '') AS contract_id,
               CAST(date_trunc('month', s.starts_at) AS DATE) AS month, d.participant_id,
               CAST(SUM(d.sign) AS INTEGER) AS attended,
               CAST(SUM(CASE WHEN d.experience IN ('lived_experience', 'both') THEN d.sign ELSE 0 END)
                    AS INTEGER) AS lived,
               CAST(SUM(CASE WHEN d.experience IN ('carer', 'both') THEN d.sign ELSE 0 END)
                    AS INTEGER) AS carer,
               SUM(CASE WHEN d.participation = 'participated' THEN d.sign * d.minutes ELSE 0 END)
                   AS participating_minutes,
               SUM(CASE WHEN d.participation = 'attended' THEN d.sign * d.minutes ELSE 0 END)
                   AS attending_minutes,
               SUM(CASE WHEN d.recognised THEN d.sign * d.minutes ELSE 0 END) AS recognised_minutes
        FROM (%s) d JOIN sessions s ON s.id = d.session_id
        JOIN opportunities o ON o.id = s.opportunity_id
        WHERE d.experience <> 'none'
        GROUP BY 1, 2, 3, 4) c
    WHERE c.attended <> 0 OR c.lived <> 0 OR c.carer <> 0 OR c.participating_minutes <> 0
       OR c.attending_minutes <> 0 OR c.recognised_minutes <> 0
    ORDER BY 1, 2, 3, 4
    ON CONFLICT (organisation_id, contract_id, month, participant_id) DO UPDATE SET
        attended = t.attended + EXCLUDED.attended,
        lived = t.lived + EXCLUDED.lived,
        carer = t.carer + EXCLUDED.carer,
        participating_minutes = t.participating_minutes + EXCLUDED.participating_minutes,
        attending_minutes = t.attending_minutes + EXCLUDED.attending_minutes,
        recognised_minutes = t.recognised_minutes + EXCLUDED.recognised_minutes
    $f$, source)
$$;

INSERT INTO attendance_months (organisation_id, contract_id, month, participant_id, attended,
    lived, carer, participating_minutes, attending_minutes, recognised_minutes)
SELECT o.organisation_id, COALESCE(o.contract_id, ''),
       CAST(date_trunc('month', s.starts_at) AS DATE), a.participant_id,
       COUNT(*),
       COUNT(*) FILTER (WHERE a.experience IN ('lived_experience', 'both')),
       COUNT(*) FILTER (WHERE a.experience IN ('carer', 'both')),
       COALESCE(SUM(a.minutes) FILTER (WHERE a.participation = 'participated'), 0),
       COALESCE(SUM(a.minutes) FILTER (WHERE a.participation = 'attended'), 0),
       COALESCE(SUM(a.minutes) FILTER (WHERE a.recognised), 0)
FROM attendance a JOIN sessions s ON s.id = a.session_id
JOIN opportunities o ON o.id = s.opportunity_id
WHERE a.experience <> 'none'
GROUP BY 1, 2, 3, 4;

-- Attendance recorded, changed or removed.
CREATE FUNCTION attendance_months_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        EXECUTE attendance_months_sql('SELECT n.*, 1 AS sign FROM months_new n');
    ELSIF TG_OP = 'DELETE' THEN
        EXECUTE attendance_months_sql('SELECT o.*, -1 AS sign FROM months_old o');
    ELSE
        EXECUTE attendance_months_sql('SELECT n.*, 1 AS sign FROM months_new n '
                                      'UNION ALL SELECT o.*, -1 AS sign FROM months_old o');
    END IF;
    RETURN NULL;
END $$;

-- A session moved to another time or piece of work, or removed; a piece of work moved to another
-- contract or provider, or removed: its attendance leaves its months before (the rows it joins
-- still as they were) and, unless removed, joins them again after. A removal's own cascade to
-- the attendance then finds no session to count it against.
CREATE FUNCTION attendance_months_move() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    which TEXT := CASE TG_TABLE_NAME
        WHEN 'sessions' THEN format('a.session_id = %L', OLD.id)
        ELSE format('a.session_id IN (SELECT id FROM sessions WHERE opportunity_id = %L)', OLD.id)
    END;
BEGIN
    IF TG_WHEN = 'BEFORE' THEN
        EXECUTE attendance_months_sql('SELECT a.*, -1 AS sign FROM attendance a WHERE ' || which);
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END IF;
    EXECUTE attendance_months_sql('SELECT a.*, 1 AS sign FROM attendance a WHERE ' || which);
    RETURN NULL;
END $$;

CREATE TRIGGER attendance_months_insert AFTER INSERT ON attendance
    REFERENCING NEW TABLE AS months_new
    FOR EACH STATEMENT EXECUTE FUNCTION attendance_months_change();
CREATE TRIGGER attendance_months_delete AFTER DELETE ON attendance
    REFERENCING OLD TABLE AS months_old
    FOR EACH STATEMENT EXECUTE FUNCTION attendance_months_change();
CREATE TRIGGER attendance_months_update AFTER UPDATE ON attendance
    REFERENCING OLD TABLE AS months_old NEW TABLE AS months_new
    FOR EACH STATEMENT EXECUTE FUNCTION attendance_months_change();
CREATE TRIGGER sessions_months_leave BEFORE UPDATE OF starts_at, opportunity_id ON sessions
    FOR EACH ROW WHEN (OLD.starts_at IS DISTINCT FROM NEW.starts_at
                       OR OLD.opportunity_id IS DISTINCT FROM NEW.opportunity_id)
    EXECUTE FUNCTION attendance_months_move();
CREATE TRIGGER sessions_months_join AFTER UPDATE OF starts_at, opportunity_id ON sessions
    FOR EACH ROW WHEN (OLD.starts_at IS DISTINCT FROM NEW.starts_at
                       OR OLD.opportunity_id IS DISTINCT FROM NEW.opportunity_id)
    EXECUTE FUNCTION attendance_months_move();
CREATE TRIGGER sessions_months_remove BEFORE DELETE ON sessions
    FOR EACH ROW EXECUTE FUNCTION attendance_months_move();
CREATE TRIGGER opportunities_months_leave BEFORE UPDATE OF contract_id, organisation_id
    ON opportunities FOR EACH ROW
    WHEN (OLD.contract_id IS DISTINCT FROM NEW.contract_id
          OR OLD.organisation_id IS DISTINCT FROM NEW.organisation_id)
    EXECUTE FUNCTION attendance_months_move();
CREATE TRIGGER opportunities_months_join AFTER UPDATE OF contract_id, organisation_id
    ON opportunities FOR EACH ROW
    WHEN (OLD.contract_id IS DISTINCT FROM NEW.contract_id
          OR OLD.organisation_id IS DISTINCT FROM NEW.organisation_id)
    EXECUTE FUNCTION attendance_months_move();
CREATE TRIGGER opportunities_months_remove BEFORE DELETE ON opportunities
    FOR EACH ROW EXECUTE FUNCTION attendance_months_move();

-- A session moved to another piece of work: whether its attendance was recognised follows the
-- recognitions for that work. PostgreSQL fires a table's triggers in the order of their names,
-- so this runs after `sessions_months_join` has counted the attendance in its months again, and
-- the change is counted where it now belongs.
CREATE FUNCTION attendance_recognised_session() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE attendance a SET recognised = attendance_recognised(a.session_id, a.participant_id)
    WHERE a.session_id = NEW.id;
    RETURN NULL;
END $$;

CREATE TRIGGER sessions_recognised AFTER UPDATE OF opportunity_id ON sessions FOR EACH ROW
    WHEN (OLD.opportunity_id IS DISTINCT FROM NEW.opportunity_id)
    EXECUTE FUNCTION attendance_recognised_session();
