//! Webhooks, as the Standard Webhooks specification has them: an organisation registers
//! endpoints and the event types it wants; each event is posted with `webhook-id`,
//! `webhook-timestamp` and `webhook-signature` (`v1,` + base64 HMAC-SHA256 of
//! `id.timestamp.body` under the endpoint's `whsec_` secret), at least once, retried with
//! growing delays for more than a day, every attempt logged.
//!
//! Targets are http(s) URLs without credentials. Loopback, private, link-local and other
//! internal addresses are refused (unless a setting allows them), when registered and again
//! when each delivery connects, so a name that later resolves inward is caught.

use std::net::IpAddr;
use std::time::Duration;

use async_graphql::SimpleObject;
use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use utoipa::ToSchema;

use super::event::EventType;
use super::id::{EventId, OrganisationId, WebhookAttemptId, WebhookDeliveryId, WebhookEndpointId};
use super::time::Rfc3339;
use super::validation::{FieldError, Problems};
use super::written::WriteFields;
use super::EnumList;

/// The prefix of a signing secret, as the specification writes it.
pub const SECRET_PREFIX: &str = "whsec_";
const SECRET_BYTES: usize = 32;
/// The longest URL accepted.
pub const MAX_URL: usize = 2_000;

/// A receiver of webhooks. The signing secret is never shown again after it is made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, SimpleObject, WriteFields)]
#[graphql(serial)]
pub struct WebhookEndpoint {
    pub id: WebhookEndpointId,
    pub organisation_id: OrganisationId,
    pub url: String,
    /// The event types sent; empty for every type.
    #[graphql(
        skip,
        derived(name = "event_types", into = "EnumList<EventType>", owned)
    )]
    pub event_types: Vec<EventType>,
    pub description: Option<String>,
    /// False once disabled (by hand, or after deliveries kept failing for more than a day).
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    #[serde(serialize_with = "super::time::rfc3339_opt")]
    #[graphql(
        skip,
        derived(
            name = "disabled_at",
            into = "Option<Rfc3339>",
            owned,
            with = "Rfc3339::some"
        )
    )]
    pub disabled_at: Option<DateTime<Utc>>,
    /// Until when the secret replaced at the last rotation still signs, beside the new one.
    #[serde(serialize_with = "super::time::rfc3339_opt")]
    #[graphql(
        skip,
        derived(
            name = "previous_secret_expires_at",
            into = "Option<Rfc3339>",
            owned,
            with = "Rfc3339::some"
        )
    )]
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub created_by: String,
    #[serde(serialize_with = "super::time::rfc3339")]
    #[graphql(skip, derived(name = "created_at", into = "Rfc3339", owned))]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "super::time::rfc3339")]
    #[graphql(skip, derived(name = "updated_at", into = "Rfc3339", owned))]
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

impl WebhookEndpoint {
    pub fn wants(&self, event_type: EventType) -> bool {
        self.enabled && (self.event_types.is_empty() || self.event_types.contains(&event_type))
    }
}

/// An endpoint with its signing secret: shown once, when made or rotated.
#[derive(Debug, Clone, Serialize, ToSchema, async_graphql::SimpleObject)]
pub struct WebhookEndpointWithSecret {
    pub endpoint: WebhookEndpoint,
    /// `whsec_` and the base64 of 32 random bytes. Keep it: it is not shown again (a repeat
    /// of the request with the same `Idempotency-Key` answers without it).
    pub secret: Option<String>,
    /// Set instead of `secret` when the secret is no longer shown.
    pub secret_notice: Option<String>,
}

impl WebhookEndpointWithSecret {
    pub fn new(endpoint: WebhookEndpoint, secret: String) -> Self {
        Self {
            endpoint,
            secret: Some(secret),
            secret_notice: None,
        }
    }

    pub fn without_secret(&self) -> Self {
        Self {
            endpoint: self.endpoint.clone(),
            secret: None,
            secret_notice: Some(
                "the secret was shown once, when it was made; rotate it for a new one".to_owned(),
            ),
        }
    }
}

