//! Hardening, on SQLite: memory under a flood of wrong credentials, and reads (plus writes)
//! while another process holds the database's write lock.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::pg;
use crate::procs::{log, status_kb, wait_quiet, RssSampler, WorkDir};
use crate::server::{self, Server, ServerConfig};
use crate::wrk::{Load, Script, Wrk};
use crate::{header, http, verdict, Opts};

/// Wrong secrets for the real client id and random UUIDs, alternately.
const WRONG_EXCHANGE: &str = r#"
local real_id, count = nil, 0
function init(args)
  real_id = args[1]
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)"), 16) % 100000)
end
local function random_uuid()
  return string.format("%08x-%04x-4%03x-%04x-%06x%06x", math.random(0, 0xffffffff),
    math.random(0, 0xffff), math.random(0, 0xfff), 0x8000 + math.random(0, 0x3fff),
    math.random(0, 0xffffff), math.random(0, 0xffffff))
end
function request()
  count = count + 1
  local id = real_id
  if count % 2 == 0 then id = random_uuid() end
  return wrk.format("POST", "/api/v1/token", wrk.headers,
    "grant_type=client_credentials&client_id=" .. id .. "&client_secret=wrong")
end
"#;

fn mb(kb: Option<u64>) -> f64 {
    kb.unwrap_or(0) as f64 / 1024.0
}

fn post_json(srv: &Server, path: &str, body: &str) -> Result<http::Response> {
    let bearer = srv.bearer();
    http::request(
        "POST",
        srv.port,
        path,
        &[
            ("Authorization", &bearer),
            ("Content-Type", "application/json"),
        ],
        Some(body),
    )
}

/// One organisation and one API client; checks that the right secret is exchanged.
fn api_client(srv: &Server) -> Result<String> {
    let org = post_json(
        srv,
        "/api/v1/organisations",
        r#"{"name":"Bench","kinds":["provider"]}"#,
    )?
    .json()?;
    let org_id = org["id"].as_str().context("no organisation id")?;
    let made = post_json(
        srv,
        "/api/v1/api-clients",
        &serde_json::json!({ "organisation_id": org_id, "name": "bench" }).to_string(),
    )?
    .json()?;
    let id = made
        .pointer("/client/id")
        .and_then(|v| v.as_str())
        .with_context(|| format!("no API client: {made}"))?;
    let secret = made["client_secret"].as_str().context("no client secret")?;
    let form = format!("grant_type=client_credentials&client_id={id}&client_secret={secret}");
    let ok = http::request(
        "POST",
        srv.port,
        "/api/v1/token",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        Some(&form),
    )?;
    if ok.status != 200 {
        bail!("the right secret was refused ({}): {}", ok.status, ok.body);
    }
    Ok(id.to_owned())
}

struct MemRow {
    what: &'static str,
    load: Load,
    before: f64,
    peak: f64,
    after: f64,
}

fn memory_run(
    opts: &Opts,
    bin: &Path,
    dir: &Path,
    name: &'static str,
    extra: &[(String, String)],
) -> Result<MemRow> {
    let data = dir.join(format!("data-{name}"));
    let url = format!("sqlite://{}", data.join("coproduce.db").display());
    let mut env = opts.server_env.clone();
    env.extend_from_slice(extra);
    let cfg = ServerConfig::new(opts, bin, &url, &data, &env);
    let mut srv = Server::start(&cfg, &format!("server-{name}"), dir)?;
    let client_id = api_client(&srv)?;
    std::thread::sleep(Duration::from_secs(1));
    let before = mb(status_kb(srv.svc.pid(), "VmRSS"));
    let rss = RssSampler::start(srv.svc.pid());
    let wrk = Wrk {
        threads: opts.threads,
        connections: opts.connections,
        duration: opts.duration,
        warmup: 0,
        quiet: true,
    };
    let base = format!("http://127.0.0.1:{}", srv.port);
    let (what, load) = if name == "healthz" {
        let mut s = Script::get(&[]);
        s.tally = true;
        let l = wrk.run(dir, name, &format!("{base}/healthz"), &s, &[])?;
        ("`GET /healthz` (the peer)", l)
    } else {
        let mut s = Script::get(&[("Content-Type", "application/x-www-form-urlencoded")]);
        s.custom = Some(WRONG_EXCHANGE.to_owned());
        s.tally = true;
        let l = wrk.run(
            dir,
            name,
            &format!("{base}/api/v1/token"),
            &s,
            &[&client_id],
        )?;
        let what = if extra.is_empty() {
            "wrong credentials, the failed-exchange limit as configured"
        } else {
            "wrong credentials, limit lifted (every request checks a secret)"
        };
        (what, l)
    };
    std::thread::sleep(Duration::from_secs(2));
    if !srv.svc.alive() {
        bail!("the server died under {name}:\n{}", srv.svc.tail());
    }
    let after = mb(status_kb(srv.svc.pid(), "VmRSS"));
    let peak = rss.finish();
    Ok(MemRow {
        what,
        load,
        before,
        peak,
        after,
    })
}

