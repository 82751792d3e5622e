//! `/api/v1/participants` and `/api/v1/opportunities/{id}/directory`: profiles, contact details,
//! consent, the access log, export and erasure.

use actix_web::{get, patch, post, put, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{created, ok_tagged, ListOf};
use crate::domain::consent::{ConsentEvent, ConsentInput, ConsentRecord};
use crate::domain::contact::{AccessLogEntry, ContactDetails, ContactDetailsInput, DirectoryEntry};
use crate::domain::id::OrganisationId;
use crate::domain::ladder::OpportunityKind;
use crate::domain::opportunity::LivedExperienceArea;
use crate::domain::participant::{
    Participant, ParticipantExport, ParticipantFilter, ParticipantInput, ParticipantPatch,
    ParticipantRole,
};
use crate::error::{AppError, Problem};
use crate::http::extract::{if_match, path_id, Caller, Json, PageParams, Query};
use crate::service::{participants, Services};

/// Search filters; each is named after the field it filters. Contact details cannot be
/// searched.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ParticipantQuery {
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    #[param(value_type = Option<uuid::Uuid>)]
    pub cursor: Option<String>,
    /// Part of the name or preferred name, in any case.
    #[param(max_length = 200, pattern = r"^[^\x00]*$")]
    pub name: Option<String>,
    pub lived_experience_area: Option<LivedExperienceArea>,
    pub role: Option<ParticipantRole>,
    pub involvement_kind: Option<OpportunityKind>,
    /// Admins only: the registering organisation.
    pub organisation_id: Option<OrganisationId>,
}

/// Register a person (staff of a provider or facilitator; the person belongs to their
/// organisation). Contact details given here are kept encrypted.
#[utoipa::path(tag = "participants",
    request_body = ParticipantInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe key")),
    responses(
        (status = 201, description = "Registered", body = Participant),
        (status = 403, description = "Not provider or facilitator staff", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The identity subject is linked to someone else", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[post("/participants")]
pub async fn register(
    services: web::Data<Services>,
    Caller(caller): Caller,
    Json(input): Json<ParticipantInput>,
) -> Result<HttpResponse, AppError> {
    let p = participants::register(&services, &caller, &input).await?;
    Ok(created(
        &format!("/api/v1/participants/{}", p.id),
        p.version,
        &p,
    ))
}

/// The people the caller's organisation registered (admins: everyone), searchable.
#[utoipa::path(tag = "participants",
    params(ParticipantQuery),
    responses((status = 200, description = "One page", body = ListOf<Participant>),
        (status = 403, description = "Not staff of a provider or facilitator", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
#[get("/participants")]
pub async fn list(
    services: web::Data<Services>,
    Caller(caller): Caller,
    Query(q): Query<ParticipantQuery>,
) -> Result<HttpResponse, AppError> {
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    }
    .page()?;
    let filter = ParticipantFilter {
        name: q.name,
        lived_experience_area: q.lived_experience_area,
        role: q.role,
        involvement_kind: q.involvement_kind,
        organisation_id: q.organisation_id,
    }
    .parse("name")?;
    let page = participants::list(&services, &caller, filter, page).await?;
    Ok(HttpResponse::Ok().json(ListOf::from(page)))
}

/// One person's profile: for the person, the staff who registered them, staff of work they
/// take part in, and admins.
#[utoipa::path(tag = "participants",
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, description = "The profile", body = Participant),
        (status = 404, description = "No such person, or not one the caller may see", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
#[get("/participants/{id}")]
pub async fn get(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let p = participants::get(&services, &caller, path_id(&req, "id")?).await?;
    Ok(ok_tagged(p.version, &p))
}

/// Change a profile (the person, or the staff who registered them). Send `If-Match`.
#[utoipa::path(tag = "participants",
    params(("id" = uuid::Uuid, Path), ("If-Match" = String, Header, description = "The ETag last read")),
    request_body = ParticipantPatch,
    responses((status = 200, description = "Changed", body = Participant),
        (status = 412, description = "Changed by someone else since it was read", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
#[patch("/participants/{id}")]
pub async fn update(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
    Json(patch): Json<ParticipantPatch>,
) -> Result<HttpResponse, AppError> {
    let id = path_id(&req, "id")?;
    let version = if_match(&req)?;
    let p = participants::update(&services, &caller, id, version, &patch).await?;
    Ok(ok_tagged(p.version, &p))
}

/// A person's contact details, decrypted: for the person, the staff who registered them,
/// provider and facilitator staff of work they take part in, and admins; never commissioners.
/// Every read by someone other than the person is written to their access log.
#[utoipa::path(tag = "participants",
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, description = "The contact details", body = ContactDetails),
        (status = 403, description = "Not allowed to read them", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
#[get("/participants/{id}/contact-details")]
pub async fn contact_details(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let c = participants::contact_details(
        &services,
        &caller,
        path_id(&req, "id")?,
        "GET /api/v1/participants/{id}/contact-details",
    )
    .await?;
    Ok(HttpResponse::Ok().json(c))
}

/// Replace a person's contact details (a field left out is removed). Email, phone (kept in
/// E.164) and UK postcode are checked.
#[utoipa::path(tag = "participants",
    params(("id" = uuid::Uuid, Path)),
    request_body = ContactDetailsInput,
    responses((status = 200, description = "Kept, encrypted", body = ContactDetails),
        (status = 403, description = "Not the person or the staff who registered them", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
#[put("/participants/{id}/contact-details")]
pub async fn set_contact_details(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
    Json(input): Json<ContactDetailsInput>,
) -> Result<HttpResponse, AppError> {
    let c =
        participants::set_contact_details(&services, &caller, path_id(&req, "id")?, &input).await?;
    Ok(HttpResponse::Ok().json(c))
}

/// The consents in force and every grant and withdrawal, with who recorded it.
#[utoipa::path(tag = "participants",
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, description = "Consents", body = ConsentRecord)),
    security(("bearer" = [])))]
#[get("/participants/{id}/consents")]
pub async fn consents(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let record = participants::consents(&services, &caller, path_id(&req, "id")?).await?;
    Ok(HttpResponse::Ok().json(record))
}

/// Grant (`granted: true`) or withdraw (`false`) consent to share one contact detail with an
/// audience. The person records their own online; staff who registered them record one given
/// in writing or aloud. It takes effect on the next read.
#[utoipa::path(tag = "participants",
    params(("id" = uuid::Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe key")),
    request_body = ConsentInput,
    responses((status = 201, description = "Recorded", body = ConsentEvent),
        (status = 422, description = "Invalid, or no such audience", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
#[post("/participants/{id}/consents")]
pub async fn record_consent(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
    Json(input): Json<ConsentInput>,
) -> Result<HttpResponse, AppError> {
    let id = path_id(&req, "id")?;
    let e = participants::record_consent(&services, &caller, id, &input).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            actix_web::http::header::LOCATION,
            format!("/api/v1/participants/{id}/consents"),
        ))
        .json(e))
}

/// Who read the person's contact details: for the person and admins.
#[utoipa::path(tag = "participants",
    params(("id" = uuid::Uuid, Path), PageParams),
    responses((status = 200, description = "One page, oldest first", body = ListOf<AccessLogEntry>)),
    security(("bearer" = [])))]
#[get("/participants/{id}/access-log")]
pub async fn access_log(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
    Query(params): Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let page =
        participants::access_log(&services, &caller, path_id(&req, "id")?, params.page()?).await?;
    Ok(HttpResponse::Ok().json(ListOf::from(page)))
}

/// Everything held about the person, as one document: for the person and admins.
#[utoipa::path(tag = "participants",
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, description = "Everything held", body = ParticipantExport)),
    security(("bearer" = [])))]
