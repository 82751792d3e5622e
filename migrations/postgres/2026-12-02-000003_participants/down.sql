ALTER TABLE attendance DROP CONSTRAINT attendance_participant;
ALTER TABLE memberships DROP CONSTRAINT memberships_participant;
DROP TABLE contact_access_log;
DROP TABLE consent_events;
DROP TABLE contact_details;
DROP TABLE participants;