/// An endpoint as sent.
#[derive(Debug, Clone, Deserialize, ToSchema, async_graphql::InputObject)]
#[serde(deny_unknown_fields)]
pub struct WebhookEndpointInput {
    /// Admins: the organisation the endpoint is for (staff: their own).
    #[serde(default)]
    pub organisation_id: Option<OrganisationId>,
    /// `http://` or `https://`, with no user name or password in it.
    #[schema(
        min_length = 1,
        max_length = 2000,
        pattern = r"^[Hh][Tt][Tt][Pp][Ss]?://[^\x00]*$"
    )]
    pub url: String,
    /// The event types to send; empty or absent for every type.
    #[serde(default)]
    #[graphql(default)]
    #[schema(max_items = 50)]
    pub event_types: Vec<EventType>,
    #[serde(default)]
    #[schema(max_length = 500, pattern = r"^[^\x00]*$")]
    pub description: Option<String>,
}

/// A change to an endpoint; absent fields stay as they are. Enabling it again resets its
/// failures.
#[derive(Debug, Clone, Default, Deserialize, ToSchema, async_graphql::InputObject)]
#[serde(deny_unknown_fields)]
pub struct WebhookEndpointPatch {
    #[schema(
        min_length = 1,
        max_length = 2000,
        pattern = r"^[Hh][Tt][Tt][Pp][Ss]?://[^\x00]*$"
    )]
    pub url: Option<String>,
    #[schema(max_items = 50)]
    pub event_types: Option<Vec<EventType>>,
    #[schema(max_length = 500, pattern = r"^[^\x00]*$")]
    pub description: Option<String>,
    pub enabled: Option<bool>,
}

/// A checked endpoint input.
#[derive(Debug, Clone)]
pub struct NewEndpoint {
    pub url: TargetUrl,
    pub event_types: Vec<EventType>,
    pub description: Option<String>,
}

impl WebhookEndpointInput {
    pub fn parse(&self, allow_internal: bool) -> Result<NewEndpoint, Vec<FieldError>> {
        let mut p = Problems::default();
        let url = match TargetUrl::parse(&self.url, allow_internal) {
            Ok(u) => Some(u),
            Err(message) => {
                p.add("url", message);
                None
            }
        };
        let description = p.optional_text("description", self.description.as_deref(), 500);
        let mut event_types = self.event_types.clone();
        event_types.sort();
        event_types.dedup();
        let url = p.finish_parsed(url)?;
        Ok(NewEndpoint {
            url,
            event_types,
            description,
        })
    }
}

/// A webhook target that passed the checks a URL can be given without connecting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetUrl(url::Url);

impl TargetUrl {
    pub fn parse(text: &str, allow_internal: bool) -> Result<Self, String> {
        if text.chars().count() > MAX_URL {
            return Err(format!("must be at most {MAX_URL} characters"));
        }
        let url = url::Url::parse(text.trim()).map_err(|e| format!("is not a URL: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err("must be an http or https URL".to_owned());
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("must not hold a user name or password".to_owned());
        }
        let host = url.host().ok_or("must name a host")?;
        let literal = match host {
            url::Host::Ipv4(a) => Some(IpAddr::V4(a)),
            url::Host::Ipv6(a) => Some(IpAddr::V6(a)),
            url::Host::Domain(d) => {
                let d = d.trim_end_matches('.').to_ascii_lowercase();
                if !allow_internal && (d == "localhost" || d.ends_with(".localhost")) {
                    return Err("must not point at this machine".to_owned());
                }
                None
            }
        };
        if let Some(ip) = literal {
            if !allow_internal && is_internal(ip) {
                return Err(
                    "must not point at a loopback, private or link-local address".to_owned(),
                );
            }
        }
        Ok(Self(url))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    pub fn url(&self) -> &url::Url {
        &self.0
    }
}

/// Addresses a webhook must not reach: this machine, private and shared networks, link-local
/// (cloud metadata services live there), multicast, broadcast and unspecified.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => {
            let o = a.octets();
            a.is_loopback()
                || a.is_private()
                || a.is_link_local()
                || a.is_unspecified()
                || a.is_broadcast()
                || a.is_multicast()
                || o[0] == 0
                // Carrier-grade NAT (100.64.0.0/10).
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
                // IETF protocol assignments (192.0.0.0/24).
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                // Reserved (240.0.0.0/4).
                || o[0] >= 240
        }
        IpAddr::V6(a) => {
            if let Some(v4) = a.to_ipv4_mapped() {
                return is_internal(IpAddr::V4(v4));
            }
            let s = a.segments();
            a.is_loopback()
                || a.is_unspecified()
                || a.is_multicast()
                // Unique local (fc00::/7) and link-local (fe80::/10).
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
        }
    }
}

