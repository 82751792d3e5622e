//! Both backends start and migrate from empty, instances share one database, concurrent starts
//! do not race, and an unavailable database is a 503 the service recovers from by itself.

use coproduce::config::Settings;
use coproduce::Application;
use diesel::connection::SimpleConnection;
use diesel::{Connection, RunQueryDsl};
use serde_json::json;

use crate::helpers::{base_vars, on_postgres, read, spawn_app, spawn_app_with, TestApp};

/// Another instance of the service on the same database.
pub struct Instance {
    pub address: String,
    pub client: reqwest::Client,
}

impl Instance {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }
}

pub async fn second_instance(app: &TestApp) -> Instance {
    let vars = base_vars(&app.database_url, &app.data_dir);
    let settings = Settings::from_lookup(|k| vars.get(k).cloned()).expect("settings");
    let second = Application::build(settings).await.expect("second instance");
    let address = format!("http://127.0.0.1:{}", second.port());
    tokio::spawn(second.run_until_stopped());
    Instance {
        address,
        client: reqwest::Client::new(),
    }
}

#[tokio::test]
async fn two_instances_starting_at_once_on_an_empty_database_both_come_up() {
    let app = spawn_app().await; // its database is migrated; make a new empty one beside it
    let dir = tempfile::tempdir().expect("dir");
    let (url, _db) = crate::helpers::fresh_database(dir.path());
    let starts = (0..2).map(|_| {
        let vars = base_vars(&url, &dir.path().join("data"));
        async move {
            let settings = Settings::from_lookup(|k| vars.get(k).cloned()).expect("settings");
            Application::build(settings).await
        }
    });
    let built = futures_util::future::join_all(starts).await;
    let mut addresses = Vec::new();
    for app in built {
        let app = app.expect("each instance starts and migrates");
        addresses.push(format!("http://127.0.0.1:{}", app.port()));
        tokio::spawn(app.run_until_stopped());
    }
    for address in addresses {
        let res = read(
            app.client
                .get(format!("{address}/readyz"))
                .send()
                .await
                .expect("get"),
        )
        .await;
        assert_eq!(res.status, 200, "{}", res.text);
        assert_eq!(res.body["migrations_current"], true);
    }
}

#[tokio::test]
async fn instances_on_one_database_see_each_others_writes() {
    let app = spawn_app().await;
    let other = second_instance(&app).await;
    let id = app.create_organisation("Shared", &["provider"]).await;
    let res = read(
        other
            .client
            .get(other.url(&format!("/api/v1/organisations/{id}")))
            .bearer_auth(&app.admin_token)
            .send()
            .await
            .expect("get"),
    )
    .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["name"], "Shared");
}

