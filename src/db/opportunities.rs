//! Rows and queries for opportunities.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{contracts, memberships, opportunities};
use super::{from_db_time, parse_id, to_db_time, DbConnection};
use crate::domain::id::{OpportunityId, OrganisationId, ParticipantId};
use crate::domain::ladder::OpportunityStatus;
use crate::domain::opportunity::{Opportunity, OpportunityFilter};
use crate::domain::page::PageRequest;
use crate::error::AppError;

#[derive(Debug, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = opportunities, treat_none_as_null = true)]
pub struct OpportunityRow {
    pub id: String,
    pub organisation_id: String,
    pub contract_id: Option<String>,
    pub facilitator_organisation_id: Option<String>,
    pub title: String,
    pub description: String,
    pub easy_read_description: Option<String>,
    pub kind: String,
    pub claimed_mode: String,
    pub status: String,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub format: String,
    pub venue: Option<String>,
    pub places: Option<i32>,
    pub places_taken: i32,
    pub time_commitment: Option<String>,
    pub paid: bool,
    pub payment_policy_id: Option<String>,
    pub other_recognition: Option<String>,
    pub support_offered: String,
    pub lived_experience_areas: String,
    pub for_carers: bool,
    pub admission: String,
    pub advertised_on: Option<NaiveDate>,
    pub closing_on: Option<NaiveDate>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i32,
}

/// `[a, b]` as `,a,b,`: a filter matches one value with `LIKE '%,a,%'`.
pub fn list_to_text<T>(items: &[T], name: impl Fn(&T) -> &'static str) -> String {
    let mut out = String::from(",");
    for item in items {
        out.push_str(name(item));
        out.push(',');
    }
    out
}

pub fn list_from_text<T: std::str::FromStr>(text: &str) -> Result<Vec<T>, AppError>
where
    T::Err: std::fmt::Display,
{
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<T>().map_err(AppError::internal))
        .collect()
}

