//! `bench faults`: the service under faults, on 127.0.0.1 only, bounded in time.
//!
//! 1. **PostgreSQL stops under load.** Four clients read and write (sessions with attendance)
//!    while PostgreSQL is stopped for a few seconds and started again. Every answer must be a
//!    success or a 503 with `Retry-After`; once the first 503 is out, every answer while the
//!    database is down must come within 100 ms; after it returns, the service must serve again
//!    without a restart; the process must not exit.
//! 2. **`kill -9` in the middle of writes.** Four clients post sessions with attendance; the
//!    service is killed with SIGKILL while they do. Every session it confirmed must be stored
//!    whole (its attendance, its event, the counts kept beside it), no session may be stored
//!    half-written, and the service must start again on the same database.
//!
//! It stops the machine's PostgreSQL cluster (and starts it again, on error too), so CI runs it
//! after the test suites.

use std::fmt::Write as _;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::json;

use crate::http;
use crate::payroll::{self, Payroll};
use crate::pg::{self, BenchDb};
use crate::procs::{ensure_tool, log, WorkDir};
use crate::server::{self, Server, ServerConfig};
use crate::{Backend, Opts};

const CLIENTS: usize = 4;
const PEOPLE: usize = 6;
/// How long PostgreSQL stays down, and how long the load runs on either side.
const DOWN: Duration = Duration::from_secs(6);
const AROUND: Duration = Duration::from_secs(4);
/// The answer time the issue sets while the database is known to be down.
const FAST: Duration = Duration::from_millis(100);
/// The service must serve again within this of PostgreSQL accepting connections.
const RECOVERY: Duration = Duration::from_secs(10);

/// One answer: when its request was sent (since the run began), how long it took, its status
/// (0: no HTTP answer) and whether it carried `Retry-After`.
#[derive(Debug, Clone, Copy)]
struct Answer {
    sent: Duration,
    took: Duration,
    status: u16,
    retry_after: bool,
}

fn session_body(p: &Payroll, n: usize) -> String {
    let attendance: Vec<serde_json::Value> = p
        .people
        .iter()
        .map(|(id, _)| json!({ "participant_id": id, "minutes": 60, "participation": "participated" }))
        .collect();
    // A distinct start per session, after everyone joined.
    let starts = chrono::DateTime::parse_from_rfc3339("2026-04-01T09:00:00Z")
        .map(|t| t + chrono::Duration::minutes(n as i64))
        .map(|t| t.to_rfc3339())
        .unwrap_or_default();
    json!({ "starts_at": starts, "duration_minutes": 90, "format": "in_person",
            "lived_experience_agenda_slot": true, "attendance": attendance })
    .to_string()
}

/// One request with the staff token; status 0 when no HTTP answer came.
fn send(
    port: u16,
    token: &str,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> (u16, bool, String) {
    let auth = format!("Bearer {token}");
    let mut headers = vec![("Authorization", auth.as_str())];
    if body.is_some() {
        headers.push(("Content-Type", "application/json"));
    }
    match http::request_with_headers(method, port, path, &headers, body) {
        Ok((status, head, body)) => (
            status,
            head.to_ascii_lowercase().contains("\r\nretry-after:"),
            body,
        ),
        Err(_) => (0, false, String::new()),
    }
}

/// Clients reading and posting sessions until `stop`; each answer recorded, and the ids of the
/// sessions confirmed (201).
fn load(
    port: u16,
    p: &Payroll,
    stop: &AtomicBool,
    began: Instant,
    seq: &std::sync::atomic::AtomicUsize,
) -> (Vec<Answer>, Vec<String>) {
    let answers = Mutex::new(Vec::new());
    let confirmed = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for c in 0..CLIENTS {
            let (answers, confirmed) = (&answers, &confirmed);
            s.spawn(move || {
                let mut mine = Vec::new();
                let mut ids = Vec::new();
                let mut i = 0usize;
                while !stop.load(Ordering::Relaxed) {
                    let write = (i + c) % 2 == 0;
                    let sent = began.elapsed();
                    let started = Instant::now();
                    let (status, retry_after, body) = if write {
                        let n = seq.fetch_add(1, Ordering::Relaxed);
                        send(
                            port,
                            &p.staff_token,
                            "POST",
                            &format!("/api/v1/opportunities/{}/sessions", p.work),
                            Some(&session_body(p, n)),
                        )
                    } else {
                        send(
                            port,
                            &p.staff_token,
                            "GET",
                            "/api/v1/opportunities?limit=20",
                            None,
                        )
                    };
                    mine.push(Answer {
                        sent,
                        took: started.elapsed(),
                        status,
                        retry_after,
                    });
                    if write && status == 201 {
                        if let Some(id) = serde_json::from_str::<serde_json::Value>(&body)
                            .ok()
                            .and_then(|v| v["id"].as_str().map(str::to_owned))
                        {
                            ids.push(id);
                        }
                    }
                    i += 1;
                    if status == 0 {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                }
                if let Ok(mut a) = answers.lock() {
                    a.extend(mine);
                }
                if let Ok(mut c) = confirmed.lock() {
                    c.extend(ids);
                }
            });
        }
    });
    (
        answers.into_inner().unwrap_or_default(),
        confirmed.into_inner().unwrap_or_default(),
    )
}

