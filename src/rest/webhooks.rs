//! `/api/v1/webhooks`: the endpoints an organisation registers, their secrets, deliveries,
//! attempts and replays.

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{created, ok_tagged, ListOf};
use crate::domain::id::OrganisationId;
use crate::domain::webhook::{
    ReplayInput, RotateSecretInput, WebhookAttempt, WebhookDelivery, WebhookEndpoint,
    WebhookEndpointInput, WebhookEndpointPatch, WebhookEndpointWithSecret,
};
use crate::error::{AppError, Problem};
use crate::http::extract::{if_match, path_id, Caller, Json, PageParams, Query};
use crate::http::middleware::ReplayBody;
use crate::service::{webhooks, Services};

/// A page of endpoints.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EndpointQuery {
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    #[param(value_type = Option<uuid::Uuid>)]
    pub cursor: Option<String>,
    /// Admins only: one organisation's endpoints.
    pub organisation_id: Option<OrganisationId>,
}

/// A page of an endpoint's deliveries or attempts.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LogQuery {
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    #[param(value_type = Option<uuid::Uuid>)]
    pub cursor: Option<String>,
}

/// A repeat of the request with the same `Idempotency-Key` answers without the secret.
fn shown_once(
    mut response: HttpResponse,
    made: &WebhookEndpointWithSecret,
) -> Result<HttpResponse, AppError> {
    let redacted = serde_json::to_vec(&made.without_secret()).map_err(AppError::internal)?;
    response
        .extensions_mut()
        .insert(ReplayBody(web::Bytes::from(redacted)));
    Ok(response)
}

/// Register an endpoint (staff of the organisation; admins name one). The answer holds the
/// signing secret, shown this once.
#[utoipa::path(tag = "webhooks",
    request_body = WebhookEndpointInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe key")),
    responses((status = 201, description = "Registered, with its secret", body = WebhookEndpointWithSecret),
        (status = 403, description = "Not staff of the organisation", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
#[post("/webhooks")]
pub async fn create(
    services: web::Data<Services>,
    Caller(caller): Caller,
    Json(input): Json<WebhookEndpointInput>,
) -> Result<HttpResponse, AppError> {
    let made = webhooks::create(&services, &caller, &input).await?;
    let response = created(
        &format!("/api/v1/webhooks/{}", made.endpoint.id),
        made.endpoint.version,
        &made,
    );
    shown_once(response, &made)
}

/// The organisation's endpoints (admins: every organisation's, or one's).
#[utoipa::path(tag = "webhooks",
    params(EndpointQuery),
    responses((status = 200, description = "One page", body = ListOf<WebhookEndpoint>)),
    security(("bearer" = [])))]
#[get("/webhooks")]
pub async fn list(
    services: web::Data<Services>,
    Caller(caller): Caller,
    Query(q): Query<EndpointQuery>,
) -> Result<HttpResponse, AppError> {
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    }
    .page()?;
    let page = webhooks::list(&services, &caller, q.organisation_id, page).await?;
    Ok(HttpResponse::Ok().json(ListOf::from(page)))
}

#[utoipa::path(tag = "webhooks",
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, description = "The endpoint", body = WebhookEndpoint),
        (status = 404, description = "No such endpoint, or not the caller's organisation's", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
#[get("/webhooks/{id}")]
pub async fn get(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let e = webhooks::get(&services, &caller, path_id(&req, "id")?).await?;
    Ok(ok_tagged(e.version, &e))
}

/// Change the URL, the event types or the description, or disable and enable the endpoint.
/// Send `If-Match`.
#[utoipa::path(tag = "webhooks",
    params(("id" = uuid::Uuid, Path), ("If-Match" = String, Header, description = "The ETag last read")),
    request_body = WebhookEndpointPatch,
    responses((status = 200, description = "Changed", body = WebhookEndpoint),
        (status = 412, description = "Changed by someone else since it was read", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
#[patch("/webhooks/{id}")]
pub async fn update(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
    Json(patch): Json<WebhookEndpointPatch>,
) -> Result<HttpResponse, AppError> {
    let id = path_id(&req, "id")?;
    let version = if_match(&req)?;
    let e = webhooks::update(&services, &caller, id, version, &patch).await?;
    Ok(ok_tagged(e.version, &e))
}

/// Remove the endpoint, with its queue and its log.
#[utoipa::path(tag = "webhooks",
    params(("id" = uuid::Uuid, Path)),
    responses((status = 204, description = "Removed")),
    security(("bearer" = [])))]
#[delete("/webhooks/{id}")]
pub async fn remove(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    webhooks::delete(&services, &caller, path_id(&req, "id")?).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A new signing secret, shown this once; the old one keeps signing beside it for the overlap
/// (24 hours unless said), so receivers can change over without missing an event.
#[utoipa::path(tag = "webhooks",
    params(("id" = uuid::Uuid, Path)),
    request_body = RotateSecretInput,
    responses((status = 200, description = "The new secret", body = WebhookEndpointWithSecret)),
    security(("bearer" = [])))]
#[post("/webhooks/{id}/rotate-secret")]
pub async fn rotate_secret(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
    Json(input): Json<RotateSecretInput>,
) -> Result<HttpResponse, AppError> {
    let made = webhooks::rotate_secret(&services, &caller, path_id(&req, "id")?, &input).await?;
    shown_once(ok_tagged(made.endpoint.version, &made), &made)
}

/// Send an event of the organisation's to the endpoint again, now.
#[utoipa::path(tag = "webhooks",
    params(("id" = uuid::Uuid, Path)),
    request_body = ReplayInput,
    responses((status = 202, description = "Queued", body = WebhookDelivery),
        (status = 422, description = "No such event of this organisation", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
#[post("/webhooks/{id}/replay")]
pub async fn replay(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
    Json(input): Json<ReplayInput>,
) -> Result<HttpResponse, AppError> {
    let d = webhooks::replay(&services, &caller, path_id(&req, "id")?, &input).await?;
    Ok(HttpResponse::Accepted().json(d))
}

/// Every attempt at delivering to the endpoint, oldest first: when, the receiver's status or
/// why it failed, and how long it took.
#[utoipa::path(tag = "webhooks",
    params(("id" = uuid::Uuid, Path), LogQuery),
    responses((status = 200, description = "One page", body = ListOf<WebhookAttempt>)),
    security(("bearer" = [])))]
#[get("/webhooks/{id}/attempts")]
pub async fn attempts(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
    Query(q): Query<LogQuery>,
) -> Result<HttpResponse, AppError> {
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    }
    .page()?;
    let page = webhooks::attempts(&services, &caller, path_id(&req, "id")?, page).await?;
    Ok(HttpResponse::Ok().json(ListOf::from(page)))
}

/// Each event queued for the endpoint and where it stands.
#[utoipa::path(tag = "webhooks",
    params(("id" = uuid::Uuid, Path), LogQuery),
    responses((status = 200, description = "One page", body = ListOf<WebhookDelivery>)),
    security(("bearer" = [])))]
#[get("/webhooks/{id}/deliveries")]
pub async fn deliveries(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
    Query(q): Query<LogQuery>,
) -> Result<HttpResponse, AppError> {
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    }
    .page()?;
    let page = webhooks::deliveries(&services, &caller, path_id(&req, "id")?, page).await?;
    Ok(HttpResponse::Ok().json(ListOf::from(page)))
}

pub fn routes(cfg: &mut impl super::Routes) {
    cfg.service(create)
        .service(list)
        .service(get)
        .service(update)
        .service(remove)
        .service(rotate_secret)
        .service(replay)
        .service(attempts)
        .service(deliveries);
}
