//! The group directory on PostgreSQL: the staff who run a piece of work read its whole
//! directory (200 members; each read loads the members, their consent events and their sealed
//! contact details and decrypts the 400 consented emails and phones) at a fixed rate, against
//! the target, and at saturation for context.

use anyhow::{bail, Context, Result};

use crate::group::{self, Group, Sample};
use crate::pg::{self, BenchDb};
use crate::procs::{ensure_tool, loadavg, log, RssSampler, WorkDir};
use crate::server::{self, Server, ServerConfig};
use crate::wrk::{self, Load, Script, Wrk};
use crate::{header, http, verdict, Backend, Opts};

const TARGET: &str =
    "directory of a 200-member group at 1,000 requests/s on PostgreSQL, p99 under 20 ms, decryption included";
const TARGET_MEMBERS: usize = 200;
const TARGET_RATE: f64 = 1000.0;
const TARGET_P99_MS: f64 = 20.0;
/// The paced run must reach this share of --rate to count as "at" that rate.
const RATE_SHARE: f64 = 0.98;
/// Members seeded at a time (each takes 5 requests and one `coproduce token`).
const SEED_WORKERS: usize = 8;

fn path(work: &str) -> String {
    format!("/api/v1/opportunities/{work}/directory?limit=200")
}

/// One directory read through our client, checked against the group.
fn sample(srv: &Server, g: &Group) -> Result<(Sample, usize)> {
    let bearer = format!("Bearer {}", g.staff_token);
    let answer = http::request(
        "GET",
        srv.port,
        &path(&g.work),
        &[("Authorization", &bearer)],
        None,
    )?;
    if answer.status != 200 {
        bail!("the directory answered {}: {}", answer.status, answer.body);
    }
    Ok((
        group::check(&answer.json()?, &g.members)?,
        answer.body.len(),
    ))
}

/// Every answer 200, no socket error, and every body at least the size of a checked answer
/// (less 1 %: names and ids have fixed lengths, so a full directory does not vary more).
fn clean(l: &Load, checked_bytes: usize) -> bool {
    let full = l
        .body_bytes
        .is_some_and(|(least, _)| least as f64 >= checked_bytes as f64 * 0.99);
    l.all_200() && full
}

