//! Spawning the application for one test, with a database of its own.

use std::collections::HashMap;
use std::path::PathBuf;

use coproduce::config::Settings;
use coproduce::Application;
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use serde_json::{json, Value};
use uuid::Uuid;

pub const JWT_SECRET: &str = "test-secret-that-is-long-enough-for-hs256-0123456789";
pub const ISSUER: &str = "coproduce-test";
pub const AUDIENCE: &str = "coproduce-test-api";
/// The data key test apps seal contact details with (base64 of 32 bytes).
pub const DATA_KEY: &str = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";

/// The database a test runs on, removed when the test ends.
pub enum TestDb {
    Sqlite,
    Postgres { admin_url: String, name: String },
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Postgres { admin_url, name } = self {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            // Drop from a plain thread: this may run inside the async runtime.
            let _ = std::thread::spawn(move || {
                if let Ok(mut conn) = PgConnection::establish(&admin_url) {
                    let _ = conn
                        .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
                }
            })
            .join();
        }
    }
}

/// A fresh database for one test: a new PostgreSQL database when `TEST_DATABASE_URL` is set,
/// else an SQLite file in the test's own folder.
pub fn fresh_database(dir: &std::path::Path) -> (String, TestDb) {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(admin_url) if !admin_url.is_empty() => {
            let name = format!("coproduce_test_{}", Uuid::new_v4().simple());
            let mut conn = PgConnection::establish(&admin_url)
                .unwrap_or_else(|e| panic!("cannot reach TEST_DATABASE_URL: {e}"));
            conn.batch_execute(&format!("CREATE DATABASE \"{name}\""))
                .expect("create the test database");
            let url = replace_database(&admin_url, &name);
            (url, TestDb::Postgres { admin_url, name })
        }
        _ => (
            format!("sqlite://{}", dir.join("coproduce.db").display()),
            TestDb::Sqlite,
        ),
    }
}

pub fn on_postgres() -> bool {
    std::env::var("TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty())
}

/// `postgres://u@h:5432/test?x=y` with another database name.
pub fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let cut = base.rfind('/').expect("a database URL has a path");
    let mut out = format!("{}/{}", &base[..cut], name);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub database_url: String,
    pub data_dir: PathBuf,
    pub admin_token: String,
    /// Staff of the facilitator that registers the people tests sign in as (made on first use).
    registrar: tokio::sync::OnceCell<String>,
    /// The variables the app was built with (for another instance beside it).
    pub vars: HashMap<String, String>,
    /// `None` for an instance started beside another: the first app owns the database.
    _db: Option<TestDb>,
    _dir: tempfile::TempDir,
}

/// Variables every test app uses; tests may add or override some.
pub fn base_vars(database_url: &str, data_dir: &std::path::Path) -> HashMap<String, String> {
    [
        ("COPRODUCE_BIND", "127.0.0.1:0".to_owned()),
        ("DATABASE_URL", database_url.to_owned()),
        ("COPRODUCE_DATA_DIR", data_dir.display().to_string()),
        ("COPRODUCE_POOL_SIZE", "4".to_owned()),
        ("COPRODUCE_POOL_TIMEOUT_SECS", "10".to_owned()),
        ("COPRODUCE_WORKERS", "4".to_owned()),
        ("COPRODUCE_JWT_SECRET", JWT_SECRET.to_owned()),
        ("COPRODUCE_JWT_ISSUER", ISSUER.to_owned()),
        ("COPRODUCE_JWT_AUDIENCE", AUDIENCE.to_owned()),
        ("COPRODUCE_DATA_KEY", DATA_KEY.to_owned()),
        // Rate limits far above what a test sends, so only the tests about them meet them
        // (the limiter still runs on every request).
        ("COPRODUCE_CLIENT_RATE", "100000".to_owned()),
        ("COPRODUCE_CLIENT_BURST", "100000".to_owned()),
        ("COPRODUCE_ADDRESS_RATE", "100000".to_owned()),
        ("COPRODUCE_ADDRESS_BURST", "100000".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Spawns the app after `adjust` has changed its variables.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut HashMap<String, String>)) -> TestApp {
    // `TEST_LOG=1 cargo test name -- --nocapture` shows the server's log of a failing test.
    if std::env::var_os("TEST_LOG").is_some() {
        std::mem::forget(coproduce::telemetry::init(
            coproduce::config::LogFormat::Pretty,
        ));
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let data_dir = dir.path().join("data");
    let (database_url, db) = fresh_database(dir.path());
    let mut vars = base_vars(&database_url, &data_dir);
    adjust(&mut vars);
    let settings = Settings::from_lookup(|k| vars.get(k).cloned()).expect("settings");
    let app = Application::build(settings).await.expect("the app builds");
    let port = app.port();
    tokio::spawn(app.run_until_stopped());
    let mut test_app = TestApp {
        address: format!("http://127.0.0.1:{port}"),

        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
        database_url,
        data_dir,
        admin_token: String::new(),
        registrar: tokio::sync::OnceCell::new(),
        vars,
        _db: Some(db),
        _dir: dir,
    };
    test_app.admin_token = token(&["admin"], None, None);
    test_app
}

/// Starts another instance of the service on `app`'s database: the same variables (database,
/// data folder, JWT secret, data key...) after `adjust` has changed them, on a port of its own.
/// The database stays `app`'s: dropping this instance's `TestApp` leaves it in place.
pub async fn spawn_beside(
    app: &TestApp,
    adjust: impl FnOnce(&mut HashMap<String, String>),
) -> TestApp {
    let mut vars = app.vars.clone();
    adjust(&mut vars);
    let settings = Settings::from_lookup(|k| vars.get(k).cloned()).expect("settings");
    let instance = Application::build(settings)
        .await
        .expect("the instance beside builds");
    let port = instance.port();
    tokio::spawn(instance.run_until_stopped());
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
        database_url: app.database_url.clone(),
        data_dir: app.data_dir.clone(),
        admin_token: app.admin_token.clone(),
        // The same registrar once either instance has made it.
        registrar: app.registrar.clone(),
        vars,
        _db: None,
        _dir: tempfile::tempdir().expect("temp dir"),
    }
}

#[derive(serde::Serialize)]
struct Claims<'a> {
    sub: &'a str,
    iss: &'a str,
    aud: &'a str,
    exp: i64,
    iat: i64,
    roles: Vec<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    org: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    participant_id: Option<Uuid>,
}

