//! The honest classification: what a piece of work *claims* to be beside what
//! the *evidence* shows.
//!
//! This module owns the ladder of co-production (`LadderLevel`), the mode a
//! service claims (`WorkingMode`), the kinds and statuses of an involvement
//! opportunity, the plain facts the database layer gathers about one piece of
//! work (`EvidenceFacts`), and the pure function `classify` that turns those
//! facts into an evidenced level with the five co-production criteria, each
//! met or not with a plain-English reason naming the figures.
//!
//! The guide's core complaint is that "sometimes, a service or those that fund
//! services think they are co-producing when they are involving people or
//! collaborating", so nothing here trusts the claim: the level comes from the
//! facts alone, and `check_claim` says how the claim compares.
//!
//! Decisions taken where DOMAIN.md is silent (each is also noted at the code):
//! - Only sessions that have started by `now` count as evidence; planned
//!   sessions prove nothing yet.
//! - "From the start" is met when at least one lived-experience or carer
//!   member joined at or before the first session's start (people leave and
//!   are replaced, as the guide itself says, so later joiners do not spoil it).
//! - With no session held there is no first or last session, so both
//!   `from_the_start` and `through_to_the_end` fail: such work cannot be
//!   evidenced as co-production.
//! - Only lived-experience or carer attendance counts; a session attended by
//!   staff alone counts as a session "with none of them".
//! - "Present" means attended or participated; the guide values both, and the
//!   reasons report participation separately.
//! - The ending criterion accepts `ended`, or `running` with a held session or
//!   feedback item in the 90 days up to `now` (exactly 90 days ago counts).
//!   Draft, advertised and cancelled work fails it; cancelled work is still
//!   given the lower level its facts support (people did take part).
//! - The kind of work caps only the *fallback* levels. If all five criteria
//!   hold, any kind is co-production: the guide says "Co-production must start
//!   at the very beginning of any idea of a service, a review, or a
//!   consultation process", so a consultation or review can be co-produced.
//! - Fallback: participative kinds where someone took part -> involvement;
//!   feedback recorded (or feedback-like kinds where someone took part) ->
//!   consultation; lived-experience members who neither took part nor gave
//!   feedback (they were only kept informed), or information-only kinds with
//!   any lived-experience presence -> informing; otherwise no engagement.
//! - Feedback items recorded against the work are taken as given by people
//!   with lived experience or caring experience (that is what the feedback
//!   loop collects); feedback dated after `now` is ignored.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// How far back a session or feedback item still shows "continuous feedback".
pub const CONTINUOUS_FEEDBACK_DAYS: i64 = 90;

domain_enum! {
    /// The guide's participation jigsaw and ladder, lowest rung first. The derived
    /// ordering follows declaration order, so `a < b` means "lower on the ladder".
    pub enum LadderLevel as "ladder level" {
        NoEngagement = "no_engagement",
        Informing = "informing",
        Consultation = "consultation",
        Involvement = "involvement",
        CoProduction = "co_production",
    }
}

domain_enum! {
    /// The way of working a service *claims*: a rung of the ladder, or one of the
    /// two modes the guide places beside it.
    pub enum WorkingMode as "working mode" {
        NoEngagement = "no_engagement",
        Informing = "informing",
        Consultation = "consultation",
        Involvement = "involvement",
        CoProduction = "co_production",
        /// Funders and services working together, at most with a service that
        /// represents lived experience; no participants.
        Collaboration = "collaboration",
        /// People who use the service run it and make the decisions alone.
        UserLed = "user_led",
    }
}

impl WorkingMode {
    /// The rung this mode claims, or `None` for the two modes beside the ladder.
    pub fn ladder_level(self) -> Option<LadderLevel> {
        match self {
            WorkingMode::NoEngagement => Some(LadderLevel::NoEngagement),
            WorkingMode::Informing => Some(LadderLevel::Informing),
            WorkingMode::Consultation => Some(LadderLevel::Consultation),
            WorkingMode::Involvement => Some(LadderLevel::Involvement),
            WorkingMode::CoProduction => Some(LadderLevel::CoProduction),
            WorkingMode::Collaboration | WorkingMode::UserLed => None,
        }
    }
}

impl From<LadderLevel> for WorkingMode {
    fn from(level: LadderLevel) -> Self {
        match level {
            LadderLevel::NoEngagement => WorkingMode::NoEngagement,
            LadderLevel::Informing => WorkingMode::Informing,
            LadderLevel::Consultation => WorkingMode::Consultation,
            LadderLevel::Involvement => WorkingMode::Involvement,
            LadderLevel::CoProduction => WorkingMode::CoProduction,
        }
    }
}

/// What the people taking part in a kind of work are doing, which bounds the
/// level the work can fall back to when it is not co-production.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KindNature {
    /// People are given information or skills (training they receive).
    InformationOnly,
    /// People give feedback or answer questions.
    FeedbackLike,
    /// People take part in the work itself.
    Participative,
}

