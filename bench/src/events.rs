//! Events and their webhooks on PostgreSQL: writers in this process record events at a fixed
//! rate through the service's db layer (each event queues a delivery in the same transaction),
//! the server's deliverer (on one or more instances) posts them to a receiver in this process,
//! and the report gives the outbox lag (commit to first receipt), what was lost, what came
//! twice and whether the signatures verify.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::json;

use coproduce::db::{Db, PoolOptions};
use coproduce::domain::event::{EventType, NewEvent};
use coproduce::domain::id::OrganisationId;

use crate::group::id_of;
use crate::http::post_json;
use crate::pg::{self, BenchDb};
use crate::procs::{ensure_tool, loadavg, log, wait_quiet, CpuMonitor, RssSampler, WorkDir};
use crate::receiver::{Receiver, Seen};
use crate::server::{self, Server, ServerConfig};
use crate::{verdict, Backend, Opts};

const TARGET: &str = "1,000 events a second written for 60 s on PostgreSQL while a receiver acknowledges; outbox lag p99 under 2 s, none lost, none delivered twice";
pub const TARGET_RATE: f64 = 1000.0;
pub const TARGET_SECS: u64 = 60;
pub const TARGET_P99_S: f64 = 2.0;
/// The writers must reach this share of --rate to count as "at" that rate.
pub const RATE_SHARE: f64 = 0.98;
/// Events written in one transaction.
pub const PER_TX: usize = 10;
/// How long the deliveries may take to drain after the writing stops.
pub const DRAIN: Duration = Duration::from_secs(30);
/// Further wait once every event arrived, for late second deliveries.
pub const SETTLE: Duration = Duration::from_secs(2);
/// The deliverer's poll (COPRODUCE_WEBHOOK_POLL_MS).
pub const POLL_MS: u64 = 100;
/// Events written (one transaction) and awaited before the measured run.
pub const WARMUP_EVENTS: usize = 20;
pub const EVENT_TYPE: EventType = EventType::OpportunityAdvertised;
pub const PENDING_SQL: &str = "SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'";

/// The nearest-rank percentile of sorted values.
pub fn pct(sorted: &[f64], p: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let rank = ((p * n as f64).ceil() as usize).clamp(1, n);
    Some(sorted[rank - 1])
}

/// Seconds with three decimals; "never" for an event that did not arrive (infinity).
fn secs(v: Option<f64>) -> String {
    match v {
        Some(v) if v.is_finite() => format!("{v:.3}"),
        Some(_) => "never".to_owned(),
        None => "-".to_owned(),
    }
}

/// Events a writer thread writes: the total split as evenly as can be, the first ones taking
/// the remainder.
pub fn share(total: usize, writers: usize, w: usize) -> usize {
    total / writers + usize::from(w < total % writers)
}

/// What one writer thread did.
#[derive(Default)]
struct Written {
    /// Each event's id and when its transaction's commit returned.
    ids: Vec<(String, Instant)>,
    /// Each transaction's time, BEGIN to COMMIT returned, in ms.
    tx_ms: Vec<f64>,
    failed_tx: u64,
    first_error: Option<String>,
    /// Transactions that started more than one interval late (the writer fell behind).
    late_tx: u64,
}

struct Plan {
    url: String,
    org: OrganisationId,
    writer: usize,
    events: usize,
    /// Between this writer's transactions.
    interval: Duration,
    /// The schedule's zero, and this writer's offset from it.
    start: Instant,
    phase: Duration,
}

