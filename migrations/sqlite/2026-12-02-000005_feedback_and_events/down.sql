DROP TABLE events;
DROP TABLE self_assessments;
DROP TABLE evaluations;
DROP TABLE feedback_items;
