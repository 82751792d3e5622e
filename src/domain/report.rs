//! The co-production evidence report: what a provider's work was claimed to be beside what the
//! evidence shows, its people, hours, payments, feedback loop, Five Values and self-assessment,
//! and each contract requirement met or not, for a period. Every figure says how it was
//! reached and where its records are listed.
//!
//! Decisions where DOMAIN.md is silent (each also said where it is made):
//! - The work in a report is the provider's (or the contract's) work that is not a draft and
//!   whose dates overlap the period: `starts_on` before the period's end (or unset) and
//!   `ends_on` on or after its start (or unset).
//! - Evidence is judged at the period's end, or now when the period has not ended, so a
//!   report on a past period does not change as later sessions are held.
//! - People, hours and sessions count the sessions of that work held in the period.
//! - Counts of people below 5 are shown to commissioners as "fewer than 5", and every other
//!   count of people as a multiple of 5 (rounded to the nearest), so neither a small count nor
//!   the difference between two overlapping periods' counts picks anyone out.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::contract::{ContractMetric, Requirement, RequirementStatus};
use super::feedback::{CoProductionBarrier, Period, PreparedToPay};
use super::id::{ContractId, OpportunityId, OrganisationId, SelfAssessmentId};
use super::ladder::{
    ClaimCheck, CriterionResult, LadderLevel, OpportunityKind, OpportunityStatus, WorkingMode,
};
use super::time::Rfc3339;
use super::EnumList;

/// Counts of people under this are withheld from commissioners.
pub const SMALL_NUMBER: i64 = 5;

domain_enum! {
    /// The parts of the report, in the order DOMAIN.md lists them.
    pub enum ReportSection as "report section" {
        Work = "work",
        People = "people",
        Hours = "hours",
        Sessions = "sessions",
        Payments = "payments",
        Feedback = "feedback",
        FiveValues = "five_values",
        Ladder = "ladder",
        Requirements = "requirements",
    }
}

domain_enum! {
    /// What a figure counts or measures.
    pub enum FigureUnit as "figure unit" {
        Count = "count",
        /// 0 to 100.
        Percent = "percent",
        Days = "days",
        Hours = "hours",
        Pence = "pence",
        /// A score from 1 to 5.
        Score = "score",
    }
}

/// One figure of the report.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema, async_graphql::SimpleObject)]
#[graphql(serial)]
pub struct Figure {
    pub section: ReportSection,
    /// A stable name for the figure (`claims_paid_on_time_share`).
    pub metric: String,
    /// What the figure is, in plain English.
    pub label: String,
    /// The figure; `null` when there is no data (a percentage of nothing) or when it is
    /// withheld.
    pub value: Option<f64>,
    pub unit: FigureUnit,
    /// The figure as a person reads it: "12", "87.5%", "£120.00", "no data", "fewer than 5".
    pub display: String,
    /// A count of fewer than 5 people, withheld from the reader.
    pub suppressed: bool,
    /// The REST path, with filters, that lists the records behind the figure, when the reader
    /// may list them.
    pub records: Option<String>,
}

/// Pieces of work at one rung: as claimed, and as the evidence shows.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema, async_graphql::SimpleObject)]
#[graphql(serial)]
pub struct LevelCount {
    pub level: LadderLevel,
    pub claimed: i64,
    pub evidenced: i64,
    /// Share of the work evidenced at this level (0-100); `null` with no work.
    pub evidenced_share: Option<f64>,
}

/// Pieces of work of one kind.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema, async_graphql::SimpleObject)]
#[graphql(serial)]
pub struct KindCount {
    pub kind: OpportunityKind,
    pub count: i64,
}

/// A piece of work claimed higher than its evidence, and the criteria it failed.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema, async_graphql::SimpleObject)]
#[graphql(serial)]
pub struct OverclaimedWork {
    pub opportunity_id: OpportunityId,
    pub title: String,
    pub kind: OpportunityKind,
    pub status: OpportunityStatus,
    pub claimed_mode: WorkingMode,
    pub evidenced_level: LadderLevel,
    pub claim_check: ClaimCheck,
    /// The co-production criteria that failed. For commissioners the reasons are left out,
    /// since they name how many people did what.
    pub failing: Vec<CriterionResult>,
    /// Where the piece of work and its evidence are read.
    pub records: String,
}

