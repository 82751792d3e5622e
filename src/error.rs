//! One error type for the whole service, with a REST face (RFC 9457 problem+json) and a GraphQL
//! face (`extensions.code`). Clients see a clear reason for what they can fix; the cause of an
//! internal failure goes to the log only.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::validation::FieldError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("the input is not valid")]
    Validation(Vec<FieldError>),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("{detail}")]
    InvalidTransition {
        detail: String,
        allowed: Vec<String>,
    },
    #[error("the resource has changed since it was read: fetch it again and resend with its current ETag")]
    PreconditionFailed,
    #[error("updates must carry If-Match with the resource's ETag, so no change is lost")]
    PreconditionRequired,
    #[error("this Idempotency-Key was already used with a different request")]
    IdempotencyKeyReused,
    #[error("a request with this Idempotency-Key is still being processed; retry shortly")]
    IdempotencyInProgress,
    #[error("the request body is larger than the limit of {0} bytes")]
    PayloadTooLarge(usize),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("the client id or secret is not valid")]
    InvalidClient,
    #[error("{0}")]
    UnsupportedGrantType(String),
    #[error("{detail}")]
    TooManyRequests {
        detail: String,
        /// Whole seconds until a retry can succeed (`Retry-After`).
        retry_after_secs: u64,
    },
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// The request, or one database statement, took longer than its limit.
    #[error("{0}")]
    Timeout(String),
    #[error("{0}")]
    HeadersTooLarge(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        AppError::Validation(vec![FieldError::new(field, message)])
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        AppError::Internal(anyhow::anyhow!("{cause}"))
    }

    /// A stable, machine-readable code: the last part of the problem `type` and GraphQL's
    /// `extensions.code`.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Validation(_) => "validation_failed",
            AppError::BadRequest(_) => "bad_request",
            AppError::Unauthenticated(_) => "unauthenticated",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotFound(_) => "not_found",
            AppError::Conflict(_) => "conflict",
            AppError::InvalidTransition { .. } => "invalid_transition",
            AppError::PreconditionFailed => "precondition_failed",
            AppError::PreconditionRequired => "precondition_required",
            AppError::IdempotencyKeyReused => "idempotency_key_reused",
            AppError::IdempotencyInProgress => "idempotency_in_progress",
            AppError::PayloadTooLarge(_) => "payload_too_large",
            AppError::UnsupportedMediaType(_) => "unsupported_media_type",
            AppError::MethodNotAllowed(_) => "method_not_allowed",
            AppError::InvalidClient => "invalid_client",
            AppError::UnsupportedGrantType(_) => "unsupported_grant_type",
            AppError::TooManyRequests { .. } => "too_many_requests",
            AppError::Unavailable(_) => "service_unavailable",
            AppError::Timeout(_) => "timeout",
            AppError::HeadersTooLarge(_) => "request_header_fields_too_large",
            AppError::Internal(_) => "internal",
        }
    }

    fn title(&self) -> &'static str {
        match self {
            AppError::Validation(_) => "The input is not valid",
            AppError::BadRequest(_) => "Bad request",
            AppError::Unauthenticated(_) => "Not authenticated",
            AppError::Forbidden(_) => "Not allowed",
            AppError::NotFound(_) => "Not found",
            AppError::Conflict(_) => "Conflict",
            AppError::InvalidTransition { .. } => "That change of status is not allowed",
            AppError::PreconditionFailed => "The resource has changed",
            AppError::PreconditionRequired => "If-Match is required",
            AppError::IdempotencyKeyReused => "Idempotency-Key reused with another request",
            AppError::IdempotencyInProgress => "Request in progress",
            AppError::PayloadTooLarge(_) => "Request body too large",
            AppError::UnsupportedMediaType(_) => "Unsupported media type",
            AppError::MethodNotAllowed(_) => "Method not allowed",
            AppError::InvalidClient => "Invalid client",
            AppError::UnsupportedGrantType(_) => "Unsupported grant type",
            AppError::TooManyRequests { .. } => "Too many requests",
            AppError::Unavailable(_) => "Service unavailable",
            AppError::Timeout(_) => "Took too long",
            AppError::HeadersTooLarge(_) => "Request header fields too large",
            AppError::Internal(_) => "Internal error",
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            AppError::Validation(_) | AppError::IdempotencyKeyReused => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            AppError::BadRequest(_) | AppError::UnsupportedGrantType(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthenticated(_) | AppError::InvalidClient => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Conflict(_)
            | AppError::InvalidTransition { .. }
            | AppError::IdempotencyInProgress => StatusCode::CONFLICT,
            AppError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            AppError::PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
            AppError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable(_) | AppError::Timeout(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::HeadersTooLarge(_) => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// What the client is told. Internal and database causes stay in the log.
    fn detail(&self) -> String {
        match self {
            AppError::Internal(_) => {
                "something went wrong on our side; it has been logged".to_owned()
            }
            AppError::Unavailable(_) => {
                "the database is unavailable; retry after a few seconds".to_owned()
            }
            other => other.to_string(),
        }
    }

    pub fn problem(&self) -> Problem {
        let status = self.status();
        Problem {
            problem_type: format!("/problems/{}", self.code().replace('_', "-")),
            title: self.title().to_owned(),
            status: status.as_u16(),
            detail: self.detail(),
            code: self.code().to_owned(),
            errors: match self {
                AppError::Validation(errors) => Some(errors.clone()),
                _ => None,
            },
            allowed: match self {
                AppError::InvalidTransition { allowed, .. } => Some(allowed.clone()),
                _ => None,
            },
            error: match self {
                AppError::InvalidClient => Some("invalid_client".to_owned()),
                AppError::UnsupportedGrantType(_) => Some("unsupported_grant_type".to_owned()),
                _ => None,
            },
        }
    }

    fn log(&self) {
        match self {
            AppError::Internal(cause) => tracing::error!(error = ?cause, "internal error"),
            AppError::Unavailable(cause) => tracing::warn!(%cause, "database unavailable"),
            AppError::Timeout(cause) => tracing::warn!(%cause, "timed out"),
            _ => {}
        }
    }
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI reference naming the kind of problem, e.g. `/problems/not-found`.
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The same code GraphQL returns as `extensions.code`.
    pub code: String,
    /// For validation problems: each field and what is wrong with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
    /// For a refused change of status: the changes that are allowed from the current one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Vec<String>>,
    /// For the token endpoint: the OAuth 2.0 error code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

pub const PROBLEM_JSON: &str = "application/problem+json";

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        self.log();
        let mut response = HttpResponse::build(self.status());
        response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        match self {
            AppError::Unavailable(_) | AppError::IdempotencyInProgress => {
                response.insert_header((header::RETRY_AFTER, HeaderValue::from_static("5")));
            }
            AppError::Timeout(_) => {
                response.insert_header((header::RETRY_AFTER, HeaderValue::from_static("1")));
            }
            AppError::Unauthenticated(_) => {
                response.insert_header((
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"coproduce\""),
                ));
            }
            AppError::InvalidClient => {
                response.insert_header((
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"coproduce\""),
                ));
            }
            AppError::TooManyRequests {
                retry_after_secs, ..
            } => {
                response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            _ => {}
        }
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        response.body(body)
    }
}

