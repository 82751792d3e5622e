//! Sessions of a piece of work, with attendance and decisions. A provider system can post a
//! session with everything recorded at it in one call: all of it is stored, or none.

use std::collections::HashMap;

use super::members::accepted_member;
use super::opportunities::{load_managed, load_visible, may_read_records_in, records_readable_by};
use super::{events, Services};
use crate::db::{self, DbConnection};
use crate::domain::event::{EventType, NewEvent};
use crate::domain::id::{OpportunityId, ParticipantId, SessionId};
use crate::domain::identity::Principal;
use crate::domain::ladder::OpportunityStatus;
use crate::domain::membership::{MemberStatus, Membership};
use crate::domain::now;
use crate::domain::opportunity::Opportunity;
use crate::domain::page::{Page, PageRequest};
use crate::domain::session::{
    Attendance, AttendanceFilter, AttendanceInput, Decision, DecisionInput, Session, SessionInput,
    SessionRecord,
};
use crate::domain::validation::Problems;
use crate::error::AppError;

const NOT_FOUND: AppError = AppError::NotFound("session");

pub async fn create(
    services: &Services,
    principal: &Principal,
    opportunity_id: OpportunityId,
    input: &SessionInput,
) -> Result<SessionRecord, AppError> {
    let (principal, input) = (principal.clone(), input.clone());
    services
        .db
        .transaction(move |conn| {
            let o = load_recordable(conn, &principal, opportunity_id)?;
            let members: HashMap<ParticipantId, Membership> =
                db::members::for_opportunities(conn, &[o.id])?
                    .into_iter()
                    .filter(|m| m.status == MemberStatus::Accepted)
                    .map(|m| (m.participant_id, m))
                    .collect();
            let new = input.parse(|p| members.contains_key(&p))?;
            let mut p = Problems::default();
            for (i, a) in new.attendance().iter().enumerate() {
                if let Some(m) = members.get(&a.participant_id()) {
                    check_joined_before(
                        &mut p,
                        &format!("attendance[{i}].participant_id"),
                        m,
                        new.starts_at(),
                    );
                }
            }
            p.finish(())?;
            let at = now();
            let session = new.record(o.id, at);
            db::sessions::insert_session(conn, &session)?;
            let mut rows = Vec::with_capacity(new.attendance().len());
            for a in new.attendance() {
                let membership = members.get(&a.participant_id()).ok_or_else(|| {
                    AppError::validation("attendance", "names someone who is not a member")
                })?;
                rows.push((a.record(session.id, at), membership.id));
            }
            db::sessions::insert_attendance(conn, &rows)?;
            let decisions: Vec<Decision> = new
                .decisions()
                .iter()
                .map(|d| d.record(session.id, at))
                .collect();
            db::sessions::insert_decisions(conn, &decisions)?;
            events::record(
                conn,
                NewEvent::new(EventType::SessionPosted, o.organisation_id)
                    .on_work(o.id, o.facilitator_organisation_id)
                    .with_data(serde_json::json!({
                        "session_id": session.id,
                        "opportunity_id": o.id,
                        "starts_at": session.starts_at.to_rfc3339(),
                        "attendance": rows.len(),
                        "decisions": decisions.len(),
                    })),
            )?;
            Ok(SessionRecord {
                session,
                attendance: rows.into_iter().map(|(a, _)| a).collect(),
                decisions,
            })
        })
        .await
}

/// Work whose records may be added to: run by the caller and not cancelled. Ended work takes
/// records still, because provider systems post history late.
fn load_recordable(
    conn: &mut DbConnection,
    principal: &Principal,
    opportunity_id: OpportunityId,
) -> Result<Opportunity, AppError> {
    let o = load_managed(conn, principal, opportunity_id)?;
    if o.status == OpportunityStatus::Cancelled {
        return Err(AppError::Conflict(
            "the work is cancelled: sessions, attendance and decisions cannot be recorded for it"
                .to_owned(),
        ));
    }
    Ok(o)
}

