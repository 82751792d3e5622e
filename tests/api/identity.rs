//! Every protected call verifies its bearer token; each way of forging or misusing one is a 401
//! problem.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::json;

use crate::helpers::{spawn_app, spawn_app_with, token, AUDIENCE, ISSUER, JWT_SECRET};

const PUBLIC_PEM: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/rs256-public.pem"
);
const PRIVATE_PEM: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/rs256-private.pem"
);

fn claims(iss: &str, aud: &str, exp_offset: i64) -> serde_json::Value {
    let now = chrono::Utc::now().timestamp();
    json!({ "sub": "someone", "iss": iss, "aud": aud, "exp": now + exp_offset, "iat": now, "roles": ["admin"] })
}

fn hs256(claims: &serde_json::Value) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .expect("sign")
}

async fn assert_refused(app: &crate::helpers::TestApp, token: &str, why: &str) {
    let res = app.get("/api/v1/organisations", token).await;
    assert_eq!(res.status, 401, "{why}: {}", res.text);
    assert_eq!(res.problem_code(), "unauthenticated", "{why}");
    assert!(res.header("www-authenticate").is_some(), "{why}");
}

#[tokio::test]
async fn a_call_without_a_token_is_refused() {
    let app = spawn_app().await;
    let res = crate::helpers::read(
        app.client
            .get(app.url("/api/v1/organisations"))
            .send()
            .await
            .expect("get"),
    )
    .await;
    assert_eq!(res.status, 401);
    assert_eq!(res.problem_code(), "unauthenticated");
}

#[tokio::test]
async fn a_valid_token_is_accepted() {
    let app = spawn_app().await;
    let res = app
        .get(
            "/api/v1/organisations",
            &hs256(&claims(ISSUER, AUDIENCE, 600)),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
}

#[tokio::test]
async fn an_expired_token_is_refused_beyond_the_clock_skew() {
    let app = spawn_app().await;
    assert_refused(&app, &hs256(&claims(ISSUER, AUDIENCE, -120)), "expired").await;
    // Within 60 s of skew it still works.
    let res = app
        .get(
            "/api/v1/organisations",
            &hs256(&claims(ISSUER, AUDIENCE, -30)),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
}

#[tokio::test]
async fn a_token_not_valid_yet_is_refused() {
    let app = spawn_app().await;
    let mut c = claims(ISSUER, AUDIENCE, 600);
    c["nbf"] = json!(chrono::Utc::now().timestamp() + 300);
    assert_refused(&app, &hs256(&c), "nbf in the future").await;
}

#[tokio::test]
async fn a_token_for_another_audience_is_refused() {
    let app = spawn_app().await;
    assert_refused(
        &app,
        &hs256(&claims(ISSUER, "someone-else", 600)),
        "audience",
    )
    .await;
}

#[tokio::test]
async fn a_token_from_another_issuer_is_refused() {
    let app = spawn_app().await;
    assert_refused(&app, &hs256(&claims("evil", AUDIENCE, 600)), "issuer").await;
}

#[tokio::test]
async fn an_unsigned_token_with_alg_none_is_refused() {
    let app = spawn_app().await;
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let body = URL_SAFE_NO_PAD.encode(claims(ISSUER, AUDIENCE, 600).to_string());
    assert_refused(&app, &format!("{header}.{body}."), "alg none").await;
}

#[tokio::test]
async fn a_tampered_token_is_refused() {
    let app = spawn_app().await;
    let good = token(&["provider"], None, None);
    let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    // Promote ourselves to admin without re-signing.
    parts[1] = URL_SAFE_NO_PAD.encode(claims(ISSUER, AUDIENCE, 600).to_string());
    assert_refused(&app, &parts.join("."), "tampered payload").await;
    let mut sig = good.clone();
    sig.pop();
    sig.push(if good.ends_with('A') { 'B' } else { 'A' });
    assert_refused(&app, &sig, "tampered signature").await;
}

#[tokio::test]
async fn a_token_signed_with_another_secret_is_refused() {
    let app = spawn_app().await;
    let forged = encode(
        &Header::new(Algorithm::HS256),
        &claims(ISSUER, AUDIENCE, 600),
        &EncodingKey::from_secret(b"another-secret-of-at-least-thirty-two-bytes!!"),
    )
    .expect("sign");
    assert_refused(&app, &forged, "other secret").await;
}

#[tokio::test]
async fn rs256_tokens_verify_with_the_configured_public_key() {
    let app = spawn_app_with(|vars| {
        vars.insert("COPRODUCE_JWT_PUBLIC_KEYS".into(), PUBLIC_PEM.into());
    })
    .await;
    let private = std::fs::read(PRIVATE_PEM).expect("private key");
    let signed = encode(
        &Header::new(Algorithm::RS256),
        &claims(ISSUER, AUDIENCE, 600),
        &EncodingKey::from_rsa_pem(&private).expect("key"),
    )
    .expect("sign");
    let res = app.get("/api/v1/organisations", &signed).await;
    assert_eq!(res.status, 200, "{}", res.text);
}

#[tokio::test]
async fn an_hs256_token_signed_with_the_public_key_is_refused() {
    // Algorithm confusion: the attacker knows the public key and uses it as an HMAC secret.
    let app = spawn_app_with(|vars| {
        vars.insert("COPRODUCE_JWT_PUBLIC_KEYS".into(), PUBLIC_PEM.into());
    })
    .await;
    let public = std::fs::read(PUBLIC_PEM).expect("public key");
    let forged = encode(
        &Header::new(Algorithm::HS256),
        &claims(ISSUER, AUDIENCE, 600),
        &EncodingKey::from_secret(&public),
    )
    .expect("sign");
    assert_refused(&app, &forged, "HS256 with the public key").await;
}

#[tokio::test]
async fn an_rs256_token_is_refused_where_no_public_key_is_configured() {
    let app = spawn_app().await;
    let private = std::fs::read(PRIVATE_PEM).expect("private key");
    let signed = encode(
        &Header::new(Algorithm::RS256),
        &claims(ISSUER, AUDIENCE, 600),
        &EncodingKey::from_rsa_pem(&private).expect("key"),
    )
    .expect("sign");
    assert_refused(&app, &signed, "RS256 without a key").await;
}

#[tokio::test]
async fn a_basic_authorization_header_is_not_a_bearer_token() {
    let app = spawn_app().await;
    let res = crate::helpers::read(
        app.client
            .get(app.url("/api/v1/organisations"))
            .header("Authorization", "Basic dXNlcjpwYXNz")
            .send()
            .await
            .expect("get"),
    )
    .await;
    assert_eq!(res.status, 401);
}

#[tokio::test]
async fn graphql_needs_a_token_too() {
    let app = spawn_app().await;
    let res = crate::helpers::read(
        app.client
            .post(app.url("/graphql"))
            .json(&json!({ "query": "{ organisations { edges { node { id } } } }" }))
            .send()
            .await
            .expect("post"),
    )
    .await;
    assert_eq!(res.status, 401);
    assert_eq!(res.problem_code(), "unauthenticated");
}
