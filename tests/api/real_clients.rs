//! Real clients against the real service: GraphiQL and Swagger UI in Chromium (driven by
//! playwright-core), graphql-core's full introspection query, and schemathesis with all its checks
//! over the OpenAPI document. The scripts live in `tests/clients/`.
//!
//! The tools are found through these variables (`.ci/run` installs them and sets them):
//! - `COPRODUCE_REAL_CLIENTS`: `required` makes a missing tool a failure; otherwise such a test
//!   says why and passes.
//! - `COPRODUCE_NODE` (default `node`), `COPRODUCE_NODE_MODULES` (a `node_modules` holding
//!   playwright-core; default `~/.cache/coproduce-ci/node/node_modules`), `COPRODUCE_CHROMIUM`
//!   (default `/usr/bin/chromium`).
//! - `COPRODUCE_PYTHON` (with graphql-core; default `~/.cache/coproduce-ci/venv/bin/python`, else
//!   `python3`), `COPRODUCE_SCHEMATHESIS` (default `~/.cache/coproduce-ci/venv/bin/schemathesis`,
//!   else `schemathesis`).

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::{self, TestApp};

/// What an external client printed and how it ended.
struct Run {
    success: bool,
    status: String,
    stdout: String,
    stderr: String,
}

impl Run {
    fn describe(&self) -> String {
        format!(
            "exit: {}\n--- stdout\n{}\n--- stderr\n{}",
            self.status, self.stdout, self.stderr
        )
    }
}

/// Passes when the client exited 0 and printed each of `pass_markers`; else fails with its output.
fn expect_pass(out: &Run, pass_markers: &[&str], headline: &str) {
    if out.success && pass_markers.iter().all(|m| out.stdout.contains(m)) {
        println!("{}", out.describe());
    } else {
        panic!("{headline}\n{}", out.describe());
    }
}

fn required() -> bool {
    std::env::var("COPRODUCE_REAL_CLIENTS").is_ok_and(|v| v == "required")
}

/// Says why the test cannot run; fails it when the real clients are required.
fn unavailable(test: &str, why: &str) {
    assert!(
        !required(),
        "{test}: {why} (COPRODUCE_REAL_CLIENTS=required; run .ci/run to install the tools)"
    );
    println!("{test}: skipped: {why} (set COPRODUCE_REAL_CLIENTS=required to make this a failure)");
}

fn clients_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients")
}

fn cache_dir() -> Option<PathBuf> {
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/coproduce-ci"))
}

/// The variable's value, else the first default that exists, else the fallback command name.
fn tool(var: &str, default_in_cache: &str, fallback: &str) -> String {
    if let Ok(v) = std::env::var(var) {
        if !v.is_empty() {
            return v;
        }
    }
    cache_dir()
        .filter(|_| !default_in_cache.is_empty())
        .map(|c| c.join(default_in_cache))
        .filter(|p| p.exists())
        .map_or_else(|| fallback.to_owned(), |p| p.display().to_string())
}

