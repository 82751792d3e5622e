//! The co-production evidence report (DOMAIN.md, "Contracts and evidence reports").
//!
//! Who may pull one (API.md): a provider's staff their own organisation's, so they can look
//! and correct their records before the commissioner does; a commissioner the work under a
//! contract they hold, for the contract's period only, with counts of people under 5 shown as
//! "fewer than 5" and the rest rounded to 5; admins any. Everyone else gets "not found".
//!
//! The figures are aggregated in SQL (`db::reports`); the honest classification of each piece
//! of work runs on per-session counts, with the same `classify` the opportunity shows.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};

use super::Services;
use crate::db::reports::{self as rows, Scope};
use crate::db::{self, from_db_time, DbConnection, Handoff};
use crate::domain::contract::{Contract, ContractMetric, RequirementStatus};
use crate::domain::feedback::{Period, SelfAssessment};
use crate::domain::id::{ContractId, OpportunityId, OrganisationId};
use crate::domain::identity::{Principal, Role};
use crate::domain::ladder::{
    check_claim, classify_summary, ClaimCheck, CountedEvidence, CountedMembers, CriterionResult,
    DecisionCounts, HeldSessions, LadderLevel, OpportunityKind,
};
use crate::domain::now;
use crate::domain::report::{
    display, percent, position, EvidenceReport, Figure, FigureUnit, KindCount, LevelCount,
    OverclaimedWork, PeopleCounts, ReportSection, ReportSubject, RequirementResult,
    SelfAssessmentBeside,
};
use crate::error::AppError;

const NOT_FOUND: AppError = AppError::NotFound("report");
/// The feedback section's window when no requirement names one.
pub const DEFAULT_WITHIN_DAYS: i32 = 28;

/// What was asked for.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReportRequest {
    pub provider: Option<OrganisationId>,
    pub contract: Option<ContractId>,
    pub from: Option<NaiveDate>,
    /// The day after the period.
    pub to: Option<NaiveDate>,
    pub within_days: Option<i32>,
}

/// Who reads, and so what they are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reader {
    /// The provider's own staff, or an admin: every figure exact, every record linked.
    Full,
    /// The commissioner of the contract.
    Commissioner,
}

pub async fn evidence(
    services: &Services,
    principal: &Principal,
    request: ReportRequest,
) -> Result<EvidenceReport, AppError> {
    if request
        .within_days
        .is_some_and(|d| !(0..=3_660).contains(&d))
    {
        return Err(AppError::validation(
            "within_days",
            "must be from 0 to 3660",
        ));
    }
    let principal = principal.clone();
    let within_days = request.within_days.unwrap_or(DEFAULT_WITHIN_DAYS);
    // The people, hours, payments, feedback and Five Values run beside the classification of
    // the work, on a second connection that sees the same snapshot.
    services
        .db
        .read_snapshot_split(
            move |conn, handoff| build(conn, handoff, &principal, request, now()),
            move |conn, scope: Scope| {
                Ok(Beside {
                    people: rows::people_and_hours(conn, &scope)?,
                    payments: rows::payments(conn, &scope)?,
                    feedback: rows::feedback(conn, &scope, within_days)?,
                    values: rows::five_values(conn, &scope)?,
                })
            },
        )
        .await
}

/// The report's second half, run beside the first: every figure but the work's.
struct Beside {
    people: rows::PeopleAndHours,
    payments: rows::Payments,
    feedback: rows::FeedbackLoop,
    values: rows::FiveValues,
}

