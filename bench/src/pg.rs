//! PostgreSQL: the benchmark database, seeding through the service's own db layer, pgbench.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::procs::{log, run_ok, wait_quiet, CpuMonitor};

const DB_NAME: &str = "coproduce_bench";

/// The SELECT diesel runs for `GET /api/v1/organisations?limit=50` (limit + 1 rows, to know
/// whether a next page exists), as captured from PostgreSQL's statement log (BENCHMARKS.md).
pub const LIST_SQL: &str = r#"SELECT "organisations"."id", "organisations"."name", "organisations"."kinds", "organisations"."contact_name", "organisations"."contact_email", "organisations"."contact_phone", "organisations"."default_payment_policy_id", "organisations"."created_at", "organisations"."updated_at", "organisations"."version" FROM "organisations" ORDER BY "organisations"."id" ASC LIMIT :limit"#;

pub fn psql(url: &str, sql: &str) -> Result<String> {
    psql_session(url, &[sql], Duration::from_secs(60))
}

/// Runs the statements one after another in one session (each its own `-c`, so a PREPARE is
/// seen by the EXECUTEs after it and every result is printed), within `limit`.
pub fn psql_session(url: &str, statements: &[&str], limit: Duration) -> Result<String> {
    let mut cmd = Command::new("psql");
    cmd.args([url, "-qAtX", "-v", "ON_ERROR_STOP=1"]);
    for sql in statements {
        cmd.args(["-c", sql]);
    }
    run_ok(&mut cmd, limit)
}

/// A fresh database, dropped (WITH FORCE) on drop unless `BENCH_KEEP_DB` is set (to look at
/// the data afterwards).
pub struct BenchDb {
    admin_url: String,
    pub url: String,
}

impl BenchDb {
    pub fn create(admin_url: &str) -> Result<Self> {
        let host_ok = ["@127.0.0.1:", "@127.0.0.1/", "@localhost:", "@localhost/"]
            .iter()
            .any(|h| admin_url.contains(h));
        if !host_ok {
            bail!("the admin URL must point at 127.0.0.1 (got {admin_url})");
        }
        let base = admin_url
            .rsplit_once('/')
            .map(|(b, _)| b)
            .context("the admin URL names no database")?;
        psql(
            admin_url,
            &format!("DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)"),
        )?;
        psql(admin_url, &format!("CREATE DATABASE {DB_NAME}"))?;
        if let Ok(mut d) = crate::procs::DROP_ON_SIGNAL.lock() {
            *d = Some((
                admin_url.to_owned(),
                format!("DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)"),
            ));
        }
        log(format!("created database {DB_NAME}"));
        Ok(Self {
            admin_url: admin_url.to_owned(),
            url: format!("{base}/{DB_NAME}"),
        })
    }
}

impl Drop for BenchDb {
    fn drop(&mut self) {
        if let Ok(mut d) = crate::procs::DROP_ON_SIGNAL.lock() {
            *d = None;
        }
        if std::env::var_os("BENCH_KEEP_DB").is_some() {
            log(format!("kept database {DB_NAME} (BENCH_KEEP_DB)"));
            return;
        }
        match psql(
            &self.admin_url,
            &format!("DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)"),
        ) {
            Ok(_) => log(format!("dropped database {DB_NAME}")),
            Err(e) => log(format!("cannot drop {DB_NAME}: {e:#}")),
        }
    }
}

