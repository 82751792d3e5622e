//! The feedback loop ("You said - We did"), evaluations on the Five Values and the guide's
//! ten-question self-assessment.
//!
//! A feedback item is what someone said, about an organisation and optionally a piece of work.
//! A response says what was done, or honestly that it was not acted on and why. The item is
//! *closed* only when the response has been communicated back to the people who gave it: a
//! response nobody heard about does not close the loop.

use async_graphql::SimpleObject;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::id::{
    EvaluationId, FeedbackItemId, OpportunityId, OrganisationId, ParticipantId, SelfAssessmentId,
};
use super::ladder::LadderLevel;
use super::time::Rfc3339;
use super::validation::{FieldError, Problems};
use super::written::WriteFields;
use super::EnumList;

/// Longest text of what was said, or of what was done.
pub const MAX_TEXT: usize = 4_000;
/// Most themes on one item, and the longest theme.
pub const MAX_THEMES: usize = 10;
pub const MAX_THEME: usize = 60;

domain_enum! {
    /// How feedback came in.
    pub enum FeedbackChannel as "feedback channel" {
        Survey = "survey",
        Meeting = "meeting",
        Consultation = "consultation",
        Review = "review",
        Complaint = "complaint",
        Other = "other",
    }
}

domain_enum! {
    /// What became of feedback.
    pub enum FeedbackOutcome as "feedback outcome" {
        /// Something was done ("We did").
        Acted = "acted",
        /// It was not acted on; the response says why.
        NotActed = "not_acted",
    }
}

domain_enum! {
    /// Where an item is in the loop.
    pub enum FeedbackStatus as "feedback status" {
        /// No response yet.
        Open = "open",
        /// A response is written but not yet communicated back.
        Responded = "responded",
        /// The response was communicated back: the loop is closed.
        Closed = "closed",
    }
}

/// Something someone said, and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, SimpleObject, WriteFields)]
#[graphql(serial)]
pub struct FeedbackItem {
    pub id: FeedbackItemId,
    pub organisation_id: OrganisationId,
    pub opportunity_id: Option<OpportunityId>,
    /// Who said it; `null` when it was given anonymously.
    pub participant_id: Option<ParticipantId>,
    /// What was said ("You said").
    pub said: String,
    pub channel: FeedbackChannel,
    pub themes: Vec<String>,
    #[serde(serialize_with = "super::time::rfc3339")]
    #[graphql(skip, derived(name = "received_at", into = "Rfc3339", owned))]
    pub received_at: DateTime<Utc>,
    pub status: FeedbackStatus,
    pub outcome: Option<FeedbackOutcome>,
    /// What was done ("We did"), or why it was not.
    pub we_did: Option<String>,
    pub responded_by: Option<String>,
    #[serde(serialize_with = "super::time::rfc3339_opt")]
    #[graphql(
        skip,
        derived(
            name = "responded_at",
            into = "Option<Rfc3339>",
            owned,
            with = "Rfc3339::some"
        )
    )]
    pub responded_at: Option<DateTime<Utc>>,
    /// How the response reached the people who gave the feedback.
    pub communicated_how: Option<String>,
    pub closed_by: Option<String>,
    #[serde(serialize_with = "super::time::rfc3339_opt")]
    #[graphql(
        skip,
        derived(
            name = "closed_at",
            into = "Option<Rfc3339>",
            owned,
            with = "Rfc3339::some"
        )
    )]
    pub closed_at: Option<DateTime<Utc>>,
    /// Whole days from receipt to closing, once closed.
    pub days_to_close: Option<i64>,
    pub recorded_by: String,
    #[serde(serialize_with = "super::time::rfc3339")]
    #[graphql(skip, derived(name = "created_at", into = "Rfc3339", owned))]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "super::time::rfc3339")]
    #[graphql(skip, derived(name = "updated_at", into = "Rfc3339", owned))]
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

impl FeedbackItem {
    /// The status follows from what is recorded, so it cannot disagree with it.
    pub fn status_of(
        outcome: Option<FeedbackOutcome>,
        closed_at: Option<DateTime<Utc>>,
    ) -> FeedbackStatus {
        match (outcome, closed_at) {
            (_, Some(_)) => FeedbackStatus::Closed,
            (Some(_), None) => FeedbackStatus::Responded,
            (None, None) => FeedbackStatus::Open,
        }
    }

    pub fn days_between(from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
        (to - from).num_days().max(0)
    }