/// The machine's PostgreSQL cluster, stopped and started with pg_ctlcluster.
struct Cluster {
    version: String,
}

impl Cluster {
    fn find() -> Result<Self> {
        let version = std::fs::read_dir("/etc/postgresql")
            .context("no /etc/postgresql: this needs Debian's PostgreSQL cluster")?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .next()
            .context("no cluster under /etc/postgresql")?;
        Ok(Self { version })
    }

    fn ctl(&self, action: &str) -> Result<()> {
        let mut cmd = Command::new("pg_ctlcluster");
        cmd.args(["--skip-systemctl-redirect", &self.version, "main", action]);
        if action == "stop" {
            cmd.args(["--", "-m", "fast"]);
        }
        let out = cmd.output().context("pg_ctlcluster")?;
        if !out.status.success() {
            bail!(
                "pg_ctlcluster {action}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }

    fn accepting() -> bool {
        Command::new("pg_isready")
            .args(["-h", "127.0.0.1", "-p", "5432", "-q"])
            .status()
            .is_ok_and(|s| s.success())
    }

    fn start_and_wait(&self) -> Result<Instant> {
        if !Self::accepting() {
            self.ctl("start")?;
        }
        let started = Instant::now();
        while !Self::accepting() {
            if started.elapsed() > Duration::from_secs(60) {
                bail!("PostgreSQL did not accept connections within 60 s of starting");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(Instant::now())
    }
}

/// Starts PostgreSQL again when dropped, whatever happened.
struct Restart<'a>(&'a Cluster);

impl Drop for Restart<'_> {
    fn drop(&mut self) {
        if let Err(e) = self.0.start_and_wait() {
            log(format!("cannot start PostgreSQL again: {e:#}"));
        }
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

pub fn run(opts: &Opts) -> Result<String> {
    if opts.backend != Backend::Postgres {
        bail!("the faults scenario stops PostgreSQL: it runs on PostgreSQL only");
    }
    ensure_tool("psql", &["postgresql-client"])?;
    let cluster = Cluster::find()?;
    let mut work = WorkDir::new("coproduce-bench-faults")?;
    let dir = work.path.clone();
    let bin = server::binary(opts.server_bin.as_deref(), opts.build_jobs)?;
    let db = BenchDb::create(&opts.pg_admin_url)?;
    let data_dir = dir.join("data");
    let mut env: Vec<(String, String)> = vec![("COPRODUCE_POOL_TIMEOUT_SECS".into(), "5".into())];
    env.extend(opts.server_env.iter().cloned());
    let cfg = ServerConfig::new(opts, &bin, &db.url, &data_dir, &env);
    let mut failures: Vec<String> = Vec::new();
    let mut report = String::from("# Faults\n\n");

    // 1. PostgreSQL stops under load and comes back.
    let mut srv = Server::start(&cfg, "coproduce", &dir)?;
    let p = payroll::setup(&srv, PEOPLE)?;
    let seq = std::sync::atomic::AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let began = Instant::now();
    let marks: Arc<Mutex<(Option<Duration>, Option<Duration>)>> = Arc::default();
    let (answers, _) = std::thread::scope(|s| -> Result<(Vec<Answer>, Vec<String>)> {
        let loader = s.spawn(|| load(srv.port, &p, &stop, began, &seq));
        let outage = (|| -> Result<()> {
            let _restart = Restart(&cluster);
            std::thread::sleep(AROUND);
            log("stopping PostgreSQL");
            if let Ok(mut m) = marks.lock() {
                m.0 = Some(began.elapsed());
            }
            cluster.ctl("stop")?;
            std::thread::sleep(DOWN);
            log("starting PostgreSQL");
            let back = cluster.start_and_wait()?;
            if let Ok(mut m) = marks.lock() {
                m.1 = Some(back - began);
            }
            std::thread::sleep(AROUND);
            Ok(())
        })();
        stop.store(true, Ordering::Relaxed);
        let loaded = loader
            .join()
            .map_err(|_| anyhow::anyhow!("a load thread panicked"))?;
        outage?;
        Ok(loaded)
    })?;
    let (stopped_at, back_at) = match marks.lock().map(|m| *m) {
        Ok((Some(a), Some(b))) => (a, b),
        _ => bail!("the outage's times were not recorded"),
    };
    let unexpected: Vec<&Answer> = answers
        .iter()
        .filter(|a| !(200..300).contains(&a.status) && a.status != 503)
        .collect();
    let no_retry_after = answers
        .iter()
        .filter(|a| a.status == 503 && !a.retry_after)
        .count();
    let first_503 = answers
        .iter()
        .filter(|a| a.status == 503 && a.sent + a.took >= stopped_at)
        .map(|a| a.sent + a.took)
        .min();
    let mut known: Vec<Duration> = match first_503 {
        Some(known_at) => answers
            .iter()
            .filter(|a| a.sent >= known_at && a.sent + a.took <= back_at)
            .map(|a| a.took)
            .collect(),
        None => Vec::new(),
    };
    known.sort();
    let recovered_at = answers
        .iter()
        .filter(|a| (200..300).contains(&a.status) && a.sent >= back_at)
        .map(|a| a.sent)
        .min();
    let after_recovery_failed = recovered_at.map_or(0, |r| {
        answers
            .iter()
            .filter(|a| a.sent >= r + Duration::from_secs(1) && !(200..300).contains(&a.status))
            .count()
    });
    let alive = srv.svc.alive();
    let before = answers.iter().filter(|a| a.sent < stopped_at).count();
    let _ = writeln!(
        report,
        "## PostgreSQL stopped under load\n\n{} requests from {CLIENTS} clients (half of them posting a session with {PEOPLE} attendance rows): {before} before PostgreSQL stopped, {} while it was down ({:.1} s), {} after it returned.\n",
        answers.len(),
        known.len(),
        (back_at - stopped_at).as_secs_f64(),
        answers.iter().filter(|a| a.sent >= back_at).count(),
    );
    let _ = writeln!(
        report,
        "| Figure | Measured | Target | |\n|---|---:|---|---|"
    );
    let know = first_503.map(|k| k.saturating_sub(stopped_at));
    let _ = writeln!(
        report,
        "| First 503 after `pg_ctlcluster stop` began | {} | (the first request to meet the lost connections) | |",
        know.map_or("none".to_owned(), ms)
    );
    let (p50, p99, max) = (
        pct(&known, 0.5),
        pct(&known, 0.99),
        known.last().copied().unwrap_or_default(),
    );
    let fast = !known.is_empty() && max < FAST;
    let _ = writeln!(
        report,
        "| Answers once known down: median / p99 / max | {} / {} / {} | every one under 100 ms | {} |",
        ms(p50),
        ms(p99),
        ms(max),
        if fast { "met" } else { "**missed**" }
    );
    let recovery = recovered_at.map(|r| r.saturating_sub(back_at));
    let recovered = recovery.is_some_and(|r| r < RECOVERY);
    let _ = writeln!(
        report,
        "| Serving again after PostgreSQL accepted connections | {} | under {} s, no restart | {} |",
        recovery.map_or("never".to_owned(), ms),
        RECOVERY.as_secs(),
        if recovered { "met" } else { "**missed**" }
    );
    let _ = writeln!(
        report,
        "| Answers neither 2xx nor 503 / 503 without Retry-After / failures 1 s after recovery | {} / {no_retry_after} / {after_recovery_failed} | 0 / 0 / 0 | {} |",
        unexpected.len(),
        if unexpected.is_empty() && no_retry_after == 0 && after_recovery_failed == 0 { "met" } else { "**missed**" }
    );
    let _ = writeln!(
        report,
        "| The process still running | {alive} | yes | {} |\n",
        if alive { "met" } else { "**missed**" }
    );
    if known.is_empty() {
        failures.push("no answer came while the database was known to be down".into());
    }
    if !fast {
        failures.push(format!("answers while down took up to {}", ms(max)));
    }
    if !recovered {
        failures.push("the service did not serve again in time".into());
    }
    if let Some(a) = unexpected.first() {
        failures.push(format!(
            "{} unexpected answers, the first {a:?}",
            unexpected.len()
        ));
    }
    if no_retry_after > 0 {
        failures.push(format!("{no_retry_after} 503s without Retry-After"));
    }
    if after_recovery_failed > 0 {
        failures.push(format!("{after_recovery_failed} failures after recovery"));
    }
    if !alive {
        failures.push(format!("the service exited:\n{}", srv.svc.tail()));
    }

    // 2. kill -9 while sessions are being written.
    let stop = AtomicBool::new(false);
    let began = Instant::now();
    let (answers, confirmed) = std::thread::scope(|s| {
        let loader = s.spawn(|| load(srv.port, &p, &stop, began, &seq));
        std::thread::sleep(Duration::from_secs(3));
        let killed = Command::new("kill")
            .args(["-9", &srv.svc.pid().to_string()])
            .status();
        std::thread::sleep(Duration::from_millis(300));
        stop.store(true, Ordering::Relaxed);
        let loaded = loader.join().unwrap_or_default();
        (killed, loaded)
    })
    .1;
    let in_flight = answers.iter().filter(|a| a.status == 0).count();
    srv.svc.stop();
    let count = |sql: &str| -> Result<u64> {
        pg::psql(&db.url, sql)?
            .trim()
            .parse()
            .with_context(|| format!("not a count: {sql}"))
    };
    let ids = confirmed
        .iter()
        .map(|id| format!("('{}')", id.replace('\'', "")))
        .collect::<Vec<_>>()
        .join(",");
    let missing = if confirmed.is_empty() {
        0
    } else {
        count(&format!(
            "SELECT count(*) FROM (VALUES {ids}) c(id) WHERE NOT EXISTS (SELECT 1 FROM sessions s WHERE s.id = c.id)"
        ))?
    };
    let sessions = count(&format!(
        "SELECT count(*) FROM sessions WHERE opportunity_id = '{}'",
        p.work
    ))?;
    let partial = count(&format!(
        "SELECT count(*) FROM sessions s WHERE s.opportunity_id = '{}' AND (SELECT count(*) FROM attendance a WHERE a.session_id = s.id) <> {PEOPLE}",
        p.work
    ))?;
    let without_event = count(&format!(
        "SELECT count(*) FROM sessions s WHERE s.opportunity_id = '{}' AND s.id <> '{}' AND NOT EXISTS (SELECT 1 FROM events e WHERE e.event_type = 'session.posted' AND e.data::jsonb->>'session_id' = s.id)",
        p.work, p.session
    ))?;
    let tallies_off = count(
        "SELECT count(*) FROM sessions s LEFT JOIN LATERAL \
         (SELECT count(*) AS present, count(*) FILTER (WHERE a.participation = 'participated') AS participated \
          FROM attendance a JOIN memberships m ON m.id = a.membership_id \
          WHERE a.session_id = s.id AND m.experience <> 'none') t ON true \
         WHERE s.present_with_experience <> t.present OR s.participated_with_experience <> t.participated",
    )?;
    let restarted = Server::start(&cfg, "coproduce-after-kill", &dir);
    let serves: Result<()> = match &restarted {
        // Its own token: each server this program starts signs with a secret of its own.
        Ok(s) => http::request(
            "GET",
            s.port,
            &format!("/api/v1/opportunities/{}/sessions?limit=5", p.work),
            &[("Authorization", &s.bearer())],
            None,
        )
        .and_then(|r| {
            if r.status == 200 {
                Ok(())
            } else {
                bail!(
                    "answered {}: {}",
                    r.status,
                    &r.body[..r.body.len().min(300)]
                )
            }
        }),
        Err(e) => Err(anyhow::anyhow!("{e:#}")),
    };
    let why_not = serves.as_ref().err().map(|e| format!("{e:#}"));
    let serves = serves.is_ok();
    let whole = missing == 0 && partial == 0 && without_event == 0 && tallies_off == 0;
    if confirmed.is_empty() {
        failures
            .push("no session was confirmed before the kill: the check would prove nothing".into());
    }
    let _ = writeln!(
        report,
        "## kill -9 in the middle of writes\n\n{} requests from {CLIENTS} clients over 3 s, then SIGKILL; {in_flight} got no answer (in flight or refused after the kill). {} sessions were confirmed (201); {sessions} sessions of the work are stored.\n",
        answers.len(),
        confirmed.len()
    );
    let _ = writeln!(report, "| Check | Found | Target | |\n|---|---:|---|---|");
    for (what, n) in [
        ("Confirmed sessions not stored", missing),
        (
            &*format!("Stored sessions without exactly {PEOPLE} attendance rows"),
            partial,
        ),
        (
            "Stored sessions without their session.posted event",
            without_event,
        ),
        (
            "Sessions whose kept counts differ from a recount",
            tallies_off,
        ),
    ] {
        let _ = writeln!(
            report,
            "| {what} | {n} | 0 | {} |",
            if n == 0 { "met" } else { "**missed**" }
        );
    }
    let _ = writeln!(
        report,
        "| Starts again on the same database and serves | {serves} | yes | {} |",
        if serves { "met" } else { "**missed**" }
    );
    if !whole {
        failures.push(format!(
            "after kill -9: {missing} confirmed sessions missing, {partial} partial, {without_event} without their event, {tallies_off} with counts off"
        ));
    }
    if !serves {
        failures.push(format!(
            "the service did not serve again after kill -9: {}",
            why_not.unwrap_or_default()
        ));
    }
    drop(restarted);
    work.keep = !failures.is_empty();
    if failures.is_empty() {
        let _ = writeln!(report, "\nPASS faults");
        Ok(report)
    } else {
        println!("{report}");
        bail!("faults: {}", failures.join("; "))
    }
}
