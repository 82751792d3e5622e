//! The `coproduce` command: migrate, token, export-schemas, and serve stopping gracefully.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::helpers::{fresh_database, DATA_KEY, JWT_SECRET};

const BIN: &str = env!("CARGO_BIN_EXE_coproduce");

fn command(database_url: &str, data_dir: &std::path::Path) -> Command {
    let mut c = Command::new(BIN);
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", database_url)
        .env("COPRODUCE_DATA_DIR", data_dir)
        .env("COPRODUCE_BIND", "127.0.0.1:0")
        .env("COPRODUCE_WORKERS", "1")
        .env("COPRODUCE_LOG_FORMAT", "json");
    // On PostgreSQL every instance must share these secrets, so none is made on first use.
    if database_url.starts_with("postgres") {
        c.env("COPRODUCE_JWT_SECRET", JWT_SECRET);
        c.env("COPRODUCE_DATA_KEY", DATA_KEY);
    }
    c
}

#[test]
fn migrate_applies_every_migration_to_an_empty_database_once() {
    let dir = tempfile::tempdir().expect("dir");
    let (url, _db) = fresh_database(dir.path());
    let out = command(&url, dir.path())
        .arg("migrate")
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let first = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(!first.starts_with("0 "), "{first}");
    let out = command(&url, dir.path())
        .arg("migrate")
        .output()
        .expect("run");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "0 migrations applied"
    );
}

#[tokio::test]
async fn a_token_from_the_command_line_is_accepted_by_the_server_beside_it_and_sigterm_stops_it_cleanly(
) {
    let dir = tempfile::tempdir().expect("dir");
    let (url, _db) = fresh_database(dir.path());
    let mut server = command(&url, dir.path())
        .arg("serve")
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve");
    let stderr = server.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let port = loop {
        let line = lines
            .next()
            .expect("the server logs that it listens")
            .expect("line");
        if line.contains("\"listening\"") {
            let v: serde_json::Value = serde_json::from_str(&line).expect("json log");
            break v["port"].as_u64().expect("port");
        }
    };
    let token = command(&url, dir.path())
        .args(["token", "--role", "admin", "--ttl", "5m"])
        .output()
        .expect("token");
    assert!(
        token.status.success(),
        "{}",
        String::from_utf8_lossy(&token.stderr)
    );
    let token = String::from_utf8_lossy(&token.stdout).trim().to_owned();

    let res = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/api/v1/organisations"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 200);

    let killed = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let exit = server.wait().expect("wait");
    assert!(exit.success(), "SIGTERM ends the server cleanly: {exit:?}");
}

#[test]
fn export_schemas_check_fails_on_drift_and_passes_on_the_committed_files() {
    let out = Command::new(BIN)
        .args([
            "export-schemas",
            "--check",
            "--dir",
            env!("CARGO_MANIFEST_DIR"),
        ])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let dir = tempfile::tempdir().expect("dir");
    std::fs::create_dir_all(dir.path().join("openapi")).expect("dir");
    std::fs::write(dir.path().join("schema.graphql"), "type Stale { x: Int }\n").expect("write");
    let out = Command::new(BIN)
        .args(["export-schemas", "--check", "--dir"])
        .arg(dir.path())
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("export-schemas"));

    let out = Command::new(BIN)
        .args(["export-schemas", "--dir"])
        .arg(dir.path())
        .output()
        .expect("run");
    assert!(out.status.success());
    let written = std::fs::read_to_string(dir.path().join("schema.graphql")).expect("read");
    assert_eq!(written, coproduce::graphql::sdl());
}

#[test]
fn a_token_with_an_unknown_role_is_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let out = command("sqlite://x.db", dir.path())
        .args(["token", "--role", "superuser"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown role"));
}
