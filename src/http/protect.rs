//! Protections every request passes before it reaches a door: limits on the request's headers,
//! rate limits per caller and per address (token buckets), a time limit on the whole request,
//! and security headers on every HTML page.
//!
//! The buckets live in this instance's memory, each map bounded in size. Behind a load balancer
//! each instance keeps its own, so the limit a caller meets is the configured one times the
//! number of instances (deploy/README.md says so); nothing here waits on the database, so a
//! flood is turned away without touching it.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage, ResponseError};

use crate::config::{Cidr, LimitSettings, RateSettings};
use crate::error::AppError;
use crate::service::Services;

/// Most keys one limiter holds. Past it, buckets that have refilled (and so say nothing a fresh
/// bucket would not) are dropped first, then everything: memory stays bounded whatever the flood.
const MAX_BUCKETS: usize = 100_000;

/// Paths that are never rate limited: probes and the scrape must keep working under a flood.
const UNLIMITED: &[&str] = &["/healthz", "/readyz", "/metrics"];

const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");
const RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");

/// The security headers of every HTML page. A page that sets its own policy (the printable
/// report allows no script at all) keeps it.
const PAGE_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// What one limiter says about one request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Verdict {
    /// Let through; `remaining` whole requests are left now, and the bucket is full again in
    /// `full_in_secs`.
    Allowed { remaining: u64, full_in_secs: u64 },
    /// Refused; one request may go in `retry_after_secs`.
    Limited { retry_after_secs: u64 },
}

/// Token buckets, one per key: each holds up to `burst` requests and refills at `per_second`.
#[derive(Debug)]
pub struct RateLimiter<K> {
    name: &'static str,
    rate: RateSettings,
    buckets: Mutex<HashMap<K, Bucket>>,
}

impl<K: Hash + Eq + Copy> RateLimiter<K> {
    pub fn new(name: &'static str, rate: RateSettings) -> Self {
        Self {
            name,
            rate,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn burst(&self) -> f64 {
        f64::from(self.rate.burst.max(1))
    }

    /// Takes one request from `key`'s bucket, if it holds one.
    pub fn take(&self, key: K, now: Instant) -> Verdict {
        let (rate, burst) = (self.rate.per_second, self.burst());
        let mut buckets = match self.buckets.lock() {
            Ok(b) => b,
            Err(poisoned) => poisoned.into_inner(),
        };
        if buckets.len() >= MAX_BUCKETS && !buckets.contains_key(&key) {
            buckets.retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * rate < burst);
            if buckets.len() >= MAX_BUCKETS {
                tracing::warn!(
                    limiter = self.name,
                    buckets = MAX_BUCKETS,
                    "rate limit buckets full; starting afresh"
                );
                buckets.clear();
            }
        }
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Verdict::Allowed {
                remaining: bucket.tokens.floor() as u64,
                full_in_secs: ((burst - bucket.tokens) / rate).ceil() as u64,
            }
        } else {
            Verdict::Limited {
                retry_after_secs: (((1.0 - bucket.tokens) / rate).ceil() as u64).max(1),
            }
        }
    }

    /// `"name";q=burst;w=seconds to refill it`: the policy as the RateLimit header fields
    /// draft writes it.
    fn policy(&self) -> String {
        let window = (self.burst() / self.rate.per_second).ceil().max(1.0) as u64;
        format!("\"{}\";q={};w={window}", self.name, self.rate.burst.max(1))
    }
}

/// The protections' settings and state, shared by every worker.
pub struct Protections {
    client: Option<RateLimiter<u64>>,
    address: Option<RateLimiter<IpAddr>>,
    trusted_proxies: Vec<Cidr>,
    max_headers: usize,
    max_header_bytes: usize,
    request_timeout: Duration,
    hasher: std::collections::hash_map::RandomState,
    policy: Option<HeaderValue>,
}

impl Protections {
    pub fn new(settings: &LimitSettings) -> Self {
        let client = settings
            .client_rate
            .map(|rate| RateLimiter::new("client", rate));
        let address = settings
            .address_rate
            .map(|rate| RateLimiter::new("address", rate));
        let policies: Vec<String> = client
            .iter()
            .map(RateLimiter::policy)
            .chain(address.iter().map(RateLimiter::policy))
            .collect();
        Self {
            client,
            address,
            trusted_proxies: settings.trusted_proxies.clone(),
            max_headers: settings.max_headers,
            max_header_bytes: settings.max_header_bytes,
            request_timeout: settings.request_timeout,
            hasher: std::collections::hash_map::RandomState::new(),
            policy: (!policies.is_empty())
                .then(|| HeaderValue::from_str(&policies.join(", ")).ok())
                .flatten(),
        }
    }