#[tokio::test]
async fn an_unavailable_database_is_a_503_and_the_service_recovers_by_itself() {
    let app = spawn_app_with(|vars| {
        vars.insert("COPRODUCE_POOL_TIMEOUT_SECS".into(), "1".into());
        vars.insert("COPRODUCE_SQLITE_BUSY_TIMEOUT_MS".into(), "300".into());
    })
    .await;
    let body = json!({ "name": "Waiting", "kinds": ["provider"] });
    assert_eq!(
        app.get("/api/v1/organisations", &app.admin_token)
            .await
            .status,
        200
    );

    if on_postgres() {
        let admin_url = std::env::var("TEST_DATABASE_URL").expect("url");
        let name = app
            .database_url
            .rsplit('/')
            .next()
            .expect("name")
            .split('?')
            .next()
            .expect("name")
            .to_owned();
        let mut admin = diesel::PgConnection::establish(&admin_url).expect("admin");
        admin
            .batch_execute(&format!(
                "ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS false"
            ))
            .expect("take the database away");
        // Terminate until none is left: a connection the pool was opening as the database was
        // closed may appear only after the first sweep.
        for _ in 0..20 {
            admin
                .batch_execute(&format!(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
                ))
                .expect("terminate");
            std::thread::sleep(std::time::Duration::from_millis(100));
            let left: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
                &format!("(SELECT count(*) FROM pg_stat_activity WHERE datname = '{name}')"),
            ))
            .get_result(&mut admin)
            .expect("count");
            if left == 0 {
                break;
            }
        }
        let mut saw_503 = false;
        for _ in 0..3 {
            let res = app.get("/api/v1/organisations", &app.admin_token).await;
            assert!(
                res.status == 503,
                "expected 503, got {}: {}",
                res.status,
                res.text
            );
            assert_eq!(res.problem_code(), "service_unavailable");
            assert!(res.header("retry-after").is_some());
            assert!(
                !res.text.contains("terminat"),
                "no database detail leaks: {}",
                res.text
            );
            saw_503 = true;
        }
        assert!(saw_503);
        let ready = read(
            app.client
                .get(app.url("/readyz"))
                .send()
                .await
                .expect("get"),
        )
        .await;
        assert_eq!(ready.status, 503);
        admin
            .batch_execute(&format!("ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS true"))
            .expect("give it back");
    } else {
        // Another process holds SQLite's write lock for longer than the service waits.
        let path = app.database_url.trim_start_matches("sqlite://").to_owned();
        let mut holder = diesel::SqliteConnection::establish(&path).expect("open");
        holder
            .batch_execute("BEGIN IMMEDIATE")
            .expect("take the write lock");
        let res = app
            .post("/api/v1/organisations", &app.admin_token, &body)
            .await;
        assert_eq!(res.status, 503, "{}", res.text);
        assert_eq!(res.problem_code(), "service_unavailable");
        assert!(res.header("retry-after").is_some());
        holder.batch_execute("COMMIT").expect("release");
    }

    // Back by itself: no restart, no manual step.
    let mut recovered = false;
    for _ in 0..50 {
        let res = app
            .post("/api/v1/organisations", &app.admin_token, &body)
            .await;
        if res.status == 201 {
            recovered = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(recovered, "the service did not recover");
    assert_eq!(
        app.get("/api/v1/organisations", &app.admin_token)
            .await
            .status,
        200
    );
}

#[test]
fn production_on_postgresql_refuses_to_start_without_a_secret() {
    let vars = std::collections::HashMap::from([(
        "DATABASE_URL".to_owned(),
        "postgres://postgres@127.0.0.1:1/never".to_owned(),
    )]);
    let settings = Settings::from_lookup(|k| vars.get(k).cloned()).expect("settings");
    let err =
        coproduce::auth::TokenAuthority::from_settings(&settings.jwt, &settings.data_dir, false)
            .err()
            .expect("refused");
    assert!(err.to_string().contains("COPRODUCE_JWT_SECRET"));
}

#[test]
fn embedded_mode_generates_a_private_secret_once() {
    let dir = tempfile::tempdir().expect("dir");
    let vars = std::collections::HashMap::<String, String>::new();
    let settings = Settings::from_lookup(|k| vars.get(k).cloned()).expect("settings");
    let a = coproduce::auth::TokenAuthority::from_settings(&settings.jwt, dir.path(), true)
        .expect("first");
    let path = dir.path().join("jwt-secret");
    let first = std::fs::read_to_string(&path).expect("secret file");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let b = coproduce::auth::TokenAuthority::from_settings(&settings.jwt, dir.path(), true)
        .expect("second");
    assert_eq!(std::fs::read_to_string(&path).expect("again"), first);
    // A token minted by one verifies with the other: the CLI and the server agree.
    let token = a
        .mint(&coproduce::auth::TokenRequest {
            subject: "cli".into(),
            organisation_id: None,
            roles: vec![coproduce::domain::identity::Role::Admin],
            participant_id: None,
            client_id: None,
            ttl: std::time::Duration::from_secs(60),
        })
        .expect("mint");
    assert!(b.verify(&token).is_ok());
}

#[test]
fn a_short_secret_is_refused() {
    let vars =
        std::collections::HashMap::from([("COPRODUCE_JWT_SECRET".to_owned(), "short".to_owned())]);
    let settings = Settings::from_lookup(|k| vars.get(k).cloned()).expect("settings");
    let dir = tempfile::tempdir().expect("dir");
    assert!(
        coproduce::auth::TokenAuthority::from_settings(&settings.jwt, dir.path(), true).is_err()
    );
}

#[tokio::test]
async fn writes_waiting_out_another_writers_lock_leave_the_reads_their_connections() {
    if on_postgres() {
        // PostgreSQL has no database-wide write lock; SQLite's is what a backup or a second
        // instance holds.
        return;
    }
    let app = spawn_app_with(|vars| {
        vars.insert("COPRODUCE_SQLITE_BUSY_TIMEOUT_MS".into(), "10000".into());
        vars.insert("COPRODUCE_POOL_TIMEOUT_SECS".into(), "20".into());
    })
    .await;
    let path = app.database_url.trim_start_matches("sqlite://").to_owned();
    let mut holder = diesel::SqliteConnection::establish(&path).expect("open");
    holder
        .batch_execute("BEGIN IMMEDIATE")
        .expect("take the write lock");
    // More writes than the pool has connections (4 in the tests) wait for the lock...
    let writes: Vec<_> = (0..8)
        .map(|i| {
            let (client, url, token) = (
                app.client.clone(),
                app.url("/api/v1/organisations"),
                app.admin_token.clone(),
            );
            tokio::spawn(async move {
                client
                    .post(url)
                    .bearer_auth(token)
                    .json(&json!({ "name": format!("Waiting {i}"), "kinds": ["provider"] }))
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
            })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    // ...and reads are still answered while they wait.
    for _ in 0..3 {
        let res = app.get("/api/v1/organisations", &app.admin_token).await;
        assert_eq!(res.status, 200, "{}", res.text);
    }
    assert!(
        writes.iter().all(|w| !w.is_finished()),
        "the reads were answered while the writes still waited"
    );
    holder.batch_execute("COMMIT").expect("release");
    for w in writes {
        assert_eq!(w.await.expect("join").expect("answer"), 201);
    }
}