domain_enum! {
    /// The sixteen kinds of involvement opportunity from the guide's list.
    pub enum OpportunityKind as "opportunity kind" {
        Consultation = "consultation",
        Meeting = "meeting",
        TenderScoring = "tender_scoring",
        Workshop = "workshop",
        BlogVlog = "blog_vlog",
        TrainingReceived = "training_received",
        TrainingCodelivered = "training_codelivered",
        InterviewPanel = "interview_panel",
        OneOffProject = "one_off_project",
        ServiceReview = "service_review",
        Feedback = "feedback",
        Survey = "survey",
        TellingYourStory = "telling_your_story",
        Board = "board",
        Evaluation = "evaluation",
        Innovation = "innovation",
    }
}

impl OpportunityKind {
    /// Feedback-like kinds are those the guide describes as people sharing
    /// their experience, views or answers about a service (consultations,
    /// reviews, feedback, surveys, evaluations): without co-production they
    /// reach consultation at most.
    ///
    /// Training *received* ("services ... offering training to support people
    /// ... to be involved") gives people information and skills, so it is
    /// information-only: informing at most. Blogging, telling your story and
    /// the rest are people doing the work themselves, so participative.
    pub fn nature(self) -> KindNature {
        match self {
            OpportunityKind::Consultation
            | OpportunityKind::ServiceReview
            | OpportunityKind::Feedback
            | OpportunityKind::Survey
            | OpportunityKind::Evaluation => KindNature::FeedbackLike,
            OpportunityKind::TrainingReceived => KindNature::InformationOnly,
            OpportunityKind::Meeting
            | OpportunityKind::TenderScoring
            | OpportunityKind::Workshop
            | OpportunityKind::BlogVlog
            | OpportunityKind::TrainingCodelivered
            | OpportunityKind::InterviewPanel
            | OpportunityKind::OneOffProject
            | OpportunityKind::TellingYourStory
            | OpportunityKind::Board
            | OpportunityKind::Innovation => KindNature::Participative,
        }
    }

    pub fn is_feedback_like(self) -> bool {
        self.nature() == KindNature::FeedbackLike
    }

    pub fn is_information_only(self) -> bool {
        self.nature() == KindNature::InformationOnly
    }

    /// The highest level this kind can fall back to when the work is not
    /// co-production.
    pub fn fallback_ceiling(self) -> LadderLevel {
        match self.nature() {
            KindNature::InformationOnly => LadderLevel::Informing,
            KindNature::FeedbackLike => LadderLevel::Consultation,
            KindNature::Participative => LadderLevel::Involvement,
        }
    }
}

domain_enum! {
    /// Lifecycle of an opportunity: draft -> advertised -> running -> ended, or
    /// cancelled.
    pub enum OpportunityStatus as "opportunity status" {
        Draft = "draft",
        Advertised = "advertised",
        Running = "running",
        Ended = "ended",
        Cancelled = "cancelled",
    }
}

/// One session of the work, reduced to what the classification needs.
///
/// SQL: one row per session with
/// `COUNT(DISTINCT a.participant_id) FILTER (WHERE lived experience or carer)`
/// and the same count further filtered on `a.participated`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SessionFacts {
    pub starts_at: DateTime<Utc>,
    /// Distinct lived-experience or carer participants present (attended or
    /// participated). Staff are never counted here.
    pub lived_experience_present: u32,
    /// Of those present, how many *participated* rather than only attended.
    /// Should not exceed `lived_experience_present`.
    pub lived_experience_participated: u32,
}

/// One member of the work's group.
///
/// SQL: one row per group member with the participant's roles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MemberFacts {
    pub joined_at: DateTime<Utc>,
    pub lived_experience: bool,
    pub carer: bool,
}

impl MemberFacts {
    /// Members without a lived-experience or carer role (for example staff
    /// listed in the group) do not count towards any criterion.
    pub fn counts(&self) -> bool {
        self.lived_experience || self.carer
    }
}

/// One recorded decision, with what is known of the session it was made at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DecisionFacts {
    /// Marked by the service as made jointly with lived-experience members.
    pub shared_with_lived_experience: bool,
    /// When its session started, to name the session in a reason.
    pub session_starts_at: DateTime<Utc>,
    /// A lived-experience or carer member attended that session. An equal say needs them
    /// there: a decision marked shared at a session none of them attended does not count.
    pub lived_experience_present: bool,
}

impl DecisionFacts {
    pub fn counts_as_shared(&self) -> bool {
        self.shared_with_lived_experience && self.lived_experience_present
    }
}

/// Everything `classify` needs about one piece of work; a few queries fill it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EvidenceFacts {
    pub kind: OpportunityKind,
    pub status: OpportunityStatus,
    /// The moment the evidence is judged at (usually the report's end).
    pub now: DateTime<Utc>,
    /// Sessions in any order; those starting after `now` are ignored.
    pub sessions: Vec<SessionFacts>,
    pub members: Vec<MemberFacts>,
    pub decisions: Vec<DecisionFacts>,
    /// A payment policy, or unpaid with another recognition, was offered.
    pub payment_or_recognition_offered: bool,
    /// The most recent feedback item recorded against the work, if any.
    pub latest_feedback_at: Option<DateTime<Utc>>,
}

/// What the classification needs of the sessions held by `now`, already counted; the
/// database can give it per piece of work (see `db::reports`), or [`EvidenceFacts::summary`]
/// from the sessions themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HeldSessions {
    pub held: usize,
    pub first_starts_at: Option<DateTime<Utc>>,
    pub last_starts_at: Option<DateTime<Utc>>,
    /// Lived-experience or carer participants present at the last session.
    pub last_present: u32,
    /// Held sessions with no lived-experience or carer participant.
    pub without: usize,
    /// Held sessions where one of them participated, not only attended.
    pub participated: usize,
}