/// The provider's own answers to the guide's ten questions beside what the evidence shows.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema, async_graphql::SimpleObject)]
#[graphql(serial)]
pub struct SelfAssessmentBeside {
    pub self_assessment_id: SelfAssessmentId,
    pub period: Period,
    #[serde(serialize_with = "super::time::rfc3339")]
    #[graphql(skip, derived(name = "submitted_at", into = "Rfc3339", owned))]
    pub submitted_at: DateTime<Utc>,
    /// Where the provider says it sits on the ladder...
    pub current_level: LadderLevel,
    /// ...and where the evidence puts it (`null` with no work in the period).
    pub evidenced_position: Option<LadderLevel>,
    pub target_level: LadderLevel,
    pub staff_knowledge: i32,
    pub staff_confidence: i32,
    pub commitment: i32,
    pub prepared_to_pay: PreparedToPay,
    #[graphql(
        skip,
        derived(name = "barriers", into = "EnumList<CoProductionBarrier>", owned)
    )]
    pub barriers: Vec<CoProductionBarrier>,
    pub successes: Option<String>,
    /// The self-assessment itself, for the provider's staff and admins.
    pub records: Option<String>,
}

/// One contract requirement judged against its figure.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema, async_graphql::SimpleObject)]
#[graphql(serial)]
pub struct RequirementResult {
    pub requirement: Requirement,
    /// The figure it is judged by (`null`: no data, or withheld).
    pub value: Option<f64>,
    /// The level it is judged by, for a target rung.
    pub level: Option<LadderLevel>,
    pub display: String,
    pub status: RequirementStatus,
    pub records: Option<String>,
}

/// Who the report is about.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema, async_graphql::SimpleObject)]
#[graphql(serial)]
pub struct ReportSubject {
    pub provider_id: OrganisationId,
    pub provider_name: String,
    pub contract_id: Option<ContractId>,
    pub contract_title: Option<String>,
    pub commissioner_id: Option<OrganisationId>,
}

/// The evidence report.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema, async_graphql::SimpleObject)]
#[graphql(serial)]
pub struct EvidenceReport {
    pub subject: ReportSubject,
    /// `from` inclusive, `to` exclusive.
    pub period: Period,
    #[serde(serialize_with = "super::time::rfc3339")]
    #[graphql(skip, derived(name = "computed_at", into = "Rfc3339", owned))]
    pub computed_at: DateTime<Utc>,
    /// The moment the evidence is judged at: the period's end, or now if sooner.
    #[serde(serialize_with = "super::time::rfc3339")]
    #[graphql(skip, derived(name = "evidence_at", into = "Rfc3339", owned))]
    pub evidence_at: DateTime<Utc>,
    /// Counts of people are shown as "fewer than 5" and rounded to 5 for this reader.
    pub small_numbers_suppressed: bool,
    /// Every figure, section by section (the CSV has one row for each, and one for each
    /// requirement).
    pub figures: Vec<Figure>,
    /// Work by rung, claimed beside evidenced (the chart).
    pub levels: Vec<LevelCount>,
    pub kinds: Vec<KindCount>,
    /// Work claimed as collaboration or user-led: beside the ladder, not ranked on it.
    pub claimed_beside_ladder: i64,
    pub overclaimed: Vec<OverclaimedWork>,
    /// The rung at least half the work reaches (`null` with no work).
    pub position: Option<LadderLevel>,
    pub self_assessment: Option<SelfAssessmentBeside>,
    pub requirements: Vec<RequirementResult>,
}

/// How a count of people is shown to a reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeopleCounts {
    Exact,
    /// Under 5 withheld, the rest rounded to the nearest 5.
    Suppressed,
}

impl PeopleCounts {
    /// The value shown, its display, and whether it was withheld.
    pub fn show(self, count: i64) -> (Option<f64>, String, bool) {
        match self {
            PeopleCounts::Exact => (Some(count as f64), count.to_string(), false),
            PeopleCounts::Suppressed if count < SMALL_NUMBER => {
                (None, "fewer than 5".to_owned(), true)
            }
            PeopleCounts::Suppressed => {
                let rounded = (count + 2) / 5 * 5;
                (Some(rounded as f64), format!("about {rounded}"), false)
            }
        }
    }
}

