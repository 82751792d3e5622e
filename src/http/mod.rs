//! HTTP plumbing both doors share: extractors, middleware, metrics and JSON text. It knows neither door;
//! `startup` joins them into the server.

pub mod extract;
pub mod metrics;
pub mod middleware;
pub mod protect;
pub mod routes;