struct LockRow {
    what: String,
    load: Load,
    writes: Vec<(u16, f64)>,
}

/// Reads for --duration s; with `writes` > 0, the write lock is held for 3 s at a third of
/// the run, and `writes` organisations are created through the service 0.5 s into the hold.
fn lock_run(opts: &Opts, dir: &Path, srv: &Server, db_url: &str, writes: usize) -> Result<LockRow> {
    let hold = Duration::from_secs(3);
    let wrk = Wrk {
        threads: opts.threads,
        connections: opts.connections,
        duration: opts.duration,
        warmup: 0,
        quiet: false,
    };
    let url = format!(
        "http://127.0.0.1:{}/api/v1/organisations?limit=50",
        srv.port
    );
    let bearer = srv.bearer();
    let script = Script::get(&[("Authorization", &bearer)]);
    let name = format!("lock-{writes}");
    wait_quiet();
    let holder = (writes > 0).then(|| {
        let db_url = db_url.to_owned();
        let (port, bearer) = (srv.port, bearer.clone());
        let at = Duration::from_secs(opts.duration / 3);
        std::thread::spawn(move || -> Result<Vec<(u16, f64)>> {
            std::thread::sleep(at);
            let writers = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(500));
                let threads: Vec<_> = (0..writes)
                    .map(|i| {
                        let bearer = bearer.clone();
                        std::thread::spawn(move || {
                            let body = format!(
                                r#"{{"name":"Written while locked {i}","kinds":["provider"]}}"#
                            );
                            let start = Instant::now();
                            let status = http::request(
                                "POST",
                                port,
                                "/api/v1/organisations",
                                &[
                                    ("Authorization", &bearer),
                                    ("Content-Type", "application/json"),
                                ],
                                Some(&body),
                            )
                            .map_or(0, |r| r.status);
                            (status, start.elapsed().as_secs_f64())
                        })
                    })
                    .collect();
                threads
                    .into_iter()
                    .map(|t| t.join().unwrap_or((0, 0.0)))
                    .collect::<Vec<_>>()
            });
            pg::hold_sqlite_write_lock(&db_url, hold)?;
            Ok(writers.join().unwrap_or_default())
        })
    });
    let load = wrk.run(dir, &name, &url, &script, &[])?;
    let writes_done = match holder {
        Some(h) => h
            .join()
            .map_err(|_| anyhow::anyhow!("the lock holder panicked"))??,
        None => Vec::new(),
    };
    let what = if writes == 0 {
        "reads alone (the peer)".to_owned()
    } else {
        format!(
            "reads, write lock held 3 s at {} s, {writes} writes during it",
            opts.duration / 3
        )
    };
    Ok(LockRow {
        what,
        load,
        writes: writes_done,
    })
}

