-- Each session's decisions, and of those the ones marked shared with people of lived or caring
-- experience, counted as they are recorded: so that the evidence report weighs each piece of
-- work's decisions from its session rows, with no join to the decisions themselves. Kept by
-- triggers in the same transaction as the change, as deltas.
ALTER TABLE sessions ADD COLUMN decisions_made INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN decisions_shared INTEGER NOT NULL DEFAULT 0;

UPDATE sessions s SET decisions_made = t.made, decisions_shared = t.shared
FROM (SELECT session_id, COUNT(*) AS made,
             COUNT(*) FILTER (WHERE shared_with_lived_experience) AS shared
      FROM decisions GROUP BY session_id) t
WHERE t.session_id = s.id;

-- The statement's decisions with a sign (1 recorded, -1 removed), added by session.
CREATE FUNCTION session_decisions_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    source TEXT := CASE TG_OP
        WHEN 'INSERT' THEN 'SELECT session_id, shared_with_lived_experience, 1 AS sign FROM decisions_new'
        WHEN 'DELETE' THEN 'SELECT session_id, shared_with_lived_experience, -1 AS sign FROM decisions_old'
        ELSE 'SELECT session_id, shared_with_lived_experience, 1 AS sign FROM decisions_new '
             'UNION ALL SELECT session_id, shared_with_lived_experience, -1 AS sign FROM decisions_old'
    END;
BEGIN
    EXECUTE format($f$
        UPDATE sessions s
        SET decisions_made = s.decisions_made + d.made,
            decisions_shared = s.decisions_shared + d.shared
        FROM (SELECT c.session_id, SUM(c.sign) AS made,
                     SUM(CASE WHEN c.shared_with_lived_experience THEN c.sign ELSE 0 END) AS shared
              FROM (%s) c GROUP BY c.session_id) d
        WHERE s.id = d.session_id AND (d.made <> 0 OR d.shared <> 0)
    $f$, source);
    RETURN NULL;
END $$;

CREATE TRIGGER decisions_tallies_insert AFTER INSERT ON decisions
    REFERENCING NEW TABLE AS decisions_new
    FOR EACH STATEMENT EXECUTE FUNCTION session_decisions_change();
CREATE TRIGGER decisions_tallies_delete AFTER DELETE ON decisions
    REFERENCING OLD TABLE AS decisions_old
    FOR EACH STATEMENT EXECUTE FUNCTION session_decisions_change();
CREATE TRIGGER decisions_tallies_update AFTER UPDATE ON decisions
    REFERENCING OLD TABLE AS decisions_old NEW TABLE AS decisions_new
    FOR EACH STATEMENT EXECUTE FUNCTION session_decisions_change();
