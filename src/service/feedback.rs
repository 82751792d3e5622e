//! The feedback loop ("You said - We did"): feedback items, their responses and closing the
//! loop (each written with its event), closure figures, evaluations on the Five Values and the
//! guide's self-assessment.
//!
//! Who may do what:
//! - staff (provider, facilitator or commissioner) record feedback and evaluations about their
//!   own organisation, or about work it runs or facilitates, naming a person their organisation
//!   registered or no one; they read their organisation's items and those about work it
//!   facilitates, and its figures;
//! - provider or facilitator staff of the organisation (or of the one facilitating the work)
//!   respond and close; a commissioner reads but does not answer for a service;
//! - a participant records their own feedback (or gives it anonymously) and reads what they
//!   gave with their name on it; anonymous feedback is read by no participant, the giver
//!   included, since nothing ties it to them;
//! - admins do everything; everyone else gets "not found", so ids leak nothing.
//!
//! Self-assessments belong to an organisation: its staff and admins submit and read them, and
//! every submission is kept so change over time shows.

use chrono::Utc;

use super::opportunities::{can_view, participant_of};
use super::Services;
use crate::db::feedback::FeedbackScope;
use crate::db::{self, DbConnection};
use crate::domain::event::{EventType, NewEvent};
use crate::domain::feedback::{
    averages, closure_figures, CloseInput, Evaluation, EvaluationAverages, EvaluationFilter,
    EvaluationInput, FeedbackFilter, FeedbackInput, FeedbackItem, FeedbackStats, FeedbackStatus,
    Period, ResponseInput, SelfAssessment, SelfAssessmentInput,
};
use crate::domain::id::{
    FeedbackItemId, OpportunityId, OrganisationId, ParticipantId, SelfAssessmentId,
};
use crate::domain::identity::{Principal, Role};
use crate::domain::opportunity::Opportunity;
use crate::domain::page::{Page, PageRequest};
use crate::domain::{new_id, now};
use crate::error::AppError;

const NOT_FOUND: AppError = AppError::NotFound("feedback item");
const NO_ORGANISATION: AppError = AppError::NotFound("organisation");

/// The longest window `within_days` may ask about (ten years).
const MAX_WITHIN_DAYS: i32 = 3_660;

// --- Who the feedback is about, and from whom -----------------------------------------------

/// The checked subject of a new item or evaluation.
struct Subject {
    organisation_id: OrganisationId,
    work: Option<Opportunity>,
    participant_id: Option<ParticipantId>,
}

/// Staff of an organisation reading or recording about it: its own records, and those of the
/// work it facilitates.
fn staff_of(
    principal: &Principal,
    organisation_id: OrganisationId,
    work: Option<&Opportunity>,
) -> bool {
    principal.is_staff()
        && (principal.belongs_to(organisation_id)
            || work
                .and_then(|o| o.facilitator_organisation_id)
                .is_some_and(|f| principal.belongs_to(f)))
}

/// Staff who answer for what was said: provider or facilitator staff of the organisation, or
/// of the one facilitating the work; or an admin.
fn answers_for(principal: &Principal, item: &FeedbackItem, work: Option<&Opportunity>) -> bool {
    principal.is_admin()
        || ((principal.has(Role::Provider) || principal.has(Role::Facilitator))
            && staff_of(principal, item.organisation_id, work))
}

