//! Webhooks: endpoints registered by an organisation receive its events signed as the Standard
//! Webhooks specification says, at least once, retried with the same `webhook-id`, logged, an
//! endpoint that keeps failing disabled with an event saying so, replays on request, and
//! internal targets refused.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{execute_sql, spawn_app_with, TestApp};
use crate::opportunities::{create_work, move_work, provider, work, Staff};

/// One request a receiver got.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

/// A webhook receiver on loopback: answers each request with the next scripted status (200
/// once the script runs out) and keeps what it got.
pub(crate) struct Receiver {
    pub url: String,
    pub got: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    pub async fn start(script: &[u16]) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a receiver");
        let url = format!(
            "http://127.0.0.1:{}/hooks",
            listener.local_addr().expect("address").port()
        );
        let got: Arc<Mutex<Vec<Received>>> = Arc::default();
        let script = Arc::new(Mutex::new(script.iter().copied().collect::<VecDeque<_>>()));
        let g = got.clone();
        let s = script;
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let (g, s) = (g.clone(), s.clone());
                tokio::spawn(async move {
                    if let Some(request) = read_request(&mut stream).await {
                        let status = s.lock().expect("script").pop_front().unwrap_or(200);
                        g.lock().expect("got").push(request);
                        let answer = format!(
                            "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                        );
                        let _ = stream.write_all(answer.as_bytes()).await;
                    }
                });
            }
        });
        Self { url, got }
    }

    pub fn received(&self) -> Vec<Received> {
        self.got.lock().expect("got").clone()
    }

    /// Waits until at least `n` requests arrived (or fails after 15 s).
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..300 {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "the receiver got {} requests, expected {n}",
            self.received().len()
        );
    }
}

async fn read_request(stream: &mut tokio::net::TcpStream) -> Option<Received> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let headers: HashMap<String, String> = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Some(Received {
        headers,
        body: buf[head_end..].to_vec(),
    })
}

/// Checks a delivery's signatures the way the specification says, independently of the
/// service's code: which of `secrets` produced one of the `v1,` signatures.
pub(crate) fn signed_by(r: &Received, secret: &str) -> bool {
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.trim_start_matches("whsec_"))
        .expect("secret");
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("key");
    let id = &r.headers["webhook-id"];
    let ts = &r.headers["webhook-timestamp"];
    mac.update(format!("{id}.{ts}.").as_bytes());
    mac.update(&r.body);
    let expected = format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    );
    r.headers["webhook-signature"]
        .split(' ')
        .any(|s| s == expected)
}

/// An app that may deliver to loopback, with a fast retry schedule.
pub(crate) async fn app_with_schedule(schedule: &str) -> TestApp {
    let schedule = schedule.to_owned();
    spawn_app_with(move |vars| {
        vars.insert(
            "COPRODUCE_WEBHOOK_ALLOW_INTERNAL".to_owned(),
            "true".to_owned(),
        );
        vars.insert("COPRODUCE_WEBHOOK_RETRY_SCHEDULE".to_owned(), schedule);
        vars.insert("COPRODUCE_WEBHOOK_POLL_MS".to_owned(), "50".to_owned());
    })
    .await
}

