//! Stored answers to `POST` requests that carried an `Idempotency-Key`.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::schema::idempotency_keys;
use super::{from_db_time, to_db_time, DbConnection};
use crate::error::AppError;

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = idempotency_keys)]
pub struct IdempotencyRow {
    pub request_hash: String,
    pub status_code: Option<i32>,
    pub response_headers: Option<String>,
    pub response_body: Option<Vec<u8>>,
    pub created_at: chrono::NaiveDateTime,
}

impl IdempotencyRow {
    pub fn created_at(&self) -> DateTime<Utc> {
        from_db_time(self.created_at)
    }
}

/// Reserves a key; `false` when the scope already holds it.
pub fn try_reserve(
    conn: &mut DbConnection,
    scope: &str,
    key: &str,
    request_hash: &str,
    at: DateTime<Utc>,
) -> Result<bool, AppError> {
    let inserted = diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::scope.eq(scope),
            idempotency_keys::idempotency_key.eq(key),
            idempotency_keys::request_hash.eq(request_hash),
            idempotency_keys::created_at.eq(to_db_time(at)),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => Ok(true),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

pub fn find(
    conn: &mut DbConnection,
    scope: &str,
    key: &str,
) -> Result<Option<IdempotencyRow>, AppError> {
    Ok(idempotency_keys::table
        .find((scope, key))
        .select(IdempotencyRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn complete(
    conn: &mut DbConnection,
    scope: &str,
    key: &str,
    status: u16,
    headers_json: &str,
    body: &[u8],
    at: DateTime<Utc>,
) -> Result<(), AppError> {
    diesel::update(idempotency_keys::table.find((scope, key)))
        .set((
            idempotency_keys::status_code.eq(Some(i32::from(status))),
            idempotency_keys::response_headers.eq(Some(headers_json)),
            idempotency_keys::response_body.eq(Some(body)),
            idempotency_keys::completed_at.eq(Some(to_db_time(at))),
        ))
        .execute(conn)?;
    Ok(())
}

/// Forgets a reservation whose request failed on our side, so the client can retry.
pub fn release(conn: &mut DbConnection, scope: &str, key: &str) -> Result<(), AppError> {
    diesel::delete(
        idempotency_keys::table
            .find((scope, key))
            .filter(idempotency_keys::status_code.is_null()),
    )
    .execute(conn)?;
    Ok(())
}

/// Takes over a reservation left pending by a request that never finished (a crashed instance).
pub fn take_over_stale(
    conn: &mut DbConnection,
    scope: &str,
    key: &str,
    request_hash: &str,
    stale_before: DateTime<Utc>,
    at: DateTime<Utc>,
) -> Result<bool, AppError> {
    let changed = diesel::update(
        idempotency_keys::table
            .find((scope, key))
            .filter(idempotency_keys::status_code.is_null())
            .filter(idempotency_keys::created_at.lt(to_db_time(stale_before))),
    )
    .set((
        idempotency_keys::request_hash.eq(request_hash),
        idempotency_keys::created_at.eq(to_db_time(at)),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Deletes answers older than the retention period.
pub fn purge_before(conn: &mut DbConnection, before: DateTime<Utc>) -> Result<usize, AppError> {
    Ok(diesel::delete(
        idempotency_keys::table.filter(idempotency_keys::created_at.lt(to_db_time(before))),
    )
    .execute(conn)?)
}
