//! Black-box tests through HTTP against the real application bound to port 0, each with its own
//! database: SQLite by default, PostgreSQL when `TEST_DATABASE_URL` is set.

mod api_clients;
mod contracts;
mod graphql_opportunities;
mod database;
mod helpers;
mod idempotency;
mod identity;
mod malformed_input;
mod operations;
mod organisations;
