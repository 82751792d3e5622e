//! Faults: the database going away under the service and coming back. The service reaches
//! PostgreSQL through a proxy the test controls, so the test can cut every connection and
//! refuse new ones (as a stopped server does) without stopping the PostgreSQL that other tests
//! share. (`.ci/faults` stops the real server too.)

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

use crate::helpers::{self, read, spawn_app_with};

/// Forwards TCP connections to PostgreSQL until cut.
struct Proxy {
    port: u16,
    up: Arc<AtomicBool>,
    links: Arc<Mutex<Vec<AbortHandle>>>,
}

impl Proxy {
    async fn start(target: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("address").port();
        let up = Arc::new(AtomicBool::new(true));
        let links: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let (up2, links2) = (up.clone(), links.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !up2.load(Ordering::SeqCst) {
                    // Down: the connection is closed at once, as a stopped server's would be.
                    drop(client);
                    continue;
                }
                let target = target.clone();
                let link = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                links2.lock().expect("links").push(link.abort_handle());
            }
        });
        Self { port, up, links }
    }

    /// Every connection dropped, and new ones refused.
    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for link in self.links.lock().expect("links").drain(..) {
            link.abort();
        }
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

/// The service's `/metrics` text.
async fn metrics(app: &crate::helpers::TestApp) -> crate::helpers::Answer {
    read(
        app.client
            .get(app.url("/metrics"))
            .send()
            .await
            .expect("metrics"),
    )
    .await
}

/// `host:port` of a PostgreSQL URL.
fn authority(url: &str) -> String {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let after_user = after_scheme
        .rsplit_once('@')
        .map_or(after_scheme, |(_, rest)| rest);
    let host = after_user.split(['/', '?']).next().unwrap_or_default();
    if host.contains(':') {
        host.to_owned()
    } else {
        format!("{host}:5432")
    }
}

// More than one thread: the service's background tasks run short reads on the thread that
// asks, and the proxy must go on forwarding meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_postgresql_goes_away_answers_are_503_at_once_and_service_resumes_when_it_returns() {
    if !helpers::on_postgres() {
        eprintln!("skipped: the database going away is a PostgreSQL fault (set TEST_DATABASE_URL)");
        return;
    }
    let admin = std::env::var("TEST_DATABASE_URL").expect("TEST_DATABASE_URL");
    let target = authority(&admin);
    let proxy = Proxy::start(target.clone()).await;
    let via_proxy = format!("127.0.0.1:{}", proxy.port);
    let app = spawn_app_with(|v| {
        let url = v["DATABASE_URL"].replacen(&target, &via_proxy, 1);
        v.insert("DATABASE_URL".into(), url);
        v.insert("COPRODUCE_POOL_TIMEOUT_SECS".into(), "5".into());
    })
    .await;
    let created = app
        .post(
            "/api/v1/organisations",
            &app.admin_token,
            &json!({ "name": "Before the outage", "kinds": ["provider"] }),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);

    proxy.cut();
    // The first request finds the connections gone; from then on the service knows.
    let first = app.get("/api/v1/organisations", &app.admin_token).await;
    assert_eq!(first.status, 503, "{}", first.text);
    let mut slowest = Duration::ZERO;
    for i in 0..30 {
        let started = Instant::now();
        let res = if i % 3 == 0 {
            app.post(
                "/api/v1/organisations",
                &app.admin_token,
                &json!({ "name": format!("During the outage {i}"), "kinds": ["provider"] }),
            )
            .await
        } else {
            app.get("/api/v1/organisations", &app.admin_token).await
        };
        slowest = slowest.max(started.elapsed());
        assert_eq!(res.status, 503, "{}", res.text);
        assert_eq!(res.problem_code(), "service_unavailable");
        assert!(res.header("retry-after").is_some(), "{:?}", res.headers);
    }
    assert!(
        slowest < Duration::from_millis(100),
        "answers while the database is away took up to {slowest:?}"
    );
    let ready = read(
        app.client
            .get(app.url("/readyz"))
            .send()
            .await
            .expect("readyz"),
    )
    .await;
    assert_eq!(ready.status, 503, "not ready while the database is away");
    let scraped = metrics(&app).await;
    assert!(
        scraped
            .text
            .lines()
            .any(|l| l == "coproduce_db_unreachable 1"),
        "{}",
        scraped.text
    );

    proxy.restore();
    let back = Instant::now();
    loop {
        let res = app.get("/api/v1/organisations", &app.admin_token).await;
        if res.status == 200 {
            let names: Vec<&str> = res.body["items"]
                .as_array()
                .expect("items")
                .iter()
                .filter_map(|o| o["name"].as_str())
                .collect();
            assert_eq!(
                names,
                ["Before the outage"],
                "nothing written during the outage"
            );
            break;
        }
        assert!(
            back.elapsed() < Duration::from_secs(5),
            "still {} five seconds after the database returned: {}",
            res.status,
            res.text
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let after = app
        .post(
            "/api/v1/organisations",
            &app.admin_token,
            &json!({ "name": "After the outage", "kinds": ["provider"] }),
        )
        .await;
    assert_eq!(
        after.status, 201,
        "writes resume without a restart: {}",
        after.text
    );
    let scraped = metrics(&app).await;
    assert!(
        scraped
            .text
            .lines()
            .any(|l| l == "coproduce_db_unreachable 0"),
        "{}",
        scraped.text
    );
    assert!(
        scraped.text.lines().any(
            |l| l.starts_with("coproduce_db_unreachable_episodes_total ") && !l.ends_with(" 0")
        ),
        "{}",
        scraped.text
    );
}

#[test]
fn the_authority_of_a_database_url() {
    assert_eq!(
        authority("postgres://postgres@127.0.0.1:5432/test"),
        "127.0.0.1:5432"
    );
    assert_eq!(
        authority("postgres://u:p@db.internal/x?sslmode=disable"),
        "db.internal:5432"
    );
}