/// Shows a figure of a unit: "no data" for none.
pub fn display(value: Option<f64>, unit: FigureUnit) -> String {
    let Some(v) = value else {
        return "no data".to_owned();
    };
    match unit {
        FigureUnit::Count => format!("{v:.0}"),
        FigureUnit::Percent => format!("{v:.1}%"),
        FigureUnit::Days => format!("{v:.1} days"),
        FigureUnit::Hours => format!("{v:.1} hours"),
        FigureUnit::Pence => format!("£{}.{:02}", (v as i64) / 100, (v as i64) % 100),
        FigureUnit::Score => format!("{v:.2}"),
    }
}

/// `part / whole` as a percentage, or `None` when there is no whole.
pub fn percent(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| part as f64 * 100.0 / whole as f64)
}

/// The rung at least half the work reaches: the median evidenced level.
pub fn position(levels: &[LadderLevel]) -> Option<LadderLevel> {
    let mut sorted = levels.to_vec();
    sorted.sort();
    let n = sorted.len();
    // The highest rung with at least half the work at or above it.
    (n > 0).then(|| sorted[n / 2])
}

impl ContractMetric {
    /// The unit of the figure a metric is judged by.
    pub fn unit(self) -> FigureUnit {
        match self {
            _ if self.is_percentage() => FigureUnit::Percent,
            ContractMetric::MedianDaysToPay => FigureUnit::Days,
            ContractMetric::FiveValuesAverage => FigureUnit::Score,
            _ => FigureUnit::Count,
        }
    }
}

/// The report as CSV: one row per figure (section, metric, label, value, threshold, met,
/// display, records), then one per contract requirement, with `met` as `met`, `not_met`,
/// `no_data` or `withheld`. Cells are quoted as RFC 4180 says, and a cell a spreadsheet would
/// run as a formula is neutralised.
pub fn to_csv(report: &EvidenceReport) -> String {
    use super::payment::csv_cell;
    let number = |v: Option<f64>| v.map(|v| format!("{}", (v * 1000.0).round() / 1000.0));
    let mut out = String::from("section,metric,label,value,threshold,met,display,records\r\n");
    let mut row = |cells: [String; 8]| {
        let cells: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    };
    for f in &report.figures {
        row([
            f.section.as_str().to_owned(),
            f.metric.clone(),
            f.label.clone(),
            number(f.value).unwrap_or_default(),
            String::new(),
            String::new(),
            f.display.clone(),
            f.records.clone().unwrap_or_default(),
        ]);
    }
    for r in &report.requirements {
        let q = &r.requirement;
        let threshold = match (q.target_level, q.threshold) {
            (Some(level), _) => level.as_str().to_owned(),
            (None, t) => number(t).unwrap_or_default(),
        };
        row([
            ReportSection::Requirements.as_str().to_owned(),
            q.metric.as_str().to_owned(),
            q.label.clone(),
            match r.level {
                Some(level) => level.as_str().to_owned(),
                None => number(r.value).unwrap_or_default(),
            },
            threshold,
            r.status.as_str().to_owned(),
            r.display.clone(),
            r.records.clone().unwrap_or_default(),
        ]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_counts_of_people_are_withheld_and_the_rest_rounded() {
        assert_eq!(
            PeopleCounts::Suppressed.show(4),
            (None, "fewer than 5".to_owned(), true)
        );
        assert!(PeopleCounts::Suppressed.show(0).2);
        assert_eq!(PeopleCounts::Suppressed.show(5).0, Some(5.0));
        assert_eq!(PeopleCounts::Suppressed.show(7).0, Some(5.0));
        assert_eq!(PeopleCounts::Suppressed.show(8).0, Some(10.0));
        assert_eq!(PeopleCounts::Exact.show(3).0, Some(3.0));
    }

    #[test]
    fn no_data_is_said_and_never_a_division() {
        assert_eq!(percent(1, 0), None);
        assert_eq!(display(None, FigureUnit::Percent), "no data");
        assert_eq!(display(percent(1, 4), FigureUnit::Percent), "25.0%");
        assert_eq!(display(Some(12050.0), FigureUnit::Pence), "£120.50");
    }

    #[test]
    fn the_position_is_the_rung_half_the_work_reaches() {
        use LadderLevel::*;
        assert_eq!(position(&[]), None);
        assert_eq!(
            position(&[CoProduction, Involvement, Consultation]),
            Some(Involvement)
        );
        assert_eq!(
            position(&[CoProduction, NoEngagement, Consultation, Involvement]),
            Some(Involvement)
        );
    }
}
