//! Machine clients and the client-credentials exchange. Secrets are shown once and stored only
//! as argon2 hashes; revoking a client stops its secret and its tokens at once.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::identity::require_admin;
use super::Services;
use crate::auth::TokenRequest;
use crate::db;
use crate::domain::api_client::{ApiClient, ApiClientInput, ApiClientWithSecret, NewApiClient};
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
    let (secret, hash) = new_secret().await?;
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
            Ok(ApiClientWithSecret {
                client,
                client_secret: secret,
            })
        })
        .await
}

pub async fn list(
    services: &Services,
    principal: &Principal,
    organisation_id: Option<Uuid>,
    page: PageRequest,
) -> Result<Page<ApiClient>, AppError> {
    require_admin(principal, "manage API clients")?;
    let rows = services
        .db
        .run(move |conn| db::api_clients::list(conn, organisation_id, page))
        .await?;
    Ok(Page::from_rows(rows, page, |c| c.id))
}

pub async fn get(
    services: &Services,
    principal: &Principal,
    id: Uuid,
) -> Result<ApiClient, AppError> {
    require_admin(principal, "manage API clients")?;
    services
        .db
        .run(move |conn| db::api_clients::find(conn, id))
        .await?
        .map(|(client, _)| client)
        .ok_or(AppError::NotFound("API client"))
}

/// Issues a new secret; the old one stops working at once. Tokens already issued run to their
/// (short) expiry; revoke the client to stop those too.
pub async fn rotate_secret(
    services: &Services,
    principal: &Principal,
    id: Uuid,
) -> Result<ApiClientWithSecret, AppError> {
    require_admin(principal, "manage API clients")?;
    let (secret, hash) = new_secret().await?;
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
            Ok(ApiClientWithSecret {
                client,
                client_secret: secret,
            })
        })
        .await
}

pub async fn revoke(
    services: &Services,
    principal: &Principal,
    id: Uuid,
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
pub async fn exchange(
    services: &Services,
    client_id: &str,
    client_secret: &str,
) -> Result<AccessToken, AppError> {
    let id: Option<Uuid> = client_id.trim().parse().ok();
    let found = match id {
        Some(id) => {
            services
                .db
                .run(move |conn| db::api_clients::find(conn, id))
                .await?
        }
        None => None,
    };
    // Verify against a real hash even for an unknown client, so timing tells nothing.
    let (client, hash) = match found {
        Some((client, hash)) => (Some(client), hash),
        None => (None, dummy_hash().to_owned()),
    };
    let secret = client_secret.to_owned();
    let matches = tokio::task::spawn_blocking(move || verify_secret(&secret, &hash))
        .await
        .map_err(AppError::internal)?;
    let client = match client {
        Some(c) if matches && !c.is_revoked() => c,
        _ => return Err(AppError::InvalidClient),
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

/// A new random secret and its argon2 hash (hashing is slow on purpose, so off the async threads).
async fn new_secret() -> Result<(String, String), AppError> {
    tokio::task::spawn_blocking(|| {
        let mut bytes = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut bytes);
        let secret = format!("{SECRET_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
        let salt = SaltString::generate(&mut OsRng);
        let hash = Argon2::default()
            .hash_password(secret.as_bytes(), &salt)
            .map_err(|e| AppError::internal(format!("cannot hash a secret: {e}")))?
            .to_string();
        Ok((secret, hash))
    })
    .await
    .map_err(AppError::internal)?
}

fn verify_secret(secret: &str, hash: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default()
            .verify_password(secret.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// The hash of a secret nobody holds, checked when the client id is unknown.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(b"no client holds this secret", &salt)
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}
