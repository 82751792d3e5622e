//! Rows and queries for webhook endpoints (their secrets arrive and leave sealed), deliveries
//! and attempts.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::opportunities::{list_from_text, list_to_text, parse_stored};
use super::schema::{webhook_attempts, webhook_deliveries, webhook_endpoints};
use super::{from_db_time, parse_id, to_db_time, DbConnection};
use crate::crypto::Sealed;
use crate::domain::event::Event;
use crate::domain::id::{EventId, OrganisationId, WebhookDeliveryId, WebhookEndpointId};
use crate::domain::page::PageRequest;
use crate::domain::webhook::{DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint};
use crate::error::AppError;

/// An endpoint as stored: what is shown, and its sealed secrets.
#[derive(Debug, Clone)]
pub struct StoredEndpoint {
    pub endpoint: WebhookEndpoint,
    pub secret: Sealed,
    /// The secret replaced at the last rotation, and until when it still signs.
    pub previous: Option<(Sealed, DateTime<Utc>)>,
    pub generation: i32,
}

#[derive(Debug, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = webhook_endpoints, treat_none_as_null = true)]
struct EndpointRow {
    id: String,
    organisation_id: String,
    url: String,
    event_types: String,
    description: Option<String>,
    enabled: bool,
    disabled_reason: Option<String>,
    disabled_at: Option<NaiveDateTime>,
    secret_key_id: String,
    secret_nonce: Vec<u8>,
    secret_ciphertext: Vec<u8>,
    previous_secret_key_id: Option<String>,
    previous_secret_nonce: Option<Vec<u8>>,
    previous_secret_ciphertext: Option<Vec<u8>>,
    previous_secret_expires_at: Option<NaiveDateTime>,
    secret_generation: i32,
    created_by: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i32,
}

impl EndpointRow {
    fn from_domain(s: &StoredEndpoint) -> Self {
        let e = &s.endpoint;
        let (prev, prev_expires) = match &s.previous {
            Some((sealed, until)) => (Some(sealed.clone()), Some(to_db_time(*until))),
            None => (None, None),
        };
        Self {
            id: e.id.to_string(),
            organisation_id: e.organisation_id.to_string(),
            url: e.url.clone(),
            event_types: list_to_text(&e.event_types, |t| t.as_str()),
            description: e.description.clone(),
            enabled: e.enabled,
            disabled_reason: e.disabled_reason.clone(),
            disabled_at: e.disabled_at.map(to_db_time),
            secret_key_id: s.secret.key_id.clone(),
            secret_nonce: s.secret.nonce.clone(),
            secret_ciphertext: s.secret.ciphertext.clone(),
            previous_secret_key_id: prev.as_ref().map(|p| p.key_id.clone()),
            previous_secret_nonce: prev.as_ref().map(|p| p.nonce.clone()),
            previous_secret_ciphertext: prev.map(|p| p.ciphertext),
            previous_secret_expires_at: prev_expires,
            secret_generation: s.generation,
            created_by: e.created_by.clone(),
            created_at: to_db_time(e.created_at),
            updated_at: to_db_time(e.updated_at),
            version: e.version,
        }
    }

    fn into_domain(self) -> Result<StoredEndpoint, AppError> {
        let previous = match (
            self.previous_secret_key_id,
            self.previous_secret_nonce,
            self.previous_secret_ciphertext,
            self.previous_secret_expires_at,
        ) {
            (Some(key_id), Some(nonce), Some(ciphertext), Some(until)) => Some((
                Sealed {
                    key_id,
                    nonce,
                    ciphertext,
                },
                from_db_time(until),
            )),
            _ => None,
        };
        let expires = previous.as_ref().map(|(_, until)| *until);
        Ok(StoredEndpoint {
            endpoint: WebhookEndpoint {
                id: parse_id(&self.id)?,
                organisation_id: parse_id(&self.organisation_id)?,
                url: self.url,
                event_types: list_from_text(&self.event_types)?,
                description: self.description,
                enabled: self.enabled,
                disabled_reason: self.disabled_reason,
                disabled_at: self.disabled_at.map(from_db_time),
                previous_secret_expires_at: expires,
                created_by: self.created_by,
                created_at: from_db_time(self.created_at),
                updated_at: from_db_time(self.updated_at),
                version: self.version,
            },
            secret: Sealed {
                key_id: self.secret_key_id,
                nonce: self.secret_nonce,
                ciphertext: self.secret_ciphertext,
            },
            previous,
            generation: self.secret_generation,
        })
    }
}

