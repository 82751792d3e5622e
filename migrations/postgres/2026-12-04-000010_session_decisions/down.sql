DROP TRIGGER decisions_tallies_update ON decisions;
DROP TRIGGER decisions_tallies_delete ON decisions;
DROP TRIGGER decisions_tallies_insert ON decisions;
DROP FUNCTION session_decisions_change();
ALTER TABLE sessions DROP COLUMN decisions_shared;
ALTER TABLE sessions DROP COLUMN decisions_made;