pub fn run(opts: &Opts) -> Result<String> {
    if opts.backend != Backend::Postgres {
        bail!("the directory scenario runs on PostgreSQL only (the target is PostgreSQL's)");
    }
    if !(1..=200).contains(&opts.members) {
        bail!("--members must be 1 to 200 (the directory is read as one page of 200)");
    }
    let rate = opts.rate.unwrap_or(TARGET_RATE);
    if rate <= 0.0 || opts.paced_connections == 0 {
        bail!("--rate and --paced-connections must be above 0");
    }
    ensure_tool("psql", &["postgresql-client"])?;
    let mut work = WorkDir::new("coproduce-bench-directory")?;
    let dir = work.path.clone();
    let bin = server::binary(opts.server_bin.as_deref(), opts.build_jobs)?;
    let load_before = loadavg();

    let db = BenchDb::create(&opts.pg_admin_url)?;
    let data_dir = dir.join("data");
    let cfg = ServerConfig::new(opts, &bin, &db.url, &data_dir, &opts.server_env);
    // The server migrates the fresh database as it starts.
    let mut srv = Server::start(&cfg, "coproduce", &dir)?;
    let g = group::seed(&srv, opts.members, SEED_WORKERS)?;
    pg::psql(&db.url, "VACUUM ANALYZE")?;
    let (before, checked_bytes) = sample(&srv, &g)?;
    log(format!(
        "a directory answer: {} items, {} emails and {} phones decrypted, {checked_bytes} bytes",
        before.items, before.emails, before.phones
    ));

    let rss = RssSampler::start(srv.svc.pid());
    let url = format!("http://127.0.0.1:{}{}", srv.port, path(&g.work));
    let bearer = format!("Bearer {}", g.staff_token);
    let mut script = Script::get(&[("Authorization", &bearer)]);
    script.tally = true;
    let paced_threads = opts.threads.min(opts.paced_connections);
    let paced_wrk = Wrk {
        threads: paced_threads,
        connections: opts.paced_connections,
        duration: opts.duration,
        warmup: 3,
        quiet: true,
    };
    let mut paced_script = Script::get(&[("Authorization", &bearer)]);
    paced_script.tally = true;
    paced_script.custom = Some(wrk::paced(rate, paced_threads));
    let paced = paced_wrk.run(&dir, "directory-paced", &url, &paced_script, &[])?;
    let saturation = Wrk {
        threads: opts.threads,
        connections: opts.connections,
        duration: opts.duration,
        warmup: 3,
        quiet: true,
    }
    .run(&dir, "directory-saturation", &url, &script, &[])?;
    if !srv.svc.alive() {
        bail!("the server died during the load:\n{}", srv.svc.tail());
    }
    let (after, _) = sample(&srv, &g).context("the directory after the loads")?;
    let peak_rss = rss.finish();
    srv.svc.stop();
    drop(db);

    // The report.
    let mut r = header(
        "Coproduce benchmark: the group directory",
        opts,
        &format!(
            " (saturation) and wrk -t{paced_threads} -c{} paced at {rate:.0} requests/s, each after a 3 s warm-up at the same load; {} members seeded through the API on PostgreSQL, each with email, phone and postal address sealed (AES-256-GCM) and email and phone shared with the work",
            opts.paced_connections, opts.members
        ),
    );
    r.push_str(&format!(
        "- Load average before the runs {load_before}, after {}\n\n",
        loadavg()
    ));
    r.push_str(&format!(
        "`GET {}` as the provider's staff who run the work; every answer holds {} entries with {} decrypted values.\n\n",
        path("{id}"),
        opts.members,
        2 * opts.members
    ));
    r.push_str("| Load | Requests/s | p50 (ms) | p90 (ms) | p99 (ms) | max (ms) | Answers by status | Socket errors | Body bytes (least-most) | Others' CPU % |\n|---|---:|---:|---:|---:|---:|---|---:|---|---:|\n");
    let rows = [
        (
            format!(
                "paced at {rate:.0}/s, {} connections",
                opts.paced_connections
            ),
            &paced,
        ),
        (
            format!("saturation, {} connections", opts.connections),
            &saturation,
        ),
    ];
    for (what, l) in &rows {
        r.push_str(&format!(
            "| {what} | {:.0} | {:.2} | {:.2} | {:.2} | {:.1} | {} | {} | {} | {:.0} |\n",
            l.rps,
            l.p50_ms,
            l.p90_ms,
            l.p99_ms,
            l.max_ms,
            l.statuses(),
            l.socket_errors,
            l.body_bytes
                .map_or("-".to_owned(), |(lo, hi)| format!("{lo}-{hi}")),
            l.other_cpu
        ));
    }
    r.push_str(&format!(
        "\nThe paced load: wrk's `delay()` gives each of the {} connections one send every {:.1} ms ({} connections / {rate:.0} per s), the connections of a thread taking turns on a timetable of slots; a slot that passes while every connection still waits for an answer is lost, not made up. It is a paced, closed loop: wrk measures each request's latency from its send to its answer, so a slow answer delays the next send rather than queueing behind it, and the p99 is that of the requests sent (no coordinated-omission correction). It holds the rate while the answers take less than {:.1} ms.\n",
        opts.paced_connections,
        1000.0 * f64::from(opts.paced_connections) / rate,
        opts.paced_connections,
        1000.0 * f64::from(opts.paced_connections) / rate,
    ));
    r.push_str("\nOthers' CPU: what processes not started here (builds, tests) took during the run, as a share of all cores; above a few % the figures are noisy.\n");

    let reached = paced.rps >= rate * RATE_SHARE;
    let fast = paced.p99_ms < TARGET_P99_MS;
    let all_clean = clean(&paced, checked_bytes) && clean(&saturation, checked_bytes);
    r.push_str("\n| Figure | Value | Target | |\n|---|---:|---|---|\n");
    r.push_str(&format!(
        "| Rate achieved, paced | {:.0}/s | {rate:.0}/s (at least {:.0} %) | {} |\n",
        paced.rps,
        RATE_SHARE * 100.0,
        verdict(reached)
    ));
    r.push_str(&format!(
        "| p99, paced at {rate:.0}/s | {:.2} ms | < {TARGET_P99_MS:.0} ms | {} |\n",
        paced.p99_ms,
        verdict(fast)
    ));
    r.push_str(&format!(
        "| p99, paced at {rate:.0}/s / {TARGET_P99_MS:.0} ms | {:.2} | < 1 | |\n",
        paced.p99_ms / TARGET_P99_MS
    ));
    r.push_str(&format!(
        "| Saturation throughput / {rate:.0}/s | {:.2} | | |\n",
        saturation.rps / rate
    ));
    r.push_str(&format!(
        "| Saturation p99 ({} connections) | {:.2} ms | | |\n",
        opts.connections, saturation.p99_ms
    ));
    r.push_str(&format!(
        "| Server peak RSS (VmRSS sampled every 200 ms, VmHWM) | {peak_rss:.1} MB | | |\n"
    ));
    r.push_str(&format!(
        "| Every answer 200 and a full directory (body at least 99 % of the checked {checked_bytes} bytes), no socket error | {} | | {} |\n",
        if all_clean { "yes" } else { "no" },
        verdict(all_clean)
    ));
    r.push_str(&format!(
        "| Checked answers, before and after the loads: entries, emails and phones decrypted | {}/{}/{}, {}/{}/{} | {n}/{n}/{n} | met |\n",
        before.items,
        before.emails,
        before.phones,
        after.items,
        after.emails,
        after.phones,
        n = opts.members
    ));
    let as_target = opts.members == TARGET_MEMBERS && rate == TARGET_RATE;
    let met = reached && fast && all_clean;
    r.push_str(&format!("\nTarget: {TARGET}: "));
    if as_target {
        r.push_str(&format!("{}\n", verdict(met)));
    } else {
        r.push_str(&format!(
            "not judged: this run read {} members at {rate:.0}/s (it would be {})\n",
            opts.members,
            verdict(met)
        ));
    }
    work.keep = false;
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(statuses: Vec<(u16, u64)>, body_bytes: Option<(u64, u64)>) -> Load {
        Load {
            statuses,
            body_bytes,
            ..Load::default()
        }
    }

    #[test]
    fn a_run_is_clean_only_with_full_directories_all_200() {
        assert!(clean(
            &load(vec![(200, 10)], Some((40_000, 40_100))),
            40_000
        ));
        assert!(!clean(
            &load(vec![(200, 9), (503, 1)], Some((40_000, 40_100))),
            40_000
        ));
        assert!(!clean(&load(vec![(200, 10)], Some((120, 40_100))), 40_000));
        assert!(!clean(&load(vec![(200, 10)], None), 40_000));
        assert!(!clean(&load(vec![], None), 40_000));
        let mut sockets = load(vec![(200, 10)], Some((40_000, 40_000)));
        sockets.socket_errors = 1;
        assert!(!clean(&sockets, 40_000));
    }
}