/// A valid HS256 token for the test apps.
pub fn token(roles: &[&str], org: Option<Uuid>, participant: Option<Uuid>) -> String {
    token_as("test-user", roles, org, participant)
}

/// A valid HS256 token naming its subject.
pub fn token_as(sub: &str, roles: &[&str], org: Option<Uuid>, participant: Option<Uuid>) -> String {
    token_until(
        sub,
        roles,
        org,
        participant,
        chrono::Utc::now().timestamp() + 600,
    )
}

/// A valid HS256 token that expires at `exp` (seconds since the epoch).
pub fn token_until(
    sub: &str,
    roles: &[&str],
    org: Option<Uuid>,
    participant: Option<Uuid>,
    exp: i64,
) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = Claims {
        sub,
        iss: ISSUER,
        aud: AUDIENCE,
        exp,
        iat: now,
        roles: roles.to_vec(),
        org,
        participant_id: participant,
    };
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .expect("sign")
}

/// A response read whole, for assertions.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    /// Asserts the RFC 9457 shape and returns the problem's code.
    pub fn problem_code(&self) -> String {
        assert_eq!(
            self.header("content-type").as_deref(),
            Some("application/problem+json"),
            "not a problem document: {self:?}"
        );
        for field in ["type", "title", "status", "detail"] {
            assert!(
                self.body.get(field).is_some(),
                "problem lacks {field}: {}",
                self.text
            );
        }
        assert_eq!(self.body["status"].as_u64(), Some(u64::from(self.status)));
        self.body["code"].as_str().unwrap_or_default().to_owned()
    }
}

