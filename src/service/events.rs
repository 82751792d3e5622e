//! Events: written to the outbox by the service that made the change, in its transaction, and
//! read back by those who may see them: staff of the organisation (or the facilitator) of the
//! work, admins, and the person an event concerns (their updates, "You said - We did").

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use super::opportunities::participant_of;
use super::Services;
use crate::db::events::EventScope;
use crate::db::{self, DbConnection};
use crate::domain::event::{Event, EventFilter, NewEvent};
use crate::domain::id::{EventId, OrganisationId, ParticipantId};
use crate::domain::identity::Principal;
use crate::domain::page::{Page, PageRequest};
use crate::domain::{new_id, now};
use crate::error::AppError;

/// Writes an event to the outbox, and queues it for the webhook endpoints that want it. Call
/// it inside the transaction that makes the change, so the change, its event and its
/// deliveries are stored together or not at all.
pub fn record(conn: &mut DbConnection, event: NewEvent) -> Result<Event, AppError> {
    let event = event.at(new_id(), now());
    db::events::insert(conn, &event)?;
    super::webhooks::fan_out(conn, &event)?;
    Ok(event)
}

/// Events the caller may see, oldest first: staff see their organisation's (and the work it
/// facilitates); admins everything, or one organisation's; a participant their own updates.
pub async fn list(
    services: &Services,
    principal: &Principal,
    organisation_id: Option<OrganisationId>,
    filter: EventFilter,
    page: PageRequest,
) -> Result<Page<Event>, AppError> {
    let scope = if principal.is_admin() {
        organisation_id.map_or(EventScope::All, EventScope::Organisation)
    } else if principal.is_staff() {
        let own = principal
            .organisation_id
            .ok_or_else(|| AppError::Forbidden("your token names no organisation".to_owned()))?;
        if organisation_id.is_some_and(|o| o != own) {
            return Err(AppError::Forbidden(
                "staff see their own organisation's events".to_owned(),
            ));
        }
        EventScope::Organisation(own)
    } else if let Some(me) = participant_of(principal) {
        EventScope::Person(me)
    } else {
        return Err(AppError::Forbidden(
            "staff, admins and participants read events".to_owned(),
        ));
    };
    read(services, scope, filter, page).await
}

/// What happened to a person's feedback, their claims, their places and the work they took
/// part in: for the person and admins.
pub async fn updates(
    services: &Services,
    principal: &Principal,
    participant_id: ParticipantId,
    filter: EventFilter,
    page: PageRequest,
) -> Result<Page<Event>, AppError> {
    if !(principal.is_admin() || participant_of(principal) == Some(participant_id)) {
        return Err(AppError::NotFound("participant"));
    }
    read(services, EventScope::Person(participant_id), filter, page).await
}

async fn read(
    services: &Services,
    scope: EventScope,
    filter: EventFilter,
    page: PageRequest,
) -> Result<Page<Event>, AppError> {
    let rows = services
        .db
        .read(move |conn| db::events::list(conn, scope, &filter, page))
        .await?;
    Ok(Page::from_rows(rows, page, |e| e.id))
}

/// Events as they are written, on every instance, for GraphQL subscribers: each instance reads
/// the outbox a few times a second while anyone is subscribed, and passes on what it has not
/// passed on before.
pub struct EventFeed {
    tx: tokio::sync::broadcast::Sender<Arc<Event>>,
}

/// How often the feed looks, and how far back: an event committed up to this late (its id and
/// time are set before its transaction commits) is still passed on.
const FEED_POLL: Duration = Duration::from_millis(200);
const FEED_WINDOW: chrono::Duration = chrono::Duration::seconds(5);
/// Most events one look passes on.
const FEED_BATCH: i64 = 5_000;

impl Default for EventFeed {
    fn default() -> Self {
        Self {
            tx: tokio::sync::broadcast::channel(4_096).0,
        }
    }
}

impl EventFeed {
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Arc<Event>> {
        self.tx.subscribe()
    }
}

/// Runs until the process ends: passes new events to this instance's subscribers.
pub async fn run_feed(services: Services) {
    let mut passed: HashMap<EventId, chrono::DateTime<chrono::Utc>> = HashMap::new();
    loop {
        tokio::time::sleep(FEED_POLL).await;
        let feed = services.feed.clone();
        if feed.tx.receiver_count() == 0 {
            passed.clear();
            continue;
        }
        let from = now() - FEED_WINDOW;
        let fresh = services
            .db
            .read(move |conn| db::events::since(conn, from, FEED_BATCH))
            .await;
        match fresh {
            Ok(events) => {
                for e in events {
                    if passed.insert(e.id, e.timestamp).is_none() {
                        // No subscriber left is not a failure.
                        let _ = feed.tx.send(Arc::new(e));
                    }
                }
                passed.retain(|_, at| *at >= from);
            }
            Err(AppError::Unavailable(_)) => {}
            Err(error) => tracing::warn!(%error, "event feed"),
        }
    }
}
