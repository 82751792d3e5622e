//! Sessions of a piece of work, with attendance and decisions. A provider system can post a
//! session with everything recorded at it in one call: all of it is stored, or none.

use std::collections::HashMap;

use uuid::Uuid;

use super::members::accepted_member;
use super::opportunities::{can_manage, load_managed, load_visible};
use super::Services;
use crate::db::{self, DbConnection};
use crate::domain::identity::Principal;
use crate::domain::membership::MemberStatus;
use crate::domain::opportunity::Opportunity;
use crate::domain::session::{
    check_attendance, check_decision, Attendance, AttendanceInput, Decision, DecisionInput,
    Session, SessionInput, SessionRecord,
};
use crate::domain::validation::Problems;
use crate::domain::{new_id, now};
use crate::error::AppError;

const NOT_FOUND: AppError = AppError::NotFound("session");

pub async fn create(
    services: &Services,
    principal: &Principal,
    opportunity_id: Uuid,
    input: &SessionInput,
) -> Result<SessionRecord, AppError> {
    let (principal, input) = (principal.clone(), input.clone());
    services
        .db
        .transaction(move |conn| {
            let o = load_managed(conn, &principal, opportunity_id)?;
            let members: HashMap<Uuid, Uuid> = db::members::for_opportunities(conn, &[o.id])?
                .into_iter()
                .filter(|m| m.status == MemberStatus::Accepted)
                .map(|m| (m.participant_id, m.id))
                .collect();
            input.check(|p| members.contains_key(&p))?;
            let at = now();
            let session = Session {
                id: new_id(),
                opportunity_id: o.id,
                starts_at: crate::domain::truncate_to_micros(input.starts_at),
                duration_minutes: input.duration_minutes,
                format: input.format,
                lived_experience_agenda_slot: input.lived_experience_agenda_slot,
                created_at: at,
            };
            db::sessions::insert_session(conn, &session)?;
            let mut attendance = Vec::new();
            for a in &input.attendance {
                let record = Attendance {
                    id: new_id(),
                    session_id: session.id,
                    participant_id: a.participant_id,
                    minutes: a.minutes,
                    participation: a.participation,
                    recorded_at: at,
                };
                let membership = members.get(&a.participant_id).copied().ok_or_else(|| {
                    AppError::validation("attendance", "names someone who is not a member")
                })?;
                db::sessions::insert_attendance(conn, &record, membership)?;
                attendance.push(record);
            }
            let mut decisions = Vec::new();
            for d in &input.decisions {
                let record = Decision {
                    id: new_id(),
                    session_id: session.id,
                    description: d.description.trim().to_owned(),
                    shared_with_lived_experience: d.shared_with_lived_experience,
                    recorded_at: at,
                };
                db::sessions::insert_decision(conn, &record)?;
                decisions.push(record);
            }
            Ok(SessionRecord {
                session,
                attendance,
                decisions,
            })
        })
        .await
}

/// Who may read a session's records: those who run the work and its accepted members.
fn load_readable(
    conn: &mut DbConnection,
    principal: &Principal,
    opportunity_id: Uuid,
) -> Result<Opportunity, AppError> {
    let (o, own) = load_visible(conn, principal, opportunity_id)?;
    let member = own.is_some_and(|m| m.status == MemberStatus::Accepted);
    if can_manage(principal, &o) || member {
        Ok(o)
    } else {
        Err(AppError::NotFound("opportunity"))
    }
}

/// Every session of a piece of work with its attendance and decisions (three queries).
pub async fn list(
    services: &Services,
    principal: &Principal,
    opportunity_id: Uuid,
) -> Result<Vec<SessionRecord>, AppError> {
    let principal = principal.clone();
    services
        .db
        .run(move |conn| {
            let o = load_readable(conn, &principal, opportunity_id)?;
            let sessions = db::sessions::for_opportunities(conn, &[o.id])?;
            records(conn, sessions)
        })
        .await
}

/// Sessions with their attendance and decisions attached.
pub fn records(
    conn: &mut DbConnection,
    sessions: Vec<Session>,
) -> Result<Vec<SessionRecord>, AppError> {
    let ids: Vec<Uuid> = sessions.iter().map(|s| s.id).collect();
    let mut attendance = group(db::sessions::attendance_for(conn, &ids)?, |a| a.session_id);
    let mut decisions = group(db::sessions::decisions_for(conn, &ids)?, |d| d.session_id);
    Ok(sessions
        .into_iter()
        .map(|s| SessionRecord {
            attendance: attendance.remove(&s.id).unwrap_or_default(),
            decisions: decisions.remove(&s.id).unwrap_or_default(),
            session: s,
        })
        .collect())
}

fn group<T>(items: Vec<T>, key: impl Fn(&T) -> Uuid) -> HashMap<Uuid, Vec<T>> {
    let mut map: HashMap<Uuid, Vec<T>> = HashMap::new();
    for item in items {
        map.entry(key(&item)).or_default().push(item);
    }
    map
}

