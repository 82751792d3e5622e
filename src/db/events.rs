//! Rows and queries for the outbox of events.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::opportunities::parse_stored;
use super::schema::{events, memberships};
use super::{from_db_time, parse_id, to_db_time, DbConnection};
use crate::domain::event::{Event, EventFilter, EventType};
use crate::domain::id::{EventId, OrganisationId, ParticipantId};
use crate::domain::page::PageRequest;
use crate::error::AppError;

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = events)]
struct EventRow {
    id: String,
    event_type: String,
    organisation_id: String,
    facilitator_organisation_id: Option<String>,
    opportunity_id: Option<String>,
    participant_id: Option<String>,
    occurred_at: NaiveDateTime,
    data: String,
}

impl EventRow {
    fn from_domain(e: &Event) -> Result<Self, AppError> {
        Ok(Self {
            id: e.id.to_string(),
            event_type: e.event_type.as_str().to_owned(),
            organisation_id: e.organisation_id.to_string(),
            facilitator_organisation_id: e.facilitator_organisation_id.map(|o| o.to_string()),
            opportunity_id: e.opportunity_id.map(|o| o.to_string()),
            participant_id: e.participant_id.map(|p| p.to_string()),
            occurred_at: to_db_time(e.timestamp),
            data: serde_json::to_string(&e.data)
                .map_err(|err| AppError::internal(format!("event body: {err}")))?,
        })
    }

    fn into_domain(self) -> Result<Event, AppError> {
        Ok(Event {
            id: parse_id(&self.id)?,
            event_type: parse_stored(&self.event_type)?,
            timestamp: from_db_time(self.occurred_at),
            organisation_id: parse_id(&self.organisation_id)?,
            facilitator_organisation_id: self
                .facilitator_organisation_id
                .as_deref()
                .map(parse_id)
                .transpose()?,
            opportunity_id: self.opportunity_id.as_deref().map(parse_id).transpose()?,
            participant_id: self.participant_id.as_deref().map(parse_id).transpose()?,
            data: serde_json::from_str(&self.data)
                .map_err(|err| AppError::internal(format!("stored event body: {err}")))?,
        })
    }
}

pub fn insert(conn: &mut DbConnection, e: &Event) -> Result<(), AppError> {
    diesel::insert_into(events::table)
        .values(EventRow::from_domain(e)?)
        .execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConnection, id: EventId) -> Result<Option<Event>, AppError> {
    events::table
        .find(id.to_string())
        .select(EventRow::as_select())
        .first(conn)
        .optional()?
        .map(EventRow::into_domain)
        .transpose()
}

/// The events among `ids` (for a batch of deliveries).
pub fn find_many(conn: &mut DbConnection, ids: &[EventId]) -> Result<Vec<Event>, AppError> {
    let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
    events::table
        .filter(events::id.eq_any(ids))
        .select(EventRow::as_select())
        .load::<EventRow>(conn)?
        .into_iter()
        .map(EventRow::into_domain)
        .collect()
}

/// Whose events a list shows.
#[derive(Debug, Clone, Copy)]
pub enum EventScope {
    /// Events of work an organisation runs or facilitates, and of its records.
    Organisation(OrganisationId),
    /// Events about one person, and group events of work they took a place on.
    Person(ParticipantId),
    All,
}

/// One page of events in the order they happened (ids are time-ordered).
pub fn list(
    conn: &mut DbConnection,
    scope: EventScope,
    filter: &EventFilter,
    page: PageRequest,
) -> Result<Vec<Event>, AppError> {
    let mut query = keyset_page!(
        events::table.select(EventRow::as_select()),
        events::id,
        page
    );
    match scope {
        EventScope::Organisation(o) => {
            let o = o.to_string();
            query = query.filter(
                events::organisation_id
                    .eq(o.clone())
                    .or(events::facilitator_organisation_id.eq(o)),
            );
        }
        EventScope::Person(p) => {
            let group: Vec<&str> = EventType::ALL
                .iter()
                .filter(|t| t.concerns_the_group())
                .map(|t| t.as_str())
                .collect();
            // Work the person took a place on (including work they later left: they were there).
            let took_part = memberships::table
                .filter(memberships::participant_id.eq(p.to_string()))
                .filter(memberships::joined_at.is_not_null())
                .select(memberships::opportunity_id.nullable());
            query = query.filter(
                events::participant_id
                    .eq(p.to_string())
                    .or(events::event_type
                        .eq_any(group)
                        .and(events::opportunity_id.eq_any(took_part))),
            );
        }
        EventScope::All => {}
    }
    if let Some(t) = filter.event_type {
        query = query.filter(events::event_type.eq(t.as_str()));
    }
    if let Some(o) = filter.opportunity_id {
        query = query.filter(events::opportunity_id.eq(o.to_string()));
    }
    query
        .load::<EventRow>(conn)?
        .into_iter()
        .map(EventRow::into_domain)
        .collect()
}

/// Events after `after` (all when `None`), oldest first, at most `limit`: for deliverers that
/// follow the outbox.
pub fn after(
    conn: &mut DbConnection,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<Event>, AppError> {
    let mut query = events::table
        .select(EventRow::as_select())
        .order(events::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(events::id.gt(after.to_owned()));
    }
    query
        .load::<EventRow>(conn)?
        .into_iter()
        .map(EventRow::into_domain)
        .collect()
}

/// Events written from `after` on (by their time-ordered ids), oldest first, at most `limit`:
/// what the live feed reads on each look.
pub fn since(
    conn: &mut DbConnection,
    after: chrono::DateTime<chrono::Utc>,
    limit: i64,
) -> Result<Vec<Event>, AppError> {
    events::table
        .filter(events::id.ge(floor_id(after)))
        .order(events::id.asc())
        .limit(limit)
        .select(EventRow::as_select())
        .load::<EventRow>(conn)?
        .into_iter()
        .map(EventRow::into_domain)
        .collect()
}

/// The smallest version-7 id of a millisecond: ids are stored as lower-case text, whose order
/// is their time order, so `id >= floor_id(t)` is every event written from `t` on.
fn floor_id(t: chrono::DateTime<chrono::Utc>) -> String {
    let ms = u64::try_from(t.timestamp_millis()).unwrap_or(0);
    let mut bytes = [0u8; 16];
    bytes[..6].copy_from_slice(&ms.to_be_bytes()[2..]);
    bytes[6] = 0x70;
    bytes[8] = 0x80;
    uuid::Uuid::from_bytes(bytes).to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_floor_id_sorts_before_every_id_of_its_millisecond_and_after_earlier_ones() {
        let t = chrono::Utc::now();
        let floor = super::floor_id(t);
        let later = uuid::Uuid::now_v7().to_string();
        assert!(floor <= later, "{floor} {later}");
        let earlier = super::floor_id(t - chrono::Duration::milliseconds(1));
        assert!(earlier < floor);
    }
}
