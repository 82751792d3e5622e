//! The GraphQL door: async-graphql types that translate GraphQL to service calls and back.
//! Queries mirror the REST collections, mutations are verb + noun, lists are Relay connections.

mod api_clients;
mod enums;
pub mod http;
pub mod loaders;
mod opportunities;
mod organisations;

use async_graphql::connection::{Connection, Edge};
use async_graphql::{
    Context, EmptySubscription, ErrorExtensions, MergedObject, OutputType, Schema,
};
use uuid::Uuid;

use crate::domain::identity::Principal;
use crate::domain::page::{encode_cursor, Page, PageRequest};
use crate::error::AppError;
use crate::service::Services;

/// Nesting deeper than this is refused before it runs.
pub const MAX_DEPTH: usize = 12;
/// Queries estimated to cost more than this are refused before they run.
pub const MAX_COMPLEXITY: usize = 2_000;

#[derive(MergedObject, Default)]
pub struct Query(
    organisations::OrganisationQuery,
    api_clients::ApiClientQuery,
    opportunities::OpportunityQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(
    organisations::OrganisationMutation,
    api_clients::ApiClientMutation,
    opportunities::OpportunityMutation,
);

pub type AppSchema = Schema<Query, Mutation, EmptySubscription>;

/// The schema; `services` is absent only when printing the SDL.
pub fn build_schema(services: Option<Services>) -> AppSchema {
    let mut builder = Schema::build(Query::default(), Mutation::default(), EmptySubscription)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY);
    if let Some(services) = services {
        builder = builder.data(services);
    }
    builder.finish()
}

/// The SDL as committed in `schema.graphql`.
pub fn sdl() -> String {
    sdl_of(&build_schema(None))
}

/// The SDL of a built schema, ending with one newline.
pub fn sdl_of(schema: &AppSchema) -> String {
    let mut text = schema.sdl();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// The GraphQL face of a service error.
pub(crate) trait GqlResult<T> {
    fn gql(self) -> async_graphql::Result<T>;
}

impl<T> GqlResult<T> for Result<T, AppError> {
    fn gql(self) -> async_graphql::Result<T> {
        self.map_err(|e| e.extend())
    }
}

pub(crate) fn caller<'a>(ctx: &'a Context<'_>) -> async_graphql::Result<&'a Principal> {
    ctx.data_opt::<Principal>().ok_or_else(|| {
        AppError::Unauthenticated("send `Authorization: Bearer <token>`".to_owned()).extend()
    })
}

pub(crate) fn services<'a>(ctx: &'a Context<'_>) -> async_graphql::Result<&'a Services> {
    ctx.data_opt::<Services>()
        .ok_or_else(|| AppError::internal("services are not configured").extend())
}

pub(crate) fn page_request(
    first: Option<i32>,
    after: Option<String>,
) -> async_graphql::Result<PageRequest> {
    PageRequest::parse(first.map(i64::from), after.as_deref(), "first", "after")
        .map_err(AppError::Validation)
        .gql()
}

/// A Relay connection from one page of the service's answer.
pub(crate) fn connection<T, N: OutputType>(
    page: Page<T>,
    request: PageRequest,
    id_of: impl Fn(&T) -> Uuid,
    node: impl Fn(T) -> N,
) -> Connection<String, N> {
    let mut conn = Connection::new(request.after.is_some(), page.next_cursor.is_some());
    conn.edges.extend(
        page.items
            .into_iter()
            .map(|item| Edge::new(encode_cursor(id_of(&item)), node(item))),
    );
    conn
}
