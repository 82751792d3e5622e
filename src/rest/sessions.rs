//! `/api/v1/sessions/{id}/attendance` and `/api/v1/sessions/{id}/decisions`

use actix_web::{web, HttpRequest, HttpResponse};

use super::ListOf;
use crate::domain::session::{Attendance, AttendanceInput, Decision, DecisionInput};
use crate::error::{AppError, Problem};
use crate::http::extract::{path_id, Caller, Json, PageParams, Query};
use crate::service::{sessions, Services};

/// Record one member's attendance at a session: minutes, and whether they participated or
/// only attended.
#[utoipa::path(post, path = "/api/v1/sessions/{id}/attendance", tag = "sessions",
    params(("id" = uuid::Uuid, Path)),
    request_body = AttendanceInput,
    responses((status = 201, description = "Recorded", body = Attendance),
        (status = 409, description = "Already recorded for this person", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn record_attendance(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
    Json(input): Json<AttendanceInput>,
) -> Result<HttpResponse, AppError> {
    let a = sessions::record_attendance(&services, &caller, path_id(&req, "id")?, &input).await?;
    Ok(HttpResponse::Created().json(a))
}

/// Who attended a session.
#[utoipa::path(get, path = "/api/v1/sessions/{id}/attendance", tag = "sessions",
    params(("id" = uuid::Uuid, Path), PageParams),
    responses((status = 200, description = "One page of attendance", body = ListOf<Attendance>)),
    security(("bearer" = [])))]
pub async fn list_attendance(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
    Query(params): Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let page =
        sessions::list_attendance(&services, &caller, path_id(&req, "id")?, params.page()?).await?;
    Ok(HttpResponse::Ok().json(ListOf::from(page)))
}

/// Record a decision made at a session, and whether lived-experience members shared in it.
#[utoipa::path(post, path = "/api/v1/sessions/{id}/decisions", tag = "sessions",
    params(("id" = uuid::Uuid, Path)),
    request_body = DecisionInput,
    responses((status = 201, description = "Recorded", body = Decision)),
    security(("bearer" = [])))]
pub async fn record_decision(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
    Json(input): Json<DecisionInput>,
) -> Result<HttpResponse, AppError> {
    let d = sessions::record_decision(&services, &caller, path_id(&req, "id")?, &input).await?;
    Ok(HttpResponse::Created().json(d))
}

/// The decisions made at a session.
#[utoipa::path(get, path = "/api/v1/sessions/{id}/decisions", tag = "sessions",
    params(("id" = uuid::Uuid, Path), PageParams),
    responses((status = 200, description = "One page of decisions", body = ListOf<Decision>)),
    security(("bearer" = [])))]
pub async fn list_decisions(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
    Query(params): Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let page =
        sessions::list_decisions(&services, &caller, path_id(&req, "id")?, params.page()?).await?;
    Ok(HttpResponse::Ok().json(ListOf::from(page)))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/sessions/{id}/attendance")
            .route(web::get().to(list_attendance))
            .route(web::post().to(record_attendance)),
    )
    .service(
        web::resource("/sessions/{id}/decisions")
            .route(web::get().to(list_decisions))
            .route(web::post().to(record_decision)),
    );
}