/// Works out the provider, the contract (if any), the period and the reader, or says why not.
fn resolve(
    conn: &mut DbConnection,
    principal: &Principal,
    request: ReportRequest,
    at: DateTime<Utc>,
) -> Result<(OrganisationId, Option<Contract>, Period, Reader), AppError> {
    let contract = match request.contract {
        Some(id) => {
            let c = db::contracts::find(conn, id)?.ok_or(NOT_FOUND)?;
            if request.provider.is_some_and(|p| p != c.provider_id) {
                return Err(AppError::validation(
                    "provider",
                    "is not the contract's provider",
                ));
            }
            Some(c)
        }
        None => None,
    };
    let provider = match (&contract, request.provider) {
        (Some(c), _) => c.provider_id,
        (None, Some(p)) => p,
        (None, None) => principal.organisation_id.ok_or_else(|| {
            AppError::validation("provider", "name the provider, or the contract")
        })?,
    };
    let own = principal.is_staff() && principal.belongs_to(provider);
    let reader = if principal.is_admin() || own {
        Reader::Full
    } else if principal.has(Role::Commissioner) && principal.organisation_id.is_some() {
        Reader::Commissioner
    } else {
        return Err(NOT_FOUND);
    };
    if db::organisations::find(conn, provider)?.is_none() {
        return Err(NOT_FOUND);
    }
    let contract = match (reader, contract) {
        (Reader::Commissioner, Some(c)) => {
            if !principal.belongs_to(c.commissioner_id) {
                return Err(NOT_FOUND);
            }
            Some(c)
        }
        (Reader::Commissioner, None) => {
            // The commissioner named the provider: the one contract with it that covers the
            // period asked for (or, with no period, the one contract).
            let org = principal.organisation_id.ok_or(NOT_FOUND)?;
            let held = db::contracts::holds_contract_with(conn, org, provider)?;
            let fitting: Vec<Contract> = held
                .into_iter()
                .filter(|c| match (request.from, request.to) {
                    (Some(f), Some(t)) => c.covers(f, t),
                    (Some(f), None) => f >= c.starts_on && f <= c.ends_on,
                    (None, Some(t)) => {
                        t > c.starts_on && t <= c.ends_on + chrono::Duration::days(1)
                    }
                    (None, None) => true,
                })
                .collect();
            match fitting.len() {
                0 => return Err(NOT_FOUND),
                1 => fitting.into_iter().next(),
                _ => {
                    return Err(AppError::validation(
                        "contract",
                        "you hold several contracts with this provider: name the contract",
                    ))
                }
            }
        }
        (Reader::Full, c) => c,
    };
    let period = match &contract {
        Some(c) => {
            let from = request.from.unwrap_or(c.starts_on);
            let to = request.to.unwrap_or(c.ends_on + chrono::Duration::days(1));
            let period = Period::parse(from, to)?;
            if reader == Reader::Commissioner && !c.covers(period.from, period.to) {
                return Err(AppError::validation(
                    "from",
                    format!(
                        "a commissioner's report covers the contract's period only: from {} to {} inclusive",
                        c.starts_on, c.ends_on
                    ),
                ));
            }
            period
        }
        None => Period::or_last_year(request.from, request.to, at.date_naive())?,
    };
    Ok((provider, contract, period, reader))
}

