//! Events in GraphQL: the same lists as `/api/v1/events` and a person's updates.

use async_graphql::connection::Connection;
use async_graphql::{Context, Object};

use super::{caller, connection, cost_of_page, page_request, services, GqlResult};
use crate::domain::event::{Event, EventFilter};
use crate::domain::id::{OrganisationId, ParticipantId};
use crate::service::events;

#[derive(Default)]
pub struct EventQuery;

#[Object]
impl EventQuery {
    /// Events the caller may see, oldest first: staff see their organisation's and those of
    /// the work it facilitates; admins everything (or one organisation's); a participant what
    /// concerns them.
    #[graphql(complexity = "cost_of_page(first, child_complexity)")]
    async fn events(
        &self,
        ctx: &Context<'_>,
        filter: Option<EventFilter>,
        organisation_id: Option<OrganisationId>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, Event>> {
        let request = page_request(first, after)?;
        let page = events::list(
            services(ctx)?,
            caller(ctx)?,
            organisation_id,
            filter.unwrap_or_default(),
            request,
        )
        .await
        .gql()?;
        Ok(connection(page, request, |e| e.id, |e| e))
    }

    /// "You said - We did" for one person: what happened to their feedback, their claims,
    /// their places and the work they took part in. For the person and admins.
    #[graphql(complexity = "cost_of_page(first, child_complexity)")]
    async fn participant_updates(
        &self,
        ctx: &Context<'_>,
        participant_id: ParticipantId,
        filter: Option<EventFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, Event>> {
        let request = page_request(first, after)?;
        let page = events::updates(
            services(ctx)?,
            caller(ctx)?,
            participant_id,
            filter.unwrap_or_default(),
            request,
        )
        .await
        .gql()?;
        Ok(connection(page, request, |e| e.id, |e| e))
    }
}
