//! Prometheus metrics: request counts and latency by route and status, database pool use and
//! reachability, the outbox's backlog of webhook deliveries, and how webhook attempts went.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};

use crate::service::webhooks::{self, Backlog};
use crate::service::Services;

/// The backlog is counted in the database at most this often, however often `/metrics` is
/// scraped (it needs no token, so scraping must not cost the database more than this).
const BACKLOG_EVERY: Duration = Duration::from_secs(10);

pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pool: IntGaugeVec,
    queries: prometheus::IntGauge,
    unreachable: prometheus::IntGauge,
    outages: prometheus::IntGauge,
    backlog_pending: prometheus::IntGauge,
    backlog_overdue: prometheus::Gauge,
    attempts: IntGaugeVec,
    exhausted: prometheus::IntGauge,
    backlog: Mutex<Option<(Instant, Backlog)>>,
}

impl Metrics {
    pub fn new() -> anyhow::Result<Self> {
        let registry = Registry::new_custom(Some("coproduce".to_owned()), None)?;
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests answered"),
            &["method", "route", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time to answer HTTP requests",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
            &["method", "route", "status"],
        )?;
        let pool = IntGaugeVec::new(
            Opts::new("db_pool_connections", "Database pool connections by state"),
            &["state"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        let queries = prometheus::IntGauge::new(
            "db_queries_total",
            "Statements sent to the database since the start",
        )?;
        registry.register(Box::new(pool.clone()))?;
        registry.register(Box::new(queries.clone()))?;
        let unreachable = prometheus::IntGauge::new(
            "db_unreachable",
            "1 while the database cannot be reached (requests are answered 503 at once), else 0",
        )?;
        let outages = prometheus::IntGauge::new(
            "db_unreachable_episodes_total",
            "Times the database became unreachable since the start",
        )?;
        let backlog_pending = prometheus::IntGauge::new(
            "webhook_deliveries_pending",
            "Webhook deliveries waiting for their first or next attempt (the outbox backlog)",
        )?;
        let backlog_overdue = prometheus::Gauge::new(
            "webhook_delivery_oldest_overdue_seconds",
            "How long the most overdue pending delivery has been due",
        )?;
        let attempts = IntGaugeVec::new(
            Opts::new(
                "webhook_attempts_total",
                "Webhook attempts by this instance since the start, by outcome",
            ),
            &["outcome"],
        )?;
        let exhausted = prometheus::IntGauge::new(
            "webhook_deliveries_exhausted_total",
            "Deliveries this instance gave up on after every retry failed",
        )?;
        for metric in [&unreachable, &outages, &backlog_pending, &exhausted] {
            registry.register(Box::new(metric.clone()))?;
        }
        registry.register(Box::new(backlog_overdue.clone()))?;
        registry.register(Box::new(attempts.clone()))?;
        Ok(Self {
            registry,
            requests,
            latency,
            pool,
            queries,
            unreachable,
            outages,
            backlog_pending,
            backlog_overdue,
            attempts,
            exhausted,
            backlog: Mutex::new(None),
        })
    }

    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let status = status.to_string();
        let labels = [method, route, status.as_str()];
        self.requests.with_label_values(&labels).inc();
        self.latency.with_label_values(&labels).observe(seconds);
    }

    /// Reads the webhook backlog from the database, at most every [`BACKLOG_EVERY`]; a failed
    /// read leaves the last figures standing (`db_unreachable` says why).
    pub async fn refresh_backlog(&self, services: &Services) {
        let fresh = self
            .backlog
            .lock()
            .ok()
            .and_then(|b| *b)
            .is_some_and(|(at, _)| at.elapsed() < BACKLOG_EVERY);
        if fresh {
            return;
        }
        if let Ok(backlog) = webhooks::backlog(services).await {
            if let Ok(mut slot) = self.backlog.lock() {
                *slot = Some((Instant::now(), backlog));
            }
            self.backlog_pending.set(backlog.pending);
            self.backlog_overdue.set(backlog.oldest_overdue_secs);
        }
    }

    /// The text exposition, with pool figures read at scrape time.
    pub fn render(&self, services: &Services) -> String {
        use std::sync::atomic::Ordering::Relaxed;
        let (unreachable, outages) = services.database_unreachable();
        self.unreachable.set(i64::from(unreachable));
        self.outages.set(i64::try_from(outages).unwrap_or(i64::MAX));
        let stats = services.webhook_stats();
        for (outcome, n) in [
            ("succeeded", stats.succeeded.load(Relaxed)),
            ("failed", stats.failed.load(Relaxed)),
        ] {
            self.attempts
                .with_label_values(&[outcome])
                .set(i64::try_from(n).unwrap_or(i64::MAX));
        }
        self.exhausted
            .set(i64::try_from(stats.exhausted.load(Relaxed)).unwrap_or(i64::MAX));
        let state = services.pool_state();
        self.pool
            .with_label_values(&["open"])
            .set(i64::from(state.size));
        self.pool
            .with_label_values(&["idle"])
            .set(i64::from(state.idle));
        self.pool
            .with_label_values(&["in_use"])
            .set(i64::from(state.size.saturating_sub(state.idle)));
        self.pool
            .with_label_values(&["max"])
            .set(i64::from(state.max_size));
        self.queries
            .set(i64::try_from(state.queries).unwrap_or(i64::MAX));
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::error!(error = %e, "cannot encode metrics");
        }
        String::from_utf8(out).unwrap_or_default()
    }
}