/// Registers an endpoint; returns its id, secret and version.
pub(crate) async fn register(
    app: &TestApp,
    staff: &Staff,
    url: &str,
    types: Value,
) -> (String, String) {
    let res = app
        .post(
            "/api/v1/webhooks",
            &staff.token,
            &json!({ "url": url, "event_types": types, "description": "case system" }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    (
        res.body["endpoint"]["id"].as_str().expect("id").to_owned(),
        res.body["secret"].as_str().expect("secret").to_owned(),
    )
}

/// Reads `path` as the staff member every 50 ms until `done` holds of the body (or 5 s pass),
/// and returns the last body read: what the delivery worker writes lands a moment after the
/// receiver has its request.
pub(crate) async fn poll_until(
    app: &TestApp,
    staff: &Staff,
    path: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let mut body = Value::Null;
    for _ in 0..100 {
        body = app.get(path, &staff.token).await.body;
        if done(&body) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    body
}

fn body_of(r: &Received) -> Value {
    serde_json::from_slice(&r.body).expect("a JSON body")
}

#[tokio::test]
async fn a_receiver_that_fails_twice_gets_the_event_three_times_with_one_id_and_a_valid_signature()
{
    let app = app_with_schedule("200ms,200ms,200ms").await;
    let receiver = Receiver::start(&[500, 503]).await;
    let staff = provider(&app, "Camden Recovery Network").await;
    let (endpoint, secret) = register(
        &app,
        &staff,
        &receiver.url,
        json!(["opportunity.advertised"]),
    )
    .await;
    let id = create_work(&app, &staff.token, &work("Peer panel", json!({}))).await;
    assert_eq!(
        move_work(&app, &staff.token, &id, "advertise").await.status,
        200
    );
    let got = receiver.wait_for(3).await;
    let events = app
        .get("/api/v1/events?type=opportunity.advertised", &staff.token)
        .await;
    let event_id = events.body["items"][0]["id"]
        .as_str()
        .expect("event")
        .to_owned();
    for r in &got {
        assert_eq!(r.headers["webhook-id"], event_id);
        assert!(signed_by(r, &secret), "{:?}", r.headers);
        assert!(!signed_by(r, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
        let body = body_of(r);
        assert_eq!(body["type"], "opportunity.advertised");
        assert_eq!(body["data"]["opportunity_id"], id);
        assert!(body["timestamp"].is_string());
        let ts: i64 = r.headers["webhook-timestamp"].parse().expect("seconds");
        assert!((chrono::Utc::now().timestamp() - ts).abs() < 60);
    }
    // Every attempt is logged, readable by the organisation. The third is written once its
    // answer is in, so it may land a moment after the receiver has it.
    let attempts = poll_until(
        &app,
        &staff,
        &format!("/api/v1/webhooks/{endpoint}/attempts"),
        |body| body["items"].as_array().is_some_and(|a| a.len() >= 3),
    )
    .await;
    let items = attempts["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 3, "{attempts}");
    let codes: Vec<i64> = items
        .iter()
        .filter_map(|a| a["status_code"].as_i64())
        .collect();
    assert_eq!(codes, [500, 503, 200]);
    assert_eq!(items[2]["succeeded"], true);
    assert_eq!(items[0]["succeeded"], false);
    let deliveries = app
        .get(
            &format!("/api/v1/webhooks/{endpoint}/deliveries"),
            &staff.token,
        )
        .await;
    assert_eq!(
        deliveries.body["items"][0]["status"], "succeeded",
        "{}",
        deliveries.text
    );
    // Types it did not ask for are not sent.
    assert_eq!(
        move_work(&app, &staff.token, &id, "start").await.status,
        200
    );
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(receiver.received().len(), 3);
}

#[tokio::test]
async fn an_endpoint_that_keeps_failing_is_disabled_with_an_event_and_a_replay_sends_again() {
    let app = app_with_schedule("100ms,100ms").await;
    let receiver = Receiver::start(&[500, 500, 500]).await;
    let staff = provider(&app, "Camden Recovery Network").await;
    let (endpoint, secret) = register(&app, &staff, &receiver.url, json!([])).await;
    let id = create_work(&app, &staff.token, &work("Peer panel", json!({}))).await;
    assert_eq!(
        move_work(&app, &staff.token, &id, "advertise").await.status,
        200
    );
    receiver.wait_for(3).await;
    let shown = poll_until(
        &app,
        &staff,
        &format!("/api/v1/webhooks/{endpoint}"),
        |body| body["enabled"] == false,
    )
    .await;
    assert_eq!(shown["enabled"], false, "{shown}");
    assert!(
        shown["disabled_reason"]
            .as_str()
            .is_some_and(|r| r.contains("500")),
        "{shown}"
    );
    let disabled = app
        .get(
            "/api/v1/events?type=webhook.endpoint_disabled",
            &staff.token,
        )
        .await;
    assert_eq!(
        disabled.body["items"][0]["data"]["endpoint_id"], endpoint,
        "{}",
        disabled.text
    );
    // Disabled, nothing more is sent.
    assert_eq!(
        move_work(&app, &staff.token, &id, "start").await.status,
        200
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.received().len(), 3);
    // Enabled again, a replay of the first event goes out, with the same id.
    let version = shown["version"].as_i64().expect("version");
    let res = app
        .patch(
            &format!("/api/v1/webhooks/{endpoint}"),
            &staff.token,
            Some(&format!("\"{version}\"")),
            &json!({ "enabled": true }),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let events = app
        .get("/api/v1/events?type=opportunity.advertised", &staff.token)
        .await;
    let event_id = events.body["items"][0]["id"]
        .as_str()
        .expect("event")
        .to_owned();
    let res = app
        .post(
            &format!("/api/v1/webhooks/{endpoint}/replay"),
            &staff.token,
            &json!({ "event_id": event_id }),
        )
        .await;
    assert_eq!(res.status, 202, "{}", res.text);
    let got = receiver.wait_for(4).await;
    let last = got.last().expect("the replay");
    assert_eq!(last.headers["webhook-id"], event_id);
    assert!(signed_by(last, &secret));
    // Another organisation's event cannot be replayed to it.
    let other = provider(&app, "Elsewhere Trust").await;
    let theirs = create_work(&app, &other.token, &work("Theirs", json!({}))).await;
    assert_eq!(
        move_work(&app, &other.token, &theirs, "advertise")
            .await
            .status,
        200
    );
    let their_events = app.get("/api/v1/events", &other.token).await;
    let their_event = their_events.body["items"][0]["id"]
        .as_str()
        .expect("event")
        .to_owned();
    let res = app
        .post(
            &format!("/api/v1/webhooks/{endpoint}/replay"),
            &staff.token,
            &json!({ "event_id": their_event }),
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text);
}

#[tokio::test]
async fn after_a_rotation_both_secrets_sign_until_the_overlap_ends() {
    let app = app_with_schedule("100ms").await;
    let receiver = Receiver::start(&[]).await;
    let staff = provider(&app, "Camden Recovery Network").await;
    let (endpoint, old) = register(&app, &staff, &receiver.url, json!([])).await;
    let res = app
        .post(
            &format!("/api/v1/webhooks/{endpoint}/rotate-secret"),
            &staff.token,
            &json!({ "overlap_hours": 1 }),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let new = res.body["secret"].as_str().expect("secret").to_owned();
    assert_ne!(new, old);
    assert!(res.body["endpoint"]["previous_secret_expires_at"].is_string());
    let id = create_work(&app, &staff.token, &work("Peer panel", json!({}))).await;
    assert_eq!(
        move_work(&app, &staff.token, &id, "advertise").await.status,
        200
    );
    let got = receiver.wait_for(1).await;
    assert!(
        signed_by(&got[0], &new) && signed_by(&got[0], &old),
        "{:?}",
        got[0].headers
    );
    // With no overlap, only the newest secret signs.
    let res = app
        .post(
            &format!("/api/v1/webhooks/{endpoint}/rotate-secret"),
            &staff.token,
            &json!({ "overlap_hours": 0 }),
        )
        .await;
    let newest = res.body["secret"].as_str().expect("secret").to_owned();
    assert_eq!(
        move_work(&app, &staff.token, &id, "start").await.status,
        200
    );
    let got = receiver.wait_for(2).await;
    assert!(signed_by(&got[1], &newest));
    assert!(!signed_by(&got[1], &new) && !signed_by(&got[1], &old));
}

#[tokio::test]
async fn internal_targets_are_refused_when_registered_and_again_when_delivered() {
    let app = spawn_app_with(|vars| {
        vars.insert("COPRODUCE_WEBHOOK_POLL_MS".to_owned(), "50".to_owned());
        vars.insert(
            "COPRODUCE_WEBHOOK_RETRY_SCHEDULE".to_owned(),
            "100ms".to_owned(),
        );
    })
    .await;
    let receiver = Receiver::start(&[]).await;
    let staff = provider(&app, "Camden Recovery Network").await;
    for (url, why) in [
        (receiver.url.as_str(), "loopback"),
        ("http://10.0.0.7/hook", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://localhost:8080/hook", "this machine"),
        ("https://user:password@example.org/hook", "user name"),
        ("ftp://example.org/hook", "http or https"),
        ("https://", "URL"),
    ] {
        let res = app
            .post("/api/v1/webhooks", &staff.token, &json!({ "url": url }))
            .await;
        assert_eq!(res.status, 422, "{url}: {}", res.text);
        assert!(res.text.contains(why), "{url}: {}", res.text);
    }
    // A name that passed registration and points inward by delivery time is caught then.
    let res = app
        .post(
            "/api/v1/webhooks",
            &staff.token,
            &json!({ "url": "https://example.org/hook" }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let endpoint = res.body["endpoint"]["id"].as_str().expect("id").to_owned();
    execute_sql(
        &app.database_url,
        &format!(
            "UPDATE webhook_endpoints SET url = '{}' WHERE id = '{endpoint}'",
            receiver.url
        ),
    );
    let id = create_work(&app, &staff.token, &work("Peer panel", json!({}))).await;
    assert_eq!(
        move_work(&app, &staff.token, &id, "advertise").await.status,
        200
    );
    let attempts = poll_until(
        &app,
        &staff,
        &format!("/api/v1/webhooks/{endpoint}/attempts"),
        |body| body["items"].as_array().is_some_and(|a| !a.is_empty()),
    )
    .await;
    assert!(
        attempts["items"][0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("loopback")),
        "{attempts}"
    );
    assert!(receiver.received().is_empty());
}

#[tokio::test]
async fn only_the_organisations_staff_see_and_manage_its_endpoints_through_both_doors() {
    let app = app_with_schedule("100ms").await;
    let staff = provider(&app, "Camden Recovery Network").await;
    let (endpoint, _) = register(&app, &staff, "http://127.0.0.1:9/hooks", json!([])).await;
    let other = provider(&app, "Elsewhere Trust").await;
    let (_, person_token) = app.person().await;
    for t in [&other.token, &person_token] {
        let res = app.get(&format!("/api/v1/webhooks/{endpoint}"), t).await;
        assert_eq!(res.status, 404, "{}", res.text);
        let res = app
            .post(
                &format!("/api/v1/webhooks/{endpoint}/rotate-secret"),
                t,
                &json!({}),
            )
            .await;
        assert_eq!(res.status, 404, "{}", res.text);
    }
    let res = app
        .post(
            "/api/v1/webhooks",
            &person_token,
            &json!({ "url": "https://example.org/h" }),
        )
        .await;
    assert_eq!(res.status, 403, "{}", res.text);
    let list = app.get("/api/v1/webhooks", &other.token).await;
    assert_eq!(list.body["items"].as_array().map(Vec::len), Some(0));
    // GraphQL: registering shows the secret once; another organisation lists nothing.
    let body = app
        .graphql(
            &staff.token,
            "mutation($url: String!) { registerWebhookEndpoint(input: { url: $url, eventTypes: [CLAIM_PAID] }) { secret endpoint { id eventTypes enabled } } }",
            json!({ "url": "http://127.0.0.1:9/other" }),
        )
        .await;
    let made = &body["data"]["registerWebhookEndpoint"];
    assert!(
        made["secret"]
            .as_str()
            .is_some_and(|s| s.starts_with("whsec_")),
        "{body}"
    );
    assert_eq!(made["endpoint"]["eventTypes"], json!(["CLAIM_PAID"]));
    let body = app
        .graphql(
            &other.token,
            "{ webhookEndpoints { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        body["data"]["webhookEndpoints"]["edges"]
            .as_array()
            .map(Vec::len),
        Some(0),
        "{body}"
    );
    let body = app
        .graphql(
            &staff.token,
            "{ webhookEndpoints { edges { node { id url } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        body["data"]["webhookEndpoints"]["edges"]
            .as_array()
            .map(Vec::len),
        Some(2),
        "{body}"
    );
    // Deleting removes it.
    let res = app
        .client
        .delete(app.url(&format!("/api/v1/webhooks/{endpoint}")))
        .bearer_auth(&staff.token)
        .send()
        .await
        .expect("delete");
    assert_eq!(res.status(), 204);
    let res = app
        .get(&format!("/api/v1/webhooks/{endpoint}"), &staff.token)
        .await;
    assert_eq!(res.status, 404);
}

#[tokio::test]
async fn two_instances_on_one_database_deliver_each_event_once() {
    let first = app_with_schedule("200ms").await;
    let url = first.database_url.clone();
    let second = spawn_app_with(move |vars| {
        vars.insert("DATABASE_URL".to_owned(), url);
        vars.insert(
            "COPRODUCE_WEBHOOK_ALLOW_INTERNAL".to_owned(),
            "true".to_owned(),
        );
        vars.insert("COPRODUCE_WEBHOOK_POLL_MS".to_owned(), "50".to_owned());
    })
    .await;
    let receiver = Receiver::start(&[]).await;
    let staff = provider(&first, "Camden Recovery Network").await;
    register(&first, &staff, &receiver.url, json!([])).await;
    // Twenty events, written half through each instance.
    let mut works = Vec::new();
    for i in 0..10 {
        let app = if i % 2 == 0 { &first } else { &second };
        let id = create_work(app, &staff.token, &work(&format!("Work {i}"), json!({}))).await;
        assert_eq!(
            move_work(app, &staff.token, &id, "advertise").await.status,
            200
        );
        assert_eq!(move_work(app, &staff.token, &id, "start").await.status, 200);
        works.push(id);
    }
    let got = receiver.wait_for(20).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let got_now = receiver.received();
    let mut ids: Vec<String> = got_now
        .iter()
        .map(|r| r.headers["webhook-id"].clone())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 20, "{} distinct of {}", ids.len(), got.len());
    assert_eq!(got_now.len(), 20, "an event was delivered twice");
}
