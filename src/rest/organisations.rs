//! `/api/v1/organisations`

use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};

use super::{created, ok_tagged, ListOf};
use crate::domain::organisation::{Organisation, OrganisationInput, OrganisationPatch};
use crate::error::{AppError, Problem};
use crate::http::extract::{if_match, path_id, Caller, Json, PageParams, Query};
use crate::service::{organisations, Services};

/// Create an organisation (platform admins). It starts with the guide's payment policy.
#[utoipa::path(tag = "organisations",
    request_body = OrganisationInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe key")),
    responses(
        (status = 201, description = "Created", body = Organisation),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[post("/organisations")]
pub async fn create(
    services: web::Data<Services>,
    Caller(caller): Caller,
    Json(input): Json<OrganisationInput>,
) -> Result<HttpResponse, AppError> {
    let org = organisations::create(&services, &caller, &input).await?;
    Ok(created(
        &format!("/api/v1/organisations/{}", org.id),
        org.version,
        &org,
    ))
}

/// List organisations: admins see all, others their own.
#[utoipa::path(tag = "organisations",
    params(PageParams),
    responses(
        (status = 200, description = "One page", body = ListOf<Organisation>),
        (status = 400, description = "Bad paging", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[get("/organisations")]
pub async fn list(
    services: web::Data<Services>,
    Caller(caller): Caller,
    Query(params): Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let page = organisations::list(&services, &caller, params.page()?).await?;
    Ok(HttpResponse::Ok().json(ListOf::from(page)))
}

/// Read one organisation (another organisation's answers 404).
#[utoipa::path(tag = "organisations",
    params(("id" = uuid::Uuid, Path)),
    responses(
        (status = 200, description = "The organisation", body = Organisation),
        (status = 404, description = "No such organisation", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[get("/organisations/{id}")]
pub async fn get(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let org = organisations::get(&services, &caller, path_id(&req, "id")?).await?;
    Ok(ok_tagged(org.version, &org))
}

/// Change an organisation (platform admins). Send `If-Match` with its `ETag`.
#[utoipa::path(tag = "organisations",
    params(("id" = uuid::Uuid, Path), ("If-Match" = String, Header, description = "The ETag last read")),
    request_body = OrganisationPatch,
    responses(
        (status = 200, description = "Changed", body = Organisation),
        (status = 412, description = "Changed by someone else since it was read", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[patch("/organisations/{id}")]
pub async fn update(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
    Json(patch): Json<OrganisationPatch>,
) -> Result<HttpResponse, AppError> {
    let id = path_id(&req, "id")?;
    let version = if_match(&req)?;
    let org = organisations::update(&services, &caller, id, version, &patch).await?;
    Ok(ok_tagged(org.version, &org))
}

/// These routes and their OpenAPI entries, registered together.
pub fn routes(cfg: &mut impl super::Routes) {
    cfg.service(list)
        .service(create)
        .service(get)
        .service(update);
}
