//! Machine clients: secrets shown once, the client-credentials exchange, organisation scoping,
//! rotation and revocation.

use serde_json::json;
use uuid::Uuid;

use crate::helpers::{read, spawn_app, token, TestApp};

async fn new_client(app: &TestApp, org: Uuid) -> (String, String) {
    let res = app
        .post(
            "/api/v1/api-clients",
            &app.admin_token,
            &json!({ "organisation_id": org, "name": "Case system" }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let id = res.body["client"]["id"].as_str().expect("id").to_owned();
    let secret = res.body["client_secret"]
        .as_str()
        .expect("secret")
        .to_owned();
    (id, secret)
}

async fn exchange_form(app: &TestApp, id: &str, secret: &str) -> crate::helpers::Answer {
    read(
        app.client
            .post(app.url("/api/v1/token"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(format!(
                "grant_type=client_credentials&client_id={id}&client_secret={secret}"
            ))
            .send()
            .await
            .expect("post"),
    )
    .await
}

#[tokio::test]
async fn a_client_secret_is_shown_once_and_never_again() {
    let app = spawn_app().await;
    let org = app.create_organisation("Provider", &["provider"]).await;
    let (id, secret) = new_client(&app, org).await;
    assert!(secret.len() >= 40);
    let read_back = app
        .get(&format!("/api/v1/api-clients/{id}"), &app.admin_token)
        .await;
    assert_eq!(read_back.status, 200);
    assert!(!read_back.text.contains(&secret));
    assert!(read_back.body.get("client_secret").is_none());
    assert_eq!(read_back.body["roles"], json!(["provider"]));
    let list = app
        .get(
            &format!("/api/v1/api-clients?organisation_id={org}"),
            &app.admin_token,
        )
        .await;
    assert!(!list.text.contains(&secret));
    assert_eq!(list.body["items"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn a_client_exchanges_its_secret_for_a_token_scoped_to_its_organisation() {
    let app = spawn_app().await;
    let org = app.create_organisation("Provider", &["provider"]).await;
    let other = app.create_organisation("Other", &["provider"]).await;
    let (id, secret) = new_client(&app, org).await;

    let res = exchange_form(&app, &id, &secret).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["token_type"], "Bearer");
    assert_eq!(res.body["expires_in"], 900);
    assert_eq!(res.header("cache-control").as_deref(), Some("no-store"));
    let client_token = res.body["access_token"].as_str().expect("token").to_owned();

    assert_eq!(
        app.get(&format!("/api/v1/organisations/{org}"), &client_token)
            .await
            .status,
        200
    );
    assert_eq!(
        app.get(&format!("/api/v1/organisations/{other}"), &client_token)
            .await
            .status,
        404
    );
    // A provider's client is no admin.
    let res = app
        .post(
            "/api/v1/organisations",
            &client_token,
            &json!({ "name": "X", "kinds": ["provider"] }),
        )
        .await;
    assert_eq!(res.status, 403);

    // JSON and HTTP Basic work too.
    let res = app
        .post("/api/v1/token", "", &json!({ "grant_type": "client_credentials", "client_id": id, "client_secret": secret }))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let res = read(
        app.client
            .post(app.url("/api/v1/token"))
            .basic_auth(&id, Some(&secret))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials")
            .send()
            .await
            .expect("post"),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text);
}

#[tokio::test]
async fn a_wrong_secret_or_unknown_client_is_refused_alike() {
    let app = spawn_app().await;
    let org = app.create_organisation("Provider", &["provider"]).await;
    let (id, secret) = new_client(&app, org).await;
    let wrong = exchange_form(&app, &id, &format!("{secret}x")).await;
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.problem_code(), "invalid_client");
    assert_eq!(wrong.body["error"], "invalid_client");
    let unknown = exchange_form(&app, &Uuid::now_v7().to_string(), &secret).await;
    assert_eq!(unknown.status, 401);
    assert_eq!(unknown.body["detail"], wrong.body["detail"]);
    let garbage = exchange_form(&app, "not-an-id", "x").await;
    assert_eq!(garbage.status, 401);
    let res = read(
        app.client
            .post(app.url("/api/v1/token"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(format!(
                "grant_type=password&client_id={id}&client_secret={secret}"
            ))
            .send()
            .await
            .expect("post"),
    )
    .await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert_eq!(res.body["error"], "unsupported_grant_type", "RFC 6749 5.2");
}

#[tokio::test]
async fn revoking_a_client_stops_its_tokens_at_once() {
    let app = spawn_app().await;
    let org = app.create_organisation("Provider", &["provider"]).await;
    let (id, secret) = new_client(&app, org).await;
    let client_token = exchange_form(&app, &id, &secret).await.body["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    assert_eq!(
        app.get("/api/v1/organisations", &client_token).await.status,
        200
    );

    let res = app
        .post(
            &format!("/api/v1/api-clients/{id}/revoke"),
            &app.admin_token,
            &json!({}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert!(res.body["revoked_at"].is_string());

    let res = app.get("/api/v1/organisations", &client_token).await;
    assert_eq!(
        res.status, 401,
        "a revoked client's token must stop working"
    );
    assert_eq!(res.problem_code(), "unauthenticated");
    let body = read(
        app.client
            .post(app.url("/graphql"))
            .bearer_auth(&client_token)
            .json(&json!({ "query": "{ organisations { edges { node { id } } } }" }))
            .send()
            .await
            .expect("post"),
    )
    .await;
    assert_eq!(body.status, 401);
    assert_eq!(exchange_form(&app, &id, &secret).await.status, 401);
}

#[tokio::test]
async fn rotating_a_secret_retires_the_old_one() {
    let app = spawn_app().await;
    let org = app.create_organisation("Provider", &["provider"]).await;
    let (id, old) = new_client(&app, org).await;
    let res = app
        .post(
            &format!("/api/v1/api-clients/{id}/rotate"),
            &app.admin_token,
            &json!({}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let new = res.body["client_secret"]
        .as_str()
        .expect("secret")
        .to_owned();
    assert_ne!(new, old);
    assert_eq!(exchange_form(&app, &id, &old).await.status, 401);
    assert_eq!(exchange_form(&app, &id, &new).await.status, 200);
}

#[tokio::test]
async fn only_admins_manage_clients_and_roles_follow_the_organisation() {
    let app = spawn_app().await;
    let org = app.create_organisation("Provider", &["provider"]).await;
    let provider = token(&["provider"], Some(org), None);
    let res = app
        .post(
            "/api/v1/api-clients",
            &provider,
            &json!({ "organisation_id": org, "name": "Mine" }),
        )
        .await;
    assert_eq!(res.status, 403);
    assert_eq!(app.get("/api/v1/api-clients", &provider).await.status, 403);

    let res = app
        .post(
            "/api/v1/api-clients",
            &app.admin_token,
            &json!({ "organisation_id": org, "name": "Sneaky", "roles": ["admin"] }),
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text);
    assert_eq!(res.body["errors"][0]["field"], "roles");
    let res = app
        .post(
            "/api/v1/api-clients",
            &app.admin_token,
            &json!({ "organisation_id": Uuid::now_v7(), "name": "Orphan" }),
        )
        .await;
    assert_eq!(res.status, 422);
    assert_eq!(res.body["errors"][0]["field"], "organisation_id");
}

#[tokio::test]
async fn clients_are_managed_through_graphql_too() {
    let app = spawn_app().await;
    let org = app.create_organisation("Provider", &["provider"]).await;
    let body = app
        .graphql(&app.admin_token, "mutation($org: UUID!) { createApiClient(input: { organisationId: $org, name: \"Feed\" }) { clientSecret client { id roles } } }", json!({ "org": org }))
        .await;
    let made = &body["data"]["createApiClient"];
    assert_eq!(made["client"]["roles"], json!(["PROVIDER"]), "{body}");
    let id = made["client"]["id"].as_str().expect("id").to_owned();
    let secret = made["clientSecret"].as_str().expect("secret").to_owned();
    assert_eq!(exchange_form(&app, &id, &secret).await.status, 200);
    let body = app
        .graphql(
            &app.admin_token,
            "mutation($id: UUID!) { revokeApiClient(id: $id) { revokedAt } }",
            json!({ "id": id }),
        )
        .await;
    assert!(
        body["data"]["revokeApiClient"]["revokedAt"].is_string(),
        "{body}"
    );
    assert_eq!(exchange_form(&app, &id, &secret).await.status, 401);
}

/// The stored answers to idempotent requests, as text.
fn stored_answers(app: &TestApp) -> Vec<String> {
    let body = if crate::helpers::on_postgres() {
        "encode(response_body, 'escape')"
    } else {
        "CAST(response_body AS TEXT)"
    };
    crate::helpers::stored_text(
        &app.database_url,
        &format!("SELECT COALESCE({body}, '') AS t FROM idempotency_keys"),
    )
}

#[tokio::test]
async fn a_replayed_client_creation_holds_no_secret_and_the_secret_is_stored_nowhere() {
    let app = spawn_app().await;
    let org = app.create_organisation("Provider", &["provider"]).await;
    let body = json!({ "organisation_id": org, "name": "Case system" });
    let first = app
        .post_with_key("/api/v1/api-clients", &app.admin_token, "create-1", &body)
        .await;
    assert_eq!(first.status, 201, "{}", first.text);
    let secret = first.body["client_secret"]
        .as_str()
        .expect("the first answer shows the secret")
        .to_owned();

    let replay = app
        .post_with_key("/api/v1/api-clients", &app.admin_token, "create-1", &body)
        .await;
    assert_eq!(replay.status, 201, "{}", replay.text);
    assert_eq!(
        replay.header("idempotent-replayed").as_deref(),
        Some("true")
    );
    assert_eq!(
        replay.body["client"], first.body["client"],
        "the same client"
    );
    assert_eq!(replay.body["client_secret"], serde_json::Value::Null);
    assert!(
        replay.body["secret_notice"]
            .as_str()
            .is_some_and(|n| n.contains("shown once")),
        "{}",
        replay.text
    );
    assert!(!replay.text.contains(&secret));

    // Nothing stored holds the secret: not the replay store, not the client's row.
    let answers = stored_answers(&app);
    assert_eq!(answers.len(), 1, "the answer is stored for replays");
    assert!(answers.iter().all(|a| !a.contains(&secret)), "{answers:?}");
    let hashes = crate::helpers::stored_text(
        &app.database_url,
        "SELECT secret_hash AS t FROM api_clients",
    );
    assert_eq!(hashes.len(), 1);
    assert!(hashes[0].starts_with("sha256$"), "a digest: {}", hashes[0]);
    assert!(!hashes[0].contains(&secret));

    // And the secret shown once works.
    let id = first.body["client"]["id"].as_str().expect("id");
    assert_eq!(exchange_form(&app, id, &secret).await.status, 200);
}

#[tokio::test]
async fn a_replayed_rotation_holds_no_secret_either() {
    let app = spawn_app().await;
    let org = app.create_organisation("Provider", &["provider"]).await;
    let (id, _) = new_client(&app, org).await;
    let path = format!("/api/v1/api-clients/{id}/rotate");
    let first = app
        .post_with_key(&path, &app.admin_token, "rotate-1", &json!({}))
        .await;
    assert_eq!(first.status, 200, "{}", first.text);
    let secret = first.body["client_secret"]
        .as_str()
        .expect("secret")
        .to_owned();
    let replay = app
        .post_with_key(&path, &app.admin_token, "rotate-1", &json!({}))
        .await;
    assert_eq!(replay.status, 200, "{}", replay.text);
    assert_eq!(replay.body["client_secret"], serde_json::Value::Null);
    assert!(replay.body["secret_notice"].is_string());
    assert!(stored_answers(&app).iter().all(|a| !a.contains(&secret)));
    // The replay wrote nothing: the secret from the first answer still works.
    assert_eq!(exchange_form(&app, &id, &secret).await.status, 200);
}

/// An app whose failure window is short enough to wait out in a test.
async fn app_with_window(secs: u64) -> TestApp {
    crate::helpers::spawn_app_with(|vars| {
        vars.insert(
            "COPRODUCE_TOKEN_FAILURE_WINDOW_SECS".to_owned(),
            secs.to_string(),
        );
    })
    .await
}

/// A client whose requests come from another loopback address, as another machine's would.
fn client_from(address: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(std::net::IpAddr::from(address))
        .build()
        .expect("client")
}

async fn exchange_from(
    client: &reqwest::Client,
    app: &TestApp,
    id: &str,
    secret: &str,
) -> crate::helpers::Answer {
    read(
        client
            .post(app.url("/api/v1/token"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", id),
                ("client_secret", secret),
            ])
            .send()
            .await
            .expect("post"),
    )
    .await
}

#[tokio::test]
async fn the_21st_failed_exchange_within_a_minute_is_refused_until_the_window_passes() {
    let app = app_with_window(3).await;
    let org = app.create_organisation("Provider", &["provider"]).await;
    let (id, secret) = new_client(&app, org).await;
    for i in 0..20 {
        let res = exchange_form(&app, &id, "cps_wrong").await;
        assert_eq!(res.status, 401, "attempt {}: {}", i + 1, res.text);
    }
    let res = exchange_form(&app, &id, "cps_wrong").await;
    assert_eq!(res.status, 429, "{}", res.text);
    assert_eq!(res.problem_code(), "too_many_requests");
    let wait: u64 = res
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in seconds");
    assert!((1..=3).contains(&wait), "Retry-After {wait}");
    // While limited, even the right secret is refused...
    assert_eq!(exchange_form(&app, &id, &secret).await.status, 429);
    // ...and once the window has passed it works again.
    tokio::time::sleep(std::time::Duration::from_millis(3_200)).await;
    let res = exchange_form(&app, &id, &secret).await;
    assert_eq!(res.status, 200, "{}", res.text);
}

#[tokio::test]
async fn failures_are_counted_per_client_id_and_per_address() {
    let app = app_with_window(60).await;
    let org = app.create_organisation("Provider", &["provider"]).await;
    let (target, target_secret) = new_client(&app, org).await;
    let (other, other_secret) = new_client(&app, org).await;
    let attacker = client_from([127, 0, 0, 2]);
    let elsewhere = client_from([127, 0, 0, 3]);

    // One address guessing many made-up client ids is stopped by its address...
    for _ in 0..20 {
        let res = exchange_from(&attacker, &app, &Uuid::now_v7().to_string(), "x").await;
        assert_eq!(res.status, 401, "{}", res.text);
    }
    let res = exchange_from(&attacker, &app, &other, &other_secret).await;
    assert_eq!(res.status, 429, "the address is limited: {}", res.text);
    // ...while the same client from another address still works.
    let res = exchange_from(&elsewhere, &app, &other, &other_secret).await;
    assert_eq!(res.status, 200, "{}", res.text);

    // Guesses at one client id from many addresses are stopped by the client id.
    for i in 0..20u8 {
        let from = client_from([127, 0, 1, i + 1]);
        let res = exchange_from(&from, &app, &target, "cps_wrong").await;
        assert_eq!(res.status, 401, "{}", res.text);
    }
    let res = exchange_from(&elsewhere, &app, &target, &target_secret).await;
    assert_eq!(res.status, 429, "the client id is limited: {}", res.text);
    // Other clients from the same address are not.
    let res = exchange_from(&elsewhere, &app, &other, &other_secret).await;
    assert_eq!(res.status, 200, "{}", res.text);
}

#[tokio::test]
async fn a_secret_kept_by_an_earlier_version_still_works_and_is_replaced_by_its_digest() {
    use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
    let app = spawn_app().await;
    let org = app.create_organisation("Provider", &["provider"]).await;
    let (id, _) = new_client(&app, org).await;
    let legacy_secret = "cps_a-secret-issued-before-digests";
    let hash = argon2::Argon2::default()
        .hash_password(legacy_secret.as_bytes(), &SaltString::generate(&mut OsRng))
        .expect("hash")
        .to_string();
    crate::helpers::stored_text(
        &app.database_url,
        &format!(
            "UPDATE api_clients SET secret_hash = '{hash}' WHERE id = '{id}' RETURNING id AS t"
        ),
    );
    assert_eq!(exchange_form(&app, &id, "cps_wrong").await.status, 401);
    assert_eq!(exchange_form(&app, &id, legacy_secret).await.status, 200);
    let stored = crate::helpers::stored_text(
        &app.database_url,
        &format!("SELECT secret_hash AS t FROM api_clients WHERE id = '{id}'"),
    );
    assert!(stored[0].starts_with("sha256$"), "{}", stored[0]);
    assert_eq!(exchange_form(&app, &id, legacy_secret).await.status, 200);
}
