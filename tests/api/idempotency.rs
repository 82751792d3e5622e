//! `Idempotency-Key` on POST: a repeat returns the first answer and writes nothing.

use serde_json::json;

use crate::helpers::{read, spawn_app, token_as, TestApp};

async fn post_with_key(
    app: &TestApp,
    token: &str,
    key: &str,
    body: &serde_json::Value,
) -> crate::helpers::Answer {
    app.post_with_key("/api/v1/organisations", token, key, body)
        .await
}

async fn count(app: &TestApp) -> usize {
    app.get("/api/v1/organisations?limit=200", &app.admin_token)
        .await
        .body["items"]
        .as_array()
        .map(Vec::len)
        .unwrap_or_default()
}

#[tokio::test]
async fn a_repeated_post_returns_the_first_answer_and_writes_once() {
    let app = spawn_app().await;
    let body = json!({ "name": "Once only", "kinds": ["provider"] });
    let first = post_with_key(&app, &app.admin_token, "key-1", &body).await;
    assert_eq!(first.status, 201, "{}", first.text);
    let second = post_with_key(&app, &app.admin_token, "key-1", &body).await;
    assert_eq!(second.status, 201);
    assert_eq!(second.body, first.body);
    assert_eq!(second.header("location"), first.header("location"));
    assert_eq!(
        second.header("idempotent-replayed").as_deref(),
        Some("true")
    );
    assert_eq!(count(&app).await, 1);
}

#[tokio::test]
async fn the_same_key_with_another_body_is_refused() {
    let app = spawn_app().await;
    let first = post_with_key(
        &app,
        &app.admin_token,
        "key-2",
        &json!({ "name": "A", "kinds": ["provider"] }),
    )
    .await;
    assert_eq!(first.status, 201);
    let other = post_with_key(
        &app,
        &app.admin_token,
        "key-2",
        &json!({ "name": "B", "kinds": ["provider"] }),
    )
    .await;
    assert_eq!(other.status, 422, "{}", other.text);
    assert_eq!(other.problem_code(), "idempotency_key_reused");
    assert_eq!(count(&app).await, 1);
}

#[tokio::test]
async fn concurrent_repeats_write_once() {
    let app = spawn_app().await;
    let body = json!({ "name": "Raced", "kinds": ["provider"] });
    let attempts = (0..8).map(|_| post_with_key(&app, &app.admin_token, "key-race", &body));
    let answers = futures_util::future::join_all(attempts).await;
    for a in &answers {
        assert!(
            a.status == 201 || a.status == 409,
            "{}: {}",
            a.status,
            a.text
        );
    }
    assert_eq!(count(&app).await, 1);
}

#[tokio::test]
async fn a_refused_request_is_remembered_too() {
    let app = spawn_app().await;
    let bad = json!({ "name": "", "kinds": ["provider"] });
    let first = post_with_key(&app, &app.admin_token, "key-3", &bad).await;
    assert_eq!(first.status, 422);
    let again = post_with_key(&app, &app.admin_token, "key-3", &bad).await;
    assert_eq!(again.status, 422);
    assert_eq!(again.body, first.body);
}

#[tokio::test]
async fn keys_belong_to_their_caller() {
    let app = spawn_app().await;
    let body = json!({ "name": "Admin one", "kinds": ["provider"] });
    let first = post_with_key(&app, &app.admin_token, "shared-key", &body).await;
    assert_eq!(first.status, 201);
    // Another admin (another subject) using the same key makes their own request.
    let other_admin = token_as("another-admin", &["admin"], None, None);
    let second = post_with_key(&app, &other_admin, "shared-key", &body).await;
    assert_eq!(second.status, 201);
    assert_ne!(second.body["id"], first.body["id"]);
    assert_eq!(count(&app).await, 2);
}

#[tokio::test]
async fn the_stored_answer_survives_a_restart() {
    let app = spawn_app().await;
    let body = json!({ "name": "Durable", "kinds": ["provider"] });
    let first = post_with_key(&app, &app.admin_token, "key-4", &body).await;
    assert_eq!(first.status, 201);
    // A second instance on the same database (as after a restart, or behind a load balancer).
    let second_instance = crate::database::second_instance(&app).await;
    let res = read(
        second_instance
            .client
            .post(second_instance.url("/api/v1/organisations"))
            .bearer_auth(&app.admin_token)
            .header("Idempotency-Key", "key-4")
            .json(&body)
            .send()
            .await
            .expect("post"),
    )
    .await;
    assert_eq!(res.status, 201);
    assert_eq!(res.body, first.body);
    assert_eq!(count(&app).await, 1);
}

#[tokio::test]
async fn a_malformed_key_is_refused() {
    let app = spawn_app().await;
    let res = post_with_key(
        &app,
        &app.admin_token,
        &"k".repeat(300),
        &json!({ "name": "A", "kinds": ["provider"] }),
    )
    .await;
    assert_eq!(res.status, 422);
    assert_eq!(count(&app).await, 0);
}
