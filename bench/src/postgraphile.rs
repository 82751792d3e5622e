//! PostGraphile 4 and 5 from npm, on the Node.js 22 of the npm package `node@22`, each with two
//! workers of node's cluster module. Installs are cached under ~/.cache/coproduce-bench.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::http;
use crate::procs::{ensure_tool, free_port, log, run_ok, wait_ready, Service};

/// Production settings from PostGraphile 4's CLI documentation ("For Production"), less the
/// plugins and subscriptions; no --watch. Two cluster workers.
const PGL4_FLAGS: &[&str] = &[
    "--retry-on-init-fail",
    "--dynamic-json",
    "--no-setof-functions-contain-nulls",
    "--no-ignore-rbac",
    "--extended-errors",
    "errcode",
    "--disable-graphiql",
    "--enable-query-batching",
    "--disable-query-log",
    "--legacy-relations",
    "omit",
    "--cluster-workers",
    "2",
];

/// PostGraphile 5: the amber preset over `makePgService`, served by grafserv's node adaptor in
/// two cluster workers (node's cluster module shares the port).
const PGL5_LAUNCHER: &str = r#"// Written by coproduce-bench: PostGraphile 5 in two cluster workers.
const cluster = require("node:cluster");
const http = require("node:http");
const workers = Number(process.env.PGL_WORKERS || 2);
if (cluster.isPrimary) {
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on("exit", (w, code, signal) => {
    console.error(`worker ${w.process.pid} exited (${code ?? signal})`);
    process.exit(1);
  });
} else {
  const { postgraphile } = require("postgraphile");
  const { PostGraphileAmberPreset } = require("postgraphile/presets/amber");
  const { makePgService } = require("postgraphile/adaptors/pg");
  const { grafserv } = require("postgraphile/grafserv/node");
  const preset = {
    extends: [PostGraphileAmberPreset],
    pgServices: [makePgService({ connectionString: process.env.PGL_DATABASE_URL, schemas: ["public"] })],
    grafserv: { graphqlPath: "/graphql", graphiql: false, watch: false },
    grafast: { explain: false },
  };
  const serv = postgraphile(preset).createServ(grafserv);
  const server = http.createServer();
  server.on("error", (e) => { console.error(e); process.exit(1); });
  Promise.resolve(serv.addTo(server))
    .then(() => server.listen(Number(process.env.PGL_PORT), "127.0.0.1", () =>
      console.log(`worker ${process.pid} listening on port ${process.env.PGL_PORT}`)))
    .catch((e) => { console.error(e); process.exit(1); });
}
"#;

pub fn cache_dir() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp"))
        .join(".cache/coproduce-bench")
}

/// `npm install <spec>` into `<cache>/<folder>` unless `<package>` is there already; its version.
fn npm_install(folder: &str, spec: &str, package: &str) -> Result<(PathBuf, String)> {
    let dir = cache_dir().join(folder);
    let manifest = dir.join("node_modules").join(package).join("package.json");
    if !manifest.is_file() {
        ensure_tool("npm", &["nodejs", "npm"])?;
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("package.json"), "{\"private\": true}\n")?;
        log(format!("npm install {spec} into {}", dir.display()));
        run_ok(
            Command::new("npm")
                .args([
                    "install",
                    "--no-audit",
                    "--no-fund",
                    "--loglevel=error",
                    spec,
                ])
                .current_dir(&dir),
            Duration::from_secs(600),
        )
        .with_context(|| format!("npm install {spec}"))?;
    }
    let text = std::fs::read_to_string(&manifest)
        .with_context(|| format!("{spec} is not installed in {}", dir.display()))?;
    let json: serde_json::Value = serde_json::from_str(&text)?;
    Ok((dir, json["version"].as_str().unwrap_or("?").to_owned()))
}

/// Node.js 22 from the npm package `node@22`.
pub fn node22() -> Result<PathBuf> {
    let (dir, version) = npm_install("node22", "node@22", "node")?;
    let node = dir.join("node_modules/node/bin/node");
    let v = run_ok(
        Command::new(&node).arg("--version"),
        Duration::from_secs(30),
    )?;
    if !v.trim().starts_with("v22.") {
        bail!("node@22 ({version}) runs as {}", v.trim());
    }
    Ok(node)
}

pub struct Postgraphile {
    pub svc: Service,
    pub port: u16,
    pub label: String,
}

/// Starts PostGraphile `major` (4 or 5) against `db_url`; waits for both workers.
pub fn start(major: u32, node: &Path, db_url: &str, log_dir: &Path) -> Result<Postgraphile> {
    let port = free_port()?;
    let (dir, version) = npm_install(
        &format!("pgl{major}"),
        &format!("postgraphile@{major}"),
        "postgraphile",
    )?;
    let mut cmd = Command::new(node);
    cmd.current_dir(&dir).env("NODE_ENV", "production");
    match major {
        4 => {
            cmd.arg(dir.join("node_modules/.bin/postgraphile"))
                .args(["-c", db_url, "--schema", "public", "--host", "127.0.0.1"])
                .args(["--port", &port.to_string()])
                .args(PGL4_FLAGS);
        }
        5 => {
            let launcher = dir.join("bench-launcher.js");
            std::fs::write(&launcher, PGL5_LAUNCHER)?;
            cmd.arg(&launcher)
                .env("PGL_DATABASE_URL", db_url)
                .env("PGL_PORT", port.to_string())
                .env("PGL_WORKERS", "2");
        }
        _ => bail!("PostGraphile {major} is not known here"),
    }
    let label = format!("PostGraphile {version}");
    let name = format!("postgraphile{major}");
    let mut svc = Service::spawn(&name, cmd, &log_dir.join(format!("{name}.log")), true)?;
    wait_ready(&mut svc, Duration::from_secs(120), || {
        http::graphql(port, None, "{ __typename }").is_ok()
    })?;
    let log_path = svc.log.clone();
    // Both cluster workers listening (each says so), or at most 30 s more.
    let _ = wait_ready(&mut svc, Duration::from_secs(30), || {
        std::fs::read_to_string(&log_path)
            .map(|t| t.matches("listening on port").count() >= 2)
            .unwrap_or(false)
    });
    log(format!(
        "{label}: group {} (2 cluster workers) on 127.0.0.1:{port}",
        svc.pid()
    ));
    Ok(Postgraphile { svc, port, label })
}
