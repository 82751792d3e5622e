//! `bench`: Coproduce's load benchmarks. Seeds data through the service's own db layer, starts
//! the release binary on 127.0.0.1, drives wrk (and pgbench, and PostGraphile 4 and 5 for the
//! comparison), and prints a Markdown report with every figure as a ratio of the same run.
//!
//!   cargo run --release -p coproduce-bench -- list
//!   cargo run --release -p coproduce-bench -- hardening --duration 30
//!   cargo run --release -p coproduce-bench -- directory --rate 1000 --duration 60
//!   cargo run --release -p coproduce-bench -- claims --rate 200 --duration 60
//!   cargo run --release -p coproduce-bench -- events --duration 60 [--instances 2]
//!   cargo run --release -p coproduce-bench -- evidence
//!   cargo run --release -p coproduce-bench -- mixed --duration 60
//!   cargo run -p coproduce-bench -- faults --server-bin target/debug/coproduce   (stops PostgreSQL)
//!
//! Everything it starts is stopped on exit, on error too; the database it creates is dropped.

mod claims;
mod claims_report;
mod directory;
mod events;
mod evidence;
mod faults;
mod floor;
mod group;
mod hardening;
mod http;
mod instructions;
mod list;
mod mixed;
mod overdue;
mod payroll;
mod pg;
mod postgraphile;
mod procs;
mod receiver;
mod server;
mod wrk;

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(about = "Coproduce's load benchmarks")]
pub struct Cli {
    #[command(subcommand)]
    scenario: Scenario,
    #[command(flatten)]
    opts: Opts,
}

#[derive(clap::Args, Clone)]
pub struct Opts {
    /// Seconds of each measured run (each follows a 3 s warm-up).
    #[arg(long, global = true, default_value_t = 15)]
    pub duration: u64,
    /// list: REST and GraphQL take turns in this many rounds, each a slice of --duration, so
    /// that the machine's drift falls on both alike.
    #[arg(long, global = true, default_value_t = 3)]
    pub rounds: u32,
    /// wrk connections (and pgbench clients besides 16); the directory's saturation run.
    #[arg(long, global = true, default_value_t = 64)]
    pub connections: u32,
    /// The paced run's rate over all its connections: directory reads/s (default 1000), or
    /// claims submitted and approved per s (default 200; two requests each); events written
    /// per s (default 1000).
    #[arg(long, global = true)]
    pub rate: Option<f64>,
    /// directory and claims: the paced run's connections (each sends every connections/rate s).
    #[arg(long, global = true, default_value_t = 16)]
    pub paced_connections: u32,
    /// directory: members of the group (1-200; read as one page).
    #[arg(long, global = true, default_value_t = 200)]
    pub members: usize,
    /// events: server instances delivering from the same database (1-4).
    #[arg(long, global = true, default_value_t = 1)]
    pub instances: usize,
    /// events: writer threads in this process, sharing --rate (1-8).
    #[arg(long, global = true, default_value_t = 2)]
    pub writers: usize,
    /// wrk threads and pgbench -j.
    #[arg(long, global = true, default_value_t = 2)]
    pub threads: u32,
    /// Organisations seeded before measuring.
    #[arg(long, global = true, default_value_t = 200)]
    pub orgs: usize,
    /// The list's database: postgres (with pgbench and PostGraphile) or sqlite (the service alone).
    #[arg(long, global = true, value_enum, default_value_t = Backend::Postgres)]
    pub backend: Backend,
    /// list: also count, under callgrind, the service's instructions per request over this
    /// many requests of each kind (0 leaves the count out).
    #[arg(long, global = true, default_value_t = 200)]
    pub instructions: u32,
    /// Leave out the PostGraphile 4 and 5 runs.
    #[arg(long, global = true)]
    pub skip_postgraphile: bool,
    /// The server binary; without it the release binary is built first.
    #[arg(long, global = true)]
    pub server_bin: Option<PathBuf>,
    /// cargo build -j for that build.
    #[arg(long, global = true, default_value_t = 1)]
    pub build_jobs: u32,
    /// PostgreSQL admin URL (trust auth on 127.0.0.1); creates and drops coproduce_bench.
    #[arg(
        long,
        global = true,
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    pub pg_admin_url: String,
    /// The server's RUST_LOG.
    #[arg(long, global = true, default_value = "warn")]
    pub log_level: String,
    /// A further server setting, KEY=VALUE (repeatable), e.g. COPRODUCE_POOL_SIZE=8.
    #[arg(long = "server-env", global = true, value_parser = parse_kv)]
    pub server_env: Vec<(String, String)>,
    /// Before each run, wait until other processes take at most this % of the machine...
    #[arg(long, global = true, default_value_t = 25.0)]
    pub quiet_max: f64,
    /// ...for up to this many seconds (0 = measure at once).
    #[arg(long, global = true, default_value_t = 120)]
    pub quiet_wait: u64,
    /// Also write the report to this file.
    #[arg(long, global = true)]
    pub out: Option<PathBuf>,
    /// list: keep the work directory (logs, and callgrind's dumps for callgrind_annotate).
    #[arg(long, global = true)]
    pub keep_work: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

#[derive(Subcommand)]
enum Scenario {
    /// REST and GraphQL list of 50; on PostgreSQL against pgbench (same SELECT), the floor (the same SELECT behind actix-web alone) and PostGraphile 4/5.
    List,
    /// SQLite: memory under wrong credentials, and reads while another process holds the write lock.
    Hardening,
    /// PostgreSQL: a 200-member group's directory (contact details decrypted) paced at --rate and at saturation.
    Directory,
    /// PostgreSQL: claims submitted and approved at --rate, paid twice at once, the overdue list over 200,000 claims.
    Claims,
    /// PostgreSQL: events written at --rate through the db layer and delivered as webhooks to a receiver here: outbox lag, lost, twice, signatures.
    Events,
    /// PostgreSQL and SQLite: the evidence report over 10,000 pieces of work and 1,000,000 attendance rows, beside the fastest SQL aggregation over them.
    Evidence,
    /// PostgreSQL: the service while PostgreSQL is stopped and started under load, and after kill -9 in the middle of writes (stops the machine's cluster; pass --server-bin).
    Faults,
    /// PostgreSQL: browse, sessions with attendance, claims, directory and evidence report at once; the highest rate held with p99 under 100 ms and no error, on one and two instances.
    Mixed,
    /// The list's floor server, started by `list` (not a benchmark of its own).
    #[command(hide = true)]
    Floor {
        #[arg(long)]
        port: u16,
        #[arg(long)]
        db_url: String,
        #[arg(long)]
        workers: usize,
    },
}

fn parse_kv(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("expected KEY=VALUE, got `{s}`"))
}

