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
    assert_eq!(res.status, 422);
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
