//! Protections: rate limits per client and per address, limits on request headers, a time
//! limit on each request, CORS for configured origins only, security headers on HTML pages and
//! GraphQL's limits on aliases and batches.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{self, read, spawn_app_with, token_as, Answer, TestApp};

async fn get_as(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
) -> Answer {
    let mut req = app.client.get(app.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    read(req.send().await.expect("get")).await
}

fn assert_limited(res: &Answer, who: &str) {
    assert_eq!(res.status, 429, "{who}: {}", res.text);
    assert_eq!(res.problem_code(), "too_many_requests");
    let retry: u64 = res
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{who}: a 429 says when to retry: {:?}", res.headers));
    assert!(retry >= 1, "{who}: Retry-After {retry}");
    let policy = res.header("ratelimit-policy").unwrap_or_default();
    assert!(policy.contains(";q="), "{who}: RateLimit-Policy {policy:?}");
    let remaining = res.header("ratelimit").unwrap_or_default();
    assert!(remaining.contains(";r=0"), "{who}: RateLimit {remaining:?}");
}

#[tokio::test]
async fn each_client_has_its_own_bucket_through_both_doors_and_probes_are_never_limited() {
    let app = spawn_app_with(|v| {
        v.insert("COPRODUCE_CLIENT_RATE".into(), "0.5".into());
        v.insert("COPRODUCE_CLIENT_BURST".into(), "3".into());
        v.insert("COPRODUCE_ADDRESS_RATE".into(), "0".into());
    })
    .await;
    let alice = token_as("alice", &["admin"], None, None);
    let bob = token_as("bob", &["admin"], None, None);
    for left in (0..3).rev() {
        let res = get_as(&app, "/api/v1/organisations", Some(&alice), &[]).await;
        assert_eq!(res.status, 200, "{}", res.text);
        let header = res.header("ratelimit").unwrap_or_default();
        assert!(
            header.starts_with("\"client\";") && header.contains(&format!(";r={left};")),
            "request {} leaves {left}: {header:?}",
            3 - left
        );
    }
    assert_limited(
        &get_as(&app, "/api/v1/organisations", Some(&alice), &[]).await,
        "REST, fourth request",
    );
    // GraphQL draws on the same bucket.
    let res = read(
        app.client
            .post(app.url("/graphql"))
            .bearer_auth(&alice)
            .json(&json!({ "query": "{ organisations { edges { node { id } } } }" }))
            .send()
            .await
            .expect("post"),
    )
    .await;
    assert_limited(&res, "GraphQL");
    // Another client is not held back by the first.
    let res = get_as(&app, "/api/v1/organisations", Some(&bob), &[]).await;
    assert_eq!(res.status, 200, "{}", res.text);
    // Nor are the probes and the scrape.
    for path in ["/healthz", "/readyz", "/metrics"] {
        for _ in 0..5 {
            let res = get_as(&app, path, None, &[]).await;
            assert_eq!(res.status, 200, "{path}: {}", res.text);
        }
    }
    // The bucket refills at half a request a second.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let res = get_as(&app, "/api/v1/organisations", Some(&alice), &[]).await;
    assert_eq!(res.status, 200, "refilled: {}", res.text);
}

#[tokio::test]
async fn an_address_is_limited_and_forwarded_for_counts_only_from_a_trusted_proxy() {
    let app = spawn_app_with(|v| {
        v.insert("COPRODUCE_CLIENT_RATE".into(), "0".into());
        v.insert("COPRODUCE_ADDRESS_RATE".into(), "0.1".into());
        v.insert("COPRODUCE_ADDRESS_BURST".into(), "2".into());
    })
    .await;
    // Unauthenticated requests count too: a flood without a token is turned away before any
    // work is done for it.
    for _ in 0..2 {
        let res = get_as(&app, "/api/v1/organisations", None, &[]).await;
        assert_eq!(res.status, 401, "{}", res.text);
    }
    let res = get_as(&app, "/api/v1/organisations", None, &[]).await;
    assert_limited(&res, "third request from the address");
    assert!(res.text.contains("address"), "{}", res.text);
    // A forged X-Forwarded-For from a caller that is not a trusted proxy changes nothing.
    let res = get_as(
        &app,
        "/api/v1/organisations",
        None,
        &[("X-Forwarded-For", "198.51.100.23")],
    )
    .await;
    assert_limited(&res, "forged X-Forwarded-For");

    let proxied = spawn_app_with(|v| {
        v.insert("COPRODUCE_CLIENT_RATE".into(), "0".into());
        v.insert("COPRODUCE_ADDRESS_RATE".into(), "0.1".into());
        v.insert("COPRODUCE_ADDRESS_BURST".into(), "2".into());
        v.insert("COPRODUCE_TRUSTED_PROXIES".into(), "127.0.0.1/32".into());
    })
    .await;
    // Behind a trusted proxy, each address it names has its own bucket.
    for client in ["198.51.100.1", "198.51.100.2"] {
        for _ in 0..2 {
            let res = get_as(&proxied, "/healthz", None, &[]).await;
            assert_eq!(res.status, 200);
            let res = get_as(
                &proxied,
                "/api/v1/glossary",
                None,
                &[("X-Forwarded-For", client)],
            )
            .await;
            assert_ne!(res.status, 429, "{client}: {}", res.text);
        }
        let res = get_as(
            &proxied,
            "/api/v1/glossary",
            None,
            &[("X-Forwarded-For", client)],
        )
        .await;
        assert_limited(&res, client);
    }
}

#[tokio::test]
async fn too_many_or_too_large_header_fields_are_a_431_problem() {
    let app = helpers::spawn_app().await;
    let mut req = app
        .client
        .get(app.url("/api/v1/organisations"))
        .bearer_auth(&app.admin_token);
    for i in 0..70 {
        req = req.header(format!("x-extra-{i}"), "1");
    }
    let res = read(req.send().await.expect("get")).await;
    assert_eq!(res.status, 431, "{}", res.text);
    assert_eq!(res.problem_code(), "request_header_fields_too_large");

    let res = get_as(
        &app,
        "/api/v1/organisations",
        Some(&app.admin_token),
        &[("x-large", &"a".repeat(20 * 1024))],
    )
    .await;
    assert_eq!(res.status, 431, "{}", res.text);
    assert_eq!(res.problem_code(), "request_header_fields_too_large");

    // Past what the HTTP parser itself takes, the connection is refused early, never with a
    // 500, and the server goes on serving. (A client of its own: the connection is closed.)
    let mut req = reqwest::Client::new().get(app.url("/healthz"));
    for i in 0..200 {
        req = req.header(format!("x-extra-{i}"), "1");
    }
    if let Ok(res) = req.send().await {
        let status = res.status().as_u16();
        assert!((400..500).contains(&status), "{status}");
    }
    let res = get_as(&app, "/api/v1/organisations", Some(&app.admin_token), &[]).await;
    assert_eq!(res.status, 200, "{}", res.text);
}

/// Sends a request head promising a body, and only part of the body, then waits for an answer.
async fn stalled_post(app: &TestApp, path: &str) -> (String, Duration) {
    let address = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"name\": ",
        app.admin_token
    );
    let started = Instant::now();
    stream.write_all(head.as_bytes()).await.expect("write");
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    answer.extend_from_slice(&buf[..n]);
                    if String::from_utf8_lossy(&answer).contains("\"code\"") {
                        break;
                    }
                }
            }
        }
    })
    .await;
    (
        String::from_utf8_lossy(&answer).into_owned(),
        started.elapsed(),
    )
}

