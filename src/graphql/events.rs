//! Events in GraphQL: the same lists as `/api/v1/events` and a person's updates.

use async_graphql::{Context, Object};

use super::plain::PlainConnection;
use super::{caller, cost_of_page, page_request, plain_connection, services, GqlResult};
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
    ) -> async_graphql::Result<PlainConnection<Event>> {
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
        Ok(plain_connection(page, request, |e| e.id))
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
    ) -> async_graphql::Result<PlainConnection<Event>> {
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
        Ok(plain_connection(page, request, |e| e.id))
    }
}

/// Until when the token that opened a subscription connection holds.
#[derive(Debug, Clone, Copy)]
pub struct SessionExpiry(pub chrono::DateTime<chrono::Utc>);

#[derive(Default)]
pub struct Subscription;

#[async_graphql::Subscription]
impl Subscription {
    /// Events as they happen, that the connection's token may see (staff: their
    /// organisation's and the work it facilitates; a participant: what concerns them; admins:
    /// all), optionally of one type or piece of work. Ends when the token expires.
    async fn events(
        &self,
        ctx: &Context<'_>,
        filter: Option<EventFilter>,
    ) -> async_graphql::Result<impl futures_util::Stream<Item = Event>> {
        use futures_util::StreamExt;
        let principal = caller(ctx)?.clone();
        let expires = ctx
            .data_opt::<SessionExpiry>()
            .map(|e| e.0)
            .ok_or_else(|| async_graphql::Error::new("subscriptions run over /graphql/ws"))?;
        let rx = services(ctx)?.event_feed().subscribe();
        let filter = filter.unwrap_or_default();
        let until = (expires - chrono::Utc::now())
            .to_std()
            .unwrap_or(std::time::Duration::ZERO);
        let events = futures_util::stream::unfold(rx, |mut rx| async move {
            loop {
                match rx.recv().await {
                    Ok(e) => return Some((e, rx)),
                    // A subscriber too slow for the feed misses what it could not keep up with.
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                }
            }
        })
        .filter(move |e| {
            let wanted = e.visible_to(&principal)
                && filter.event_type.is_none_or(|t| t == e.event_type)
                && filter
                    .opportunity_id
                    .is_none_or(|o| Some(o) == e.opportunity_id);
            std::future::ready(wanted)
        })
        .map(|e| (*e).clone())
        .take_until(tokio::time::sleep(until));
        Ok(events)
    }
}