/// Decides the organisation, the work and the person of a new item or evaluation, and whether
/// the caller may record it. `anonymous` is already known not to name anyone.
fn subject(
    conn: &mut DbConnection,
    principal: &Principal,
    organisation_id: Option<OrganisationId>,
    opportunity_id: Option<OpportunityId>,
    participant_id: Option<ParticipantId>,
    anonymous: bool,
) -> Result<Subject, AppError> {
    let admin = principal.is_admin();
    let staff = !admin && principal.is_staff();
    let me = participant_of(principal);
    if !admin && !staff && me.is_none() {
        return Err(AppError::Forbidden(
            "staff, and participants for themselves, record feedback".to_owned(),
        ));
    }
    if staff && principal.organisation_id.is_none() {
        return Err(AppError::Forbidden(
            "your token names no organisation".to_owned(),
        ));
    }
    if let (false, false, Some(me)) = (admin, staff, me) {
        if participant_id.is_some_and(|p| p != me) {
            return Err(AppError::Forbidden(
                "a person gives feedback as themselves".to_owned(),
            ));
        }
    }

    // The work, when named: the item is about the organisation that runs it. Work the caller
    // may not see is refused as if it did not exist.
    let work = match opportunity_id {
        None => None,
        Some(id) => {
            let o = db::opportunities::find(conn, id)?;
            let usable = match (&o, admin, staff) {
                (None, ..) => false,
                (Some(_), true, _) => true,
                (Some(o), _, true) => staff_of(principal, o.organisation_id, Some(o)),
                (Some(o), _, false) => {
                    let membership = match me {
                        Some(p) => db::members::find_for(conn, o.id, p)?,
                        None => None,
                    };
                    can_view(principal, o, membership.as_ref())
                }
            };
            if !usable {
                return Err(AppError::validation(
                    "opportunity_id",
                    if staff {
                        "names no piece of work your organisation runs or facilitates"
                    } else {
                        "names no piece of work you can see"
                    },
                ));
            }
            o
        }
    };
    let organisation_id = match (&work, organisation_id) {
        (Some(o), Some(given))
            if given != o.organisation_id && Some(given) != o.facilitator_organisation_id =>
        {
            return Err(AppError::validation(
                "organisation_id",
                "is neither the organisation that runs the work nor the one facilitating it",
            ))
        }
        (Some(o), _) => o.organisation_id,
        (None, Some(given)) => {
            if staff && !principal.belongs_to(given) {
                return Err(AppError::validation(
                    "organisation_id",
                    "staff record feedback about their own organisation or the work it runs or facilitates",
                ));
            }
            given
        }
        (None, None) => {
            return Err(AppError::validation(
                "organisation_id",
                "name the organisation, or the piece of work, the feedback is about",
            ))
        }
    };
    if db::organisations::find(conn, organisation_id)?.is_none() {
        return Err(AppError::validation(
            "organisation_id",
            "no organisation has this id",
        ));
    }

    let participant_id = if admin || staff {
        match participant_id {
            None => None,
            Some(p) => {
                let person = db::participants::find(conn, p)?;
                let known = person.as_ref().is_some_and(|person| {
                    !person.is_erased() && (admin || principal.belongs_to(person.organisation_id))
                });
                if !known {
                    return Err(AppError::validation(
                        "participant_id",
                        if admin {
                            "names no person"
                        } else {
                            "names no person your organisation registered"
                        },
                    ));
                }
                Some(p)
            }
        }
    } else if anonymous {
        None
    } else {
        me
    };
    Ok(Subject {
        organisation_id,
        work,
        participant_id,
    })
}

/// Whose items and evaluations a caller's lists show.
fn scope_of(principal: &Principal) -> Result<FeedbackScope, AppError> {
    if principal.is_admin() {
        Ok(FeedbackScope::All)
    } else if principal.is_staff() {
        principal
            .organisation_id
            .map(FeedbackScope::Organisation)
            .ok_or_else(|| AppError::Forbidden("your token names no organisation".to_owned()))
    } else if let Some(me) = participant_of(principal) {
        Ok(FeedbackScope::Participant(me))
    } else {
        Err(AppError::Forbidden(
            "staff, admins and participants read feedback".to_owned(),
        ))
    }
}

/// True when the caller may read an item (or an evaluation) with these facts.
fn reads(
    principal: &Principal,
    organisation_id: OrganisationId,
    participant_id: Option<ParticipantId>,
    work: Option<&Opportunity>,
) -> bool {
    principal.is_admin()
        || staff_of(principal, organisation_id, work)
        || (!principal.is_staff()
            && participant_id.is_some()
            && participant_of(principal) == participant_id)
}

/// Loads an item the caller may read, with its work, or "not found".
fn load_readable(
    conn: &mut DbConnection,
    principal: &Principal,
    id: FeedbackItemId,
) -> Result<(FeedbackItem, Option<Opportunity>), AppError> {
    let item = db::feedback::find(conn, id)?.ok_or(NOT_FOUND)?;
    let work = match item.opportunity_id {
        Some(o) => db::opportunities::find(conn, o)?,
        None => None,
    };
    if reads(
        principal,
        item.organisation_id,
        item.participant_id,
        work.as_ref(),
    ) {
        Ok((item, work))
    } else {
        Err(NOT_FOUND)
    }
}

/// Loads an item the caller answers for: "not found" to those who cannot read it, "forbidden"
/// to those who can but do not answer for it.
fn load_answerable(
    conn: &mut DbConnection,
    principal: &Principal,
    id: FeedbackItemId,
) -> Result<(FeedbackItem, Option<Opportunity>), AppError> {
    let (item, work) = load_readable(conn, principal, id)?;
    if answers_for(principal, &item, work.as_ref()) {
        Ok((item, work))
    } else {
        Err(AppError::Forbidden(
            "provider or facilitator staff of the organisation answer feedback".to_owned(),
        ))
    }
}

