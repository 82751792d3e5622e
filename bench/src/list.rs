//! The main figure: the list of 50 organisations over REST and GraphQL, against
//! pgbench running the same SELECT, against the floor (the same SELECT behind actix-web with
//! nothing else, `floor`) and against PostGraphile 4 and 5 answering the same list.

use anyhow::{bail, Context, Result};

use crate::pg::{self, BenchDb};
use crate::postgraphile;
use crate::procs::{
    ensure_tool, free_port, loadavg, log, wait_ready, RssSampler, Service, WorkDir,
};
use crate::server::{self, Server, ServerConfig};
use crate::wrk::{Load, Script, Wrk};
use crate::{header, http, instructions, verdict, Backend, Opts};

const PAGE: usize = 50;
const REST_PATH: &str = "/api/v1/organisations?limit=50";
const GQL_QUERY: &str = "{ organisations(first: 50) { nodes { id name kinds contact { name email phone } defaultPaymentPolicyId createdAt updatedAt version } } }";
/// PostGraphile's list of the same rows and fields. Version 4 names the column `id`; version 5
/// keeps `id` for the Node interface and names the column `rowId`.
fn pgl_query(major: u32) -> String {
    let (id, order) = if major >= 5 {
        ("rowId", "ROW_ID_ASC")
    } else {
        ("id", "ID_ASC")
    };
    format!("{{ allOrganisations(first: 50, orderBy: {order}) {{ nodes {{ {id} name kinds contactName contactEmail contactPhone defaultPaymentPolicyId createdAt updatedAt version }} }} }}")
}

/// The ids a list answered, checking there are a full page of them.
fn ids(json: &serde_json::Value, pointer: &str, field: &str, what: &str) -> Result<Vec<String>> {
    let nodes = json
        .pointer(pointer)
        .and_then(|n| n.as_array())
        .with_context(|| format!("{what}: no list at {pointer}: {json}"))?;
    let ids: Vec<String> = nodes
        .iter()
        .filter_map(|n| n[field].as_str().map(str::to_owned))
        .collect();
    if ids.len() != PAGE {
        bail!("{what}: {} items, expected {PAGE}", ids.len());
    }
    Ok(ids)
}

struct Row {
    what: String,
    rps: f64,
    p50: f64,
    p99: f64,
    errors: String,
    bad: u64,
    other: f64,
}

impl Row {
    fn wrk(what: impl Into<String>, l: &Load) -> Self {
        Row {
            what: what.into(),
            rps: l.rps,
            p50: l.p50_ms,
            p99: l.p99_ms,
            errors: l.errors(),
            bad: l.non2xx + l.socket_errors,
            other: l.other_cpu,
        }
    }
}