pub async fn read(response: reqwest::Response) -> Answer {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        body,
        text,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str, token: &str) -> Answer {
        read(
            self.client
                .get(self.url(path))
                .bearer_auth(token)
                .send()
                .await
                .expect("request"),
        )
        .await
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Answer {
        read(
            self.client
                .post(self.url(path))
                .bearer_auth(token)
                .json(body)
                .send()
                .await
                .expect("request"),
        )
        .await
    }

    pub async fn patch(
        &self,
        path: &str,
        token: &str,
        if_match: Option<&str>,
        body: &Value,
    ) -> Answer {
        let mut req = self
            .client
            .patch(self.url(path))
            .bearer_auth(token)
            .json(body);
        if let Some(tag) = if_match {
            req = req.header("If-Match", tag);
        }
        read(req.send().await.expect("request")).await
    }

    /// Runs a GraphQL document and returns the whole response body.
    /// A `POST` carrying an `Idempotency-Key`.
    pub async fn post_with_key(&self, path: &str, token: &str, key: &str, body: &Value) -> Answer {
        read(
            self.client
                .post(self.url(path))
                .bearer_auth(token)
                .header("Idempotency-Key", key)
                .json(body)
                .send()
                .await
                .expect("post"),
        )
        .await
    }

    pub async fn graphql(&self, token: &str, query: &str, variables: Value) -> Value {
        let answer = self
            .post(
                "/graphql",
                token,
                &json!({ "query": query, "variables": variables }),
            )
            .await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        answer.body
    }

    /// Creates an organisation as admin and returns its id.
    pub async fn create_organisation(&self, name: &str, kinds: &[&str]) -> Uuid {
        let answer = self
            .post(
                "/api/v1/organisations",
                &self.admin_token,
                &json!({ "name": name, "kinds": kinds }),
            )
            .await;
        assert_eq!(answer.status, 201, "{}", answer.text);
        answer.body["id"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .expect("an id")
    }
}

impl TestApp {
    /// Registers a person through staff of their organisation (`body` is the profile; a name
    /// is added when missing) and returns their id.
    pub async fn register_participant(&self, staff_token: &str, body: Value) -> Uuid {
        let mut body = body;
        if body.get("name").is_none() {
            body["name"] = json!("Sam Taylor");
        }
        let answer = self.post("/api/v1/participants", staff_token, &body).await;
        assert_eq!(answer.status, 201, "{}", answer.text);
        answer.body["id"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .expect("an id")
    }

    /// A staff token of the peer-support facilitator that registers the people tests sign in
    /// as themselves (one per app).
    pub async fn registrar(&self) -> String {
        self.registrar
            .get_or_init(|| async {
                let org = self
                    .create_organisation("Peer Support Network", &["facilitator"])
                    .await;
                token(&["facilitator"], Some(org), None)
            })
            .await
            .clone()
    }

    /// Registers a person with lived experience (through the peer-support facilitator) and
    /// returns their id and a token to sign in as them.
    pub async fn person(&self) -> (Uuid, String) {
        self.person_with(json!({ "roles": ["lived_experience"] }))
            .await
    }

    /// Registers a person with this profile (through the peer-support facilitator) and returns
    /// their id and a token to sign in as them.
    pub async fn person_with(&self, body: Value) -> (Uuid, String) {
        let registrar = self.registrar().await;
        let id = self.register_participant(&registrar, body).await;
        (id, token(&["participant"], None, Some(id)))
    }
}

/// The GraphQL error code of the first error.
pub fn gql_code(body: &Value) -> Option<String> {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .map(str::to_owned)
}

#[derive(diesel::QueryableByName)]
struct TextRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    t: String,
}

/// Every value of one text expression in the test's own database (for example
/// `SELECT secret_hash AS t FROM api_clients`): what is really stored, whatever the API shows.
pub fn stored_text(database_url: &str, sql: &str) -> Vec<String> {
    use diesel::RunQueryDsl;
    let (url, sql) = (database_url.to_owned(), sql.to_owned());
    // A plain thread: this may run inside the async runtime.
    std::thread::spawn(move || -> Vec<String> {
        let rows: Vec<TextRow> = if let Some(path) = url.strip_prefix("sqlite://") {
            let mut conn = diesel::SqliteConnection::establish(path).expect("open SQLite");
            diesel::sql_query(&sql).load(&mut conn).expect("query")
        } else {
            let mut conn = PgConnection::establish(&url).expect("open PostgreSQL");
            diesel::sql_query(&sql).load(&mut conn).expect("query")
        };
        rows.into_iter().map(|r| r.t).collect()
    })
    .join()
    .expect("the query thread")
}

/// Runs one statement on the test's own database with its foreign keys enforced (and their
/// cascades made, as the service's connections make them), saying why the database refused it.
pub fn try_execute_sql(database_url: &str, sql: &str) -> Result<usize, String> {
    let (url, sql) = (database_url.to_owned(), sql.to_owned());
    std::thread::spawn(move || {
        use diesel::connection::SimpleConnection;
        use diesel::RunQueryDsl;
        if let Some(path) = url.strip_prefix("sqlite://") {
            let mut conn = diesel::SqliteConnection::establish(path).expect("open SQLite");
            conn.batch_execute("PRAGMA foreign_keys = ON")
                .expect("foreign keys on");
            diesel::sql_query(&sql).execute(&mut conn)
        } else {
            let mut conn = PgConnection::establish(&url).expect("open PostgreSQL");
            diesel::sql_query(&sql).execute(&mut conn)
        }
        .map_err(|e| e.to_string())
    })
    .join()
    .expect("the statement thread")
}

/// Runs one statement on the test's own database (to set up what the API cannot, such as a
/// claim due in the past).
pub fn execute_sql(database_url: &str, sql: &str) {
    let (url, sql) = (database_url.to_owned(), sql.to_owned());
    std::thread::spawn(move || {
        use diesel::RunQueryDsl;
        if let Some(path) = url.strip_prefix("sqlite://") {
            let mut conn = diesel::SqliteConnection::establish(path).expect("open SQLite");
            diesel::sql_query(&sql)
                .execute(&mut conn)
                .expect("statement");
        } else {
            let mut conn = PgConnection::establish(&url).expect("open PostgreSQL");
            diesel::sql_query(&sql)
                .execute(&mut conn)
                .expect("statement");
        }
    })
    .join()
    .expect("the statement thread");
}