impl async_graphql::ErrorExtensions for AppError {
    /// The GraphQL face: the problem's detail as the message, its code in `extensions.code`.
    fn extend(&self) -> async_graphql::Error {
        self.log();
        let problem = self.problem();
        async_graphql::Error::new(problem.detail.clone()).extend_with(|_, ext| {
            ext.set("code", problem.code.clone());
            ext.set("status", problem.status);
            if let Some(errors) = &problem.errors {
                let list: Vec<async_graphql::Value> = errors
                    .iter()
                    .map(|e| {
                        let mut m = async_graphql::indexmap::IndexMap::new();
                        m.insert(
                            async_graphql::Name::new("field"),
                            async_graphql::Value::from(e.field.clone()),
                        );
                        m.insert(
                            async_graphql::Name::new("message"),
                            async_graphql::Value::from(e.message.clone()),
                        );
                        async_graphql::Value::Object(m)
                    })
                    .collect();
                ext.set("errors", async_graphql::Value::List(list));
            }
            if let Some(allowed) = &problem.allowed {
                ext.set("allowed", allowed.clone());
            }
        })
    }
}

impl From<Vec<FieldError>> for AppError {
    fn from(errors: Vec<FieldError>) -> Self {
        AppError::Validation(errors)
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(err: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind as Kind, Error as E};
        match &err {
            E::NotFound => AppError::NotFound("resource"),
            E::DatabaseError(Kind::UniqueViolation, _) => {
                AppError::Conflict("a resource with these details already exists".to_owned())
            }
            E::DatabaseError(Kind::ClosedConnection | Kind::UnableToSendCommand, info) => {
                AppError::Unavailable(info.message().to_owned())
            }
            E::DatabaseError(_, info)
                if info.message().contains("database is locked")
                    || info.message().contains("terminating connection")
                    || info.message().contains("server closed the connection") =>
            {
                AppError::Unavailable(info.message().to_owned())
            }
            E::DatabaseError(_, info)
                if info.message().contains("canceling statement due to statement timeout")
                    || info.message().contains("canceling statement due to lock timeout") =>
            {
                AppError::Timeout(
                    "a database statement took longer than its limit and was stopped; nothing it began was kept".to_owned(),
                )
            }
            E::BrokenTransactionManager => AppError::Unavailable(err.to_string()),
            _ => AppError::Internal(anyhow::Error::new(err)),
        }
    }
}

impl From<r2d2::Error> for AppError {
    fn from(err: r2d2::Error) -> Self {
        AppError::Unavailable(err.to_string())
    }
}