/// Writes `plan.events` events, PER_TX a transaction, each transaction on the clock's schedule
/// (a late one goes at once, so the rate is made up when the writer can).
fn write(plan: Plan, committed: &AtomicU64) -> Result<Written> {
    let db = Db::open(
        &plan.url,
        PoolOptions {
            statement_timeout: std::time::Duration::ZERO,
            max_size: 1,
            timeout: Duration::from_secs(30),
            sqlite_busy_timeout: Duration::from_secs(30),
        },
    )?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut out = Written {
        ids: Vec::with_capacity(plan.events),
        ..Written::default()
    };
    let (mut done, mut k) = (0usize, 0u32);
    while done < plan.events {
        let due = plan.start + plan.phase + plan.interval * k;
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        } else if now - due > plan.interval {
            out.late_tx += 1;
        }
        let n = PER_TX.min(plan.events - done);
        let (org, writer, base) = (plan.org, plan.writer, done);
        let began = Instant::now();
        let result = runtime.block_on(db.transaction(move |conn| {
            (0..n)
                .map(|i| {
                    let event = NewEvent::new(EVENT_TYPE, org).with_data(json!({
                        "bench": "events",
                        "writer": writer,
                        "seq": base + i,
                    }));
                    coproduce::service::events::record(conn, event).map(|e| e.id.to_string())
                })
                .collect::<Result<Vec<String>, _>>()
        }));
        let at = Instant::now();
        match result {
            Ok(ids) => {
                out.tx_ms.push((at - began).as_secs_f64() * 1000.0);
                out.ids.extend(ids.into_iter().map(|id| (id, at)));
                committed.fetch_add(n as u64, Ordering::Relaxed);
            }
            Err(e) => {
                out.failed_tx += 1;
                out.first_error.get_or_insert_with(|| e.to_string());
                if out.failed_tx > 50 {
                    bail!(
                        "writer {writer}: more than 50 transactions failed; the first: {}",
                        out.first_error.as_deref().unwrap_or("")
                    );
                }
            }
        }
        done += n;
        k += 1;
    }
    Ok(out)
}

/// One sample of the backlog: seconds since the writing began, events committed, deliveries
/// received (every POST), pending deliveries in the outbox (SQL; `None` when psql failed).
type Sample = (f64, u64, u64, Option<u64>);

fn count(url: &str, sql: &str) -> Result<u64> {
    pg::psql(url, sql)?
        .trim()
        .parse()
        .with_context(|| format!("not a count: {sql}"))
}

/// What the measured run delivered, from the receiver's records and the writers'.
#[derive(Debug, Default, PartialEq)]
pub struct Outcome {
    pub written: usize,
    /// Requests for the measured events, and the distinct events among them.
    pub receipts: usize,
    pub distinct: usize,
    pub lost: usize,
    pub twice: usize,
    /// Events delivered more than once, and most deliveries of one event.
    pub events_twice: usize,
    pub most: usize,
    /// Requests for events neither the warm-up nor the run wrote.
    pub unknown: usize,
    /// First receipt less commit, in s, over the delivered events, sorted.
    pub lags: Vec<f64>,
    /// The same over every event written, those never delivered as infinity.
    pub lags_all: Vec<f64>,
    /// Seconds from the first commit to the last first receipt.
    pub last_arrival: f64,
}

/// Matches receipts to the events written: `written` (id, commit time), `warmup` ids to leave
/// out, `receipts` (id, time) in order of arrival.
pub fn outcome(
    written: &[(String, Instant)],
    warmup: &[String],
    receipts: &[(String, Instant)],
) -> Outcome {
    let mut first: HashMap<&str, (Instant, usize)> = HashMap::with_capacity(written.len());
    let index: HashMap<&str, Instant> = written.iter().map(|(id, t)| (id.as_str(), *t)).collect();
    let mut o = Outcome {
        written: written.len(),
        ..Outcome::default()
    };
    for (id, at) in receipts {
        if index.contains_key(id.as_str()) {
            o.receipts += 1;
            first
                .entry(id.as_str())
                .and_modify(|(_, n)| *n += 1)
                .or_insert((*at, 1));
        } else if !warmup.contains(id) {
            o.unknown += 1;
        }
    }
    o.distinct = first.len();
    o.lost = o.written - o.distinct;
    o.twice = o.receipts - o.distinct;
    o.events_twice = first.values().filter(|(_, n)| *n > 1).count();
    o.most = first.values().map(|(_, n)| *n).max().unwrap_or(0);
    let signed = |later: Instant, earlier: Instant| {
        if later >= earlier {
            (later - earlier).as_secs_f64()
        } else {
            -(earlier - later).as_secs_f64()
        }
    };
    for (id, committed) in written {
        match first.get(id.as_str()) {
            Some((at, _)) => {
                let lag = signed(*at, *committed);
                o.lags.push(lag);
                o.lags_all.push(lag);
            }
            None => o.lags_all.push(f64::INFINITY),
        }
    }
    o.lags.sort_by(f64::total_cmp);
    o.lags_all.sort_by(f64::total_cmp);
    if let Some(start) = written.iter().map(|(_, t)| *t).min() {
        o.last_arrival = first
            .values()
            .map(|(at, _)| signed(*at, start))
            .fold(0.0, f64::max);
    }
    o
}

