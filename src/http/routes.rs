//! What answers a request no route took: `405` with `Allow` when the path is known under another
//! method, else `404`. The known paths come from the served OpenAPI document, which is built from
//! the same registrations as the routes, so the two cannot disagree.

use actix_web::dev::ResourceDef;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use utoipa::openapi::OpenApi;

use crate::error::AppError;

/// Each documented path with the methods it answers.
pub struct KnownRoutes(Vec<(ResourceDef, String)>);

impl KnownRoutes {
    pub fn from_document(doc: &OpenApi) -> Self {
        let routes = doc
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let methods = [
                    ("GET", item.get.is_some()),
                    ("POST", item.post.is_some()),
                    ("PUT", item.put.is_some()),
                    ("PATCH", item.patch.is_some()),
                    ("DELETE", item.delete.is_some()),
                ];
                let allow: Vec<&str> = methods
                    .iter()
                    .filter(|(_, present)| *present)
                    .map(|(m, _)| *m)
                    .collect();
                (ResourceDef::new(path.as_str()), allow.join(", "))
            })
            .collect();
        Self(routes)
    }

    /// The `Allow` value for a path some route answers under other methods.
    pub fn allowed(&self, path: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(def, _)| def.is_match(path))
            .map(|(_, allow)| allow.as_str())
    }

    /// The answer for a request no route took.
    pub fn unrouted(&self, req: &HttpRequest) -> HttpResponse {
        match self.allowed(req.path()) {
            Some(allow) => {
                let mut res = AppError::MethodNotAllowed(format!(
                    "{} is not allowed on this path; it allows {allow}",
                    req.method()
                ))
                .error_response();
                if let Ok(value) = header::HeaderValue::from_str(allow) {
                    res.headers_mut().insert(header::ALLOW, value);
                }
                res
            }
            None => AppError::NotFound("resource").error_response(),
        }
    }
}
