//! Expense claims (DOMAIN.md, "Payment and recognition", from the guide's Annex A): lines priced
//! by the service from the policy's rates in force on the day of the activity, totals in integer
//! pence computed here and never taken from a client, receipts for fares and expenses, the
//! lifecycle `draft -> submitted -> approved -> paid` (or `rejected` with a reason), the person's
//! choice of how (or whether) to be paid, and a warning when a week's payments would pass the
//! amount a person on benefits set.

use async_graphql::SimpleObject;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::id::{
    ClaimEventId, ClaimId, ClaimLineId, OpportunityId, OrganisationId, ParticipantId,
    PaymentPolicyId, ReceiptId, SessionId,
};
use super::money::{Money, GBP};
use super::payment_policy::PaymentPolicy;
use super::time::Rfc3339;
use super::validation::{FieldError, Problems};
use super::written::WriteFields;

domain_enum! {
    pub enum ClaimStatus as "claim status" {
        Draft = "draft",
        Submitted = "submitted",
        Approved = "approved",
        Paid = "paid",
        Rejected = "rejected",
    }
}

domain_enum! {
    /// What a claim line is for.
    pub enum LineKind as "line kind" {
        /// Time in the meeting (virtual meetings: the time participating).
        Participation = "participation",
        /// Car travel, shortest route.
        Mileage = "mileage",
        /// A bus or train fare, with its receipt.
        Fare = "fare",
        /// Another expense, with its receipt.
        Expense = "expense",
        /// Time spent travelling: the guide does not pay it, and a line for it is refused.
        TravelTime = "travel_time",
    }
}

domain_enum! {
    /// How the person wants this claim settled: they may take it all, take less, take
    /// vouchers, give it to a charity, or decline it. Their contribution is recorded whatever
    /// they choose.
    #[derive(Default)]
    pub enum PaymentChoice as "payment choice" {
        #[default]
        TakeAll = "take_all",
        TakeLess = "take_less",
        Vouchers = "vouchers",
        Charity = "charity",
        Decline = "decline",
    }
}

domain_enum! {
    /// How a claim was paid.
    pub enum PaymentMethod as "payment method" {
        BankTransfer = "bank_transfer",
        Vouchers = "vouchers",
        Charity = "charity",
        Cash = "cash",
    }
}

/// The guide's words on travel time.
pub const TRAVEL_TIME_REFUSED: &str =
    "travel time is not paid: the guide pays for the time in the meeting, and travel costs through mileage or fares";
/// The guide's words on benefits, shown with every warning.
pub const BENEFITS_WARNING: &str =
    "it is your responsibility to ensure that any payment does not affect your benefits claims";

/// One priced line of a claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, async_graphql::SimpleObject)]
#[graphql(serial)]
pub struct ClaimLine {
    pub id: ClaimLineId,
    pub kind: LineKind,
    /// The day of the activity, whose rates price the line.
    pub activity_on: NaiveDate,
    pub session_id: Option<SessionId>,
    pub minutes: Option<i32>,
    /// Miles in tenths (`125` is 12.5 miles).
    pub miles_tenths: Option<i32>,
    pub description: Option<String>,
    pub receipt_id: Option<ReceiptId>,
    /// The rate used (per hour or per mile); `null` for fares and expenses.
    pub rate: Option<Money>,
    pub amount: Money,
}

