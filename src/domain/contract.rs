//! Contracts: a commissioner funds a provider for a period and writes co-production into it as
//! requirements, each a metric of the evidence report with a threshold and a plain-English
//! label. The report says of each whether it was met, missed, or had no data to judge by.

use async_graphql::SimpleObject;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::id::{ContractId, OrganisationId};
use super::ladder::LadderLevel;
use super::time::Rfc3339;
use super::validation::{FieldError, Problems};
use super::written::WriteFields;

/// The most requirements one contract lists.
pub const MAX_REQUIREMENTS: usize = 50;
/// The longest contract, in days (ten years).
pub const MAX_CONTRACT_DAYS: i64 = 3_660;
const TITLE_MAX: usize = 200;
const LABEL_MAX: usize = 500;

domain_enum! {
    /// What a requirement measures: each is a figure of the evidence report.
    pub enum ContractMetric as "contract metric" {
        /// Pieces of work evidenced as co-production (count, at least).
        CoProducedWork = "co_produced_work",
        /// Lived-experience and carer hours (attended or participated) paid or recognised (%).
        HoursPaidOrRecognisedShare = "hours_paid_or_recognised_share",
        /// Claims due in the period that were paid by their due date (%).
        ClaimsPaidOnTimeShare = "claims_paid_on_time_share",
        /// Median days from submission to payment of the claims paid in the period (at most).
        MedianDaysToPay = "median_days_to_pay",
        /// Feedback items received in the period closed within `within_days` days (%).
        FeedbackClosedWithinShare = "feedback_closed_within_share",
        /// Distinct lived-experience and carer participants who attended (count, at least).
        DistinctParticipants = "distinct_participants",
        /// Sessions held with a lived-experience agenda slot (%).
        AgendaSlotShare = "agenda_slot_share",
        /// Interview panels with a lived-experience or carer member (%).
        InterviewPanelsWithLivedExperienceShare = "interview_panels_with_lived_experience_share",
        /// The average of the Five Values scores, 1 to 5 (at least).
        FiveValuesAverage = "five_values_average",
        /// The provider's position on the ladder (the level at least half its work reaches).
        TargetRung = "target_rung",
    }
}

domain_enum! {
    /// How a requirement stands.
    pub enum RequirementStatus as "requirement status" {
        Met = "met",
        NotMet = "not_met",
        /// Nothing to judge by (no claims due, no feedback received...): never counted as met.
        NoData = "no_data",
        /// The figure is a count of fewer than 5 people, withheld from the reader, and the
        /// threshold is too: saying met or not would tell the count.
        Withheld = "withheld",
    }
}

impl ContractMetric {
    /// A lower figure is better (days to pay); every other metric is "at least".
    pub fn at_most(self) -> bool {
        self == ContractMetric::MedianDaysToPay
    }

    pub fn is_percentage(self) -> bool {
        matches!(
            self,
            ContractMetric::HoursPaidOrRecognisedShare
                | ContractMetric::ClaimsPaidOnTimeShare
                | ContractMetric::FeedbackClosedWithinShare
                | ContractMetric::AgendaSlotShare
                | ContractMetric::InterviewPanelsWithLivedExperienceShare
        )
    }

    /// The metric counts people, so small numbers are withheld from commissioners.
    pub fn counts_people(self) -> bool {
        self == ContractMetric::DistinctParticipants
    }

    /// The range a threshold may take.
    fn threshold_range(self) -> (f64, f64) {
        match self {
            _ if self.is_percentage() => (0.0, 100.0),
            ContractMetric::FiveValuesAverage => (1.0, 5.0),
            ContractMetric::MedianDaysToPay => (0.0, 3_660.0),
            _ => (0.0, 1_000_000.0),
        }
    }
}

/// One requirement of a contract.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Serialize,
    Deserialize,
    ToSchema,
    async_graphql::SimpleObject,
    async_graphql::InputObject,
)]
#[graphql(input_name = "RequirementInput")]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    pub metric: ContractMetric,
    /// The figure to reach: a count, a percentage (0-100), days (at most, for
    /// `median_days_to_pay`) or a score (1-5). Not used by `target_rung`.
    #[serde(default)]
    pub threshold: Option<f64>,
    /// For `target_rung`: the rung the provider's work must reach.
    #[serde(default)]
    pub target_level: Option<LadderLevel>,
    /// For `feedback_closed_within_share`: the days an item may take to close.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 3660)]
    pub within_days: Option<i32>,
    /// The requirement in plain English, as the contract words it.
    #[schema(min_length = 1, max_length = 500)]
    pub label: String,
}

