//! The OpenAPI 3.1 document, built from the handlers' annotations.

use utoipa::openapi::security::{
    ClientCredentials, Flow, HttpAuthScheme, HttpBuilder, OAuth2, Scopes, SecurityScheme,
};
use utoipa::{Modify, OpenApi};

use crate::error::Problem;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Coproduce",
        description = "Headless API that makes co-production with people who have lived experience real, paid and provable.",
        license(name = "MIT OR Apache-2.0")
    ),
    components(schemas(Problem)),
    tags(
        (name = "organisations", description = "Commissioners, providers and facilitators"),
        (name = "api-clients", description = "Machine clients and the client-credentials exchange"),
        (name = "payment-policies", description = "What organisations pay for taking part"),
        (name = "opportunities", description = "Pieces of work, their lifecycle, evidence and inclusion check"),
        (name = "members", description = "Who takes part: applications, invitations, places, interests"),
        (name = "sessions", description = "Sessions, attendance and decisions"),
        (name = "glossary", description = "Plain-English meanings of the words services use"),
        (name = "feedback", description = "You said - We did: feedback items, responses, closing the loop and how fast it closes"),
        (name = "evaluations", description = "Services scored on the Five Values, and their averages"),
        (name = "self-assessment", description = "An organisation's answers to the guide's ten questions, kept over time"),
        (name = "events", description = "What happened: the outbox, and each person's updates"),
        (name = "webhooks", description = "Signed deliveries of events to the organisation's receivers (Standard Webhooks)"),
        (name = "contracts", description = "Commissioners write co-production into what they fund: requirements with thresholds"),
        (name = "reports", description = "Co-production evidence reports: JSON, CSV and a printable page, every figure with the path to its records"),
        (name = "operations", description = "Health, readiness and metrics"),
    )
)]
pub struct ApiDoc;

/// The document: the description above, every route as [`super::mount`] registers it, then the
/// shared security schemes and problems.
pub fn document() -> utoipa::openapi::OpenApi {
    use utoipa_actix_web::AppExt;
    let app = actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi());
    let (_, mut doc) = super::document_routes(app).split_for_parts();
    BearerAuth.modify(&mut doc);
    Problems.modify(&mut doc);
    doc
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        // How machine clients get their bearer token.
        components.add_security_scheme(
            "client_credentials",
            SecurityScheme::OAuth2(OAuth2::with_description(
                [Flow::ClientCredentials(ClientCredentials::new(
                    "/api/v1/token",
                    Scopes::new(),
                ))],
                "A provider's or commissioner's own system exchanges its client id and secret at `POST /api/v1/token` for a short-lived bearer token scoped to its organisation.",
            )),
        );
        // A rule JSON Schema can state: declaring a conflict means saying what it is.
        if let Some(utoipa::openapi::RefOr::T(utoipa::openapi::Schema::Object(interests))) =
            components.schemas.get_mut("InterestsInput")
        {
            let extensions = interests.extensions.get_or_insert_with(Default::default);
            extensions.insert(
                "if".to_owned(),
                serde_json::json!({ "properties": { "has_conflict": { "const": true } }, "required": ["has_conflict"] }),
            );
            extensions.insert(
                "then".to_owned(),
                serde_json::json!({ "required": ["details"], "properties": { "details": { "type": "string", "pattern": crate::domain::validation::SOME_TEXT } } }),
            );
        }
    }
}

/// Every answer an operation can give besides its own successes, as RFC 9457 problems, so
/// generated clients and fuzzers meet no undocumented status. Shared answers live once under
/// `components/responses`; an operation's own description of a status (for example 409 on
/// accepting a member when no places are left) is kept.
struct Problems;

