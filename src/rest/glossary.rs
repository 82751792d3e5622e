//! `/api/v1/glossary`

use actix_web::{get, post, web, HttpResponse};

use super::ListOf;
use crate::domain::glossary::{GlossaryInput, GlossaryTerm};
use crate::error::{AppError, Problem};
use crate::http::extract::{Caller, Json, PageParams, Query};
use crate::service::{glossary, Services};

/// The glossary: plain-English meanings, starting with the guide's jargon buster.
#[utoipa::path(tag = "glossary",
    params(PageParams),
    responses((status = 200, description = "One page", body = ListOf<GlossaryTerm>)),
    security(("bearer" = [])))]
#[get("/glossary")]
pub async fn list(
    services: web::Data<Services>,
    Caller(_caller): Caller,
    Query(params): Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let page = glossary::list(&services, params.page()?).await?;
    Ok(HttpResponse::Ok().json(ListOf::from(page)))
}

/// Add a term (admins and staff).
#[utoipa::path(tag = "glossary",
    request_body = GlossaryInput,
    responses((status = 201, description = "Added", body = GlossaryTerm),
        (status = 409, description = "The term is already explained", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
#[post("/glossary")]
pub async fn add(
    services: web::Data<Services>,
    Caller(caller): Caller,
    Json(input): Json<GlossaryInput>,
) -> Result<HttpResponse, AppError> {
    let term = glossary::add(&services, &caller, &input).await?;
    Ok(HttpResponse::Created().json(term))
}

/// These routes and their OpenAPI entries, registered together.
pub fn routes(cfg: &mut impl super::Routes) {
    cfg.service(list).service(add);
}