    /// Writes (or rewrites) the response. Once the loop is closed the response stands as it
    /// was communicated: the reason is returned instead.
    pub fn respond(
        &mut self,
        outcome: FeedbackOutcome,
        we_did: String,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<(), &'static str> {
        if self.closed_at.is_some() {
            return Err(
                "the item is closed: its response was communicated and can no longer change",
            );
        }
        self.outcome = Some(outcome);
        self.we_did = Some(we_did);
        self.responded_by = Some(by.to_owned());
        self.responded_at = Some(at);
        self.touch(at);
        Ok(())
    }

    /// Closes the loop: the response reached the people who gave the feedback. Only a
    /// response can be communicated, and only once.
    pub fn close(
        &mut self,
        communicated_how: String,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<(), &'static str> {
        if self.closed_at.is_some() {
            return Err("the item is already closed");
        }
        if self.outcome.is_none() {
            return Err("respond first: an item closes when its response has been communicated");
        }
        self.communicated_how = Some(communicated_how);
        self.closed_by = Some(by.to_owned());
        self.closed_at = Some(at);
        self.touch(at);
        Ok(())
    }

    /// After a change: the derived fields follow, and the version moves on.
    fn touch(&mut self, at: DateTime<Utc>) {
        self.status = Self::status_of(self.outcome, self.closed_at);
        self.days_to_close = self
            .closed_at
            .map(|c| Self::days_between(self.received_at, c));
        self.updated_at = at;
        self.version += 1;
    }
}

/// Which feedback items a list shows, besides what the caller may see.
#[derive(Debug, Clone, Copy, Default, async_graphql::InputObject)]
pub struct FeedbackFilter {
    pub status: Option<FeedbackStatus>,
    pub organisation_id: Option<OrganisationId>,
    pub opportunity_id: Option<OpportunityId>,
}

/// Which evaluations a list shows, besides what the caller may see.
#[derive(Debug, Clone, Copy, Default, async_graphql::InputObject)]
pub struct EvaluationFilter {
    pub organisation_id: Option<OrganisationId>,
    pub opportunity_id: Option<OpportunityId>,
}

/// Feedback as sent. Staff record what someone said (naming the person, or no one for
/// anonymous feedback); a participant records their own, or gives it anonymously.
#[derive(Debug, Clone, Deserialize, ToSchema, async_graphql::InputObject)]
#[serde(deny_unknown_fields)]
pub struct FeedbackInput {
    /// The organisation it is about; taken from the work when only the work is named.
    #[serde(default)]
    pub organisation_id: Option<OrganisationId>,
    #[serde(default)]
    pub opportunity_id: Option<OpportunityId>,
    /// Staff: the person who said it (registered by the organisation), if not anonymous.
    #[serde(default)]
    pub participant_id: Option<ParticipantId>,
    /// A participant giving feedback without their name on it.
    #[serde(default)]
    #[graphql(default)]
    pub anonymous: bool,
    #[schema(
        min_length = 1,
        max_length = 4000,
        pattern = r"^[^\x00]*[^\x00\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00]*$"
    )]
    pub said: String,
    pub channel: FeedbackChannel,
    #[serde(default)]
    #[graphql(default)]
    #[schema(max_items = 10, value_type = Vec<String>)]
    pub themes: Vec<String>,
    /// When it was said; now when absent. Never in the future.
    #[serde(default)]
    pub received_at: Option<DateTime<Utc>>,
}

/// A feedback input whose texts are trimmed and checked.
#[derive(Debug, Clone)]
pub struct NewFeedback {
    pub organisation_id: Option<OrganisationId>,
    pub opportunity_id: Option<OpportunityId>,
    pub participant_id: Option<ParticipantId>,
    pub anonymous: bool,
    pub said: String,
    pub channel: FeedbackChannel,
    pub themes: Vec<String>,
    pub received_at: Option<DateTime<Utc>>,
}