/// A claim, with its lines and totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, SimpleObject, WriteFields)]
#[graphql(serial)]
pub struct Claim {
    pub id: ClaimId,
    pub participant_id: ParticipantId,
    /// The organisation that pays: the one that runs the work.
    pub organisation_id: OrganisationId,
    pub opportunity_id: OpportunityId,
    pub policy_id: PaymentPolicyId,
    pub status: ClaimStatus,
    pub lines: Vec<ClaimLine>,
    /// The sum of the lines, computed here.
    pub total: Money,
    pub choice: PaymentChoice,
    /// What will be paid given the person's choice (0 when they decline).
    pub payable: Money,
    #[serde(serialize_with = "super::time::rfc3339_opt")]
    #[graphql(
        skip,
        derived(
            name = "submitted_at",
            into = "Option<Rfc3339>",
            owned,
            with = "Rfc3339::some"
        )
    )]
    pub submitted_at: Option<DateTime<Utc>>,
    /// Submission day plus the policy's days (the guide: within 14 days).
    pub due_on: Option<NaiveDate>,
    #[serde(serialize_with = "super::time::rfc3339_opt")]
    #[graphql(
        skip,
        derived(
            name = "approved_at",
            into = "Option<Rfc3339>",
            owned,
            with = "Rfc3339::some"
        )
    )]
    pub approved_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "super::time::rfc3339_opt")]
    #[graphql(
        skip,
        derived(
            name = "paid_at",
            into = "Option<Rfc3339>",
            owned,
            with = "Rfc3339::some"
        )
    )]
    pub paid_at: Option<DateTime<Utc>>,
    pub payment_method: Option<PaymentMethod>,
    pub payment_reference: Option<String>,
    /// Why it was rejected, for the person to see.
    pub rejection_reason: Option<String>,
    #[serde(serialize_with = "super::time::rfc3339")]
    #[graphql(skip, derived(name = "created_at", into = "Rfc3339", owned))]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "super::time::rfc3339")]
    #[graphql(skip, derived(name = "updated_at", into = "Rfc3339", owned))]
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

impl Claim {
    /// True when it is paid after this day's end, or unpaid and past due.
    pub fn overdue_on(&self, day: NaiveDate) -> bool {
        self.status != ClaimStatus::Paid
            && self.status != ClaimStatus::Rejected
            && self.due_on.is_some_and(|d| d < day)
    }
}

/// One step in a claim's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, async_graphql::SimpleObject)]
#[graphql(serial)]
pub struct ClaimEvent {
    pub id: ClaimEventId,
    pub claim_id: ClaimId,
    /// `created`, `submitted`, `approved`, `rejected`, `paid` or `choice`.
    pub action: String,
    /// The `sub` of who did it.
    pub actor: String,
    pub detail: Option<String>,
    #[serde(serialize_with = "super::time::rfc3339")]
    #[graphql(skip, derived(name = "at", into = "Rfc3339", owned))]
    pub at: DateTime<Utc>,
}

/// A warning that comes with an answer, never a refusal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, async_graphql::SimpleObject)]
#[graphql(serial)]
pub struct Warning {
    pub code: String,
    pub message: String,
}

/// A claim as answered after a change, with any warnings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, async_graphql::SimpleObject)]
#[graphql(serial)]
pub struct ClaimAnswer {
    pub claim: Claim,
    pub warnings: Vec<Warning>,
}

/// A line as sent: the service prices it. No amount may be sent for time or miles.
#[derive(Debug, Clone, Deserialize, ToSchema, async_graphql::InputObject)]
#[serde(deny_unknown_fields)]
pub struct ClaimLineInput {
    pub kind: LineKind,
    /// The session the line is for (required for participation).
    #[serde(default)]
    pub session_id: Option<SessionId>,
    /// The day of the activity; the session's day when a session is named.
    #[serde(default)]
    pub activity_on: Option<NaiveDate>,
    /// Participation: minutes in the meeting.
    #[serde(default, deserialize_with = "super::validation::whole::option_i32")]
    #[schema(minimum = 1, maximum = 1440)]
    pub minutes: Option<i32>,
    /// Mileage: miles in tenths of a mile (`125` is 12.5 miles).
    #[serde(default, deserialize_with = "super::validation::whole::option_i32")]
    #[schema(minimum = 1, maximum = 10000)]
    pub miles_tenths: Option<i32>,
    /// Fares and expenses: the amount on the receipt, in pence.
    #[serde(default, deserialize_with = "super::validation::whole::option_i64")]
    #[schema(minimum = 1, maximum = 100000)]
    pub receipt_amount_pence: Option<i64>,
    /// Fares and expenses: the uploaded receipt.
    #[serde(default)]
    pub receipt_id: Option<ReceiptId>,
    #[serde(default)]
    #[schema(max_length = 500, pattern = r"^[^\x00]*$")]
    pub description: Option<String>,
}

