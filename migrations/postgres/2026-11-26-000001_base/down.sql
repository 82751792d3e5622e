DROP TABLE idempotency_keys;
DROP TABLE api_clients;
DROP TABLE payment_policy_rates;
DROP TABLE payment_policies;
DROP TABLE organisations;