/// Whether `program args` runs and exits 0 (a quick probe for a tool).
fn works(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs a command off the async runtime (the app under test keeps serving), killing it after
/// `limit`.
async fn run(mut command: Command, limit: Duration) -> Run {
    tokio::task::spawn_blocking(move || {
        let dir = tempfile::tempdir().expect("temp dir");
        let (out_path, err_path) = (dir.path().join("stdout"), dir.path().join("stderr"));
        command
            .stdin(Stdio::null())
            .stdout(File::create(&out_path).expect("stdout file"))
            .stderr(File::create(&err_path).expect("stderr file"));
        // Its own process group, so a timeout also ends what it started (schemathesis, Chromium).
        command.process_group(0);
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
        let started = Instant::now();
        let (success, status) = loop {
            if let Some(status) = child.try_wait().expect("wait") {
                break (status.success(), format!("{status}"));
            }
            if started.elapsed() > limit {
                let _ = Command::new("kill")
                    .args(["-KILL", &format!("-{}", child.id())])
                    .status();
                let _ = child.kill();
                let _ = child.wait();
                break (false, format!("killed after {} s", limit.as_secs()));
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        let read =
            |p: &Path| String::from_utf8_lossy(&std::fs::read(p).unwrap_or_default()).into_owned();
        Run {
            success,
            status,
            stdout: read(&out_path),
            stderr: read(&err_path),
        }
    })
    .await
    .expect("the client's thread")
}

/// A command for a browser script, or why one cannot run.
fn browser_command(script: &str, app: &TestApp) -> Result<Command, String> {
    let node = tool("COPRODUCE_NODE", "", "node");
    if !works(&node, &["--version"]) {
        return Err(format!("Node.js (`{node}`) is not available"));
    }
    let modules = tool("COPRODUCE_NODE_MODULES", "node/node_modules", "");
    if modules.is_empty() || !Path::new(&modules).join("playwright-core").is_dir() {
        return Err(format!(
            "playwright-core is not installed (COPRODUCE_NODE_MODULES={modules:?})"
        ));
    }
    let chromium = std::env::var("COPRODUCE_CHROMIUM")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "/usr/bin/chromium".to_owned());
    if !Path::new(&chromium).exists() {
        return Err(format!("Chromium is not installed at {chromium}"));
    }
    let mut command = Command::new(node);
    command
        .arg(clients_dir().join(script))
        .arg(&app.address)
        .env("COPRODUCE_NODE_MODULES", modules)
        .env("COPRODUCE_CHROMIUM", chromium);
    Ok(command)
}

/// The Python with graphql-core, or why there is none.
fn python_with_graphql() -> Result<String, String> {
    let python = tool("COPRODUCE_PYTHON", "venv/bin/python", "python3");
    if works(&python, &["-c", "import graphql"]) {
        Ok(python)
    } else {
        Err(format!("`{python}` cannot import graphql-core"))
    }
}

#[tokio::test]
async fn graphiql_in_chromium_shows_the_schema_without_a_token() {
    let test = "graphiql";
    let app = helpers::spawn_app().await;
    let command = match browser_command("graphiql.mjs", &app) {
        Ok(c) => c,
        Err(why) => return unavailable(test, &why),
    };
    let out = run(command, Duration::from_secs(120)).await;
    expect_pass(
        &out,
        &["PASS graphiql"],
        &format!(
            "GraphiQL at {}/graphql does not show the schema in its documentation explorer.",
            app.address
        ),
    );
}

#[tokio::test]
async fn swagger_ui_in_chromium_lists_the_operations() {
    let test = "swagger-ui";
    let app = helpers::spawn_app().await;
    let command = match browser_command("swagger-ui.mjs", &app) {
        Ok(mut c) => {
            c.arg("20");
            c
        }
        Err(why) => return unavailable(test, &why),
    };
    let out = run(command, Duration::from_secs(120)).await;
    expect_pass(
        &out,
        &["PASS swagger-ui"],
        &format!(
            "Swagger UI at {}/docs/ does not list the operations.",
            app.address
        ),
    );
}

#[tokio::test]
async fn graphql_core_full_introspection_builds_a_client_schema() {
    let test = "introspection";
    let app = helpers::spawn_app().await;
    let python = match python_with_graphql() {
        Ok(p) => p,
        Err(why) => return unavailable(test, &why),
    };
    let mut command = Command::new(python);
    command
        .arg(clients_dir().join("introspection.py"))
        .arg(&app.address)
        .arg(&app.admin_token);
    let out = run(command, Duration::from_secs(120)).await;
    expect_pass(
        &out,
        &["PASS without a token", "PASS with a valid token"],
        "graphql-core's introspection query is not answered in full, without and with a token.",
    );
}

#[tokio::test]
async fn schemathesis_finds_nothing_as_admin_or_provider() {
    let test = "schemathesis";
    let app = helpers::spawn_app().await;
    let python = match python_with_graphql() {
        Ok(p) => p,
        Err(why) => return unavailable(test, &why),
    };
    let schemathesis = tool(
        "COPRODUCE_SCHEMATHESIS",
        "venv/bin/schemathesis",
        "schemathesis",
    );
    if !works(&schemathesis, &["--version"]) {
        return unavailable(
            test,
            &format!("schemathesis (`{schemathesis}`) is not available"),
        );
    }
    let org = app
        .create_organisation("Schemathesis Provider", &["provider"])
        .await;
    let provider = helpers::token(&["provider"], Some(org), None);
    let backend = if helpers::on_postgres() {
        "postgres"
    } else {
        "sqlite"
    };
    // Kept after the test, so a failure can be looked into.
    let reports = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("real-clients")
        .join(format!("schemathesis-{backend}"));
    let _ = std::fs::remove_dir_all(&reports);
    let mut command = Command::new(python);
    command
        .arg(clients_dir().join("schemathesis_run.py"))
        .arg(&app.address)
        .arg(format!("admin={}", app.admin_token))
        .arg(format!("provider={provider}"))
        .arg("--schemathesis")
        .arg(&schemathesis)
        .arg("--min-requests")
        .arg("2000")
        .arg("--report-dir")
        .arg(&reports)
        .arg("--summary-json")
        .arg(reports.join("summary.json"));
    let out = run(command, Duration::from_secs(300)).await;
    expect_pass(
        &out,
        &["PASS schemathesis"],
        &format!(
            "schemathesis found problems (reports in {}).",
            reports.display()
        ),
    );
}