    /// The address a request comes from: the peer, or, when the peer is a trusted proxy, the
    /// nearest address in `X-Forwarded-For` that is not one (a client cannot forge its way past
    /// the proxy, which appends what it saw).
    pub fn client_address(
        &self,
        peer: Option<IpAddr>,
        forwarded_for: Option<&str>,
    ) -> Option<IpAddr> {
        let peer = peer?;
        if !self.is_trusted(peer) {
            return Some(peer);
        }
        let Some(chain) = forwarded_for else {
            return Some(peer);
        };
        let mut nearest = peer;
        for hop in chain.rsplit(',') {
            match hop.trim().parse::<IpAddr>() {
                Ok(ip) if self.is_trusted(ip) => nearest = ip,
                Ok(ip) => return Some(ip),
                Err(_) => return Some(nearest),
            }
        }
        Some(nearest)
    }

    fn is_trusted(&self, ip: IpAddr) -> bool {
        self.trusted_proxies.iter().any(|c| c.contains(ip))
    }

    /// The header limits: too many fields or too many bytes in them is refused with 431.
    fn check_headers(&self, req: &ServiceRequest) -> Result<(), AppError> {
        let headers = req.headers();
        if headers.len() > self.max_headers {
            return Err(AppError::HeadersTooLarge(format!(
                "the request carries {} header fields; at most {} are accepted",
                headers.len(),
                self.max_headers
            )));
        }
        let bytes: usize = headers
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len() + 4)
            .sum();
        if bytes > self.max_header_bytes {
            return Err(AppError::HeadersTooLarge(format!(
                "the request's header fields take {bytes} bytes; at most {} are accepted",
                self.max_header_bytes
            )));
        }
        Ok(())
    }

    /// Takes a request from the caller's bucket and its address's. The caller is known by its
    /// verified token (organisation and subject, as idempotency keys are scoped); a request with
    /// no valid token counts against its address only.
    fn take(&self, req: &ServiceRequest, now: Instant) -> Vec<(&'static str, Verdict)> {
        let mut verdicts = Vec::with_capacity(2);
        if let Some(limiter) = &self.client {
            let verified = req.app_data::<web::Data<Services>>().and_then(|services| {
                let token = crate::http::extract::bearer_token(req.request()).ok()?;
                services.tokens().verify_with_expiry(token).ok()
            });
            if let Some((principal, exp)) = verified {
                let key = self
                    .hasher
                    .hash_one((principal.organisation_id, principal.subject.as_str()));
                verdicts.push((limiter.name, limiter.take(key, now)));
                req.extensions_mut()
                    .insert(crate::http::extract::VerifiedToken { principal, exp });
            }
        }
        if let Some(limiter) = &self.address {
            let forwarded = req
                .headers()
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok());
            let peer = req.peer_addr().map(|a| a.ip());
            if let Some(ip) = self.client_address(peer, forwarded) {
                verdicts.push((limiter.name, limiter.take(ip, now)));
            }
        }
        verdicts
    }
}

/// Header limits, then rate limits, then the request under its time limit; security headers on
/// HTML answers.
pub async fn protect(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let Some(protections) = req.app_data::<web::Data<Protections>>().cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    if let Err(e) = protections.check_headers(&req) {
        return Ok(req.into_response(e.error_response()));
    }
    let limited = !UNLIMITED.contains(&req.path());
    let verdicts = if limited {
        protections.take(&req, Instant::now())
    } else {
        Vec::new()
    };
    let refused = verdicts.iter().filter_map(|(name, v)| match v {
        Verdict::Limited { retry_after_secs } => Some((*name, *retry_after_secs)),
        Verdict::Allowed { .. } => None,
    });
    if let Some((name, retry_after_secs)) = refused.max_by_key(|(_, secs)| *secs) {
        let error = AppError::TooManyRequests {
            detail: format!(
                "too many requests from this {}; retry in {retry_after_secs} s",
                if name == "client" {
                    "client"
                } else {
                    "address"
                }
            ),
            retry_after_secs,
        };
        let mut res = req.into_response(error.error_response());
        rate_headers(&protections, res.headers_mut(), name, 0, retry_after_secs);
        return Ok(res);
    }
    let is_upgrade = req.headers().contains_key(header::UPGRADE);
    let call = next.call(req);
    let res = if is_upgrade {
        // A WebSocket's handshake answers at once and the socket lives on beyond it.
        call.await?.map_into_boxed_body()
    } else {
        match tokio::time::timeout(protections.request_timeout, call).await {
            Ok(res) => res?.map_into_boxed_body(),
            // The request is routed by now and cannot be answered as a `ServiceResponse`; as
            // an error, actix answers it with the problem document all the same.
            Err(_) => {
                return Err(AppError::Timeout(format!(
                    "the request took longer than the limit of {} s and was stopped; a change it was making may have been stored, so read before you retry",
                    protections.request_timeout.as_secs_f64()
                ))
                .into())
            }
        }
    };
    let mut res = res;
    if let Some((
        name,
        Verdict::Allowed {
            remaining,
            full_in_secs,
        },
    )) = verdicts
        .iter()
        .min_by_key(|(_, v)| match v {
            Verdict::Allowed { remaining, .. } => *remaining,
            Verdict::Limited { .. } => 0,
        })
        .copied()
    {
        rate_headers(
            &protections,
            res.headers_mut(),
            name,
            remaining,
            full_in_secs,
        );
    }
    secure_html(res.headers_mut());
    Ok(res)
}