pub fn parse_stored<T: std::str::FromStr>(text: &str) -> Result<T, AppError>
where
    T::Err: std::fmt::Display,
{
    text.parse::<T>().map_err(AppError::internal)
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

impl OpportunityRow {
    pub fn from_domain(o: &Opportunity) -> Self {
        Self {
            id: o.id.to_string(),
            organisation_id: o.organisation_id.to_string(),
            contract_id: opt_id(o.contract_id),
            facilitator_organisation_id: opt_id(o.facilitator_organisation_id),
            title: o.title.clone(),
            description: o.description.clone(),
            easy_read_description: o.easy_read_description.clone(),
            kind: o.kind.as_str().to_owned(),
            claimed_mode: o.claimed_mode.as_str().to_owned(),
            status: o.status.as_str().to_owned(),
            starts_on: o.starts_on,
            ends_on: o.ends_on,
            format: o.format.as_str().to_owned(),
            venue: o.venue.clone(),
            places: o.places,
            places_taken: o.places_taken,
            time_commitment: o.time_commitment.clone(),
            paid: o.paid,
            payment_policy_id: opt_id(o.payment_policy_id),
            other_recognition: o.other_recognition.clone(),
            support_offered: list_to_text(&o.support_offered, |s| s.as_str()),
            lived_experience_areas: list_to_text(&o.lived_experience_areas, |a| a.as_str()),
            for_carers: o.for_carers,
            admission: o.admission.as_str().to_owned(),
            advertised_on: o.advertised_on,
            closing_on: o.closing_on,
            created_at: to_db_time(o.created_at),
            updated_at: to_db_time(o.updated_at),
            version: o.version,
        }
    }

    pub fn into_domain(self) -> Result<Opportunity, AppError> {
        Ok(Opportunity {
            id: parse_id(&self.id)?,
            organisation_id: parse_id(&self.organisation_id)?,
            contract_id: parse_opt_id(self.contract_id.as_deref())?,
            facilitator_organisation_id: parse_opt_id(self.facilitator_organisation_id.as_deref())?,
            title: self.title,
            description: self.description,
            easy_read_description: self.easy_read_description,
            kind: parse_stored(&self.kind)?,
            claimed_mode: parse_stored(&self.claimed_mode)?,
            status: parse_stored(&self.status)?,
            starts_on: self.starts_on,
            ends_on: self.ends_on,
            format: parse_stored(&self.format)?,
            venue: self.venue,
            places: self.places,
            places_taken: self.places_taken,
            time_commitment: self.time_commitment,
            paid: self.paid,
            payment_policy_id: parse_opt_id(self.payment_policy_id.as_deref())?,
            other_recognition: self.other_recognition,
            support_offered: list_from_text(&self.support_offered)?,
            lived_experience_areas: list_from_text(&self.lived_experience_areas)?,
            for_carers: self.for_carers,
            admission: parse_stored(&self.admission)?,
            advertised_on: self.advertised_on,
            closing_on: self.closing_on,
            created_at: from_db_time(self.created_at),
            updated_at: from_db_time(self.updated_at),
            version: self.version,
            evidence: None,
        })
    }
}

pub fn insert(conn: &mut DbConnection, o: &Opportunity) -> Result<(), AppError> {
    diesel::insert_into(opportunities::table)
        .values(OpportunityRow::from_domain(o))
        .execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConnection, id: OpportunityId) -> Result<Option<Opportunity>, AppError> {
    opportunities::table
        .find(id.to_string())
        .select(OpportunityRow::as_select())
        .first(conn)
        .optional()?
        .map(OpportunityRow::into_domain)
        .transpose()
}

/// Many opportunities by id, in one query.
pub fn find_many(
    conn: &mut DbConnection,
    ids: &[OpportunityId],
) -> Result<Vec<Opportunity>, AppError> {
    let ids: Vec<String> = ids.iter().map(OpportunityId::to_string).collect();
    opportunities::table
        .filter(opportunities::id.eq_any(&ids))
        .select(OpportunityRow::as_select())
        .load(conn)?
        .into_iter()
        .map(OpportunityRow::into_domain)
        .collect()
}

/// Whose opportunities a caller may list beyond the advertised ones.
#[derive(Debug, Clone, Copy)]
pub enum Visibility {
    All,
    /// Advertised work, and work the organisation runs or facilitates.
    Organisation(OrganisationId),
    /// Advertised work, work the organisation runs or facilitates, and work under contracts
    /// it commissions.
    Commissioner(OrganisationId),
    /// Advertised work, and work the participant is a member of.
    Participant(ParticipantId),
    AdvertisedOnly,
}

const ADVERTISED: &str = "advertised";

pub fn list(
    conn: &mut DbConnection,
    filter: &OpportunityFilter,
    visibility: Visibility,
    page: PageRequest,
) -> Result<Vec<Opportunity>, AppError> {
    use opportunities::dsl as o;
    let mut query = keyset_page!(
        o::opportunities.select(OpportunityRow::as_select()),
        o::id,
        page
    );
    if let Some(status) = filter.status {
        query = query.filter(o::status.eq(status.as_str()));
    }
    // Advertised work is visible to everyone, so asking only for it needs no visibility rule
    // (and the query stays a plain range over the status index).
    let visibility = if filter.status == Some(OpportunityStatus::Advertised) {
        Visibility::All
    } else {
        visibility
    };
    match visibility {
        Visibility::All => {}
        Visibility::AdvertisedOnly => query = query.filter(o::status.eq(ADVERTISED)),
        Visibility::Organisation(org) => {
            let org = org.to_string();
            query = query.filter(
                o::status
                    .eq(ADVERTISED)
                    .or(o::organisation_id.eq(org.clone()))
                    .or(o::facilitator_organisation_id.eq(org)),
            );
        }
        Visibility::Commissioner(org) => {
            let org = org.to_string();
            let commissioned = contracts::table
                .filter(contracts::commissioner_id.eq(org.clone()))
                .select(contracts::id.nullable());
            query = query.filter(
                o::status
                    .eq(ADVERTISED)
                    .or(o::organisation_id.eq(org.clone()))
                    .or(o::facilitator_organisation_id.eq(org))
                    .or(o::contract_id.eq_any(commissioned)),
            );
        }
        Visibility::Participant(participant) => {
            let theirs = memberships::table
                .filter(memberships::participant_id.eq(participant.to_string()))
                .filter(memberships::status.ne("declined"))
                .select(memberships::opportunity_id);
            query = query.filter(o::status.eq(ADVERTISED).or(o::id.eq_any(theirs)));
        }
    }
    if let Some(kind) = filter.kind {
        query = query.filter(o::kind.eq(kind.as_str()));
    }
    if let Some(format) = filter.format {
        query = query.filter(o::format.eq(format.as_str()));
    }
    if let Some(area) = filter.lived_experience_area {
        query = query.filter(o::lived_experience_areas.like(format!("%,{},%", area.as_str())));
    }
    if let Some(paid) = filter.paid {
        query = query.filter(o::paid.eq(paid));
    }
    if let Some(support) = filter.support {
        query = query.filter(o::support_offered.like(format!("%,{},%", support.as_str())));
    }
    if let Some(after) = filter.starts_after {
        query = query.filter(o::starts_on.ge(after));
    }
    if let Some(before) = filter.starts_before {
        query = query.filter(o::starts_on.le(before));
    }
    match filter.has_places {
        Some(true) => {
            query = query.filter(
                o::places
                    .is_null()
                    .or(o::places_taken.lt(o::places.assume_not_null())),
            )
        }
        Some(false) => query = query.filter(o::places_taken.ge(o::places.assume_not_null())),
        None => {}
    }
    if let Some(org) = filter.organisation_id {
        query = query.filter(o::organisation_id.eq(org.to_string()));
    }
    if let Some(contract) = filter.contract_id {
        query = query.filter(o::contract_id.eq(contract.to_string()));
    }
    if filter.active_from.is_some() || filter.active_to.is_some() {
        query = query.filter(o::status.ne("draft"));
    }
    if let Some(to) = filter.active_to {
        query = query.filter(o::starts_on.is_null().or(o::starts_on.lt(to)));
    }
    if let Some(from) = filter.active_from {
        query = query.filter(o::ends_on.is_null().or(o::ends_on.ge(from)));
    }
    query
        .load(conn)?
        .into_iter()
        .map(OpportunityRow::into_domain)
        .collect()
}

/// Writes the whole new state if the stored version is still `expected_version`.
pub fn update_if_version(
    conn: &mut DbConnection,
    o: &Opportunity,
    expected_version: i32,
) -> Result<bool, AppError> {
    let row = OpportunityRow::from_domain(o);
    let changed = diesel::update(
        opportunities::table
            .filter(opportunities::id.eq(&row.id))
            .filter(opportunities::version.eq(expected_version)),
    )
    .set(&row)
    .execute(conn)?;
    Ok(changed == 1)
}

/// Takes one place if one is left, atomically on both databases (a single conditional update,
/// so concurrent applications cannot overbook). Returns whether a place was taken.
pub fn take_place(conn: &mut DbConnection, id: OpportunityId) -> Result<bool, AppError> {
    use opportunities::dsl as o;
    let changed = diesel::update(
        o::opportunities.filter(o::id.eq(id.to_string())).filter(
            o::places
                .is_null()
                .or(o::places_taken.lt(o::places.assume_not_null())),
        ),
    )
    .set((
        o::places_taken.eq(o::places_taken + 1),
        o::version.eq(o::version + 1),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Gives a place back.
pub fn release_place(conn: &mut DbConnection, id: OpportunityId) -> Result<(), AppError> {
    use opportunities::dsl as o;
    diesel::update(
        o::opportunities
            .filter(o::id.eq(id.to_string()))
            .filter(o::places_taken.gt(0)),
    )
    .set((
        o::places_taken.eq(o::places_taken - 1),
        o::version.eq(o::version + 1),
    ))
    .execute(conn)?;
    Ok(())
}
