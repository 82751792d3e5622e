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

use actix_web::dev::{HttpServiceFactory, ServiceFactory, ServiceRequest};
use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::{OpenApiFactory, UtoipaApp};

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

/// Where a route is registered: with its OpenAPI entry while the document is built
/// ([`document_routes`]), or for serving only, in each HTTP worker ([`serve_routes`]). Both
/// run the same lists of routes, so the served document cannot miss a route, and a worker
/// does not build (and throw away) the document's schemas for every route it registers.
pub trait Routes {
    fn service<F>(&mut self, factory: F) -> &mut Self
    where
        F: HttpServiceFactory + OpenApiFactory + 'static;
}

impl Routes for utoipa_actix_web::service_config::ServiceConfig<'_> {
    fn service<F>(&mut self, factory: F) -> &mut Self
    where
        F: HttpServiceFactory + OpenApiFactory + 'static,
    {
        utoipa_actix_web::service_config::ServiceConfig::service(self, factory)
    }
}

impl Routes for web::ServiceConfig {
    fn service<F>(&mut self, factory: F) -> &mut Self
    where
        F: HttpServiceFactory + OpenApiFactory + 'static,
    {
        web::ServiceConfig::service(self, factory)
    }
}

/// The probes, at the root.
fn root_routes(cfg: &mut impl Routes) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(health::metrics);
}

/// Every route under `/api/v1`.
fn api_routes(cfg: &mut impl Routes) {
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
}

/// Every REST route, each with its OpenAPI entry: what [`openapi::document`] is built from.
pub fn document_routes<T>(app: UtoipaApp<T>) -> UtoipaApp<T>
where
    T: ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>,
{
    app.configure(|cfg| root_routes(cfg))
        .service(utoipa_actix_web::scope("/api/v1").configure(|cfg| api_routes(cfg)))
}

/// Every REST route, for serving: the same lists as [`document_routes`].
pub fn serve_routes(cfg: &mut web::ServiceConfig) {
    root_routes(cfg);
    cfg.service(web::scope("/api/v1").configure(api_routes));
}