#[tokio::test]
async fn a_request_that_outlasts_its_time_limit_is_stopped_with_a_503_problem() {
    let app = spawn_app_with(|v| {
        v.insert("COPRODUCE_REQUEST_TIMEOUT_SECS".into(), "1".into());
    })
    .await;
    let (answer, took) = stalled_post(&app, "/api/v1/organisations").await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("\"code\":\"timeout\""), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("retry-after: 1"),
        "{answer}"
    );
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(5),
        "answered after {took:?}"
    );
    let list = app.get("/api/v1/organisations", &app.admin_token).await;
    assert_eq!(list.body["items"], json!([]), "nothing was stored");
}

#[tokio::test]
async fn cors_answers_only_the_configured_origins() {
    let allowed = "https://app.example.org";
    let app = spawn_app_with(|v| {
        v.insert("COPRODUCE_CORS_ORIGINS".into(), allowed.into());
    })
    .await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/api/v1/organisations"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header(
                "Access-Control-Request-Headers",
                "authorization, content-type, idempotency-key",
            )
            .send()
    };
    let res = read(preflight(allowed).await.expect("preflight")).await;
    assert!(res.status < 300, "{res:?}");
    assert_eq!(
        res.header("access-control-allow-origin").as_deref(),
        Some(allowed)
    );
    let allowed_headers = res
        .header("access-control-allow-headers")
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(
        allowed_headers.contains("idempotency-key"),
        "{allowed_headers}"
    );

    let res = read(
        preflight("https://evil.example.com")
            .await
            .expect("preflight"),
    )
    .await;
    assert_eq!(res.header("access-control-allow-origin"), None, "{res:?}");

    let res = get_as(
        &app,
        "/api/v1/organisations",
        Some(&app.admin_token),
        &[("Origin", allowed)],
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(
        res.header("access-control-allow-origin").as_deref(),
        Some(allowed)
    );
    let exposed = res
        .header("access-control-expose-headers")
        .unwrap_or_default()
        .to_ascii_lowercase();
    for name in ["etag", "location", "ratelimit", "retry-after"] {
        assert!(exposed.contains(name), "{name} exposed: {exposed}");
    }
    let res = get_as(
        &app,
        "/api/v1/organisations",
        Some(&app.admin_token),
        &[("Origin", "https://evil.example.com")],
    )
    .await;
    assert_eq!(res.header("access-control-allow-origin"), None, "{res:?}");

    // With no origins configured, no page elsewhere may call the API.
    let closed = helpers::spawn_app().await;
    let res = get_as(
        &closed,
        "/api/v1/organisations",
        Some(&closed.admin_token),
        &[("Origin", allowed)],
    )
    .await;
    assert_eq!(res.header("access-control-allow-origin"), None, "{res:?}");
}

