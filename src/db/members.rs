//! Rows and queries for memberships.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::opportunities::parse_stored;
use super::schema::memberships;
use super::{from_db_time, parse_id, to_db_time, DbConnection};
use crate::domain::id::{MembershipId, OpportunityId, ParticipantId};
use crate::domain::membership::{InterestDeclaration, Membership};
use crate::error::AppError;

#[derive(Debug, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = memberships, treat_none_as_null = true)]
pub struct MembershipRow {
    pub id: String,
    pub opportunity_id: String,
    pub participant_id: String,
    pub role: String,
    pub experience: String,
    pub status: String,
    pub created_at: NaiveDateTime,
    pub joined_at: Option<NaiveDateTime>,
    pub left_at: Option<NaiveDateTime>,
    pub interests_declared_at: Option<NaiveDateTime>,
    pub has_conflict: bool,
    pub interest_details: Option<String>,
    pub scoring: bool,
    pub version: i32,
}

impl MembershipRow {
    pub fn from_domain(m: &Membership) -> Self {
        Self {
            id: m.id.to_string(),
            opportunity_id: m.opportunity_id.to_string(),
            participant_id: m.participant_id.to_string(),
            role: m.role.as_str().to_owned(),
            experience: m.experience.as_str().to_owned(),
            status: m.status.as_str().to_owned(),
            created_at: to_db_time(m.created_at),
            joined_at: m.joined_at.map(to_db_time),
            left_at: m.left_at.map(to_db_time),
            interests_declared_at: m.interests.as_ref().map(|i| to_db_time(i.declared_at)),
            has_conflict: m.interests.as_ref().is_some_and(|i| i.has_conflict),
            interest_details: m.interests.as_ref().and_then(|i| i.details.clone()),
            scoring: m.scoring,
            version: m.version,
        }
    }

    pub fn into_domain(self) -> Result<Membership, AppError> {
        Ok(Membership {
            id: parse_id(&self.id)?,
            opportunity_id: parse_id(&self.opportunity_id)?,
            participant_id: parse_id(&self.participant_id)?,
            role: parse_stored(&self.role)?,
            experience: parse_stored(&self.experience)?,
            status: parse_stored(&self.status)?,
            created_at: from_db_time(self.created_at),
            joined_at: self.joined_at.map(from_db_time),
            joined_from_start: None,
            left_at: self.left_at.map(from_db_time),
            interests: self.interests_declared_at.map(|at| InterestDeclaration {
                declared_at: from_db_time(at),
                has_conflict: self.has_conflict,
                details: self.interest_details.clone(),
            }),
            scoring: self.scoring,
            version: self.version,
        })
    }
}

pub fn insert(conn: &mut DbConnection, m: &Membership) -> Result<(), AppError> {
    diesel::insert_into(memberships::table)
        .values(MembershipRow::from_domain(m))
        .execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConnection, id: MembershipId) -> Result<Option<Membership>, AppError> {
    memberships::table
        .find(id.to_string())
        .select(MembershipRow::as_select())
        .first(conn)
        .optional()?
        .map(MembershipRow::into_domain)
        .transpose()
}

pub fn find_for(
    conn: &mut DbConnection,
    opportunity_id: OpportunityId,
    participant_id: ParticipantId,
) -> Result<Option<Membership>, AppError> {
    memberships::table
        .filter(memberships::opportunity_id.eq(opportunity_id.to_string()))
        .filter(memberships::participant_id.eq(participant_id.to_string()))
        .select(MembershipRow::as_select())
        .first(conn)
        .optional()?
        .map(MembershipRow::into_domain)
        .transpose()
}

/// Every membership of the given opportunities, in one query, in creation order.
pub fn for_opportunities(
    conn: &mut DbConnection,
    opportunity_ids: &[OpportunityId],
) -> Result<Vec<Membership>, AppError> {
    let ids: Vec<String> = opportunity_ids
        .iter()
        .map(OpportunityId::to_string)
        .collect();
    memberships::table
        .filter(memberships::opportunity_id.eq_any(&ids))
        .order(memberships::id.asc())
        .select(MembershipRow::as_select())
        .load(conn)?
        .into_iter()
        .map(MembershipRow::into_domain)
        .collect()
}

/// Writes the new state if the stored version is still `expected_version`.
pub fn update_if_version(
    conn: &mut DbConnection,
    m: &Membership,
    expected_version: i32,
) -> Result<bool, AppError> {
    let row = MembershipRow::from_domain(m);
    let changed = diesel::update(
        memberships::table
            .filter(memberships::id.eq(&row.id))
            .filter(memberships::version.eq(expected_version)),
    )
    .set(&row)
    .execute(conn)?;
    Ok(changed == 1)
}

/// One participant's memberships among the given opportunities, in one query.
pub fn of_participant_in(
    conn: &mut DbConnection,
    participant_id: ParticipantId,
    opportunity_ids: &[OpportunityId],
) -> Result<Vec<Membership>, AppError> {
    let ids: Vec<String> = opportunity_ids
        .iter()
        .map(OpportunityId::to_string)
        .collect();
    memberships::table
        .filter(memberships::participant_id.eq(participant_id.to_string()))
        .filter(memberships::opportunity_id.eq_any(&ids))
        .select(MembershipRow::as_select())
        .load(conn)?
        .into_iter()
        .map(MembershipRow::into_domain)
        .collect()
}

/// Every membership of one person, in creation order.
pub fn of_participant(
    conn: &mut DbConnection,
    participant_id: ParticipantId,
) -> Result<Vec<Membership>, AppError> {
    memberships::table
        .filter(memberships::participant_id.eq(participant_id.to_string()))
        .order(memberships::id.asc())
        .select(MembershipRow::as_select())
        .load(conn)?
        .into_iter()
        .map(MembershipRow::into_domain)
        .collect()
}

/// One page of a piece of work's accepted members with the name each goes by (the preferred
/// name when there is one; none once erased), in one query: the group directory.
pub fn accepted_page_with_names(
    conn: &mut DbConnection,
    opportunity_id: OpportunityId,
    page: crate::domain::page::PageRequest,
) -> Result<Vec<(Membership, Option<String>)>, AppError> {
    use super::schema::participants;
    let query = keyset_page!(
        memberships::table
            .inner_join(participants::table)
            .filter(memberships::opportunity_id.eq(opportunity_id.to_string()))
            .filter(
                memberships::status.eq(crate::domain::membership::MemberStatus::Accepted.as_str())
            )
            .select((
                MembershipRow::as_select(),
                participants::preferred_name,
                participants::name,
            )),
        memberships::id,
        page
    );
    query
        .load::<(MembershipRow, Option<String>, Option<String>)>(conn)?
        .into_iter()
        .map(|(m, preferred, name)| Ok((m.into_domain()?, preferred.or(name))))
        .collect()
}