/// The counted members: those with lived or caring experience who took a place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CountedMembers {
    pub counted: usize,
    /// Of them, those who joined at or before the first held session.
    pub early: usize,
}

/// The decisions made at held sessions.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DecisionCounts {
    pub total: usize,
    /// Marked shared, with lived-experience or carer members there.
    pub shared: usize,
    /// When the sessions were where a decision was marked shared but none of them attended,
    /// in order, each once.
    pub absent_at: Vec<DateTime<Utc>>,
}

/// Everything `classify` weighs, counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountedEvidence {
    pub kind: OpportunityKind,
    pub status: OpportunityStatus,
    pub now: DateTime<Utc>,
    pub sessions: HeldSessions,
    pub members: CountedMembers,
    pub decisions: DecisionCounts,
    pub payment_or_recognition_offered: bool,
    pub latest_feedback_at: Option<DateTime<Utc>>,
}

impl EvidenceFacts {
    /// The facts counted: planned sessions (after `now`) and decisions at them are left out.
    pub fn summary(&self) -> CountedEvidence {
        let mut held: Vec<&SessionFacts> = self
            .sessions
            .iter()
            .filter(|s| s.starts_at <= self.now)
            .collect();
        // Sorted so first and last are positional (stable, as the sessions came).
        held.sort_by_key(|s| s.starts_at);
        let first = held.first().map(|s| s.starts_at);
        let counted: Vec<&MemberFacts> = self.members.iter().filter(|m| m.counts()).collect();
        let mut absent_at: Vec<DateTime<Utc>> = self
            .decisions
            .iter()
            .filter(|d| d.shared_with_lived_experience && !d.lived_experience_present)
            .map(|d| d.session_starts_at)
            .collect();
        absent_at.sort();
        absent_at.dedup();
        CountedEvidence {
            kind: self.kind,
            status: self.status,
            now: self.now,
            sessions: HeldSessions {
                held: held.len(),
                first_starts_at: first,
                last_starts_at: held.last().map(|s| s.starts_at),
                last_present: held.last().map_or(0, |s| s.lived_experience_present),
                without: held
                    .iter()
                    .filter(|s| s.lived_experience_present == 0)
                    .count(),
                participated: held
                    .iter()
                    .filter(|s| s.lived_experience_participated > 0)
                    .count(),
            },
            members: CountedMembers {
                counted: counted.len(),
                early: first.map_or(0, |f| counted.iter().filter(|m| m.joined_at <= f).count()),
            },
            decisions: DecisionCounts {
                total: self.decisions.len(),
                shared: self
                    .decisions
                    .iter()
                    .filter(|d| d.counts_as_shared())
                    .count(),
                absent_at,
            },
            payment_or_recognition_offered: self.payment_or_recognition_offered,
            latest_feedback_at: self.latest_feedback_at,
        }
    }
}

domain_enum! {
    /// The five conditions that must all hold for co-production.
    pub enum Criterion as "criterion" {
        FromTheStart = "from_the_start",
        ThroughToTheEnd = "through_to_the_end",
        EqualSayInDecisions = "equal_say_in_decisions",
        PaymentOrRecognition = "payment_or_recognition",
        ClearEndingOrContinuousFeedback = "clear_ending_or_continuous_feedback",
    }
}

#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
    async_graphql::SimpleObject,
)]
#[graphql(serial)]
pub struct CriterionResult {
    pub criterion: Criterion,
    pub met: bool,
    /// Plain English, naming the figures behind the verdict.
    pub reason: String,
}

/// The verdict on one piece of work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Evidence {
    pub evidenced_level: LadderLevel,
    /// Plain English: why this level and not a higher one.
    pub level_reason: String,
    /// Always the five criteria, in `Criterion::ALL` order.
    pub criteria: Vec<CriterionResult>,
}

impl Evidence {
    /// The criteria that failed, for a report's "what is missing" column.
    pub fn failing(&self) -> impl Iterator<Item = &CriterionResult> {
        self.criteria.iter().filter(|c| !c.met)
    }
}

/// How a claimed mode compares with the evidenced level.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
    async_graphql::Enum,
)]
#[serde(rename_all = "snake_case")]
pub enum ClaimCheck {
    Matches,
    /// The claim is higher on the ladder than the evidence shows.
    Overclaimed,
    /// The evidence shows more than was claimed.
    Underclaimed,
    /// Collaboration or user-led: beside the ladder, so the report shows the
    /// claim and the evidence side by side without ranking them.
    BesideLadder,
}