#[tokio::test]
async fn every_html_page_carries_security_headers_and_allows_no_inline_script() {
    let app = helpers::spawn_app().await;
    for path in ["/graphql", "/docs/"] {
        let res = get_as(&app, path, None, &[]).await;
        assert_eq!(res.status, 200, "{path}: {}", res.text);
        assert!(
            res.header("content-type")
                .unwrap_or_default()
                .starts_with("text/html"),
            "{path}"
        );
        let policy = res.header("content-security-policy").unwrap_or_default();
        assert!(policy.contains("script-src 'self'"), "{path}: {policy}");
        assert!(!policy.contains("unsafe-eval"), "{path}: {policy}");
        assert!(
            policy.contains("frame-ancestors 'none'"),
            "{path}: {policy}"
        );
        assert_eq!(
            res.header("x-content-type-options").as_deref(),
            Some("nosniff")
        );
        assert_eq!(res.header("x-frame-options").as_deref(), Some("DENY"));
        assert_eq!(
            res.header("referrer-policy").as_deref(),
            Some("no-referrer")
        );
        // The policy allows no inline script, so the page must have none.
        let inline = res
            .text
            .split("<script")
            .skip(1)
            .filter(|tag| !tag.split('>').next().unwrap_or_default().contains("src="))
            .count();
        assert_eq!(inline, 0, "{path} has inline script");
    }
    // JSON answers are not pages.
    let res = get_as(&app, "/healthz", None, &[]).await;
    assert_eq!(res.header("content-security-policy"), None);
}

