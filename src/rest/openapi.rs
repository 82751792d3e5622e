//! The OpenAPI 3.1 document, built from the handlers' annotations.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{
    api_clients, glossary, health, opportunities, organisations, payment_policies, sessions, ListOf,
};
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
        opportunities::create, opportunities::list, opportunities::get, opportunities::update,
        opportunities::advertise, opportunities::start, opportunities::end, opportunities::cancel,
        opportunities::inclusion_check,
        opportunities::join, opportunities::list_members, opportunities::accept,
        opportunities::decline, opportunities::withdraw, opportunities::interests,
        opportunities::scoring,
        opportunities::create_session, opportunities::list_sessions,
        sessions::record_attendance, sessions::list_attendance,
        sessions::record_decision, sessions::list_decisions,
        glossary::list, glossary::add,
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
        domain::opportunity::Opportunity, domain::opportunity::OpportunityInput,
        domain::opportunity::OpportunityPatch, domain::opportunity::EvidenceSummary,
        domain::opportunity::InclusionReport, domain::opportunity::LivedExperienceArea,
        domain::opportunity::Admission,
        domain::ladder::LadderLevel, domain::ladder::WorkingMode, domain::ladder::OpportunityKind,
        domain::ladder::OpportunityStatus, domain::ladder::Criterion, domain::ladder::CriterionResult,
        domain::ladder::ClaimCheck, domain::ladder::Evidence,
        domain::inclusion::Format, domain::inclusion::Support, domain::inclusion::Barrier,
        domain::membership::MemberView, domain::membership::MembershipInput,
        domain::membership::MemberStatus, domain::membership::MemberRole,
        domain::membership::Experience, domain::membership::InterestDeclaration,
        domain::membership::InterestsInput, domain::membership::ScoringInput,
        domain::session::SessionInput, domain::session::SessionRecord, domain::session::Session,
        domain::session::Attendance, domain::session::AttendanceInput,
        domain::session::Decision, domain::session::DecisionInput,
        domain::session::Participation,
        domain::glossary::GlossaryTerm, domain::glossary::GlossaryInput,
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "organisations", description = "Commissioners, providers and facilitators"),
        (name = "api-clients", description = "Machine clients and the client-credentials exchange"),
        (name = "payment-policies", description = "What organisations pay for taking part"),
        (name = "opportunities", description = "Pieces of work, their lifecycle, evidence and inclusion check"),
        (name = "members", description = "Who takes part: applications, invitations, places, interests"),
        (name = "sessions", description = "Sessions, attendance and decisions"),
        (name = "glossary", description = "Plain-English meanings of the words services use"),
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
