//! Limits on failed client-credential exchanges, per client id and per source address, so
//! nobody can try secrets at speed. Counted in this instance's memory, in fixed windows, with a
//! bounded number of entries: a flood of made-up ids or addresses cannot grow it without end.
//! Behind a load balancer each instance counts its own, so the effective limit is the limit
//! times the number of instances (still far too few tries to guess a 256-bit secret).

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::domain::id::ApiClientId;

/// Most keys each map holds; past it, finished windows are dropped first, then everything.
const MAX_ENTRIES: usize = 50_000;

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    failures: u32,
}

#[derive(Debug)]
struct Counter<K> {
    entries: HashMap<K, Window>,
}

impl<K: Hash + Eq + Copy> Counter<K> {
    fn new() -> Self {
        Self {
            entries: HashMap::new(),
        }
    }

    /// How long until `key` may try again, when it has used up its failures.
    fn blocked_for(&self, key: &K, limit: u32, window: Duration, now: Instant) -> Option<Duration> {
        let w = self.entries.get(key)?;
        let ends = w.started + window;
        (w.failures >= limit && ends > now).then(|| ends - now)
    }

    fn record_failure(&mut self, key: K, window: Duration, now: Instant) {
        if self.entries.len() >= MAX_ENTRIES && !self.entries.contains_key(&key) {
            self.entries.retain(|_, w| w.started + window > now);
            if self.entries.len() >= MAX_ENTRIES {
                tracing::warn!(
                    entries = MAX_ENTRIES,
                    "failed-exchange counters full; starting afresh"
                );
                self.entries.clear();
            }
        }
        let w = self.entries.entry(key).or_insert(Window {
            started: now,
            failures: 0,
        });
        if w.started + window <= now {
            *w = Window {
                started: now,
                failures: 0,
            };
        }
        w.failures = w.failures.saturating_add(1);
    }
}

/// Failed exchanges per client id and per address, shared by the workers of one instance.
#[derive(Debug, Clone)]
pub struct FailedExchanges {
    limit: u32,
    window: Duration,
    state: Arc<Mutex<(Counter<ApiClientId>, Counter<IpAddr>)>>,
}

impl FailedExchanges {
    pub fn new(limit: u32, window: Duration) -> Self {
        Self {
            limit,
            window,
            state: Arc::new(Mutex::new((Counter::new(), Counter::new()))),
        }
    }

    /// `Some(wait)` when the client or the address has failed `limit` times in this window.
    pub fn blocked_for(
        &self,
        client: Option<ApiClientId>,
        address: Option<IpAddr>,
    ) -> Option<Duration> {
        let now = Instant::now();
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let by_client = client.and_then(|c| state.0.blocked_for(&c, self.limit, self.window, now));
        let by_address =
            address.and_then(|a| state.1.blocked_for(&a, self.limit, self.window, now));
        by_client.max(by_address)
    }

    pub fn record_failure(&self, client: Option<ApiClientId>, address: Option<IpAddr>) {
        let now = Instant::now();
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = client {
            state.0.record_failure(c, self.window, now);
        }
        if let Some(a) = address {
            state.1.record_failure(a, self.window, now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_blocks_until_the_window_ends() {
        let mut c = Counter::new();
        let t0 = Instant::now();
        let window = Duration::from_secs(60);
        for _ in 0..3 {
            assert!(c.blocked_for(&1u8, 3, window, t0).is_none());
            c.record_failure(1u8, window, t0);
        }
        assert!(c.blocked_for(&1u8, 3, window, t0).is_some());
        assert!(
            c.blocked_for(&2u8, 3, window, t0).is_none(),
            "others are not blocked"
        );
        assert!(c.blocked_for(&1u8, 3, window, t0 + window).is_none());
        c.record_failure(1u8, window, t0 + window);
        assert!(
            c.blocked_for(&1u8, 3, window, t0 + window).is_none(),
            "a new window"
        );
    }

    #[test]
    fn made_up_keys_cannot_grow_the_counters_without_end() {
        let mut c = Counter::new();
        let now = Instant::now();
        for i in 0..(MAX_ENTRIES as u32 + 10) {
            c.record_failure(i, Duration::from_secs(60), now);
        }
        assert!(c.entries.len() <= MAX_ENTRIES);
    }
}