pub fn insert_endpoint(conn: &mut DbConnection, s: &StoredEndpoint) -> Result<(), AppError> {
    diesel::insert_into(webhook_endpoints::table)
        .values(EndpointRow::from_domain(s))
        .execute(conn)?;
    Ok(())
}

pub fn find_endpoint(
    conn: &mut DbConnection,
    id: WebhookEndpointId,
) -> Result<Option<StoredEndpoint>, AppError> {
    webhook_endpoints::table
        .find(id.to_string())
        .select(EndpointRow::as_select())
        .first(conn)
        .optional()?
        .map(EndpointRow::into_domain)
        .transpose()
}

/// The endpoints among `ids` (for a batch of deliveries).
pub fn find_endpoints(
    conn: &mut DbConnection,
    ids: &[WebhookEndpointId],
) -> Result<Vec<StoredEndpoint>, AppError> {
    let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
    webhook_endpoints::table
        .filter(webhook_endpoints::id.eq_any(ids))
        .select(EndpointRow::as_select())
        .load::<EndpointRow>(conn)?
        .into_iter()
        .map(EndpointRow::into_domain)
        .collect()
}

/// Writes the endpoint if it is still at `expected`; false when someone changed it first.
pub fn update_endpoint_if_version(
    conn: &mut DbConnection,
    s: &StoredEndpoint,
    expected: i32,
) -> Result<bool, AppError> {
    let n = diesel::update(
        webhook_endpoints::table
            .filter(webhook_endpoints::id.eq(s.endpoint.id.to_string()))
            .filter(webhook_endpoints::version.eq(expected)),
    )
    .set(EndpointRow::from_domain(s))
    .execute(conn)?;
    Ok(n == 1)
}

pub fn delete_endpoint(conn: &mut DbConnection, id: WebhookEndpointId) -> Result<bool, AppError> {
    let id = id.to_string();
    diesel::delete(webhook_attempts::table.filter(webhook_attempts::endpoint_id.eq(&id)))
        .execute(conn)?;
    diesel::delete(webhook_deliveries::table.filter(webhook_deliveries::endpoint_id.eq(&id)))
        .execute(conn)?;
    Ok(diesel::delete(webhook_endpoints::table.find(id)).execute(conn)? == 1)
}

/// One page of endpoints, of one organisation or all.
pub fn list_endpoints(
    conn: &mut DbConnection,
    organisation_id: Option<OrganisationId>,
    page: PageRequest,
) -> Result<Vec<StoredEndpoint>, AppError> {
    let mut query = keyset_page!(
        webhook_endpoints::table.select(EndpointRow::as_select()),
        webhook_endpoints::id,
        page
    );
    if let Some(o) = organisation_id {
        query = query.filter(webhook_endpoints::organisation_id.eq(o.to_string()));
    }
    query
        .load::<EndpointRow>(conn)?
        .into_iter()
        .map(EndpointRow::into_domain)
        .collect()
}

/// Queues the event for every enabled endpoint of the organisations it belongs to that wants
/// its type. Runs in the transaction that writes the event.
pub fn fan_out(conn: &mut DbConnection, event: &Event) -> Result<usize, AppError> {
    let mut orgs = vec![event.organisation_id.to_string()];
    if let Some(f) = event.facilitator_organisation_id {
        orgs.push(f.to_string());
    }
    let endpoints: Vec<(String, String)> = webhook_endpoints::table
        .filter(webhook_endpoints::organisation_id.eq_any(orgs))
        .filter(webhook_endpoints::enabled.eq(true))
        .select((webhook_endpoints::id, webhook_endpoints::event_types))
        .load(conn)?;
    let at = to_db_time(event.timestamp);
    let rows: Vec<DeliveryRow> = endpoints
        .into_iter()
        .filter(|(_, types)| {
            // Stored between commas (`,a,b,`); none listed means every type.
            let mut listed = types.split(',').filter(|t| !t.is_empty()).peekable();
            listed.peek().is_none() || listed.any(|t| t == event.event_type.as_str())
        })
        .map(|(endpoint_id, _)| DeliveryRow {
            id: crate::domain::new_id::<WebhookDeliveryId>().to_string(),
            endpoint_id,
            event_id: event.id.to_string(),
            status: DeliveryStatus::Pending.as_str().to_owned(),
            attempts: 0,
            next_attempt_at: at,
            last_attempt_at: None,
            delivered_at: None,
            created_at: at,
        })
        .collect();
    for row in &rows {
        diesel::insert_into(webhook_deliveries::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(rows.len())
}

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_deliveries)]
struct DeliveryRow {
    id: String,
    endpoint_id: String,
    event_id: String,
    status: String,
    attempts: i32,
    next_attempt_at: NaiveDateTime,
    last_attempt_at: Option<NaiveDateTime>,
    delivered_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
}