impl FeedbackInput {
    pub fn parse(&self, now: DateTime<Utc>) -> Result<NewFeedback, Vec<FieldError>> {
        let mut p = Problems::default();
        let said = p.required_text("said", &self.said, MAX_TEXT);
        if self.themes.len() > MAX_THEMES {
            p.add("themes", format!("at most {MAX_THEMES} themes"));
        }
        let mut themes: Vec<String> = Vec::new();
        for (i, t) in self.themes.iter().enumerate() {
            if let Some(t) = p.required_text(&format!("themes[{i}]"), t, MAX_THEME) {
                let t = t.to_lowercase();
                if !themes.contains(&t) {
                    themes.push(t);
                }
            }
        }
        if self.received_at.is_some_and(|r| r > now) {
            p.add("received_at", "must not be in the future");
        }
        if self.anonymous && self.participant_id.is_some() {
            p.add("participant_id", "anonymous feedback names no one");
        }
        if self.organisation_id.is_none() && self.opportunity_id.is_none() {
            p.add(
                "organisation_id",
                "name the organisation, or the piece of work, the feedback is about",
            );
        }
        let said = p.finish_parsed(said)?;
        Ok(NewFeedback {
            organisation_id: self.organisation_id,
            opportunity_id: self.opportunity_id,
            participant_id: self.participant_id,
            anonymous: self.anonymous,
            said,
            channel: self.channel,
            themes,
            received_at: self.received_at.map(super::truncate_to_micros),
        })
    }
}

/// A response: what was done, or why not. It can be rewritten until the item is closed.
#[derive(Debug, Clone, Deserialize, ToSchema, async_graphql::InputObject)]
#[serde(deny_unknown_fields)]
pub struct ResponseInput {
    pub outcome: FeedbackOutcome,
    /// What was done, or honestly why it was not.
    #[schema(
        min_length = 1,
        max_length = 4000,
        pattern = r"^[^\x00]*[^\x00\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00]*$"
    )]
    pub we_did: String,
}

impl ResponseInput {
    pub fn parse(&self) -> Result<(FeedbackOutcome, String), Vec<FieldError>> {
        let mut p = Problems::default();
        let we_did = p.required_text("we_did", &self.we_did, MAX_TEXT);
        Ok((self.outcome, p.finish_parsed(we_did)?))
    }
}

/// Closing the loop: how the response reached the people who gave the feedback.
#[derive(Debug, Clone, Deserialize, ToSchema, async_graphql::InputObject)]
#[serde(deny_unknown_fields)]
pub struct CloseInput {
    #[schema(
        min_length = 1,
        max_length = 500,
        pattern = r"^[^\x00]*[^\x00\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00]*$"
    )]
    pub communicated_how: String,
}

impl CloseInput {
    pub fn parse(&self) -> Result<String, Vec<FieldError>> {
        let mut p = Problems::default();
        let how = p.required_text("communicated_how", &self.communicated_how, 500);
        p.finish_parsed(how)
    }
}

/// A period, `from` inclusive and `to` exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema, async_graphql::SimpleObject)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    pub fn parse(from: NaiveDate, to: NaiveDate) -> Result<Self, Vec<FieldError>> {
        if to <= from {
            return Err(vec![FieldError::new("to", "must be after from")]);
        }
        if (to - from).num_days() > 3_660 {
            return Err(vec![FieldError::new("to", "a period is at most ten years")]);
        }
        Ok(Self { from, to })
    }

    /// The period asked for; without `to`, up to and including `today`; without `from`, the
    /// twelve months before `to`.
    pub fn or_last_year(
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        today: NaiveDate,
    ) -> Result<Self, Vec<FieldError>> {
        let to = to.unwrap_or(today + chrono::Duration::days(1));
        let from = match from {
            Some(from) => from,
            None => to
                .checked_sub_months(chrono::Months::new(12))
                .ok_or_else(|| vec![FieldError::new("to", "is too early")])?,
        };
        Self::parse(from, to)
    }

    /// The period's bounds as times: from the start of `from` to the start of `to`.
    pub fn bounds(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        (
            self.from.and_time(chrono::NaiveTime::MIN).and_utc(),
            self.to.and_time(chrono::NaiveTime::MIN).and_utc(),
        )
    }

    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        let day = t.date_naive();
        day >= self.from && day < self.to
    }
}

/// How well an organisation closes the loop, for feedback received in a period.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema, async_graphql::SimpleObject)]
pub struct FeedbackStats {
    pub organisation_id: OrganisationId,
    pub period: Period,
    /// Items received in the period.
    pub received: i64,
    /// Of those, closed (by now).
    pub closed: i64,
    /// Closed / received; `null` when nothing was received (no data, not 0 %).
    pub closure_rate: Option<f64>,
    /// Median whole days from receipt to closing, of those closed; `null` when none are.
    pub median_days_to_close: Option<f64>,
    /// The window asked for (`within_days`) and how many were closed within it.
    pub within_days: Option<i32>,
    pub closed_within: Option<i64>,
    /// Share closed within the window; `null` without a window or without data.
    pub closed_within_rate: Option<f64>,
    /// Items of the organisation still open now (whenever received), and the oldest one's age.
    pub open_now: i64,
    pub oldest_open_days: Option<i64>,
}

