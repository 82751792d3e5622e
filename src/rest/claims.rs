//! `/api/v1/claims`, receipts, bank details, recognition, the finance lists, payment runs and
//! the CSV export.

use actix_web::http::header;
use actix_web::{get, patch, post, put, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::IntoParams;

use super::{created, ok_tagged, ListOf};
use crate::domain::claim::{
    ChoiceInput, Claim, ClaimAnswer, ClaimEvent, ClaimInput, ClaimPatch, ClaimStatus,
};
use crate::domain::id::{OrganisationId, PaymentRunId};
use crate::domain::payment::{
    BankDetailsInput, FinanceView, MaskedBankDetails, PayInput, PaymentRun, PaymentRunInput,
    Receipt, Recognition, RecognitionInput, RejectInput, RECEIPT_MAX_BYTES,
};
use crate::error::{AppError, Problem};
use crate::http::extract::{if_match, path_id, read_limited, Caller, Json, PageParams, Query};
use crate::service::{claims, Services};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ClaimQuery {
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    #[param(value_type = Option<uuid::Uuid>)]
    pub cursor: Option<String>,
    pub status: Option<ClaimStatus>,
}

/// Make a draft claim: the person for themselves, or the paying organisation's staff naming
/// them. Lines are priced by the service from the policy in force on each activity's day; an
/// amount sent for time or miles is refused.
#[utoipa::path(tag = "claims",
    request_body = ClaimInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe key")),
    responses((status = 201, description = "A draft claim, priced", body = Claim),
        (status = 422, description = "A line cannot be paid, with the reason", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
#[post("/claims")]
pub async fn create(
    services: web::Data<Services>,
    Caller(caller): Caller,
    Json(input): Json<ClaimInput>,
) -> Result<HttpResponse, AppError> {
    let c = claims::create(&services, &caller, &input).await?;
    Ok(created(&format!("/api/v1/claims/{}", c.id), c.version, &c))
}

/// Claims: the person's own; the paying organisation's for its staff; all for admins.
#[utoipa::path(tag = "claims",
    params(ClaimQuery),
    responses((status = 200, description = "One page", body = ListOf<Claim>)),
    security(("bearer" = [])))]
#[get("/claims")]
pub async fn list(
    services: web::Data<Services>,
    Caller(caller): Caller,
    Query(q): Query<ClaimQuery>,
) -> Result<HttpResponse, AppError> {
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    }
    .page()?;
    let page = claims::list(&services, &caller, q.status, page).await?;
    Ok(HttpResponse::Ok().json(ListOf::from(page)))
}

#[utoipa::path(tag = "claims",
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, description = "The claim", body = Claim)),
    security(("bearer" = [])))]
#[get("/claims/{id}")]
pub async fn get(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let c = claims::get(&services, &caller, path_id(&req, "id")?).await?;
    Ok(ok_tagged(c.version, &c))
}

/// Change a draft's lines or choice. Send `If-Match`.
#[utoipa::path(tag = "claims",
    params(("id" = uuid::Uuid, Path), ("If-Match" = String, Header, description = "The ETag last read")),
    request_body = ClaimPatch,
    responses((status = 200, description = "Changed, priced again", body = Claim)),
    security(("bearer" = [])))]
#[patch("/claims/{id}")]
pub async fn update(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
    Json(patch): Json<ClaimPatch>,
) -> Result<HttpResponse, AppError> {
    let id = path_id(&req, "id")?;
    let version = if_match(&req)?;
    let c = claims::update(&services, &caller, id, version, &patch).await?;
    Ok(ok_tagged(c.version, &c))
}

/// Submit a draft: it is due the policy's days later (the guide: 14). A week's payments past
/// the amount a person on benefits set come back as a warning, never a refusal.
#[utoipa::path(tag = "claims",
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, description = "Submitted", body = ClaimAnswer),
        (status = 409, description = "Not a draft", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
#[post("/claims/{id}/submit")]
pub async fn submit(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let a = claims::submit(&services, &caller, path_id(&req, "id")?).await?;
    Ok(ok_tagged(a.claim.version, &a))
}

/// Approve a submitted claim (staff of the paying organisation).
#[utoipa::path(tag = "claims",
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, description = "Approved", body = ClaimAnswer)),
    security(("bearer" = [])))]
