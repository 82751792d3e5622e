//! `/api/v1/feedback` ("You said - We did"), `/api/v1/evaluations` (the Five Values) and
//! `/api/v1/organisations/{id}/self-assessments` (the guide's ten questions).

use actix_web::http::header;
use actix_web::{get, post, put, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::IntoParams;

use super::{created, ok_tagged, ListOf};
use crate::domain::feedback::{
    CloseInput, Evaluation, EvaluationAverages, EvaluationFilter, EvaluationInput, FeedbackFilter,
    FeedbackInput, FeedbackItem, FeedbackStats, FeedbackStatus, ResponseInput, SelfAssessment,
    SelfAssessmentInput,
};
use crate::domain::id::{OpportunityId, OrganisationId};
use crate::error::{AppError, Problem};
use crate::http::extract::{if_match, path_id, Caller, Json, PageParams, Query};
use crate::service::{feedback, Services};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FeedbackQuery {
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    #[param(value_type = Option<uuid::Uuid>)]
    pub cursor: Option<String>,
    pub status: Option<FeedbackStatus>,
    pub organisation_id: Option<OrganisationId>,
    pub opportunity_id: Option<OpportunityId>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StatsQuery {
    /// The caller's own organisation when absent.
    pub organisation_id: Option<OrganisationId>,
    /// The first day of the period (default: twelve months before `to`).
    pub from: Option<NaiveDate>,
    /// The day after the period (default: tomorrow, so the period ends today).
    pub to: Option<NaiveDate>,
    /// Also count the items closed within this many days of receipt.
    #[param(minimum = 0, maximum = 3660)]
    pub within_days: Option<i32>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EvaluationQuery {
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    #[param(value_type = Option<uuid::Uuid>)]
    pub cursor: Option<String>,
    pub organisation_id: Option<OrganisationId>,
    pub opportunity_id: Option<OpportunityId>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AveragesQuery {
    /// The caller's own organisation when absent.
    pub organisation_id: Option<OrganisationId>,
    /// The first day of the period (default: twelve months before `to`).
    pub from: Option<NaiveDate>,
    /// The day after the period (default: tomorrow, so the period ends today).
    pub to: Option<NaiveDate>,
}

// --- Feedback -------------------------------------------------------------------------------

/// Record what someone said: staff about their own organisation (or work it runs or
/// facilitates), naming a person their organisation registered or no one; a participant their
/// own, or anonymously (`anonymous: true` keeps no name).
#[utoipa::path(tag = "feedback",
    request_body = FeedbackInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe key")),
    responses(
        (status = 201, description = "Recorded, open", body = FeedbackItem),
        (status = 403, description = "Neither staff nor a participant, or a person naming someone else", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input, or an organisation, piece of work or person the caller cannot name", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[post("/feedback")]
pub async fn record(
    services: web::Data<Services>,
    Caller(caller): Caller,
    Json(input): Json<FeedbackInput>,
) -> Result<HttpResponse, AppError> {
    let f = feedback::record(&services, &caller, &input).await?;
    Ok(created(
        &format!("/api/v1/feedback/{}", f.id),
        f.version,
        &f,
    ))
}

/// Feedback items, oldest received first (open items by age): staff see their organisation's
/// and those about work it facilitates; a participant what they gave with their name on it;
/// admins all.
#[utoipa::path(tag = "feedback",
    params(FeedbackQuery),
    responses((status = 200, description = "One page", body = ListOf<FeedbackItem>)),
    security(("bearer" = [])))]
#[get("/feedback")]
pub async fn list(
    services: web::Data<Services>,
    Caller(caller): Caller,
    Query(q): Query<FeedbackQuery>,
) -> Result<HttpResponse, AppError> {
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    }
    .page()?;
    let filter = FeedbackFilter {
        status: q.status,
        organisation_id: q.organisation_id,
        opportunity_id: q.opportunity_id,
    };
    let page = feedback::list(&services, &caller, filter, page).await?;
    Ok(HttpResponse::Ok().json(ListOf::from(page)))
}

/// How well an organisation closes the loop: of the items received in the period, how many
/// are closed, how fast, and within `within_days`; and what is still open now.
#[utoipa::path(tag = "feedback",
    params(StatsQuery),
    responses(
        (status = 200, description = "The figures", body = FeedbackStats),
        (status = 404, description = "No such organisation, or not the caller's", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[get("/feedback/stats")]
pub async fn stats(
    services: web::Data<Services>,
    Caller(caller): Caller,
    Query(q): Query<StatsQuery>,
) -> Result<HttpResponse, AppError> {
    let s = feedback::stats(
        &services,
        &caller,
        q.organisation_id,
        q.from,
        q.to,
        q.within_days,
    )
    .await?;
    Ok(HttpResponse::Ok().json(s))
}

#[utoipa::path(tag = "feedback",
    params(("id" = uuid::Uuid, Path)),
    responses(
        (status = 200, description = "The item", body = FeedbackItem),
        (status = 404, description = "No such item, or not one the caller may read", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[get("/feedback/{id}")]
pub async fn get(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let f = feedback::get(&services, &caller, path_id(&req, "id")?).await?;
    Ok(ok_tagged(f.version, &f))
}

/// Write the response: what was done, or honestly why not (provider or facilitator staff of
/// the organisation, or of the one facilitating the work). It can be rewritten until the item
/// is closed. Send `If-Match` with the item's `ETag`, so no one's answer is lost.
#[utoipa::path(tag = "feedback",
    params(("id" = uuid::Uuid, Path), ("If-Match" = String, Header, description = "The ETag last read")),
    request_body = ResponseInput,
    responses(
        (status = 200, description = "Responded", body = FeedbackItem),
        (status = 403, description = "Can read the item but does not answer for it", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The item is closed", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since it was read", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match is missing", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[put("/feedback/{id}/response")]
pub async fn respond(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
    Json(input): Json<ResponseInput>,
) -> Result<HttpResponse, AppError> {
    let id = path_id(&req, "id")?;
    let version = Some(if_match(&req)?);
    let f = feedback::respond(&services, &caller, id, version, &input).await?;
    Ok(ok_tagged(f.version, &f))
}

/// Close the loop: say how the response reached the people who gave the feedback.
#[utoipa::path(tag = "feedback",
    params(("id" = uuid::Uuid, Path)),
    request_body = CloseInput,
    responses(
        (status = 200, description = "Closed", body = FeedbackItem),
        (status = 403, description = "Can read the item but does not answer for it", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not responded to yet, or already closed", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[post("/feedback/{id}/close")]
pub async fn close(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
    Json(input): Json<CloseInput>,
) -> Result<HttpResponse, AppError> {
    let f = feedback::close(&services, &caller, path_id(&req, "id")?, &input).await?;
    Ok(ok_tagged(f.version, &f))
}

// --- Evaluations ----------------------------------------------------------------------------

/// Score a service on the Five Values, each 1 to 5: staff recording one about their own
/// organisation, or a participant their own (or anonymously).
#[utoipa::path(tag = "evaluations",
    request_body = EvaluationInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe key")),
    responses(
        (status = 201, description = "Recorded", body = Evaluation),
        (status = 403, description = "Neither staff nor a participant, or a person naming someone else", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A score outside 1 to 5 (named), or an organisation, piece of work or person the caller cannot name", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[post("/evaluations")]
pub async fn evaluate(
    services: web::Data<Services>,
    Caller(caller): Caller,
    Json(input): Json<EvaluationInput>,
) -> Result<HttpResponse, AppError> {
    let e = feedback::evaluate(&services, &caller, &input).await?;
    Ok(HttpResponse::Created().json(e))
}

/// Evaluations, oldest first, read as feedback items are.
#[utoipa::path(tag = "evaluations",
    params(EvaluationQuery),
    responses((status = 200, description = "One page", body = ListOf<Evaluation>)),
    security(("bearer" = [])))]
#[get("/evaluations")]
pub async fn evaluations(
    services: web::Data<Services>,
    Caller(caller): Caller,
    Query(q): Query<EvaluationQuery>,
) -> Result<HttpResponse, AppError> {
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    }
    .page()?;
    let filter = EvaluationFilter {
        organisation_id: q.organisation_id,
        opportunity_id: q.opportunity_id,
    };
    let page = feedback::evaluations(&services, &caller, filter, page).await?;
    Ok(HttpResponse::Ok().json(ListOf::from(page)))
}

/// Each value's average over an organisation's evaluations in the period; `null` when there
/// were none (no data, not a score of 0).
#[utoipa::path(tag = "evaluations",
    params(AveragesQuery),
    responses(
        (status = 200, description = "The averages", body = EvaluationAverages),
        (status = 404, description = "No such organisation, or not the caller's", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[get("/evaluations/averages")]
pub async fn averages(
    services: web::Data<Services>,
    Caller(caller): Caller,
    Query(q): Query<AveragesQuery>,
) -> Result<HttpResponse, AppError> {
    let a =
        feedback::evaluation_averages(&services, &caller, q.organisation_id, q.from, q.to).await?;
    Ok(HttpResponse::Ok().json(a))
}

// --- Self-assessments -----------------------------------------------------------------------

/// Answer the guide's ten questions (staff of the organisation, or admins). Every submission is
/// kept, so change over time shows.
#[utoipa::path(tag = "self-assessment",
    params(("id" = uuid::Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe key")),
    request_body = SelfAssessmentInput,
    responses(
        (status = 201, description = "Kept", body = SelfAssessment),
        (status = 404, description = "No such organisation, or not the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An answer out of range, named", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[post("/organisations/{id}/self-assessments")]
pub async fn submit_self_assessment(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
    Json(input): Json<SelfAssessmentInput>,
) -> Result<HttpResponse, AppError> {
    let org = path_id(&req, "id")?;
    let s = feedback::submit_self_assessment(&services, &caller, org, &input).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/organisations/{org}/self-assessments/{}", s.id),
        ))
        .json(s))
}

/// Every self-assessment of the organisation, oldest first.
#[utoipa::path(tag = "self-assessment",
    params(("id" = uuid::Uuid, Path), PageParams),
    responses(
        (status = 200, description = "One page", body = ListOf<SelfAssessment>),
        (status = 404, description = "No such organisation, or not the caller's", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[get("/organisations/{id}/self-assessments")]
pub async fn self_assessments(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
    Query(params): Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let page = feedback::self_assessments(&services, &caller, path_id(&req, "id")?, params.page()?)
        .await?;
    Ok(HttpResponse::Ok().json(ListOf::from(page)))
}

/// The newest self-assessment of the organisation.
#[utoipa::path(tag = "self-assessment",
    params(("id" = uuid::Uuid, Path)),
    responses(
        (status = 200, description = "The newest", body = SelfAssessment),
        (status = 404, description = "None submitted yet, or not the caller's organisation", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[get("/organisations/{id}/self-assessments/latest")]
pub async fn latest_self_assessment(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let s = feedback::latest_self_assessment(&services, &caller, path_id(&req, "id")?).await?;
    Ok(HttpResponse::Ok().json(s))
}

#[utoipa::path(tag = "self-assessment",
    params(("id" = uuid::Uuid, Path), ("assessment_id" = uuid::Uuid, Path)),
    responses(
        (status = 200, description = "The self-assessment", body = SelfAssessment),
        (status = 404, description = "No such self-assessment of the caller's organisation", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[get("/organisations/{id}/self-assessments/{assessment_id}")]
pub async fn self_assessment(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let s = feedback::self_assessment(
        &services,
        &caller,
        path_id(&req, "id")?,
        path_id(&req, "assessment_id")?,
    )
    .await?;
    Ok(HttpResponse::Ok().json(s))
}

/// These routes and their OpenAPI entries, registered together. The fixed paths
/// (`/feedback/stats`, `.../latest`) come before the ones that take an id in their place.
pub fn routes(cfg: &mut impl super::Routes) {
    cfg.service(record)
        .service(list)
        .service(stats)
        .service(get)
        .service(respond)
        .service(close)
        .service(evaluate)
        .service(evaluations)
        .service(averages)
        .service(submit_self_assessment)
        .service(self_assessments)
        .service(latest_self_assessment)
        .service(self_assessment);
}
