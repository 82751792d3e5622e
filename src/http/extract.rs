//! Request extractors that turn HTTP into checked values or clear problems: the caller's
//! identity, JSON bodies (with the field path in errors), paging, ids and `If-Match`.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::TokenAuthority;
use crate::domain::identity::Principal;
use crate::domain::page::PageRequest;
use crate::domain::validation::FieldError;
use crate::error::AppError;
use crate::service::{identity, Services};

/// Settings the extractors read from the app.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

fn services(req: &HttpRequest) -> Result<web::Data<Services>, AppError> {
    req.app_data::<web::Data<Services>>()
        .cloned()
        .ok_or_else(|| AppError::internal("services are not configured"))
}

/// The bearer token of a request.
pub fn bearer_token(req: &HttpRequest) -> Result<&str, AppError> {
    let value = match req.headers().get(header::AUTHORIZATION) {
        None => None,
        Some(v) => Some(v.to_str().map_err(|_| {
            AppError::Unauthenticated("the Authorization header is not text".to_owned())
        })?),
    };
    crate::auth::bearer_token(value)
}

/// A request's bearer token, verified once: the protections verify it to know whose rate limit
/// a request counts against and keep the result here, in the request's extensions, so that the
/// door does not verify the same token a second time. Only a token that passed is kept.
#[derive(Clone)]
pub struct VerifiedToken {
    pub principal: Principal,
    /// The token's `exp`, seconds since the epoch.
    pub exp: i64,
}

/// The request's bearer token verified: as the protections verified it, or now.
pub fn verified_token(
    req: &HttpRequest,
    tokens: &TokenAuthority,
) -> Result<(Principal, i64), AppError> {
    if let Some(v) = req.extensions().get::<VerifiedToken>() {
        return Ok((v.principal.clone(), v.exp));
    }
    tokens.verify_with_expiry(bearer_token(req)?)
}

/// The verified caller.
pub struct Caller(pub Principal);

impl FromRequest for Caller {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let verified = services(req).and_then(|s| Ok((verified_token(req, s.tokens())?, s)));
        Box::pin(async move {
            let (verified, services) = verified?;
            let (principal, _) = identity::admit(&services, verified).await?;
            Ok(Caller(principal))
        })
    }
}

/// A JSON body, read up to the configured limit; errors name the field that is wrong.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = json_body(req, payload);
        Box::pin(async move { parse_json(&body.await?).map(Json) })
    }
}

/// A JSON body that may be an object or an array (GraphQL's batches): read as [`Json`] is.
pub struct JsonObjectOrArray<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for JsonObjectOrArray<T> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = json_body(req, payload);
        Box::pin(async move {
            let body = body.await?;
            match body.iter().find(|b| !b.is_ascii_whitespace()) {
                Some(b'[') => parse_value(&body).map(JsonObjectOrArray),
                _ => parse_json(&body).map(JsonObjectOrArray),
            }
        })
    }
}

/// The bytes of a JSON body: `Content-Type` checked, read up to the configured limit.
fn json_body(
    req: &HttpRequest,
    payload: &mut Payload,
) -> impl Future<Output = Result<web::Bytes, AppError>> + 'static {
    let limit = req
        .app_data::<BodyLimit>()
        .map(|l| l.0)
        .unwrap_or(1024 * 1024);
    let content_type_ok = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            let essence = v
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            essence == "application/json" || essence.ends_with("+json")
        })
        .unwrap_or(false);
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let mut payload = payload.take();
    async move {
        if !content_type_ok {
            return Err(AppError::UnsupportedMediaType(
                "send the body as `Content-Type: application/json`".to_owned(),
            ));
        }
        if declared.is_some_and(|n| n > limit) {
            return Err(AppError::PayloadTooLarge(limit));
        }
        read_limited(&mut payload, limit).await
    }
}

/// Reads a whole body, refusing it as soon as it passes `limit` bytes.
pub async fn read_limited(payload: &mut Payload, limit: usize) -> Result<web::Bytes, AppError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| AppError::BadRequest(format!("the body could not be read: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(AppError::PayloadTooLarge(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Parses JSON, telling syntax errors (400) from values of the wrong shape (422, with the path).
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    let value = parse_value(body)?;
    // Every body of this API is an object. serde would also read a struct from an array of
    // its fields in order (`[null, null]`), which no client means.
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => Ok(value),
        _ => Err(AppError::Validation(vec![FieldError::new(
            "",
            "the body must be a JSON object",
        )])),
    }
}

