//! Machine clients and the client-credentials exchange. Secrets are shown once and stored only
//! as SHA-256 digests; revoking a client stops its secret and its tokens at once. Failed
//! exchanges are limited per client id and per source address.

use std::net::IpAddr;

use argon2::password_hash::{PasswordHash, PasswordVerifier};
use argon2::Argon2;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use serde::Serialize;
use utoipa::ToSchema;

use super::identity::require_admin;
use super::Services;
use crate::auth::TokenRequest;
use crate::db;
use crate::domain::api_client::{
    check_secret, secret_digest, ApiClient, ApiClientInput, ApiClientWithSecret, NewApiClient,
    SecretCheck,
};
use crate::domain::id::{ApiClientId, OrganisationId};
use crate::domain::identity::Principal;
use crate::domain::page::{Page, PageRequest};
use crate::domain::{new_id, now};
use crate::error::AppError;

const SECRET_PREFIX: &str = "cps_";

pub async fn create(
    services: &Services,
    principal: &Principal,
    input: &ApiClientInput,
) -> Result<ApiClientWithSecret, AppError> {
    require_admin(principal, "manage API clients")?;
    let input = input.clone();
    let (secret, hash) = new_secret();
    services
        .db
        .transaction(move |conn| {
            let org = db::organisations::find(conn, input.organisation_id)?.ok_or_else(|| {
                AppError::validation("organisation_id", "no organisation has this id")
            })?;
            let new = NewApiClient::parse(&input, &org.kinds)?;
            let client = ApiClient {
                id: new_id(),
                organisation_id: new.organisation_id,
                name: new.name,
                roles: new.roles,
                created_at: now(),
                rotated_at: None,
                revoked_at: None,
                version: 1,
            };
            db::api_clients::insert(conn, &client, &hash)?;
            Ok(ApiClientWithSecret::new(client, secret))
        })
        .await
}

pub async fn list(
    services: &Services,
    principal: &Principal,
    organisation_id: Option<OrganisationId>,
    page: PageRequest,
) -> Result<Page<ApiClient>, AppError> {
    require_admin(principal, "manage API clients")?;
    let rows = services
        .db
        .read(move |conn| db::api_clients::list(conn, organisation_id, page))
        .await?;
    Ok(Page::from_rows(rows, page, |c| c.id))
}

pub async fn get(
    services: &Services,
    principal: &Principal,
    id: ApiClientId,
) -> Result<ApiClient, AppError> {
    require_admin(principal, "manage API clients")?;
    services
        .db
        .read(move |conn| db::api_clients::find(conn, id))
        .await?
        .map(|(client, _)| client)
        .ok_or(AppError::NotFound("API client"))
}

/// Issues a new secret; the old one stops working at once. Tokens already issued run to their
/// (short) expiry; revoke the client to stop those too.
pub async fn rotate_secret(
    services: &Services,
    principal: &Principal,
    id: ApiClientId,
) -> Result<ApiClientWithSecret, AppError> {
    require_admin(principal, "manage API clients")?;
    let (secret, hash) = new_secret();
    services
        .db
        .transaction(move |conn| {
            let (client, _) =
                db::api_clients::find(conn, id)?.ok_or(AppError::NotFound("API client"))?;
            if client.is_revoked() {
                return Err(AppError::Conflict(
                    "the client is revoked; create a new one".to_owned(),
                ));
            }
            db::api_clients::set_secret(conn, id, &hash, now())?;
            let (client, _) =
                db::api_clients::find(conn, id)?.ok_or(AppError::NotFound("API client"))?;
            Ok(ApiClientWithSecret::new(client, secret))
        })
        .await
}

pub async fn revoke(
    services: &Services,
    principal: &Principal,
    id: ApiClientId,
) -> Result<ApiClient, AppError> {
    require_admin(principal, "manage API clients")?;
    services
        .db
        .transaction(move |conn| {
            db::api_clients::find(conn, id)?.ok_or(AppError::NotFound("API client"))?;
            db::api_clients::revoke(conn, id, now())?;
            db::api_clients::find(conn, id)?
                .map(|(client, _)| client)
                .ok_or(AppError::NotFound("API client"))
        })
        .await
}