impl DeliveryRow {
    fn into_domain(self) -> Result<WebhookDelivery, AppError> {
        Ok(WebhookDelivery {
            id: parse_id(&self.id)?,
            endpoint_id: parse_id(&self.endpoint_id)?,
            event_id: parse_id(&self.event_id)?,
            status: parse_stored(&self.status)?,
            attempts: self.attempts,
            next_attempt_at: from_db_time(self.next_attempt_at),
            last_attempt_at: self.last_attempt_at.map(from_db_time),
            delivered_at: self.delivered_at.map(from_db_time),
        })
    }
}

/// Whether any delivery is due: a read, so a deliverer with nothing to do takes no lock.
pub fn any_due(conn: &mut DbConnection, now: DateTime<Utc>) -> Result<bool, AppError> {
    let due: Option<String> = webhook_deliveries::table
        .filter(webhook_deliveries::status.eq(DeliveryStatus::Pending.as_str()))
        .filter(webhook_deliveries::next_attempt_at.le(to_db_time(now)))
        .select(webhook_deliveries::id)
        .first(conn)
        .optional()?;
    Ok(due.is_some())
}

/// Deliveries waiting, and the earliest time one of them was due (if any is due now).
pub fn backlog(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
) -> Result<(i64, Option<DateTime<Utc>>), AppError> {
    let pending = webhook_deliveries::table
        .filter(webhook_deliveries::status.eq(DeliveryStatus::Pending.as_str()));
    let count: i64 = pending.count().get_result(conn)?;
    let oldest: Option<chrono::NaiveDateTime> = pending
        .filter(webhook_deliveries::next_attempt_at.le(to_db_time(now)))
        .select(diesel::dsl::min(webhook_deliveries::next_attempt_at))
        .first(conn)?;
    Ok((count, oldest.map(from_db_time)))
}