fn build<B>(
    conn: &mut DbConnection,
    mut handoff: Handoff<Scope, Beside, B>,
    principal: &Principal,
    request: ReportRequest,
    computed_at: DateTime<Utc>,
) -> Result<EvidenceReport, AppError>
where
    B: FnOnce(&mut DbConnection, Scope) -> Result<Beside, AppError> + Send + 'static,
{
    let (provider_id, contract, period, reader) = resolve(conn, principal, request, computed_at)?;
    let provider = db::organisations::find(conn, provider_id)?.ok_or(NOT_FOUND)?;
    let (_, end) = period.bounds();
    let scope = Scope {
        provider: provider_id,
        contract: contract.as_ref().map(|c| c.id),
        from: period.from,
        to: period.to,
        at: end.min(computed_at),
        now: computed_at,
    };
    let people_counts = match reader {
        Reader::Full => PeopleCounts::Exact,
        Reader::Commissioner => PeopleCounts::Suppressed,
    };
    let links = Links {
        provider: provider_id,
        contract: scope.contract,
        period,
        full: reader == Reader::Full,
    };

    handoff.start(scope);
    // The honest classification of each piece of work, from its evidence counted in SQL.
    let work = rows::work(conn, &scope)?;
    let counts: HashMap<OpportunityId, rows::WorkCounts> = rows::work_counts(conn, &scope)?
        .into_iter()
        .map(|c| Ok((c.opportunity()?, c)))
        .collect::<Result<_, AppError>>()?;
    let mut absent: HashMap<OpportunityId, Vec<DateTime<Utc>>> = HashMap::new();
    if counts.values().any(|c| c.absent > 0) {
        for a in rows::absent_at(conn, &scope)? {
            absent
                .entry(a.opportunity()?)
                .or_default()
                .push(from_db_time(a.starts_at));
        }
    }
    let count = |n: i64| usize::try_from(n).unwrap_or(0);
    let facts: HashMap<OpportunityId, CountedEvidence> = work
        .iter()
        .filter_map(|o| {
            let c = counts.get(&o.id)?;
            let mut absent_at = absent.remove(&o.id).unwrap_or_default();
            absent_at.sort();
            absent_at.dedup();
            Some((
                o.id,
                CountedEvidence {
                    kind: o.kind,
                    status: o.status,
                    now: scope.at,
                    sessions: HeldSessions {
                        held: count(c.held),
                        first_starts_at: c.first_start.map(from_db_time),
                        last_starts_at: c.last_start.map(from_db_time),
                        last_present: u32::try_from(c.last_present).unwrap_or(u32::MAX),
                        without: count(c.without),
                        participated: count(c.participated),
                    },
                    members: CountedMembers {
                        counted: count(c.counted),
                        early: count(c.early),
                    },
                    decisions: DecisionCounts {
                        total: count(c.decisions),
                        shared: count(c.shared),
                        absent_at,
                    },
                    payment_or_recognition_offered: o.offers_payment_or_recognition(),
                    latest_feedback_at: c.latest_feedback.map(from_db_time),
                },
            ))
        })
        .collect();

    let mut levels: HashMap<LadderLevel, (i64, i64)> = HashMap::new();
    let mut kinds: HashMap<OpportunityKind, i64> = HashMap::new();
    let mut evidenced_levels = Vec::with_capacity(work.len());
    let mut overclaimed = Vec::new();
    let mut beside_ladder = 0;
    let (mut panels, mut panels_with) = (0, 0);
    for o in &work {
        let Some(f) = facts.get(&o.id) else { continue };
        let evidence = classify_summary(f);
        let level = evidence.evidenced_level;
        evidenced_levels.push(level);
        levels.entry(level).or_default().1 += 1;
        match o.claimed_mode.ladder_level() {
            Some(claimed) => levels.entry(claimed).or_default().0 += 1,
            None => beside_ladder += 1,
        }
        *kinds.entry(o.kind).or_default() += 1;
        if o.kind == OpportunityKind::InterviewPanel {
            panels += 1;
            if f.members.counted > 0 {
                panels_with += 1;
            }
        }
        let claim_check = check_claim(o.claimed_mode, level);
        if claim_check == ClaimCheck::Overclaimed {
            overclaimed.push(OverclaimedWork {
                opportunity_id: o.id,
                title: o.title.clone(),
                kind: o.kind,
                status: o.status,
                claimed_mode: o.claimed_mode,
                evidenced_level: level,
                claim_check,
                failing: evidence
                    .failing()
                    .map(|c| CriterionResult {
                        reason: match reader {
                            Reader::Full => c.reason.clone(),
                            Reader::Commissioner => String::new(),
                        },
                        ..c.clone()
                    })
                    .collect(),
                records: format!("/api/v1/opportunities/{}", o.id),
            });
        }
    }
    let total_work = work.len() as i64;
    let levels: Vec<LevelCount> = LadderLevel::ALL
        .iter()
        .map(|l| {
            let (claimed, evidenced) = levels.get(l).copied().unwrap_or_default();
            LevelCount {
                level: *l,
                claimed,
                evidenced,
                evidenced_share: percent(evidenced, total_work),
            }
        })
        .collect();
    let mut kinds: Vec<KindCount> = kinds
        .into_iter()
        .map(|(kind, count)| KindCount { kind, count })
        .collect();
    kinds.sort_by_key(|k| k.kind);
    let position = position(&evidenced_levels);

    let within_days = request.within_days.unwrap_or(DEFAULT_WITHIN_DAYS);
    let Beside {
        people,
        payments,
        feedback,
        values,
    } = handoff.join(conn)?;
    let overall = five_value_average(&values);

    let mut figures = Vec::new();
    let mut add =
        |section, metric: &str, label: &str, value: Option<f64>, unit, records: Option<String>| {
            figures.push(Figure {
                section,
                metric: metric.to_owned(),
                label: label.to_owned(),
                value,
                unit,
                display: display(value, unit),
                suppressed: false,
                records,
            });
        };
    use FigureUnit as U;
    use ReportSection as S;
    let work_records = links.work(None);
    add(
        S::Work,
        "work",
        "Pieces of work in the period",
        Some(total_work as f64),
        U::Count,
        Some(work_records.clone()),
    );
    for k in &kinds {
        add(
            S::Work,
            &format!("work_kind_{}", k.kind),
            &format!(
                "Pieces of work of the kind {}",
                k.kind.as_str().replace('_', " ")
            ),
            Some(k.count as f64),
            U::Count,
            Some(links.work(Some(k.kind))),
        );
    }
    for l in &levels {
        let name = l.level.as_str();
        let words = name.replace('_', " ");
        add(
            S::Work,
            &format!("work_claimed_{name}"),
            &format!("Pieces of work claimed as {words}"),
            Some(l.claimed as f64),
            U::Count,
            Some(work_records.clone()),
        );
        add(
            S::Work,
            &format!("work_evidenced_{name}"),
            &format!("Pieces of work evidenced as {words}"),
            Some(l.evidenced as f64),
            U::Count,
            Some(work_records.clone()),
        );
    }
    add(
        S::Work,
        "work_claimed_beside_ladder",
        "Pieces of work claimed as collaboration or user-led (beside the ladder)",
        Some(beside_ladder as f64),
        U::Count,
        Some(work_records.clone()),
    );
    add(
        S::Work,
        "work_overclaimed",
        "Pieces of work claimed higher than the evidence shows",
        Some(overclaimed.len() as f64),
        U::Count,
        Some(work_records.clone()),
    );

    let lived_minutes = people.participating_minutes + people.attending_minutes;
    let attendance_records = links.attendance();
    add(
        S::Hours,
        "hours_participating",
        "Hours lived-experience and carer participants took part",
        Some(people.participating_minutes as f64 / 60.0),
        U::Hours,
        Some(attendance_records.clone()),
    );
    add(
        S::Hours,
        "hours_attending",
        "Hours lived-experience and carer participants attended without taking part",
        Some(people.attending_minutes as f64 / 60.0),
        U::Hours,
        Some(attendance_records.clone()),
    );
    let recognised_share = percent(people.recognised_minutes, lived_minutes);
    add(
        S::Hours,
        "hours_paid_or_recognised_share",
        "Share of those hours paid or recognised",
        recognised_share,
        U::Percent,
        Some(attendance_records.clone()),
    );

    let slot_share = percent(people.sessions_with_slot, people.sessions);
    add(
        S::Sessions,
        "sessions_held",
        "Sessions held in the period",
        Some(people.sessions as f64),
        U::Count,
        Some(work_records.clone()),
    );
    add(
        S::Sessions,
        "sessions_with_agenda_slot",
        "Sessions with a lived-experience agenda slot",
        Some(people.sessions_with_slot as f64),
        U::Count,
        Some(work_records.clone()),
    );
    add(
        S::Sessions,
        "agenda_slot_share",
        "Share of sessions with a lived-experience agenda slot",
        slot_share,
        U::Percent,
        Some(work_records.clone()),
    );
    let panel_share = percent(panels_with, panels);
    let panel_records = Some(links.work(Some(OpportunityKind::InterviewPanel)));
    add(
        S::Sessions,
        "interview_panels",
        "Interview panels",
        Some(panels as f64),
        U::Count,
        panel_records.clone(),
    );
    add(
        S::Sessions,
        "interview_panels_with_lived_experience",
        "Interview panels with a lived-experience or carer member",
        Some(panels_with as f64),
        U::Count,
        panel_records.clone(),
    );
    add(
        S::Sessions,
        "interview_panels_with_lived_experience_share",
        "Share of interview panels with a lived-experience or carer member",
        panel_share,
        U::Percent,
        panel_records,
    );

    let paid_records = links.claims("paid");
    let due_records = links.claims("due");
    let on_time_share = percent(payments.due_paid_on_time, payments.due);
    add(
        S::Payments,
        "payments_total",
        "Paid to people in the period",
        Some(payments.paid_pence as f64),
        U::Pence,
        paid_records.clone(),
    );
    add(
        S::Payments,
        "claims_paid",
        "Claims paid in the period",
        Some(payments.paid as f64),
        U::Count,
        paid_records.clone(),
    );
    add(
        S::Payments,
        "claims_due",
        "Claims due in the period",
        Some(payments.due as f64),
        U::Count,
        due_records.clone(),
    );
    add(
        S::Payments,
        "claims_paid_on_time",
        "Of those, paid by their due date",
        Some(payments.due_paid_on_time as f64),
        U::Count,
        due_records.clone(),
    );
    add(
        S::Payments,
        "claims_paid_on_time_share",
        "Share of claims due in the period paid by their due date",
        on_time_share,
        U::Percent,
        due_records,
    );
    add(
        S::Payments,
        "median_days_to_pay",
        "Median days from submitting a claim to its payment",
        payments.median_days_to_pay,
        U::Days,
        paid_records,
    );
    add(
        S::Payments,
        "claims_overdue_now",
        "Claims overdue now (submitted or approved, past their due date)",
        Some(payments.overdue_now as f64),
        U::Count,
        links.claims("overdue"),
    );

    let feedback_records = links.feedback();
    let closure_rate = percent(feedback.closed, feedback.received);
    let within_share = percent(feedback.closed_within, feedback.received);
    add(
        S::Feedback,
        "feedback_received",
        "Feedback items received in the period",
        Some(feedback.received as f64),
        U::Count,
        feedback_records.clone(),
    );
    add(
        S::Feedback,
        "feedback_closed",
        "Of those, closed (the answer told back)",
        Some(feedback.closed as f64),
        U::Count,
        feedback_records.clone(),
    );
    add(
        S::Feedback,
        "feedback_closure_rate",
        "Share of those closed",
        closure_rate,
        U::Percent,
        feedback_records.clone(),
    );
    add(
        S::Feedback,
        "feedback_closed_within_share",
        &format!("Share closed within {within_days} days"),
        within_share,
        U::Percent,
        feedback_records.clone(),
    );
    add(
        S::Feedback,
        "median_days_to_close",
        "Median days from receipt to closing",
        feedback.median_days_to_close,
        U::Days,
        feedback_records.clone(),
    );
    add(
        S::Feedback,
        "feedback_open_now",
        "Feedback items open now",
        Some(feedback.open_now as f64),
        U::Count,
        links.full.then(|| {
            format!(
                "/api/v1/feedback?organisation_id={}&status=open",
                links.provider
            )
        }),
    );

    let evaluation_records = links.evaluations();
    add(
        S::FiveValues,
        "evaluations",
        "Evaluations on the Five Values in the period",
        Some(values.evaluations as f64),
        U::Count,
        evaluation_records.clone(),
    );
    for (name, label, v) in [
        ("empathy", "Empathy", values.empathy),
        ("inclusion", "Inclusion", values.inclusion),
        ("honesty", "Honesty", values.honesty),
        (
            "working_together",
            "Working together",
            values.working_together,
        ),
        ("personalisation", "Personalisation", values.personalisation),
    ] {
        add(
            S::FiveValues,
            &format!("five_values_{name}"),
            &format!("{label}: average score"),
            v,
            U::Score,
            evaluation_records.clone(),
        );
    }
    add(
        S::FiveValues,
        "five_values_average",
        "The Five Values: average score",
        overall,
        U::Score,
        evaluation_records,
    );

    for l in &levels {
        add(
            S::Ladder,
            &format!("ladder_share_{}", l.level),
            &format!(
                "Share of the work evidenced as {}",
                l.level.as_str().replace('_', " ")
            ),
            l.evidenced_share,
            U::Percent,
            Some(work_records.clone()),
        );
    }

    // People: counts of people, withheld when small for commissioners.
    for (metric, label, count) in [
        (
            "people_lived_experience",
            "Distinct people with lived experience who took part",
            people.lived_experience,
        ),
        (
            "people_carers",
            "Distinct carers who took part",
            people.carers,
        ),
        (
            "people",
            "Distinct lived-experience and carer participants",
            people.people,
        ),
    ] {
        let (value, shown, suppressed) = people_counts.show(count);
        figures.push(Figure {
            section: S::People,
            metric: metric.to_owned(),
            label: label.to_owned(),
            value,
            unit: U::Count,
            display: shown,
            suppressed,
            records: Some(attendance_records.clone()),
        });
    }
    figures.sort_by_key(|f| f.section);

    // The contract's requirements.
    let mut requirements = Vec::new();
    if let Some(c) = &contract {
        for r in &c.requirements {
            let (value, level) = match r.metric {
                ContractMetric::CoProducedWork => (
                    Some(
                        evidenced_levels
                            .iter()
                            .filter(|l| **l == LadderLevel::CoProduction)
                            .count() as f64,
                    ),
                    None,
                ),
                ContractMetric::HoursPaidOrRecognisedShare => (recognised_share, None),
                ContractMetric::ClaimsPaidOnTimeShare => (on_time_share, None),
                ContractMetric::MedianDaysToPay => (payments.median_days_to_pay, None),
                ContractMetric::FeedbackClosedWithinShare => {
                    let days = r.within_days.unwrap_or(within_days);
                    let f = if days == within_days {
                        feedback
                    } else {
                        rows::feedback(conn, &scope, days)?
                    };
                    (percent(f.closed_within, f.received), None)
                }
                ContractMetric::DistinctParticipants => (Some(people.people as f64), None),
                ContractMetric::AgendaSlotShare => (slot_share, None),
                ContractMetric::InterviewPanelsWithLivedExperienceShare => (panel_share, None),
                ContractMetric::FiveValuesAverage => (overall, None),
                ContractMetric::TargetRung => (None, position),
            };
            let mut status = r.judge(value, level);
            let unit = r.metric.unit();
            let (value, shown) = if r.metric.counts_people() {
                let true_count = value.unwrap_or(0.0) as i64;
                let (shown_value, shown, suppressed) = people_counts.show(true_count);
                if suppressed {
                    // Only "fewer than 5" may be told: below a threshold of 5 or more is not
                    // met whatever the count; a lower threshold would tell the count.
                    status = match r.threshold {
                        Some(t) if t >= 5.0 => RequirementStatus::NotMet,
                        _ => RequirementStatus::Withheld,
                    };
                }
                (shown_value, shown)
            } else if let Some(level) = level {
                (None, level.as_str().replace('_', " "))
            } else {
                (value, display(value, unit))
            };
            let records = match r.metric {
                ContractMetric::ClaimsPaidOnTimeShare => links.claims("due"),
                ContractMetric::MedianDaysToPay => links.claims("paid"),
                ContractMetric::FeedbackClosedWithinShare => links.feedback(),
                ContractMetric::FiveValuesAverage => links.evaluations(),
                ContractMetric::DistinctParticipants
                | ContractMetric::HoursPaidOrRecognisedShare => Some(attendance_records.clone()),
                ContractMetric::InterviewPanelsWithLivedExperienceShare => {
                    Some(links.work(Some(OpportunityKind::InterviewPanel)))
                }
                _ => Some(work_records.clone()),
            };
            requirements.push(RequirementResult {
                requirement: r.clone(),
                value,
                level,
                display: shown,
                status,
                records,
            });
        }
    }

    let self_assessment = db::feedback::latest_self_assessment(conn, provider_id)?
        .map(|s| beside(s, position, &links));
    Ok(EvidenceReport {
        subject: ReportSubject {
            provider_id,
            provider_name: provider.name,
            contract_id: contract.as_ref().map(|c| c.id),
            contract_title: contract.as_ref().map(|c| c.title.clone()),
            commissioner_id: contract.as_ref().map(|c| c.commissioner_id),
        },
        period,
        computed_at,
        evidence_at: scope.at,
        small_numbers_suppressed: people_counts == PeopleCounts::Suppressed,
        figures,
        levels,
        kinds,
        claimed_beside_ladder: beside_ladder,
        overclaimed,
        position,
        self_assessment,
        requirements,
    })
}