/// (status, component name, what it means).
const PROBLEMS: &[(&str, &str, &str)] = &[
    ("400", "BadRequest", "Malformed: the body is not JSON, a path id is not a UUID, or a query parameter is unknown or of the wrong type"),
    ("401", "Unauthenticated", "No valid bearer token"),
    ("403", "Forbidden", "The caller's role may not do this"),
    ("404", "NotFound", "No such resource, or one the caller may not see"),
    ("409", "Conflict", "The resource's state does not allow this now, or a request with this Idempotency-Key is still in progress"),
    ("412", "PreconditionFailed", "If-Match names a version that is no longer current"),
    ("413", "PayloadTooLarge", "The body is larger than the configured limit"),
    ("415", "UnsupportedMediaType", "The body is not sent as application/json"),
    ("422", "ValidationFailed", "The input is not valid: `errors` names each field and what is wrong with it"),
    ("428", "PreconditionRequired", "If-Match with the resource's ETag is required"),
    ("429", "TooManyRequests", "Too many requests from this client or address (or too many failed token exchanges); retry after `Retry-After` seconds. `RateLimit` and `RateLimit-Policy` say how much is left"),
    ("431", "HeaderFieldsTooLarge", "The request carries too many header fields, or too many bytes of them"),
    ("500", "Internal", "Something went wrong on our side; it has been logged"),
    ("503", "Unavailable", "The database is unavailable, or the request took longer than its limit; retry after `Retry-After` seconds"),
];

impl Modify for Problems {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
        let components = openapi.components.get_or_insert_with(Default::default);
        for (_, name, description) in PROBLEMS {
            let content = ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build();
            components.responses.insert(
                (*name).to_owned(),
                RefOr::T(
                    ResponseBuilder::new()
                        .description(*description)
                        .content(crate::error::PROBLEM_JSON, content)
                        .build(),
                ),
            );
        }
        for (path, item) in openapi.paths.paths.iter_mut() {
            let has_path_params = path.contains('{');
            let api = path.starts_with("/api/v1/");
            let operations = [
                ("get", item.get.as_mut()),
                ("post", item.post.as_mut()),
                ("patch", item.patch.as_mut()),
                ("put", item.put.as_mut()),
                ("delete", item.delete.as_mut()),
            ];
            for (method, op) in operations {
                let Some(op) = op else { continue };
                document_headers(op, method, path);
                let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
                let has_body = op.request_body.is_some();
                let mut statuses: Vec<&str> = Vec::new();
                if api {
                    statuses.extend(["400", "429", "431", "500", "503"]);
                    // Lists check `limit` and `cursor`; bodies are checked field by field.
                    statuses.push("422");
                }
                if secured {
                    statuses.extend(["401", "403"]);
                }
                if has_path_params {
                    statuses.push("404");
                }
                if has_body {
                    statuses.extend(["413", "415"]);
                }
                if method == "post" && api {
                    statuses.push("409");
                }
                if method == "patch" {
                    statuses.extend(["409", "412", "428"]);
                }
                for status in statuses {
                    if op.responses.responses.contains_key(status) {
                        continue;
                    }
                    if let Some((_, name, _)) = PROBLEMS.iter().find(|(s, _, _)| *s == status) {
                        op.responses.responses.insert(
                            status.to_owned(),
                            RefOr::Ref(Ref::new(format!("#/components/responses/{name}"))),
                        );
                    }
                }
            }
        }
    }
}

/// The request headers every operation of a kind takes, with the forms the service accepts:
/// `Idempotency-Key` on every `POST` (the middleware honours it on all of them), and the
/// entity-tag form of `If-Match`.
fn document_headers(op: &mut utoipa::openapi::path::Operation, method: &str, path: &str) {
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    use utoipa::openapi::{ObjectBuilder, Required, Type};
    let params = op.parameters.get_or_insert_with(Vec::new);
    if method == "post" && path.starts_with("/api/v1/") && path != "/api/v1/token" {
        params.retain(|p| p.name != "Idempotency-Key");
        params.push(
            ParameterBuilder::new()
                .name("Idempotency-Key")
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some(
                    "Repeat-safe key: a repeat with the same key and body returns the first answer and writes nothing; the same key with another body is 422. Kept 24 hours, per caller.",
                ))
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .min_length(Some(1))
                        .max_length(Some(255))
                        .pattern(Some("^[\\x21-\\x7E]+$")),
                ))
                .build(),
        );
    }
    for p in params.iter_mut().filter(|p| p.name == "If-Match") {
        p.schema = Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some("^(W/)?\"[\\x21\\x23-\\x7E]*\"$"))
                .description(Some("The `ETag` last read, such as `\"3\"`"))
                .into(),
        );
    }
    if params.is_empty() {
        op.parameters = None;
    }
}

/// The document as committed in `openapi/openapi.json`.
pub fn document_json() -> String {
    // Through a JSON value, whose keys are sorted, so the text is the same on every run (the
    // schema keywords added in `BearerAuth` live in a hash map).
    let mut text = serde_json::to_value(document())
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| "{}".to_owned());
    text.push('\n');
    text
}