/// Takes up to `limit` due deliveries for this deliverer: each is pushed to `lease_until` so
/// no other deliverer takes it while this one tries (if this one dies, it is retried once the
/// lease runs out: at least once). On PostgreSQL the rows are locked with `SKIP LOCKED`, so
/// deliverers on several instances take different deliveries instead of queueing. Call in a
/// transaction.
pub fn take_due(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<WebhookDelivery>, AppError> {
    macro_rules! due {
        () => {
            webhook_deliveries::table
                .filter(webhook_deliveries::status.eq(DeliveryStatus::Pending.as_str()))
                .filter(webhook_deliveries::next_attempt_at.le(to_db_time(now)))
                .order(webhook_deliveries::next_attempt_at.asc())
                .limit(limit)
                .select(DeliveryRow::as_select())
        };
    }
    let rows: Vec<DeliveryRow> = match conn {
        DbConnection::Postgresql(pg) => due!().for_update().skip_locked().load(pg)?,
        // One writer at a time: the transaction's write lock already keeps others out.
        DbConnection::Sqlite(lite) => due!().load(lite)?,
    };
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    diesel::update(webhook_deliveries::table.filter(webhook_deliveries::id.eq_any(ids)))
        .set(webhook_deliveries::next_attempt_at.eq(to_db_time(lease_until)))
        .execute(conn)?;
    rows.into_iter().map(DeliveryRow::into_domain).collect()
}

/// Writes where a delivery stands after an attempt.
pub fn update_delivery(conn: &mut DbConnection, d: &WebhookDelivery) -> Result<(), AppError> {
    diesel::update(webhook_deliveries::table.find(d.id.to_string()))
        .set((
            webhook_deliveries::status.eq(d.status.as_str()),
            webhook_deliveries::attempts.eq(d.attempts),
            webhook_deliveries::next_attempt_at.eq(to_db_time(d.next_attempt_at)),
            webhook_deliveries::last_attempt_at.eq(d.last_attempt_at.map(to_db_time)),
            webhook_deliveries::delivered_at.eq(d.delivered_at.map(to_db_time)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Queues the event for the endpoint again, now: a manual replay. A delivery of it already
/// there starts over (its attempts stay in the log).
pub fn replay(
    conn: &mut DbConnection,
    endpoint_id: WebhookEndpointId,
    event_id: EventId,
    now: DateTime<Utc>,
) -> Result<WebhookDelivery, AppError> {
    let existing: Option<DeliveryRow> = webhook_deliveries::table
        .filter(webhook_deliveries::endpoint_id.eq(endpoint_id.to_string()))
        .filter(webhook_deliveries::event_id.eq(event_id.to_string()))
        .select(DeliveryRow::as_select())
        .first(conn)
        .optional()?;
    let mut d = match existing {
        Some(row) => row.into_domain()?,
        None => {
            let row = DeliveryRow {
                id: crate::domain::new_id::<WebhookDeliveryId>().to_string(),
                endpoint_id: endpoint_id.to_string(),
                event_id: event_id.to_string(),
                status: DeliveryStatus::Pending.as_str().to_owned(),
                attempts: 0,
                next_attempt_at: to_db_time(now),
                last_attempt_at: None,
                delivered_at: None,
                created_at: to_db_time(now),
            };
            diesel::insert_into(webhook_deliveries::table)
                .values(&row)
                .execute(conn)?;
            return row.into_domain();
        }
    };
    d.status = DeliveryStatus::Pending;
    d.attempts = 0;
    d.next_attempt_at = now;
    d.delivered_at = None;
    update_delivery(conn, &d)?;
    Ok(d)
}

/// One page of an endpoint's deliveries.
pub fn deliveries(
    conn: &mut DbConnection,
    endpoint_id: WebhookEndpointId,
    page: PageRequest,
) -> Result<Vec<WebhookDelivery>, AppError> {
    keyset_page!(
        webhook_deliveries::table.select(DeliveryRow::as_select()),
        webhook_deliveries::id,
        page
    )
    .filter(webhook_deliveries::endpoint_id.eq(endpoint_id.to_string()))
    .load::<DeliveryRow>(conn)?
    .into_iter()
    .map(DeliveryRow::into_domain)
    .collect()
}

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_attempts)]
struct AttemptRow {
    id: String,
    delivery_id: String,
    endpoint_id: String,
    event_id: String,
    attempt: i32,
    attempted_at: NaiveDateTime,
    status_code: Option<i32>,
    error: Option<String>,
    duration_ms: i64,
    succeeded: bool,
}

impl AttemptRow {
    fn into_domain(self) -> Result<WebhookAttempt, AppError> {
        Ok(WebhookAttempt {
            id: parse_id(&self.id)?,
            delivery_id: parse_id(&self.delivery_id)?,
            endpoint_id: parse_id(&self.endpoint_id)?,
            event_id: parse_id(&self.event_id)?,
            attempt: self.attempt,
            attempted_at: from_db_time(self.attempted_at),
            status_code: self.status_code,
            error: self.error,
            duration_ms: self.duration_ms,
            succeeded: self.succeeded,
        })
    }
}

pub fn insert_attempt(conn: &mut DbConnection, a: &WebhookAttempt) -> Result<(), AppError> {
    diesel::insert_into(webhook_attempts::table)
        .values(AttemptRow {
            id: a.id.to_string(),
            delivery_id: a.delivery_id.to_string(),
            endpoint_id: a.endpoint_id.to_string(),
            event_id: a.event_id.to_string(),
            attempt: a.attempt,
            attempted_at: to_db_time(a.attempted_at),
            status_code: a.status_code,
            error: a.error.clone(),
            duration_ms: a.duration_ms,
            succeeded: a.succeeded,
        })
        .execute(conn)?;
    Ok(())
}

/// One page of an endpoint's attempts, oldest first.
pub fn attempts(
    conn: &mut DbConnection,
    endpoint_id: WebhookEndpointId,
    page: PageRequest,
) -> Result<Vec<WebhookAttempt>, AppError> {
    keyset_page!(
        webhook_attempts::table.select(AttemptRow::as_select()),
        webhook_attempts::id,
        page
    )
    .filter(webhook_attempts::endpoint_id.eq(endpoint_id.to_string()))
    .load::<AttemptRow>(conn)?
    .into_iter()
    .map(AttemptRow::into_domain)
    .collect()
}

/// The data keys webhook secrets are sealed under (for the start-up check).
pub fn secret_key_ids(conn: &mut DbConnection) -> Result<Vec<String>, AppError> {
    let mut ids: Vec<String> = webhook_endpoints::table
        .select(webhook_endpoints::secret_key_id)
        .distinct()
        .load(conn)?;
    let previous: Vec<Option<String>> = webhook_endpoints::table
        .select(webhook_endpoints::previous_secret_key_id)
        .distinct()
        .load(conn)?;
    ids.extend(previous.into_iter().flatten());
    ids.sort();
    ids.dedup();
    Ok(ids)
}

/// Every endpoint, for re-sealing under a new data key.
pub fn all_endpoints(conn: &mut DbConnection) -> Result<Vec<StoredEndpoint>, AppError> {
    webhook_endpoints::table
        .select(EndpointRow::as_select())
        .order(webhook_endpoints::id.asc())
        .load::<EndpointRow>(conn)?
        .into_iter()
        .map(EndpointRow::into_domain)
        .collect()
}
