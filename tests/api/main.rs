//! Black-box tests through HTTP against the real application bound to port 0, each with its own
//! database: SQLite by default, PostgreSQL when `TEST_DATABASE_URL` is set.

mod api_clients;
mod claims;
mod cli;
mod commissioning;
mod contracts;
mod database;
mod events;
mod evidence_report;
mod evidence_rules;
mod faults;
mod feedback;
mod graphql_opportunities;
mod helpers;
mod idempotency;
mod identity;
mod inclusion;
mod layers;
mod malformed_input;
mod members;
mod migrations;
mod operations;
mod opportunities;
mod organisations;
mod participants;
mod privacy;
mod protections;
mod real_clients;
mod scale_out;
mod sessions;
mod webhooks;
mod written;