/// A new claim: the person claims for themselves; staff of the paying organisation name them.
#[derive(Debug, Clone, Deserialize, ToSchema, async_graphql::InputObject)]
#[serde(deny_unknown_fields)]
pub struct ClaimInput {
    pub opportunity_id: OpportunityId,
    #[serde(default)]
    pub participant_id: Option<ParticipantId>,
    /// The lines; a draft may start with none and gain them (and receipts) later.
    #[serde(default)]
    #[graphql(default)]
    #[schema(max_items = 50)]
    pub lines: Vec<ClaimLineInput>,
    #[serde(default)]
    pub choice: Option<PaymentChoice>,
    /// With `take_less`: how much, in pence, at most the total.
    #[serde(default, deserialize_with = "super::validation::whole::option_i64")]
    #[schema(minimum = 0, maximum = 10000000)]
    pub take_amount_pence: Option<i64>,
}

/// A change to a draft claim: its lines (priced again) and the person's choice.
#[derive(Debug, Clone, Default, Deserialize, ToSchema, async_graphql::InputObject)]
#[serde(deny_unknown_fields)]
pub struct ClaimPatch {
    #[serde(default)]
    #[schema(max_items = 50)]
    pub lines: Option<Vec<ClaimLineInput>>,
    #[serde(default)]
    pub choice: Option<PaymentChoice>,
    #[serde(default, deserialize_with = "super::validation::whole::option_i64")]
    #[schema(minimum = 0, maximum = 10000000)]
    pub take_amount_pence: Option<i64>,
}

/// How the person wants a claim settled.
#[derive(Debug, Clone, Deserialize, ToSchema, async_graphql::InputObject)]
#[serde(deny_unknown_fields)]
pub struct ChoiceInput {
    pub choice: PaymentChoice,
    /// With `take_less`: how much, in pence, at most the total.
    #[serde(default, deserialize_with = "super::validation::whole::option_i64")]
    #[schema(minimum = 0, maximum = 10000000)]
    pub take_amount_pence: Option<i64>,
}

/// What the service knows about the session a line names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionFact {
    pub starts_on: NaiveDate,
    /// Minutes recorded as attended by the claimant; `None` when no attendance is recorded.
    pub attended_minutes: Option<i32>,
}

/// Receipts the claim may use: their ids.
pub trait Receipts {
    fn has(&self, id: ReceiptId) -> bool;
}

impl Receipts for [ReceiptId] {
    fn has(&self, id: ReceiptId) -> bool {
        self.contains(&id)
    }
}

/// `minutes` at `rate` an hour, to the nearest penny (half a penny rounds up).
pub fn pay_for_minutes(minutes: i64, hourly_pence: i64) -> i64 {
    (minutes * hourly_pence + 30).div_euclid(60)
}

/// `tenths` of a mile at `rate` a mile, to the nearest penny (half a penny rounds up).
pub fn pay_for_miles(tenths: i64, per_mile_pence: i64) -> i64 {
    (tenths * per_mile_pence + 5).div_euclid(10)
}

