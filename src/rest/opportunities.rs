//! `/api/v1/opportunities` and everything under one: members, sessions, inclusion check.

use actix_web::http::header;
use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::IntoParams;

use super::{created, ok_tagged, ListOf};
use crate::domain::id::{ContractId, MembershipId, OpportunityId, OrganisationId};
use crate::domain::inclusion::{Format, Support};
use crate::domain::ladder::{OpportunityKind, OpportunityStatus};
use crate::domain::membership::{InterestsInput, MemberView, MembershipInput, ScoringInput};
use crate::domain::opportunity::{
    InclusionReport, LivedExperienceArea, Opportunity, OpportunityFilter, OpportunityInput,
    OpportunityPatch,
};
use crate::domain::session::{Session, SessionInput, SessionRecord};
use crate::error::{AppError, Problem};
use crate::http::extract::{if_match, path_id, Caller, Json, PageParams, Query};
use crate::service::{members, opportunities, sessions, Services};

/// Browse filters; each is named after the field it filters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OpportunityQuery {
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    #[param(value_type = Option<uuid::Uuid>)]
    pub cursor: Option<String>,
    pub status: Option<OpportunityStatus>,
    pub kind: Option<OpportunityKind>,
    pub format: Option<Format>,
    /// Work for people with this lived experience.
    pub lived_experience_area: Option<LivedExperienceArea>,
    pub paid: Option<bool>,
    /// Work offering this support.
    pub support: Option<Support>,
    /// Starting on or after this day.
    pub starts_after: Option<NaiveDate>,
    /// Starting on or before this day.
    pub starts_before: Option<NaiveDate>,
    /// Only work with places left (`true`) or full (`false`).
    pub has_places: Option<bool>,
    pub organisation_id: Option<OrganisationId>,
    /// Work under this contract.
    #[param(value_type = Option<uuid::Uuid>)]
    pub contract_id: Option<ContractId>,
    /// Work under way in a period from this day (with `active_to`): not a draft, starting
    /// before `active_to` (or undated) and ending on or after `active_from` (or open-ended),
    /// as in an evidence report.
    pub active_from: Option<NaiveDate>,
    /// The day after that period.
    pub active_to: Option<NaiveDate>,
}

impl OpportunityQuery {
    fn split(self) -> Result<(OpportunityFilter, crate::domain::page::PageRequest), AppError> {
        let page = PageParams {
            limit: self.limit,
            cursor: self.cursor,
        }
        .page()?;
        Ok((
            OpportunityFilter {
                status: self.status,
                kind: self.kind,
                format: self.format,
                lived_experience_area: self.lived_experience_area,
                paid: self.paid,
                support: self.support,
                starts_after: self.starts_after,
                starts_before: self.starts_before,
                has_places: self.has_places,
                organisation_id: self.organisation_id,
                contract_id: self.contract_id,
                active_from: self.active_from,
                active_to: self.active_to,
            }
            .checked()?,
            page,
        ))
    }
}

/// Create a piece of work (providers, commissioners, facilitators; admins for anyone). It
/// starts as a draft.
#[utoipa::path(tag = "opportunities",
    request_body = OpportunityInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe key")),
    responses(
        (status = 201, description = "Created as a draft", body = Opportunity),
        (status = 403, description = "Not staff", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
#[post("/opportunities")]
pub async fn create(
    services: web::Data<Services>,
    Caller(caller): Caller,
    Json(input): Json<OpportunityInput>,
) -> Result<HttpResponse, AppError> {
    let o = opportunities::create(&services, &caller, &input).await?;
    Ok(created(
        &format!("/api/v1/opportunities/{}", o.id),
        o.version,
        &o,
    ))
}

/// Browse opportunities: advertised work is open to everyone signed in; staff also see their
/// organisation's work, participants the work they are members of.
#[utoipa::path(tag = "opportunities",
    params(OpportunityQuery),
    responses((status = 200, description = "One page", body = ListOf<Opportunity>)),
    security(("bearer" = [])))]
#[get("/opportunities")]
pub async fn list(
    services: web::Data<Services>,
    Caller(caller): Caller,
    Query(query): Query<OpportunityQuery>,
) -> Result<HttpResponse, AppError> {
    let (filter, page) = query.split()?;
    let page = opportunities::list(&services, &caller, filter, page).await?;
    Ok(HttpResponse::Ok().json(ListOf::from(page)))
}

