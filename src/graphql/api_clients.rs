//! Machine clients in GraphQL.

use async_graphql::{Context, Object, SimpleObject};

use super::plain::PlainConnection;
use super::{caller, page_request, plain_connection, services, GqlResult};
use crate::domain::api_client::{ApiClient, ApiClientInput, ApiClientWithSecret};
use crate::domain::id::{ApiClientId, OrganisationId};
use crate::service::api_clients;

/// A client with its secret: the only time the secret is shown.
#[derive(SimpleObject)]
#[graphql(serial, name = "ApiClientWithSecret")]
pub struct ApiClientWithSecretGql {
    pub client: ApiClient,
    pub client_secret: String,
}

impl From<ApiClientWithSecret> for ApiClientWithSecretGql {
    fn from(made: ApiClientWithSecret) -> Self {
        Self {
            client: made.client,
            client_secret: made.client_secret.unwrap_or_default(),
        }
    }
}

#[derive(Default)]
pub struct ApiClientQuery;

#[Object]
impl ApiClientQuery {
    #[graphql(complexity = "super::cost_of_page(first, child_complexity)")]
    async fn api_clients(
        &self,
        ctx: &Context<'_>,
        organisation_id: Option<OrganisationId>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<PlainConnection<ApiClient>> {
        let request = page_request(first, after)?;
        let page = api_clients::list(services(ctx)?, caller(ctx)?, organisation_id, request)
            .await
            .gql()?;
        Ok(plain_connection(page, request, |c| c.id))
    }

    async fn api_client(
        &self,
        ctx: &Context<'_>,
        id: ApiClientId,
    ) -> async_graphql::Result<ApiClient> {
        api_clients::get(services(ctx)?, caller(ctx)?, id)
            .await
            .gql()
    }
}

#[derive(Default)]
pub struct ApiClientMutation;

#[Object]
impl ApiClientMutation {
    async fn create_api_client(
        &self,
        ctx: &Context<'_>,
        input: ApiClientInput,
    ) -> async_graphql::Result<ApiClientWithSecretGql> {
        api_clients::create(services(ctx)?, caller(ctx)?, &input)
            .await
            .gql()
            .map(Into::into)
    }

    async fn rotate_api_client_secret(
        &self,
        ctx: &Context<'_>,
        id: ApiClientId,
    ) -> async_graphql::Result<ApiClientWithSecretGql> {
        api_clients::rotate_secret(services(ctx)?, caller(ctx)?, id)
            .await
            .gql()
            .map(Into::into)
    }

    async fn revoke_api_client(
        &self,
        ctx: &Context<'_>,
        id: ApiClientId,
    ) -> async_graphql::Result<ApiClient> {
        api_clients::revoke(services(ctx)?, caller(ctx)?, id)
            .await
            .gql()
    }
}
