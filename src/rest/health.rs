//! `/healthz`, `/readyz`, `/metrics`

use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{AppError, Problem};
use crate::http::metrics::Metrics;
use crate::service::health::{self, Readiness};
use crate::service::Services;

#[derive(Debug, Serialize, ToSchema)]
pub struct Liveness {
    /// Always `ok` when the process answers.
    pub status: String,
}

/// The process is up.
#[utoipa::path(tag = "operations",
    responses((status = 200, description = "Up", body = Liveness)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Liveness {
        status: "ok".to_owned(),
    })
}

/// The database is reachable and its migrations are current.
#[utoipa::path(tag = "operations",
    responses((status = 200, description = "Ready", body = Readiness),
        (status = 503, description = "Not ready", body = Problem, content_type = "application/problem+json")))]
#[get("/readyz")]
pub async fn readyz(services: web::Data<Services>) -> Result<HttpResponse, AppError> {
    let readiness = health::readiness(&services).await?;
    if readiness.migrations_current {
        Ok(HttpResponse::Ok().json(readiness))
    } else {
        Err(AppError::Unavailable(
            "database migrations are not current".to_owned(),
        ))
    }
}

/// Prometheus metrics in the text format.
#[utoipa::path(tag = "operations",
    responses((status = 200, description = "Metrics", body = String, content_type = "text/plain")))]
#[get("/metrics")]
pub async fn metrics(services: web::Data<Services>, metrics: web::Data<Metrics>) -> HttpResponse {
    metrics.refresh_backlog(&services).await;
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(metrics.render(&services))
}
