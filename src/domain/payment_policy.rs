//! Payment policies: what an organisation pays for taking part. The guide's own policy
//! (Annex A) is every new organisation's default.

use async_graphql::SimpleObject;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::id::{OrganisationId, PaymentPolicyId};

use super::money::Money;
use super::written::WriteFields;

/// The guide's rates: £10.00 an hour for the time in the meeting, 45p a mile by car,
/// fares only with a receipt, travel time unpaid, paid within 14 days.
pub const GUIDE_HOURLY_RATE_PENCE: i64 = 1000;
pub const GUIDE_MILEAGE_RATE_PENCE: i64 = 45;
pub const GUIDE_PAY_WITHIN_DAYS: i32 = 14;
pub const GUIDE_POLICY_NAME: &str = "Co-production guide payment policy (Annex A)";

/// The day a new organisation's guide rates are in force from: early enough that activity a
/// provider system posts from its history is priced too.
pub fn guide_rates_from() -> NaiveDate {
    NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default()
}

/// New rates, as sent: in force from a day on. Claim lines already priced keep their rates.
#[derive(Debug, Clone, serde::Deserialize, ToSchema, async_graphql::InputObject)]
#[serde(deny_unknown_fields)]
pub struct RatesInput {
    pub effective_from: NaiveDate,
    /// Pence per hour of participation.
    #[serde(deserialize_with = "super::validation::whole::i32")]
    #[schema(minimum = 0, maximum = 100000)]
    pub hourly_rate_pence: i32,
    /// Pence per mile.
    #[serde(deserialize_with = "super::validation::whole::i32")]
    #[schema(minimum = 0, maximum = 1000)]
    pub mileage_rate_pence: i32,
}

impl RatesInput {
    pub fn parse(&self) -> Result<PaymentRates, Vec<super::validation::FieldError>> {
        let mut p = super::validation::Problems::default();
        if !(0..=100_000).contains(&self.hourly_rate_pence) {
            p.add("hourly_rate_pence", "must be between 0 and 100000");
        }
        if !(0..=1000).contains(&self.mileage_rate_pence) {
            p.add("mileage_rate_pence", "must be between 0 and 1000");
        }
        p.finish(PaymentRates {
            effective_from: self.effective_from,
            hourly_rate: Money::gbp(i64::from(self.hourly_rate_pence)),
            mileage_rate: Money::gbp(i64::from(self.mileage_rate_pence)),
        })
    }
}

/// Rates in force from a date; a claim line is priced at the rates in force on the day of the activity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, async_graphql::SimpleObject)]
#[graphql(serial)]
pub struct PaymentRates {
    pub effective_from: NaiveDate,
    /// Paid per hour of participation (time in the meeting; travel time is not paid).
    pub hourly_rate: Money,
    /// Paid per mile by car, shortest route.
    pub mileage_rate: Money,
}

/// What an organisation pays for taking part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, SimpleObject, WriteFields)]
#[graphql(serial)]
pub struct PaymentPolicy {
    pub id: PaymentPolicyId,
    pub organisation_id: OrganisationId,
    pub name: String,
    /// Bus or train fares are reimbursed only with a receipt.
    pub fares_need_receipt: bool,
    pub travel_time_paid: bool,
    /// Claims are due to be paid within this many days of submission.
    pub pay_within_days: i32,
    pub is_default: bool,
    /// Every rate the policy has had, oldest first.
    pub rates: Vec<PaymentRates>,
    #[graphql(skip)]
    #[serde(serialize_with = "super::time::rfc3339")]
    pub created_at: DateTime<Utc>,
}

/// The policy a new organisation starts with.
pub struct NewPaymentPolicy {
    pub name: String,
    pub fares_need_receipt: bool,
    pub travel_time_paid: bool,
    pub pay_within_days: i32,
    pub hourly_rate_pence: i64,
    pub mileage_rate_pence: i64,
    pub effective_from: NaiveDate,
}

impl NewPaymentPolicy {
    pub fn guide_default(effective_from: NaiveDate) -> Self {
        Self {
            name: GUIDE_POLICY_NAME.to_owned(),
            fares_need_receipt: true,
            travel_time_paid: false,
            pay_within_days: GUIDE_PAY_WITHIN_DAYS,
            hourly_rate_pence: GUIDE_HOURLY_RATE_PENCE,
            mileage_rate_pence: GUIDE_MILEAGE_RATE_PENCE,
            effective_from,
        }
    }
}

impl PaymentPolicy {
    /// The rates in force on a day: the latest that started on or before it.
    pub fn rates_on(&self, day: NaiveDate) -> Option<&PaymentRates> {
        self.rates
            .iter()
            .filter(|r| r.effective_from <= day)
            .max_by_key(|r| r.effective_from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    fn rates(from: NaiveDate, hourly: i64) -> PaymentRates {
        PaymentRates {
            effective_from: from,
            hourly_rate: Money::gbp(hourly),
            mileage_rate: Money::gbp(45),
        }
    }

    #[test]
    fn the_guide_pays_ten_pounds_an_hour_and_45p_a_mile_within_14_days() {
        let p = NewPaymentPolicy::guide_default(day(2026, 1, 1));
        assert_eq!(p.hourly_rate_pence, 1000);
        assert_eq!(p.mileage_rate_pence, 45);
        assert_eq!(p.pay_within_days, 14);
        assert!(p.fares_need_receipt);
        assert!(!p.travel_time_paid);
    }

    #[test]
    fn a_claim_is_priced_at_the_rate_in_force_on_the_day() {
        let policy = PaymentPolicy {
            id: PaymentPolicyId::from_uuid(uuid::Uuid::nil()),
            organisation_id: OrganisationId::from_uuid(uuid::Uuid::nil()),
            name: "p".into(),
            fares_need_receipt: true,
            travel_time_paid: false,
            pay_within_days: 14,
            is_default: true,
            rates: vec![rates(day(2026, 1, 1), 1000), rates(day(2026, 6, 1), 1200)],
            created_at: Utc::now(),
        };
        assert_eq!(policy.rates_on(day(2025, 12, 31)), None);
        assert_eq!(
            policy
                .rates_on(day(2026, 5, 31))
                .map(|r| r.hourly_rate.amount_pence),
            Some(1000)
        );
        assert_eq!(
            policy
                .rates_on(day(2026, 6, 1))
                .map(|r| r.hourly_rate.amount_pence),
            Some(1200)
        );
    }
}