/// Parses JSON of any shape, with [`parse_json`]'s errors.
fn parse_value<T: DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            AppError::BadRequest(format!("the body is not valid JSON: {inner}"))
        } else {
            let field = if path == "." { String::new() } else { path };
            AppError::Validation(vec![FieldError::new(field, inner.to_string())])
        }
    })
}

/// `?limit=50&cursor=...` on every collection.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageParams {
    /// How many items, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    #[param(value_type = Option<uuid::Uuid>)]
    pub cursor: Option<String>,
}

impl PageParams {
    pub fn page(&self) -> Result<PageRequest, AppError> {
        Ok(PageRequest::parse(
            self.limit,
            self.cursor.as_deref(),
            "limit",
            "cursor",
        )?)
    }
}

/// Query parameters, with unknown or malformed ones refused as problems.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Query<T> {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(
            serde_urlencoded::from_str::<T>(req.query_string())
                .map(Query)
                .map_err(|e| AppError::BadRequest(format!("the query string is not valid: {e}"))),
        )
    }
}

/// Parses an id from the path; a malformed one is a 400 problem, never a panic.
pub fn path_id<I: std::str::FromStr>(req: &HttpRequest, name: &str) -> Result<I, AppError> {
    let raw = req.match_info().get(name).unwrap_or_default();
    raw.parse()
        .map_err(|_| AppError::BadRequest(format!("`{raw}` is not a valid id: ids are UUIDs")))
}

/// The version a `PATCH` expects, from `If-Match: "3"`.
pub fn if_match(req: &HttpRequest) -> Result<i32, AppError> {
    let value = req
        .headers()
        .get(header::IF_MATCH)
        .ok_or(AppError::PreconditionRequired)?
        .to_str()
        .map_err(|_| AppError::PreconditionRequired)?
        .trim();
    let value = value.strip_prefix("W/").unwrap_or(value);
    let tag = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .ok_or(AppError::PreconditionRequired)?;
    // A well-formed entity tag this service never gave out matches no version, like a stale one
    // (RFC 9110, section 13.1.1): the service answers 412 once it has checked the change itself.
    Ok(tag.parse().unwrap_or(NO_VERSION))
}

/// A version no resource has.
pub const NO_VERSION: i32 = -1;

/// The `ETag` of a resource at a version.
pub fn etag(version: i32) -> String {
    format!("\"{version}\"")
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use actix_web::test::TestRequest;

    use super::*;
    use crate::auth::TokenRequest;
    use crate::config::{JwtSettings, Secret};
    use crate::domain::identity::Role;

    fn bearer(token: &str) -> HttpRequest {
        TestRequest::default()
            .insert_header((header::AUTHORIZATION, format!("Bearer {token}")))
            .to_http_request()
    }

    #[test]
    fn a_token_the_protections_verified_is_taken_as_they_left_it() {
        let settings = JwtSettings {
            secret: Some(Secret::new("k".repeat(32))),
            public_keys: None,
            issuer: "coproduce".into(),
            audience: "coproduce".into(),
            client_token_ttl: Duration::from_secs(60),
        };
        let tokens =
            TokenAuthority::from_settings(&settings, Path::new("unused"), false).expect("tokens");
        let token = tokens
            .mint(&TokenRequest {
                subject: "someone".into(),
                organisation_id: None,
                roles: vec![Role::Admin],
                participant_id: None,
                client_id: None,
                ttl: Duration::from_secs(60),
            })
            .expect("mint");
        // Nothing kept: the header's token is verified here.
        let (principal, exp) = verified_token(&bearer(&token), &tokens).expect("verified");
        assert_eq!(principal.subject, "someone");
        let req = bearer("not-a-token");
        assert!(verified_token(&req, &tokens).is_err());
        // Kept by the protections: taken as it stands, the header not verified a second time.
        req.extensions_mut().insert(VerifiedToken {
            principal: principal.clone(),
            exp,
        });
        let (kept, kept_exp) = verified_token(&req, &tokens).expect("kept");
        assert_eq!((kept.subject.as_str(), kept_exp), ("someone", exp));
    }
}