#[tokio::test]
async fn graphql_refuses_too_many_aliases_and_oversized_batches_and_runs_the_rest() {
    let app = helpers::spawn_app().await;
    let aliases = |n: usize| {
        let fields: Vec<String> = (0..n).map(|i| format!("a{i}: __typename")).collect();
        format!("{{ {} }}", fields.join(" "))
    };
    let body = app.graphql(&app.admin_token, &aliases(30), json!({})).await;
    assert_eq!(body["data"]["a29"], "Query", "30 aliases run: {body}");
    let body = app.graphql(&app.admin_token, &aliases(31), json!({})).await;
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("at most 30"), "{body}");
    assert!(body["data"].is_null(), "{body}");

    let batch = |n: usize, token: Option<&str>| {
        let ops: Vec<Value> = (0..n)
            .map(|i| json!({ "query": format!("{{ n{i}: __typename }}") }))
            .collect();
        let mut req = app.client.post(app.url("/graphql")).json(&ops);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
    };
    let res = read(batch(2, Some(&app.admin_token)).await.expect("batch")).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body[0]["data"]["n0"], "Query", "{}", res.text);
    assert_eq!(res.body[1]["data"]["n1"], "Query", "{}", res.text);
    let res = read(batch(11, Some(&app.admin_token)).await.expect("batch")).await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert_eq!(res.problem_code(), "bad_request");
    assert!(res.text.contains("1 to 10"), "{}", res.text);
    // A batch that reads data needs a token, like a single operation.
    let ops = json!([{ "query": "{ organisations { edges { node { id } } } }" }]);
    let res = read(
        app.client
            .post(app.url("/graphql"))
            .json(&ops)
            .send()
            .await
            .expect("post"),
    )
    .await;
    assert_eq!(res.status, 401, "{}", res.text);
}

#[tokio::test]
async fn metrics_report_database_reachability_and_the_webhook_backlog() {
    let app = helpers::spawn_app().await;
    let res = get_as(&app, "/metrics", None, &[]).await;
    assert_eq!(res.status, 200);
    for line in [
        "coproduce_db_unreachable 0",
        "coproduce_db_unreachable_episodes_total 0",
        "coproduce_webhook_deliveries_pending 0",
        "coproduce_webhook_attempts_total{outcome=\"failed\"} 0",
        "coproduce_webhook_deliveries_exhausted_total 0",
    ] {
        assert!(
            res.text.lines().any(|l| l == line),
            "{line} missing from:\n{}",
            res.text
        );
    }
}

#[tokio::test]
async fn the_grafana_dashboard_charts_only_metrics_the_service_exposes() {
    let app = helpers::spawn_app().await;
    // A request first, so the per-request series exist.
    let _ = get_as(&app, "/healthz", None, &[]).await;
    let exposed = get_as(&app, "/metrics", None, &[]).await.text;
    let names: std::collections::BTreeSet<&str> = exposed
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split(['{', ' ']).next())
        .collect();
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/grafana-dashboard.json");
    let dashboard: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("the dashboard")).expect("JSON");
    let mut charted = 0;
    for panel in dashboard["panels"].as_array().expect("panels") {
        for target in panel["targets"].as_array().expect("targets") {
            let expr = target["expr"].as_str().expect("expr");
            let used: Vec<&str> = expr
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .filter(|w| w.starts_with("coproduce_"))
                .collect();
            assert!(!used.is_empty(), "{expr} charts no metric of ours");
            for metric in used {
                assert!(
                    names.contains(metric),
                    "the dashboard charts {metric}, which /metrics does not expose"
                );
                charted += 1;
            }
        }
    }
    assert!(charted >= 10, "{charted}");
}
