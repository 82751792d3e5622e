//! Health, readiness, metrics, request ids and the documentation pages.

use crate::helpers::{read, spawn_app};

#[tokio::test]
async fn health_answers_without_a_token() {
    let app = spawn_app().await;
    let res = read(
        app.client
            .get(app.url("/healthz"))
            .send()
            .await
            .expect("get"),
    )
    .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["status"], "ok");
}

#[tokio::test]
async fn ready_means_the_database_answers_and_migrations_are_current() {
    let app = spawn_app().await;
    let res = read(
        app.client
            .get(app.url("/readyz"))
            .send()
            .await
            .expect("get"),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["migrations_current"], true);
    let expected = if crate::helpers::on_postgres() {
        "postgres"
    } else {
        "sqlite"
    };
    assert_eq!(res.body["database"], expected);
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_a_sane_one_is_kept() {
    let app = spawn_app().await;
    let res = read(
        app.client
            .get(app.url("/healthz"))
            .send()
            .await
            .expect("get"),
    )
    .await;
    let id = res.header("x-request-id").expect("a request id");
    assert!(id.parse::<uuid::Uuid>().is_ok());

    let res = read(
        app.client
            .get(app.url("/healthz"))
            .header("X-Request-Id", "upstream-abc.123")
            .send()
            .await
            .expect("get"),
    )
    .await;
    assert_eq!(
        res.header("x-request-id").as_deref(),
        Some("upstream-abc.123")
    );

    let res = read(
        app.client
            .get(app.url("/healthz"))
            .header("X-Request-Id", "<script>")
            .send()
            .await
            .expect("get"),
    )
    .await;
    assert_ne!(res.header("x-request-id").as_deref(), Some("<script>"));
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status_and_show_the_pool() {
    let app = spawn_app().await;
    app.get("/api/v1/organisations", &app.admin_token).await;
    app.get("/api/v1/organisations/not-a-uuid", &app.admin_token)
        .await;
    let res = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 200);
    let text = res.text().await.expect("text");
    assert!(
        text.contains(r#"coproduce_http_requests_total{method="GET",route="/api/v1/organisations",status="200"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"route="/api/v1/organisations/{id}",status="400""#),
        "{text}"
    );
    assert!(text.contains("coproduce_http_request_duration_seconds_bucket"));
    assert!(
        text.contains(r#"coproduce_db_pool_connections{state="max"} 4"#),
        "{text}"
    );
}

#[tokio::test]
async fn swagger_ui_is_served_from_the_binary() {
    let app = spawn_app().await;
    let res = app.client.get(app.url("/docs")).send().await.expect("get");
    assert_eq!(res.status(), 308);
    assert_eq!(
        res.headers().get("location").and_then(|v| v.to_str().ok()),
        Some("/docs/")
    );
    let res = app.client.get(app.url("/docs/")).send().await.expect("get");
    assert_eq!(res.status(), 200);
    let html = res.text().await.expect("html");
    assert!(html.contains("swagger"), "{html}");
    assert!(
        !html.contains("unpkg.com") && !html.contains("cdn."),
        "no CDN: {html}"
    );
}

#[tokio::test]
async fn graphiql_is_served_from_the_binary_with_its_assets() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(app.url("/graphql"))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 200);
    let html = res.text().await.expect("html");
    assert!(html.contains("/graphql/assets/graphiql.min.js"));
    assert!(!html.contains("unpkg.com") && !html.contains("jsdelivr"));
    for asset in [
        "graphiql.min.js",
        "graphiql.min.css",
        "react.production.min.js",
        "react-dom.production.min.js",
    ] {
        let res = app
            .client
            .get(app.url(&format!("/graphql/assets/{asset}")))
            .send()
            .await
            .expect("get");
        assert_eq!(res.status(), 200, "{asset}");
        assert!(res.bytes().await.expect("bytes").len() > 1000, "{asset}");
    }
}

#[tokio::test]
async fn an_unknown_path_is_a_404_problem() {
    let app = spawn_app().await;
    let res = app.get("/api/v1/nothing-here", &app.admin_token).await;
    assert_eq!(res.status, 404);
    assert_eq!(res.problem_code(), "not_found");
}

#[tokio::test]
async fn a_wrong_method_is_a_405_problem() {
    let app = spawn_app().await;
    let res = read(
        app.client
            .delete(app.url("/api/v1/organisations"))
            .bearer_auth(&app.admin_token)
            .send()
            .await
            .expect("delete"),
    )
    .await;
    assert_eq!(res.status, 405, "{}", res.text);
    assert_eq!(res.problem_code(), "method_not_allowed");
    assert_eq!(res.header("allow").as_deref(), Some("GET, POST"));
    // A path with a parameter is known too; an unknown one is still 404.
    let res = read(
        app.client
            .delete(app.url("/api/v1/opportunities/00000000-0000-0000-0000-000000000000/start"))
            .bearer_auth(&app.admin_token)
            .send()
            .await
            .expect("delete"),
    )
    .await;
    assert_eq!(res.status, 405, "{}", res.text);
    assert_eq!(res.header("allow").as_deref(), Some("POST"));
}