/// A new signing secret, as shown to the organisation.
pub fn new_secret() -> String {
    let mut bytes = [0u8; SECRET_BYTES];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!(
        "{SECRET_PREFIX}{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// The key bytes of a `whsec_` secret (the base64 after the prefix).
pub fn secret_key(secret: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix(SECRET_PREFIX)?)
        .ok()
}

/// One signature: `v1,` + base64 of HMAC-SHA256 over `id.timestamp.body`.
pub fn sign(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    // HMAC takes a key of any length, so this cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    )
}

/// The `webhook-signature` header: one signature per secret in force, space-separated (during
/// a rotation's overlap the old and the new secret both sign, so a receiver holding either
/// verifies).
pub fn signature_header(keys: &[Vec<u8>], id: &str, timestamp: i64, body: &[u8]) -> String {
    keys.iter()
        .map(|k| sign(k, id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// How long to wait after each failed attempt before the next; when the list is used up the
/// delivery has failed. The default is the specification's example schedule, which spans
/// more than a day: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (eight attempts over ~27.6 h).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule(pub Vec<Duration>);

impl Default for RetrySchedule {
    fn default() -> Self {
        Self(vec![
            Duration::from_secs(5),
            Duration::from_secs(5 * 60),
            Duration::from_secs(30 * 60),
            Duration::from_secs(2 * 3600),
            Duration::from_secs(5 * 3600),
            Duration::from_secs(10 * 3600),
            Duration::from_secs(10 * 3600),
        ])
    }
}

impl RetrySchedule {
    /// The wait after `attempts` failed attempts, or `None` when no retry is left.
    pub fn after(&self, attempts: i32) -> Option<Duration> {
        usize::try_from(attempts)
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|i| self.0.get(i))
            .copied()
    }

    /// From the settings' form: durations separated by commas (`5s,5m,30m,2h`).
    pub fn parse(text: &str) -> Result<Self, String> {
        text.split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| humantime::parse_duration(t).map_err(|e| format!("`{t}`: {e}")))
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }
}

domain_enum! {
    /// Where one event stands with one endpoint.
    pub enum DeliveryStatus as "delivery status" {
        /// Waiting for its next attempt.
        Pending = "pending",
        /// The receiver acknowledged it (2xx).
        Succeeded = "succeeded",
        /// Every retry failed.
        Failed = "failed",
    }
}

/// One event on its way to one endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, SimpleObject, WriteFields)]
pub struct WebhookDelivery {
    pub id: WebhookDeliveryId,
    pub endpoint_id: WebhookEndpointId,
    pub event_id: EventId,
    pub status: DeliveryStatus,
    pub attempts: i32,
    #[serde(serialize_with = "super::time::rfc3339")]
    #[graphql(skip, derived(name = "next_attempt_at", into = "Rfc3339", owned))]
    pub next_attempt_at: DateTime<Utc>,
    #[serde(serialize_with = "super::time::rfc3339_opt")]
    #[graphql(
        skip,
        derived(
            name = "last_attempt_at",
            into = "Option<Rfc3339>",
            owned,
            with = "Rfc3339::some"
        )
    )]
    pub last_attempt_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "super::time::rfc3339_opt")]
    #[graphql(
        skip,
        derived(
            name = "delivered_at",
            into = "Option<Rfc3339>",
            owned,
            with = "Rfc3339::some"
        )
    )]
    pub delivered_at: Option<DateTime<Utc>>,
}

