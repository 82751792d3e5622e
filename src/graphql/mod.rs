//! The GraphQL door: async-graphql types that translate GraphQL to service calls and back.
//! Queries mirror the REST collections, mutations are verb + noun, lists are Relay connections.

mod api_clients;
mod claims;
mod contracts;
pub mod documents;
pub mod events;
mod feedback;
pub mod http;
pub mod limits;
pub mod loaders;
mod opportunities;
mod organisations;
mod participants;
pub mod plain;
mod webhooks;
pub mod ws;

use async_graphql::connection::{Connection, CursorType, Edge};
use async_graphql::{Context, ErrorExtensions, MergedObject, OutputType, Schema, ValidationMode};
use uuid::Uuid;

use crate::domain::identity::Principal;
use crate::domain::page::{decode_cursor, encode_cursor, Page, PageRequest};
use crate::error::AppError;
use crate::service::Services;

/// Nesting deeper than this is refused before it runs.
pub const MAX_DEPTH: usize = 12;
/// Queries estimated to cost more than this are refused before they run. A list counts its
/// page size times the cost of each item, so `opportunities(first: 50)` with five fields and
/// `members(first: 20)` of three under each costs about 50 * (5 + 20 * 3).
pub const MAX_COMPLEXITY: usize = 10_000;
/// Directives on one field (`@include`, `@skip`, `@deprecated` are all there are).
pub const MAX_DIRECTIVES: usize = 4;
/// Introspection nests type references deeply (graphql-js asks nine `ofType` levels down), so
/// it has a depth limit of its own; it reads only the schema, whose size is fixed.
pub const MAX_INTROSPECTION_DEPTH: usize = 20;

#[derive(MergedObject, Default)]
pub struct Query(
    organisations::OrganisationQuery,
    api_clients::ApiClientQuery,
    opportunities::OpportunityQuery,
    participants::ParticipantQuery,
    claims::ClaimQuery,
    feedback::FeedbackQuery,
    events::EventQuery,
    webhooks::WebhookQuery,
    contracts::ContractQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(
    organisations::OrganisationMutation,
    api_clients::ApiClientMutation,
    opportunities::OpportunityMutation,
    participants::ParticipantMutation,
    claims::ClaimMutation,
    webhooks::WebhookMutation,
    feedback::FeedbackMutation,
    contracts::ContractMutation,
);

pub type AppSchema = Schema<Query, Mutation, events::Subscription>;

/// The schema `POST /graphql` runs; `services` is absent only when printing the SDL. It
/// carries no extension, so a field costs only its resolver: the door checks the aliases on
/// the document it parsed (see [`limits::check_aliases`]).
pub fn build_schema(services: Option<Services>) -> AppSchema {
    build_with(services, MAX_DEPTH, false, ValidationMode::Strict)
}

/// The same schema for documents that only introspect (see [`is_introspection_only`]).
pub struct IntrospectionSchema(pub AppSchema);

pub fn build_introspection_schema() -> IntrospectionSchema {
    IntrospectionSchema(build_with(
        None,
        MAX_INTROSPECTION_DEPTH,
        false,
        ValidationMode::Strict,
    ))
}

/// The same schema checking only the limits (depth, complexity, fragment cycles): it runs a
/// kept document with the operation name and variables it already passed full validation with
/// (see [`documents`]), which would pass again.
pub struct KnownValidSchema(pub AppSchema);

pub fn build_known_valid_schema(services: Services) -> KnownValidSchema {
    KnownValidSchema(build_with(
        Some(services),
        MAX_DEPTH,
        false,
        ValidationMode::Fast,
    ))
}

/// The same schema for subscriptions over WebSocket, whose documents the protocol parses: it
/// checks the aliases through an extension.
pub struct SubscriptionSchema(pub AppSchema);

pub fn build_subscription_schema(services: Services) -> SubscriptionSchema {
    SubscriptionSchema(build_with(
        Some(services),
        MAX_DEPTH,
        true,
        ValidationMode::Strict,
    ))
}

fn build_with(
    services: Option<Services>,
    depth: usize,
    alias_extension: bool,
    validation: ValidationMode,
) -> AppSchema {
    // Fields of the domain's objects answer `DateTime` with `domain::time::Rfc3339`, the same
    // scalar as chrono's (same name, description and parsing), written faster.
    let mut builder = Schema::build_with_ignore_name_conflicts(
        Query::default(),
        Mutation::default(),
        events::Subscription,
        ["DateTime"],
    )
    .validation_mode(validation)
    .limit_depth(depth)
    .limit_complexity(MAX_COMPLEXITY)
    .limit_directives(MAX_DIRECTIVES);
    if alias_extension {
        builder = builder.extension(limits::AliasLimit);
    }
    if let Some(services) = services {
        builder = builder.data(services);
    }
    builder.finish()
}

/// True when the operation that would run asks only `__schema`, `__type` and `__typename` at
/// its root. Such a document reads nothing but the schema, which is public
/// (`/graphql/schema.graphql`), so it needs no token: GraphiQL's docs explorer, code generators
/// and IDE plugins work before a token is pasted.
pub fn is_introspection_only(
    doc: &async_graphql::parser::types::ExecutableDocument,
    operation_name: Option<&str>,
) -> bool {
    use async_graphql::parser::types::{DocumentOperations, OperationType};
    let operation = match (&doc.operations, operation_name) {
        (DocumentOperations::Single(op), _) => Some(op),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next(),
        (DocumentOperations::Multiple(_), None) => None,
    };
    match operation {
        Some(op) if op.node.ty == OperationType::Query => {
            root_is_introspection(doc, &op.node.selection_set.node, 0)
        }
        _ => false,
    }
}

fn root_is_introspection(
    doc: &async_graphql::parser::types::ExecutableDocument,
    set: &async_graphql::parser::types::SelectionSet,
    nesting: usize,
) -> bool {
    use async_graphql::parser::types::Selection;
    // Fragments spreading into each other in a cycle are refused later by validation.
    if nesting > 8 {
        return false;
    }
    set.items.iter().all(|item| match &item.node {
        Selection::Field(f) => matches!(
            f.node.name.node.as_str(),
            "__schema" | "__type" | "__typename"
        ),
        Selection::InlineFragment(i) => {
            root_is_introspection(doc, &i.node.selection_set.node, nesting + 1)
        }
        Selection::FragmentSpread(s) => doc
            .fragments
            .get(&s.node.fragment_name.node)
            .is_some_and(|f| root_is_introspection(doc, &f.node.selection_set.node, nesting + 1)),
    })
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

/// The cost of one page of a list: the page size asked for (the default when none is), times
/// the cost of one item, plus the list itself.
pub(crate) fn cost_of_page(first: Option<i32>, child_complexity: usize) -> usize {
    let size = first.map_or(crate::domain::page::DEFAULT_LIMIT as usize, |n| {
        usize::try_from(n)
            .unwrap_or(0)
            .min(crate::domain::page::MAX_LIMIT as usize)
    });
    size.max(1)
        .saturating_mul(child_complexity)
        .saturating_add(1)
}

pub(crate) fn page_request(
    first: Option<i32>,
    after: Option<String>,
) -> async_graphql::Result<PageRequest> {
    PageRequest::parse(first.map(i64::from), after.as_deref(), "first", "after")
        .map_err(AppError::Validation)
        .gql()
}

/// A Relay connection of plain objects (see [`plain::PlainConnection`]) from one page of the
/// service's answer.
pub(crate) fn plain_connection<
    T: async_graphql::ContainerType + crate::domain::written::WriteFields,
    I: Into<Uuid>,
>(
    page: Page<T>,
    request: PageRequest,
    id_of: impl Fn(&T) -> I,
) -> plain::PlainConnection<T> {
    plain::PlainConnection(connection(page, request, id_of, plain::Plain))
}

/// A Relay connection of `N`, its cursors the items' ids.
pub type IdConnection<N> = Connection<IdCursor, N>;

/// An edge's cursor: the item's id, written as text ([`encode_cursor`]) only when a document
/// asks for it (`cursor`, `startCursor`, `endCursor`), not for every item of every page.
pub struct IdCursor(Uuid);

/// Text that is not a cursor.
#[derive(Debug)]
pub struct NotACursor;

impl std::fmt::Display for NotACursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not a cursor")
    }
}

