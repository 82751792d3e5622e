//! Rows and queries for participants, their sealed contact details, consent events and the log
//! of reads of contact details. This layer stores what it is given: contact details arrive
//! sealed (see `crate::crypto`) and leave sealed.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::opportunities::{list_from_text, list_to_text, parse_stored};
use super::schema::{
    consent_events, contact_access_log, contact_details, memberships, participants,
};
use super::{from_db_time, parse_id, to_db_time, DbConnection};
use crate::domain::consent::ConsentEvent;
use crate::domain::contact::{AccessLogEntry, ContactField};
use crate::domain::id::{OrganisationId, ParticipantId};
use crate::domain::membership::Experience;
use crate::domain::money::Money;
use crate::domain::page::PageRequest;
use crate::domain::participant::{Participant, ParticipantFilter};
use crate::error::AppError;

diesel::define_sql_function! {
    /// Lower case, for searching names in any case on both backends.
    fn lower(x: diesel::sql_types::Nullable<diesel::sql_types::Text>) -> diesel::sql_types::Nullable<diesel::sql_types::Text>;
}

#[derive(Debug, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = participants, treat_none_as_null = true)]
struct ParticipantRow {
    id: String,
    organisation_id: String,
    name: Option<String>,
    preferred_name: Option<String>,
    roles: String,
    lived_experience_areas: String,
    involvement_kinds: String,
    time_available: Option<String>,
    contact_methods: String,
    support_needs: String,
    support_needs_other: Option<String>,
    payment_preference: Option<String>,
    receives_benefits: bool,
    weekly_payment_limit_pence: Option<i64>,
    identity_subject: Option<String>,
    erased_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i32,
}

impl ParticipantRow {
    fn from_domain(p: &Participant) -> Self {
        Self {
            id: p.id.to_string(),
            organisation_id: p.organisation_id.to_string(),
            name: p.name.clone(),
            preferred_name: p.preferred_name.clone(),
            roles: list_to_text(&p.roles, |r| r.as_str()),
            lived_experience_areas: list_to_text(&p.lived_experience_areas, |a| a.as_str()),
            involvement_kinds: list_to_text(&p.involvement_kinds, |k| k.as_str()),
            time_available: p.time_available.clone(),
            contact_methods: list_to_text(&p.contact_methods, |m| m.as_str()),
            support_needs: list_to_text(&p.support_needs, |s| s.as_str()),
            support_needs_other: p.support_needs_other.clone(),
            payment_preference: p.payment_preference.map(|p| p.as_str().to_owned()),
            receives_benefits: p.receives_benefits,
            weekly_payment_limit_pence: p.weekly_payment_limit.as_ref().map(|m| m.amount_pence),
            identity_subject: p.identity_subject.clone(),
            erased_at: p.erased_at.map(to_db_time),
            created_at: to_db_time(p.created_at),
            updated_at: to_db_time(p.updated_at),
            version: p.version,
        }
    }

    fn into_domain(self) -> Result<Participant, AppError> {
        Ok(Participant {
            id: parse_id(&self.id)?,
            organisation_id: parse_id(&self.organisation_id)?,
            name: self.name,
            preferred_name: self.preferred_name,
            roles: list_from_text(&self.roles)?,
            lived_experience_areas: list_from_text(&self.lived_experience_areas)?,
            involvement_kinds: list_from_text(&self.involvement_kinds)?,
            time_available: self.time_available,
            contact_methods: list_from_text(&self.contact_methods)?,
            support_needs: list_from_text(&self.support_needs)?,
            support_needs_other: self.support_needs_other,
            payment_preference: self
                .payment_preference
                .as_deref()
                .map(parse_stored)
                .transpose()?,
            receives_benefits: self.receives_benefits,
            weekly_payment_limit: self.weekly_payment_limit_pence.map(Money::gbp),
            identity_subject: self.identity_subject,
            erased_at: self.erased_at.map(from_db_time),
            created_at: from_db_time(self.created_at),
            updated_at: from_db_time(self.updated_at),
            version: self.version,
        })
    }
}

