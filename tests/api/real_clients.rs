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
    python_with("graphql")
}

/// The Python that can import `module`, or why there is none.
fn python_with(module: &str) -> Result<String, String> {
    let python = tool("COPRODUCE_PYTHON", "venv/bin/python", "python3");
    if works(&python, &["-c", &format!("import {module}")]) {
        Ok(python)
    } else {
        Err(format!("`{python}` cannot import {module}"))
    }
}

/// A client left running while the test goes on, whose output is read line by line.
struct Running {
    child: std::process::Child,
    lines: tokio::sync::mpsc::UnboundedReceiver<String>,
}

impl Running {
    fn start(mut command: Command) -> Self {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .process_group(0);
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = tokio::sync::mpsc::unbounded_channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self { child, lines }
    }

    /// The next line printed, or `None` when none comes within `limit`.
    async fn next_line(&mut self, limit: Duration) -> Option<String> {
        tokio::time::timeout(limit, self.lines.recv())
            .await
            .ok()
            .flatten()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
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

/// schemathesis over the OpenAPI document as an admin, a provider and a commissioner, and over
/// GraphQL as those three and a participant, side by side: at least 5,000 requests in all, and
/// not one failed check, error or 5xx.
#[tokio::test]
async fn schemathesis_finds_nothing_through_either_door_as_four_roles() {
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
    let commissioner_org = app
        .create_organisation("Schemathesis Commissioner", &["commissioner"])
        .await;
    let commissioner = helpers::token_as(
        "schemathesis-commissioner",
        &["commissioner"],
        Some(commissioner_org),
        None,
    );
    let (_, participant) = app.person().await;
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
        .arg(format!("commissioner={commissioner}"))
        .arg("--graphql")
        .arg(format!("admin={}", app.admin_token))
        .arg("--graphql")
        .arg(format!("provider={provider}"))
        .arg("--graphql")
        .arg(format!("commissioner={commissioner}"))
        .arg("--graphql")
        .arg(format!("participant={participant}"))
        .arg("--schemathesis")
        .arg(&schemathesis)
        .arg("--min-requests")
        .arg("5000")
        .arg("--report-dir")
        .arg(&reports)
        .arg("--summary-json")
        .arg(reports.join("summary.json"));
    let out = run(command, Duration::from_secs(600)).await;
    expect_pass(
        &out,
        &["PASS schemathesis"],
        &format!(
            "schemathesis found problems (reports in {}).",
            reports.display()
        ),
    );
}

/// A subscriber with the `gql` package, or why there is none.
fn subscriber(
    app: &TestApp,
    token: &str,
    query: &str,
    most: u32,
    seconds: u32,
) -> Result<Running, String> {
    let python = python_with("gql.transport.websockets")?;
    let mut command = Command::new(python);
    command
        .arg(clients_dir().join("subscribe.py"))
        .arg(format!(
            "{}/graphql/ws",
            app.address.replacen("http", "ws", 1)
        ))
        .arg(token)
        .arg(query)
        .arg(most.to_string())
        .arg(seconds.to_string());
    Ok(Running::start(command))
}

async fn ready(s: &mut Running, who: &str) {
    let line = s.next_line(Duration::from_secs(30)).await;
    assert_eq!(
        line.as_deref(),
        Some("ready"),
        "{who}: the subscriber did not start"
    );
}

const ACCEPTED: &str = "subscription { events(filter: { type: MEMBERSHIP_ACCEPTED }) { type organisationId participantId data } }";

#[tokio::test]
async fn gql_subscribers_get_the_events_they_may_see_within_a_second_and_nothing_else() {
    let test = "subscriptions";
    let app = helpers::spawn_app().await;
    let staff = crate::opportunities::provider(&app, "Camden Recovery Network").await;
    let other = crate::opportunities::provider(&app, "Elsewhere Trust").await;
    let person = app
        .register_participant(
            &staff.token,
            serde_json::json!({ "roles": ["lived_experience"] }),
        )
        .await;
    let person_token = helpers::token(&["participant"], None, Some(person));
    let work = crate::opportunities::create_work(
        &app,
        &staff.token,
        &crate::opportunities::work("Peer panel", serde_json::json!({})),
    )
    .await;
    let mut subscribers = Vec::new();
    for (who, token, seconds) in [
        ("staff", &staff.token, 20),
        ("the person", &person_token, 20),
        ("another organisation", &other.token, 6),
    ] {
        match subscriber(&app, token, ACCEPTED, 1, seconds) {
            Ok(s) => subscribers.push((who, s)),
            Err(why) => return unavailable(test, &why),
        }
    }
    for (who, s) in &mut subscribers {
        ready(s, who).await;
    }
    // The script says "ready" before its subscribe message is sent, and the feed carries only
    // what happens after a subscription is open: give the messages time to reach the server on
    // a machine busy with other tests.
    tokio::time::sleep(Duration::from_millis(3000)).await;
    let res = app
        .post(
            &format!("/api/v1/opportunities/{work}/members"),
            &staff.token,
            &serde_json::json!({ "participant_id": person, "joined_at": "2026-02-01T09:00:00Z" }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let changed = chrono::Utc::now().timestamp_millis() as f64 / 1000.0;
    for (who, s) in &mut subscribers[..2] {
        let line = s
            .next_line(Duration::from_secs(10))
            .await
            .unwrap_or_default();
        let rest = line
            .strip_prefix("event ")
            .unwrap_or_else(|| panic!("{who}: expected an event, got {line:?}"));
        let (at, body) = rest.split_once(' ').expect("time and body");
        let at: f64 = at.parse().expect("seconds");
        assert!(
            at - changed < 1.0,
            "{who}: the event came {:.3} s after the change",
            at - changed
        );
        let body: serde_json::Value = serde_json::from_str(body).expect("json");
        assert_eq!(
            body["events"]["type"], "MEMBERSHIP_ACCEPTED",
            "{who}: {body}"
        );
        assert_eq!(
            body["events"]["participantId"],
            person.to_string(),
            "{who}: {body}"
        );
    }
    let (_, outsider) = &mut subscribers[2];
    let line = outsider.next_line(Duration::from_secs(15)).await;
    assert_eq!(
        line.as_deref(),
        Some("timeout"),
        "another organisation's subscriber got {line:?}"
    );
}

#[tokio::test]
async fn a_subscription_needs_a_valid_token_and_ends_when_the_token_expires() {
    let test = "subscription-token";
    let app = helpers::spawn_app().await;
    let org = app
        .create_organisation("Camden Recovery Network", &["provider"])
        .await;
    let mut refused = match subscriber(&app, "-", ACCEPTED, 1, 10) {
        Ok(s) => s,
        Err(why) => return unavailable(test, &why),
    };
    let line = refused
        .next_line(Duration::from_secs(20))
        .await
        .unwrap_or_default();
    assert!(line.starts_with("refused"), "without a token: {line:?}");
    let mut forged = subscriber(&app, "not-a-token", ACCEPTED, 1, 10).expect("gql");
    let line = forged
        .next_line(Duration::from_secs(20))
        .await
        .unwrap_or_default();
    assert!(line.starts_with("refused"), "with a forged token: {line:?}");
    // Long enough for the client to start and connect on a busy machine before it expires.
    let expires = chrono::Utc::now().timestamp() + 8;
    let short = helpers::token_until("short", &["provider"], Some(org), None, expires);
    let mut s = subscriber(&app, &short, ACCEPTED, 5, 30).expect("gql");
    ready(&mut s, "short-lived").await;
    let line = s.next_line(Duration::from_secs(20)).await;
    assert_eq!(
        line.as_deref(),
        Some("complete"),
        "the subscription did not end with its token"
    );
    assert!(chrono::Utc::now().timestamp() >= expires - 1);
}

/// Subscriptions run on their own schema, which checks the aliases through an extension
/// (`POST /graphql` checks them itself): 31 are refused, 30 accepted.
#[tokio::test]
async fn a_subscription_that_renames_too_many_fields_is_refused() {
    let test = "subscription-aliases";
    let app = helpers::spawn_app().await;
    let org = app
        .create_organisation("Camden Recovery Network", &["provider"])
        .await;
    let staff = helpers::token(&["provider"], Some(org), None);
    let aliased = |n: usize| {
        let fields: Vec<String> = (0..n).map(|i| format!("a{i}: type")).collect();
        format!("subscription {{ events {{ {} }} }}", fields.join(" "))
    };
    let mut refused = match subscriber(&app, &staff, &aliased(31), 1, 10) {
        Ok(s) => s,
        Err(why) => return unavailable(test, &why),
    };
    ready(&mut refused, "31 aliases").await;
    let line = refused
        .next_line(Duration::from_secs(20))
        .await
        .unwrap_or_default();
    assert!(
        line.starts_with("refused") && line.contains("at most 30 are accepted"),
        "31 aliases: {line:?}"
    );
    let mut accepted = subscriber(&app, &staff, &aliased(30), 1, 2).expect("gql");
    ready(&mut accepted, "30 aliases").await;
    let line = accepted.next_line(Duration::from_secs(20)).await;
    assert_eq!(line.as_deref(), Some("timeout"), "30 aliases");
}

#[tokio::test]
async fn the_standard_webhooks_library_verifies_what_is_delivered() {
    let test = "standardwebhooks";
    let python = match python_with("standardwebhooks") {
        Ok(p) => p,
        Err(why) => return unavailable(test, &why),
    };
    let app = crate::webhooks::app_with_schedule("100ms").await;
    let receiver = crate::webhooks::Receiver::start(&[]).await;
    let staff = crate::opportunities::provider(&app, "Camden Recovery Network").await;
    let (_, secret) =
        crate::webhooks::register(&app, &staff, &receiver.url, serde_json::json!([])).await;
    let work = crate::opportunities::create_work(
        &app,
        &staff.token,
        &crate::opportunities::work("Peer panel", serde_json::json!({})),
    )
    .await;
    for verb in ["advertise", "start"] {
        assert_eq!(
            crate::opportunities::move_work(&app, &staff.token, &work, verb)
                .await
                .status,
            200
        );
    }
    let got = receiver.wait_for(2).await;
    let deliveries: Vec<serde_json::Value> = got
        .iter()
        .map(|r| {
            serde_json::json!({
                "headers": r.headers,
                "body": String::from_utf8_lossy(&r.body),
            })
        })
        .collect();
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("deliveries.json");
    std::fs::write(
        &file,
        serde_json::to_vec(&serde_json::json!({ "secret": secret, "deliveries": deliveries }))
            .expect("json"),
    )
    .expect("write");
    let mut command = Command::new(python);
    command
        .arg(clients_dir().join("verify_webhook.py"))
        .arg(&file);
    let out = run(command, Duration::from_secs(60)).await;
    expect_pass(
        &out,
        &["verified 2"],
        "the Standard Webhooks reference library does not verify the deliveries",
    );
}

#[tokio::test]
async fn the_printable_report_renders_in_chromium_with_its_chart_and_runs_no_script() {
    let test = "report-page";
    let w = crate::evidence_report::world().await;
    // The screenshot and the A4 PDF are kept with the build's output, for people to look at.
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/artefacts");
    let command = match browser_command("report-page.mjs", &w.app) {
        Ok(mut c) => {
            c.arg(format!(
                "/api/v1/reports/evidence?contract={}&format=html",
                w.contract
            ))
            .arg(&w.staff.token)
            .arg(&out);
            c
        }
        Err(why) => return unavailable(test, &why),
    };
    let out = run(command, Duration::from_secs(120)).await;
    expect_pass(
        &out,
        &["PASS report-page"],
        "The printable evidence report did not render as it should in Chromium.",
    );
}