/// The revision the server is built from, read as the program starts (just before the build),
/// not when the report is written: others may commit meanwhile. Notes uncommitted changes to
/// what the server is built from.
fn revision() -> &'static str {
    static REVISION: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    REVISION.get_or_init(|| {
        let git = |args: &[&str]| {
            std::process::Command::new("git")
                .args(args)
                .current_dir(server::root())
                .output()
                .ok()
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
                .unwrap_or_default()
        };
        let rev = git(&["rev-parse", "--short", "HEAD"]);
        let dirty = git(&[
            "status",
            "--porcelain",
            "--",
            "src",
            "migrations",
            "Cargo.toml",
            "Cargo.lock",
        ]);
        if dirty.is_empty() {
            rev
        } else {
            format!("{rev}, with uncommitted changes to the server's sources")
        }
    })
}

/// Facts about the run for the report's header.
pub fn header(title: &str, opts: &Opts, extra: &str) -> String {
    let rev = revision();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let settings: Vec<String> = opts
        .server_env
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    format!(
        "# {title}\n\n- Date: {}\n- Revision: {rev}\n- Machine: {cores} cores; load generator, server and PostgreSQL share them; load average at the start {}\n- Load: wrk -t{} -c{} -d{}s --latency{extra}\n- Server: RUST_LOG={}, logs to a file{}{}\n- Command: `cargo run --release -p coproduce-bench -- {}`\n",
        chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ"),
        procs::loadavg(),
        opts.threads,
        opts.connections,
        opts.duration,
        opts.log_level,
        if settings.is_empty() { "" } else { ", " },
        settings.join(" "),
        std::env::args().skip(1).collect::<Vec<_>>().join(" "),
    )
}

pub fn verdict(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "**missed**"
    }
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    if let Scenario::Floor {
        port,
        db_url,
        workers,
    } = cli.scenario
    {
        return floor::serve(port, db_url, workers);
    }
    if cli.opts.duration == 0 || cli.opts.connections == 0 || cli.opts.threads == 0 {
        bail!("--duration, --connections and --threads must be at least 1");
    }
    procs::clean_up_on_signal();
    revision();
    let _ = procs::QUIET.set((cli.opts.quiet_max, cli.opts.quiet_wait));
    if !matches!(
        cli.scenario,
        Scenario::Events | Scenario::Evidence | Scenario::Faults
    ) {
        procs::ensure_tool("wrk", &["wrk"])?;
    }
    let report = match cli.scenario {
        Scenario::List => list::run(&cli.opts)?,
        Scenario::Hardening => hardening::run(&cli.opts)?,
        Scenario::Directory => directory::run(&cli.opts)?,
        Scenario::Claims => claims::run(&cli.opts)?,
        Scenario::Events => events::run(&cli.opts)?,
        Scenario::Evidence => evidence::run(&cli.opts)?,
        Scenario::Faults => faults::run(&cli.opts)?,
        Scenario::Mixed => mixed::run(&cli.opts)?,
        Scenario::Floor { .. } => bail!("the floor server is started by `list`"),
    };
    println!("{report}");
    if let Some(out) = &cli.opts.out {
        std::fs::write(out, &report)?;
        procs::log(format!("report written to {}", out.display()));
    }
    Ok(())
}
