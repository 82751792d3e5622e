//! The `coproduce` command: migrate, token, healthcheck, export-schemas, and serve stopping
//! gracefully (finishing the requests in flight).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

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

/// The port a `serve` started with JSON logs says it listens on.
fn listening_port(server: &mut std::process::Child) -> u64 {
    let stderr = server.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    loop {
        let line = lines
            .next()
            .expect("the server logs that it listens")
            .expect("line");
        if line.contains("\"listening\"") {
            let v: serde_json::Value = serde_json::from_str(&line).expect("json log");
            return v["port"].as_u64().expect("port");
        }
    }
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
async fn a_token_from_the_command_line_is_accepted_by_the_server_beside_it_and_sigterm_drains_it() {
    let dir = tempfile::tempdir().expect("dir");
    let (url, _db) = fresh_database(dir.path());
    let mut server = command(&url, dir.path())
        .arg("serve")
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve");
    let port = listening_port(&mut server);
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

    // The container health check's own command agrees, and fails against a closed port.
    let health = Command::new(BIN)
        .args([
            "healthcheck",
            "--url",
            &format!("http://127.0.0.1:{port}/healthz"),
        ])
        .output()
        .expect("healthcheck");
    assert!(
        health.status.success(),
        "{}",
        String::from_utf8_lossy(&health.stderr)
    );
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let closed_port = closed.local_addr().expect("address").port();
    drop(closed);
    let health = Command::new(BIN)
        .args([
            "healthcheck",
            "--url",
            &format!("http://127.0.0.1:{closed_port}/healthz"),
        ])
        .output()
        .expect("healthcheck");
    assert!(!health.status.success(), "nothing listens there");

    // A request in flight when SIGTERM comes: its head and half its body are sent first.
    let body = r#"{"name": "Sent across the stop", "kinds": ["provider"]}"#;
    let mut in_flight = tokio::net::TcpStream::connect(("127.0.0.1", port as u16))
        .await
        .expect("connect");
    let head = format!(
        "POST /api/v1/organisations HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    in_flight
        .write_all(format!("{head}{}", &body[..10]).as_bytes())
        .await
        .expect("write");
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    let killed = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    // The server stops taking connections...
    let mut refused = false;
    for _ in 0..50 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port as u16))
            .await
            .is_err()
        {
            refused = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(refused, "no new connection is taken once SIGTERM has come");
    // ...and finishes the one in flight.
    in_flight
        .write_all(&body.as_bytes()[10..])
        .await
        .expect("write the rest");
    let mut answer = String::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        in_flight.read_to_string(&mut answer),
    )
    .await
    .expect("answered within 10 s")
    .expect("read");
    assert!(
        answer.starts_with("HTTP/1.1 201"),
        "the request in flight completes: {answer}"
    );
    let exit = server.wait().expect("wait");
    assert!(exit.success(), "SIGTERM ends the server cleanly: {exit:?}");
    let stored = crate::helpers::stored_text(&url, "SELECT name AS t FROM organisations");
    assert_eq!(stored, ["Sent across the stop"]);
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

/// An OTLP/HTTP collector stand-in: the first `POST /v1/traces` it receives, head and body.
fn collect_one_export(listener: std::net::TcpListener) -> std::sync::mpsc::Receiver<Vec<u8>> {
    use std::io::{Read, Write};
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(5)));
            let mut received = Vec::new();
            let mut buf = [0u8; 8192];
            // Read the head, then as many body bytes as Content-Length says.
            loop {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => received.extend_from_slice(&buf[..n]),
                }
                let text = String::from_utf8_lossy(&received).to_ascii_lowercase();
                if let Some(end) = text.find("\r\n\r\n") {
                    let length = text[..end]
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if received.len() >= end + 4 + length {
                        break;
                    }
                }
            }
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
            if received.starts_with(b"POST /v1/traces") {
                let _ = tx.send(received);
                return;
            }
        }
    });
    rx
}

#[tokio::test]
async fn with_an_otlp_endpoint_set_request_spans_are_exported() {
    let dir = tempfile::tempdir().expect("dir");
    let (url, _db) = fresh_database(dir.path());
    let collector = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let endpoint = format!("http://{}", collector.local_addr().expect("address"));
    let exports = collect_one_export(collector);
    let mut server = command(&url, dir.path())
        .arg("serve")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)
        .env("OTEL_BSP_SCHEDULE_DELAY", "200")
        .env("OTEL_SERVICE_NAME", "coproduce-under-test")
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve");
    let port = listening_port(&mut server);
    let res = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/healthz"))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 200);
    let export = tokio::task::spawn_blocking(move || {
        exports.recv_timeout(std::time::Duration::from_secs(15))
    })
    .await
    .expect("join")
    .expect("spans exported within 15 s");
    let _ = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    let _ = server.wait();
    let text = String::from_utf8_lossy(&export).to_ascii_lowercase();
    assert!(
        text.contains("content-type: application/x-protobuf"),
        "{text}"
    );
    // The protobuf carries the service's name and the request span's name as plain bytes.
    let contains = |needle: &[u8]| export.windows(needle.len()).any(|w| w == needle);
    assert!(contains(b"coproduce-under-test"), "the service's name");
    assert!(contains(b"request"), "the request span");
    assert!(contains(b"/healthz"), "the request's path");
}
