//! The OpenAPI 3.1 document, built from the handlers' annotations.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{api_clients, health, organisations, payment_policies, ListOf};
use crate::domain;
use crate::error::Problem;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Coproduce",
        description = "Headless API that makes co-production with people who have lived experience real, paid and provable.",
        license(name = "MIT OR Apache-2.0")
    ),
    paths(
        health::healthz, health::readyz, health::metrics,
        organisations::create, organisations::list, organisations::get, organisations::update,
        api_clients::create, api_clients::list, api_clients::get, api_clients::rotate,
        api_clients::revoke, api_clients::token,
        payment_policies::list, payment_policies::get,
    ),
    components(schemas(
        Problem, domain::validation::FieldError,
        domain::organisation::Organisation, domain::organisation::OrganisationInput,
        domain::organisation::OrganisationPatch, domain::organisation::OrganisationContact,
        domain::organisation::OrganisationKind, domain::identity::Role,
        domain::api_client::ApiClient, domain::api_client::ApiClientInput,
        domain::api_client::ApiClientWithSecret,
        domain::payment_policy::PaymentPolicy, domain::payment_policy::PaymentRates,
        domain::money::Money,
        ListOf<domain::organisation::Organisation>,
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "organisations", description = "Commissioners, providers and facilitators"),
        (name = "api-clients", description = "Machine clients and the client-credentials exchange"),
        (name = "payment-policies", description = "What organisations pay for taking part"),
        (name = "operations", description = "Health, readiness and metrics"),
    )
)]
pub struct ApiDoc;

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
    }
}

/// The document as committed in `openapi/openapi.json`.
pub fn document_json() -> String {
    let mut text = ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|_| "{}".to_owned());
    text.push('\n');
    text
}