/// Prices every line from the policy in force on its day. `session` answers for each session
/// named; `receipts` are the receipts uploaded for this claim. Every problem is reported at once,
/// each naming its line.
pub fn price_lines(
    lines: &[ClaimLineInput],
    policy: &PaymentPolicy,
    session: impl Fn(SessionId) -> Option<SessionFact>,
    receipts: &(impl Receipts + ?Sized),
) -> Result<Vec<ClaimLine>, Vec<FieldError>> {
    let mut p = Problems::default();
    let mut priced = Vec::new();
    if lines.is_empty() || lines.len() > 50 {
        p.add("lines", "a claim has between 1 and 50 lines");
    }
    // Minutes claimed per session, so two lines cannot claim more than was attended.
    let mut claimed: std::collections::HashMap<SessionId, i64> = Default::default();
    for (i, line) in lines.iter().enumerate() {
        let at = |f: &str| format!("lines[{i}].{f}");
        let description = p.optional_text(&at("description"), line.description.as_deref(), 500);
        let fact = match line.session_id {
            Some(s) => match session(s) {
                Some(f) => Some(f),
                None => {
                    p.add(at("session_id"), "names no session of this piece of work");
                    continue;
                }
            },
            None => None,
        };
        let Some(day) = line.activity_on.or(fact.map(|f| f.starts_on)) else {
            p.add(
                at("activity_on"),
                "say the day of the activity (or name the session)",
            );
            continue;
        };
        let Some(rates) = policy.rates_on(day) else {
            p.add(
                at("activity_on"),
                format!("the payment policy has no rates in force on {day}"),
            );
            continue;
        };
        let unexpected = |p: &mut Problems, field: &str, present: bool| {
            if present {
                p.add(
                    at(field),
                    format!("is not part of a {} line", line.kind.as_str()),
                );
            }
        };
        let (rate, amount) = match line.kind {
            LineKind::TravelTime if !policy.travel_time_paid => {
                p.add(at("kind"), TRAVEL_TIME_REFUSED);
                continue;
            }
            LineKind::Participation | LineKind::TravelTime => {
                unexpected(&mut p, "miles_tenths", line.miles_tenths.is_some());
                unexpected(
                    &mut p,
                    "receipt_amount_pence",
                    line.receipt_amount_pence.is_some(),
                );
                unexpected(&mut p, "receipt_id", line.receipt_id.is_some());
                let Some(minutes) = line.minutes.filter(|m| (1..=1440).contains(m)) else {
                    p.add(at("minutes"), "say the minutes, from 1 to 1440");
                    continue;
                };
                if line.kind == LineKind::Participation {
                    let (Some(session_id), Some(fact)) = (line.session_id, fact) else {
                        p.add(
                            at("session_id"),
                            "participation is paid for a session: name it",
                        );
                        continue;
                    };
                    let total = claimed.entry(session_id).or_default();
                    *total += i64::from(minutes);
                    match fact.attended_minutes {
                        None => {
                            p.add(
                                at("session_id"),
                                "no attendance is recorded for this person at this session: only verified attendance is paid",
                            );
                            continue;
                        }
                        Some(attended) if *total > i64::from(attended) => {
                            p.add(
                                at("minutes"),
                                format!("{total} minutes claimed for this session, but {attended} were recorded as attended"),
                            );
                            continue;
                        }
                        Some(_) => {}
                    }
                }
                let rate = rates.hourly_rate.amount_pence;
                (Some(rate), pay_for_minutes(i64::from(minutes), rate))
            }
            LineKind::Mileage => {
                unexpected(&mut p, "minutes", line.minutes.is_some());
                unexpected(
                    &mut p,
                    "receipt_amount_pence",
                    line.receipt_amount_pence.is_some(),
                );
                let Some(tenths) = line.miles_tenths.filter(|m| (1..=10000).contains(m)) else {
                    p.add(
                        at("miles_tenths"),
                        "say the miles in tenths, from 1 to 10000",
                    );
                    continue;
                };
                let rate = rates.mileage_rate.amount_pence;
                (Some(rate), pay_for_miles(i64::from(tenths), rate))
            }
            LineKind::Fare | LineKind::Expense => {
                unexpected(&mut p, "minutes", line.minutes.is_some());
                unexpected(&mut p, "miles_tenths", line.miles_tenths.is_some());
                let needs_receipt = line.kind == LineKind::Expense || policy.fares_need_receipt;
                match line.receipt_id {
                    None if needs_receipt => {
                        p.add(
                            at("receipt_id"),
                            format!(
                                "a {} is paid only with a receipt: upload it and name it here",
                                line.kind.as_str()
                            ),
                        );
                        continue;
                    }
                    Some(r) if !receipts.has(r) => {
                        p.add(at("receipt_id"), "names no receipt uploaded for this claim");
                        continue;
                    }
                    _ => {}
                }
                let Some(amount) = line
                    .receipt_amount_pence
                    .filter(|a| (1..=100_000).contains(a))
                else {
                    p.add(
                        at("receipt_amount_pence"),
                        "say the amount on the receipt, from 1 to 100000 pence",
                    );
                    continue;
                };
                (None, amount)
            }
        };
        priced.push(ClaimLine {
            id: ClaimLineId::new(),
            kind: line.kind,
            activity_on: day,
            session_id: line.session_id,
            minutes: line.minutes,
            miles_tenths: line.miles_tenths,
            description,
            receipt_id: line.receipt_id,
            rate: rate.map(Money::gbp),
            amount: Money::gbp(amount),
        });
    }
    p.finish(priced)
}