/// Migrates the database at `url` (PostgreSQL or SQLite) and inserts `count` organisations
/// through the service's db layer, in one transaction. The only code here that knows the
/// library's storage API.
pub fn seed_organisations(url: &str, count: usize) -> Result<()> {
    use coproduce::db::{migrate_url, organisations, Db, PoolOptions};
    use coproduce::domain::organisation::{Organisation, OrganisationContact, OrganisationKind};

    migrate_url(url)?;
    let db = Db::open(
        url,
        PoolOptions {
            statement_timeout: std::time::Duration::ZERO,
            max_size: 2,
            timeout: Duration::from_secs(30),
            sqlite_busy_timeout: Duration::from_secs(30),
        },
    )?;
    let now = chrono::Utc::now();
    let orgs: Vec<Organisation> = (1..=count)
        .map(|i| Organisation {
            id: coproduce::domain::new_id(),
            name: format!("Bench organisation {i}"),
            kinds: vec![OrganisationKind::Provider],
            contact: OrganisationContact {
                name: Some(format!("Contact {i}")),
                email: Some(format!("office{i}@example.org")),
                phone: None,
            },
            default_payment_policy_id: None,
            created_at: now,
            updated_at: now,
            version: 1,
        })
        .collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime
        .block_on(db.transaction(move |conn| {
            for org in &orgs {
                organisations::insert(conn, org)?;
            }
            Ok(())
        }))
        .map_err(|e| anyhow::anyhow!("seeding failed: {e}"))?;
    log(format!("seeded {count} organisations through the db layer"));
    Ok(())
}

/// Holds SQLite's write lock (BEGIN IMMEDIATE, through the db layer's transaction) for `hold`.
pub fn hold_sqlite_write_lock(url: &str, hold: Duration) -> Result<()> {
    use coproduce::db::{Db, PoolOptions};
    let db = Db::open(
        url,
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
    runtime
        .block_on(db.transaction(move |_conn| {
            std::thread::sleep(hold);
            Ok(())
        }))
        .map_err(|e| anyhow::anyhow!("holding the lock failed: {e}"))
}

pub struct Pgbench {
    pub clients: u32,
    pub tps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub failed: u64,
    pub other_cpu: f64,
}

/// pgbench -M prepared with `sql`: a 3 s warm-up, then `duration` s with a 10 % latency log.
pub fn pgbench(
    dir: &Path,
    url: &str,
    sql: &str,
    clients: u32,
    threads: u32,
    duration: u64,
) -> Result<Pgbench> {
    let script = dir.join("list.sql");
    std::fs::write(&script, format!("\\set limit 51\n{sql};\n"))?;
    let logs = dir.join(format!("pgbench-{clients}"));
    std::fs::create_dir_all(&logs)?;
    let go = |secs: u64, log_latency: bool| {
        let mut cmd = Command::new("pgbench");
        cmd.args(["-n", "-M", "prepared"])
            .arg(format!("-c{clients}"))
            .arg(format!("-j{threads}"))
            .arg(format!("-T{secs}"))
            .arg("-f")
            .arg(&script);
        if log_latency {
            cmd.args(["-l", "--sampling-rate=0.1"])
                .arg(format!("--log-prefix={}", logs.join("log").display()));
        }
        cmd.arg(url);
        run_ok(&mut cmd, Duration::from_secs(secs + 60))
    };
    wait_quiet();
    go(3, false).context("pgbench warm-up")?;
    log(format!(
        "pgbench -c{clients} -j{threads} -T{duration} -M prepared (the list's SELECT)"
    ));
    let cpu = CpuMonitor::start();
    let out = go(duration, true).context("pgbench")?;
    let other_cpu = cpu.finish();
    let field = |prefix: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(prefix))
            .and_then(|r| r.split_whitespace().next())
            .and_then(|n| n.split('/').next())
            .and_then(|n| n.parse::<f64>().ok())
    };
    let tps = field("tps = ").context("pgbench printed no tps")?;
    let failed = field("number of failed transactions: ").unwrap_or(0.0) as u64;
    // Log lines: client transaction latency(us) script epoch us.
    let mut lat: Vec<f64> = Vec::new();
    for entry in std::fs::read_dir(&logs)? {
        let text = std::fs::read_to_string(entry?.path())?;
        lat.extend(
            text.lines()
                .filter_map(|l| l.split_whitespace().nth(2)?.parse::<f64>().ok()),
        );
    }
    lat.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| {
        if lat.is_empty() {
            0.0
        } else {
            lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)] / 1000.0
        }
    };
    let result = Pgbench {
        clients,
        tps,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        failed,
        other_cpu,
    };
    log(format!(
        "  -> {:.0}/s, p50 {:.2} ms, p99 {:.2} ms, {} failed; others took {other_cpu:.0}% CPU",
        result.tps, result.p50_ms, result.p99_ms, result.failed
    ));
    Ok(result)
}
