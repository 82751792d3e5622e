//! A minimal HTTP/1.1 client for the few set-up and check requests (the load itself is wrk's).
//! Only 127.0.0.1 is ever contacted.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use anyhow::{bail, Context, Result};

pub struct Response {
    pub status: u16,
    pub body: String,
}

impl Response {
    pub fn json(&self) -> Result<serde_json::Value> {
        serde_json::from_str(&self.body).with_context(|| {
            format!(
                "not JSON ({}): {}",
                self.status,
                &self.body[..self.body.len().min(300)]
            )
        })
    }
}

pub fn request(
    method: &str,
    port: u16,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Result<Response> {
    request_with_headers(method, port, path, headers, body)
        .map(|(status, _, body)| Response { status, body })
}

/// As [`request`], with the answer's head (status line and header fields) as well:
/// (status, head, body).
pub fn request_with_headers(
    method: &str,
    port: u16,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Result<(u16, String, String)> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    stream.set_write_timeout(Some(Duration::from_secs(30)))?;
    let body = body.unwrap_or("");
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body.as_bytes())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let Some((head, rest)) = text.split_once("\r\n\r\n") else {
        bail!("no HTTP answer from 127.0.0.1:{port}{path}");
    };
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .context("no HTTP status")?;
    let chunked = head.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    let body = if chunked {
        dechunk(rest)?
    } else {
        rest.to_owned()
    };
    Ok((status, head.to_owned(), body))
}

fn dechunk(mut rest: &str) -> Result<String> {
    let mut out = String::new();
    loop {
        let (size, after) = rest.split_once("\r\n").context("bad chunk")?;
        let size = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16)?;
        if size == 0 {
            return Ok(out);
        }
        out.push_str(after.get(..size).context("short chunk")?);
        rest = after.get(size + 2..).context("short chunk")?;
    }
}

/// A JSON POST with a bearer token; fails unless the answer has the `expected` status, and
/// returns the answer's JSON.
pub fn post_json(
    port: u16,
    token: &str,
    path: &str,
    body: &serde_json::Value,
    expected: u16,
) -> Result<serde_json::Value> {
    let auth = format!("Bearer {token}");
    let resp = request(
        "POST",
        port,
        path,
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        Some(&body.to_string()),
    )?;
    if resp.status != expected {
        bail!(
            "POST {path} answered {} (expected {expected}): {}",
            resp.status,
            &resp.body[..resp.body.len().min(500)]
        );
    }
    resp.json()
}

/// A GraphQL POST; fails unless the answer is 200 without errors.
pub fn graphql(port: u16, token: Option<&str>, query: &str) -> Result<serde_json::Value> {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(a) = &auth {
        headers.push(("Authorization", a));
    }
    let body = serde_json::json!({ "query": query }).to_string();
    let resp = request("POST", port, "/graphql", &headers, Some(&body))?;
    let json = resp.json()?;
    if resp.status != 200 || json.get("errors").is_some() {
        bail!("GraphQL answered {}: {}", resp.status, resp.body);
    }
    Ok(json)
}

#[cfg(test)]
mod tests {
    #[test]
    fn chunked_bodies_are_joined() {
        assert_eq!(
            super::dechunk("5\r\nhello\r\n6;x=y\r\n world\r\n0\r\n\r\n").unwrap(),
            "hello world"
        );
        assert!(super::dechunk("5\r\nhel").is_err());
    }
}
