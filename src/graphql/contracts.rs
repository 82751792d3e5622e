//! Contracts and the evidence report in GraphQL; the same service calls and rules as REST.

use async_graphql::{Context, Object};
use chrono::NaiveDate;

use super::plain::PlainConnection;
use super::{caller, cost_of_page, page_request, plain_connection, services, GqlResult};
use crate::domain::contract::{Contract, ContractInput, ContractPatch};
use crate::domain::id::{ContractId, OrganisationId};
use crate::domain::report::EvidenceReport;
use crate::service::reports::ReportRequest;
use crate::service::{contracts, reports};

#[derive(Default)]
pub struct ContractQuery;

#[Object]
impl ContractQuery {
    /// The contracts the caller's organisation commissions or provides (admins: all).
    #[graphql(complexity = "cost_of_page(first, child_complexity)")]
    async fn contracts(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<PlainConnection<Contract>> {
        let request = page_request(first, after)?;
        let page = contracts::list(services(ctx)?, caller(ctx)?, request)
            .await
            .gql()?;
        Ok(plain_connection(page, request, |c| c.id))
    }

    async fn contract(&self, ctx: &Context<'_>, id: ContractId) -> async_graphql::Result<Contract> {
        contracts::get(services(ctx)?, caller(ctx)?, id).await.gql()
    }

    /// The co-production evidence report of a provider, or of the work under a contract, for
    /// a period (`from` inclusive, `to` the day after). A provider's staff read their own; a
    /// commissioner the work under a contract they hold, for its period, with counts of people
    /// under 5 shown as "fewer than 5"; admins any.
    #[graphql(complexity = 50)]
    async fn evidence_report(
        &self,
        ctx: &Context<'_>,
        provider: Option<OrganisationId>,
        contract: Option<ContractId>,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        within_days: Option<i32>,
    ) -> async_graphql::Result<EvidenceReport> {
        reports::evidence(
            services(ctx)?,
            caller(ctx)?,
            ReportRequest {
                provider,
                contract,
                from,
                to,
                within_days,
            },
        )
        .await
        .gql()
    }
}

#[derive(Default)]
pub struct ContractMutation;

#[Object]
impl ContractMutation {
    /// Make a contract with a provider, listing its requirements (the commissioner's staff).
    async fn create_contract(
        &self,
        ctx: &Context<'_>,
        input: ContractInput,
    ) -> async_graphql::Result<Contract> {
        contracts::create(services(ctx)?, caller(ctx)?, &input)
            .await
            .gql()
    }

    /// Change a contract; `expectedVersion` is the `version` last read, and `requirements`
    /// replaces the list whole.
    async fn update_contract(
        &self,
        ctx: &Context<'_>,
        id: ContractId,
        expected_version: i32,
        patch: ContractPatch,
    ) -> async_graphql::Result<Contract> {
        contracts::update(services(ctx)?, caller(ctx)?, id, expected_version, &patch)
            .await
            .gql()
    }
}