/// `RateLimit-Policy` (every limit that applies) and `RateLimit` (the nearest to running out),
/// as draft-ietf-httpapi-ratelimit-headers writes them.
fn rate_headers(
    protections: &Protections,
    headers: &mut actix_web::http::header::HeaderMap,
    name: &str,
    remaining: u64,
    reset_secs: u64,
) {
    if let Some(policy) = &protections.policy {
        headers.insert(RATELIMIT_POLICY, policy.clone());
    }
    if let Ok(value) = HeaderValue::from_str(&format!("\"{name}\";r={remaining};t={reset_secs}")) {
        headers.insert(RATELIMIT, value);
    }
}

/// Security headers for an HTML answer; a page's own policy stays.
fn secure_html(headers: &mut actix_web::http::header::HeaderMap) {
    let html = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if !html {
        return;
    }
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(PAGE_POLICY),
        );
    }
    for (name, value) in [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
        (
            HeaderName::from_static("permissions-policy"),
            "camera=(), microphone=(), geolocation=(), payment=()",
        ),
    ] {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(per_second: f64, burst: u32) -> RateLimiter<u8> {
        RateLimiter::new("client", RateSettings { per_second, burst })
    }

    #[test]
    fn a_bucket_lets_its_burst_through_then_refuses_until_it_refills() {
        let l = limiter(2.0, 3);
        let t0 = Instant::now();
        for left in [2, 1, 0] {
            assert_eq!(
                l.take(1, t0),
                Verdict::Allowed {
                    remaining: left,
                    full_in_secs: ((3.0 - left as f64) / 2.0_f64).ceil() as u64
                }
            );
        }
        assert_eq!(
            l.take(1, t0),
            Verdict::Limited {
                retry_after_secs: 1
            }
        );
        // Another key has its own bucket.
        assert!(matches!(
            l.take(2, t0),
            Verdict::Allowed { remaining: 2, .. }
        ));
        // Half a second refills one request at 2 a second, and no more than one.
        let later = t0 + Duration::from_millis(500);
        assert!(matches!(
            l.take(1, later),
            Verdict::Allowed { remaining: 0, .. }
        ));
        assert!(matches!(l.take(1, later), Verdict::Limited { .. }));
        // A long rest refills only up to the burst.
        let much_later = t0 + Duration::from_secs(60);
        assert!(matches!(
            l.take(1, much_later),
            Verdict::Allowed { remaining: 2, .. }
        ));
    }

    #[test]
    fn a_slow_rate_asks_for_a_longer_wait() {
        let l = limiter(0.1, 1);
        let t0 = Instant::now();
        assert!(matches!(l.take(7, t0), Verdict::Allowed { .. }));
        assert_eq!(
            l.take(7, t0),
            Verdict::Limited {
                retry_after_secs: 10
            }
        );
    }

    #[test]
    fn the_buckets_stay_bounded_under_a_flood_of_new_keys() {
        let l: RateLimiter<u32> = RateLimiter::new(
            "address",
            RateSettings {
                per_second: 1.0,
                burst: 5,
            },
        );
        let t0 = Instant::now();
        for key in 0..(MAX_BUCKETS as u32 + 10) {
            l.take(key, t0);
        }
        let held = l.buckets.lock().map(|b| b.len()).unwrap_or(usize::MAX);
        assert!(held <= MAX_BUCKETS, "{held} buckets held");
    }

    fn protections(trusted: &[&str]) -> Protections {
        Protections::new(&LimitSettings {
            trusted_proxies: trusted
                .iter()
                .map(|c| Cidr::parse(c).expect("a CIDR"))
                .collect(),
            ..LimitSettings::default()
        })
    }

    #[test]
    fn forwarded_for_counts_only_behind_a_trusted_proxy() {
        let ip = |s: &str| s.parse::<IpAddr>().ok();
        let direct = protections(&[]);
        // Not behind a trusted proxy: the header is the caller's to forge, so it is ignored.
        assert_eq!(
            direct.client_address(ip("203.0.113.9"), Some("198.51.100.1")),
            ip("203.0.113.9")
        );
        let proxied = protections(&["10.0.0.0/8", "127.0.0.1"]);
        // The proxy appends the address it saw; anything further left the client could forge.
        assert_eq!(
            proxied.client_address(ip("10.1.2.3"), Some("6.6.6.6, 198.51.100.7")),
            ip("198.51.100.7")
        );
        // Two trusted hops: the first untrusted address from the right.
        assert_eq!(
            proxied.client_address(ip("127.0.0.1"), Some("198.51.100.7, 10.0.0.5")),
            ip("198.51.100.7")
        );
        // A proxy with no header, or a mangled one: the nearest address known.
        assert_eq!(proxied.client_address(ip("10.1.2.3"), None), ip("10.1.2.3"));
        assert_eq!(
            proxied.client_address(ip("10.1.2.3"), Some("not an address")),
            ip("10.1.2.3")
        );
    }
}
