//! Start-up: settings in, a running HTTP server out, with both doors mounted on the shared
//! plumbing. The only module that knows every layer. Tests build it on port 0.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::{from_fn, Compress, Condition};
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use anyhow::Context;
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::auth::TokenAuthority;
use crate::config::Settings;
use crate::crypto::DataKeys;
use crate::db::{Backend, DatabaseUrl, Db, PoolOptions};
use crate::domain::webhook::RetrySchedule;
use crate::http::extract::BodyLimit;
use crate::http::metrics::Metrics;
use crate::http::middleware::{idempotency_keys, problem_safety_net, request_context};
use crate::http::protect::{protect, Protections};
use crate::http::routes::KnownRoutes;
use crate::service::throttle::FailedExchanges;
use crate::service::webhooks::{self, WebhookSettings};
use crate::service::{events, glossary, idempotency, participants, Services};
use crate::{graphql, rest};

pub struct Application {
    port: u16,
    server: Server,
    services: Services,
}

impl Application {
    /// Opens and migrates the database, then binds the listener (port 0 picks a free one).
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let backend = DatabaseUrl::parse(settings.database_url.expose())?.backend();
        let tokens = TokenAuthority::from_settings(
            &settings.jwt,
            &settings.data_dir,
            backend == Backend::Sqlite,
        )?;
        let keys = DataKeys::from_settings(
            settings.data_key.as_ref(),
            &settings.previous_data_keys,
            &settings.data_dir,
            backend == Backend::Sqlite,
        )?;
        let url = settings.database_url.expose().to_owned();
        let options = PoolOptions {
            max_size: settings.pool_size,
            timeout: settings.pool_timeout,
            sqlite_busy_timeout: settings.sqlite_busy_timeout,
            statement_timeout: settings.limits.statement_timeout,
        };
        let db = tokio::task::spawn_blocking(move || Db::open(&url, options))
            .await
            .context("the database task failed")??;
        let services = Services::new(
            db,
            Arc::new(tokens),
            settings.jwt.client_token_ttl,
            FailedExchanges::new(settings.token_failure_limit, settings.token_failure_window),
            Arc::new(keys),
        )
        .with_webhooks(WebhookSettings {
            allow_internal: settings.webhook_allow_internal,
            schedule: match &settings.webhook_retry_schedule {
                Some(text) => RetrySchedule::parse(text)
                    .map_err(|e| anyhow::anyhow!("COPRODUCE_WEBHOOK_RETRY_SCHEDULE: {e}"))?,
                None => RetrySchedule::default(),
            },
            poll: settings.webhook_poll,
            timeout: settings.webhook_timeout,
            ..WebhookSettings::default()
        });
        participants::check_keys(&services).await?;
        let seeded = glossary::seed(&services).await?;
        if seeded > 0 {
            tracing::info!(
                terms = seeded,
                "glossary seeded from the guide's jargon buster"
            );
        }
        let listener = TcpListener::bind(&settings.bind)
            .with_context(|| format!("cannot listen on {}", settings.bind))?;
        let port = listener.local_addr()?.port();
        let server = serve(listener, services.clone(), &settings)?;
        tracing::info!(address = %settings.bind, port, database = backend.name(), "listening");
        Ok(Self {
            port,
            server,
            services,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGTERM or SIGINT, then finishes the requests in flight.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let services = self.services.clone();
        let janitor = tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(3600));
            loop {
                every.tick().await;
                match idempotency::purge_expired(&services).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(purged = n, "expired idempotency keys deleted"),
                    Err(e) => tracing::warn!(error = %e, "cannot purge idempotency keys"),
                }
            }
        });
        let deliverer = webhooks::spawn(&self.services);
        let feed = tokio::spawn(events::run_feed(self.services.clone()));
        let result = self.server.await;
        janitor.abort();
        deliverer.abort();
        feed.abort();
        result
    }
}

