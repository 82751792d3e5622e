//! The committed contracts equal what the server serves.

use crate::helpers::spawn_app;

const REGENERATE: &str =
    "run `cargo run -- export-schemas` and commit schema.graphql and openapi/openapi.json";

#[tokio::test]
async fn the_committed_openapi_document_is_what_the_server_serves() {
    let app = spawn_app().await;
    let served: serde_json::Value = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    let committed: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
            .expect("openapi/openapi.json is committed"),
    )
    .expect("valid JSON");
    assert!(
        served == committed,
        "openapi/openapi.json has drifted: {REGENERATE}"
    );
    assert_eq!(served["openapi"].as_str().map(|v| &v[..3]), Some("3.1"));
}

#[tokio::test]
async fn the_committed_graphql_schema_is_what_the_server_serves() {
    let app = spawn_app().await;
    let served = app
        .client
        .get(app.url("/graphql/schema.graphql"))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("text");
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql"))
        .expect("schema.graphql is committed");
    assert!(
        served == committed,
        "schema.graphql has drifted: {REGENERATE}"
    );
}

#[test]
fn the_export_command_writes_exactly_the_committed_files() {
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql"))
        .expect("schema.graphql");
    assert!(coproduce::graphql::sdl() == committed, "{REGENERATE}");
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
            .expect("openapi.json");
    assert!(
        coproduce::rest::openapi::document_json() == committed,
        "{REGENERATE}"
    );
}
