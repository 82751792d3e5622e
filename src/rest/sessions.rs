//! `/api/v1/sessions/{id}/attendance` and `/api/v1/sessions/{id}/decisions`

use actix_web::{get, post, web, HttpRequest, HttpResponse};

use super::ListOf;
use crate::domain::id::{ContractId, OpportunityId, OrganisationId};
use crate::domain::session::{
    Attendance, AttendanceFilter, AttendanceInput, Decision, DecisionInput,
};
use crate::error::{AppError, Problem};
use crate::http::extract::{path_id, Caller, Json, PageParams, Query};
use crate::service::{sessions, Services};

/// Record one member's attendance at a session: minutes, and whether they participated or
/// only attended.
#[utoipa::path(tag = "sessions",
    params(("id" = uuid::Uuid, Path)),
    request_body = AttendanceInput,
    responses((status = 201, description = "Recorded", body = Attendance),
        (status = 409, description = "Already recorded for this person", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
#[post("/sessions/{id}/attendance")]
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
#[utoipa::path(tag = "sessions",
    params(("id" = uuid::Uuid, Path), PageParams),
    responses((status = 200, description = "One page of attendance", body = ListOf<Attendance>)),
    security(("bearer" = [])))]
#[get("/sessions/{id}/attendance")]
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

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AttendanceQuery {
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    #[param(value_type = Option<uuid::Uuid>)]
    pub cursor: Option<String>,
    /// The organisation that runs the work.
    pub organisation_id: Option<OrganisationId>,
    #[param(value_type = Option<uuid::Uuid>)]
    pub contract_id: Option<ContractId>,
    pub opportunity_id: Option<OpportunityId>,
    /// Sessions starting on or after this day.
    pub from: Option<chrono::NaiveDate>,
    /// Sessions starting before this day.
    pub to: Option<chrono::NaiveDate>,
}

/// Attendance across work, oldest recorded first: what an evidence report's people and hours
/// are counted from. Staff see the attendance of work their organisation runs or facilitates,
/// a commissioner that of work under its contracts, a person their own, admins all.
#[utoipa::path(tag = "sessions",
    params(AttendanceQuery),
    responses((status = 200, description = "One page of attendance", body = ListOf<Attendance>),
        (status = 422, description = "A period that is not one", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
#[get("/attendance")]
pub async fn attendance_across(
    services: web::Data<Services>,
    Caller(caller): Caller,
    Query(q): Query<AttendanceQuery>,
) -> Result<HttpResponse, AppError> {
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    }
    .page()?;
    let filter = AttendanceFilter {
        organisation_id: q.organisation_id,
        contract_id: q.contract_id,
        opportunity_id: q.opportunity_id,
        from: q.from,
        to: q.to,
    };
    let page = sessions::attendance_across(&services, &caller, filter, page).await?;
    Ok(HttpResponse::Ok().json(ListOf::from(page)))
}

/// Record a decision made at a session, and whether lived-experience members shared in it.
#[utoipa::path(tag = "sessions",
    params(("id" = uuid::Uuid, Path)),
    request_body = DecisionInput,
    responses((status = 201, description = "Recorded", body = Decision)),
    security(("bearer" = [])))]
#[post("/sessions/{id}/decisions")]
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
#[utoipa::path(tag = "sessions",
    params(("id" = uuid::Uuid, Path), PageParams),
    responses((status = 200, description = "One page of decisions", body = ListOf<Decision>)),
    security(("bearer" = [])))]
#[get("/sessions/{id}/decisions")]
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

/// These routes and their OpenAPI entries, registered together.
pub fn routes(cfg: &mut impl super::Routes) {
    cfg.service(attendance_across)
        .service(list_attendance)
        .service(record_attendance)
        .service(list_decisions)
        .service(record_decision);
}