/// The total of priced lines, in pence.
pub fn total(lines: &[ClaimLine]) -> i64 {
    lines.iter().map(|l| l.amount.amount_pence).sum()
}

/// What is paid given the person's choice.
pub fn payable(total: i64, choice: PaymentChoice, take: Option<i64>) -> Result<i64, FieldError> {
    match (choice, take) {
        (PaymentChoice::TakeLess, Some(n)) if (0..=total).contains(&n) => Ok(n),
        (PaymentChoice::TakeLess, _) => Err(FieldError::new(
            "take_amount_pence",
            format!("say how much to take, from 0 to the total of {total} pence"),
        )),
        (_, Some(_)) => Err(FieldError::new(
            "take_amount_pence",
            "an amount is given only with take_less",
        )),
        (PaymentChoice::Decline, None) => Ok(0),
        (_, None) => Ok(total),
    }
}

/// The day a claim submitted at `at` is due: the policy's days later.
pub fn due_on(at: DateTime<Utc>, pay_within_days: i32) -> NaiveDate {
    at.date_naive() + Duration::days(i64::from(pay_within_days))
}

/// The Monday that starts the week of `day`.
pub fn week_of(day: NaiveDate) -> NaiveDate {
    day - Duration::days(i64::from(day.weekday().num_days_from_monday()))
}

/// A warning when this claim would take the week's payments past the person's limit.
pub fn benefits_warning(
    week_total_pence: i64,
    limit: Option<&Money>,
    week: NaiveDate,
) -> Option<Warning> {
    let limit = limit?;
    (week_total_pence > limit.amount_pence).then(|| Warning {
        code: "benefits_limit".to_owned(),
        message: format!(
            "payments for the week of {week} would come to {} against the £{} a week you set: {BENEFITS_WARNING}",
            pounds(week_total_pence),
            pounds(limit.amount_pence).trim_start_matches('£'),
        ),
    })
}

/// `£34.00`.
pub fn pounds(pence: i64) -> String {
    let sign = if pence < 0 { "-" } else { "" };
    let p = pence.unsigned_abs();
    format!("{sign}£{}.{:02}", p / 100, p % 100)
}

/// Checks a payment's details as recorded by staff.
pub fn parse_reference(reference: Option<&str>) -> Result<Option<String>, Vec<FieldError>> {
    let mut p = Problems::default();
    let r = p.optional_text("reference", reference, 200);
    p.finish(r)
}