/// Read one piece of work with its evidence: the claimed mode beside the evidenced level and
/// each co-production criterion.
#[utoipa::path(tag = "opportunities",
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, description = "The work", body = Opportunity),
        (status = 404, description = "Not found, or not visible to the caller", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
#[get("/opportunities/{id}")]
pub async fn get(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let o = opportunities::get(&services, &caller, path_id(&req, "id")?).await?;
    Ok(ok_tagged(o.version, &o))
}

/// Change a piece of work. Send `If-Match` with its `ETag`; `null` clears an optional field.
#[utoipa::path(tag = "opportunities",
    params(("id" = uuid::Uuid, Path), ("If-Match" = String, Header, description = "The ETag last read")),
    request_body = OpportunityPatch,
    responses((status = 200, description = "Changed", body = Opportunity),
        (status = 412, description = "Changed since it was read", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
#[patch("/opportunities/{id}")]
pub async fn update(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
    Json(patch): Json<OpportunityPatch>,
) -> Result<HttpResponse, AppError> {
    let id = path_id(&req, "id")?;
    let o = opportunities::update(&services, &caller, id, if_match(&req)?, &patch).await?;
    Ok(ok_tagged(o.version, &o))
}

/// The version named by an optional `If-Match` on a state change.
fn optional_if_match(req: &HttpRequest) -> Result<Option<i32>, AppError> {
    if req.headers().contains_key(header::IF_MATCH) {
        if_match(req).map(Some)
    } else {
        Ok(None)
    }
}

async fn transition(
    services: web::Data<Services>,
    caller: Caller,
    req: HttpRequest,
    to: OpportunityStatus,
) -> Result<HttpResponse, AppError> {
    let id = path_id(&req, "id")?;
    let o =
        opportunities::transition(&services, &caller.0, id, to, optional_if_match(&req)?).await?;
    Ok(ok_tagged(o.version, &o))
}

/// Advertise a draft (sets `advertised_on` to today unless already set).
#[utoipa::path(tag = "opportunities",
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, description = "Advertised", body = Opportunity),
        (status = 409, description = "Not allowed from the current status; `allowed` lists what is", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
#[post("/opportunities/{id}/advertise")]
pub async fn advertise(
    s: web::Data<Services>,
    c: Caller,
    r: HttpRequest,
) -> Result<HttpResponse, AppError> {
    transition(s, c, r, OpportunityStatus::Advertised).await
}

/// Start advertised work.
#[utoipa::path(tag = "opportunities",
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, description = "Running", body = Opportunity),
        (status = 409, description = "Not allowed from the current status", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
#[post("/opportunities/{id}/start")]
pub async fn start(
    s: web::Data<Services>,
    c: Caller,
    r: HttpRequest,
) -> Result<HttpResponse, AppError> {
    transition(s, c, r, OpportunityStatus::Running).await
}

/// End running work: it has a clear ending.
#[utoipa::path(tag = "opportunities",
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, description = "Ended", body = Opportunity),
        (status = 409, description = "Not allowed from the current status", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
#[post("/opportunities/{id}/end")]
pub async fn end(
    s: web::Data<Services>,
    c: Caller,
    r: HttpRequest,
) -> Result<HttpResponse, AppError> {
    transition(s, c, r, OpportunityStatus::Ended).await
}

/// Cancel work that has not ended.
#[utoipa::path(tag = "opportunities",
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, description = "Cancelled", body = Opportunity),
        (status = 409, description = "Not allowed from the current status", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
#[post("/opportunities/{id}/cancel")]
pub async fn cancel(
    s: web::Data<Services>,
    c: Caller,
    r: HttpRequest,
) -> Result<HttpResponse, AppError> {
    transition(s, c, r, OpportunityStatus::Cancelled).await
}

/// The guide's barriers that apply to this work, each with the guide's own words.
#[utoipa::path(tag = "opportunities",
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, description = "The barriers found (none is good)", body = InclusionReport)),
    security(("bearer" = [])))]
#[get("/opportunities/{id}/inclusion-check")]
pub async fn inclusion_check(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let report = opportunities::inclusion_check(&services, &caller, path_id(&req, "id")?).await?;
    Ok(HttpResponse::Ok().json(report))
}

/// A participant applies (empty body), or staff invite someone (`participant_id`).
#[utoipa::path(tag = "members",
    params(("id" = uuid::Uuid, Path)),
    request_body = MembershipInput,
    responses((status = 201, description = "Applied, accepted (first come) or invited", body = MemberView),
        (status = 409, description = "No places left, not advertised, or already a member", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
#[post("/opportunities/{id}/members")]
pub async fn join(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
    Json(input): Json<MembershipInput>,
) -> Result<HttpResponse, AppError> {
    let id = path_id(&req, "id")?;
    let m = members::join(&services, &caller, id, &input).await?;
    Ok(created(
        &format!("/api/v1/opportunities/{id}/members/{}", m.id),
        m.version,
        &m,
    ))
}

/// The members of a piece of work: for its staff, and (accepted members only) for its members.
#[utoipa::path(tag = "members",
    params(("id" = uuid::Uuid, Path), PageParams),
    responses((status = 200, description = "One page of members", body = ListOf<MemberView>)),
    security(("bearer" = [])))]
#[get("/opportunities/{id}/members")]
pub async fn list_members(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
    Query(params): Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let page = members::list(&services, &caller, path_id(&req, "id")?, params.page()?).await?;
    Ok(HttpResponse::Ok().json(ListOf::from(page)))
}

fn ids(req: &HttpRequest) -> Result<(OpportunityId, MembershipId), AppError> {
    Ok((path_id(req, "id")?, path_id(req, "member_id")?))
}