pub fn run(opts: &Opts) -> Result<String> {
    if opts.duration < 6 {
        bail!(
            "hardening needs --duration 6 or more (the lock is held 3 s from a third of the run)"
        );
    }
    let mut work = WorkDir::new("coproduce-bench-hardening")?;
    let dir = work.path.clone();
    let bin = server::binary(opts.server_bin.as_deref(), opts.build_jobs)?;
    let mut r = header(
        "Coproduce hardening: SQLite",
        opts,
        "; each memory load on a fresh server holding one organisation and one API client; the lock runs after one 3 s warm-up",
    );
    r.push_str("\n## Memory under wrong credentials\n\n");

    // 1. Memory: the peer, the flood, the flood with the failed-exchange limit lifted.
    let lifted = [(
        "COPRODUCE_TOKEN_FAILURE_LIMIT".to_owned(),
        "1000000000".to_owned(),
    )];
    let mem = [
        memory_run(opts, &bin, &dir, "healthz", &[])?,
        memory_run(opts, &bin, &dir, "attack", &[])?,
        memory_run(opts, &bin, &dir, "attack-unlimited", &lifted)?,
    ];
    r.push_str("| Load | Requests/s | Answers by status | p99 (ms) | RSS before (MB) | Peak RSS (MB) | RSS after (MB) | Peak / peer | Others' CPU % |\n|---|---:|---|---:|---:|---:|---:|---:|---:|\n");
    let peer = mem[0].peak.max(1.0);
    for m in &mem {
        r.push_str(&format!(
            "| {} | {:.0} | {} | {:.2} | {:.1} | {:.1} | {:.1} | {:.2} | {:.0} |\n",
            m.what,
            m.load.rps,
            m.load.statuses(),
            m.load.p99_ms,
            m.before,
            m.peak,
            m.after,
            m.peak / peer,
            m.load.other_cpu
        ));
    }
    let no_5xx = mem
        .iter()
        .all(|m| m.load.socket_errors == 0 && m.load.statuses.iter().all(|(s, _)| *s < 500));
    let max_peak = mem.iter().map(|m| m.peak).fold(0.0, f64::max);
    r.push_str(&format!(
        "\nTarget: peak RSS under 100 MB ({max_peak:.1} MB) and no 5xx or socket error: {}\n",
        verdict(max_peak < 100.0 && no_5xx)
    ));

    // 2. Reads while another connection holds SQLite's write lock.
    let data = dir.join("data-lock");
    std::fs::create_dir_all(&data)?;
    let db_url = format!("sqlite://{}", data.join("coproduce.db").display());
    pg::seed_organisations(&db_url, opts.orgs)?;
    let cfg = ServerConfig::new(opts, &bin, &db_url, &data, &opts.server_env);
    let srv = Server::start(&cfg, "server-lock", &dir)?;
    let warm = Wrk {
        threads: opts.threads,
        connections: opts.connections,
        duration: 3,
        warmup: 0,
        quiet: true,
    };
    let bearer = srv.bearer();
    warm.run(
        &dir,
        "lock-warmup",
        &format!(
            "http://127.0.0.1:{}/api/v1/organisations?limit=50",
            srv.port
        ),
        &Script::get(&[("Authorization", &bearer)]),
        &[],
    )?;
    let pool = opts
        .server_env
        .iter()
        .find(|(k, _)| k == "COPRODUCE_POOL_SIZE")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(16);
    let lock = [
        lock_run(opts, &dir, &srv, &db_url, 0)?,
        lock_run(opts, &dir, &srv, &db_url, 4)?,
        lock_run(opts, &dir, &srv, &db_url, pool)?,
    ];
    r.push_str(&format!(
        "\n## SQLite reads while another connection holds the write lock\n\n{} organisations; `GET /api/v1/organisations?limit=50` with an admin token. The lock: a second connection (the db layer's transaction, `BEGIN IMMEDIATE`) holds it for 3 s; the writes are `POST /api/v1/organisations` sent 0.5 s into the hold. The last run sends as many as the pool has connections ({pool}).\n\n| Run | Reads/s | p50 (ms) | p99 (ms) | max (ms) | Read errors | Writes by status | Slowest write (s) | Others' CPU % |\n|---|---:|---:|---:|---:|---|---|---:|---:|\n",
        opts.orgs
    ));
    for l in &lock {
        let mut by: Vec<(u16, usize)> = Vec::new();
        for (s, _) in &l.writes {
            match by.iter_mut().find(|(k, _)| k == s) {
                Some((_, n)) => *n += 1,
                None => by.push((*s, 1)),
            }
        }
        let slowest = l.writes.iter().map(|w| w.1).fold(0.0, f64::max);
        r.push_str(&format!(
            "| {} | {:.0} | {:.2} | {:.2} | {:.1} | {} | {} | {:.2} | {:.0} |\n",
            l.what,
            l.load.rps,
            l.load.p50_ms,
            l.load.p99_ms,
            l.load.max_ms,
            l.load.errors(),
            by.iter()
                .map(|(s, n)| format!("{n} x {s}"))
                .collect::<Vec<_>>()
                .join(", "),
            slowest,
            l.load.other_cpu
        ));
    }
    let worst = lock.iter().map(|l| l.load.p99_ms).fold(0.0, f64::max);
    let writes_ok = lock.iter().all(|l| l.writes.iter().all(|w| w.0 == 201));
    let reads_ok = lock
        .iter()
        .all(|l| l.load.non2xx + l.load.socket_errors == 0);
    r.push_str(&format!(
        "\nTarget: read p99 under 50 ms in every run ({worst:.2} ms), no read error, every write 201: {}\n",
        verdict(worst < 50.0 && writes_ok && reads_ok)
    ));
    log(format!("lock server log: {}", srv.svc.log.display()));
    drop(srv);
    work.keep = false;
    Ok(r)
}
