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
    pub token: String,
}

pub struct ServerConfig<'a> {
    pub bin: &'a Path,
    pub database_url: &'a str,
    pub data_dir: &'a Path,
    pub log_level: &'a str,
    /// Extra KEY=VALUE settings (COPRODUCE_POOL_SIZE=8, ...).
    pub env: &'a [(String, String)],
}

impl Server {
    pub fn start(cfg: &ServerConfig, name: &str, log_dir: &Path) -> Result<Self> {
        let port = free_port()?;
        let secret = random_secret()?;
        let set_env = |cmd: &mut Command| {
            cmd.env("DATABASE_URL", cfg.database_url)
                .env("COPRODUCE_DATA_DIR", cfg.data_dir)
                .env("COPRODUCE_BIND", format!("127.0.0.1:{port}"))
                .env("COPRODUCE_LOG_FORMAT", "json")
                .env("COPRODUCE_JWT_SECRET", &secret)
                .env("RUST_LOG", cfg.log_level)
                .envs(cfg.env.iter().map(|(k, v)| (k, v)));
        };
        let mut cmd = Command::new(cfg.bin);
        cmd.arg("serve");
        set_env(&mut cmd);
        let mut svc = Service::spawn(name, cmd, &log_dir.join(format!("{name}.log")), false)?;
        wait_ready(&mut svc, Duration::from_secs(60), || {
            http::request("GET", port, "/readyz", &[], None).is_ok_and(|r| r.status == 200)
        })?;
        let mut cmd = Command::new(cfg.bin);
        cmd.args(["token", "--role", "admin", "--ttl", "2h"]);
        set_env(&mut cmd);
        let token = run_ok(&mut cmd, Duration::from_secs(30))?.trim().to_owned();
        log(format!("{name}: pid {} on 127.0.0.1:{port}", svc.pid()));
        Ok(Self { svc, port, token })
    }

    pub fn bearer(&self) -> String {
        format!("Bearer {}", self.token)
    }
}