// --- Feedback items -------------------------------------------------------------------------

/// Records what someone said.
pub async fn record(
    services: &Services,
    principal: &Principal,
    input: &FeedbackInput,
) -> Result<FeedbackItem, AppError> {
    let at = now();
    let new = input.parse(at)?;
    let principal = principal.clone();
    services
        .db
        .transaction(move |conn| {
            let s = subject(
                conn,
                &principal,
                new.organisation_id,
                new.opportunity_id,
                new.participant_id,
                new.anonymous,
            )?;
            let item = FeedbackItem {
                id: new_id(),
                organisation_id: s.organisation_id,
                opportunity_id: s.work.as_ref().map(|o| o.id),
                participant_id: s.participant_id,
                said: new.said,
                channel: new.channel,
                themes: new.themes,
                received_at: new.received_at.unwrap_or(at),
                status: FeedbackStatus::Open,
                outcome: None,
                we_did: None,
                responded_by: None,
                responded_at: None,
                communicated_how: None,
                closed_by: None,
                closed_at: None,
                days_to_close: None,
                recorded_by: principal.subject.clone(),
                created_at: at,
                updated_at: at,
                version: 1,
            };
            db::feedback::insert(conn, &item)?;
            Ok(item)
        })
        .await
}

pub async fn get(
    services: &Services,
    principal: &Principal,
    id: FeedbackItemId,
) -> Result<FeedbackItem, AppError> {
    let principal = principal.clone();
    services
        .db
        .read(move |conn| load_readable(conn, &principal, id).map(|(item, _)| item))
        .await
}

/// Items the caller may read, oldest received first.
pub async fn list(
    services: &Services,
    principal: &Principal,
    filter: FeedbackFilter,
    page: PageRequest,
) -> Result<Page<FeedbackItem>, AppError> {
    let scope = scope_of(principal)?;
    let rows = services
        .db
        .read(move |conn| db::feedback::list(conn, scope, &filter, page))
        .await?;
    Ok(Page::from_rows(rows, page, |f| f.id))
}

/// The event that tells the organisation, the facilitator and the person what became of the
/// feedback. It names ids and the response, never what was said.
fn event(kind: EventType, item: &FeedbackItem, work: Option<&Opportunity>) -> NewEvent {
    let mut e = NewEvent::new(kind, item.organisation_id)
        .for_person(item.participant_id)
        .with_data(serde_json::json!({
            "feedback_item_id": item.id,
            "status": item.status.as_str(),
            "outcome": item.outcome.map(|o| o.as_str()),
            "we_did": item.we_did,
        }));
    if let Some(o) = work {
        e = e.on_work(o.id, o.facilitator_organisation_id);
    }
    e
}

/// Writes (or rewrites, until closed) the response. `expected_version`, when given, must be
/// current.
pub async fn respond(
    services: &Services,
    principal: &Principal,
    id: FeedbackItemId,
    expected_version: Option<i32>,
    input: &ResponseInput,
) -> Result<FeedbackItem, AppError> {
    let (outcome, we_did) = input.parse()?;
    let principal = principal.clone();
    services
        .db
        .transaction(move |conn| {
            let (mut item, work) = load_answerable(conn, &principal, id)?;
            if expected_version.is_some_and(|v| v != item.version) {
                return Err(AppError::PreconditionFailed);
            }
            let version = item.version;
            item.respond(outcome, we_did, &principal.subject, now())
                .map_err(|reason| AppError::Conflict(reason.to_owned()))?;
            if !db::feedback::update_if_version(conn, &item, version)? {
                return Err(AppError::PreconditionFailed);
            }
            super::events::record(
                conn,
                event(EventType::FeedbackResponded, &item, work.as_ref()),
            )?;
            Ok(item)
        })
        .await
}

/// Closes the loop: the response was communicated back.
pub async fn close(
    services: &Services,
    principal: &Principal,
    id: FeedbackItemId,
    input: &CloseInput,
) -> Result<FeedbackItem, AppError> {
    let how = input.parse()?;
    let principal = principal.clone();
    services
        .db
        .transaction(move |conn| {
            let (mut item, work) = load_answerable(conn, &principal, id)?;
            let version = item.version;
            item.close(how, &principal.subject, now())
                .map_err(|reason| AppError::Conflict(reason.to_owned()))?;
            if !db::feedback::update_if_version(conn, &item, version)? {
                return Err(AppError::PreconditionFailed);
            }
            super::events::record(conn, event(EventType::FeedbackClosed, &item, work.as_ref()))?;
            Ok(item)
        })
        .await
}