impl Requirement {
    /// Checks one requirement; `field` names it in errors (`requirements[2]`).
    fn check(&self, field: &str, p: &mut Problems) -> Option<Requirement> {
        let label = p.required_text(&format!("{field}.label"), &self.label, LABEL_MAX);
        let mut ok = true;
        if self.metric == ContractMetric::TargetRung {
            if self.target_level.is_none() {
                p.add(
                    format!("{field}.target_level"),
                    "name the rung the work must reach",
                );
                ok = false;
            }
            if self.threshold.is_some() {
                p.add(
                    format!("{field}.threshold"),
                    "a target rung is given as target_level, not a threshold",
                );
                ok = false;
            }
        } else {
            let (low, high) = self.metric.threshold_range();
            match self.threshold {
                None => {
                    p.add(format!("{field}.threshold"), "give the figure to reach");
                    ok = false;
                }
                Some(t) if !t.is_finite() || t < low || t > high => {
                    p.add(
                        format!("{field}.threshold"),
                        format!("must be from {low} to {high}"),
                    );
                    ok = false;
                }
                Some(_) => {}
            }
            if self.target_level.is_some() {
                p.add(
                    format!("{field}.target_level"),
                    "only a target_rung requirement names a level",
                );
                ok = false;
            }
        }
        match (self.metric, self.within_days) {
            (ContractMetric::FeedbackClosedWithinShare, None) => {
                p.add(
                    format!("{field}.within_days"),
                    "say within how many days an item must be closed",
                );
                ok = false;
            }
            (ContractMetric::FeedbackClosedWithinShare, Some(d)) if !(0..=3_660).contains(&d) => {
                p.add(format!("{field}.within_days"), "must be from 0 to 3660");
                ok = false;
            }
            (ContractMetric::FeedbackClosedWithinShare, Some(_)) | (_, None) => {}
            (_, Some(_)) => {
                p.add(
                    format!("{field}.within_days"),
                    "only a feedback_closed_within_share requirement takes within_days",
                );
                ok = false;
            }
        }
        match (ok, label) {
            (true, Some(label)) => Some(Requirement {
                label,
                ..self.clone()
            }),
            _ => None,
        }
    }

    /// How the requirement stands against its figure (`None`: no data).
    pub fn judge(&self, value: Option<f64>, level: Option<LadderLevel>) -> RequirementStatus {
        if self.metric == ContractMetric::TargetRung {
            return match (level, self.target_level) {
                (Some(level), Some(target)) if level >= target => RequirementStatus::Met,
                (Some(_), _) => RequirementStatus::NotMet,
                (None, _) => RequirementStatus::NoData,
            };
        }
        let (Some(value), Some(threshold)) = (value, self.threshold) else {
            return RequirementStatus::NoData;
        };
        // Figures are compared as shown (one decimal place), so a figure shown as 80.0 % meets 80.
        let value = (value * 10.0).round() / 10.0;
        let met = if self.metric.at_most() {
            value <= threshold
        } else {
            value >= threshold
        };
        if met {
            RequirementStatus::Met
        } else {
            RequirementStatus::NotMet
        }
    }
}

/// A commissioner's contract with a provider.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema, SimpleObject, WriteFields)]
#[graphql(serial)]
pub struct Contract {
    pub id: ContractId,
    pub commissioner_id: OrganisationId,
    pub provider_id: OrganisationId,
    pub title: String,
    /// The first day of the contract.
    pub starts_on: NaiveDate,
    /// The last day of the contract (inclusive).
    pub ends_on: NaiveDate,
    pub requirements: Vec<Requirement>,
    pub created_by: String,
    #[serde(serialize_with = "super::time::rfc3339")]
    #[graphql(skip, derived(name = "created_at", into = "Rfc3339", owned))]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "super::time::rfc3339")]
    #[graphql(skip, derived(name = "updated_at", into = "Rfc3339", owned))]
    pub updated_at: DateTime<Utc>,
    /// Changes with every update; send it back as `If-Match` to update.
    pub version: i32,
}

impl Contract {
    /// Whether a period (`from` inclusive, `to` exclusive) lies within the contract.
    pub fn covers(&self, from: NaiveDate, to: NaiveDate) -> bool {
        from >= self.starts_on && to <= self.ends_on + chrono::Duration::days(1)
    }

    pub fn apply(&mut self, patch: &ContractPatch) -> Result<(), Vec<FieldError>> {
        let mut input = ContractInput {
            commissioner_id: Some(self.commissioner_id),
            provider_id: self.provider_id,
            title: patch.title.clone().unwrap_or_else(|| self.title.clone()),
            starts_on: patch.starts_on.unwrap_or(self.starts_on),
            ends_on: patch.ends_on.unwrap_or(self.ends_on),
            requirements: self.requirements.clone(),
        };
        if let Some(r) = &patch.requirements {
            input.requirements = r.clone();
        }
        let new = input.parse()?;
        self.title = new.title;
        self.starts_on = new.starts_on;
        self.ends_on = new.ends_on;
        self.requirements = new.requirements;
        Ok(())
    }
}

