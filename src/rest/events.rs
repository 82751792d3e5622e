//! `/api/v1/events` and `/api/v1/participants/{id}/updates`: what happened, for those who may
//! see it.

use actix_web::{get, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use super::ListOf;
use crate::domain::event::{Event, EventFilter, EventType};
use crate::domain::id::{OpportunityId, OrganisationId};
use crate::error::{AppError, Problem};
use crate::http::extract::{path_id, Caller, PageParams, Query};
use crate::service::{events, Services};

/// Filters on a list of events.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventQuery {
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    #[param(value_type = Option<uuid::Uuid>)]
    pub cursor: Option<String>,
    /// Only events of this type.
    #[serde(rename = "type")]
    pub event_type: Option<EventType>,
    /// Only events about this piece of work.
    pub opportunity_id: Option<OpportunityId>,
    /// Admins only: one organisation's events.
    pub organisation_id: Option<OrganisationId>,
}

/// Filters on a person's updates.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UpdatesQuery {
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    #[param(value_type = Option<uuid::Uuid>)]
    pub cursor: Option<String>,
    #[serde(rename = "type")]
    pub event_type: Option<EventType>,
}

/// Events the caller may see, oldest first: staff see their organisation's and those of the
/// work it facilitates; admins everything (or one organisation's); a participant what
/// concerns them. Bodies name records by id and never hold contact details.
#[utoipa::path(tag = "events",
    params(EventQuery),
    responses((status = 200, description = "One page, oldest first", body = ListOf<Event>),
        (status = 403, description = "Asking for another organisation's events", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
#[get("/events")]
pub async fn list(
    services: web::Data<Services>,
    Caller(caller): Caller,
    Query(q): Query<EventQuery>,
) -> Result<HttpResponse, AppError> {
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    }
    .page()?;
    let filter = EventFilter {
        event_type: q.event_type,
        opportunity_id: q.opportunity_id,
    };
    let page = events::list(&services, &caller, q.organisation_id, filter, page).await?;
    Ok(HttpResponse::Ok().json(ListOf::from(page)))
}

/// "You said - We did" for one person: what happened to their feedback, their claims, their
/// places, and the work they took part in (started, sessions, ended, cancelled), oldest
/// first. For the person and admins.
#[utoipa::path(tag = "events",
    params(("id" = uuid::Uuid, Path), UpdatesQuery),
    responses((status = 200, description = "One page, oldest first", body = ListOf<Event>),
        (status = 404, description = "No such person, or not one the caller may see", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
#[get("/participants/{id}/updates")]
pub async fn updates(
    services: web::Data<Services>,
    Caller(caller): Caller,
    req: HttpRequest,
    Query(q): Query<UpdatesQuery>,
) -> Result<HttpResponse, AppError> {
    let id = path_id(&req, "id")?;
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    }
    .page()?;
    let filter = EventFilter {
        event_type: q.event_type,
        opportunity_id: None,
    };
    let page = events::updates(&services, &caller, id, filter, page).await?;
    Ok(HttpResponse::Ok().json(ListOf::from(page)))
}

pub fn routes(cfg: &mut impl super::Routes) {
    cfg.service(list).service(updates);
}
