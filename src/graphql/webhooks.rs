//! Webhook endpoints in GraphQL: the same rules as `/api/v1/webhooks`.

use async_graphql::{Context, Object};

use super::plain::PlainConnection;
use super::{caller, cost_of_page, page_request, plain_connection, services, GqlResult};
use crate::domain::id::{OrganisationId, WebhookEndpointId};
use crate::domain::webhook::{
    ReplayInput, RotateSecretInput, WebhookAttempt, WebhookDelivery, WebhookEndpoint,
    WebhookEndpointInput, WebhookEndpointPatch, WebhookEndpointWithSecret,
};
use crate::service::webhooks;

#[derive(Default)]
pub struct WebhookQuery;

#[Object]
impl WebhookQuery {
    /// The organisation's webhook endpoints (admins: every organisation's, or one's).
    #[graphql(complexity = "cost_of_page(first, child_complexity)")]
    async fn webhook_endpoints(
        &self,
        ctx: &Context<'_>,
        organisation_id: Option<OrganisationId>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<PlainConnection<WebhookEndpoint>> {
        let request = page_request(first, after)?;
        let page = webhooks::list(services(ctx)?, caller(ctx)?, organisation_id, request)
            .await
            .gql()?;
        Ok(plain_connection(page, request, |e| e.id))
    }

    async fn webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        id: WebhookEndpointId,
    ) -> async_graphql::Result<WebhookEndpoint> {
        webhooks::get(services(ctx)?, caller(ctx)?, id).await.gql()
    }

    /// Every attempt at delivering to an endpoint, oldest first.
    #[graphql(complexity = "cost_of_page(first, child_complexity)")]
    async fn webhook_attempts(
        &self,
        ctx: &Context<'_>,
        endpoint_id: WebhookEndpointId,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<PlainConnection<WebhookAttempt>> {
        let request = page_request(first, after)?;
        let page = webhooks::attempts(services(ctx)?, caller(ctx)?, endpoint_id, request)
            .await
            .gql()?;
        Ok(plain_connection(page, request, |a| a.id))
    }

    /// Each event queued for an endpoint and where it stands.
    #[graphql(complexity = "cost_of_page(first, child_complexity)")]
    async fn webhook_deliveries(
        &self,
        ctx: &Context<'_>,
        endpoint_id: WebhookEndpointId,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<PlainConnection<WebhookDelivery>> {
        let request = page_request(first, after)?;
        let page = webhooks::deliveries(services(ctx)?, caller(ctx)?, endpoint_id, request)
            .await
            .gql()?;
        Ok(plain_connection(page, request, |d| d.id))
    }
}

#[derive(Default)]
pub struct WebhookMutation;

#[Object]
impl WebhookMutation {
    /// Registers an endpoint; the answer holds its signing secret, shown this once.
    async fn register_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        input: WebhookEndpointInput,
    ) -> async_graphql::Result<WebhookEndpointWithSecret> {
        webhooks::create(services(ctx)?, caller(ctx)?, &input)
            .await
            .gql()
    }

    async fn update_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        id: WebhookEndpointId,
        expected_version: i32,
        input: WebhookEndpointPatch,
    ) -> async_graphql::Result<WebhookEndpoint> {
        webhooks::update(services(ctx)?, caller(ctx)?, id, expected_version, &input)
            .await
            .gql()
    }

    /// Removes an endpoint with its queue and log; true when removed.
    async fn delete_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        id: WebhookEndpointId,
    ) -> async_graphql::Result<bool> {
        webhooks::delete(services(ctx)?, caller(ctx)?, id)
            .await
            .gql()?;
        Ok(true)
    }

    /// A new signing secret, shown this once; the old one signs beside it for the overlap.
    async fn rotate_webhook_secret(
        &self,
        ctx: &Context<'_>,
        id: WebhookEndpointId,
        input: Option<RotateSecretInput>,
    ) -> async_graphql::Result<WebhookEndpointWithSecret> {
        webhooks::rotate_secret(services(ctx)?, caller(ctx)?, id, &input.unwrap_or_default())
            .await
            .gql()
    }

    /// Sends an event of the organisation's to the endpoint again, now.
    async fn replay_webhook(
        &self,
        ctx: &Context<'_>,
        id: WebhookEndpointId,
        input: ReplayInput,
    ) -> async_graphql::Result<WebhookDelivery> {
        webhooks::replay(services(ctx)?, caller(ctx)?, id, &input)
            .await
            .gql()
    }
}