/// The outbox as the servers left it.
struct DbView {
    by_status: String,
    attempts: u64,
    failed_attempts: u64,
    errors: String,
    succeeded_twice: u64,
    server_lag: String,
    /// webhook_deliveries in pg_stat_user_tables: sequential scans, rows they read, index scans.
    scans: String,
}

fn db_view(url: &str) -> Result<DbView> {
    let rows = |sql: &str| -> Result<String> {
        Ok(pg::psql(url, sql)?
            .lines()
            .map(|l| l.replace('|', ": "))
            .collect::<Vec<_>>()
            .join(", "))
    };
    Ok(DbView {
        by_status: rows(
            "SELECT status, count(*) FROM webhook_deliveries GROUP BY status ORDER BY status",
        )?,
        attempts: count(url, "SELECT count(*) FROM webhook_attempts")?,
        failed_attempts: count(
            url,
            "SELECT count(*) FROM webhook_attempts WHERE NOT succeeded",
        )?,
        errors: rows("SELECT left(coalesce(error, status_code::text, '?'), 120), count(*) FROM webhook_attempts WHERE NOT succeeded GROUP BY 1 ORDER BY 2 DESC LIMIT 3")?,
        succeeded_twice: count(
            url,
            "SELECT count(*) FROM (SELECT delivery_id FROM webhook_attempts WHERE succeeded GROUP BY delivery_id HAVING count(*) > 1) d",
        )?,
        server_lag: rows(
            "SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY s)::numeric, 3) || ' / ' || round(percentile_cont(0.99) WITHIN GROUP (ORDER BY s)::numeric, 3) || ' / ' || round(max(s)::numeric, 3) FROM (SELECT extract(epoch FROM delivered_at - created_at) AS s FROM webhook_deliveries WHERE delivered_at IS NOT NULL) d",
        )?,
        scans: rows(
            "SELECT seq_scan || ' sequential scans reading ' || seq_tup_read || ' rows; ' || coalesce(idx_scan, 0) || ' index scans' FROM pg_stat_user_tables WHERE relname = 'webhook_deliveries'",
        )?,
    })
}