#[post("/claims/{id}/approve")]
pub async fn approve(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let a = claims::approve(&services, &caller, path_id(&req, "id")?).await?;
    Ok(ok_tagged(a.claim.version, &a))
}

/// Reject a submitted or approved claim, with the reason the person sees.
#[utoipa::path(tag = "claims",
    params(("id" = uuid::Uuid, Path)),
    request_body = RejectInput,
    responses((status = 200, description = "Rejected", body = ClaimAnswer)),
    security(("bearer" = [])))]
#[post("/claims/{id}/reject")]
pub async fn reject(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
    Json(input): Json<RejectInput>,
) -> Result<HttpResponse, AppError> {
    let a = claims::reject(&services, &caller, path_id(&req, "id")?, &input).await?;
    Ok(ok_tagged(a.claim.version, &a))
}

/// Pay an approved claim: at most once (a second pay is 409; with the same `Idempotency-Key`
/// it is the first answer again).
#[utoipa::path(tag = "claims",
    params(("id" = uuid::Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe key")),
    request_body = PayInput,
    responses((status = 200, description = "Paid", body = ClaimAnswer),
        (status = 409, description = "Paid already, or not approved", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
#[post("/claims/{id}/pay")]
pub async fn pay(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
    Json(input): Json<PayInput>,
) -> Result<HttpResponse, AppError> {
    let a = claims::pay(&services, &caller, path_id(&req, "id")?, &input).await?;
    Ok(ok_tagged(a.claim.version, &a))
}

/// The person chooses how to be paid: all, less, vouchers, a charity, or not at all (the
/// contribution is still recorded).
#[utoipa::path(tag = "claims",
    params(("id" = uuid::Uuid, Path)),
    request_body = ChoiceInput,
    responses((status = 200, description = "Chosen", body = ClaimAnswer)),
    security(("bearer" = [])))]
#[post("/claims/{id}/choice")]
pub async fn choose(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
    Json(input): Json<ChoiceInput>,
) -> Result<HttpResponse, AppError> {
    let a = claims::choose(&services, &caller, path_id(&req, "id")?, &input).await?;
    Ok(ok_tagged(a.claim.version, &a))
}

/// Who did what to the claim, and when.
#[utoipa::path(tag = "claims",
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, description = "Oldest first", body = Vec<ClaimEvent>)),
    security(("bearer" = [])))]
#[get("/claims/{id}/history")]
pub async fn history(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let events = claims::history(&services, &caller, path_id(&req, "id")?).await?;
    Ok(HttpResponse::Ok().json(events))
}

/// Upload a receipt: the body is the file itself (a PNG, JPEG or WebP image, or a PDF, known by
/// its content, not its name), at most 5 MiB.
#[utoipa::path(tag = "claims",
    params(("id" = uuid::Uuid, Path)),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The receipt's bytes"),
    responses((status = 201, description = "Kept", body = Receipt),
        (status = 413, description = "Over 5 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not an image or a PDF", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
#[post("/claims/{id}/receipts")]
pub async fn upload_receipt(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let id = path_id(&req, "id")?;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > RECEIPT_MAX_BYTES) {
        return Err(AppError::PayloadTooLarge(RECEIPT_MAX_BYTES));
    }
    let body = read_limited(&mut payload.into_inner(), RECEIPT_MAX_BYTES).await?;
    let r = claims::upload_receipt(&services, &caller, id, body.to_vec()).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/claims/{id}/receipts/{}", r.id),
        ))
        .json(r))
}

#[utoipa::path(tag = "claims",
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, description = "The claim's receipts", body = Vec<Receipt>)),
    security(("bearer" = [])))]
#[get("/claims/{id}/receipts")]
pub async fn receipts(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let found = claims::receipts(&services, &caller, path_id(&req, "id")?).await?;
    Ok(HttpResponse::Ok().json(found))
}

/// A receipt's file: for the claimant and the paying organisation's staff.
#[utoipa::path(tag = "claims",
    params(("id" = uuid::Uuid, Path), ("receipt_id" = uuid::Uuid, Path)),
    responses((status = 200, description = "The file", content_type = "application/octet-stream", body = Vec<u8>)),
    security(("bearer" = [])))]
#[get("/claims/{id}/receipts/{receipt_id}")]
pub async fn receipt(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let (content_type, bytes) = claims::receipt_content(
        &services,
        &caller,
        path_id(&req, "id")?,
        path_id(&req, "receipt_id")?,
    )
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header((header::CONTENT_DISPOSITION, "attachment"))
        .body(bytes))
}