/// The identity link is unique: a second person linked to the same sign-in is refused.
fn subject_taken(e: diesel::result::Error) -> AppError {
    match e {
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        ) => AppError::Conflict(
            "another participant is already linked to this identity_subject".to_owned(),
        ),
        e => e.into(),
    }
}

pub fn insert(conn: &mut DbConnection, p: &Participant) -> Result<(), AppError> {
    diesel::insert_into(participants::table)
        .values(ParticipantRow::from_domain(p))
        .execute(conn)
        .map_err(subject_taken)?;
    Ok(())
}

pub fn find(conn: &mut DbConnection, id: ParticipantId) -> Result<Option<Participant>, AppError> {
    participants::table
        .find(id.to_string())
        .select(ParticipantRow::as_select())
        .first(conn)
        .optional()?
        .map(ParticipantRow::into_domain)
        .transpose()
}

pub fn find_many(
    conn: &mut DbConnection,
    ids: &[ParticipantId],
) -> Result<Vec<Participant>, AppError> {
    let ids: Vec<String> = ids.iter().map(ParticipantId::to_string).collect();
    participants::table
        .filter(participants::id.eq_any(&ids))
        .select(ParticipantRow::as_select())
        .load(conn)?
        .into_iter()
        .map(ParticipantRow::into_domain)
        .collect()
}

/// The participant linked to a sign-in's `sub`.
pub fn id_for_subject(
    conn: &mut DbConnection,
    subject: &str,
) -> Result<Option<ParticipantId>, AppError> {
    participants::table
        .filter(participants::identity_subject.eq(subject))
        .select(participants::id)
        .first::<String>(conn)
        .optional()?
        .map(|id| parse_id(&id))
        .transpose()
}

/// Writes the whole new state if the stored version is still `expected_version`.
pub fn update_if_version(
    conn: &mut DbConnection,
    p: &Participant,
    expected_version: i32,
) -> Result<bool, AppError> {
    let row = ParticipantRow::from_domain(p);
    let changed = diesel::update(
        participants::table
            .filter(participants::id.eq(&row.id))
            .filter(participants::version.eq(expected_version)),
    )
    .set(&row)
    .execute(conn)
    .map_err(subject_taken)?;
    Ok(changed == 1)
}

/// `%` and `_` in a person's search are matched as themselves.
fn like_pattern(text: &str) -> String {
    let mut out = String::from("%");
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// One page of participants, optionally of one registering organisation, filtered.
pub fn list(
    conn: &mut DbConnection,
    organisation_id: Option<OrganisationId>,
    filter: &ParticipantFilter,
    page: PageRequest,
) -> Result<Vec<Participant>, AppError> {
    use participants::dsl as p;
    let mut query = keyset_page!(
        p::participants.select(ParticipantRow::as_select()),
        p::id,
        page
    );
    if let Some(org) = organisation_id {
        query = query.filter(p::organisation_id.eq(org.to_string()));
    }
    if let Some(name) = &filter.name {
        let pattern = like_pattern(name);
        query = query.filter(
            lower(p::name)
                .like(pattern.clone())
                .escape('\\')
                .or(lower(p::preferred_name).like(pattern).escape('\\')),
        );
    }
    if let Some(area) = filter.lived_experience_area {
        query = query.filter(p::lived_experience_areas.like(format!("%,{},%", area.as_str())));
    }
    if let Some(role) = filter.role {
        query = query.filter(p::roles.like(format!("%,{},%", role.as_str())));
    }
    if let Some(kind) = filter.involvement_kind {
        query = query.filter(p::involvement_kinds.like(format!("%,{},%", kind.as_str())));
    }
    query
        .load(conn)?
        .into_iter()
        .map(ParticipantRow::into_domain)
        .collect()
}

/// A member whose profile no longer says what they brought narrows to what it says.
pub fn narrow_memberships(
    conn: &mut DbConnection,
    participant_id: ParticipantId,
    from: Experience,
    to: Experience,
) -> Result<usize, AppError> {
    Ok(diesel::update(
        memberships::table
            .filter(memberships::participant_id.eq(participant_id.to_string()))
            .filter(memberships::experience.eq(from.as_str())),
    )
    .set((
        memberships::experience.eq(to.as_str()),
        memberships::version.eq(memberships::version + 1),
    ))
    .execute(conn)?)
}

/// Erasure: free text about the person in their memberships (conflict-of-interest details).
pub fn erase_membership_text(
    conn: &mut DbConnection,
    participant_id: ParticipantId,
) -> Result<(), AppError> {
    diesel::update(
        memberships::table.filter(memberships::participant_id.eq(participant_id.to_string())),
    )
    .set(memberships::interest_details.eq(None::<String>))
    .execute(conn)?;
    Ok(())
}

// --- Contact details, sealed ----------------------------------------------------------------

/// One sealed contact detail as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedContact {
    pub participant_id: ParticipantId,
    pub field: ContactField,
    pub sealed: crate::crypto::Sealed,
}

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = contact_details)]
struct ContactRow {
    participant_id: String,
    field: String,
    key_id: String,
    nonce: Vec<u8>,
    ciphertext: Vec<u8>,
    updated_at: NaiveDateTime,
}