/// The figures of [`FeedbackStats`] from the received and closed times of the period's items.
pub fn closure_figures(
    items: &[(DateTime<Utc>, Option<DateTime<Utc>>)],
    within_days: Option<i32>,
) -> (i64, i64, Option<f64>, Option<f64>, Option<i64>, Option<f64>) {
    let received = items.len() as i64;
    let mut days: Vec<i64> = items
        .iter()
        .filter_map(|(r, c)| c.map(|c| FeedbackItem::days_between(*r, c)))
        .collect();
    let closed = days.len() as i64;
    let rate = ratio(closed, received);
    days.sort_unstable();
    let median = median(&days);
    let within = within_days.map(|w| days.iter().filter(|d| **d <= i64::from(w)).count() as i64);
    let within_rate = within.and_then(|w| ratio(w, received));
    (received, closed, rate, median, within, within_rate)
}

/// `part / whole`, or `None` when there is no whole.
pub fn ratio(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// The median of sorted values; `None` when there are none.
pub fn median(sorted: &[i64]) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    Some(if n % 2 == 1 {
        sorted[n / 2] as f64
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) as f64 / 2.0
    })
}

/// One evaluation of a service on the Five Values, each scored 1 to 5.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, SimpleObject, WriteFields)]
#[graphql(serial)]
pub struct Evaluation {
    pub id: EvaluationId,
    /// The service evaluated.
    pub organisation_id: OrganisationId,
    pub opportunity_id: Option<OpportunityId>,
    /// Who gave it; `null` when anonymous.
    pub participant_id: Option<ParticipantId>,
    pub empathy: i32,
    pub inclusion: i32,
    pub honesty: i32,
    pub working_together: i32,
    pub personalisation: i32,
    pub comment: Option<String>,
    #[serde(serialize_with = "super::time::rfc3339")]
    #[graphql(skip, derived(name = "evaluated_at", into = "Rfc3339", owned))]
    pub evaluated_at: DateTime<Utc>,
    pub recorded_by: String,
    #[serde(serialize_with = "super::time::rfc3339")]
    #[graphql(skip, derived(name = "created_at", into = "Rfc3339", owned))]
    pub created_at: DateTime<Utc>,
}

/// An evaluation as sent: every value scored 1 (poor) to 5 (excellent).
#[derive(Debug, Clone, Deserialize, ToSchema, async_graphql::InputObject)]
#[serde(deny_unknown_fields)]
pub struct EvaluationInput {
    #[serde(default)]
    pub organisation_id: Option<OrganisationId>,
    #[serde(default)]
    pub opportunity_id: Option<OpportunityId>,
    /// Staff: the person who gave it, if not anonymous.
    #[serde(default)]
    pub participant_id: Option<ParticipantId>,
    #[serde(default)]
    #[graphql(default)]
    pub anonymous: bool,
    #[schema(minimum = 1, maximum = 5)]
    #[serde(deserialize_with = "super::validation::whole::i32")]
    pub empathy: i32,
    #[schema(minimum = 1, maximum = 5)]
    #[serde(deserialize_with = "super::validation::whole::i32")]
    pub inclusion: i32,
    #[schema(minimum = 1, maximum = 5)]
    #[serde(deserialize_with = "super::validation::whole::i32")]
    pub honesty: i32,
    #[schema(minimum = 1, maximum = 5)]
    #[serde(deserialize_with = "super::validation::whole::i32")]
    pub working_together: i32,
    #[schema(minimum = 1, maximum = 5)]
    #[serde(deserialize_with = "super::validation::whole::i32")]
    pub personalisation: i32,
    #[serde(default)]
    #[schema(max_length = 4000, pattern = r"^[^\x00]*$")]
    pub comment: Option<String>,
    /// When it was given; now when absent. Never in the future.
    #[serde(default)]
    pub evaluated_at: Option<DateTime<Utc>>,
}

