//! `/api/v1/payment-policies`

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use super::ListOf;
use crate::domain::id::OrganisationId;
use crate::domain::payment_policy::{PaymentPolicy, RatesInput};
use crate::error::{AppError, Problem};
use crate::http::extract::{path_id, Caller, Json, PageParams, Query};
use crate::service::{payment_policies, Services};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PolicyFilter {
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    #[param(value_type = Option<uuid::Uuid>)]
    pub cursor: Option<String>,
    /// Only this organisation's policies.
    pub organisation_id: Option<OrganisationId>,
}

/// List payment policies: an organisation's staff see their own, admins all.
#[utoipa::path(tag = "payment-policies",
    params(PolicyFilter),
    responses((status = 200, description = "One page", body = ListOf<PaymentPolicy>)),
    security(("bearer" = [])))]
#[get("/payment-policies")]
pub async fn list(
    services: web::Data<Services>,
    Caller(caller): Caller,
    Query(filter): Query<PolicyFilter>,
) -> Result<HttpResponse, AppError> {
    let page = PageParams {
        limit: filter.limit,
        cursor: filter.cursor,
    }
    .page()?;
    let page = payment_policies::list(&services, &caller, filter.organisation_id, page).await?;
    Ok(HttpResponse::Ok().json(ListOf::from(page)))
}

/// Read one payment policy with all its rates.
#[utoipa::path(tag = "payment-policies",
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, description = "The policy", body = PaymentPolicy),
        (status = 404, description = "No such policy", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
#[get("/payment-policies/{id}")]
pub async fn get(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let policy = payment_policies::get(&services, &caller, path_id(&req, "id")?).await?;
    Ok(HttpResponse::Ok().json(policy))
}

/// These routes and their OpenAPI entries, registered together.
/// Add rates that start on a day (the organisation's staff). A rate change never reprices a
/// claim line already priced.
#[utoipa::path(tag = "payment-policies",
    params(("id" = uuid::Uuid, Path)),
    request_body = RatesInput,
    responses((status = 201, description = "The policy with its rates", body = PaymentPolicy),
        (status = 409, description = "Rates already start that day", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
#[post("/payment-policies/{id}/rates")]
pub async fn add_rates(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
    Json(input): Json<RatesInput>,
) -> Result<HttpResponse, AppError> {
    let policy =
        payment_policies::add_rates(&services, &caller, path_id(&req, "id")?, &input).await?;
    Ok(HttpResponse::Created().json(policy))
}

pub fn routes(cfg: &mut impl super::Routes) {
    cfg.service(list).service(get).service(add_rates);
}