/// Keep bank details for transfers (the person, or the staff who registered them). They are
/// encrypted, and shown whole only in the finance export.
#[utoipa::path(tag = "claims",
    params(("id" = uuid::Uuid, Path)),
    request_body = BankDetailsInput,
    responses((status = 200, description = "Kept; the last four digits", body = MaskedBankDetails)),
    security(("bearer" = [])))]
#[put("/participants/{id}/bank-details")]
pub async fn set_bank_details(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
    Json(input): Json<BankDetailsInput>,
) -> Result<HttpResponse, AppError> {
    let m = claims::set_bank_details(&services, &caller, path_id(&req, "id")?, &input).await?;
    Ok(HttpResponse::Ok().json(m))
}

/// Bank details, masked to the last four digits.
#[utoipa::path(tag = "claims",
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, description = "Masked (null when none are kept)", body = Option<MaskedBankDetails>)),
    security(("bearer" = [])))]
#[get("/participants/{id}/bank-details")]
pub async fn bank_details(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let m = claims::bank_details(&services, &caller, path_id(&req, "id")?).await?;
    Ok(HttpResponse::Ok().json(m))
}

/// Record recognition that is not money (staff who run the work).
#[utoipa::path(tag = "claims",
    request_body = RecognitionInput,
    responses((status = 201, description = "Recorded", body = Recognition)),
    security(("bearer" = [])))]
#[post("/recognitions")]
pub async fn recognise(
    services: web::Data<Services>,
    Caller(caller): Caller,
    Json(input): Json<RecognitionInput>,
) -> Result<HttpResponse, AppError> {
    let r = claims::recognise(&services, &caller, &input).await?;
    Ok(HttpResponse::Created().json(r))
}

#[utoipa::path(tag = "claims",
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, description = "The person's recognition", body = Vec<Recognition>)),
    security(("bearer" = [])))]
#[get("/participants/{id}/recognitions")]
pub async fn recognitions(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let found = claims::recognitions(&services, &caller, path_id(&req, "id")?).await?;
    Ok(HttpResponse::Ok().json(found))
}

/// How many claims, 1 to 200 (default 200), earliest due first.
fn finance_limit(limit: Option<i64>) -> Result<u32, AppError> {
    match limit {
        None => Ok(200),
        Some(n @ 1..=200) => Ok(u32::try_from(n).unwrap_or(200)),
        Some(_) => Err(AppError::validation("limit", "must be between 1 and 200")),
    }
}

/// The paid period, checked.
fn period(from: NaiveDate, to: NaiveDate) -> Result<FinanceView, AppError> {
    if from <= to {
        Ok(FinanceView::Paid { from, to })
    } else {
        Err(AppError::validation("to", "must not be before `from`"))
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OverdueQuery {
    /// Admins may name one paying organisation (all when absent); staff see their own.
    pub organisation_id: Option<OrganisationId>,
    /// How many claims, 1 to 200 (default 200), earliest due first.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

/// Unpaid claims past their due day, earliest due first (staff of the paying organisation).
#[utoipa::path(tag = "finance",
    params(OverdueQuery),
    responses((status = 200, description = "Overdue claims", body = Vec<Claim>)),
    security(("bearer" = [])))]
#[get("/finance/overdue")]
pub async fn overdue(
    services: web::Data<Services>,
    Caller(caller): Caller,
    Query(q): Query<OverdueQuery>,
) -> Result<HttpResponse, AppError> {
    let view = FinanceView::Overdue {
        today: claims::today(),
    };
    let found = claims::finance(
        &services,
        &caller,
        q.organisation_id,
        view,
        finance_limit(q.limit)?,
    )
    .await?;
    Ok(HttpResponse::Ok().json(found))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DueSoonQuery {
    /// Admins may name one paying organisation (all when absent); staff see their own.
    pub organisation_id: Option<OrganisationId>,
    /// How many claims, 1 to 200 (default 200), earliest due first.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// Due within this many days from today (default 7).
    #[param(minimum = 0, maximum = 366)]
    pub days: Option<i64>,
}

/// Unpaid claims due within `days` (default 7).
#[utoipa::path(tag = "finance",
    params(DueSoonQuery),
    responses((status = 200, description = "Claims due soon", body = Vec<Claim>)),
    security(("bearer" = [])))]
