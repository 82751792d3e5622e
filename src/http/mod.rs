//! HTTP plumbing both doors share: extractors, middleware, metrics and the server itself.

pub mod extract;
pub mod metrics;
pub mod middleware;
pub mod server;