pub fn run(opts: &Opts) -> Result<String> {
    ensure_tool("psql", &["postgresql-client"])?;
    // Debian ships pgbench in the server package, which postgresql-contrib pulls in.
    ensure_tool("pgbench", &["postgresql-contrib"])?;
    let mut work = WorkDir::new("coproduce-bench-list")?;
    let dir = work.path.clone();
    let bin = server::binary(opts.server_bin.as_deref(), opts.build_jobs)?;
    let load_before = loadavg();

    let sqlite = opts.backend == Backend::Sqlite;
    let db = if sqlite {
        None
    } else {
        Some(BenchDb::create(&opts.pg_admin_url)?)
    };
    let db_url = match &db {
        Some(d) => d.url.clone(),
        None => format!("sqlite://{}", dir.join("data/coproduce.db").display()),
    };
    pg::seed_organisations(&db_url, opts.orgs)?;
    if !sqlite {
        pg::psql(&db_url, "VACUUM ANALYZE organisations")?;
    }
    let wrk = Wrk {
        threads: opts.threads,
        connections: opts.connections,
        duration: opts.duration,
        warmup: 3,
        quiet: true,
    };
    let mut rows = Vec::new();

    // The service: REST, then GraphQL, with its memory sampled throughout.
    let data_dir = dir.join("data");
    let cfg = ServerConfig::new(opts, &bin, &db_url, &data_dir, &opts.server_env);
    let mut srv = Server::start(&cfg, "coproduce", &dir)?;
    let rss = RssSampler::start(srv.svc.pid());
    let bearer = srv.bearer();
    let rest = http::request(
        "GET",
        srv.port,
        REST_PATH,
        &[("Authorization", &bearer)],
        None,
    )?;
    if rest.status != 200 {
        bail!("REST list answered {}: {}", rest.status, rest.body);
    }
    let rest_ids = ids(&rest.json()?, "/items", "id", "REST list")?;
    let gql = http::graphql(srv.port, Some(&srv.token), GQL_QUERY)?;
    let our_ids = ids(&gql, "/data/organisations/nodes", "id", "GraphQL list")?;
    if our_ids != rest_ids {
        bail!("GraphQL and REST answer different organisations");
    }
    let base = format!("http://127.0.0.1:{}", srv.port);
    // REST and GraphQL take turns, a slice each per round, the first of each after a warm-up.
    let rounds = opts.rounds.max(1);
    let slice = (opts.duration / u64::from(rounds)).max(1);
    let (mut rest_slices, mut gql_slices) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let turn = Wrk {
            duration: slice,
            warmup: if round == 0 { wrk.warmup } else { 0 },
            quiet: round == 0,
            ..wrk
        };
        rest_slices.push(turn.run(
            &dir,
            "rest",
            &format!("{base}{REST_PATH}"),
            &Script::get(&[("Authorization", &bearer)]),
            &[],
        )?);
        gql_slices.push(turn.run(
            &dir,
            "graphql",
            &format!("{base}/graphql"),
            &Script::graphql(Some(&srv.token), GQL_QUERY),
            &[],
        )?);
    }
    let rest_load = Load::combine(&rest_slices);
    let gql_load = Load::combine(&gql_slices);
    rows.push(Row::wrk(format!("REST `GET {REST_PATH}`"), &rest_load));
    rows.push(Row::wrk("GraphQL `organisations(first: 50)`", &gql_load));
    if !srv.svc.alive() {
        bail!("the server died during the load:\n{}", srv.svc.tail());
    }
    let peak_rss = rss.finish();
    srv.svc.stop();
    let mut notes = Vec::new();
    let counted = if opts.instructions == 0 {
        Vec::new()
    } else {
        let rest = |s: &Server| -> Result<()> {
            let r = http::request(
                "GET",
                s.port,
                REST_PATH,
                &[("Authorization", &s.bearer())],
                None,
            )?;
            if r.status != 200 {
                bail!("REST list answered {}: {}", r.status, r.body);
            }
            Ok(())
        };
        let graphql = |s: &Server| -> Result<()> {
            let json = http::graphql(s.port, Some(&s.token), GQL_QUERY)?;
            ids(&json, "/data/organisations/nodes", "id", "GraphQL list").map(|_| ())
        };
        let kinds: [instructions::Kind; 2] = [("REST", &rest), ("GraphQL", &graphql)];
        instructions::per_request(&cfg, &dir, opts.instructions, 20, &kinds).unwrap_or_else(|e| {
            log(format!("instruction counts: {e:#}"));
            notes.push(format!("Instruction counts left out: {e:#}"));
            Vec::new()
        })
    };

    // The floor: the same SELECT behind actix-web with nothing else (see `floor`), with the
    // service's workers and with one per core (fewer PostgreSQL backends); the best counts.
    let floor_load = if sqlite {
        None
    } else {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let service_workers = opts
            .server_env
            .iter()
            .find(|(k, _)| k == "COPRODUCE_WORKERS")
            .and_then(|(_, v)| v.parse().ok())
            // The service's own default (`startup.rs`): four per core.
            .unwrap_or(4 * cores);
        let mut best: Option<Load> = None;
        let mut counts = vec![service_workers, cores];
        counts.dedup();
        for workers in counts {
            let load = run_floor(&dir, &db_url, workers, &rest_ids, &wrk)?;
            rows.push(Row::wrk(
                format!(
                    "Floor: the same SELECT behind actix-web ({workers} workers), rows as JSON text, nothing else"
                ),
                &load,
            ));
            if best.as_ref().is_none_or(|b| load.rps > b.rps) {
                best = Some(load);
            }
        }
        best
    };

    // pgbench with the list's own SELECT, at 16 and at --connections clients; the best counts.
    let mut best = 0.0f64;
    let mut clients = vec![16, opts.connections];
    clients.dedup();
    if sqlite {
        clients.clear();
    }
    for c in clients {
        let b = pg::pgbench(&dir, &db_url, pg::LIST_SQL, c, opts.threads, opts.duration)?;
        best = best.max(b.tps);
        rows.push(Row {
            what: format!(
                "pgbench -c{} -M prepared, the list's SELECT (LIMIT 51)",
                b.clients
            ),
            rps: b.tps,
            p50: b.p50_ms,
            p99: b.p99_ms,
            errors: format!("{} failed", b.failed),
            bad: b.failed,
            other: b.other_cpu,
        });
    }

    // PostGraphile 4 and 5, on Node 22, two workers each, the same list.
    let mut pgl = Vec::new();
    if !opts.skip_postgraphile && !sqlite {
        match postgraphile::node22() {
            Err(e) => notes.push(format!("PostGraphile left out: {e:#}")),
            Ok(node) => {
                for major in [4, 5] {
                    let one = || -> Result<(String, Load)> {
                        let p = postgraphile::start(major, &node, &db_url, &dir)?;
                        let query = pgl_query(major);
                        let field = if major >= 5 { "rowId" } else { "id" };
                        let json = http::graphql(p.port, None, &query)?;
                        let theirs = ids(&json, "/data/allOrganisations/nodes", field, &p.label)?;
                        if theirs != our_ids {
                            bail!("{} answers other organisations than ours", p.label);
                        }
                        let load = wrk.run(
                            &dir,
                            &format!("postgraphile{major}"),
                            &format!("http://127.0.0.1:{}/graphql", p.port),
                            &Script::graphql(None, &query),
                            &[],
                        )?;
                        let mut svc = p.svc;
                        if !svc.alive() {
                            bail!("{} died during the load:\n{}", p.label, svc.tail());
                        }
                        Ok((p.label.clone(), load))
                    };
                    match one() {
                        Ok((label, load)) => {
                            rows.push(Row::wrk(
                                format!("{label}, 2 workers, `allOrganisations(first: 50)` by id"),
                                &load,
                            ));
                            pgl.push((major, label, load));
                        }
                        Err(e) => {
                            log(format!("PostGraphile {major}: {e:#}"));
                            notes.push(format!("PostGraphile {major} left out: {e:#}"));
                        }
                    }
                }
            }
        }
    }
    drop(db);

    // The report.
    let mut r = header(
        "Coproduce benchmark: the list of 50",
        opts,
        &format!(
            "{}; {} organisations seeded through the db layer, {}",
            {
                let rounds = opts.rounds.max(1);
                let turns = format!(
                    " in all, REST and GraphQL taking turns in {rounds} round(s) of {} s each, the first after a 3 s warm-up",
                    (opts.duration / u64::from(rounds)).max(1)
                );
                if sqlite {
                    turns
                } else {
                    format!(
                        "{turns}; pgbench -c16 and -c{} -j{} -T{} -M prepared (after a 3 s warm-up)",
                        opts.connections, opts.threads, opts.duration
                    )
                }
            },
            opts.orgs,
            if sqlite { "SQLite" } else { "PostgreSQL" }
        ),
    );
    r.push_str(&format!(
        "- Load average before the runs {load_before}, after {}\n\n",
        loadavg()
    ));
    r.push_str("| Load | Requests/s | p50 (ms) | p99 (ms) | Errors | Others' CPU % |\n|---|---:|---:|---:|---|---:|\n");
    for row in &rows {
        r.push_str(&format!(
            "| {} | {:.0} | {:.2} | {:.2} | {} | {:.0} |\n",
            row.what, row.rps, row.p50, row.p99, row.errors, row.other
        ));
    }
    r.push_str("\nOthers' CPU: what processes not started here (builds, tests) took during the run, as a share of all cores; above a few % the figures are noisy.\n");
    let rest_ratio = rest_load.rps / best;
    let gql_ratio = gql_load.rps / rest_load.rps;
    r.push_str("\n| Figure | Value | Target | |\n|---|---:|---|---|\n");
    if best > 0.0 {
        r.push_str(&format!(
            "| REST / pgbench best | {rest_ratio:.2} | >= 0.80 | {} |\n",
            verdict(rest_ratio >= 0.8)
        ));
    }
    r.push_str(&format!(
        "| GraphQL / REST | {gql_ratio:.2} | >= 0.80 | {} |\n",
        verdict(gql_ratio >= 0.8)
    ));
    if let Some(floor) = &floor_load {
        if best > 0.0 {
            r.push_str(&format!(
                "| Floor best / pgbench best (the most a server answering from PostgreSQL per request reached) | {:.2} | | |\n",
                floor.rps / best
            ));
        }
        let (floor_cpu, floor_pg) = floor.cpu_ms_per_request();
        r.push_str(&format!(
            "| REST / floor best | {:.2} | | |\n| Floor best's CPU per request (PostgreSQL's) | {floor_cpu:.3} ms ({floor_pg:.3} ms) | | |\n",
            rest_load.rps / floor.rps
        ));
    }
    // The machine's speed drifts from one minute to the next; CPU per request drifts less.
    let (rest_cpu, rest_pg) = rest_load.cpu_ms_per_request();
    let (gql_cpu, gql_pg) = gql_load.cpu_ms_per_request();
    r.push_str(&format!(
        "| Service CPU per request, REST / GraphQL (PostgreSQL's) | {rest_cpu:.3} / {gql_cpu:.3} ms ({rest_pg:.3} / {gql_pg:.3} ms) | | |\n"
    ));
    if gql_cpu > 0.0 {
        r.push_str(&format!(
            "| REST's service CPU per request / GraphQL's | {:.2} | | |\n",
            rest_cpu / gql_cpu
        ));
    }
    if let [(_, rest), (_, graphql)] = counted[..] {
        r.push_str(&format!(
            "| Service instructions per request under callgrind ({} each), REST / GraphQL | {:.0}k / {:.0}k | | |\n",
            opts.instructions,
            rest / 1000.0,
            graphql / 1000.0
        ));
        r.push_str(&format!(
            "| REST's instructions per request / GraphQL's | {:.2} | | |\n",
            rest / graphql
        ));
    }
    for (_, label, load) in &pgl {
        r.push_str(&format!(
            "| GraphQL / {label} | {:.2} | | |\n",
            gql_load.rps / load.rps
        ));
    }
    r.push_str(&format!(
        "| REST p99 | {:.2} ms | < 20 ms | {} |\n",
        rest_load.p99_ms,
        verdict(rest_load.p99_ms < 20.0)
    ));
    r.push_str(&format!(
        "| GraphQL p99 | {:.2} ms | < 20 ms | {} |\n",
        gql_load.p99_ms,
        verdict(gql_load.p99_ms < 20.0)
    ));
    r.push_str(&format!(
        "| Server peak RSS (VmRSS sampled every 200 ms, VmHWM) | {peak_rss:.1} MB | < 100 MB | {} |\n",
        verdict(peak_rss < 100.0)
    ));
    let clean = rows.iter().all(|row| row.bad == 0);
    r.push_str(&format!(
        "| Errors in any run | {} | none | {} |\n",
        if clean { "none" } else { "some" },
        verdict(clean)
    ));
    for n in notes {
        r.push_str(&format!("\n{n}\n"));
    }
    work.keep = opts.keep_work;
    Ok(r)
}