#[get("/participants/{id}/export")]
pub async fn export(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let doc = participants::export(
        &services,
        &caller,
        path_id(&req, "id")?,
        "GET /api/v1/participants/{id}/export",
    )
    .await?;
    Ok(HttpResponse::Ok().json(doc))
}

/// Erase the person at their request (the person, or an admin acting on it): name, contact
/// details, consents, free text and the identity link go; an anonymous stub keeps the evidence
/// true. Asking again answers the same.
#[utoipa::path(tag = "participants",
    params(("id" = uuid::Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe key")),
    responses((status = 200, description = "Erased", body = Participant)),
    security(("bearer" = [])))]
#[post("/participants/{id}/erasure")]
pub async fn erase(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let p = participants::erase(&services, &caller, path_id(&req, "id")?).await?;
    Ok(ok_tagged(p.version, &p))
}

/// A piece of work's group directory: each accepted member's name and role, and only the
/// contact details they consented to share with the reader (the work's members, or the
/// reader's organisation). For the group's members and the staff who organise the work.
#[utoipa::path(tag = "participants",
    params(("id" = uuid::Uuid, Path), PageParams),
    responses((status = 200, description = "One page of the directory", body = ListOf<DirectoryEntry>),
        (status = 403, description = "Not a member or organiser", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
#[get("/opportunities/{id}/directory")]
pub async fn directory(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
    Query(params): Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let page =
        participants::directory(&services, &caller, path_id(&req, "id")?, params.page()?).await?;
    Ok(HttpResponse::Ok().json(ListOf::from(page)))
}

/// These routes and their OpenAPI entries, registered together.
pub fn routes(cfg: &mut impl super::Routes) {
    cfg.service(register)
        .service(list)
        .service(get)
        .service(update)
        .service(contact_details)
        .service(set_contact_details)
        .service(consents)
        .service(record_consent)
        .service(access_log)
        .service(export)
        .service(erase)
        .service(directory);
}
