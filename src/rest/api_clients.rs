//! `/api/v1/api-clients` and `POST /api/v1/token`

use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::{created, ok_tagged, ListOf};
use crate::domain::api_client::{ApiClient, ApiClientInput, ApiClientWithSecret};
use crate::domain::id::OrganisationId;
use crate::error::{AppError, Problem};
use crate::http::extract::{parse_json, path_id, Caller, Json, PageParams, Query};
use crate::http::middleware::ReplayBody;
use crate::service::api_clients::{self, AccessToken};
use crate::service::Services;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ApiClientFilter {
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    #[param(value_type = Option<uuid::Uuid>)]
    pub cursor: Option<String>,
    /// Only the clients of this organisation.
    pub organisation_id: Option<OrganisationId>,
}

/// Create a machine client for an organisation (platform admins). The secret is shown once.
#[utoipa::path(tag = "api-clients",
    request_body = ApiClientInput,
    responses(
        (status = 201, description = "Created; keep the secret, it is not shown again", body = ApiClientWithSecret),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[post("/api-clients")]
pub async fn create(
    services: web::Data<Services>,
    Caller(caller): Caller,
    Json(input): Json<ApiClientInput>,
) -> Result<HttpResponse, AppError> {
    let made = api_clients::create(&services, &caller, &input).await?;
    let response = created(
        &format!("/api/v1/api-clients/{}", made.client.id),
        made.client.version,
        &made,
    );
    shown_once(response, &made)
}

/// Marks an answer holding a secret so that a replay under the same `Idempotency-Key` gets the
/// client without its secret, and nothing stored holds the secret.
fn shown_once(
    mut response: HttpResponse,
    made: &ApiClientWithSecret,
) -> Result<HttpResponse, AppError> {
    let redacted = serde_json::to_vec(&made.without_secret()).map_err(AppError::internal)?;
    response
        .extensions_mut()
        .insert(ReplayBody(web::Bytes::from(redacted)));
    Ok(response)
}

/// List machine clients (platform admins).
#[utoipa::path(tag = "api-clients",
    params(ApiClientFilter),
    responses((status = 200, description = "One page", body = ListOf<ApiClient>)),
    security(("bearer" = [])))]
#[get("/api-clients")]
pub async fn list(
    services: web::Data<Services>,
    Caller(caller): Caller,
    Query(filter): Query<ApiClientFilter>,
) -> Result<HttpResponse, AppError> {
    let page = PageParams {
        limit: filter.limit,
        cursor: filter.cursor,
    }
    .page()?;
    let page = api_clients::list(&services, &caller, filter.organisation_id, page).await?;
    Ok(HttpResponse::Ok().json(ListOf::from(page)))
}

/// Read one machine client (platform admins).
#[utoipa::path(tag = "api-clients",
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, description = "The client", body = ApiClient),
        (status = 404, description = "No such client", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
#[get("/api-clients/{id}")]
pub async fn get(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let client = api_clients::get(&services, &caller, path_id(&req, "id")?).await?;
    Ok(ok_tagged(client.version, &client))
}

/// Issue a new secret; the old one stops working at once.
#[utoipa::path(tag = "api-clients",
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, description = "The new secret, shown once", body = ApiClientWithSecret),
        (status = 409, description = "The client is revoked", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
#[post("/api-clients/{id}/rotate")]
pub async fn rotate(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let made = api_clients::rotate_secret(&services, &caller, path_id(&req, "id")?).await?;
    shown_once(ok_tagged(made.client.version, &made), &made)
}

/// Revoke a client: its secret and every token it holds stop working at once.
#[utoipa::path(tag = "api-clients",
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, description = "Revoked", body = ApiClient)),
    security(("bearer" = [])))]
#[post("/api-clients/{id}/revoke")]
pub async fn revoke(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let client = api_clients::revoke(&services, &caller, path_id(&req, "id")?).await?;
    Ok(ok_tagged(client.version, &client))
}

/// The only grant this service offers.
#[derive(Debug, ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum GrantType {
    ClientCredentials,
}

/// The client-credentials grant, as a form (RFC 6749) or as JSON.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenRequestBody {
    /// Must be `client_credentials` (anything else is 400 `unsupported_grant_type`).
    #[schema(required = true, value_type = GrantType)]
    pub grant_type: Option<String>,
    /// Or send the id and secret as HTTP Basic authentication.
    #[schema(min_length = 1)]
    pub client_id: Option<String>,
    #[schema(min_length = 1)]
    pub client_secret: Option<String>,
    /// Accepted and ignored: a client's scope is its organisation.
    pub scope: Option<String>,
}

/// Exchange a client id and secret for a short-lived token scoped to the client's organisation.
/// Credentials may also come as HTTP Basic authentication.
#[utoipa::path(tag = "api-clients",
    request_body(content = TokenRequestBody, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "A bearer token", body = AccessToken),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Unknown client, wrong secret, or revoked", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/token")]
pub async fn token(
    services: web::Data<Services>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let form: TokenRequestBody = match content_type.as_str() {
        "application/x-www-form-urlencoded" => serde_urlencoded::from_bytes(&body)
            .map_err(|e| AppError::BadRequest(format!("the form is not valid: {e}")))?,
        "application/json" => parse_json(&body)?,
        _ => {
            return Err(AppError::UnsupportedMediaType(
                "send application/x-www-form-urlencoded or application/json".to_owned(),
            ))
        }
    };
    // RFC 6749, section 5.2: a grant this server does not offer is 400 `unsupported_grant_type`.
    if form.grant_type.as_deref() != Some("client_credentials") {
        return Err(AppError::UnsupportedGrantType(
            "`grant_type` must be `client_credentials`".to_owned(),
        ));
    }
    let (id, secret) = match (form.client_id, form.client_secret, basic_credentials(&req)) {
        (Some(id), Some(secret), _) => (id, secret),
        (_, _, Some((id, secret))) => (id, secret),
        _ => return Err(AppError::InvalidClient),
    };
    let source = req.peer_addr().map(|a| a.ip());
    let token = api_clients::exchange(&services, &id, &secret, source).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(token))
}

fn basic_credentials(req: &HttpRequest) -> Option<(String, String)> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

/// These routes and their OpenAPI entries, registered together.
pub fn routes(cfg: &mut impl super::Routes) {
    cfg.service(list)
        .service(create)
        .service(get)
        .service(rotate)
        .service(revoke)
        .service(token);
}