/// Checked scores: `[empathy, inclusion, honesty, working_together, personalisation]`.
#[derive(Debug, Clone)]
pub struct NewEvaluation {
    pub organisation_id: Option<OrganisationId>,
    pub opportunity_id: Option<OpportunityId>,
    pub participant_id: Option<ParticipantId>,
    pub anonymous: bool,
    pub scores: [i32; 5],
    pub comment: Option<String>,
    pub evaluated_at: Option<DateTime<Utc>>,
}

impl EvaluationInput {
    pub fn parse(&self, now: DateTime<Utc>) -> Result<NewEvaluation, Vec<FieldError>> {
        let mut p = Problems::default();
        let scores = [
            ("empathy", self.empathy),
            ("inclusion", self.inclusion),
            ("honesty", self.honesty),
            ("working_together", self.working_together),
            ("personalisation", self.personalisation),
        ];
        for (field, score) in scores {
            if !(1..=5).contains(&score) {
                p.add(field, "must be from 1 to 5");
            }
        }
        let comment = p.optional_text("comment", self.comment.as_deref(), MAX_TEXT);
        if self.evaluated_at.is_some_and(|r| r > now) {
            p.add("evaluated_at", "must not be in the future");
        }
        if self.anonymous && self.participant_id.is_some() {
            p.add("participant_id", "an anonymous evaluation names no one");
        }
        if self.organisation_id.is_none() && self.opportunity_id.is_none() {
            p.add(
                "organisation_id",
                "name the service, or the piece of work, evaluated",
            );
        }
        p.finish(NewEvaluation {
            organisation_id: self.organisation_id,
            opportunity_id: self.opportunity_id,
            participant_id: self.participant_id,
            anonymous: self.anonymous,
            scores: scores.map(|(_, s)| s),
            comment,
            evaluated_at: self.evaluated_at.map(super::truncate_to_micros),
        })
    }
}

/// Averages per value over the evaluations of a period; each `null` when there were none.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema, async_graphql::SimpleObject)]
pub struct EvaluationAverages {
    pub organisation_id: OrganisationId,
    pub period: Period,
    pub count: i64,
    pub empathy: Option<f64>,
    pub inclusion: Option<f64>,
    pub honesty: Option<f64>,
    pub working_together: Option<f64>,
    pub personalisation: Option<f64>,
    /// The mean of the five averages.
    pub overall: Option<f64>,
}

/// The five averages and their mean, from each evaluation's five scores.
pub fn averages(scores: &[[i32; 5]]) -> ([Option<f64>; 5], Option<f64>) {
    if scores.is_empty() {
        return ([None; 5], None);
    }
    let n = scores.len() as f64;
    let mut sums = [0i64; 5];
    for s in scores {
        for (sum, v) in sums.iter_mut().zip(s) {
            *sum += i64::from(*v);
        }
    }
    let each = sums.map(|s| Some(s as f64 / n));
    let overall = sums.iter().sum::<i64>() as f64 / (n * 5.0);
    (each, Some(overall))
}

domain_enum! {
    /// The guide's barriers to involvement and co-production.
    pub enum CoProductionBarrier as "co-production barrier" {
        /// Sometimes there is no time for co-production.
        NoTime = "no_time",
        /// It is hard to keep up with how quickly the work is moving.
        WorkMovesTooFast = "work_moves_too_fast",
        /// No one thought about involving people with lived experience, or carers.
        NobodyThoughtToInvolve = "nobody_thought_to_involve",
        /// People don't know what co-production is, how it helps, or how important it is.
        UnawareOfCoProduction = "unaware_of_co_production",
        /// All the meetings are during the day.
        DaytimeMeetingsOnly = "daytime_meetings_only",
        /// People may not know how to find out about being involved.
        PeopleCannotFindOpportunities = "people_cannot_find_opportunities",
        /// Not knowing the best place to advertise opportunities.
        UnsureWhereToAdvertise = "unsure_where_to_advertise",
        /// Not knowing how to offer inclusive opportunities.
        UnsureHowToBeInclusive = "unsure_how_to_be_inclusive",
        /// No skilled or trained facilitator.
        NoSkilledFacilitator = "no_skilled_facilitator",
        /// Expectations differ, or people do not know what is expected of them.
        UnclearExpectations = "unclear_expectations",
        /// Expecting people to do something they cannot do.
        UnrealisticExpectations = "unrealistic_expectations",
        /// A formal application or a specific skill set excludes people.
        FormalApplicationOrSkills = "formal_application_or_skills",
        /// The project is too much, or expects too much time.
        TooMuchAsked = "too_much_asked",
        /// Not knowing how to support people to be involved.
        UnsureHowToSupportPeople = "unsure_how_to_support_people",
        /// Co-production is not promoted, or not done well.
        NotPromotedOrDoneWell = "not_promoted_or_done_well",
        /// Finding people who want to be involved is difficult.
        HardToFindPeople = "hard_to_find_people",
        /// No money put aside to pay for involvement.
        NoMoneySetAside = "no_money_set_aside",
        /// An earlier bad experience put people off.
        BadPastExperience = "bad_past_experience",
        /// People leave part way and the group starts again.
        PeopleLeaveMidway = "people_leave_midway",
        /// The whole team's contact details were not shared.
        ContactDetailsNotShared = "contact_details_not_shared",
        /// Worries about confidentiality.
        ConfidentialityWorries = "confidentiality_worries",
        /// Company policies and procedures slow the work.
        PoliciesSlowTheWork = "policies_slow_the_work",
        /// No car, or no IT, makes getting to meetings hard.
        TravelOrTechnology = "travel_or_technology",
        /// Language, initials and words only the service understands.
        Jargon = "jargon",
    }
}