/// A contract as sent.
#[derive(Debug, Clone, Deserialize, ToSchema, async_graphql::InputObject)]
#[serde(deny_unknown_fields)]
pub struct ContractInput {
    /// The commissioning organisation: the caller's own (admins name one).
    #[serde(default)]
    pub commissioner_id: Option<OrganisationId>,
    pub provider_id: OrganisationId,
    #[schema(min_length = 1, max_length = 200, pattern = r"^[^\x00]*$")]
    pub title: String,
    pub starts_on: NaiveDate,
    /// The last day (inclusive).
    pub ends_on: NaiveDate,
    #[serde(default)]
    #[graphql(default)]
    #[schema(max_items = 50)]
    pub requirements: Vec<Requirement>,
}

/// A change to a contract; absent fields stay as they are, and `requirements` replaces the
/// list whole.
#[derive(Debug, Clone, Default, Deserialize, ToSchema, async_graphql::InputObject)]
#[serde(deny_unknown_fields)]
pub struct ContractPatch {
    #[schema(min_length = 1, max_length = 200, pattern = r"^[^\x00]*$")]
    pub title: Option<String>,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    #[schema(max_items = 50)]
    pub requirements: Option<Vec<Requirement>>,
}

/// A checked contract, not yet given its organisation or id.
#[derive(Debug, Clone)]
pub struct NewContract {
    pub commissioner_id: Option<OrganisationId>,
    pub provider_id: OrganisationId,
    pub title: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub requirements: Vec<Requirement>,
}

impl ContractInput {
    pub fn parse(&self) -> Result<NewContract, Vec<FieldError>> {
        let mut p = Problems::default();
        let title = p.required_text("title", &self.title, TITLE_MAX);
        if self.ends_on < self.starts_on {
            p.add("ends_on", "must be on or after starts_on");
        } else if (self.ends_on - self.starts_on).num_days() > MAX_CONTRACT_DAYS {
            p.add("ends_on", "a contract runs at most ten years");
        }
        if self.requirements.len() > MAX_REQUIREMENTS {
            p.add(
                "requirements",
                format!("at most {MAX_REQUIREMENTS} requirements"),
            );
        }
        let requirements: Vec<Option<Requirement>> = self
            .requirements
            .iter()
            .take(MAX_REQUIREMENTS)
            .enumerate()
            .map(|(i, r)| r.check(&format!("requirements[{i}]"), &mut p))
            .collect();
        let title = p.finish_parsed(title)?;
        Ok(NewContract {
            commissioner_id: self.commissioner_id,
            provider_id: self.provider_id,
            title,
            starts_on: self.starts_on,
            ends_on: self.ends_on,
            requirements: requirements.into_iter().flatten().collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn requirement(metric: ContractMetric, threshold: Option<f64>) -> Requirement {
        Requirement {
            metric,
            threshold,
            target_level: None,
            within_days: None,
            label: "a label".to_owned(),
        }
    }

    #[test]
    fn a_figure_one_unit_short_is_not_met_and_no_data_is_never_met() {
        let r = requirement(ContractMetric::CoProducedWork, Some(3.0));
        assert_eq!(r.judge(Some(3.0), None), RequirementStatus::Met);
        assert_eq!(r.judge(Some(2.0), None), RequirementStatus::NotMet);
        assert_eq!(r.judge(None, None), RequirementStatus::NoData);
        let days = requirement(ContractMetric::MedianDaysToPay, Some(14.0));
        assert_eq!(days.judge(Some(14.0), None), RequirementStatus::Met);
        assert_eq!(days.judge(Some(15.0), None), RequirementStatus::NotMet);
    }

    #[test]
    fn a_target_rung_compares_levels() {
        let r = Requirement {
            target_level: Some(LadderLevel::Involvement),
            ..requirement(ContractMetric::TargetRung, None)
        };
        assert_eq!(
            r.judge(None, Some(LadderLevel::CoProduction)),
            RequirementStatus::Met
        );
        assert_eq!(
            r.judge(None, Some(LadderLevel::Consultation)),
            RequirementStatus::NotMet
        );
        assert_eq!(r.judge(None, None), RequirementStatus::NoData);
    }

    #[test]
    fn requirements_are_checked_field_by_field() {
        let input = ContractInput {
            commissioner_id: None,
            provider_id: "00000000-0000-0000-0000-000000000000".parse().unwrap(),
            title: "  ".to_owned(),
            starts_on: NaiveDate::from_ymd_opt(2026, 4, 1).unwrap(),
            ends_on: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
            requirements: vec![
                requirement(ContractMetric::ClaimsPaidOnTimeShare, Some(120.0)),
                requirement(ContractMetric::FeedbackClosedWithinShare, Some(80.0)),
                requirement(ContractMetric::TargetRung, Some(1.0)),
            ],
        };
        let errors = input.parse().unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        for f in [
            "title",
            "ends_on",
            "requirements[0].threshold",
            "requirements[1].within_days",
            "requirements[2].target_level",
            "requirements[2].threshold",
        ] {
            assert!(fields.contains(&f), "{f} missing from {fields:?}");
        }
    }
}
