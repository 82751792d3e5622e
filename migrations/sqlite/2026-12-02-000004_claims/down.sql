DROP TABLE recognitions;
DROP TABLE bank_details;
DROP TABLE claim_events;
DROP TABLE receipts;
DROP TABLE claim_lines;
DROP TABLE claims;
DROP TABLE payment_runs;
