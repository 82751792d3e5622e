//! The service layer: one module per capability, the only place that decides and writes.
//! REST and GraphQL both call these functions, so a rule holds the same through either door.

pub mod api_clients;
pub mod claims;
pub mod contracts;
pub mod events;
pub mod feedback;
pub mod glossary;
pub mod health;
pub mod idempotency;
pub mod identity;
pub mod members;
pub mod opportunities;
pub mod organisations;
pub mod participants;
pub mod payment_policies;
pub mod reports;
pub mod sessions;
pub mod throttle;
pub mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use crate::auth::TokenAuthority;
use crate::crypto::DataKeys;
use crate::db::{Backend, Db, PoolState};
use throttle::FailedExchanges;

/// Everything a service call needs, cloned cheaply into each request.
#[derive(Clone)]
pub struct Services {
    db: Db,
    tokens: Arc<TokenAuthority>,
    client_token_ttl: Duration,
    failed_exchanges: FailedExchanges,
    /// Seal and open personal data at rest.
    keys: Arc<DataKeys>,
    webhooks: Arc<webhooks::WebhookSettings>,
    /// New events, for subscribers on this instance.
    feed: Arc<events::EventFeed>,
    /// How webhook attempts went on this instance, for `/metrics`.
    webhook_stats: Arc<webhooks::WebhookStats>,
}

impl Services {
    pub fn new(
        db: Db,
        tokens: Arc<TokenAuthority>,
        client_token_ttl: Duration,
        failed_exchanges: FailedExchanges,
        keys: Arc<DataKeys>,
    ) -> Self {
        Self {
            db,
            tokens,
            client_token_ttl,
            failed_exchanges,
            keys,
            webhooks: Arc::default(),
            feed: Arc::default(),
            webhook_stats: Arc::default(),
        }
    }

    pub fn webhook_stats(&self) -> &webhooks::WebhookStats {
        &self.webhook_stats
    }

    /// Whether the database is known to be unreachable now (answers are 503 at once), and how
    /// many times it has been since the start.
    pub fn database_unreachable(&self) -> (bool, u64) {
        let breaker = self.db.breaker();
        (breaker.is_open(), breaker.times_opened())
    }

    pub fn event_feed(&self) -> &events::EventFeed {
        &self.feed
    }

    /// How webhooks are delivered (the defaults refuse internal targets).
    pub fn with_webhooks(mut self, settings: webhooks::WebhookSettings) -> Self {
        self.webhooks = Arc::new(settings);
        self
    }

    pub fn backend(&self) -> Backend {
        self.db.backend()
    }

    pub fn pool_state(&self) -> PoolState {
        self.db.pool_state()
    }

    pub fn tokens(&self) -> &TokenAuthority {
        &self.tokens
    }
}