/// The mean of the five averages (each value weighs the same), or none without evaluations.
fn five_value_average(v: &rows::FiveValues) -> Option<f64> {
    let each = [
        v.empathy,
        v.inclusion,
        v.honesty,
        v.working_together,
        v.personalisation,
    ];
    let present: Vec<f64> = each.iter().flatten().copied().collect();
    (present.len() == 5).then(|| present.iter().sum::<f64>() / 5.0)
}

fn beside(s: SelfAssessment, position: Option<LadderLevel>, links: &Links) -> SelfAssessmentBeside {
    SelfAssessmentBeside {
        self_assessment_id: s.id,
        period: s.period,
        submitted_at: s.submitted_at,
        current_level: s.current_level,
        evidenced_position: position,
        target_level: s.target_level,
        staff_knowledge: s.staff_knowledge,
        staff_confidence: s.staff_confidence,
        commitment: s.commitment,
        prepared_to_pay: s.prepared_to_pay,
        barriers: s.barriers,
        successes: s.successes,
        records: links.full.then(|| {
            format!(
                "/api/v1/organisations/{}/self-assessments/{}",
                s.organisation_id, s.id
            )
        }),
    }
}

/// The REST paths that list the records behind the figures, for what the reader may list.
struct Links {
    provider: OrganisationId,
    contract: Option<ContractId>,
    period: Period,
    /// The provider's staff or an admin: claims, feedback and evaluations are theirs to list.
    full: bool,
}

