DROP INDEX claims_due;
DROP INDEX recognitions_opportunity;
DROP INDEX claim_lines_session;
DROP INDEX opportunities_contract;
DROP INDEX contracts_provider;
DROP INDEX contracts_commissioner;
DROP TABLE contracts;
