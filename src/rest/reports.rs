//! `/api/v1/reports/evidence`: the co-production evidence report as JSON, CSV or a printable
//! page, chosen by `format=` or by `Accept`.

use actix_web::http::header;
use actix_web::{get, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::report_page;
use crate::domain::id::{ContractId, OrganisationId};
use crate::domain::report::{to_csv, EvidenceReport};
use crate::error::{AppError, Problem};
use crate::http::extract::{Caller, Query};
use crate::service::reports::{self, ReportRequest};
use crate::service::{glossary, Services};

/// How the report is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReportFormat {
    Json,
    Csv,
    Html,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// The provider (the caller's own organisation when absent and no contract is named).
    #[param(value_type = Option<uuid::Uuid>)]
    pub provider: Option<OrganisationId>,
    /// A contract: its provider's work under it, for its period unless `from`/`to` narrow it.
    #[param(value_type = Option<uuid::Uuid>)]
    pub contract: Option<ContractId>,
    /// The first day of the period (default: the contract's first day, or twelve months
    /// before `to`).
    pub from: Option<NaiveDate>,
    /// The day after the period (default: the day after the contract ends, or tomorrow).
    pub to: Option<NaiveDate>,
    /// The feedback section's window for "closed within" (default 28 days).
    #[param(minimum = 0, maximum = 3660)]
    pub within_days: Option<i32>,
    /// `json`, `csv` or `html`; otherwise `Accept` chooses (JSON by default).
    pub format: Option<ReportFormat>,
}

/// The format asked for: `format=` first, then the first of CSV, HTML or JSON that `Accept`
/// names.
fn format_of(req: &HttpRequest, asked: Option<ReportFormat>) -> ReportFormat {
    if let Some(f) = asked {
        return f;
    }
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    for part in accept.split(',') {
        let media = part.split(';').next().unwrap_or_default().trim();
        match media {
            "application/json" | "application/*" => return ReportFormat::Json,
            "text/csv" => return ReportFormat::Csv,
            "text/html" | "application/xhtml+xml" => return ReportFormat::Html,
            _ => {}
        }
    }
    ReportFormat::Json
}

/// The page allows no script, no outside resource and no framing: only its own inline styles
/// and the inline chart.
pub const PAGE_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The co-production evidence report of a provider, or of the work under a contract, for a
/// period: work by kind and by level (claimed beside evidenced, with the failing criteria of
/// work claimed higher than its evidence), people, hours, sessions, payments, the feedback
/// loop, the Five Values, the latest self-assessment beside the evidenced position, and each
/// contract requirement met or not. Every figure names the REST path listing its records, as
/// far as the reader may list them. A provider's staff see their own; a commissioner the work
/// under a contract they hold, for its period, with counts of people under 5 shown as "fewer
/// than 5"; admins any.
#[utoipa::path(tag = "reports",
    params(ReportQuery),
    responses(
        (status = 200, description = "The report", content(
            (EvidenceReport = "application/json"),
            (String = "text/csv"),
            (String = "text/html"))),
        (status = 404, description = "No such provider or contract, or not the caller's to read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A period that is not one, or outside the contract for a commissioner", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[get("/reports/evidence")]
pub async fn evidence(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
    Query(q): Query<ReportQuery>,
) -> Result<HttpResponse, AppError> {
    let format = format_of(&req, q.format);
    let report = reports::evidence(
        &services,
        &caller,
        ReportRequest {
            provider: q.provider,
            contract: q.contract,
            from: q.from,
            to: q.to,
            within_days: q.within_days,
        },
    )
    .await?;
    Ok(match format {
        ReportFormat::Json => HttpResponse::Ok().json(report),
        ReportFormat::Csv => HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
            .insert_header((
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"evidence-report.csv\"",
            ))
            .body(to_csv(&report)),
        ReportFormat::Html => page(&services, &report).await?,
    })
}

async fn page(services: &Services, report: &EvidenceReport) -> Result<HttpResponse, AppError> {
    let glossary = glossary::meanings(services, report_page::GLOSSARY_TERMS).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CONTENT_SECURITY_POLICY, PAGE_POLICY))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .body(report_page::render(report, &glossary)))
}

pub fn routes(cfg: &mut impl super::Routes) {
    cfg.service(evidence);
}