domain_enum! {
    /// Whether the organisation is prepared to pay for co-production.
    pub enum PreparedToPay as "prepared to pay" {
        Yes = "yes",
        /// For some work, or not yet in full.
        Partly = "partly",
        No = "no",
    }
}

/// An organisation's answers to the guide's ten questions, for a period. Earlier answers are
/// kept, so change over time shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, SimpleObject, WriteFields)]
#[graphql(serial)]
pub struct SelfAssessment {
    pub id: SelfAssessmentId,
    pub organisation_id: OrganisationId,
    pub period: Period,
    /// Where do we currently sit on the ladder?
    pub current_level: LadderLevel,
    /// Staff knowledge of co-production, 1 (none) to 5 (expert).
    pub staff_knowledge: i32,
    /// Staff confidence in using co-production, 1 to 5.
    pub staff_confidence: i32,
    pub staff_notes: Option<String>,
    /// How many co-production or involvement opportunities were completed in the last year?
    pub opportunities_completed: i32,
    /// Successes to learn from or celebrate.
    pub successes: Option<String>,
    /// Barriers to using co-production, from the guide's list.
    #[graphql(
        skip,
        derived(name = "barriers", into = "EnumList<CoProductionBarrier>", owned)
    )]
    pub barriers: Vec<CoProductionBarrier>,
    /// Other barriers, and any analysis for solutions.
    pub barriers_other: Option<String>,
    /// On a scale of 1-10, how committed have we been to embedding co-production?
    pub commitment: i32,
    /// Are we prepared to pay for co-production?
    pub prepared_to_pay: PreparedToPay,
    /// Who do we know that we can work with to facilitate co-production?
    pub facilitators: Option<String>,
    /// How can we address cultural attitudes towards co-production?
    pub cultural_attitudes: Option<String>,
    /// Where do we want to sit on the ladder?
    pub target_level: LadderLevel,
    pub submitted_by: String,
    #[serde(serialize_with = "super::time::rfc3339")]
    #[graphql(skip, derived(name = "submitted_at", into = "Rfc3339", owned))]
    pub submitted_at: DateTime<Utc>,
}

/// The ten answers as sent.
#[derive(Debug, Clone, Deserialize, ToSchema, async_graphql::InputObject)]
#[serde(deny_unknown_fields)]
pub struct SelfAssessmentInput {
    pub period_from: NaiveDate,
    pub period_to: NaiveDate,
    pub current_level: LadderLevel,
    #[schema(minimum = 1, maximum = 5)]
    #[serde(deserialize_with = "super::validation::whole::i32")]
    pub staff_knowledge: i32,
    #[schema(minimum = 1, maximum = 5)]
    #[serde(deserialize_with = "super::validation::whole::i32")]
    pub staff_confidence: i32,
    #[serde(default)]
    #[schema(max_length = 4000, pattern = r"^[^\x00]*$")]
    pub staff_notes: Option<String>,
    #[schema(minimum = 0, maximum = 100000)]
    #[serde(deserialize_with = "super::validation::whole::i32")]
    pub opportunities_completed: i32,
    #[serde(default)]
    #[schema(max_length = 4000, pattern = r"^[^\x00]*$")]
    pub successes: Option<String>,
    #[serde(default)]
    #[graphql(default)]
    #[schema(max_items = 24)]
    pub barriers: Vec<CoProductionBarrier>,
    #[serde(default)]
    #[schema(max_length = 4000, pattern = r"^[^\x00]*$")]
    pub barriers_other: Option<String>,
    #[schema(minimum = 1, maximum = 10)]
    #[serde(deserialize_with = "super::validation::whole::i32")]
    pub commitment: i32,
    pub prepared_to_pay: PreparedToPay,
    #[serde(default)]
    #[schema(max_length = 4000, pattern = r"^[^\x00]*$")]
    pub facilitators: Option<String>,
    #[serde(default)]
    #[schema(max_length = 4000, pattern = r"^[^\x00]*$")]
    pub cultural_attitudes: Option<String>,
    pub target_level: LadderLevel,
}