/// The organisation a figure is about, checked: staff of it and admins only (the caller's own
/// when none is named). Another organisation's figures are "not found".
fn figures_of(
    principal: &Principal,
    organisation_id: Option<OrganisationId>,
) -> Result<OrganisationId, AppError> {
    if !principal.is_admin() && !principal.is_staff() {
        return Err(AppError::Forbidden(
            "staff of the organisation, and admins, read its figures".to_owned(),
        ));
    }
    let org = organisation_id
        .or(principal.organisation_id)
        .ok_or_else(|| AppError::validation("organisation_id", "name the organisation"))?;
    if principal.is_admin() || principal.belongs_to(org) {
        Ok(org)
    } else {
        Err(NO_ORGANISATION)
    }
}

/// How well an organisation closes the loop on feedback received in a period (default: the
/// twelve months up to today).
pub async fn stats(
    services: &Services,
    principal: &Principal,
    organisation_id: Option<OrganisationId>,
    from: Option<chrono::NaiveDate>,
    to: Option<chrono::NaiveDate>,
    within_days: Option<i32>,
) -> Result<FeedbackStats, AppError> {
    let org = figures_of(principal, organisation_id)?;
    let at = now();
    let period = Period::or_last_year(from, to, at.date_naive())?;
    if within_days.is_some_and(|d| !(0..=MAX_WITHIN_DAYS).contains(&d)) {
        return Err(AppError::validation(
            "within_days",
            format!("must be from 0 to {MAX_WITHIN_DAYS}"),
        ));
    }
    services
        .db
        .read(move |conn| {
            if db::organisations::find(conn, org)?.is_none() {
                return Err(NO_ORGANISATION);
            }
            let (start, end) = period.bounds();
            let items = db::feedback::received_and_closed(conn, org, start, end)?;
            let (
                received,
                closed,
                closure_rate,
                median_days_to_close,
                closed_within,
                closed_within_rate,
            ) = closure_figures(&items, within_days);
            let (open_now, oldest) = db::feedback::open_now(conn, org)?;
            Ok(FeedbackStats {
                organisation_id: org,
                period,
                received,
                closed,
                closure_rate,
                median_days_to_close,
                within_days,
                closed_within,
                closed_within_rate,
                open_now,
                oldest_open_days: oldest.map(|o| FeedbackItem::days_between(o, at)),
            })
        })
        .await
}

// --- Evaluations ----------------------------------------------------------------------------

/// Records an evaluation on the Five Values.
pub async fn evaluate(
    services: &Services,
    principal: &Principal,
    input: &EvaluationInput,
) -> Result<Evaluation, AppError> {
    let at = now();
    let new = input.parse(at)?;
    let principal = principal.clone();
    services
        .db
        .transaction(move |conn| {
            let s = subject(
                conn,
                &principal,
                new.organisation_id,
                new.opportunity_id,
                new.participant_id,
                new.anonymous,
            )?;
            let [empathy, inclusion, honesty, working_together, personalisation] = new.scores;
            let e = Evaluation {
                id: new_id(),
                organisation_id: s.organisation_id,
                opportunity_id: s.work.as_ref().map(|o| o.id),
                participant_id: s.participant_id,
                empathy,
                inclusion,
                honesty,
                working_together,
                personalisation,
                comment: new.comment,
                evaluated_at: new.evaluated_at.unwrap_or(at),
                recorded_by: principal.subject.clone(),
                created_at: at,
            };
            db::feedback::insert_evaluation(conn, &e)?;
            Ok(e)
        })
        .await
}

/// Evaluations the caller may read, oldest first.
pub async fn evaluations(
    services: &Services,
    principal: &Principal,
    filter: EvaluationFilter,
    page: PageRequest,
) -> Result<Page<Evaluation>, AppError> {
    let scope = scope_of(principal)?;
    let rows = services
        .db
        .read(move |conn| db::feedback::evaluations(conn, scope, &filter, page))
        .await?;
    Ok(Page::from_rows(rows, page, |e| e.id))
}

