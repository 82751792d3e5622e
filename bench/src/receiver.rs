//! A webhook receiver inside the bench process: a small HTTP/1.1 server on 127.0.0.1 (tokio,
//! one thread, keep-alive) that answers every POST 200 and records, for each, its `webhook-id`
//! and when it arrived; it checks each delivery's signature (Standard Webhooks: `v1,` + base64
//! of HMAC-SHA256 over `id.timestamp.body`, several space-separated signatures allowed), that
//! its timestamp is within 5 minutes and that the body's id is the `webhook-id`.

use std::collections::HashSet;
use std::net::TcpListener as StdListener;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Result;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How far a `webhook-timestamp` may be from our clock (the specification's suggestion).
pub const TOLERANCE_SECS: i64 = 300;
/// Longest request head, and body, accepted.
const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 1024 * 1024;
const OK: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
const BAD: &[u8] = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";

/// One request read off a connection.
#[derive(Debug, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// Names lower-cased, in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// The first whole request in `buf` and how many bytes it took; `None` while it is incomplete.
/// Bodies by `content-length` or chunked (without trailers).
pub fn parse_request(buf: &[u8]) -> Result<Option<(Request, usize)>, String> {
    let Some(head_end) = find(buf, b"\r\n\r\n", 0) else {
        return if buf.len() > MAX_HEAD {
            Err("request head too long".into())
        } else {
            Ok(None)
        };
    };
    let head = std::str::from_utf8(&buf[..head_end]).map_err(|_| "head not UTF-8")?;
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or("").split_whitespace();
    let (method, path) = match (first.next(), first.next(), first.next()) {
        (Some(m), Some(p), Some(v)) if v.starts_with("HTTP/1.") => (m.to_owned(), p.to_owned()),
        _ => return Err("bad request line".into()),
    };
    let mut headers = Vec::new();
    for line in lines {
        let (name, value) = line.split_once(':').ok_or("bad header line")?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    let mut req = Request {
        method,
        path,
        headers,
        body: Vec::new(),
    };
    let start = head_end + 4;
    let chunked = req
        .header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    if chunked {
        let mut at = start;
        let mut body = Vec::new();
        loop {
            let Some(line_end) = find(buf, b"\r\n", at) else {
                return Ok(None);
            };
            let size_text = std::str::from_utf8(&buf[at..line_end]).map_err(|_| "bad chunk")?;
            let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| "bad chunk size")?;
            let data = line_end + 2;
            if size == 0 {
                // No trailers: the last chunk is followed by an empty line.
                if buf.len() < data + 2 {
                    return Ok(None);
                }
                req.body = body;
                return Ok(Some((req, data + 2)));
            }
            if body.len() + size > MAX_BODY {
                return Err("body too long".into());
            }
            if buf.len() < data + size + 2 {
                return Ok(None);
            }
            body.extend_from_slice(&buf[data..data + size]);
            at = data + size + 2;
        }
    }
    let len: usize = match req.header("content-length") {
        Some(v) => v.parse().map_err(|_| "bad content-length")?,
        None => 0,
    };
    if len > MAX_BODY {
        return Err("body too long".into());
    }
    if buf.len() < start + len {
        return Ok(None);
    }
    req.body = buf[start..start + len].to_vec();
    Ok(Some((req, start + len)))
}

/// Why a delivery does not verify, or `Ok` when it does: its signature (any of those given)
/// is ours with `key`, its timestamp within the tolerance of `now` (Unix seconds), and its
/// body's `id` is its `webhook-id`.
pub fn verify(key: &[u8], req: &Request, now: i64) -> Result<(), String> {
    let id = req.header("webhook-id").ok_or("no webhook-id")?;
    let ts_text = req
        .header("webhook-timestamp")
        .ok_or("no webhook-timestamp")?;
    let ts: i64 = ts_text
        .parse()
        .map_err(|_| "webhook-timestamp not a number")?;
    let given = req
        .header("webhook-signature")
        .ok_or("no webhook-signature")?;
    let expected = coproduce::domain::webhook::sign(key, id, ts, &req.body);
    if !given.split_whitespace().any(|s| s == expected) {
        return Err("no signature matches".into());
    }
    if (now - ts).abs() > TOLERANCE_SECS {
        return Err(format!("timestamp {ts} is {} s from now", now - ts));
    }
    let body: serde_json::Value = serde_json::from_slice(&req.body).map_err(|_| "body not JSON")?;
    if body["id"].as_str() != Some(id) {
        return Err("the body's id is not the webhook-id".into());
    }
    Ok(())
}

/// What the receiver saw.
#[derive(Debug, Default)]
pub struct Seen {
    /// Every request with a `webhook-id`, in order of arrival: (id, when).
    pub receipts: Vec<(String, Instant)>,
    /// Deliveries whose signature was checked, and how many failed, with the first reasons.
    pub checked: u64,
    pub invalid: u64,
    pub invalid_examples: Vec<String>,
    /// Requests that could not be read (answered 400), and requests without a webhook-id.
    pub malformed: u64,
    pub without_id: u64,
    /// Connections accepted.
    pub connections: u64,
    /// The distinct ids among the receipts.
    ids: HashSet<String>,
}

struct Shared {
    key: Vec<u8>,
    seen: Mutex<Seen>,
    /// Requests recorded so far, and distinct ids among them (for sampling without the lock).
    received: AtomicU64,
    distinct: AtomicU64,
    stop: AtomicBool,
}

pub struct Receiver {
    shared: Arc<Shared>,
    handle: Option<JoinHandle<()>>,
}

impl Receiver {
    /// Starts serving on `listener` (bound already, so its port could be registered first),
    /// checking signatures with the key of the endpoint's secret.
    pub fn start(listener: StdListener, key: Vec<u8>) -> Result<Self> {
        listener.set_nonblocking(true)?;
        let shared = Arc::new(Shared {
            key,
            seen: Mutex::new(Seen::default()),
            received: AtomicU64::new(0),
            distinct: AtomicU64::new(0),
            stop: AtomicBool::new(false),
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let s = shared.clone();
        let handle = std::thread::Builder::new()
            .name("receiver".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let Ok(listener) = TcpListener::from_std(listener) else {
                        return;
                    };
                    while !s.stop.load(Ordering::Relaxed) {
                        let accepted =
                            tokio::time::timeout(Duration::from_millis(100), listener.accept())
                                .await;
                        if let Ok(Ok((stream, _))) = accepted {
                            let _ = stream.set_nodelay(true);
                            if let Ok(mut seen) = s.seen.lock() {
                                seen.connections += 1;
                            }
                            tokio::spawn(serve(stream, s.clone()));
                        }
                    }
                });
            })?;
        Ok(Self {
            shared,
            handle: Some(handle),
        })
    }

    /// Requests recorded so far.
    pub fn received(&self) -> u64 {
        self.shared.received.load(Ordering::Relaxed)
    }

    /// Distinct ids received so far.
    pub fn distinct(&self) -> u64 {
        self.shared.distinct.load(Ordering::Relaxed)
    }

    /// A copy of what was seen so far.
    pub fn snapshot(&self) -> Seen {
        let seen = self.shared.seen.lock().unwrap_or_else(|e| e.into_inner());
        Seen {
            receipts: seen.receipts.clone(),
            checked: seen.checked,
            invalid: seen.invalid,
            invalid_examples: seen.invalid_examples.clone(),
            malformed: seen.malformed,
            without_id: seen.without_id,
            connections: seen.connections,
            ids: HashSet::new(),
        }
    }

    /// Stops serving and returns everything seen.
    pub fn finish(mut self) -> Seen {
        self.stop();
        self.snapshot()
    }

    fn stop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Shared {
    fn record(&self, req: &Request, at: Instant) {
        let Some(id) = req.header("webhook-id") else {
            if let Ok(mut seen) = self.seen.lock() {
                seen.without_id += 1;
            }
            return;
        };
        let checked = verify(&self.key, req, chrono::Utc::now().timestamp());
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.receipts.push((id.to_owned(), at));
        if seen.ids.insert(id.to_owned()) {
            self.distinct.fetch_add(1, Ordering::Relaxed);
        }
        seen.checked += 1;
        if let Err(why) = checked {
            seen.invalid += 1;
            if seen.invalid_examples.len() < 3 {
                seen.invalid_examples.push(format!("{id}: {why}"));
            }
        }
        self.received.fetch_add(1, Ordering::Relaxed);
    }
}

/// One connection: reads requests one after another (keep-alive), records each and answers 200,
/// until the peer closes, asks to close, or sends something unreadable.
async fn serve(mut stream: TcpStream, shared: Arc<Shared>) {
    let mut buf: Vec<u8> = Vec::with_capacity(8192);
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        loop {
            match parse_request(&buf) {
                Ok(Some((req, used))) => {
                    let at = Instant::now();
                    buf.drain(..used);
                    shared.record(&req, at);
                    let close = req
                        .header("connection")
                        .is_some_and(|v| v.eq_ignore_ascii_case("close"));
                    if stream.write_all(OK).await.is_err() || close {
                        return;
                    }
                }
                Ok(None) => break,
                Err(_) => {
                    if let Ok(mut seen) = shared.seen.lock() {
                        seen.malformed += 1;
                    }
                    let _ = stream.write_all(BAD).await;
                    return;
                }
            }
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if shared.stop.load(Ordering::Relaxed) {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    fn request(body: &str, headers: &[(&str, &str)]) -> Request {
        Request {
            method: "POST".into(),
            path: "/hook".into(),
            headers: headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn requests_are_read_by_length_or_in_chunks_and_only_when_whole() {
        let raw = b"POST /hook HTTP/1.1\r\nHost: x\r\nWebhook-Id: e1\r\nContent-Length: 5\r\n\r\nhelloPOST";
        let (req, used) = parse_request(raw).unwrap().unwrap();
        assert_eq!(req.method, "POST");
        assert_eq!(req.path, "/hook");
        assert_eq!(req.header("webhook-id"), Some("e1"));
        assert_eq!(req.body, b"hello");
        assert_eq!(&raw[used..], b"POST");
        assert!(parse_request(&raw[..raw.len() - 6]).unwrap().is_none());
        assert!(parse_request(b"POST /hook HTTP/1.1\r\nHost")
            .unwrap()
            .is_none());

        let chunked =
            b"POST /h HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
        let (req, used) = parse_request(chunked).unwrap().unwrap();
        assert_eq!(req.body, b"hello world");
        assert_eq!(used, chunked.len());
        assert!(parse_request(&chunked[..chunked.len() - 1])
            .unwrap()
            .is_none());

        assert!(parse_request(b"nonsense\r\n\r\n").is_err());
        assert!(parse_request(b"GET / HTTP/1.1\r\ncontent-length: x\r\n\r\n").is_err());
    }

    #[test]
    fn a_delivery_verifies_with_any_of_its_signatures_and_fails_otherwise() {
        let key = b"0123456789abcdef0123456789abcdef".to_vec();
        let body = r#"{"id":"e1","type":"opportunity.advertised"}"#;
        let now = 1_700_000_000;
        let good = coproduce::domain::webhook::sign(&key, "e1", now, body.as_bytes());
        let other = coproduce::domain::webhook::sign(b"another key", "e1", now, body.as_bytes());
        let both = format!("{other} {good}");
        let ts = now.to_string();
        let with = |sig: &str, ts: &str, id: &str| {
            request(
                body,
                &[
                    ("webhook-id", id),
                    ("webhook-timestamp", ts),
                    ("webhook-signature", sig),
                ],
            )
        };
        assert!(verify(&key, &with(&good, &ts, "e1"), now).is_ok());
        assert!(verify(&key, &with(&both, &ts, "e1"), now + 10).is_ok());
        assert!(verify(&key, &with(&other, &ts, "e1"), now).is_err());
        // Signed for another id, or another time, or stale.
        assert!(verify(&key, &with(&good, &ts, "e2"), now).is_err());
        assert!(verify(&key, &with(&good, &(now + 1).to_string(), "e1"), now).is_err());
        assert!(verify(&key, &with(&good, &ts, "e1"), now + TOLERANCE_SECS + 1).is_err());
        assert!(verify(&key, &request(body, &[]), now).is_err());
        // Signed, but the body names another event.
        let body2 = r#"{"id":"e9"}"#;
        let sig2 = coproduce::domain::webhook::sign(&key, "e1", now, body2.as_bytes());
        let r = request(
            body2,
            &[
                ("webhook-id", "e1"),
                ("webhook-timestamp", &ts),
                ("webhook-signature", &sig2),
            ],
        );
        assert!(verify(&key, &r, now).is_err());
    }

    #[test]
    fn the_receiver_answers_200_on_one_connection_and_records_each_delivery() {
        let listener = StdListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let key = b"k".to_vec();
        let rx = Receiver::start(listener, key.clone()).unwrap();
        let mut conn = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let now = chrono::Utc::now().timestamp();
        for (id, good) in [("a", true), ("b", false)] {
            let body = format!(r#"{{"id":"{id}"}}"#);
            let sig = if good {
                coproduce::domain::webhook::sign(&key, id, now, body.as_bytes())
            } else {
                "v1,AAAA".to_owned()
            };
            write!(
                conn,
                "POST /hook HTTP/1.1\r\nhost: x\r\nwebhook-id: {id}\r\nwebhook-timestamp: {now}\r\nwebhook-signature: {sig}\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            )
            .unwrap();
            let mut answer = [0u8; OK.len()];
            conn.read_exact(&mut answer).unwrap();
            assert_eq!(&answer[..], OK);
        }
        assert_eq!((rx.received(), rx.distinct()), (2, 2));
        let seen = rx.finish();
        let ids: Vec<&str> = seen.receipts.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids, ["a", "b"]);
        assert_eq!((seen.checked, seen.invalid, seen.connections), (2, 1, 1));
    }
}
