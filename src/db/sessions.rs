//! Rows and queries for sessions, attendance and decisions.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::opportunities::parse_stored;
use super::schema::{attendance, contracts, decisions, opportunities, sessions};
use super::{from_db_time, parse_id, to_db_time, DbConnection};
use crate::domain::id::{MembershipId, OpportunityId, SessionId};
use crate::domain::id::{OrganisationId, ParticipantId};
use crate::domain::page::PageRequest;
use crate::domain::session::{Attendance, AttendanceFilter, Decision, Session};
use crate::error::AppError;

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
pub struct SessionRow {
    pub id: String,
    pub opportunity_id: String,
    pub starts_at: NaiveDateTime,
    pub duration_minutes: i32,
    pub format: String,
    pub lived_experience_agenda_slot: bool,
    pub created_at: NaiveDateTime,
}

impl SessionRow {
    fn into_domain(self) -> Result<Session, AppError> {
        Ok(Session {
            id: parse_id(&self.id)?,
            opportunity_id: parse_id(&self.opportunity_id)?,
            starts_at: from_db_time(self.starts_at),
            duration_minutes: self.duration_minutes,
            format: parse_stored(&self.format)?,
            lived_experience_agenda_slot: self.lived_experience_agenda_slot,
            created_at: from_db_time(self.created_at),
        })
    }
}

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = attendance)]
pub struct AttendanceRow {
    pub id: String,
    pub session_id: String,
    pub membership_id: String,
    pub participant_id: String,
    pub minutes: i32,
    pub participation: String,
    pub recorded_at: NaiveDateTime,
}

impl AttendanceRow {
    fn into_domain(self) -> Result<Attendance, AppError> {
        Ok(Attendance {
            id: parse_id(&self.id)?,
            session_id: parse_id(&self.session_id)?,
            participant_id: parse_id(&self.participant_id)?,
            minutes: self.minutes,
            participation: parse_stored(&self.participation)?,
            recorded_at: from_db_time(self.recorded_at),
        })
    }
}

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = decisions)]
pub struct DecisionRow {
    pub id: String,
    pub session_id: String,
    pub description: String,
    pub shared_with_lived_experience: bool,
    pub recorded_at: NaiveDateTime,
}

impl DecisionRow {
    fn into_domain(self) -> Result<Decision, AppError> {
        Ok(Decision {
            id: parse_id(&self.id)?,
            session_id: parse_id(&self.session_id)?,
            description: self.description,
            shared_with_lived_experience: self.shared_with_lived_experience,
            recorded_at: from_db_time(self.recorded_at),
        })
    }
}

pub fn insert_session(conn: &mut DbConnection, s: &Session) -> Result<(), AppError> {
    diesel::insert_into(sessions::table)
        .values(SessionRow {
            id: s.id.to_string(),
            opportunity_id: s.opportunity_id.to_string(),
            starts_at: to_db_time(s.starts_at),
            duration_minutes: s.duration_minutes,
            format: s.format.as_str().to_owned(),
            lived_experience_agenda_slot: s.lived_experience_agenda_slot,
            created_at: to_db_time(s.created_at),
        })
        .execute(conn)?;
    Ok(())
}

/// Attendance rows, each with the membership it belongs to, in one statement.
pub fn insert_attendance(
    conn: &mut DbConnection,
    rows: &[(Attendance, MembershipId)],
) -> Result<(), AppError> {
    if rows.is_empty() {
        return Ok(());
    }
    let values: Vec<AttendanceRow> = rows
        .iter()
        .map(|(a, membership_id)| AttendanceRow {
            id: a.id.to_string(),
            session_id: a.session_id.to_string(),
            membership_id: membership_id.to_string(),
            participant_id: a.participant_id.to_string(),
            minutes: a.minutes,
            participation: a.participation.as_str().to_owned(),
            recorded_at: to_db_time(a.recorded_at),
        })
        .collect();
    // Batch inserts are written per backend: the multi-backend connection cannot build one.
    let result = match conn {
        DbConnection::Postgresql(c) => diesel::insert_into(attendance::table)
            .values(&values)
            .execute(c),
        DbConnection::Sqlite(c) => diesel::insert_into(attendance::table)
            .values(&values)
            .execute(c),
    };
    match result {
        Ok(_) => Ok(()),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Err(AppError::Conflict(
            "attendance for this person at this session is already recorded".to_owned(),
        )),
        Err(e) => Err(e.into()),
    }
}

/// Decisions, in one statement.
pub fn insert_decisions(conn: &mut DbConnection, rows: &[Decision]) -> Result<(), AppError> {
    if rows.is_empty() {
        return Ok(());
    }
    let values: Vec<DecisionRow> = rows
        .iter()
        .map(|d| DecisionRow {
            id: d.id.to_string(),
            session_id: d.session_id.to_string(),
            description: d.description.clone(),
            shared_with_lived_experience: d.shared_with_lived_experience,
            recorded_at: to_db_time(d.recorded_at),
        })
        .collect();
    match conn {
        DbConnection::Postgresql(c) => diesel::insert_into(decisions::table)
            .values(&values)
            .execute(c)?,
        DbConnection::Sqlite(c) => diesel::insert_into(decisions::table)
            .values(&values)
            .execute(c)?,
    };
    Ok(())
}