/// The answer to a successful client-credentials exchange (RFC 6749 section 5.1).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AccessToken {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the token expires.
    pub expires_in: u64,
}

/// Exchanges a client id and secret for a short-lived token scoped to the client's organisation.
/// `source` is the caller's address: failures count against it and against the client id, and
/// past the limit every exchange for either is refused until the window ends.
pub async fn exchange(
    services: &Services,
    client_id: &str,
    client_secret: &str,
    source: Option<IpAddr>,
) -> Result<AccessToken, AppError> {
    let id: Option<ApiClientId> = client_id.trim().parse().ok();
    if let Some(wait) = services.failed_exchanges.blocked_for(id, source) {
        let retry_after_secs = wait.as_secs().max(1) + u64::from(wait.subsec_nanos() > 0);
        return Err(AppError::TooManyRequests {
            detail: format!(
                "too many failed attempts to exchange client credentials; retry in {retry_after_secs} s"
            ),
            retry_after_secs,
        });
    }
    let found = match id {
        Some(id) => {
            services
                .db
                .read(move |conn| db::api_clients::find(conn, id))
                .await?
        }
        None => None,
    };
    let client = match found {
        Some((client, stored)) => match check_secret(&stored, client_secret) {
            SecretCheck::Matches => Some(client),
            SecretCheck::DoesNotMatch => None,
            SecretCheck::Legacy => verify_legacy(services, &client, &stored, client_secret)
                .await?
                .then_some(client),
        },
        None => {
            // Compare against a digest nobody holds, so an unknown id takes as long as a known one.
            let _ = check_secret(&secret_digest("no client holds this secret"), client_secret);
            None
        }
    };
    let client = match client {
        Some(c) if !c.is_revoked() => c,
        _ => {
            services.failed_exchanges.record_failure(id, source);
            return Err(AppError::InvalidClient);
        }
    };
    let ttl = services.client_token_ttl;
    let token = services.tokens.mint(&TokenRequest {
        subject: format!("client:{}", client.id),
        organisation_id: Some(client.organisation_id),
        roles: client.roles.clone(),
        participant_id: None,
        client_id: Some(client.id),
        ttl,
    })?;
    Ok(AccessToken {
        access_token: token,
        token_type: "Bearer".to_owned(),
        expires_in: ttl.as_secs(),
    })
}

/// A secret kept by an earlier version as an argon2 hash. Such a check takes about 19 MiB for a
/// moment, so only one runs at a time in an instance (memory stays flat however many arrive);
/// a match replaces the hash with the digest, so each client pays this once.
async fn verify_legacy(
    services: &Services,
    client: &ApiClient,
    stored: &str,
    presented: &str,
) -> Result<bool, AppError> {
    static ONE_AT_A_TIME: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);
    let _permit = ONE_AT_A_TIME
        .acquire()
        .await
        .map_err(|_| AppError::internal("the legacy secret check is closed"))?;
    let (hash, secret) = (stored.to_owned(), presented.to_owned());
    let matches = tokio::task::spawn_blocking(move || match PasswordHash::new(&hash) {
        Ok(parsed) => Argon2::default()
            .verify_password(secret.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    })
    .await
    .map_err(AppError::internal)?;
    if matches {
        let (id, old, new) = (client.id, stored.to_owned(), secret_digest(presented));
        services
            .db
            .run(move |conn| db::api_clients::replace_hash(conn, id, &old, &new))
            .await?;
    }
    Ok(matches)
}

/// A new random secret (32 bytes from the operating system's generator) and its digest.
fn new_secret() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret = format!("{SECRET_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    let digest = secret_digest(&secret);
    (secret, digest)
}