/// Attendance before someone joined is refused: "from the start" must be shown, not assumed.
fn check_joined_before(
    p: &mut Problems,
    field: &str,
    member: &Membership,
    session_starts_at: chrono::DateTime<chrono::Utc>,
) {
    if let Some(joined) = member.joined_at.filter(|j| *j > session_starts_at) {
        p.add(
            field,
            format!(
                "this person joined on {} but the session started on {}: attendance before someone joined cannot be recorded (staff recording history can set when they joined)",
                joined.format("%Y-%m-%d %H:%M UTC"),
                session_starts_at.format("%Y-%m-%d %H:%M UTC")
            ),
        );
    }
}

/// Who may read a session's records: those who run the work, its accepted members, and the
/// commissioner of the contract it is under.
fn load_readable(
    conn: &mut DbConnection,
    principal: &Principal,
    opportunity_id: OpportunityId,
) -> Result<Opportunity, AppError> {
    let (o, own) = load_visible(conn, principal, opportunity_id)?;
    if may_read_records_in(conn, principal, &o, own.as_ref())? {
        Ok(o)
    } else {
        Err(AppError::NotFound("opportunity"))
    }
}

/// The sessions of a piece of work, by start time, one page at a time.
pub async fn list(
    services: &Services,
    principal: &Principal,
    opportunity_id: OpportunityId,
    page: PageRequest,
) -> Result<Page<Session>, AppError> {
    let principal = principal.clone();
    services
        .db
        .read(move |conn| {
            let o = load_readable(conn, &principal, opportunity_id)?;
            let sessions = db::sessions::for_opportunities(conn, &[o.id])?;
            Ok(Page::slice(sessions, page, |s| s.id))
        })
        .await
}

fn group<K: std::hash::Hash + Eq, T>(items: Vec<T>, key: impl Fn(&T) -> K) -> HashMap<K, Vec<T>> {
    let mut map: HashMap<K, Vec<T>> = HashMap::new();
    for item in items {
        map.entry(key(&item)).or_default().push(item);
    }
    map
}

/// Loads a session and its work for reading or writing.
fn load_session(
    conn: &mut DbConnection,
    principal: &Principal,
    session_id: SessionId,
    write: bool,
) -> Result<(Session, Opportunity), AppError> {
    let session = db::sessions::find_session(conn, session_id)?.ok_or(NOT_FOUND)?;
    let o = if write {
        load_recordable(conn, principal, session.opportunity_id)
    } else {
        load_readable(conn, principal, session.opportunity_id)
    }
    .map_err(|e| match e {
        AppError::NotFound(_) => NOT_FOUND,
        other => other,
    })?;
    Ok((session, o))
}

pub async fn record_attendance(
    services: &Services,
    principal: &Principal,
    session_id: SessionId,
    input: &AttendanceInput,
) -> Result<Attendance, AppError> {
    let (principal, input) = (principal.clone(), input.clone());
    services
        .db
        .transaction(move |conn| {
            let (session, o) = load_session(conn, &principal, session_id, true)?;
            let mut p = Problems::default();
            let new = input.parse_into(&mut p, "", session.duration_minutes);
            let member = accepted_member(conn, o.id, new.participant_id())?;
            match &member {
                None => p.add("participant_id", "is not an accepted member of this work"),
                Some(m) => check_joined_before(&mut p, "participant_id", m, session.starts_at),
            }
            p.finish(())?;
            let membership = member.ok_or(AppError::NotFound("member"))?;
            let record = new.record(session_id, now());
            db::sessions::insert_attendance(conn, &[(record.clone(), membership.id)])?;
            Ok(record)
        })
        .await
}

pub async fn list_attendance(
    services: &Services,
    principal: &Principal,
    session_id: SessionId,
    page: PageRequest,
) -> Result<Page<Attendance>, AppError> {
    let principal = principal.clone();
    services
        .db
        .read(move |conn| {
            load_session(conn, &principal, session_id, false)?;
            let rows = db::sessions::attendance_for(conn, &[session_id])?;
            Ok(Page::slice(rows, page, |a| a.id))
        })
        .await
}

