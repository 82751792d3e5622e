DROP TRIGGER decisions_tallies_update;
DROP TRIGGER decisions_tallies_delete;
DROP TRIGGER decisions_tallies_insert;
ALTER TABLE sessions DROP COLUMN decisions_shared;
ALTER TABLE sessions DROP COLUMN decisions_made;