impl Links {
    fn work(&self, kind: Option<OpportunityKind>) -> String {
        let mut path = format!(
            "/api/v1/opportunities?organisation_id={}&active_from={}&active_to={}",
            self.provider, self.period.from, self.period.to
        );
        if let Some(c) = self.contract {
            path.push_str(&format!("&contract_id={c}"));
        }
        if let Some(k) = kind {
            path.push_str(&format!("&kind={k}"));
        }
        path
    }

    /// The attendance the people and hours are counted from.
    fn attendance(&self) -> String {
        let mut path = format!(
            "/api/v1/attendance?organisation_id={}&from={}&to={}",
            self.provider, self.period.from, self.period.to
        );
        if let Some(c) = self.contract {
            path.push_str(&format!("&contract_id={c}"));
        }
        path
    }

    fn claims(&self, which: &str) -> Option<String> {
        if !self.full {
            return None;
        }
        let p = self.provider;
        Some(match which {
            // `finance/paid` takes days inclusive.
            "paid" => format!(
                "/api/v1/finance/paid?organisation_id={p}&from={}&to={}",
                self.period.from,
                self.period.to - chrono::Duration::days(1)
            ),
            "overdue" => format!("/api/v1/finance/overdue?organisation_id={p}"),
            // Claims due in the period are among the organisation's claims.
            _ => "/api/v1/claims".to_owned(),
        })
    }

    fn feedback(&self) -> Option<String> {
        self.full
            .then(|| format!("/api/v1/feedback?organisation_id={}", self.provider))
    }

    fn evaluations(&self) -> Option<String> {
        self.full
            .then(|| format!("/api/v1/evaluations?organisation_id={}", self.provider))
    }
}