/// Starts the floor server (this program, under the name `coproduce-floor`), checks it answers
/// the REST page's organisations, and loads it as the service was loaded.
fn run_floor(
    dir: &std::path::Path,
    db_url: &str,
    workers: usize,
    rest_ids: &[String],
    wrk: &Wrk,
) -> Result<Load> {
    let link = dir.join("coproduce-floor");
    if !link.exists() {
        std::os::unix::fs::symlink(std::env::current_exe()?, &link)?;
    }
    let port = free_port()?;
    let mut cmd = std::process::Command::new(&link);
    cmd.args(["floor", "--port", &port.to_string(), "--db-url", db_url])
        .args(["--workers", &workers.to_string()]);
    let mut svc = Service::spawn("floor", cmd, &dir.join("floor.log"), false)?;
    wait_ready(&mut svc, std::time::Duration::from_secs(30), || {
        http::request("GET", port, "/floor", &[], None).is_ok_and(|r| r.status == 200)
    })?;
    let page = http::request("GET", port, "/floor", &[], None)?;
    if ids(&page.json()?, "/items", "id", "floor")? != rest_ids {
        bail!("the floor answers other organisations than REST");
    }
    let load = wrk.run(
        dir,
        "floor",
        &format!("http://127.0.0.1:{port}/floor"),
        &Script::get(&[]),
        &[],
    )?;
    if !svc.alive() {
        bail!("the floor server died during the load:\n{}", svc.tail());
    }
    svc.stop();
    Ok(load)
}