pub fn check_claim(claimed: WorkingMode, evidenced: LadderLevel) -> ClaimCheck {
    match claimed.ladder_level() {
        None => ClaimCheck::BesideLadder,
        Some(level) if level == evidenced => ClaimCheck::Matches,
        Some(level) if level > evidenced => ClaimCheck::Overclaimed,
        Some(_) => ClaimCheck::Underclaimed,
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

/// Classifies one piece of work from its facts.
pub fn classify(facts: &EvidenceFacts) -> Evidence {
    classify_summary(&facts.summary())
}

/// Classifies one piece of work from its counted facts.
pub fn classify_summary(facts: &CountedEvidence) -> Evidence {
    let criteria = vec![
        from_the_start(facts),
        through_to_the_end(&facts.sessions),
        equal_say(&facts.decisions),
        payment_or_recognition(facts),
        clear_ending_or_continuous_feedback(facts),
    ];

    let (evidenced_level, level_reason) = if criteria.iter().all(|c| c.met) {
        (
            LadderLevel::CoProduction,
            "All five co-production criteria are met.".to_owned(),
        )
    } else {
        fallback_level(facts)
    };

    Evidence {
        evidenced_level,
        level_reason,
        criteria,
    }
}

fn from_the_start(facts: &CountedEvidence) -> CriterionResult {
    let m = facts.members;
    let (met, reason) = match facts.sessions.first_starts_at {
        None => (
            false,
            "No session has been held, so nobody can be shown to have joined from the start."
                .to_owned(),
        ),
        Some(_) if m.counted == 0 => (
            false,
            "No member of the group has lived experience or caring experience.".to_owned(),
        ),
        Some(first) => {
            let when = first.format("%Y-%m-%d %H:%M UTC");
            (
                m.early > 0,
                format!(
                    "{} of {} joined at or before the first session ({when}).",
                    m.early,
                    plural(
                        m.counted,
                        "lived-experience or carer member",
                        "lived-experience or carer members"
                    )
                ),
            )
        }
    };
    CriterionResult {
        criterion: Criterion::FromTheStart,
        met,
        reason,
    }
}

fn through_to_the_end(held: &HeldSessions) -> CriterionResult {
    let (met, reason) = if held.held == 0 {
        (
            false,
            "No session has been held, so nobody can be shown to have taken part to the end."
                .to_owned(),
        )
    } else {
        let at_last = held.last_present > 0;
        let last_part = if at_last {
            format!(
                "{} present at the last session",
                plural(
                    held.last_present as usize,
                    "lived-experience or carer participant was",
                    "lived-experience or carer participants were"
                )
            )
        } else {
            "no lived-experience or carer participant was present at the last session".to_owned()
        };
        let reason = format!(
            "{} of {} had no lived-experience or carer participant \
             (at most 1 is allowed); {last_part}; they participated, not only attended, \
             at {} of them.",
            held.without,
            plural(held.held, "session", "sessions"),
            held.participated,
        );
        (at_last && held.without <= 1, reason)
    };
    CriterionResult {
        criterion: Criterion::ThroughToTheEnd,
        met,
        reason,
    }
}

fn equal_say(d: &DecisionCounts) -> CriterionResult {
    let (met, reason) = if d.total == 0 {
        (
            false,
            "No decision has been recorded, so an equal say cannot be shown.".to_owned(),
        )
    } else {
        let mut reason = format!(
            "{} of {} were made jointly with lived-experience or carer members.",
            d.shared,
            plural(d.total, "recorded decision", "recorded decisions")
        );
        if !d.absent_at.is_empty() {
            let when: Vec<String> = d
                .absent_at
                .iter()
                .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                .collect();
            reason.push_str(&format!(
                " Decisions marked as shared at the {} of {} do not count: no lived-experience or carer member attended.",
                if when.len() == 1 { "session" } else { "sessions" },
                when.join(", ")
            ));
        }
        (d.shared == d.total, reason)
    };
    CriterionResult {
        criterion: Criterion::EqualSayInDecisions,
        met,
        reason,
    }
}

fn payment_or_recognition(facts: &CountedEvidence) -> CriterionResult {
    let met = facts.payment_or_recognition_offered;
    let reason = if met {
        "Payment or another recognition was offered."
    } else {
        "No payment or other recognition was offered."
    };
    CriterionResult {
        criterion: Criterion::PaymentOrRecognition,
        met,
        reason: reason.to_owned(),
    }
}

fn clear_ending_or_continuous_feedback(facts: &CountedEvidence) -> CriterionResult {
    let (met, reason) = match facts.status {
        OpportunityStatus::Ended => (
            true,
            "The work has a clear ending (status ended).".to_owned(),
        ),
        OpportunityStatus::Running => {
            let last_session = facts.sessions.last_starts_at;
            // Future-dated feedback is a data error, not recent activity.
            let last_feedback = facts.latest_feedback_at.filter(|t| *t <= facts.now);
            let latest = last_session.max(last_feedback);
            match latest {
                None => (
                    false,
                    "The work is still running but no session or feedback item is recorded."
                        .to_owned(),
                ),
                Some(at) => {
                    let days = (facts.now - at).num_days();
                    let recent = facts.now - at <= Duration::days(CONTINUOUS_FEEDBACK_DAYS);
                    (
                        recent,
                        format!(
                            "The work is still running; the latest session or feedback item was \
                             {days} days ago (it must be within {CONTINUOUS_FEEDBACK_DAYS})."
                        ),
                    )
                }
            }
        }
        other => (
            false,
            format!(
                "The work is {}, neither ended nor running with continuous feedback.",
                other.as_str()
            ),
        ),
    };
    CriterionResult {
        criterion: Criterion::ClearEndingOrContinuousFeedback,
        met,
        reason,
    }
}

/// The highest level below co-production whose facts hold, capped by kind.
fn fallback_level(facts: &CountedEvidence) -> (LadderLevel, String) {
    let held = &facts.sessions;
    let sessions_attended = held.held - held.without;
    let took_part = sessions_attended > 0;
    let gave_feedback = facts.latest_feedback_at.is_some_and(|t| t <= facts.now);
    let has_members = facts.members.counted > 0;
    let kind = facts.kind.as_str();

    // Taken in order from the highest rung down; the first that holds wins.
    let candidate = if took_part {
        LadderLevel::Involvement
    } else if gave_feedback {
        LadderLevel::Consultation
    } else if has_members {
        LadderLevel::Informing
    } else {
        LadderLevel::NoEngagement
    };
    let ceiling = facts.kind.fallback_ceiling();
    let level = candidate.min(ceiling);

    let what = match candidate {
        LadderLevel::Involvement => format!(
            "lived-experience or carer participants took part in {} of {}",
            sessions_attended,
            plural(held.held, "session", "sessions")
        ),
        LadderLevel::Consultation => "feedback was recorded but nobody with lived experience \
                                      attended a session"
            .to_owned(),
        LadderLevel::Informing => "lived-experience or carer members are in the group but none \
                                   attended a session or gave feedback"
            .to_owned(),
        _ => "nobody with lived experience or caring experience took part".to_owned(),
    };
    let capped = if level < candidate {
        format!(
            "; a {kind} is {} so it counts as {} at most",
            match facts.kind.nature() {
                KindNature::InformationOnly => "information-only",
                KindNature::FeedbackLike => "feedback-like",
                KindNature::Participative => "participative",
            },
            ceiling.as_str()
        )
    } else {
        String::new()
    };
    let reason = format!(
        "Not co-production; {what}{capped}, so the evidence shows {}.",
        level.as_str()
    );
    (level, reason)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        match Utc.with_ymd_and_hms(2024, 3, day, hour, 0, 0) {
            chrono::LocalResult::Single(t) => t,
            _ => panic!("bad test date"),
        }
    }

    fn session(day: u32, present: u32, participated: u32) -> SessionFacts {
        SessionFacts {
            starts_at: at(day, 10),
            lived_experience_present: present,
            lived_experience_participated: participated,
        }
    }

    fn decision(shared: bool, day: u32, present: bool) -> DecisionFacts {
        DecisionFacts {
            shared_with_lived_experience: shared,
            session_starts_at: at(day, 10),
            lived_experience_present: present,
        }
    }

    #[test]
    fn a_shared_decision_at_a_session_no_lived_experience_member_attended_is_no_equal_say() {
        let mut f = co_produced();
        f.decisions.push(decision(true, 9, false));
        let e = classify(&f);
        assert_eq!(only_failure(&e), Criterion::EqualSayInDecisions);
        let reason = &result(&e, Criterion::EqualSayInDecisions).reason;
        assert!(reason.contains("2 of 3"), "{reason}");
        assert!(reason.contains("2024-03-09 10:00 UTC"), "{reason}");
    }

    fn member(joined_at: DateTime<Utc>) -> MemberFacts {
        MemberFacts {
            joined_at,
            lived_experience: true,
            carer: false,
        }
    }

    /// A workshop meeting every criterion: the base each test breaks one way.
    fn co_produced() -> EvidenceFacts {
        EvidenceFacts {
            kind: OpportunityKind::Workshop,
            status: OpportunityStatus::Ended,
            now: at(30, 12),
            sessions: vec![session(1, 2, 2), session(8, 2, 1), session(15, 1, 1)],
            members: vec![member(at(1, 9)), member(at(1, 9))],
            decisions: vec![decision(true, 1, true), decision(true, 8, true)],
            payment_or_recognition_offered: true,
            latest_feedback_at: None,
        }
    }

    fn result(e: &Evidence, c: Criterion) -> &CriterionResult {
        match e.criteria.iter().find(|r| r.criterion == c) {
            Some(r) => r,
            None => panic!("criterion {c} missing"),
        }
    }

    fn only_failure(e: &Evidence) -> Criterion {
        let failing: Vec<Criterion> = e.failing().map(|r| r.criterion).collect();
        assert_eq!(failing.len(), 1, "expected one failure, got {failing:?}");
        failing[0]
    }

    #[test]
    fn work_meeting_all_five_criteria_is_co_production() {
        let e = classify(&co_produced());
        assert_eq!(e.evidenced_level, LadderLevel::CoProduction);
        assert_eq!(e.failing().count(), 0);
    }

    #[test]
    fn the_report_always_lists_the_five_criteria_in_order() {
        let e = classify(&co_produced());
        let codes: Vec<&str> = e.criteria.iter().map(|c| c.criterion.as_str()).collect();
        assert_eq!(
            codes,
            [
                "from_the_start",
                "through_to_the_end",
                "equal_say_in_decisions",
                "payment_or_recognition",
                "clear_ending_or_continuous_feedback"
            ]
        );
    }

    #[test]
    fn members_joining_only_after_the_first_session_fails_from_the_start_alone() {
        let mut f = co_produced();
        f.members = vec![member(at(2, 9))];
        let e = classify(&f);
        assert_eq!(only_failure(&e), Criterion::FromTheStart);
        assert_eq!(e.evidenced_level, LadderLevel::Involvement);
        assert!(result(&e, Criterion::FromTheStart)
            .reason
            .starts_with("0 of 1 lived-experience or carer member joined"));
    }

    #[test]
    fn joining_exactly_at_the_first_session_counts_as_from_the_start() {
        let mut f = co_produced();
        f.members = vec![member(at(1, 10))];
        assert!(result(&classify(&f), Criterion::FromTheStart).met);
    }

    #[test]
    fn joining_one_second_after_the_first_session_does_not_count_as_from_the_start() {
        let mut f = co_produced();
        f.members = vec![member(at(1, 10) + Duration::seconds(1))];
        assert!(!result(&classify(&f), Criterion::FromTheStart).met);
    }

    #[test]
    fn one_member_from_the_start_is_enough_even_if_others_join_later() {
        let mut f = co_produced();
        f.members = vec![member(at(1, 9)), member(at(9, 9)), member(at(10, 9))];
        let e = classify(&f);
        assert!(result(&e, Criterion::FromTheStart).met);
        assert!(result(&e, Criterion::FromTheStart)
            .reason
            .starts_with("1 of 3 lived-experience or carer members joined"));
    }

    #[test]
    fn staff_only_group_members_do_not_count_as_joining_from_the_start() {
        let mut f = co_produced();
        f.members = vec![MemberFacts {
            joined_at: at(1, 9),
            lived_experience: false,
            carer: false,
        }];
        let r = classify(&f);
        assert!(!result(&r, Criterion::FromTheStart).met);
    }

    #[test]
    fn carers_count_as_members_from_the_start() {
        let mut f = co_produced();
        f.members = vec![MemberFacts {
            joined_at: at(1, 9),
            lived_experience: false,
            carer: true,
        }];
        assert_eq!(classify(&f).evidenced_level, LadderLevel::CoProduction);
    }

    #[test]
    fn absence_from_the_last_session_fails_through_to_the_end_alone() {
        let mut f = co_produced();
        f.sessions[2].lived_experience_present = 0;
        f.sessions[2].lived_experience_participated = 0;
        let e = classify(&f);
        assert_eq!(only_failure(&e), Criterion::ThroughToTheEnd);
        assert!(result(&e, Criterion::ThroughToTheEnd)
            .reason
            .contains("no lived-experience or carer participant was present at the last"));
    }

    #[test]
    fn one_session_without_lived_experience_is_allowed() {
        let mut f = co_produced();
        f.sessions[1].lived_experience_present = 0;
        f.sessions[1].lived_experience_participated = 0;
        let e = classify(&f);
        assert_eq!(e.evidenced_level, LadderLevel::CoProduction);
        assert!(result(&e, Criterion::ThroughToTheEnd)
            .reason
            .starts_with("1 of 3 sessions had no lived-experience"));
    }

    #[test]
    fn two_sessions_without_lived_experience_fail_through_to_the_end() {
        let mut f = co_produced();
        f.sessions = vec![
            session(1, 2, 2),
            session(3, 0, 0),
            session(5, 0, 0),
            session(8, 2, 1),
            session(15, 1, 1),
        ];
        let e = classify(&f);
        assert_eq!(only_failure(&e), Criterion::ThroughToTheEnd);
        assert!(result(&e, Criterion::ThroughToTheEnd)
            .reason
            .starts_with("2 of 5 sessions had no lived-experience or carer participant"));
    }

    #[test]
    fn sessions_are_judged_in_time_order_whatever_order_they_arrive_in() {
        let mut f = co_produced();
        f.sessions.reverse();
        assert_eq!(classify(&f).evidenced_level, LadderLevel::CoProduction);
    }

    #[test]
    fn attending_without_participating_still_counts_as_present() {
        let mut f = co_produced();
        for s in &mut f.sessions {
            s.lived_experience_participated = 0;
        }
        let e = classify(&f);
        assert_eq!(e.evidenced_level, LadderLevel::CoProduction);
        assert!(result(&e, Criterion::ThroughToTheEnd)
            .reason
            .contains("at 0 of them"));
    }

    #[test]
    fn one_decision_made_without_them_fails_equal_say_alone() {
        let mut f = co_produced();
        f.decisions[1].shared_with_lived_experience = false;
        let e = classify(&f);
        assert_eq!(only_failure(&e), Criterion::EqualSayInDecisions);
        assert_eq!(
            result(&e, Criterion::EqualSayInDecisions).reason,
            "1 of 2 recorded decisions were made jointly with lived-experience or carer members."
        );
        assert_eq!(e.evidenced_level, LadderLevel::Involvement);
    }

    #[test]
    fn no_recorded_decisions_fails_equal_say_alone() {
        let mut f = co_produced();
        f.decisions.clear();
        let e = classify(&f);
        assert_eq!(only_failure(&e), Criterion::EqualSayInDecisions);
        assert!(result(&e, Criterion::EqualSayInDecisions)
            .reason
            .starts_with("No decision has been recorded"));
    }

    #[test]
    fn no_payment_or_recognition_fails_that_criterion_alone() {
        let mut f = co_produced();
        f.payment_or_recognition_offered = false;
        let e = classify(&f);
        assert_eq!(only_failure(&e), Criterion::PaymentOrRecognition);
        assert_eq!(e.evidenced_level, LadderLevel::Involvement);
    }

    #[test]
    fn running_work_with_no_activity_for_91_days_fails_the_ending_criterion_alone() {
        let mut f = co_produced();
        f.status = OpportunityStatus::Running;
        f.now = at(15, 10) + Duration::days(91);
        let e = classify(&f);
        assert_eq!(only_failure(&e), Criterion::ClearEndingOrContinuousFeedback);
        assert!(result(&e, Criterion::ClearEndingOrContinuousFeedback)
            .reason
            .contains("91 days ago"));
    }

    #[test]
    fn running_work_with_a_session_exactly_90_days_ago_has_continuous_feedback() {
        let mut f = co_produced();
        f.status = OpportunityStatus::Running;
        f.now = at(15, 10) + Duration::days(90);
        assert_eq!(classify(&f).evidenced_level, LadderLevel::CoProduction);
    }

    #[test]
    fn a_recent_feedback_item_keeps_running_work_continuous() {
        let mut f = co_produced();
        f.status = OpportunityStatus::Running;
        f.now = at(15, 10) + Duration::days(200);
        f.latest_feedback_at = Some(f.now - Duration::days(10));
        let e = classify(&f);
        assert_eq!(e.evidenced_level, LadderLevel::CoProduction);
        assert!(result(&e, Criterion::ClearEndingOrContinuousFeedback)
            .reason
            .contains("10 days ago"));
    }

    #[test]
    fn feedback_dated_in_the_future_is_not_recent_activity() {
        let mut f = co_produced();
        f.status = OpportunityStatus::Running;
        f.now = at(15, 10) + Duration::days(200);
        f.latest_feedback_at = Some(f.now + Duration::days(1));
        assert!(!result(&classify(&f), Criterion::ClearEndingOrContinuousFeedback).met);
    }

    #[test]
    fn cancelled_work_is_never_co_production_but_keeps_its_lower_level() {
        let mut f = co_produced();
        f.status = OpportunityStatus::Cancelled;
        let e = classify(&f);
        assert_eq!(only_failure(&e), Criterion::ClearEndingOrContinuousFeedback);
        assert_eq!(e.evidenced_level, LadderLevel::Involvement);
        assert!(result(&e, Criterion::ClearEndingOrContinuousFeedback)
            .reason
            .contains("cancelled"));
    }

    #[test]
    fn advertised_work_fails_the_ending_criterion() {
        let mut f = co_produced();
        f.status = OpportunityStatus::Advertised;
        assert!(!result(&classify(&f), Criterion::ClearEndingOrContinuousFeedback).met);
    }

    #[test]
    fn sessions_planned_after_now_are_not_evidence() {
        let mut f = co_produced();
        f.now = at(12, 0);
        f.status = OpportunityStatus::Running;
        // A future session with nobody booked must not count as "absent".
        f.sessions.push(session(20, 0, 0));
        f.sessions.push(session(27, 0, 0));
        let e = classify(&f);
        assert_eq!(e.evidenced_level, LadderLevel::CoProduction);
        assert!(result(&e, Criterion::ThroughToTheEnd)
            .reason
            .starts_with("0 of 2 sessions"));
    }

    #[test]
    fn work_with_no_sessions_and_no_feedback_but_members_is_informing() {
        let mut f = co_produced();
        f.sessions.clear();
        let e = classify(&f);
        assert!(!result(&e, Criterion::FromTheStart).met);
        assert!(!result(&e, Criterion::ThroughToTheEnd).met);
        assert_eq!(e.evidenced_level, LadderLevel::Informing);
    }

    #[test]
    fn a_survey_with_no_sessions_but_feedback_is_consultation() {
        let f = EvidenceFacts {
            kind: OpportunityKind::Survey,
            status: OpportunityStatus::Ended,
            now: at(30, 12),
            sessions: vec![],
            members: vec![],
            decisions: vec![],
            payment_or_recognition_offered: false,
            latest_feedback_at: Some(at(20, 12)),
        };
        let e = classify(&f);
        assert_eq!(e.evidenced_level, LadderLevel::Consultation);
        assert_eq!(e.failing().count(), 4);
    }

    #[test]
    fn feedback_like_kinds_with_people_attending_sessions_are_capped_at_consultation() {
        for kind in OpportunityKind::ALL.iter().filter(|k| k.is_feedback_like()) {
            let mut f = co_produced();
            f.kind = *kind;
            f.decisions.clear();
            let e = classify(&f);
            assert_eq!(e.evidenced_level, LadderLevel::Consultation, "{kind}");
            assert!(
                e.level_reason.contains("feedback-like"),
                "{}",
                e.level_reason
            );
        }
    }

    #[test]
    fn a_consultation_meeting_all_five_criteria_is_co_production() {
        // The guide: co-production "must start at the very beginning of any
        // idea of a service, a review, or a consultation process".
        let mut f = co_produced();
        f.kind = OpportunityKind::Consultation;
        assert_eq!(classify(&f).evidenced_level, LadderLevel::CoProduction);
    }

    #[test]
    fn training_received_with_people_attending_is_informing() {
        let mut f = co_produced();
        f.kind = OpportunityKind::TrainingReceived;
        f.payment_or_recognition_offered = false;
        assert_eq!(classify(&f).evidenced_level, LadderLevel::Informing);
    }

    #[test]
    fn sessions_attended_only_by_staff_with_no_members_is_no_engagement() {
        let f = EvidenceFacts {
            kind: OpportunityKind::Meeting,
            status: OpportunityStatus::Ended,
            now: at(30, 12),
            sessions: vec![session(1, 0, 0), session(8, 0, 0)],
            members: vec![],
            decisions: vec![decision(false, 1, false)],
            payment_or_recognition_offered: true,
            latest_feedback_at: None,
        };
        let e = classify(&f);
        assert_eq!(e.evidenced_level, LadderLevel::NoEngagement);
        assert!(result(&e, Criterion::ThroughToTheEnd)
            .reason
            .starts_with("2 of 2 sessions had no lived-experience"));
        assert!(e.level_reason.contains("nobody with lived experience"));
    }

    #[test]
    fn empty_draft_work_is_no_engagement() {
        let f = EvidenceFacts {
            kind: OpportunityKind::Workshop,
            status: OpportunityStatus::Draft,
            now: at(30, 12),
            sessions: vec![],
            members: vec![],
            decisions: vec![],
            payment_or_recognition_offered: false,
            latest_feedback_at: None,
        };
        let e = classify(&f);
        assert_eq!(e.evidenced_level, LadderLevel::NoEngagement);
        assert_eq!(e.failing().count(), 5);
    }

    #[test]
    fn claiming_co_production_for_involvement_is_an_overclaim() {
        let mut f = co_produced();
        f.members = vec![member(at(5, 9))];
        let e = classify(&f);
        assert_eq!(
            check_claim(WorkingMode::CoProduction, e.evidenced_level),
            ClaimCheck::Overclaimed
        );
    }

    #[test]
    fn claiming_involvement_for_evidenced_co_production_is_an_underclaim() {
        let e = classify(&co_produced());
        assert_eq!(
            check_claim(WorkingMode::Involvement, e.evidenced_level),
            ClaimCheck::Underclaimed
        );
        assert_eq!(
            check_claim(WorkingMode::CoProduction, e.evidenced_level),
            ClaimCheck::Matches
        );
    }

    #[test]
    fn collaboration_and_user_led_claims_sit_beside_the_ladder() {
        for claimed in [WorkingMode::Collaboration, WorkingMode::UserLed] {
            for level in LadderLevel::ALL {
                assert_eq!(check_claim(claimed, level), ClaimCheck::BesideLadder);
            }
        }
    }

    #[test]
    fn ladder_levels_are_ordered_lowest_first() {
        let mut sorted = LadderLevel::ALL;
        sorted.sort();
        assert_eq!(sorted, LadderLevel::ALL);
        assert!(LadderLevel::Involvement < LadderLevel::CoProduction);
    }

    #[test]
    fn every_enum_round_trips_through_its_text_form() {
        for v in LadderLevel::ALL {
            assert_eq!(v.as_str().parse::<LadderLevel>(), Ok(v));
            assert_eq!(WorkingMode::from(v).as_str(), v.as_str());
        }
        for v in WorkingMode::ALL {
            assert_eq!(v.as_str().parse::<WorkingMode>(), Ok(v));
        }
        for v in OpportunityKind::ALL {
            assert_eq!(v.as_str().parse::<OpportunityKind>(), Ok(v));
        }
        for v in OpportunityStatus::ALL {
            assert_eq!(v.as_str().parse::<OpportunityStatus>(), Ok(v));
        }
        for v in Criterion::ALL {
            assert_eq!(v.as_str().parse::<Criterion>(), Ok(v));
        }
    }

    #[test]
    fn unknown_text_is_refused_with_what_was_being_parsed_and_what_would_do() {
        let err = "co-production".parse::<LadderLevel>();
        assert_eq!(
            err.map_err(|e| e.to_string()),
            Err(
                "unknown ladder level \"co-production\": expected one of no_engagement, \
                 informing, consultation, involvement, co_production"
                    .to_owned()
            )
        );
    }

    #[test]
    fn the_sixteen_kinds_are_spelled_as_in_the_domain() {
        let names: Vec<&str> = OpportunityKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "consultation",
                "meeting",
                "tender_scoring",
                "workshop",
                "blog_vlog",
                "training_received",
                "training_codelivered",
                "interview_panel",
                "one_off_project",
                "service_review",
                "feedback",
                "survey",
                "telling_your_story",
                "board",
                "evaluation",
                "innovation"
            ]
        );
    }

    #[test]
    fn kinds_are_sorted_into_feedback_like_information_only_and_participative() {
        let feedback: Vec<&str> = OpportunityKind::ALL
            .iter()
            .filter(|k| k.is_feedback_like())
            .map(|k| k.as_str())
            .collect();
        assert_eq!(
            feedback,
            [
                "consultation",
                "service_review",
                "feedback",
                "survey",
                "evaluation"
            ]
        );
        let info: Vec<&str> = OpportunityKind::ALL
            .iter()
            .filter(|k| k.is_information_only())
            .map(|k| k.as_str())
            .collect();
        assert_eq!(info, ["training_received"]);
        assert_eq!(
            OpportunityKind::TrainingCodelivered.nature(),
            KindNature::Participative
        );
    }
}