/// Warnings and errors in a server's JSON log: how many, and the first.
fn log_problems(path: &std::path::Path) -> (usize, Option<String>) {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let bad: Vec<&str> = text
        .lines()
        .filter(|l| l.contains(r#""level":"WARN""#) || l.contains(r#""level":"ERROR""#))
        .collect();
    (
        bad.len(),
        bad.first().map(|l| l.chars().take(300).collect()),
    )
}

pub fn run(opts: &Opts) -> Result<String> {
    if opts.backend != Backend::Postgres {
        bail!("the events scenario runs on PostgreSQL only (the target is PostgreSQL's)");
    }
    let rate = opts.rate.unwrap_or(TARGET_RATE);
    if rate <= 0.0 {
        bail!("--rate must be above 0");
    }
    if !(1..=4).contains(&opts.instances) || !(1..=8).contains(&opts.writers) {
        bail!("--instances must be 1 to 4 and --writers 1 to 8");
    }
    ensure_tool("psql", &["postgresql-client"])?;
    let mut work = WorkDir::new("coproduce-bench-events")?;
    let dir = work.path.clone();
    let bin = server::binary(opts.server_bin.as_deref(), opts.build_jobs)?;
    let built = std::fs::metadata(&bin)
        .and_then(|m| m.modified())
        .map(|t| {
            chrono::DateTime::<chrono::Utc>::from(t)
                .format("%Y-%m-%dT%H:%M:%SZ")
                .to_string()
        })
        .unwrap_or_else(|_| "?".to_owned());
    let load_before = loadavg();

    let db = BenchDb::create(&opts.pg_admin_url)?;
    let data_dir = dir.join("data");
    let mut env: Vec<(String, String)> = vec![
        ("COPRODUCE_WEBHOOK_ALLOW_INTERNAL".into(), "true".into()),
        ("COPRODUCE_WEBHOOK_POLL_MS".into(), POLL_MS.to_string()),
    ];
    // After ours, so that --server-env can override them.
    env.extend(opts.server_env.iter().cloned());
    let cfg = ServerConfig::new(opts, &bin, &db.url, &data_dir, &env);
    // The first server migrates the fresh database as it starts.
    let mut servers = vec![Server::start(&cfg, "coproduce", &dir)?];

    // The organisation, and its endpoint pointing at our receiver.
    let srv = &servers[0];
    let org_text = id_of(
        &post_json(
            srv.port,
            &srv.token,
            "/api/v1/organisations",
            &json!({ "name": "Bench provider", "kinds": ["provider"] }),
            201,
        )?,
        "organisation",
    )?;
    let org: OrganisationId = org_text.parse().context("the organisation's id")?;
    let staff = srv.mint(&[
        "--role",
        "provider",
        "--org",
        &org_text,
        "--sub",
        "bench-staff",
    ])?;
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let hook_url = format!("http://127.0.0.1:{}/hook", listener.local_addr()?.port());
    let registered = post_json(
        srv.port,
        &staff,
        "/api/v1/webhooks",
        &json!({ "url": hook_url, "event_types": [EVENT_TYPE.as_str()] }),
        201,
    )?;
    let secret = registered["secret"]
        .as_str()
        .with_context(|| format!("no secret in {registered}"))?;
    let key = coproduce::domain::webhook::secret_key(secret)
        .with_context(|| format!("a malformed secret: {secret}"))?;
    let receiver = Receiver::start(listener, key)?;
    log(format!(
        "endpoint {} registered for {hook_url}",
        registered["endpoint"]["id"]
    ));
    for i in 2..=opts.instances {
        servers.push(Server::start(&cfg, &format!("coproduce-{i}"), &dir)?);
    }

    // Warm-up: a few events, which must arrive before measuring.
    let written = AtomicU64::new(0);
    let warm = write(
        Plan {
            url: db.url.clone(),
            org,
            writer: 99,
            events: WARMUP_EVENTS,
            interval: Duration::from_millis(10),
            start: Instant::now(),
            phase: Duration::ZERO,
        },
        &written,
    )?;
    let warm_ids: Vec<String> = warm.ids.iter().map(|(id, _)| id.clone()).collect();
    let warm_start = Instant::now();
    while receiver.received() < WARMUP_EVENTS as u64 {
        if warm_start.elapsed() > Duration::from_secs(20) {
            bail!(
                "only {} of {WARMUP_EVENTS} warm-up events arrived within 20 s:\n{}",
                receiver.received(),
                servers[0].svc.tail()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    log(format!(
        "warm-up: {WARMUP_EVENTS} events delivered in {:.2} s",
        warm_start.elapsed().as_secs_f64()
    ));
    let (warm_receipts, warm_distinct) = (receiver.received(), receiver.distinct());

    // The measured run.
    wait_quiet();
    let total = (rate * opts.duration as f64).round() as usize;
    let writers = opts.writers.min(total.max(1));
    let interval = Duration::from_secs_f64(PER_TX as f64 * writers as f64 / rate);
    log(format!(
        "writing {total} events at {rate:.0}/s for {} s: {writers} writers, {PER_TX} a transaction, one every {:.1} ms each; {} server(s) delivering",
        opts.duration,
        interval.as_secs_f64() * 1000.0,
        servers.len()
    ));
    let rss: Vec<RssSampler> = servers
        .iter()
        .map(|s| RssSampler::start(s.svc.pid()))
        .collect();
    let cpu = CpuMonitor::start();
    let written = Arc::new(AtomicU64::new(0));
    let stop_sampling = AtomicBool::new(false);
    let start = Instant::now() + Duration::from_millis(50);
    let (results, samples) = std::thread::scope(|s| {
        let sampler = s.spawn(|| {
            let mut out: Vec<Sample> = Vec::new();
            let mut tick = 1u32;
            while !stop_sampling.load(Ordering::Relaxed) {
                let due = start + Duration::from_secs(1) * tick;
                let now = Instant::now();
                if due > now {
                    std::thread::sleep((due - now).min(Duration::from_millis(100)));
                    continue;
                }
                out.push((
                    (now - start).as_secs_f64(),
                    written.load(Ordering::Relaxed),
                    receiver.received() - warm_receipts,
                    count(&db.url, PENDING_SQL).ok(),
                ));
                tick += 1;
            }
            out
        });
        let handles: Vec<_> = (0..writers)
            .map(|w| {
                let plan = Plan {
                    url: db.url.clone(),
                    org,
                    writer: w,
                    events: share(total, writers, w),
                    interval,
                    start,
                    phase: interval.mul_f64(w as f64 / writers as f64),
                };
                let written = written.clone();
                s.spawn(move || write(plan, &written))
            })
            .collect();
        let results: Vec<Result<Written>> = handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a writer panicked")))
            })
            .collect();
        let wrote_until = Instant::now();
        let committed = written.load(Ordering::Relaxed);
        log(format!(
            "wrote {committed} events in {:.1} s; waiting up to {} s for the deliveries",
            (wrote_until - start).as_secs_f64(),
            DRAIN.as_secs()
        ));
        // Drain: until every event written arrived (by distinct ids; matched exactly below),
        // then a little longer for late repeats.
        while receiver.distinct() - warm_distinct < committed && wrote_until.elapsed() < DRAIN {
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(SETTLE);
        stop_sampling.store(true, Ordering::Relaxed);
        (results, sampler.join().unwrap_or_default())
    });
    let other_cpu = cpu.finish();
    let mut w = Written::default();
    for r in results {
        let r = r?;
        w.ids.extend(r.ids);
        w.tx_ms.extend(r.tx_ms);
        w.failed_tx += r.failed_tx;
        w.late_tx += r.late_tx;
        if w.first_error.is_none() {
            w.first_error = r.first_error;
        }
    }
    for (i, s) in servers.iter_mut().enumerate() {
        if !s.svc.alive() {
            bail!("server {} died during the run:\n{}", i + 1, s.svc.tail());
        }
    }
    let peak_rss: Vec<f64> = rss.into_iter().map(RssSampler::finish).collect();
    // The servers stop first, so the receiver misses nothing they send and the outbox is still
    // when it is read.
    for s in &mut servers {
        s.svc.stop();
    }
    let seen: Seen = receiver.finish();
    let view = db_view(&db.url)?;
    let pending_end = count(&db.url, PENDING_SQL)?;
    let problems: Vec<(usize, Option<String>)> =
        servers.iter().map(|s| log_problems(&s.svc.log)).collect();
    drop(db);

    let o = outcome(&w.ids, &warm_ids, &seen.receipts);
    let last_commit = w.ids.iter().map(|(_, t)| *t).max();
    let window = last_commit
        .map_or(0.0, |t| t.saturating_duration_since(start).as_secs_f64())
        .max(opts.duration as f64);
    let achieved = o.written as f64 / window;
    let mut tx_ms = w.tx_ms.clone();
    tx_ms.sort_by(f64::total_cmp);

    // The report.
    let settings: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut r = format!(
        "# Coproduce benchmark: events and webhook deliveries\n\n- Date: {}\n- Revision: {}; server binary {} modified {built}\n- Machine: {} cores; writers, receiver, server(s) and PostgreSQL share them; load average at the start {load_before}, after {}\n- Load: {writers} writer thread(s) in the bench process record {rate:.0} events/s (`{}`) for {} s through `coproduce::db::Db::transaction` and `service::events::record`, {PER_TX} a transaction (each writer one every {:.1} ms, on the clock), after a warm-up of {WARMUP_EVENTS}; the endpoint wants that type; {} server instance(s) on the same database deliver to a receiver in the bench process (HTTP/1.1, keep-alive, answers 200); after the writing, up to {} s for the deliveries to drain, then {} s more\n- Server: RUST_LOG={}, logs to a file, {}\n- Command: `cargo run --release -p coproduce-bench -- {}`\n\n",
        chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ"),
        crate::revision(),
        bin.display(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        loadavg(),
        EVENT_TYPE.as_str(),
        opts.duration,
        interval.as_secs_f64() * 1000.0,
        servers.len(),
        DRAIN.as_secs(),
        SETTLE.as_secs(),
        opts.log_level,
        settings.join(" "),
        std::env::args().skip(1).collect::<Vec<_>>().join(" "),
    );
    r.push_str("| Writing | Value |\n|---|---:|\n");
    r.push_str(&format!("| Events written (committed) | {} |\n", o.written));
    r.push_str(&format!(
        "| Rate achieved (events / max(last commit, {} s)) | {achieved:.1}/s |\n",
        opts.duration
    ));
    r.push_str(&format!(
        "| Last commit after the start | {:.2} s |\n",
        last_commit.map_or(0.0, |t| t.saturating_duration_since(start).as_secs_f64())
    ));
    r.push_str(&format!(
        "| Transactions: committed, failed, started more than one interval late | {}, {}, {} |\n",
        tx_ms.len(),
        w.failed_tx,
        w.late_tx
    ));
    r.push_str(&format!(
        "| Transaction time p50 / p99 / max ({PER_TX} events) | {:.2} / {:.2} / {:.2} ms |\n",
        pct(&tx_ms, 0.5).unwrap_or(0.0),
        pct(&tx_ms, 0.99).unwrap_or(0.0),
        tx_ms.last().copied().unwrap_or(0.0)
    ));
    if let Some(e) = &w.first_error {
        r.push_str(&format!("| First failed transaction | {e} |\n"));
    }

    r.push_str("\n| Deliveries | Value |\n|---|---:|\n");
    r.push_str(&format!(
        "| Requests received for the run's events | {} |\n",
        o.receipts
    ));
    r.push_str(&format!(
        "| Events delivered (distinct) | {} |\n",
        o.distinct
    ));
    r.push_str(&format!(
        "| Lost (written, never received); of them still pending in the outbox when the servers stopped | {}; {} |\n",
        o.lost,
        pending_end.min(o.lost as u64)
    ));
    r.push_str(&format!(
        "| Delivered twice (requests less distinct events); events concerned; most deliveries of one | {}; {}; {} |\n",
        o.twice, o.events_twice, o.most
    ));
    r.push_str(&format!(
        "| Invalid signatures (every delivery checked: {} incl. warm-up) | {} |\n",
        seen.checked, seen.invalid
    ));
    if !seen.invalid_examples.is_empty() {
        r.push_str(&format!(
            "| First invalid | {} |\n",
            seen.invalid_examples.join("; ")
        ));
    }
    r.push_str(&format!(
        "| Requests for unknown events; unreadable; without webhook-id | {}; {}; {} |\n",
        o.unknown, seen.malformed, seen.without_id
    ));
    r.push_str(&format!(
        "| Connections the receiver accepted | {} |\n",
        seen.connections
    ));
    r.push_str(&format!(
        "| Last first receipt after the first commit | {:.2} s |\n",
        o.last_arrival
    ));

    r.push_str("\n| Outbox lag, commit to first receipt (s) | p50 | p90 | p99 | max |\n|---|---:|---:|---:|---:|\n");
    for (what, v) in [
        ("events delivered", &o.lags),
        ("every event written (not received = never)", &o.lags_all),
    ] {
        r.push_str(&format!(
            "| {what} | {} | {} | {} | {} |\n",
            secs(pct(v, 0.5)),
            secs(pct(v, 0.9)),
            secs(pct(v, 0.99)),
            secs(v.last().copied())
        ));
    }

    r.push_str("\nThe backlog, sampled each second (events committed, deliveries received and received per s since the row before, deliveries pending in the outbox; pending counts those being tried too):\n\n| s | Committed | Received | Received/s | Pending |\n|---:|---:|---:|---:|---:|\n");
    let step = samples.len().div_ceil(30).max(1);
    let mut before = (0.0, 0u64);
    for (i, (t, c, rcv, p)) in samples.iter().enumerate() {
        if i % step == 0 || i + 1 == samples.len() {
            let per_s = (rcv - before.1) as f64 / (t - before.0).max(1e-3);
            r.push_str(&format!(
                "| {t:.0} | {c} | {rcv} | {per_s:.0} | {} |\n",
                p.map_or("?".to_owned(), |p| p.to_string())
            ));
            before = (*t, *rcv);
        }
    }
    let peak_pending = samples.iter().filter_map(|s| s.3).max().unwrap_or(0);

    r.push_str("\n| The servers' view | Value |\n|---|---:|\n");
    r.push_str(&format!(
        "| Deliveries by status at the end | {} |\n",
        view.by_status
    ));
    r.push_str(&format!(
        "| Pending at the end; most pending in a sample | {pending_end}; {peak_pending} |\n"
    ));
    r.push_str(&format!(
        "| Attempts recorded; failed | {}; {} |\n",
        view.attempts, view.failed_attempts
    ));
    if !view.errors.is_empty() {
        r.push_str(&format!(
            "| Failed attempts, commonest | {} |\n",
            view.errors
        ));
    }
    r.push_str(&format!(
        "| Deliveries with more than one successful attempt | {} |\n",
        view.succeeded_twice
    ));
    r.push_str(&format!(
        "| delivered_at - created_at p50 / p99 / max (s; created_at is the event's time, before its commit) | {} |\n",
        view.server_lag
    ));
    r.push_str(&format!(
        "| webhook_deliveries over the whole run (pg_stat_user_tables; the sampler's count each second included) | {} |\n",
        view.scans
    ));
    for (i, ((n, first), rss)) in problems.iter().zip(&peak_rss).enumerate() {
        r.push_str(&format!(
            "| Server {}: peak RSS (VmRSS every 200 ms, VmHWM); warnings and errors logged | {rss:.1} MB; {n}{} |\n",
            i + 1,
            first
                .as_ref()
                .map_or(String::new(), |f| format!(" (first: `{}`)", f.replace('|', "/")))
        ));
    }
    r.push_str(&format!(
        "| Others' CPU during the run (processes not started here, % of all cores) | {other_cpu:.0} % |\n"
    ));

    let reached = achieved >= rate * RATE_SHARE && w.failed_tx == 0;
    let p99 = pct(&o.lags_all, 0.99).unwrap_or(f64::INFINITY);
    let fast = p99 < TARGET_P99_S;
    let none_lost = o.lost == 0;
    let none_twice = o.twice == 0;
    let signed = seen.invalid == 0 && seen.checked > 0;
    r.push_str("\n| Figure | Value | Target | |\n|---|---:|---|---|\n");
    r.push_str(&format!(
        "| Write rate achieved | {achieved:.1}/s | {rate:.0}/s (at least {:.0} %), no failed transaction | {} |\n",
        RATE_SHARE * 100.0,
        verdict(reached)
    ));
    r.push_str(&format!(
        "| Outbox lag p99 (every event written) | {} s | < {TARGET_P99_S:.0} s | {} |\n",
        secs(Some(p99)),
        verdict(fast)
    ));
    r.push_str(&format!(
        "| Lost | {} | 0 | {} |\n",
        o.lost,
        verdict(none_lost)
    ));
    r.push_str(&format!(
        "| Delivered twice | {} | 0 | {} |\n",
        o.twice,
        verdict(none_twice)
    ));
    r.push_str(&format!(
        "| Invalid signatures | {} of {} | 0 | {} |\n",
        seen.invalid,
        seen.checked,
        verdict(signed)
    ));
    let met = reached && fast && none_lost && none_twice && signed;
    let as_target = rate == TARGET_RATE && opts.duration == TARGET_SECS;
    r.push_str(&format!("\nTarget: {TARGET}: "));
    if as_target {
        r.push_str(&format!(
            "{} ({} instance(s))\n",
            verdict(met),
            servers.len()
        ));
    } else {
        r.push_str(&format!(
            "not judged: this run wrote {rate:.0}/s for {} s (it would be {})\n",
            opts.duration,
            verdict(met)
        ));
    }
    work.keep = false;
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(pct(&v, 0.5), Some(50.0));
        assert_eq!(pct(&v, 0.99), Some(99.0));
        assert_eq!(pct(&v, 1.0), Some(100.0));
        assert_eq!(pct(&[7.0], 0.99), Some(7.0));
        assert_eq!(pct(&[], 0.5), None);
        assert_eq!(secs(Some(f64::INFINITY)), "never");
        assert_eq!(secs(Some(1.23456)), "1.235");
    }

    #[test]
    fn the_events_are_shared_out_to_the_last_one() {
        assert_eq!(share(60_000, 2, 0) + share(60_000, 2, 1), 60_000);
        assert_eq!((share(7, 2, 0), share(7, 2, 1)), (4, 3));
        assert_eq!(share(5, 1, 0), 5);
    }

    #[test]
    fn receipts_are_matched_to_the_events_written() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let written = vec![
            ("a".to_owned(), at(0)),
            ("b".to_owned(), at(10)),
            ("c".to_owned(), at(20)),
            ("d".to_owned(), at(30)),
        ];
        let receipts = vec![
            ("w".to_owned(), at(5)),
            ("a".to_owned(), at(100)),
            ("b".to_owned(), at(510)),
            ("a".to_owned(), at(120)),
            ("a".to_owned(), at(130)),
            ("c".to_owned(), at(1020)),
            ("x".to_owned(), at(1100)),
        ];
        let o = outcome(&written, &["w".to_owned()], &receipts);
        assert_eq!(o.written, 4);
        assert_eq!((o.receipts, o.distinct), (5, 3));
        assert_eq!((o.lost, o.twice, o.events_twice, o.most), (1, 2, 1, 3));
        assert_eq!(o.unknown, 1);
        let rounded: Vec<f64> = o.lags.iter().map(|l| (l * 1000.0).round()).collect();
        assert_eq!(rounded, [100.0, 500.0, 1000.0]);
        assert_eq!(o.lags_all.len(), 4);
        assert!(o.lags_all[3].is_infinite());
        assert_eq!(pct(&o.lags_all, 0.99), Some(f64::INFINITY));
        assert!((o.last_arrival - 1.02).abs() < 1e-9);
    }
}