impl ContactRow {
    fn into_domain(self) -> Result<SealedContact, AppError> {
        Ok(SealedContact {
            participant_id: parse_id(&self.participant_id)?,
            field: parse_stored(&self.field)?,
            sealed: crate::crypto::Sealed {
                key_id: self.key_id,
                nonce: self.nonce,
                ciphertext: self.ciphertext,
            },
        })
    }
}

/// Replaces a person's contact details with these (a field not given is removed).
pub fn replace_contacts(
    conn: &mut DbConnection,
    participant_id: ParticipantId,
    values: &[SealedContact],
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(), AppError> {
    delete_contacts(conn, participant_id)?;
    let rows: Vec<ContactRow> = values
        .iter()
        .map(|v| ContactRow {
            participant_id: v.participant_id.to_string(),
            field: v.field.as_str().to_owned(),
            key_id: v.sealed.key_id.clone(),
            nonce: v.sealed.nonce.clone(),
            ciphertext: v.sealed.ciphertext.clone(),
            updated_at: to_db_time(at),
        })
        .collect();
    // Batch inserts are written per backend: the multi-backend connection cannot build one.
    match conn {
        _ if rows.is_empty() => 0,
        DbConnection::Postgresql(c) => diesel::insert_into(contact_details::table)
            .values(&rows)
            .execute(c)?,
        DbConnection::Sqlite(c) => diesel::insert_into(contact_details::table)
            .values(&rows)
            .execute(c)?,
    };
    Ok(())
}

pub fn delete_contacts(
    conn: &mut DbConnection,
    participant_id: ParticipantId,
) -> Result<(), AppError> {
    diesel::delete(
        contact_details::table
            .filter(contact_details::participant_id.eq(participant_id.to_string())),
    )
    .execute(conn)?;
    Ok(())
}

/// The sealed contact details of these people (all fields, or only `fields`).
pub fn contacts_of(
    conn: &mut DbConnection,
    participant_ids: &[ParticipantId],
) -> Result<Vec<SealedContact>, AppError> {
    let ids: Vec<String> = participant_ids
        .iter()
        .map(ParticipantId::to_string)
        .collect();
    contact_details::table
        .filter(contact_details::participant_id.eq_any(&ids))
        .select(ContactRow::as_select())
        .load(conn)?
        .into_iter()
        .map(ContactRow::into_domain)
        .collect()
}

/// The accepted members of a piece of work, as a subquery: the group directory's reads join
/// on it rather than sending every member's id (a semi-join, not a list compared row by row).
macro_rules! accepted_members_of {
    ($opportunity:expr) => {
        memberships::table
            .filter(memberships::opportunity_id.eq($opportunity.to_string()))
            .filter(
                memberships::status.eq(crate::domain::membership::MemberStatus::Accepted.as_str()),
            )
            .select(memberships::participant_id)
    };
}

/// The sealed contact details of a piece of work's accepted members.
pub fn contacts_of_group(
    conn: &mut DbConnection,
    opportunity_id: crate::domain::id::OpportunityId,
) -> Result<Vec<SealedContact>, AppError> {
    contact_details::table
        .filter(contact_details::participant_id.eq_any(accepted_members_of!(opportunity_id)))
        .select(ContactRow::as_select())
        .load(conn)?
        .into_iter()
        .map(ContactRow::into_domain)
        .collect()
}

/// The consent events of a piece of work's accepted members about these audiences, oldest first.
pub fn consents_of_group(
    conn: &mut DbConnection,
    opportunity_id: crate::domain::id::OpportunityId,
    audiences: &[uuid::Uuid],
) -> Result<Vec<ConsentEvent>, AppError> {
    let audiences: Vec<String> = audiences.iter().map(uuid::Uuid::to_string).collect();
    consent_events::table
        .filter(consent_events::audience_id.eq_any(audiences))
        .filter(consent_events::participant_id.eq_any(accepted_members_of!(opportunity_id)))
        .order(consent_events::id.asc())
        .select(ConsentRow::as_select())
        .load(conn)?
        .into_iter()
        .map(ConsentRow::into_domain)
        .collect()
}

/// The key ids that seal stored values (to check at start that this instance has them all).
pub fn contact_key_ids(conn: &mut DbConnection) -> Result<Vec<String>, AppError> {
    Ok(contact_details::table
        .select(contact_details::key_id)
        .distinct()
        .load(conn)?)
}

/// Up to `limit` sealed values not sealed under `key_id`, for re-sealing.
pub fn contacts_not_under(
    conn: &mut DbConnection,
    key_id: &str,
    limit: i64,
) -> Result<Vec<SealedContact>, AppError> {
    contact_details::table
        .filter(contact_details::key_id.ne(key_id))
        .order((
            contact_details::participant_id.asc(),
            contact_details::field.asc(),
        ))
        .limit(limit)
        .select(ContactRow::as_select())
        .load(conn)?
        .into_iter()
        .map(ContactRow::into_domain)
        .collect()
}

/// Re-seals one value in place, if it is still sealed as it was read.
pub fn reseal(
    conn: &mut DbConnection,
    old: &SealedContact,
    new: &crate::crypto::Sealed,
) -> Result<bool, AppError> {
    let changed = diesel::update(
        contact_details::table
            .filter(contact_details::participant_id.eq(old.participant_id.to_string()))
            .filter(contact_details::field.eq(old.field.as_str()))
            .filter(contact_details::key_id.eq(&old.sealed.key_id))
            .filter(contact_details::nonce.eq(&old.sealed.nonce)),
    )
    .set((
        contact_details::key_id.eq(&new.key_id),
        contact_details::nonce.eq(&new.nonce),
        contact_details::ciphertext.eq(&new.ciphertext),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

// --- Consent events -------------------------------------------------------------------------

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = consent_events)]
struct ConsentRow {
    id: String,
    participant_id: String,
    field: String,
    audience_kind: String,
    audience_id: String,
    granted: bool,
    method: String,
    recorded_by: String,
    recorded_by_organisation_id: Option<String>,
    recorded_at: NaiveDateTime,
}

impl ConsentRow {
    fn into_domain(self) -> Result<ConsentEvent, AppError> {
        Ok(ConsentEvent {
            id: parse_id(&self.id)?,
            participant_id: parse_id(&self.participant_id)?,
            field: parse_stored(&self.field)?,
            audience_kind: parse_stored(&self.audience_kind)?,
            audience_id: parse_id(&self.audience_id)?,
            granted: self.granted,
            method: parse_stored(&self.method)?,
            recorded_by: self.recorded_by,
            recorded_by_organisation_id: self
                .recorded_by_organisation_id
                .as_deref()
                .map(parse_id)
                .transpose()?,
            recorded_at: from_db_time(self.recorded_at),
        })
    }
}

pub fn insert_consent(conn: &mut DbConnection, e: &ConsentEvent) -> Result<(), AppError> {
    diesel::insert_into(consent_events::table)
        .values(ConsentRow {
            id: e.id.to_string(),
            participant_id: e.participant_id.to_string(),
            field: e.field.as_str().to_owned(),
            audience_kind: e.audience_kind.as_str().to_owned(),
            audience_id: e.audience_id.to_string(),
            granted: e.granted,
            method: e.method.as_str().to_owned(),
            recorded_by: e.recorded_by.clone(),
            recorded_by_organisation_id: e.recorded_by_organisation_id.map(|o| o.to_string()),
            recorded_at: to_db_time(e.recorded_at),
        })
        .execute(conn)?;
    Ok(())
}

/// Every consent event of one person, oldest first.
pub fn consents_of(
    conn: &mut DbConnection,
    participant_id: ParticipantId,
) -> Result<Vec<ConsentEvent>, AppError> {
    consent_events::table
        .filter(consent_events::participant_id.eq(participant_id.to_string()))
        .order(consent_events::id.asc())
        .select(ConsentRow::as_select())
        .load(conn)?
        .into_iter()
        .map(ConsentRow::into_domain)
        .collect()
}

pub fn delete_consents(
    conn: &mut DbConnection,
    participant_id: ParticipantId,
) -> Result<(), AppError> {
    diesel::delete(
        consent_events::table.filter(consent_events::participant_id.eq(participant_id.to_string())),
    )
    .execute(conn)?;
    Ok(())
}

// --- The access log -------------------------------------------------------------------------

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = contact_access_log)]
struct AccessRow {
    id: String,
    participant_id: String,
    accessed_by: String,
    accessed_by_organisation_id: Option<String>,
    accessed_by_roles: String,
    fields: String,
    purpose: String,
    accessed_at: NaiveDateTime,
}

