//! `POST /graphql` (queries and mutations, bearer token required) and `GET /graphql`
//! (GraphiQL, served from the binary with no CDN).

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use async_graphql::dataloader::DataLoader;
use async_graphql::Value;

use super::documents::Documents;
use super::limits::{self, MAX_BATCH};
use super::loaders::Loaders;
use super::plain::{write_response, ListsAsJson};
use super::{AppSchema, IntrospectionSchema, KnownValidSchema};
use crate::domain::identity::Principal;
use crate::error::AppError;
use crate::http::extract::{verified_token, JsonObjectOrArray};
use crate::service::{identity, Services};

/// One operation, or a batch of at most [`MAX_BATCH`] (a JSON array, answered with an array in
/// the same order). Every operation meets the same limits as one sent alone.
pub async fn execute(
    schema: web::Data<AppSchema>,
    introspection: web::Data<IntrospectionSchema>,
    known_valid: web::Data<KnownValidSchema>,
    documents: web::Data<Documents>,
    services: web::Data<Services>,
    req: HttpRequest,
    JsonObjectOrArray(batch): JsonObjectOrArray<async_graphql::BatchRequest>,
) -> Result<HttpResponse, AppError> {
    let schemas = Schemas {
        main: &schema,
        introspection: &introspection,
        known_valid: &known_valid,
        documents: &documents,
    };
    let body = match batch {
        async_graphql::BatchRequest::Single(request) => {
            let mut caller = None;
            let response = run(&schemas, &services, &req, &mut caller, request).await?;
            let mut body = Vec::with_capacity(4096);
            write_response(&response, &mut body).map(|()| body)
        }
        async_graphql::BatchRequest::Batch(requests) => {
            if requests.is_empty() || requests.len() > MAX_BATCH {
                return Err(AppError::BadRequest(format!(
                    "a batch carries 1 to {MAX_BATCH} operations; this one carries {}",
                    requests.len()
                )));
            }
            let mut caller = None;
            let mut responses = Vec::with_capacity(requests.len());
            for request in requests {
                responses.push(run(&schemas, &services, &req, &mut caller, request).await?);
            }
            let mut body = Vec::with_capacity(4096 * responses.len());
            body.push(b'[');
            for (i, response) in responses.iter().enumerate() {
                if i > 0 {
                    body.push(b',');
                }
                write_response(response, &mut body).map_err(AppError::internal)?;
            }
            body.push(b']');
            Ok(body)
        }
    }
    .map_err(AppError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(body))
}

/// The schemas an operation may run on, and the documents parsed before.
struct Schemas<'a> {
    main: &'a AppSchema,
    introspection: &'a IntrospectionSchema,
    known_valid: &'a KnownValidSchema,
    documents: &'a Documents,
}

/// Runs one operation. A document that only introspects needs no token (the schema is
/// public, and a token sent, GraphiQL's placeholder say, is not looked at); any other needs a
/// valid one, checked once per request however many operations it carries. The document is
/// parsed once, here (or copied from the documents parsed before, which keep only documents of
/// callers with a valid token), and the schema runs the parsed one.
async fn run(
    schemas: &Schemas<'_>,
    services: &Services,
    req: &HttpRequest,
    caller: &mut Option<Principal>,
    mut request: async_graphql::Request,
) -> Result<async_graphql::Response, AppError> {
    let operation_name = request.operation_name.clone();
    // A document not parsed before may be kept once its caller has shown a token.
    let found = schemas.documents.get(
        &request.query,
        operation_name.as_deref(),
        &request.variables,
    );
    let (to_keep, kept, valid_before) = match found {
        Some((document, valid)) => {
            request.set_parsed_query(document);
            (None, true, valid)
        }
        None => (
            schemas
                .documents
                .would_keep(&request.query)
                .then(|| request.query.clone()),
            false,
            false,
        ),
    };
    // A document that does not parse needs a token like any other; the schema then answers
    // with the parser's error.
    let (introspects, aliases) = match request.parsed_query() {
        Ok(doc) => (
            super::is_introspection_only(doc, operation_name.as_deref()),
            limits::check_aliases(doc),
        ),
        Err(_) => (false, Ok(())),
    };
    if introspects {
        return Ok(with_codes(match aliases {
            Ok(()) => schemas.introspection.0.execute(request).await,
            Err(e) => async_graphql::Response::from_errors(vec![e]),
        }));
    }
    let principal = match caller {
        Some(p) => p.clone(),
        None => {
            let (p, _) = identity::admit(services, verified_token(req, services.tokens())?).await?;
            *caller = Some(p.clone());
            p
        }
    };
    if let Err(e) = aliases {
        return Ok(with_codes(async_graphql::Response::from_errors(vec![e])));
    }
    // A kept document that passes validation is remembered as valid with these variables.
    let to_remember = match (&to_keep, request.parsed_query()) {
        (Some(text), Ok(document)) => {
            schemas.documents.keep(text, document);
            to_keep
        }
        (None, Ok(_)) if kept && !valid_before => Some(request.query.clone()),
        _ => None,
    }
    .map(|text| (text, operation_name, request.variables.clone()));
    let loaders = DataLoader::new(
        Loaders {
            services: services.clone(),
            principal: principal.clone(),
        },
        actix_web::rt::spawn,
    );
    let request = request.data(principal).data(loaders).data(ListsAsJson);
    let response = if valid_before {
        schemas.known_valid.0.execute(request).await
    } else {
        schemas.main.execute(request).await
    };
    // Data in the answer means the document passed validation (one that fails answers with
    // errors alone).
    if let (Some((text, name, variables)), false) = (to_remember, response.data == Value::Null) {
        schemas.documents.passed(&text, name, variables);
    }
    Ok(with_codes(response))
}

