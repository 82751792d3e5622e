//! Idempotent `POST`s: the first answer to a key is stored (in the database, so it survives a
//! restart and is shared by every instance) and replayed for a repeat with the same body; the
//! same key with another body is refused.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Services;
use crate::db;
use crate::domain::now;
use crate::error::AppError;

/// A reservation older than this whose request never finished (its instance died) may be
/// taken over by a retry.
const STALE_AFTER: Duration = Duration::from_secs(60);
/// How long answers are kept.
pub const RETENTION: Duration = Duration::from_secs(24 * 60 * 60);

/// A stored answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

pub enum Begin {
    /// First use of the key: run the request, then `complete` or `release`.
    Proceed,
    Replay(StoredResponse),
    Mismatch,
    InProgress,
}

/// A fingerprint of everything that makes two requests "the same".
pub fn fingerprint(method: &str, path_and_query: &str, body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(method.as_bytes());
    h.update([0]);
    h.update(path_and_query.as_bytes());
    h.update([0]);
    h.update(body);
    hex::encode(h.finalize())
}

pub fn valid_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= 255 && key.bytes().all(|b| b.is_ascii_graphic())
}

pub async fn begin(
    services: &Services,
    scope: &str,
    key: &str,
    request_hash: &str,
) -> Result<Begin, AppError> {
    let (scope, key, hash) = (scope.to_owned(), key.to_owned(), request_hash.to_owned());
    services
        .db
        .run(move |conn| {
            let at = now();
            if db::idempotency::try_reserve(conn, &scope, &key, &hash, at)? {
                return Ok(Begin::Proceed);
            }
            let Some(row) = db::idempotency::find(conn, &scope, &key)? else {
                // Released between our insert and read: the next try will reserve it.
                return Ok(Begin::InProgress);
            };
            if row.request_hash != hash {
                return Ok(Begin::Mismatch);
            }
            match (row.status_code, row.response_body) {
                (Some(status), body) => {
                    let headers: Vec<(String, String)> = row
                        .response_headers
                        .as_deref()
                        .map(serde_json::from_str)
                        .transpose()
                        .map_err(AppError::internal)?
                        .unwrap_or_default();
                    Ok(Begin::Replay(StoredResponse {
                        status: u16::try_from(status).map_err(AppError::internal)?,
                        headers,
                        body: body.unwrap_or_default(),
                    }))
                }
                (None, _) => {
                    let stale_before =
                        at - chrono::Duration::from_std(STALE_AFTER).map_err(AppError::internal)?;
                    if db::idempotency::take_over_stale(
                        conn,
                        &scope,
                        &key,
                        &hash,
                        stale_before,
                        at,
                    )? {
                        Ok(Begin::Proceed)
                    } else {
                        Ok(Begin::InProgress)
                    }
                }
            }
        })
        .await
}

pub async fn complete(
    services: &Services,
    scope: &str,
    key: &str,
    response: StoredResponse,
) -> Result<(), AppError> {
    let (scope, key) = (scope.to_owned(), key.to_owned());
    let headers = serde_json::to_string(&response.headers).map_err(AppError::internal)?;
    services
        .db
        .run(move |conn| {
            db::idempotency::complete(
                conn,
                &scope,
                &key,
                response.status,
                &headers,
                &response.body,
                now(),
            )
        })
        .await
}

pub async fn release(services: &Services, scope: &str, key: &str) -> Result<(), AppError> {
    let (scope, key) = (scope.to_owned(), key.to_owned());
    services
        .db
        .run(move |conn| db::idempotency::release(conn, &scope, &key))
        .await
}

/// Deletes answers past the retention period; returns how many.
pub async fn purge_expired(services: &Services) -> Result<usize, AppError> {
    let before = now() - chrono::Duration::from_std(RETENTION).map_err(AppError::internal)?;
    services
        .db
        .run(move |conn| db::idempotency::purge_before(conn, before))
        .await
}