/// One try at delivering an event, as logged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, SimpleObject, WriteFields)]
pub struct WebhookAttempt {
    pub id: WebhookAttemptId,
    pub delivery_id: WebhookDeliveryId,
    pub endpoint_id: WebhookEndpointId,
    pub event_id: EventId,
    /// 1 for the first try.
    pub attempt: i32,
    #[serde(serialize_with = "super::time::rfc3339")]
    #[graphql(skip, derived(name = "attempted_at", into = "Rfc3339", owned))]
    pub attempted_at: DateTime<Utc>,
    /// The receiver's HTTP status, when it answered.
    pub status_code: Option<i32>,
    /// Why it failed, when it did.
    pub error: Option<String>,
    pub duration_ms: i64,
    pub succeeded: bool,
}

/// A manual replay: the event to send to the endpoint again.
#[derive(Debug, Clone, Deserialize, ToSchema, async_graphql::InputObject)]
#[serde(deny_unknown_fields)]
pub struct ReplayInput {
    pub event_id: EventId,
}

/// A secret rotation: how long the old secret keeps signing beside the new one.
#[derive(Debug, Clone, Default, Deserialize, ToSchema, async_graphql::InputObject)]
#[serde(deny_unknown_fields)]
pub struct RotateSecretInput {
    /// Hours of overlap, 0 to 168; 24 when absent.
    #[schema(minimum = 0, maximum = 168)]
    #[serde(default, deserialize_with = "super::validation::whole::option_i32")]
    pub overlap_hours: Option<i32>,
}

impl RotateSecretInput {
    pub fn overlap(&self) -> Result<chrono::Duration, Vec<FieldError>> {
        match self.overlap_hours {
            None => Ok(chrono::Duration::hours(24)),
            Some(h) if (0..=168).contains(&h) => Ok(chrono::Duration::hours(i64::from(h))),
            Some(_) => Err(vec![FieldError::new(
                "overlap_hours",
                "must be from 0 to 168",
            )]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_specifications() {
        // The example from the Standard Webhooks specification's reference libraries.
        let key = secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("secret");
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            sign(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn a_secret_is_whsec_and_32_bytes_of_base64() {
        let s = new_secret();
        assert!(s.starts_with(SECRET_PREFIX));
        assert_eq!(secret_key(&s).map(|k| k.len()), Some(32));
        assert_ne!(s, new_secret());
    }

    #[test]
    fn targets_are_http_or_https_without_credentials_or_inward_addresses() {
        for bad in [
            "ftp://example.org/hook",
            "https://user:pw@example.org/hook",
            "http://127.0.0.1:9000/hook",
            "http://10.1.2.3/hook",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]/hook",
            "http://[::ffff:192.168.0.1]/hook",
            "http://localhost:8080/hook",
            "http://0.0.0.0/",
            "not a url",
        ] {
            assert!(TargetUrl::parse(bad, false).is_err(), "{bad}");
        }
        for good in ["https://example.org/hook?x=1", "http://93.184.216.34:8080/"] {
            assert!(TargetUrl::parse(good, false).is_ok(), "{good}");
        }
        assert!(TargetUrl::parse("http://127.0.0.1:9000/hook", true).is_ok());
        assert!(TargetUrl::parse("https://u@example.org/", true).is_err());
    }

    #[test]
    fn the_default_schedule_retries_for_more_than_a_day() {
        let s = RetrySchedule::default();
        let total: Duration = s.0.iter().sum();
        assert!(total > Duration::from_secs(24 * 3600));
        assert_eq!(s.after(1), Some(Duration::from_secs(5)));
        assert_eq!(s.after(8), None);
        assert_eq!(s.after(0), None);
        assert_eq!(
            RetrySchedule::parse("100ms, 2s").map(|s| s.0),
            Ok(vec![Duration::from_millis(100), Duration::from_secs(2)])
        );
    }
}