/// Checked answers, ready to be stored for an organisation.
#[derive(Debug, Clone)]
pub struct NewSelfAssessment {
    pub period: Period,
    pub current_level: LadderLevel,
    pub staff_knowledge: i32,
    pub staff_confidence: i32,
    pub staff_notes: Option<String>,
    pub opportunities_completed: i32,
    pub successes: Option<String>,
    pub barriers: Vec<CoProductionBarrier>,
    pub barriers_other: Option<String>,
    pub commitment: i32,
    pub prepared_to_pay: PreparedToPay,
    pub facilitators: Option<String>,
    pub cultural_attitudes: Option<String>,
    pub target_level: LadderLevel,
}

impl SelfAssessmentInput {
    pub fn parse(&self) -> Result<NewSelfAssessment, Vec<FieldError>> {
        let mut p = Problems::default();
        let period = match Period::parse(self.period_from, self.period_to) {
            Ok(period) => Some(period),
            Err(errors) => {
                for e in errors {
                    p.add("period_to", e.message);
                }
                None
            }
        };
        for (field, value) in [
            ("staff_knowledge", self.staff_knowledge),
            ("staff_confidence", self.staff_confidence),
        ] {
            if !(1..=5).contains(&value) {
                p.add(field, "must be from 1 to 5");
            }
        }
        if !(1..=10).contains(&self.commitment) {
            p.add("commitment", "must be from 1 to 10");
        }
        if !(0..=100_000).contains(&self.opportunities_completed) {
            p.add("opportunities_completed", "must be from 0 to 100000");
        }
        let mut barriers = self.barriers.clone();
        barriers.sort();
        barriers.dedup();
        let staff_notes = p.optional_text("staff_notes", self.staff_notes.as_deref(), MAX_TEXT);
        let successes = p.optional_text("successes", self.successes.as_deref(), MAX_TEXT);
        let barriers_other =
            p.optional_text("barriers_other", self.barriers_other.as_deref(), MAX_TEXT);
        let facilitators = p.optional_text("facilitators", self.facilitators.as_deref(), MAX_TEXT);
        let cultural_attitudes = p.optional_text(
            "cultural_attitudes",
            self.cultural_attitudes.as_deref(),
            MAX_TEXT,
        );
        let period = p.finish_parsed(period)?;
        Ok(NewSelfAssessment {
            period,
            current_level: self.current_level,
            staff_knowledge: self.staff_knowledge,
            staff_confidence: self.staff_confidence,
            staff_notes,
            opportunities_completed: self.opportunities_completed,
            successes,
            barriers,
            barriers_other,
            commitment: self.commitment,
            prepared_to_pay: self.prepared_to_pay,
            facilitators,
            cultural_attitudes,
            target_level: self.target_level,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn a_response_nobody_heard_about_does_not_close_the_loop() {
        let now = Utc::now();
        assert_eq!(FeedbackItem::status_of(None, None), FeedbackStatus::Open);
        assert_eq!(
            FeedbackItem::status_of(Some(FeedbackOutcome::Acted), None),
            FeedbackStatus::Responded
        );
        assert_eq!(
            FeedbackItem::status_of(Some(FeedbackOutcome::NotActed), Some(now)),
            FeedbackStatus::Closed
        );
    }

    #[test]
    fn closure_figures_report_no_data_rather_than_zero() {
        let (received, closed, rate, median, within, within_rate) = closure_figures(&[], Some(14));
        assert_eq!((received, closed), (0, 0));
        assert_eq!((rate, median, within_rate), (None, None, None));
        assert_eq!(within, Some(0));
    }

    #[test]
    fn closure_rate_and_median_days_follow_the_items() {
        let t = Utc::now() - Duration::days(100);
        let items = [
            (t, Some(t + Duration::days(2))),
            (t, Some(t + Duration::days(10))),
            (t, Some(t + Duration::days(30))),
            (t, None),
        ];
        let (received, closed, rate, median, within, within_rate) =
            closure_figures(&items, Some(14));
        assert_eq!((received, closed), (4, 3));
        assert_eq!(rate, Some(0.75));
        assert_eq!(median, Some(10.0));
        assert_eq!(within, Some(2));
        assert_eq!(within_rate, Some(0.5));
        assert_eq!(super::median(&[1, 3]), Some(2.0));
    }

    #[test]
    fn a_closed_item_keeps_its_response_and_an_unanswered_one_cannot_close() {
        let at = Utc::now();
        let mut item = FeedbackItem {
            id: FeedbackItemId::from_uuid(uuid::Uuid::now_v7()),
            organisation_id: OrganisationId::from_uuid(uuid::Uuid::now_v7()),
            opportunity_id: None,
            participant_id: None,
            said: "The room was too far".to_owned(),
            channel: FeedbackChannel::Meeting,
            themes: Vec::new(),
            received_at: at - Duration::days(3),
            status: FeedbackStatus::Open,
            outcome: None,
            we_did: None,
            responded_by: None,
            responded_at: None,
            communicated_how: None,
            closed_by: None,
            closed_at: None,
            days_to_close: None,
            recorded_by: "s".to_owned(),
            created_at: at,
            updated_at: at,
            version: 1,
        };
        assert!(item.close("told".to_owned(), "s", at).is_err());
        item.respond(FeedbackOutcome::Acted, "Moved".to_owned(), "s", at)
            .expect("an open item takes a response");
        assert_eq!((item.status, item.version), (FeedbackStatus::Responded, 2));
        item.close("Told at the next meeting".to_owned(), "s", at)
            .expect("a responded item closes");
        assert_eq!(
            (item.status, item.days_to_close),
            (FeedbackStatus::Closed, Some(3))
        );
        assert!(item
            .respond(FeedbackOutcome::NotActed, "No".to_owned(), "s", at)
            .is_err());
        assert!(item.close("again".to_owned(), "s", at).is_err());
        assert_eq!(item.version, 3);
    }

    #[test]
    fn a_period_defaults_to_the_last_twelve_months_up_to_today() {
        let today = NaiveDate::from_ymd_opt(2026, 3, 15).expect("a day");
        let p = Period::or_last_year(None, None, today).expect("a period");
        assert_eq!(p.to, NaiveDate::from_ymd_opt(2026, 3, 16).expect("a day"));
        assert_eq!(p.from, NaiveDate::from_ymd_opt(2025, 3, 16).expect("a day"));
        assert!(Period::or_last_year(Some(today), Some(today), today).is_err());
    }

    #[test]
    fn scores_outside_one_to_five_are_refused() {
        let input = EvaluationInput {
            organisation_id: None,
            opportunity_id: Some(OpportunityId::from_uuid(uuid::Uuid::now_v7())),
            participant_id: None,
            anonymous: true,
            empathy: 0,
            inclusion: 5,
            honesty: 6,
            working_together: 3,
            personalisation: 1,
            comment: None,
            evaluated_at: None,
        };
        let errors = input.parse(Utc::now()).expect_err("refused");
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["empathy", "honesty"]);
    }

    #[test]
    fn averages_are_per_value_and_overall() {
        let (each, overall) = averages(&[[5, 4, 3, 2, 1], [3, 4, 5, 2, 1]]);
        assert_eq!(
            each,
            [Some(4.0), Some(4.0), Some(4.0), Some(2.0), Some(1.0)]
        );
        assert_eq!(overall, Some(3.0));
        assert_eq!(averages(&[]), ([None; 5], None));
    }

    #[test]
    fn feedback_needs_something_said_and_a_past_time() {
        let input = FeedbackInput {
            organisation_id: Some(OrganisationId::from_uuid(uuid::Uuid::now_v7())),
            opportunity_id: None,
            participant_id: None,
            anonymous: false,
            said: "   ".to_owned(),
            channel: FeedbackChannel::Survey,
            themes: vec!["Access".to_owned(), "access".to_owned()],
            received_at: Some(Utc::now() + Duration::days(1)),
        };
        let errors = input.parse(Utc::now()).expect_err("refused");
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["said", "received_at"]);
    }
}
