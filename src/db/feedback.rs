//! Rows and queries for the feedback loop: feedback items and their responses, evaluations on
//! the Five Values, and self-assessments (kept, never overwritten).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::opportunities::{list_from_text, list_to_text, parse_stored};
use super::schema::{evaluations, feedback_items, opportunities, self_assessments};
use super::{from_db_time, parse_id, to_db_time, DbConnection};
use crate::domain::feedback::{
    Evaluation, EvaluationFilter, FeedbackFilter, FeedbackItem, FeedbackStatus, Period,
    SelfAssessment,
};
use crate::domain::id::{
    FeedbackItemId, OpportunityId, OrganisationId, ParticipantId, SelfAssessmentId,
};
use crate::domain::page::PageRequest;
use crate::error::AppError;

/// Whose feedback items and evaluations a list shows.
#[derive(Debug, Clone, Copy)]
pub enum FeedbackScope {
    /// About the organisation, or about work it facilitates.
    Organisation(OrganisationId),
    /// Given by this person, with their name on it.
    Participant(ParticipantId),
    All,
}

fn opt_id(id: Option<impl std::fmt::Display>) -> Option<String> {
    id.map(|i| i.to_string())
}

fn parse_opt_id<I>(text: Option<&str>) -> Result<Option<I>, AppError>
where
    I: std::str::FromStr,
    I::Err: std::fmt::Display,
{
    text.map(parse_id).transpose()
}

// --- Feedback items -------------------------------------------------------------------------

#[derive(Debug, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = feedback_items, treat_none_as_null = true)]
struct FeedbackRow {
    id: String,
    organisation_id: String,
    opportunity_id: Option<String>,
    participant_id: Option<String>,
    said: String,
    channel: String,
    /// A JSON array: themes are free text and may hold any character.
    themes: String,
    received_at: NaiveDateTime,
    outcome: Option<String>,
    we_did: Option<String>,
    responded_by: Option<String>,
    responded_at: Option<NaiveDateTime>,
    communicated_how: Option<String>,
    closed_by: Option<String>,
    closed_at: Option<NaiveDateTime>,
    recorded_by: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i32,
}

impl FeedbackRow {
    fn from_domain(f: &FeedbackItem) -> Result<Self, AppError> {
        Ok(Self {
            id: f.id.to_string(),
            organisation_id: f.organisation_id.to_string(),
            opportunity_id: opt_id(f.opportunity_id),
            participant_id: opt_id(f.participant_id),
            said: f.said.clone(),
            channel: f.channel.as_str().to_owned(),
            themes: serde_json::to_string(&f.themes)
                .map_err(|e| AppError::internal(format!("feedback themes: {e}")))?,
            received_at: to_db_time(f.received_at),
            outcome: f.outcome.map(|o| o.as_str().to_owned()),
            we_did: f.we_did.clone(),
            responded_by: f.responded_by.clone(),
            responded_at: f.responded_at.map(to_db_time),
            communicated_how: f.communicated_how.clone(),
            closed_by: f.closed_by.clone(),
            closed_at: f.closed_at.map(to_db_time),
            recorded_by: f.recorded_by.clone(),
            created_at: to_db_time(f.created_at),
            updated_at: to_db_time(f.updated_at),
            version: f.version,
        })
    }

    fn into_domain(self) -> Result<FeedbackItem, AppError> {
        let outcome = self.outcome.as_deref().map(parse_stored).transpose()?;
        let received_at = from_db_time(self.received_at);
        let closed_at = self.closed_at.map(from_db_time);
        Ok(FeedbackItem {
            id: parse_id(&self.id)?,
            organisation_id: parse_id(&self.organisation_id)?,
            opportunity_id: parse_opt_id(self.opportunity_id.as_deref())?,
            participant_id: parse_opt_id(self.participant_id.as_deref())?,
            said: self.said,
            channel: parse_stored(&self.channel)?,
            themes: serde_json::from_str(&self.themes)
                .map_err(|e| AppError::internal(format!("stored feedback themes: {e}")))?,
            received_at,
            status: FeedbackItem::status_of(outcome, closed_at),
            outcome,
            we_did: self.we_did,
            responded_by: self.responded_by,
            responded_at: self.responded_at.map(from_db_time),
            communicated_how: self.communicated_how,
            closed_by: self.closed_by,
            closed_at,
            days_to_close: closed_at.map(|c| FeedbackItem::days_between(received_at, c)),
            recorded_by: self.recorded_by,
            created_at: from_db_time(self.created_at),
            updated_at: from_db_time(self.updated_at),
            version: self.version,
        })
    }
}