/// Money in GBP, for totals.
pub fn gbp(pence: i64) -> Money {
    Money {
        amount_pence: pence,
        currency: GBP.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::payment_policy::PaymentRates;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    fn guide(rates: Vec<(NaiveDate, i64)>) -> PaymentPolicy {
        PaymentPolicy {
            id: PaymentPolicyId::new(),
            organisation_id: OrganisationId::new(),
            name: "guide".into(),
            fares_need_receipt: true,
            travel_time_paid: false,
            pay_within_days: 14,
            is_default: true,
            rates: rates
                .into_iter()
                .map(|(from, hourly)| PaymentRates {
                    effective_from: from,
                    hourly_rate: Money::gbp(hourly),
                    mileage_rate: Money::gbp(45),
                })
                .collect(),
            created_at: Utc::now(),
        }
    }

    fn line(kind: LineKind) -> ClaimLineInput {
        ClaimLineInput {
            kind,
            session_id: None,
            activity_on: None,
            minutes: None,
            miles_tenths: None,
            receipt_amount_pence: None,
            receipt_id: None,
            description: None,
        }
    }

    #[test]
    fn two_and_a_half_hours_and_twenty_miles_is_thirty_four_pounds() {
        let s = SessionId::new();
        let policy = guide(vec![(day(2026, 1, 1), 1000)]);
        let fact = SessionFact {
            starts_on: day(2026, 3, 10),
            attended_minutes: Some(150),
        };
        let lines = [
            ClaimLineInput {
                session_id: Some(s),
                minutes: Some(150),
                ..line(LineKind::Participation)
            },
            ClaimLineInput {
                session_id: Some(s),
                miles_tenths: Some(200),
                ..line(LineKind::Mileage)
            },
        ];
        let priced = price_lines(&lines, &policy, |_| Some(fact), &[][..]).expect("priced");
        assert_eq!(priced[0].amount.amount_pence, 2500);
        assert_eq!(priced[1].amount.amount_pence, 900);
        assert_eq!(pounds(total(&priced)), "£34.00");
    }

    #[test]
    fn a_fare_is_paid_as_on_its_receipt_and_refused_without_one() {
        let policy = guide(vec![(day(2026, 1, 1), 1000)]);
        let receipt = ReceiptId::new();
        let with = ClaimLineInput {
            activity_on: Some(day(2026, 3, 10)),
            receipt_id: Some(receipt),
            receipt_amount_pence: Some(320),
            ..line(LineKind::Fare)
        };
        let priced = price_lines(
            std::slice::from_ref(&with),
            &policy,
            |_| None,
            &[receipt][..],
        )
        .expect("ok");
        assert_eq!(priced[0].amount.amount_pence, 320);
        let without = ClaimLineInput {
            receipt_id: None,
            ..with
        };
        let errors =
            price_lines(&[without], &policy, |_| None, &[receipt][..]).expect_err("refused");
        assert_eq!(errors[0].field, "lines[0].receipt_id");
        assert!(errors[0].message.contains("receipt"));
    }

    #[test]
    fn a_rate_change_prices_each_session_at_the_rate_of_its_day() {
        let policy = guide(vec![(day(2026, 1, 1), 1000), (day(2026, 4, 1), 1200)]);
        let march = SessionId::new();
        let april = SessionId::new();
        let facts = move |s: SessionId| {
            Some(SessionFact {
                starts_on: if s == march {
                    day(2026, 3, 31)
                } else {
                    day(2026, 4, 1)
                },
                attended_minutes: Some(60),
            })
        };
        let lines: Vec<ClaimLineInput> = [march, april]
            .into_iter()
            .map(|s| ClaimLineInput {
                session_id: Some(s),
                minutes: Some(60),
                ..line(LineKind::Participation)
            })
            .collect();
        let priced = price_lines(&lines, &policy, facts, &[][..]).expect("priced");
        assert_eq!(priced[0].amount.amount_pence, 1000);
        assert_eq!(priced[1].amount.amount_pence, 1200);
    }

    #[test]
    fn travel_time_and_more_time_than_attended_are_refused_with_reasons() {
        let policy = guide(vec![(day(2026, 1, 1), 1000)]);
        let s = SessionId::new();
        let fact = SessionFact {
            starts_on: day(2026, 3, 10),
            attended_minutes: Some(90),
        };
        let lines = [
            ClaimLineInput {
                session_id: Some(s),
                minutes: Some(60),
                ..line(LineKind::TravelTime)
            },
            ClaimLineInput {
                session_id: Some(s),
                minutes: Some(60),
                ..line(LineKind::Participation)
            },
            ClaimLineInput {
                session_id: Some(s),
                minutes: Some(31),
                ..line(LineKind::Participation)
            },
        ];
        let errors = price_lines(&lines, &policy, |_| Some(fact), &[][..]).expect_err("refused");
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["lines[0].kind", "lines[2].minutes"]);
        assert_eq!(errors[0].message, TRAVEL_TIME_REFUSED);
        let unverified = SessionFact {
            attended_minutes: None,
            ..fact
        };
        let errors =
            price_lines(&lines[1..2], &policy, |_| Some(unverified), &[][..]).expect_err("refused");
        assert!(errors[0].message.contains("verified attendance"));
    }

    #[test]
    fn a_claim_submitted_on_the_first_of_march_is_due_on_the_fifteenth() {
        let at = day(2026, 3, 1)
            .and_hms_opt(9, 0, 0)
            .expect("time")
            .and_utc();
        assert_eq!(due_on(at, 14), day(2026, 3, 15));
    }

    #[test]
    fn the_person_chooses_how_much_to_take() {
        assert_eq!(payable(3400, PaymentChoice::TakeAll, None), Ok(3400));
        assert_eq!(payable(3400, PaymentChoice::Decline, None), Ok(0));
        assert_eq!(payable(3400, PaymentChoice::TakeLess, Some(2000)), Ok(2000));
        assert!(payable(3400, PaymentChoice::TakeLess, Some(3401)).is_err());
        assert!(payable(3400, PaymentChoice::TakeLess, None).is_err());
        assert!(payable(3400, PaymentChoice::Vouchers, Some(1)).is_err());
    }

    #[test]
    fn a_week_over_the_limit_is_warned_about_in_the_guides_words() {
        let limit = Money::gbp(2000);
        assert!(benefits_warning(2000, Some(&limit), day(2026, 3, 9)).is_none());
        let w = benefits_warning(2500, Some(&limit), day(2026, 3, 9)).expect("warned");
        assert!(
            w.message.contains(BENEFITS_WARNING) && w.message.contains("£25.00"),
            "{}",
            w.message
        );
        assert!(benefits_warning(99999, None, day(2026, 3, 9)).is_none());
        assert_eq!(week_of(day(2026, 3, 12)), day(2026, 3, 9));
    }

    #[test]
    fn pence_are_written_as_pounds() {
        assert_eq!(pounds(3400), "£34.00");
        assert_eq!(pounds(5), "£0.05");
        assert_eq!(pounds(-120), "-£1.20");
    }

    proptest::proptest! {
        /// Time is paid to the nearest penny (half a penny up), in integer pence only.
        #[test]
        fn time_is_paid_to_the_nearest_penny(minutes in 1i64..=1440, rate in 0i64..=100_000) {
            let paid = pay_for_minutes(minutes, rate);
            let error = paid * 60 - minutes * rate;
            proptest::prop_assert!((-30..30).contains(&error) || error == 30, "{minutes} min at {rate}: {paid}");
            // Whole hours are exact.
            proptest::prop_assert_eq!(pay_for_minutes(minutes / 60 * 60, rate), minutes / 60 * rate);
        }

        /// Splitting time across lines never pays more than a penny a line away from paying it whole.
        #[test]
        fn splitting_time_pays_within_a_penny(minutes in 2i64..=1440, cut in 1i64..1440, rate in 0i64..=100_000) {
            let cut = cut.min(minutes - 1);
            let parts = pay_for_minutes(cut, rate) + pay_for_minutes(minutes - cut, rate);
            proptest::prop_assert!((parts - pay_for_minutes(minutes, rate)).abs() <= 1);
        }

        /// Miles are paid to the nearest penny; whole miles exactly.
        #[test]
        fn miles_are_paid_to_the_nearest_penny(tenths in 1i64..=10_000, rate in 0i64..=1000) {
            let paid = pay_for_miles(tenths, rate);
            let error = paid * 10 - tenths * rate;
            proptest::prop_assert!((-5..=5).contains(&error));
            proptest::prop_assert_eq!(pay_for_miles(tenths / 10 * 10, rate), tenths / 10 * rate);
        }

        /// A claim's total is the exact sum of its lines, and what is payable never exceeds it.
        #[test]
        fn totals_are_exact_sums_and_payable_never_exceeds_them(
            amounts in proptest::collection::vec(0i64..=100_000, 0..50),
            take in 0i64..=10_000_000,
        ) {
            let lines: Vec<ClaimLine> = amounts.iter().map(|a| ClaimLine {
                id: ClaimLineId::new(),
                kind: LineKind::Expense,
                activity_on: NaiveDate::default(),
                session_id: None,
                minutes: None,
                miles_tenths: None,
                description: None,
                receipt_id: None,
                rate: None,
                amount: Money::gbp(*a),
            }).collect();
            let sum = total(&lines);
            proptest::prop_assert_eq!(sum, amounts.iter().sum::<i64>());
            for choice in PaymentChoice::ALL {
                let t = (choice == PaymentChoice::TakeLess).then_some(take);
                if let Ok(p) = payable(sum, choice, t) {
                    proptest::prop_assert!((0..=sum).contains(&p));
                }
            }
        }
    }
}