/// Loads a session and its work for reading or writing.
fn load_session(
    conn: &mut DbConnection,
    principal: &Principal,
    session_id: Uuid,
    write: bool,
) -> Result<(Session, Opportunity), AppError> {
    let session = db::sessions::find_session(conn, session_id)?.ok_or(NOT_FOUND)?;
    let o = if write {
        load_managed(conn, principal, session.opportunity_id)
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
    session_id: Uuid,
    input: &AttendanceInput,
) -> Result<Attendance, AppError> {
    let (principal, input) = (principal.clone(), input.clone());
    services
        .db
        .transaction(move |conn| {
            let (session, o) = load_session(conn, &principal, session_id, true)?;
            let mut p = Problems::default();
            check_attendance(&mut p, "", &input, session.duration_minutes);
            let member = accepted_member(conn, o.id, input.participant_id)?;
            if member.is_none() {
                p.add("participant_id", "is not an accepted member of this work");
            }
            p.finish(())?;
            let membership = member.ok_or(AppError::NotFound("member"))?;
            let record = Attendance {
                id: new_id(),
                session_id,
                participant_id: input.participant_id,
                minutes: input.minutes,
                participation: input.participation,
                recorded_at: now(),
            };
            db::sessions::insert_attendance(conn, &record, membership.id)?;
            Ok(record)
        })
        .await
}

pub async fn list_attendance(
    services: &Services,
    principal: &Principal,
    session_id: Uuid,
) -> Result<Vec<Attendance>, AppError> {
    let principal = principal.clone();
    services
        .db
        .run(move |conn| {
            load_session(conn, &principal, session_id, false)?;
            db::sessions::attendance_for(conn, &[session_id])
        })
        .await
}

pub async fn record_decision(
    services: &Services,
    principal: &Principal,
    session_id: Uuid,
    input: &DecisionInput,
) -> Result<Decision, AppError> {
    let (principal, input) = (principal.clone(), input.clone());
    services
        .db
        .transaction(move |conn| {
            load_session(conn, &principal, session_id, true)?;
            let mut p = Problems::default();
            let description = check_decision(&mut p, "", &input);
            let Some(description) = description else {
                return Err(p.into_errors().into());
            };
            let record = Decision {
                id: new_id(),
                session_id,
                description,
                shared_with_lived_experience: input.shared_with_lived_experience,
                recorded_at: now(),
            };
            db::sessions::insert_decision(conn, &record)?;
            Ok(record)
        })
        .await
}

pub async fn list_decisions(
    services: &Services,
    principal: &Principal,
    session_id: Uuid,
) -> Result<Vec<Decision>, AppError> {
    let principal = principal.clone();
    services
        .db
        .run(move |conn| {
            load_session(conn, &principal, session_id, false)?;
            db::sessions::decisions_for(conn, &[session_id])
        })
        .await
}

/// The sessions of many opportunities for nested lists: one query for those the caller runs,
/// one more to check membership for the rest. Non-members see none.
pub async fn for_many(
    services: &Services,
    principal: &Principal,
    keys: Vec<(Uuid, bool)>,
) -> Result<HashMap<Uuid, Vec<Session>>, AppError> {
    let me = crate::service::opportunities::participant_of(principal);
    services
        .db
        .run(move |conn| {
            let unmanaged: Vec<Uuid> = keys.iter().filter(|(_, m)| !m).map(|(id, _)| *id).collect();
            let member_of: std::collections::HashSet<Uuid> = match (me, unmanaged.is_empty()) {
                (Some(p), false) => db::members::of_participant_in(conn, p, &unmanaged)?
                    .into_iter()
                    .filter(|m| m.status == MemberStatus::Accepted)
                    .map(|m| m.opportunity_id)
                    .collect(),
                _ => Default::default(),
            };
            let readable: Vec<Uuid> = keys
                .iter()
                .filter(|(id, manage)| *manage || member_of.contains(id))
                .map(|(id, _)| *id)
                .collect();
            let mut by_opportunity =
                group(db::sessions::for_opportunities(conn, &readable)?, |s| {
                    s.opportunity_id
                });
            Ok(keys
                .into_iter()
                .map(|(id, _)| (id, by_opportunity.remove(&id).unwrap_or_default()))
                .collect())
        })
        .await
}

/// Attendance at many sessions (already checked readable by the caller), in one query.
pub async fn attendance_for_many(
    services: &Services,
    session_ids: Vec<Uuid>,
) -> Result<HashMap<Uuid, Vec<Attendance>>, AppError> {
    services
        .db
        .run(move |conn| {
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
    session_ids: Vec<Uuid>,
) -> Result<HashMap<Uuid, Vec<Decision>>, AppError> {
    services
        .db
        .run(move |conn| {
            Ok(group(
                db::sessions::decisions_for(conn, &session_ids)?,
                |d| d.session_id,
            ))
        })
        .await
}