pub fn insert(conn: &mut DbConnection, f: &FeedbackItem) -> Result<(), AppError> {
    diesel::insert_into(feedback_items::table)
        .values(FeedbackRow::from_domain(f)?)
        .execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConnection, id: FeedbackItemId) -> Result<Option<FeedbackItem>, AppError> {
    feedback_items::table
        .find(id.to_string())
        .select(FeedbackRow::as_select())
        .first(conn)
        .optional()?
        .map(FeedbackRow::into_domain)
        .transpose()
}

/// Writes the item's new state if the stored version is still `expected_version`.
pub fn update_if_version(
    conn: &mut DbConnection,
    f: &FeedbackItem,
    expected_version: i32,
) -> Result<bool, AppError> {
    let row = FeedbackRow::from_domain(f)?;
    let changed = diesel::update(
        feedback_items::table
            .filter(feedback_items::id.eq(&row.id))
            .filter(feedback_items::version.eq(expected_version)),
    )
    .set(&row)
    .execute(conn)?;
    Ok(changed == 1)
}

/// One page of feedback items, oldest received first (then by id), so open items read by age.
/// The cursor is the id of the last item seen; its receipt time places the next page.
pub fn list(
    conn: &mut DbConnection,
    scope: FeedbackScope,
    filter: &FeedbackFilter,
    page: PageRequest,
) -> Result<Vec<FeedbackItem>, AppError> {
    use feedback_items::dsl as f;
    let mut query = f::feedback_items
        .select(FeedbackRow::as_select())
        .order((f::received_at.asc(), f::id.asc()))
        .limit(i64::from(page.limit) + 1)
        .into_boxed();
    if let Some(after) = page.after {
        let after = after.to_string();
        let received: Option<NaiveDateTime> = f::feedback_items
            .find(&after)
            .select(f::received_at)
            .first(conn)
            .optional()?;
        // A cursor naming no item points after nothing this service can place.
        let Some(received) = received else {
            return Ok(Vec::new());
        };
        query = query.filter(
            f::received_at
                .gt(received)
                .or(f::received_at.eq(received).and(f::id.gt(after))),
        );
    }
    match scope {
        FeedbackScope::Organisation(org) => {
            let org = org.to_string();
            let facilitated = opportunities::table
                .filter(opportunities::facilitator_organisation_id.eq(org.clone()))
                .select(opportunities::id.nullable());
            query = query.filter(
                f::organisation_id
                    .eq(org)
                    .or(f::opportunity_id.eq_any(facilitated)),
            );
        }
        FeedbackScope::Participant(p) => {
            query = query.filter(f::participant_id.eq(p.to_string()));
        }
        FeedbackScope::All => {}
    }
    match filter.status {
        Some(FeedbackStatus::Open) => {
            query = query
                .filter(f::closed_at.is_null())
                .filter(f::outcome.is_null())
        }
        Some(FeedbackStatus::Responded) => {
            query = query
                .filter(f::closed_at.is_null())
                .filter(f::outcome.is_not_null())
        }
        Some(FeedbackStatus::Closed) => query = query.filter(f::closed_at.is_not_null()),
        None => {}
    }
    if let Some(org) = filter.organisation_id {
        query = query.filter(f::organisation_id.eq(org.to_string()));
    }
    if let Some(o) = filter.opportunity_id {
        query = query.filter(f::opportunity_id.eq(o.to_string()));
    }
    query
        .load(conn)?
        .into_iter()
        .map(FeedbackRow::into_domain)
        .collect()
}

/// When an item came in, and when it was closed (if it was).
pub type ItemTimes = (DateTime<Utc>, Option<DateTime<Utc>>);