pub async fn record_decision(
    services: &Services,
    principal: &Principal,
    session_id: SessionId,
    input: &DecisionInput,
) -> Result<Decision, AppError> {
    let (principal, input) = (principal.clone(), input.clone());
    services
        .db
        .transaction(move |conn| {
            load_session(conn, &principal, session_id, true)?;
            let record = input.parse()?.record(session_id, now());
            db::sessions::insert_decisions(conn, std::slice::from_ref(&record))?;
            Ok(record)
        })
        .await
}

pub async fn list_decisions(
    services: &Services,
    principal: &Principal,
    session_id: SessionId,
    page: PageRequest,
) -> Result<Page<Decision>, AppError> {
    let principal = principal.clone();
    services
        .db
        .read(move |conn| {
            load_session(conn, &principal, session_id, false)?;
            let rows = db::sessions::decisions_for(conn, &[session_id])?;
            Ok(Page::slice(rows, page, |d| d.id))
        })
        .await
}

/// The sessions of many opportunities (already visible to the caller) for nested lists: one
/// query for the sessions, one more to check membership where the caller does not run the
/// work. Those who neither run the work nor are accepted members see none.
pub async fn for_many(
    services: &Services,
    principal: &Principal,
    opportunities: Vec<Opportunity>,
) -> Result<HashMap<OpportunityId, Vec<Session>>, AppError> {
    let principal = principal.clone();
    services
        .db
        .read(move |conn| {
            let readable_ids = records_readable_by(conn, &principal, &opportunities)?;
            let readable: Vec<OpportunityId> = opportunities
                .iter()
                .map(|o| o.id)
                .filter(|id| readable_ids.contains(id))
                .collect();
            let mut by_opportunity =
                group(db::sessions::for_opportunities(conn, &readable)?, |s| {
                    s.opportunity_id
                });
            Ok(opportunities
                .iter()
                .map(|o| (o.id, by_opportunity.remove(&o.id).unwrap_or_default()))
                .collect())
        })
        .await
}

/// Attendance at many sessions (already checked readable by the caller), in one query.
pub async fn attendance_for_many(
    services: &Services,
    session_ids: Vec<SessionId>,
) -> Result<HashMap<SessionId, Vec<Attendance>>, AppError> {
    services
        .db
        .read(move |conn| {
            Ok(group(
                db::sessions::attendance_for(conn, &session_ids)?,
                |a| a.session_id,
            ))
        })
        .await
}

/// Decisions at many sessions (already checked readable by the caller), in one query.
pub async fn decisions_for_many(
    services: &Services,
    session_ids: Vec<SessionId>,
) -> Result<HashMap<SessionId, Vec<Decision>>, AppError> {
    services
        .db
        .read(move |conn| {
            Ok(group(
                db::sessions::decisions_for(conn, &session_ids)?,
                |d| d.session_id,
            ))
        })
        .await
}

/// Attendance across work, for checking an evidence report's people and hours: those who run
/// or facilitate the work see its attendance, a commissioner that of work under its contracts,
/// a person their own, admins all.
pub async fn attendance_across(
    services: &Services,
    principal: &Principal,
    filter: AttendanceFilter,
    page: PageRequest,
) -> Result<Page<Attendance>, AppError> {
    use crate::db::sessions::AttendanceScope;
    let filter = filter.checked()?;
    let scope = if principal.is_admin() {
        AttendanceScope::All
    } else if let Some(p) = super::opportunities::participant_of(principal) {
        AttendanceScope::Participant(p)
    } else if let (true, Some(org)) = (principal.is_staff(), principal.organisation_id) {
        AttendanceScope::Organisation {
            organisation: org,
            commissioner: principal.has(crate::domain::identity::Role::Commissioner),
        }
    } else {
        return Ok(Page::from_rows(Vec::new(), page, |a: &Attendance| a.id));
    };
    let rows = services
        .db
        .read(move |conn| db::sessions::list_attendance(conn, &filter, scope, page))
        .await?;
    Ok(Page::from_rows(rows, page, |a| a.id))
}
