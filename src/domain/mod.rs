//! Plain types and the rules of DOMAIN.md. Nothing in here does I/O.

pub mod api_client;
pub mod identity;
pub mod money;
pub mod organisation;
pub mod page;
pub mod payment_policy;
pub mod validation;

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A new time-ordered (v7) identifier: ids sort in creation order, which keeps pagination stable.
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}

/// The current time at microsecond precision, the finest both databases keep, so a value reads
/// back exactly as it was written.
pub fn now() -> DateTime<Utc> {
    truncate_to_micros(Utc::now())
}

pub fn truncate_to_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}