pub fn find_session(conn: &mut DbConnection, id: SessionId) -> Result<Option<Session>, AppError> {
    sessions::table
        .find(id.to_string())
        .select(SessionRow::as_select())
        .first(conn)
        .optional()?
        .map(SessionRow::into_domain)
        .transpose()
}

/// The sessions of many opportunities, in one query, by start time.
pub fn for_opportunities(
    conn: &mut DbConnection,
    opportunity_ids: &[OpportunityId],
) -> Result<Vec<Session>, AppError> {
    let ids: Vec<String> = opportunity_ids
        .iter()
        .map(OpportunityId::to_string)
        .collect();
    sessions::table
        .filter(sessions::opportunity_id.eq_any(&ids))
        .order((sessions::starts_at.asc(), sessions::id.asc()))
        .select(SessionRow::as_select())
        .load(conn)?
        .into_iter()
        .map(SessionRow::into_domain)
        .collect()
}

/// The attendance at many sessions, in one query.
pub fn attendance_for(
    conn: &mut DbConnection,
    session_ids: &[SessionId],
) -> Result<Vec<Attendance>, AppError> {
    let ids: Vec<String> = session_ids.iter().map(SessionId::to_string).collect();
    attendance::table
        .filter(attendance::session_id.eq_any(&ids))
        .order(attendance::id.asc())
        .select(AttendanceRow::as_select())
        .load(conn)?
        .into_iter()
        .map(AttendanceRow::into_domain)
        .collect()
}

/// The decisions at many sessions, in one query.
pub fn decisions_for(
    conn: &mut DbConnection,
    session_ids: &[SessionId],
) -> Result<Vec<Decision>, AppError> {
    let ids: Vec<String> = session_ids.iter().map(SessionId::to_string).collect();
    decisions::table
        .filter(decisions::session_id.eq_any(&ids))
        .order(decisions::id.asc())
        .select(DecisionRow::as_select())
        .load(conn)?
        .into_iter()
        .map(DecisionRow::into_domain)
        .collect()
}

/// The attendance recorded under these memberships (one person's, for their export).
pub fn attendance_of_memberships(
    conn: &mut DbConnection,
    membership_ids: &[MembershipId],
) -> Result<Vec<Attendance>, AppError> {
    let ids: Vec<String> = membership_ids.iter().map(MembershipId::to_string).collect();
    attendance::table
        .filter(attendance::membership_id.eq_any(&ids))
        .order(attendance::id.asc())
        .select(AttendanceRow::as_select())
        .load(conn)?
        .into_iter()
        .map(AttendanceRow::into_domain)
        .collect()
}

/// Whose attendance a list may show.
#[derive(Debug, Clone, Copy)]
pub enum AttendanceScope {
    All,
    /// At work the organisation runs or facilitates, and, for a commissioner, work under its
    /// contracts.
    Organisation {
        organisation: OrganisationId,
        commissioner: bool,
    },
    /// The person's own.
    Participant(ParticipantId),
}

/// One page of attendance in id order, filtered by the work and the session's start.
pub fn list_attendance(
    conn: &mut DbConnection,
    filter: &AttendanceFilter,
    scope: AttendanceScope,
    page: PageRequest,
) -> Result<Vec<Attendance>, AppError> {
    use opportunities::dsl as o;
    let mut query = keyset_page!(
        attendance::table
            .inner_join(sessions::table.inner_join(opportunities::table))
            .select(AttendanceRow::as_select()),
        attendance::id,
        page
    );
    match scope {
        AttendanceScope::All => {}
        AttendanceScope::Organisation {
            organisation,
            commissioner,
        } => {
            let org = organisation.to_string();
            let commissioned = contracts::table
                .filter(contracts::commissioner_id.eq(if commissioner {
                    org.clone()
                } else {
                    String::new()
                }))
                .select(contracts::id.nullable());
            query = query.filter(
                o::organisation_id
                    .eq(org.clone())
                    .or(o::facilitator_organisation_id.eq(org))
                    .or(o::contract_id.eq_any(commissioned)),
            );
        }
        AttendanceScope::Participant(p) => {
            query = query.filter(attendance::participant_id.eq(p.to_string()));
        }
    }
    if let Some(org) = filter.organisation_id {
        query = query.filter(o::organisation_id.eq(org.to_string()));
    }
    if let Some(c) = filter.contract_id {
        query = query.filter(o::contract_id.eq(c.to_string()));
    }
    if let Some(id) = filter.opportunity_id {
        query = query.filter(o::id.eq(id.to_string()));
    }
    if let Some(from) = filter.from {
        query = query.filter(sessions::starts_at.ge(from.and_time(chrono::NaiveTime::MIN)));
    }
    if let Some(to) = filter.to {
        query = query.filter(sessions::starts_at.lt(to.and_time(chrono::NaiveTime::MIN)));
    }
    query
        .load(conn)?
        .into_iter()
        .map(AttendanceRow::into_domain)
        .collect()
}