impl CursorType for IdCursor {
    type Error = NotACursor;

    fn decode_cursor(text: &str) -> Result<Self, NotACursor> {
        decode_cursor(text).map(IdCursor).ok_or(NotACursor)
    }

    fn encode_cursor(&self) -> String {
        encode_cursor(self.0)
    }
}

/// A Relay connection from one page of the service's answer.
pub(crate) fn connection<T, I: Into<Uuid>, N: OutputType>(
    page: Page<T>,
    request: PageRequest,
    id_of: impl Fn(&T) -> I,
    node: impl Fn(T) -> N,
) -> IdConnection<N> {
    let mut conn = Connection::new(request.after.is_some(), page.next_cursor.is_some());
    conn.edges.extend(
        page.items
            .into_iter()
            .map(|item| Edge::new(IdCursor(id_of(&item).into()), node(item))),
    );
    conn
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;

    fn is_introspection_only(query: &str, operation_name: Option<&str>) -> bool {
        parse_query(query).is_ok_and(|doc| super::is_introspection_only(&doc, operation_name))
    }

    #[test]
    fn only_documents_that_read_the_schema_alone_count_as_introspection() {
        assert!(is_introspection_only(
            "{ __schema { types { name } } }",
            None
        ));
        assert!(is_introspection_only(
            "query IntrospectionQuery { __schema { ...S } } fragment S on __Schema { types { name } }",
            None
        ));
        assert!(is_introspection_only(
            "query A { __type(name: \"Query\") { name } } mutation B { __typename }",
            Some("A")
        ));
        assert!(!is_introspection_only(
            "{ __schema { types { name } } organisations { edges { node { id } } } }",
            None
        ));
        assert!(!is_introspection_only(
            "{ ... on Query { organisations { edges { node { id } } } } __typename __schema { description } }",
            None
        ));
        assert!(!is_introspection_only(
            "mutation { __typename } query { __schema { description } }",
            None
        ));
        assert!(!is_introspection_only("{ __schema", None));
    }
}