/// When each item of an organisation received in `[from, to)` came in, and when it was closed.
pub fn received_and_closed(
    conn: &mut DbConnection,
    organisation_id: OrganisationId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<ItemTimes>, AppError> {
    let rows: Vec<(NaiveDateTime, Option<NaiveDateTime>)> = feedback_items::table
        .filter(feedback_items::organisation_id.eq(organisation_id.to_string()))
        .filter(feedback_items::received_at.ge(to_db_time(from)))
        .filter(feedback_items::received_at.lt(to_db_time(to)))
        .select((feedback_items::received_at, feedback_items::closed_at))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(r, c)| (from_db_time(r), c.map(from_db_time)))
        .collect())
}

/// How many of an organisation's items are not closed now, and when the oldest came in.
pub fn open_now(
    conn: &mut DbConnection,
    organisation_id: OrganisationId,
) -> Result<(i64, Option<DateTime<Utc>>), AppError> {
    let (count, oldest): (i64, Option<NaiveDateTime>) = feedback_items::table
        .filter(feedback_items::organisation_id.eq(organisation_id.to_string()))
        .filter(feedback_items::closed_at.is_null())
        .select((
            diesel::dsl::count_star(),
            diesel::dsl::min(feedback_items::received_at),
        ))
        .first(conn)?;
    Ok((count, oldest.map(from_db_time)))
}

/// The latest receipt of a feedback item about each of these pieces of work, in one query
/// (work with none is absent).
pub fn latest_received_for(
    conn: &mut DbConnection,
    opportunity_ids: &[OpportunityId],
) -> Result<HashMap<OpportunityId, DateTime<Utc>>, AppError> {
    if opportunity_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let ids: Vec<String> = opportunity_ids
        .iter()
        .map(OpportunityId::to_string)
        .collect();
    let rows: Vec<(Option<String>, Option<NaiveDateTime>)> = feedback_items::table
        .filter(feedback_items::opportunity_id.eq_any(&ids))
        .group_by(feedback_items::opportunity_id)
        .select((
            feedback_items::opportunity_id,
            diesel::dsl::max(feedback_items::received_at),
        ))
        .load(conn)?;
    rows.into_iter()
        .filter_map(|(id, at)| Some((id?, at?)))
        .map(|(id, at)| Ok((parse_id(&id)?, from_db_time(at))))
        .collect()
}

// --- Evaluations ----------------------------------------------------------------------------

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = evaluations)]
struct EvaluationRow {
    id: String,
    organisation_id: String,
    opportunity_id: Option<String>,
    participant_id: Option<String>,
    empathy: i32,
    inclusion: i32,
    honesty: i32,
    working_together: i32,
    personalisation: i32,
    comment: Option<String>,
    evaluated_at: NaiveDateTime,
    recorded_by: String,
    created_at: NaiveDateTime,
}

impl EvaluationRow {
    fn from_domain(e: &Evaluation) -> Self {
        Self {
            id: e.id.to_string(),
            organisation_id: e.organisation_id.to_string(),
            opportunity_id: opt_id(e.opportunity_id),
            participant_id: opt_id(e.participant_id),
            empathy: e.empathy,
            inclusion: e.inclusion,
            honesty: e.honesty,
            working_together: e.working_together,
            personalisation: e.personalisation,
            comment: e.comment.clone(),
            evaluated_at: to_db_time(e.evaluated_at),
            recorded_by: e.recorded_by.clone(),
            created_at: to_db_time(e.created_at),
        }
    }

    fn into_domain(self) -> Result<Evaluation, AppError> {
        Ok(Evaluation {
            id: parse_id(&self.id)?,
            organisation_id: parse_id(&self.organisation_id)?,
            opportunity_id: parse_opt_id(self.opportunity_id.as_deref())?,
            participant_id: parse_opt_id(self.participant_id.as_deref())?,
            empathy: self.empathy,
            inclusion: self.inclusion,
            honesty: self.honesty,
            working_together: self.working_together,
            personalisation: self.personalisation,
            comment: self.comment,
            evaluated_at: from_db_time(self.evaluated_at),
            recorded_by: self.recorded_by,
            created_at: from_db_time(self.created_at),
        })
    }
}

pub fn insert_evaluation(conn: &mut DbConnection, e: &Evaluation) -> Result<(), AppError> {
    diesel::insert_into(evaluations::table)
        .values(EvaluationRow::from_domain(e))
        .execute(conn)?;
    Ok(())
}