/// Every error carries a code, as the service's own do: the ones GraphQL itself raises (a
/// syntax error, an unknown field, an argument out of its type's range, a limit passed) are the
/// caller's to fix, `bad_request` (400).
fn with_codes(mut response: async_graphql::Response) -> async_graphql::Response {
    for error in &mut response.errors {
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_none() {
            extensions.set("code", "bad_request");
            extensions.set("status", 400);
        }
    }
    response
}

const GRAPHIQL_PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Coproduce GraphiQL</title>
<link rel="stylesheet" href="/graphql/assets/graphiql.min.css">
<style>body{margin:0;height:100vh}#graphiql{height:100vh}</style>
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script src="/graphql/assets/react.production.min.js"></script>
<script src="/graphql/assets/react-dom.production.min.js"></script>
<script src="/graphql/assets/graphiql.min.js"></script>
<script src="/graphql/assets/graphiql-start.js"></script>
</body>
</html>
"#;

/// GraphiQL's start, served as a file so that the page's policy allows no inline script.
const GRAPHIQL_START: &str = r#"  const fetcher = GraphiQL.createFetcher({ url: '/graphql' });
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, {
      fetcher,
      defaultEditorToolsVisibility: true,
      defaultHeaders: '{\n  "Authorization": "Bearer <token from coproduce token>"\n}',
      headerEditorEnabled: true,
    }),
  );
"#;

pub async fn graphiql() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(GRAPHIQL_PAGE)
}

pub async fn asset(req: HttpRequest) -> Result<HttpResponse, AppError> {
    let name = req.match_info().get("file").unwrap_or_default();
    let (body, content_type): (&'static [u8], &str) = match name {
        "graphiql.min.js" => (
            include_bytes!("../../assets/graphiql/graphiql.min.js"),
            "text/javascript",
        ),
        "graphiql.min.css" => (
            include_bytes!("../../assets/graphiql/graphiql.min.css"),
            "text/css",
        ),
        "react.production.min.js" => (
            include_bytes!("../../assets/graphiql/react.production.min.js"),
            "text/javascript",
        ),
        "react-dom.production.min.js" => (
            include_bytes!("../../assets/graphiql/react-dom.production.min.js"),
            "text/javascript",
        ),
        "graphiql-start.js" => (GRAPHIQL_START.as_bytes(), "text/javascript"),
        _ => return Err(AppError::NotFound("asset")),
    };
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .body(body))
}

/// The SDL this server serves, so clients (and the tests) can compare it with `schema.graphql`.
pub async fn sdl(schema: web::Data<AppSchema>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body(super::sdl_of(&schema))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/graphql/schema.graphql").route(web::get().to(sdl)))
        .service(web::resource("/graphql/ws").route(web::get().to(super::ws::subscriptions)))
        .service(
            web::resource("/graphql")
                .route(web::post().to(execute))
                .route(web::get().to(graphiql)),
        )
        .service(web::resource("/graphql/assets/{file}").route(web::get().to(asset)));
}
