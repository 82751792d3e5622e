//! Money is integer pence with an ISO currency code; totals are always computed here, never trusted.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An amount of money: `{ "amount_pence": 1000, "currency": "GBP" }`.
#[derive(
    Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, async_graphql::SimpleObject,
)]
#[graphql(serial)]
pub struct Money {
    /// Whole pence (or the minor unit of `currency`).
    pub amount_pence: i64,
    /// ISO 4217 code; the service works in GBP.
    pub currency: String,
}

pub const GBP: &str = "GBP";

impl Money {
    pub fn gbp(amount_pence: i64) -> Self {
        Self {
            amount_pence,
            currency: GBP.to_owned(),
        }
    }
}