/// Staff accept an application, or the person invited accepts: either takes a place.
#[utoipa::path(tag = "members",
    params(("id" = uuid::Uuid, Path), ("member_id" = uuid::Uuid, Path)),
    responses((status = 200, description = "Accepted", body = MemberView),
        (status = 409, description = "No places left, or not acceptable now", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
#[post("/opportunities/{id}/members/{member_id}/accept")]
pub async fn accept(
    s: web::Data<Services>,
    Caller(c): Caller,
    r: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let (o, m) = ids(&r)?;
    let m = members::accept(&s, &c, o, m).await?;
    Ok(ok_tagged(m.version, &m))
}

/// Staff decline an application, or the person invited declines.
#[utoipa::path(tag = "members",
    params(("id" = uuid::Uuid, Path), ("member_id" = uuid::Uuid, Path)),
    responses((status = 200, description = "Declined", body = MemberView)),
    security(("bearer" = [])))]
#[post("/opportunities/{id}/members/{member_id}/decline")]
pub async fn decline(
    s: web::Data<Services>,
    Caller(c): Caller,
    r: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let (o, m) = ids(&r)?;
    let m = members::decline(&s, &c, o, m).await?;
    Ok(ok_tagged(m.version, &m))
}

/// A member withdraws; a place held is given back.
#[utoipa::path(tag = "members",
    params(("id" = uuid::Uuid, Path), ("member_id" = uuid::Uuid, Path)),
    responses((status = 200, description = "Withdrawn", body = MemberView)),
    security(("bearer" = [])))]
#[post("/opportunities/{id}/members/{member_id}/withdraw")]
pub async fn withdraw(
    s: web::Data<Services>,
    Caller(c): Caller,
    r: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let (o, m) = ids(&r)?;
    let m = members::withdraw(&s, &c, o, m).await?;
    Ok(ok_tagged(m.version, &m))
}

/// A member declares their interests (tender scoring and interview panels).
#[utoipa::path(tag = "members",
    params(("id" = uuid::Uuid, Path), ("member_id" = uuid::Uuid, Path)),
    request_body = InterestsInput,
    responses((status = 200, description = "Declared", body = MemberView)),
    security(("bearer" = [])))]
#[post("/opportunities/{id}/members/{member_id}/interests")]
pub async fn interests(
    s: web::Data<Services>,
    Caller(c): Caller,
    r: HttpRequest,
    Json(input): Json<InterestsInput>,
) -> Result<HttpResponse, AppError> {
    let (o, m) = ids(&r)?;
    let m = members::declare_interests(&s, &c, o, m, &input).await?;
    Ok(ok_tagged(m.version, &m))
}

/// Staff mark a member as scoring; refused while interests are undeclared or conflicting.
#[utoipa::path(tag = "members",
    params(("id" = uuid::Uuid, Path), ("member_id" = uuid::Uuid, Path)),
    request_body = ScoringInput,
    responses((status = 200, description = "Set", body = MemberView),
        (status = 409, description = "Interests undeclared or conflicting", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
#[post("/opportunities/{id}/members/{member_id}/scoring")]
pub async fn scoring(
    s: web::Data<Services>,
    Caller(c): Caller,
    r: HttpRequest,
    Json(input): Json<ScoringInput>,
) -> Result<HttpResponse, AppError> {
    let (o, m) = ids(&r)?;
    let m = members::set_scoring(&s, &c, o, m, &input).await?;
    Ok(ok_tagged(m.version, &m))
}

/// Record a session, optionally with its attendance and decisions: all stored, or none.
#[utoipa::path(tag = "sessions",
    params(("id" = uuid::Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe key")),
    request_body = SessionInput,
    responses((status = 201, description = "Recorded", body = SessionRecord),
        (status = 422, description = "Invalid; nothing stored", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
#[post("/opportunities/{id}/sessions")]
pub async fn create_session(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
    Json(input): Json<SessionInput>,
) -> Result<HttpResponse, AppError> {
    let record = sessions::create(&services, &caller, path_id(&req, "id")?, &input).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/sessions/{}/attendance", record.session.id),
        ))
        .json(record))
}

/// The sessions of a piece of work, by start time; each session's attendance and decisions
/// are at `/api/v1/sessions/{id}/attendance` and `/decisions`.
#[utoipa::path(tag = "sessions",
    params(("id" = uuid::Uuid, Path), PageParams),
    responses((status = 200, description = "One page of sessions", body = ListOf<Session>)),
    security(("bearer" = [])))]
#[get("/opportunities/{id}/sessions")]
pub async fn list_sessions(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
    Query(params): Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let page = sessions::list(&services, &caller, path_id(&req, "id")?, params.page()?).await?;
    Ok(HttpResponse::Ok().json(ListOf::from(page)))
}

/// These routes and their OpenAPI entries, registered together.
pub fn routes(cfg: &mut impl super::Routes) {
    cfg.service(list)
        .service(create)
        .service(get)
        .service(update)
        .service(advertise)
        .service(start)
        .service(end)
        .service(cancel)
        .service(inclusion_check)
        .service(list_members)
        .service(join)
        .service(accept)
        .service(decline)
        .service(withdraw)
        .service(interests)
        .service(scoring)
        .service(list_sessions)
        .service(create_session);
}
