//! The release `coproduce` binary: built (or given), started on a free port, asked for a token.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Result};

use crate::http;
use crate::procs::{free_port, log, random_secret, run_ok, wait_ready, Service};

/// The workspace root (the service's package).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("bench/ has a parent")
        .to_owned()
}

/// `--server-bin`, or the release binary built here (honouring CARGO_TARGET_DIR).
pub fn binary(given: Option<&Path>, jobs: u32) -> Result<PathBuf> {
    if let Some(bin) = given {
        if !bin.is_file() {
            bail!("no server binary at {}", bin.display());
        }
        return Ok(bin.to_owned());
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    log(format!(
        "cargo build --release -p coproduce -j {jobs} (target dir {})",
        target.display()
    ));
    run_ok(
        Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["build", "--release", "--quiet", "-p", "coproduce", "-j"])
            .arg(jobs.to_string())
            .current_dir(root()),
        Duration::from_secs(3600),
    )?;
    Ok(target.join("release").join("coproduce"))
}

pub struct Server {
    pub svc: Service,
    pub port: u16,
    /// An admin token.
    pub token: String,
    bin: PathBuf,
    /// The settings the server runs with, which `coproduce token` needs too (the JWT secret).
    env: Vec<(String, String)>,
}

pub struct ServerConfig<'a> {
    pub bin: &'a Path,
    pub database_url: &'a str,
    pub data_dir: &'a Path,
    pub log_level: &'a str,
    /// Extra KEY=VALUE settings (COPRODUCE_POOL_SIZE=8, ...).
    pub env: &'a [(String, String)],
    /// A program the server runs under, with its arguments (valgrind, say); none by default.
    pub wrapper: Vec<String>,
}

impl<'a> ServerConfig<'a> {
    /// A server of this run: its binary, database, data directory and settings, at the run's
    /// log level.
    pub fn new(
        opts: &'a crate::Opts,
        bin: &'a Path,
        database_url: &'a str,
        data_dir: &'a Path,
        env: &'a [(String, String)],
    ) -> Self {
        ServerConfig {
            bin,
            database_url,
            data_dir,
            log_level: &opts.log_level,
            env,
            wrapper: Vec::new(),
        }
    }
}

/// The data key (base64 of 32 random bytes) that personal data is sealed under on PostgreSQL,
/// where the server needs one; made once per run, so every server this program starts on the
/// same database can open what another sealed.
fn data_key() -> &'static str {
    static KEY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    KEY.get_or_init(coproduce::crypto::new_key_text)
}

impl Server {
    pub fn start(cfg: &ServerConfig, name: &str, log_dir: &Path) -> Result<Self> {
        let port = free_port()?;
        let mut env: Vec<(String, String)> = vec![
            ("DATABASE_URL".into(), cfg.database_url.into()),
            (
                "COPRODUCE_DATA_DIR".into(),
                cfg.data_dir.display().to_string(),
            ),
            ("COPRODUCE_BIND".into(), format!("127.0.0.1:{port}")),
            ("COPRODUCE_LOG_FORMAT".into(), "json".into()),
            ("COPRODUCE_JWT_SECRET".into(), random_secret()?),
            ("RUST_LOG".into(), cfg.log_level.into()),
            // The limits run on every request (their cost is measured) but never refuse one:
            // the load comes from one address and a few callers.
            ("COPRODUCE_CLIENT_RATE".into(), "1000000".into()),
            ("COPRODUCE_CLIENT_BURST".into(), "1000000".into()),
            ("COPRODUCE_ADDRESS_RATE".into(), "1000000".into()),
            ("COPRODUCE_ADDRESS_BURST".into(), "1000000".into()),
        ];
        if cfg.database_url.starts_with("postgres") {
            env.push(("COPRODUCE_DATA_KEY".into(), data_key().into()));
        }
        // Last, so that --server-env can override any of the above.
        env.extend(cfg.env.iter().cloned());
        let mut cmd = match cfg.wrapper.split_first() {
            Some((program, args)) => {
                let mut cmd = Command::new(program);
                cmd.args(args).arg(cfg.bin);
                cmd
            }
            None => Command::new(cfg.bin),
        };
        cmd.arg("serve").envs(env.iter().map(|(k, v)| (k, v)));
        let mut svc = Service::spawn(name, cmd, &log_dir.join(format!("{name}.log")), false)?;
        // Under valgrind the server starts tens of times slower.
        let limit = if cfg.wrapper.is_empty() { 60 } else { 300 };
        wait_ready(&mut svc, Duration::from_secs(limit), || {
            http::request("GET", port, "/readyz", &[], None).is_ok_and(|r| r.status == 200)
        })?;
        let mut srv = Self {
            svc,
            port,
            token: String::new(),
            bin: cfg.bin.to_owned(),
            env,
        };
        srv.token = srv.mint(&["--role", "admin"])?;
        log(format!("{name}: pid {} on 127.0.0.1:{port}", srv.svc.pid()));
        Ok(srv)
    }

    /// A token from `coproduce token` with these arguments (`--role provider --org ID`, ...),
    /// signed with this server's secret and valid for 2 hours.
    pub fn mint(&self, args: &[&str]) -> Result<String> {
        let mut cmd = Command::new(&self.bin);
        cmd.arg("token")
            .args(args)
            .args(["--ttl", "2h"])
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        Ok(run_ok(&mut cmd, Duration::from_secs(30))?.trim().to_owned())
    }

    pub fn bearer(&self) -> String {
        format!("Bearer {}", self.token)
    }
}