impl AccessRow {
    fn from_domain(e: &AccessLogEntry) -> Self {
        Self {
            id: e.id.to_string(),
            participant_id: e.participant_id.to_string(),
            accessed_by: e.accessed_by.clone(),
            accessed_by_organisation_id: e.accessed_by_organisation_id.map(|o| o.to_string()),
            accessed_by_roles: list_to_text(&e.accessed_by_roles, |r| r.as_str()),
            fields: list_to_text(&e.fields, |f| f.as_str()),
            purpose: e.purpose.clone(),
            accessed_at: to_db_time(e.accessed_at),
        }
    }

    fn into_domain(self) -> Result<AccessLogEntry, AppError> {
        Ok(AccessLogEntry {
            id: parse_id(&self.id)?,
            participant_id: parse_id(&self.participant_id)?,
            accessed_by: self.accessed_by,
            accessed_by_organisation_id: self
                .accessed_by_organisation_id
                .as_deref()
                .map(parse_id)
                .transpose()?,
            accessed_by_roles: list_from_text(&self.accessed_by_roles)?,
            fields: list_from_text(&self.fields)?,
            purpose: self.purpose,
            accessed_at: from_db_time(self.accessed_at),
        })
    }
}

pub fn log_access(conn: &mut DbConnection, entries: &[AccessLogEntry]) -> Result<(), AppError> {
    if entries.is_empty() {
        return Ok(());
    }
    let rows: Vec<AccessRow> = entries.iter().map(AccessRow::from_domain).collect();
    match conn {
        DbConnection::Postgresql(c) => diesel::insert_into(contact_access_log::table)
            .values(&rows)
            .execute(c)?,
        DbConnection::Sqlite(c) => diesel::insert_into(contact_access_log::table)
            .values(&rows)
            .execute(c)?,
    };
    Ok(())
}

/// One page of a person's access log, oldest first.
pub fn access_log(
    conn: &mut DbConnection,
    participant_id: ParticipantId,
    page: PageRequest,
) -> Result<Vec<AccessLogEntry>, AppError> {
    let query = keyset_page!(
        contact_access_log::table
            .filter(contact_access_log::participant_id.eq(participant_id.to_string()))
            .select(AccessRow::as_select()),
        contact_access_log::id,
        page
    );
    query
        .load(conn)?
        .into_iter()
        .map(AccessRow::into_domain)
        .collect()
}

/// A person's whole access log, for the export.
pub fn whole_access_log(
    conn: &mut DbConnection,
    participant_id: ParticipantId,
) -> Result<Vec<AccessLogEntry>, AppError> {
    contact_access_log::table
        .filter(contact_access_log::participant_id.eq(participant_id.to_string()))
        .order(contact_access_log::id.asc())
        .select(AccessRow::as_select())
        .load(conn)?
        .into_iter()
        .map(AccessRow::into_domain)
        .collect()
}
