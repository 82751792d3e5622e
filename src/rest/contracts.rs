//! `/api/v1/contracts`: commissioners write co-production into what they fund.

use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};

use super::{created, ok_tagged, ListOf};
use crate::domain::contract::{Contract, ContractInput, ContractPatch};
use crate::error::{AppError, Problem};
use crate::http::extract::{if_match, path_id, Caller, Json, PageParams, Query};
use crate::service::{contracts, Services};

/// Make a contract with a provider, listing its requirements (the commissioner's staff;
/// admins name the commissioner).
#[utoipa::path(tag = "contracts",
    request_body = ContractInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe key")),
    responses(
        (status = 201, description = "Made", body = Contract),
        (status = 403, description = "Not a commissioner", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input, each problem named", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[post("/contracts")]
pub async fn create(
    services: web::Data<Services>,
    Caller(caller): Caller,
    Json(input): Json<ContractInput>,
) -> Result<HttpResponse, AppError> {
    let c = contracts::create(&services, &caller, &input).await?;
    Ok(created(
        &format!("/api/v1/contracts/{}", c.id),
        c.version,
        &c,
    ))
}

/// The contracts the caller's organisation commissions or provides (admins: all).
#[utoipa::path(tag = "contracts",
    params(PageParams),
    responses((status = 200, description = "One page", body = ListOf<Contract>)),
    security(("bearer" = [])))]
#[get("/contracts")]
pub async fn list(
    services: web::Data<Services>,
    Caller(caller): Caller,
    Query(params): Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let page = contracts::list(&services, &caller, params.page()?).await?;
    Ok(HttpResponse::Ok().json(ListOf::from(page)))
}

#[utoipa::path(tag = "contracts",
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, description = "The contract", body = Contract),
        (status = 404, description = "No such contract of the caller's organisation", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
#[get("/contracts/{id}")]
pub async fn get(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let c = contracts::get(&services, &caller, path_id(&req, "id")?).await?;
    Ok(ok_tagged(c.version, &c))
}

/// Change a contract (the commissioner). Send `If-Match` with its `ETag`; `requirements`
/// replaces the list whole.
#[utoipa::path(tag = "contracts",
    params(("id" = uuid::Uuid, Path), ("If-Match" = String, Header, description = "The ETag last read")),
    request_body = ContractPatch,
    responses((status = 200, description = "Changed", body = Contract),
        (status = 403, description = "Not the commissioner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such contract of the caller's organisation", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since it was read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
#[patch("/contracts/{id}")]
pub async fn update(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
    Json(patch): Json<ContractPatch>,
) -> Result<HttpResponse, AppError> {
    let id = path_id(&req, "id")?;
    let c = contracts::update(&services, &caller, id, if_match(&req)?, &patch).await?;
    Ok(ok_tagged(c.version, &c))
}

/// These routes and their OpenAPI entries, registered together.
pub fn routes(cfg: &mut impl super::Routes) {
    cfg.service(create)
        .service(list)
        .service(get)
        .service(update);
}