/// One page of evaluations in id (creation) order.
pub fn evaluations(
    conn: &mut DbConnection,
    scope: FeedbackScope,
    filter: &EvaluationFilter,
    page: PageRequest,
) -> Result<Vec<Evaluation>, AppError> {
    use evaluations::dsl as e;
    let mut query = keyset_page!(
        e::evaluations.select(EvaluationRow::as_select()),
        e::id,
        page
    );
    match scope {
        FeedbackScope::Organisation(org) => {
            let org = org.to_string();
            let facilitated = opportunities::table
                .filter(opportunities::facilitator_organisation_id.eq(org.clone()))
                .select(opportunities::id.nullable());
            query = query.filter(
                e::organisation_id
                    .eq(org)
                    .or(e::opportunity_id.eq_any(facilitated)),
            );
        }
        FeedbackScope::Participant(p) => {
            query = query.filter(e::participant_id.eq(p.to_string()));
        }
        FeedbackScope::All => {}
    }
    if let Some(org) = filter.organisation_id {
        query = query.filter(e::organisation_id.eq(org.to_string()));
    }
    if let Some(o) = filter.opportunity_id {
        query = query.filter(e::opportunity_id.eq(o.to_string()));
    }
    query
        .load(conn)?
        .into_iter()
        .map(EvaluationRow::into_domain)
        .collect()
}

/// The five scores of each evaluation of an organisation given in `[from, to)`, in the order
/// empathy, inclusion, honesty, working together, personalisation.
pub fn scores_in(
    conn: &mut DbConnection,
    organisation_id: OrganisationId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<[i32; 5]>, AppError> {
    let rows: Vec<(i32, i32, i32, i32, i32)> = evaluations::table
        .filter(evaluations::organisation_id.eq(organisation_id.to_string()))
        .filter(evaluations::evaluated_at.ge(to_db_time(from)))
        .filter(evaluations::evaluated_at.lt(to_db_time(to)))
        .select((
            evaluations::empathy,
            evaluations::inclusion,
            evaluations::honesty,
            evaluations::working_together,
            evaluations::personalisation,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(a, b, c, d, e)| [a, b, c, d, e])
        .collect())
}

// --- Self-assessments -----------------------------------------------------------------------

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = self_assessments)]
struct SelfAssessmentRow {
    id: String,
    organisation_id: String,
    period_from: NaiveDate,
    period_to: NaiveDate,
    current_level: String,
    staff_knowledge: i32,
    staff_confidence: i32,
    staff_notes: Option<String>,
    opportunities_completed: i32,
    successes: Option<String>,
    barriers: String,
    barriers_other: Option<String>,
    commitment: i32,
    prepared_to_pay: String,
    facilitators: Option<String>,
    cultural_attitudes: Option<String>,
    target_level: String,
    submitted_by: String,
    submitted_at: NaiveDateTime,
}

impl SelfAssessmentRow {
    fn from_domain(s: &SelfAssessment) -> Self {
        Self {
            id: s.id.to_string(),
            organisation_id: s.organisation_id.to_string(),
            period_from: s.period.from,
            period_to: s.period.to,
            current_level: s.current_level.as_str().to_owned(),
            staff_knowledge: s.staff_knowledge,
            staff_confidence: s.staff_confidence,
            staff_notes: s.staff_notes.clone(),
            opportunities_completed: s.opportunities_completed,
            successes: s.successes.clone(),
            barriers: list_to_text(&s.barriers, |b| b.as_str()),
            barriers_other: s.barriers_other.clone(),
            commitment: s.commitment,
            prepared_to_pay: s.prepared_to_pay.as_str().to_owned(),
            facilitators: s.facilitators.clone(),
            cultural_attitudes: s.cultural_attitudes.clone(),
            target_level: s.target_level.as_str().to_owned(),
            submitted_by: s.submitted_by.clone(),
            submitted_at: to_db_time(s.submitted_at),
        }
    }

