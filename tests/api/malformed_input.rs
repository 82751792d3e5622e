//! Bad input gets a clear 4xx problem, never a 500, and stores nothing.

use serde_json::json;

use crate::helpers::{read, spawn_app, TestApp};

async fn raw_post(
    app: &TestApp,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> crate::helpers::Answer {
    read(
        app.client
            .post(app.url(path))
            .bearer_auth(&app.admin_token)
            .header("Content-Type", content_type)
            .body(body)
            .send()
            .await
            .expect("post"),
    )
    .await
}

async fn assert_nothing_stored(app: &TestApp) {
    let list = app.get("/api/v1/organisations", &app.admin_token).await;
    assert_eq!(list.body["items"], json!([]), "nothing may be stored");
}

#[tokio::test]
async fn malformed_json_is_a_400_problem() {
    let app = spawn_app().await;
    let res = raw_post(
        &app,
        "/api/v1/organisations",
        "application/json",
        b"{\"name\": ".to_vec(),
    )
    .await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert_eq!(res.problem_code(), "bad_request");
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn a_wrong_type_names_the_field() {
    let app = spawn_app().await;
    let res = app
        .post(
            "/api/v1/organisations",
            &app.admin_token,
            &json!({ "name": 7, "kinds": ["provider"] }),
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text);
    assert_eq!(res.body["errors"][0]["field"], "name");
    let res = app
        .post(
            "/api/v1/organisations",
            &app.admin_token,
            &json!({ "name": "A", "kinds": ["hospital"] }),
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text);
    assert_eq!(res.body["errors"][0]["field"], "kinds[0]");
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn an_unknown_field_is_refused_rather_than_ignored() {
    let app = spawn_app().await;
    let res = app
        .post(
            "/api/v1/organisations",
            &app.admin_token,
            &json!({ "name": "A", "kinds": ["provider"], "is_admin": true }),
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text);
    assert!(res.body["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .contains("is_admin"));
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn a_body_over_the_limit_is_a_413_problem() {
    let app = spawn_app().await;
    let huge = format!(
        "{{\"name\": \"{}\", \"kinds\": [\"provider\"]}}",
        "a".repeat(1024 * 1024 + 10)
    );
    let res = raw_post(
        &app,
        "/api/v1/organisations",
        "application/json",
        huge.into_bytes(),
    )
    .await;
    assert_eq!(res.status, 413, "{}", &res.text[..res.text.len().min(300)]);
    assert_eq!(res.problem_code(), "payload_too_large");
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn a_body_that_is_not_json_is_a_415_problem() {
    let app = spawn_app().await;
    let res = raw_post(
        &app,
        "/api/v1/organisations",
        "text/plain",
        b"name=A".to_vec(),
    )
    .await;
    assert_eq!(res.status, 415, "{}", res.text);
    assert_eq!(res.problem_code(), "unsupported_media_type");
}

#[tokio::test]
async fn a_bad_id_in_the_path_is_a_400_problem() {
    let app = spawn_app().await;
    let res = app
        .get("/api/v1/organisations/12345", &app.admin_token)
        .await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert_eq!(res.problem_code(), "bad_request");
    let res = app
        .get("/api/v1/api-clients/%F0%9F%98%80", &app.admin_token)
        .await;
    assert_eq!(res.status, 400, "{}", res.text);
}

#[tokio::test]
async fn bad_paging_is_a_problem_naming_the_parameter() {
    let app = spawn_app().await;
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("cursor=garbage", "cursor"),
    ] {
        let res = app
            .get(&format!("/api/v1/organisations?{query}"), &app.admin_token)
            .await;
        assert_eq!(res.status, 422, "{query}: {}", res.text);
        assert_eq!(res.body["errors"][0]["field"], field, "{query}");
    }
    let res = app
        .get("/api/v1/organisations?limit=ten", &app.admin_token)
        .await;
    assert_eq!(res.status, 400, "{}", res.text);
    let res = app
        .get("/api/v1/organisations?colour=red", &app.admin_token)
        .await;
    assert_eq!(
        res.status, 400,
        "an unknown filter is refused: {}",
        res.text
    );
    let body = app
        .graphql(
            &app.admin_token,
            "{ organisations(first: 500) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        crate::helpers::gql_code(&body).as_deref(),
        Some("validation_failed"),
        "{body}"
    );
}

#[tokio::test]
async fn graphql_refuses_malformed_bodies_and_queries_too_deep() {
    let app = spawn_app().await;
    let res = raw_post(
        &app,
        "/graphql",
        "application/json",
        b"{\"query\": ".to_vec(),
    )
    .await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert_eq!(res.problem_code(), "bad_request");
    let body = app
        .graphql(
            &app.admin_token,
            "{ organisations { edges { node { id } } ",
            json!({}),
        )
        .await;
    assert!(
        body["errors"].is_array(),
        "a syntax error is a GraphQL error: {body}"
    );
    // Introspection has room for the nine `ofType` levels reference clients ask, and no more
    // than its own limit.
    let depth = 20;
    let deep = format!(
        "{{ __schema {{ types {{ fields {{ type {{ {} name {} }} }} }} }} }}",
        "ofType { ".repeat(depth),
        "}".repeat(depth)
    );
    let body = app.graphql(&app.admin_token, &deep, json!({})).await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("nested too deep"),
        "{body}"
    );
}

#[tokio::test]
async fn a_nul_character_in_any_text_is_refused_naming_the_field_through_both_doors() {
    let app = spawn_app().await;
    let res = app
        .post(
            "/api/v1/organisations",
            &app.admin_token,
            &json!({ "name": "Camden\u{0}Trust", "kinds": ["provider"] }),
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text);
    assert_eq!(res.body["errors"][0]["field"], "name");
    let res = app
        .post(
            "/api/v1/organisations",
            &app.admin_token,
            &json!({ "name": "Camden", "kinds": ["provider"], "contact": { "phone": "0\u{0}1" } }),
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text);
    assert_eq!(res.body["errors"][0]["field"], "contact.phone");
    let body = app
        .graphql(
            &app.admin_token,
            "mutation($n: String!) { createOrganisation(input: { name: $n, kinds: [PROVIDER] }) { id } }",
            json!({ "n": "Camden\u{0}Trust" }),
        )
        .await;
    assert_eq!(
        crate::helpers::gql_code(&body).as_deref(),
        Some("validation_failed"),
        "{body}"
    );
}