#[get("/finance/due-soon")]
pub async fn due_soon(
    services: web::Data<Services>,
    Caller(caller): Caller,
    Query(q): Query<DueSoonQuery>,
) -> Result<HttpResponse, AppError> {
    let days = q.days.unwrap_or(7);
    if !(0..=366).contains(&days) {
        return Err(AppError::validation("days", "must be between 0 and 366"));
    }
    let today = claims::today();
    let view = FinanceView::DueSoon {
        today,
        until: today + chrono::Duration::days(days),
    };
    let found = claims::finance(
        &services,
        &caller,
        q.organisation_id,
        view,
        finance_limit(q.limit)?,
    )
    .await?;
    Ok(HttpResponse::Ok().json(found))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PaidQuery {
    /// Admins may name one paying organisation (all when absent); staff see their own.
    pub organisation_id: Option<OrganisationId>,
    /// How many claims, 1 to 200 (default 200), in the order they were paid.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// Paid on or after this day.
    pub from: NaiveDate,
    /// Paid on or before this day.
    pub to: NaiveDate,
}

/// Claims paid between `from` and `to`, inclusive.
#[utoipa::path(tag = "finance",
    params(PaidQuery),
    responses((status = 200, description = "Paid claims", body = Vec<Claim>)),
    security(("bearer" = [])))]
#[get("/finance/paid")]
pub async fn paid(
    services: web::Data<Services>,
    Caller(caller): Caller,
    Query(q): Query<PaidQuery>,
) -> Result<HttpResponse, AppError> {
    let view = period(q.from, q.to)?;
    let found = claims::finance(
        &services,
        &caller,
        q.organisation_id,
        view,
        finance_limit(q.limit)?,
    )
    .await?;
    Ok(HttpResponse::Ok().json(found))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// The claims of one payment run; or else give `from` and `to`.
    pub run_id: Option<PaymentRunId>,
    /// Paid on or after this day.
    pub from: Option<NaiveDate>,
    /// Paid on or before this day.
    pub to: Option<NaiveDate>,
}

/// The finance export as CSV, for the paying organisation's staff: one row per claim line of
/// the claims of one `run_id` (or paid between `from` and `to`), pounds with two decimals, with
/// the payees' bank details (the only place they are shown whole).
#[utoipa::path(tag = "finance",
    params(ExportQuery),
    responses((status = 200, description = "CSV", content_type = "text/csv", body = String)),
    security(("bearer" = [])))]
#[get("/finance/export.csv")]
pub async fn export_csv(
    services: web::Data<Services>,
    Caller(caller): Caller,
    Query(q): Query<ExportQuery>,
) -> Result<HttpResponse, AppError> {
    let view = match (q.run_id, q.from, q.to) {
        (Some(run), None, None) => FinanceView::Run(run),
        (None, Some(from), Some(to)) => period(from, to)?,
        _ => {
            return Err(AppError::validation(
                "run_id",
                "give either a `run_id`, or `from` and `to`",
            ))
        }
    };
    let csv = claims::export_csv(&services, &caller, view).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"claims.csv\"",
        ))
        .body(csv))
}

/// Pay every approved claim due by a day, together (staff of the paying organisation).
#[utoipa::path(tag = "finance",
    request_body = PaymentRunInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe key")),
    responses((status = 201, description = "The run, with what it paid", body = PaymentRun)),
    security(("bearer" = [])))]
#[post("/payment-runs")]
pub async fn run_payments(
    services: web::Data<Services>,
    Caller(caller): Caller,
    Json(input): Json<PaymentRunInput>,
) -> Result<HttpResponse, AppError> {
    let run = claims::run_payments(&services, &caller, &input).await?;
    Ok(HttpResponse::Created().json(run))
}

/// These routes and their OpenAPI entries, registered together.
pub fn routes(cfg: &mut impl super::Routes) {
    cfg.service(create)
        .service(list)
        .service(get)
        .service(update)
        .service(submit)
        .service(approve)
        .service(reject)
        .service(pay)
        .service(choose)
        .service(history)
        .service(upload_receipt)
        .service(receipts)
        .service(receipt)
        .service(set_bank_details)
        .service(bank_details)
        .service(recognise)
        .service(recognitions)
        .service(overdue)
        .service(due_soon)
        .service(paid)
        .service(export_csv)
        .service(run_payments);
}
