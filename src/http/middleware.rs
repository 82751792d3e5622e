//! Middleware: a request id and one log line per request, metrics, idempotent `POST`s, and a
//! safety net that turns any bare error response into a problem document.

use std::time::Instant;

use actix_web::body::{to_bytes, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage, HttpResponse, ResponseError};
use tracing::Instrument;

use crate::error::{AppError, PROBLEM_JSON};
use crate::http::extract::BodyLimit;
use crate::http::metrics::Metrics;
use crate::service::idempotency::{self, Begin, StoredResponse};
use crate::service::Services;

/// Put on a response whose body holds a credential shown once (a client secret): the
/// idempotency store keeps this body instead, so no secret is ever stored for a replay.
#[derive(Debug, Clone)]
pub struct ReplayBody(pub web::Bytes);

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// A request id (the caller's, if it sent a sane one, else a new one), returned as
/// `X-Request-Id`; a span around the request; one log line and one metric when it ends.
pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let request_id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        })
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let method = req.method().to_string();
    let path = req.path().to_owned();
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let span = tracing::info_span!("request", request_id = %request_id, %method, %path);
    let started = Instant::now();
    let result = next.call(req).instrument(span.clone()).await;
    let mut res = match result {
        Ok(res) => res.map_into_boxed_body(),
        Err(err) => return Err(err),
    };
    let elapsed = started.elapsed();
    let status = res.status().as_u16();
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    if let Some(metrics) = metrics {
        metrics.observe(&method, &route, status, elapsed.as_secs_f64());
    }
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        res.headers_mut().insert(REQUEST_ID, value);
    }
    tracing::info!(
        parent: &span,
        status,
        route = %route,
        elapsed_ms = elapsed.as_secs_f64() * 1000.0,
        "request"
    );
    Ok(res)
}

/// Any 4xx/5xx that is not already a problem document (a wrong method, an error from a
/// framework extractor) becomes one, so clients always get the same error shape.
pub async fn problem_safety_net(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let res = next.call(req).await?.map_into_boxed_body();
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return Ok(res);
    }
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_JSON));
    if is_problem {
        return Ok(res);
    }
    let error = match status {
        StatusCode::NOT_FOUND => AppError::NotFound("resource"),
        StatusCode::METHOD_NOT_ALLOWED => {
            AppError::MethodNotAllowed("this method is not allowed on this path".to_owned())
        }
        StatusCode::PAYLOAD_TOO_LARGE => {
            let limit = res
                .request()
                .app_data::<BodyLimit>()
                .map(|l| l.0)
                .unwrap_or(0);
            AppError::PayloadTooLarge(limit)
        }
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            AppError::UnsupportedMediaType("this content type is not accepted here".to_owned())
        }
        s if s.is_server_error() => AppError::internal(format!("bare {s} response")),
        s => AppError::BadRequest(
            s.canonical_reason()
                .unwrap_or("the request is not valid")
                .to_owned(),
        ),
    };
    let (req, old) = res.into_parts();
    let mut new = error.error_response();
    for (name, value) in old.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            new.headers_mut().insert(name.clone(), value.clone());
        }
    }
    Ok(ServiceResponse::new(req, new))
}

/// `Idempotency-Key` on `POST`: the first answer is stored and replayed for a repeat with the
/// same body (nothing is written again); the same key with another body is 422.
pub async fn idempotency_keys(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let key = req
        .headers()
        .get(&IDEMPOTENCY_KEY)
        .map(|v| v.to_str().map(str::to_owned));
    // The token exchange is never stored: its answer is a credential.
    let applies = req.method() == Method::POST && req.path() != "/api/v1/token";
    let key = match key {
        Some(k) if applies => k,
        _ => return Ok(next.call(req).await?.map_into_boxed_body()),
    };
    let Some(services) = req.app_data::<web::Data<Services>>().cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    // Keys belong to the caller: the same key from someone else is another request. Who the
    // caller is comes first, so an unauthenticated request is refused as such (401) whatever
    // its key looks like.
    let principal = crate::http::extract::verified_token(req.request(), services.tokens());
    let scope = match principal {
        Ok((p, _)) => format!(
            "{}|{}",
            p.organisation_id.map(|o| o.to_string()).unwrap_or_default(),
            p.subject
        ),
        // Unauthenticated: let the handler refuse it.
        Err(_) => return Ok(next.call(req).await?.map_into_boxed_body()),
    };
    let key = match key {
        Ok(k) if idempotency::valid_key(&k) => k,
        _ => {
            let err = AppError::validation(
                "Idempotency-Key",
                "must be 1 to 255 visible ASCII characters",
            );
            return Ok(req.into_response(err.error_response()));
        }
    };
    let limit = req
        .app_data::<BodyLimit>()
        .map(|l| l.0)
        .unwrap_or(1024 * 1024);
    let body = match read_body(&mut req, limit).await {
        Ok(b) => b,
        Err(err) => return Ok(req.into_response(err.error_response())),
    };
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let hash = idempotency::fingerprint(req.method().as_str(), &path, &body);
    req.set_payload(actix_web::dev::Payload::from(body));

    match idempotency::begin(&services, &scope, &key, &hash).await {
        Err(err) => Ok(req.into_response(err.error_response())),
        Ok(Begin::Mismatch) => {
            Ok(req.into_response(AppError::IdempotencyKeyReused.error_response()))
        }
        Ok(Begin::InProgress) => {
            Ok(req.into_response(AppError::IdempotencyInProgress.error_response()))
        }
        Ok(Begin::Replay(stored)) => {
            let mut res =
                HttpResponse::build(StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK));
            for (name, value) in &stored.headers {
                res.insert_header((name.as_str(), value.as_str()));
            }
            res.insert_header((REPLAYED, "true"));
            Ok(req.into_response(res.body(stored.body)))
        }
        Ok(Begin::Proceed) => {
            let res = next.call(req).await?;
            let status = res.status();
            if status.is_server_error() {
                // Our failure: forget the key so the client can try again.
                if let Err(e) = idempotency::release(&services, &scope, &key).await {
                    tracing::warn!(error = %e, "cannot release an idempotency key");
                }
                return Ok(res.map_into_boxed_body());
            }
            let (req, response) = res.into_parts();
            let replay_body = response.extensions().get::<ReplayBody>().cloned();
            let (head, body) = response.into_parts();
            let bytes = to_bytes(body)
                .await
                .map_err(|_| AppError::internal("cannot read a response body"))?;
            let headers: Vec<(String, String)> =
                [header::CONTENT_TYPE, header::LOCATION, header::ETAG]
                    .iter()
                    .filter_map(|name| {
                        head.headers()
                            .get(name)
                            .and_then(|v| v.to_str().ok())
                            .map(|v| (name.as_str().to_owned(), v.to_owned()))
                    })
                    .collect();
            let stored = StoredResponse {
                status: status.as_u16(),
                headers,
                body: replay_body.map_or_else(|| bytes.to_vec(), |r| r.0.to_vec()),
            };
            if let Err(e) = idempotency::complete(&services, &scope, &key, stored).await {
                tracing::warn!(error = %e, "cannot store an idempotent answer");
            }
            let response = head.set_body(BoxBody::new(bytes));
            Ok(ServiceResponse::new(req, response))
        }
    }
}

async fn read_body(req: &mut ServiceRequest, limit: usize) -> Result<web::Bytes, AppError> {
    let mut payload = req.take_payload();
    crate::http::extract::read_limited(&mut payload, limit).await
}