/// Browser pages from `origins` may call the API, with the headers it reads and writes; other
/// origins get no CORS headers, so browsers keep their pages out.
fn cors(origins: &[String]) -> actix_cors::Cors {
    use actix_web::http::header;
    let mut cors = actix_cors::Cors::default()
        .allowed_methods(["GET", "POST", "PATCH", "PUT", "DELETE"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::IF_MATCH,
            header::HeaderName::from_static("idempotency-key"),
            header::HeaderName::from_static("x-request-id"),
        ])
        .expose_headers([
            header::LOCATION,
            header::ETAG,
            header::RETRY_AFTER,
            header::HeaderName::from_static("x-request-id"),
            header::HeaderName::from_static("idempotent-replayed"),
            header::HeaderName::from_static("ratelimit"),
            header::HeaderName::from_static("ratelimit-policy"),
        ])
        .max_age(600);
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}

fn serve(listener: TcpListener, services: Services, settings: &Settings) -> anyhow::Result<Server> {
    let body_limit = settings.body_limit;
    let services = web::Data::new(services);
    let metrics = web::Data::new(Metrics::new()?);
    let schema = web::Data::new(graphql::build_schema(Some(services.get_ref().clone())));
    let introspection = web::Data::new(graphql::build_introspection_schema());
    let known_valid = web::Data::new(graphql::build_known_valid_schema(
        services.get_ref().clone(),
    ));
    let documents = web::Data::new(graphql::documents::Documents::default());
    let subscriptions = web::Data::new(graphql::build_subscription_schema(
        services.get_ref().clone(),
    ));
    let openapi = rest::openapi::document();
    let known_routes = web::Data::new(KnownRoutes::from_document(&openapi));
    // Written once and shared by the workers, rather than a copy of the document in each.
    let openapi_json = web::Bytes::from(serde_json::to_vec(&openapi)?);
    drop(openapi);
    let protections = web::Data::new(Protections::new(&settings.limits));
    let cors_origins = settings.limits.cors_origins.clone();
    let server = HttpServer::new(move || {
        let app = App::new()
            .app_data(protections.clone())
            .app_data(services.clone())
            .app_data(metrics.clone())
            .app_data(schema.clone())
            .app_data(introspection.clone())
            .app_data(known_valid.clone())
            .app_data(documents.clone())
            .app_data(subscriptions.clone())
            .app_data(BodyLimit(body_limit))
            .app_data(web::PayloadConfig::new(body_limit))
            .wrap(from_fn(idempotency_keys))
            .wrap(from_fn(problem_safety_net))
            .wrap(Compress::default())
            .wrap(from_fn(protect))
            .wrap(Condition::new(
                !cors_origins.is_empty(),
                cors(&cors_origins),
            ))
            .wrap(from_fn(request_context))
            // The same routes `openapi` was built from (see `rest::Routes`).
            .configure(rest::serve_routes);
        let known_routes = known_routes.clone();
        // GraphQL before the documentation: a request for /graphql is then not tried against
        // Swagger UI's pattern first (no path of one is a path of the other).
        let app = app.configure(graphql::http::routes);
        app.route(
            "/docs",
            web::get().to(|| async {
                HttpResponse::PermanentRedirect()
                    .insert_header(("Location", "/docs/"))
                    .finish()
            }),
        )
        .route(
            "/openapi.json",
            web::get().to({
                let body = openapi_json.clone();
                move || {
                    let body = body.clone();
                    async move {
                        HttpResponse::Ok()
                            .content_type("application/json")
                            .body(body)
                    }
                }
            }),
        )
        .service(SwaggerUi::new("/docs/{_:.*}").config(Config::new(["/openapi.json"])))
        .default_service(web::to(move |req: HttpRequest| {
            let known_routes = known_routes.clone();
            async move { known_routes.unrouted(&req) }
        }))
    })
    .shutdown_timeout(30)
    // A client must send its request head within this, and a kept-alive connection idles no
    // longer than that: slow or idle connections cannot pile up.
    .client_request_timeout(Duration::from_secs(10))
    .keep_alive(Duration::from_secs(75));
    // Short database calls run on the workers themselves (see `Db::run`), so there are more
    // workers than cores to keep the cores busy while some wait on the database.
    let workers = settings.workers.unwrap_or_else(|| {
        4 * std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    let server = server.workers(workers);
    let server = server.listen(listener)?.run();
    Ok(server)
}