    fn into_domain(self) -> Result<SelfAssessment, AppError> {
        Ok(SelfAssessment {
            id: parse_id(&self.id)?,
            organisation_id: parse_id(&self.organisation_id)?,
            period: Period {
                from: self.period_from,
                to: self.period_to,
            },
            current_level: parse_stored(&self.current_level)?,
            staff_knowledge: self.staff_knowledge,
            staff_confidence: self.staff_confidence,
            staff_notes: self.staff_notes,
            opportunities_completed: self.opportunities_completed,
            successes: self.successes,
            barriers: list_from_text(&self.barriers)?,
            barriers_other: self.barriers_other,
            commitment: self.commitment,
            prepared_to_pay: parse_stored(&self.prepared_to_pay)?,
            facilitators: self.facilitators,
            cultural_attitudes: self.cultural_attitudes,
            target_level: parse_stored(&self.target_level)?,
            submitted_by: self.submitted_by,
            submitted_at: from_db_time(self.submitted_at),
        })
    }
}

pub fn insert_self_assessment(conn: &mut DbConnection, s: &SelfAssessment) -> Result<(), AppError> {
    diesel::insert_into(self_assessments::table)
        .values(SelfAssessmentRow::from_domain(s))
        .execute(conn)?;
    Ok(())
}

/// One page of an organisation's self-assessments, oldest first.
pub fn self_assessments(
    conn: &mut DbConnection,
    organisation_id: OrganisationId,
    page: PageRequest,
) -> Result<Vec<SelfAssessment>, AppError> {
    keyset_page!(
        self_assessments::table.select(SelfAssessmentRow::as_select()),
        self_assessments::id,
        page
    )
    .filter(self_assessments::organisation_id.eq(organisation_id.to_string()))
    .load(conn)?
    .into_iter()
    .map(SelfAssessmentRow::into_domain)
    .collect()
}

/// An organisation's newest self-assessment (ids are time-ordered).
pub fn latest_self_assessment(
    conn: &mut DbConnection,
    organisation_id: OrganisationId,
) -> Result<Option<SelfAssessment>, AppError> {
    self_assessments::table
        .filter(self_assessments::organisation_id.eq(organisation_id.to_string()))
        .order(self_assessments::id.desc())
        .select(SelfAssessmentRow::as_select())
        .first(conn)
        .optional()?
        .map(SelfAssessmentRow::into_domain)
        .transpose()
}

pub fn find_self_assessment(
    conn: &mut DbConnection,
    id: SelfAssessmentId,
) -> Result<Option<SelfAssessment>, AppError> {
    self_assessments::table
        .find(id.to_string())
        .select(SelfAssessmentRow::as_select())
        .first(conn)
        .optional()?
        .map(SelfAssessmentRow::into_domain)
        .transpose()
}

/// Everything one person gave, with their name on it (the participant export).
pub fn given_by(
    conn: &mut DbConnection,
    participant_id: crate::domain::id::ParticipantId,
) -> Result<(Vec<FeedbackItem>, Vec<Evaluation>), AppError> {
    let items = feedback_items::table
        .filter(feedback_items::participant_id.eq(participant_id.to_string()))
        .order(feedback_items::id.asc())
        .select(FeedbackRow::as_select())
        .load::<FeedbackRow>(conn)?
        .into_iter()
        .map(FeedbackRow::into_domain)
        .collect::<Result<Vec<_>, _>>()?;
    let evaluations = evaluations::table
        .filter(evaluations::participant_id.eq(participant_id.to_string()))
        .order(evaluations::id.asc())
        .select(EvaluationRow::as_select())
        .load::<EvaluationRow>(conn)?
        .into_iter()
        .map(EvaluationRow::into_domain)
        .collect::<Result<Vec<_>, _>>()?;
    Ok((items, evaluations))
}

/// Erasure: what the person gave stays, as if given anonymously.
pub fn detach_person(
    conn: &mut DbConnection,
    participant_id: crate::domain::id::ParticipantId,
) -> Result<(), AppError> {
    let id = participant_id.to_string();
    diesel::update(feedback_items::table.filter(feedback_items::participant_id.eq(&id)))
        .set(feedback_items::participant_id.eq(None::<String>))
        .execute(conn)?;
    diesel::update(evaluations::table.filter(evaluations::participant_id.eq(&id)))
        .set(evaluations::participant_id.eq(None::<String>))
        .execute(conn)?;
    Ok(())
}
