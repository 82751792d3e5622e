//! The REST door: actix-web handlers described by utoipa. Handlers translate HTTP to service
//! calls and back, and nothing else.

pub mod api_clients;
pub mod claims;
pub mod contracts;
pub mod events;
pub mod feedback;
pub mod glossary;
pub mod health;
pub mod openapi;
pub mod opportunities;
pub mod organisations;
pub mod participants;
pub mod payment_policies;
pub mod report_page;
pub mod reports;
pub mod sessions;
pub mod webhooks;

use actix_web::dev::{ServiceFactory, ServiceRequest};
use actix_web::http::header;
use actix_web::HttpResponse;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::UtoipaApp;

use crate::domain::page::Page;

/// One page of a collection.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListOf<T: ToSchema> {
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

impl<T: ToSchema> From<Page<T>> for ListOf<T> {
    fn from(page: Page<T>) -> Self {
        Self {
            items: page.items,
            next_cursor: page.next_cursor,
        }
    }
}

/// `201 Created` with `Location` and `ETag`.
pub fn created(location: &str, version: i32, body: &impl Serialize) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .insert_header((header::ETAG, crate::http::extract::etag(version)))
        .json(body)
}

/// `200 OK` with the resource's `ETag`.
pub fn ok_tagged(version: i32, body: &impl Serialize) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, crate::http::extract::etag(version)))
        .json(body)
}

/// Every REST route, each registered with its OpenAPI entry: the probes at the root, the rest
/// under `/api/v1`. The served document is built from the same registrations (see
/// [`openapi::document`]), so it cannot miss a route.
pub fn mount<T>(app: UtoipaApp<T>) -> UtoipaApp<T>
where
    T: ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>,
{
    app.service(health::healthz)
        .service(health::readyz)
        .service(health::metrics)
        .service(utoipa_actix_web::scope("/api/v1").configure(|cfg| {
            organisations::routes(cfg);
            api_clients::routes(cfg);
            payment_policies::routes(cfg);
            opportunities::routes(cfg);
            sessions::routes(cfg);
            glossary::routes(cfg);
            participants::routes(cfg);
            claims::routes(cfg);
            feedback::routes(cfg);
            events::routes(cfg);
            webhooks::routes(cfg);
            contracts::routes(cfg);
            reports::routes(cfg);
        }))
}
