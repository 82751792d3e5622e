DROP TABLE glossary_terms;
DROP TABLE decisions;
DROP TABLE attendance;
DROP TABLE sessions;
DROP TABLE memberships;
DROP TABLE opportunities;