/// The Five Values averaged over an organisation's evaluations in a period (default: the
/// twelve months up to today); `null` where there were none.
pub async fn evaluation_averages(
    services: &Services,
    principal: &Principal,
    organisation_id: Option<OrganisationId>,
    from: Option<chrono::NaiveDate>,
    to: Option<chrono::NaiveDate>,
) -> Result<EvaluationAverages, AppError> {
    let org = figures_of(principal, organisation_id)?;
    let period = Period::or_last_year(from, to, Utc::now().date_naive())?;
    services
        .db
        .read(move |conn| {
            if db::organisations::find(conn, org)?.is_none() {
                return Err(NO_ORGANISATION);
            }
            let (start, end) = period.bounds();
            let scores = db::feedback::scores_in(conn, org, start, end)?;
            let ([empathy, inclusion, honesty, working_together, personalisation], overall) =
                averages(&scores);
            Ok(EvaluationAverages {
                organisation_id: org,
                period,
                count: scores.len() as i64,
                empathy,
                inclusion,
                honesty,
                working_together,
                personalisation,
                overall,
            })
        })
        .await
}

// --- Self-assessments -----------------------------------------------------------------------

/// Staff of the organisation and admins; other staff get "not found", others "forbidden".
fn own_organisation(
    principal: &Principal,
    organisation_id: OrganisationId,
) -> Result<(), AppError> {
    if principal.is_admin() || (principal.is_staff() && principal.belongs_to(organisation_id)) {
        Ok(())
    } else if principal.is_staff() {
        Err(NO_ORGANISATION)
    } else {
        Err(AppError::Forbidden(
            "staff of the organisation, and admins, keep its self-assessments".to_owned(),
        ))
    }
}

/// Stores a new self-assessment; earlier ones are kept.
pub async fn submit_self_assessment(
    services: &Services,
    principal: &Principal,
    organisation_id: OrganisationId,
    input: &SelfAssessmentInput,
) -> Result<SelfAssessment, AppError> {
    own_organisation(principal, organisation_id)?;
    let new = input.parse()?;
    let principal = principal.clone();
    services
        .db
        .transaction(move |conn| {
            if db::organisations::find(conn, organisation_id)?.is_none() {
                return Err(NO_ORGANISATION);
            }
            let s = SelfAssessment {
                id: new_id(),
                organisation_id,
                period: new.period,
                current_level: new.current_level,
                staff_knowledge: new.staff_knowledge,
                staff_confidence: new.staff_confidence,
                staff_notes: new.staff_notes,
                opportunities_completed: new.opportunities_completed,
                successes: new.successes,
                barriers: new.barriers,
                barriers_other: new.barriers_other,
                commitment: new.commitment,
                prepared_to_pay: new.prepared_to_pay,
                facilitators: new.facilitators,
                cultural_attitudes: new.cultural_attitudes,
                target_level: new.target_level,
                submitted_by: principal.subject.clone(),
                submitted_at: now(),
            };
            db::feedback::insert_self_assessment(conn, &s)?;
            Ok(s)
        })
        .await
}

/// Every self-assessment of an organisation, oldest first.
pub async fn self_assessments(
    services: &Services,
    principal: &Principal,
    organisation_id: OrganisationId,
    page: PageRequest,
) -> Result<Page<SelfAssessment>, AppError> {
    own_organisation(principal, organisation_id)?;
    let rows = services
        .db
        .read(move |conn| {
            if db::organisations::find(conn, organisation_id)?.is_none() {
                return Err(NO_ORGANISATION);
            }
            db::feedback::self_assessments(conn, organisation_id, page)
        })
        .await?;
    Ok(Page::from_rows(rows, page, |s| s.id))
}

/// The newest self-assessment of an organisation.
pub async fn latest_self_assessment(
    services: &Services,
    principal: &Principal,
    organisation_id: OrganisationId,
) -> Result<SelfAssessment, AppError> {
    own_organisation(principal, organisation_id)?;
    services
        .db
        .read(move |conn| {
            db::feedback::latest_self_assessment(conn, organisation_id)?
                .ok_or(AppError::NotFound("self-assessment"))
        })
        .await
}

/// One self-assessment of an organisation.
pub async fn self_assessment(
    services: &Services,
    principal: &Principal,
    organisation_id: OrganisationId,
    id: SelfAssessmentId,
) -> Result<SelfAssessment, AppError> {
    own_organisation(principal, organisation_id)?;
    services
        .db
        .read(move |conn| {
            db::feedback::find_self_assessment(conn, id)?
                .filter(|s| s.organisation_id == organisation_id)
                .ok_or(AppError::NotFound("self-assessment"))
        })
        .await
}
