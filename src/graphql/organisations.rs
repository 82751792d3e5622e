//! Organisations and payment policies in GraphQL.

use async_graphql::{ComplexObject, Context, Object};

use super::plain::{Plain, PlainConnection};
use super::{caller, page_request, plain_connection, services, GqlResult};
use crate::domain::id::{OrganisationId, PaymentPolicyId};
use crate::domain::organisation::{
    Organisation, OrganisationContact, OrganisationInput, OrganisationPatch,
};
use crate::domain::payment_policy::{PaymentPolicy, RatesInput};
use crate::service::{organisations, payment_policies};

#[ComplexObject]
impl Organisation {
    async fn contact(&self) -> Plain<&OrganisationContact> {
        Plain(&self.contact)
    }
}

#[derive(Default)]
pub struct OrganisationQuery;

#[Object]
impl OrganisationQuery {
    /// Admins see every organisation; others their own.
    #[graphql(complexity = "super::cost_of_page(first, child_complexity)")]
    async fn organisations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<PlainConnection<Organisation>> {
        let request = page_request(first, after)?;
        let page = organisations::list(services(ctx)?, caller(ctx)?, request)
            .await
            .gql()?;
        Ok(plain_connection(page, request, |o| o.id))
    }

    async fn organisation(
        &self,
        ctx: &Context<'_>,
        id: OrganisationId,
    ) -> async_graphql::Result<Plain<Organisation>> {
        organisations::get(services(ctx)?, caller(ctx)?, id)
            .await
            .map(Plain)
            .gql()
    }

    #[graphql(complexity = "super::cost_of_page(first, child_complexity)")]
    async fn payment_policies(
        &self,
        ctx: &Context<'_>,
        organisation_id: Option<OrganisationId>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<PlainConnection<PaymentPolicy>> {
        let request = page_request(first, after)?;
        let page = payment_policies::list(services(ctx)?, caller(ctx)?, organisation_id, request)
            .await
            .gql()?;
        Ok(plain_connection(page, request, |p| p.id))
    }

    async fn payment_policy(
        &self,
        ctx: &Context<'_>,
        id: PaymentPolicyId,
    ) -> async_graphql::Result<PaymentPolicy> {
        payment_policies::get(services(ctx)?, caller(ctx)?, id)
            .await
            .gql()
    }
}

#[derive(Default)]
pub struct OrganisationMutation;

#[Object]
impl OrganisationMutation {
    /// Platform admins create organisations; each starts with the guide's payment policy.
    async fn create_organisation(
        &self,
        ctx: &Context<'_>,
        input: OrganisationInput,
    ) -> async_graphql::Result<Organisation> {
        organisations::create(services(ctx)?, caller(ctx)?, &input)
            .await
            .gql()
    }

    /// Rates that start on a day; claim lines already priced keep theirs.
    async fn add_payment_rates(
        &self,
        ctx: &Context<'_>,
        policy_id: PaymentPolicyId,
        input: RatesInput,
    ) -> async_graphql::Result<PaymentPolicy> {
        payment_policies::add_rates(services(ctx)?, caller(ctx)?, policy_id, &input)
            .await
            .gql()
    }

    /// `expectedVersion` is the `version` last read; a stale one is refused (precondition_failed).
    async fn update_organisation(
        &self,
        ctx: &Context<'_>,
        id: OrganisationId,
        expected_version: i32,
        input: OrganisationPatch,
    ) -> async_graphql::Result<Organisation> {
        organisations::update(services(ctx)?, caller(ctx)?, id, expected_version, &input)
            .await
            .gql()
    }
}
