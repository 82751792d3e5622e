//! Settings: environment variables, an optional TOML file named by `COPRODUCE_CONFIG`, and
//! defaults that run on a laptop. Nothing here is global: the settings are built once and passed on.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use serde::Deserialize;

/// A setting that must never be printed: its `Debug` says only that it is there, so no log line,
/// panic message or debug print of the settings shows it. Read it with [`Secret::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself, for the one place that needs it (a connection, a signing key).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(\"[redacted]\")")
    }
}

/// Every setting the service reads. Environment variables win over the file, the file over defaults.
#[derive(Debug, Clone)]
pub struct Settings {
    pub bind: String,
    /// May hold a password (`postgres://user:password@host/db`).
    pub database_url: Secret,
    pub data_dir: PathBuf,
    pub pool_size: u32,
    pub pool_timeout: Duration,
    pub body_limit: usize,
    /// HTTP worker threads; `None` means four per CPU core (short database calls run on them).
    pub workers: Option<usize>,
    /// How long an SQLite write waits for another writer before giving up (503).
    pub sqlite_busy_timeout: Duration,
    pub log_format: LogFormat,
    pub jwt: JwtSettings,
    /// Failed client-credential exchanges allowed per client id and per source address in
    /// each window before `POST /api/v1/token` answers 429.
    pub token_failure_limit: u32,
    pub token_failure_window: Duration,
    /// The data key that encrypts personal data at rest (base64 of 32 bytes); `None` means
    /// "generate one in the data folder" (embedded mode only).
    pub data_key: Option<Secret>,
    /// Keys used before the current one, still read while `coproduce rotate-data-key`
    /// re-encrypts what they sealed (comma-separated in the variable).
    pub previous_data_keys: Vec<Secret>,
    /// Webhook delivery: internal targets allowed, the retry schedule, how often to look for
    /// due deliveries and how long one attempt may take.
    pub webhook_allow_internal: bool,
    pub webhook_retry_schedule: Option<String>,
    pub webhook_poll: Duration,
    pub webhook_timeout: Duration,
    pub limits: LimitSettings,
}

/// A token bucket: `burst` requests at once, refilled at `per_second`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateSettings {
    pub per_second: f64,
    pub burst: u32,
}

/// Protections against too much of anything (see `http::protect`).
#[derive(Debug, Clone, PartialEq)]
pub struct LimitSettings {
    /// Per caller (organisation and subject of a verified token); `None` is off.
    pub client_rate: Option<RateSettings>,
    /// Per source address; `None` is off.
    pub address_rate: Option<RateSettings>,
    /// Proxies whose `X-Forwarded-For` names the real source address.
    pub trusted_proxies: Vec<Cidr>,
    pub max_headers: usize,
    pub max_header_bytes: usize,
    /// The longest a request may take, from its head read to its answer.
    pub request_timeout: Duration,
    /// The longest one PostgreSQL statement may run (`statement_timeout`); zero is off.
    pub statement_timeout: Duration,
    /// Origins whose browser pages may call the API (CORS); none by default.
    pub cors_origins: Vec<String>,
}

impl Default for LimitSettings {
    fn default() -> Self {
        Self {
            client_rate: Some(RateSettings {
                per_second: 100.0,
                burst: 200,
            }),
            address_rate: Some(RateSettings {
                per_second: 200.0,
                burst: 400,
            }),
            trusted_proxies: Vec::new(),
            max_headers: 64,
            max_header_bytes: 16 * 1024,
            request_timeout: Duration::from_secs(30),
            statement_timeout: Duration::from_secs(20),
            cors_origins: Vec::new(),
        }
    }
}

/// An address block, `10.0.0.0/8` or `fd00::/8`; a bare address is a block of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: std::net::IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let network: std::net::IpAddr = addr
            .parse()
            .map_err(|_| format!("`{text}` is not an address or address block"))?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix =
            match prefix {
                None => max,
                Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(|| {
                    format!("`{text}` has a prefix length that is not 0 to {max}")
                })?,
            };
        Ok(Self { network, prefix })
    }

    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        use std::net::IpAddr;
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.network, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

#[derive(Debug, Clone)]
pub struct JwtSettings {
    /// HS256 secret; `None` means "generate one in the data folder" (embedded mode only).
    pub secret: Option<Secret>,
    /// A PEM public key or a JWKS file, for tokens from an external identity provider.
    pub public_keys: Option<PathBuf>,
    pub issuer: String,
    pub audience: String,
    /// Lifetime of tokens minted for machine clients at `POST /api/v1/token`.
    pub client_token_ttl: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// The optional settings file; every field is optional and named like its variable.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    bind: Option<String>,
    database_url: Option<String>,
    data_dir: Option<PathBuf>,
    pool_size: Option<u32>,
    pool_timeout_secs: Option<u64>,
    body_limit: Option<usize>,
    workers: Option<usize>,
    sqlite_busy_timeout_ms: Option<u64>,
    log_format: Option<String>,
    jwt_secret: Option<String>,
    jwt_public_keys: Option<PathBuf>,
    jwt_issuer: Option<String>,
    jwt_audience: Option<String>,
    client_token_ttl_secs: Option<u64>,
    token_failure_limit: Option<u32>,
    token_failure_window_secs: Option<u64>,
    data_key: Option<String>,
    previous_data_keys: Option<String>,
    webhook_allow_internal: Option<bool>,
    webhook_retry_schedule: Option<String>,
    webhook_poll_ms: Option<u64>,
    webhook_timeout_secs: Option<u64>,
    client_rate: Option<f64>,
    client_burst: Option<u32>,
    address_rate: Option<f64>,
    address_burst: Option<u32>,
    trusted_proxies: Option<String>,
    max_headers: Option<usize>,
    max_header_bytes: Option<usize>,
    request_timeout_secs: Option<u64>,
    statement_timeout_secs: Option<u64>,
    cors_origins: Option<String>,
}

pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/coproduce.db";
pub const DEFAULT_ISSUER: &str = "coproduce";
pub const DEFAULT_AUDIENCE: &str = "coproduce";

impl Settings {
    /// Reads the process environment (and the file it names).
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Builds settings from any variable lookup, so tests can pass their own.
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let file = match var("COPRODUCE_CONFIG") {
            Some(path) => read_file(Path::new(&path))?,
            None => FileSettings::default(),
        };
        let limits = limits(&var, &file)?;
        let pool_size = match var("COPRODUCE_POOL_SIZE") {
            Some(v) => v
                .parse()
                .context("COPRODUCE_POOL_SIZE must be a whole number")?,
            None => file.pool_size.unwrap_or(16),
        };
        if pool_size == 0 {
            bail!("COPRODUCE_POOL_SIZE must be at least 1");
        }
        let body_limit = match var("COPRODUCE_BODY_LIMIT") {
            Some(v) => v
                .parse()
                .context("COPRODUCE_BODY_LIMIT must be a number of bytes")?,
            None => file.body_limit.unwrap_or(1024 * 1024),
        };
        let workers = match var("COPRODUCE_WORKERS") {
            Some(v) => Some(
                v.parse()
                    .context("COPRODUCE_WORKERS must be a whole number")?,
            ),
            None => file.workers,
        }
        .filter(|n: &usize| *n > 0);
        let log_format = match var("COPRODUCE_LOG_FORMAT").or(file.log_format) {
            None => LogFormat::Pretty,
            Some(v) => match v.as_str() {
                "pretty" => LogFormat::Pretty,
                "json" => LogFormat::Json,
                other => bail!("COPRODUCE_LOG_FORMAT must be `pretty` or `json`, not `{other}`"),
            },
        };
        let secs = |name: &str, file_value: Option<u64>, default: u64| -> anyhow::Result<u64> {
            match var(name) {
                Some(v) => v
                    .parse()
                    .with_context(|| format!("{name} must be whole seconds")),
                None => Ok(file_value.unwrap_or(default)),
            }
        };
        Ok(Settings {
            limits,
            bind: var("COPRODUCE_BIND")
                .or(file.bind)
                .unwrap_or_else(|| DEFAULT_BIND.to_owned()),
            database_url: Secret::new(
                var("DATABASE_URL")
                    .or(file.database_url)
                    .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned()),
            ),
            data_dir: var("COPRODUCE_DATA_DIR")
                .map(PathBuf::from)
                .or(file.data_dir)
                .unwrap_or_else(|| PathBuf::from("data")),
            pool_size,
            pool_timeout: Duration::from_secs(secs(
                "COPRODUCE_POOL_TIMEOUT_SECS",
                file.pool_timeout_secs,
                5,
            )?),
            body_limit,
            workers,
            sqlite_busy_timeout: Duration::from_millis(
                match var("COPRODUCE_SQLITE_BUSY_TIMEOUT_MS") {
                    Some(v) => v
                        .parse()
                        .context("COPRODUCE_SQLITE_BUSY_TIMEOUT_MS must be whole milliseconds")?,
                    None => file.sqlite_busy_timeout_ms.unwrap_or(5000),
                },
            ),
            log_format,
            jwt: JwtSettings {
                secret: var("COPRODUCE_JWT_SECRET")
                    .or(file.jwt_secret)
                    .filter(|s| !s.is_empty())
                    .map(Secret::new),
                public_keys: var("COPRODUCE_JWT_PUBLIC_KEYS")
                    .map(PathBuf::from)
                    .or(file.jwt_public_keys),
                issuer: var("COPRODUCE_JWT_ISSUER")
                    .or(file.jwt_issuer)
                    .unwrap_or_else(|| DEFAULT_ISSUER.to_owned()),
                audience: var("COPRODUCE_JWT_AUDIENCE")
                    .or(file.jwt_audience)
                    .unwrap_or_else(|| DEFAULT_AUDIENCE.to_owned()),
                client_token_ttl: Duration::from_secs(secs(
                    "COPRODUCE_CLIENT_TOKEN_TTL_SECS",
                    file.client_token_ttl_secs,
                    900,
                )?),
            },
            token_failure_limit: match var("COPRODUCE_TOKEN_FAILURE_LIMIT") {
                Some(v) => v
                    .parse()
                    .context("COPRODUCE_TOKEN_FAILURE_LIMIT must be a whole number")?,
                None => file.token_failure_limit.unwrap_or(20),
            },
            token_failure_window: Duration::from_secs(
                secs(
                    "COPRODUCE_TOKEN_FAILURE_WINDOW_SECS",
                    file.token_failure_window_secs,
                    60,
                )?
                .max(1),
            ),
            data_key: var("COPRODUCE_DATA_KEY")
                .or(file.data_key)
                .filter(|s| !s.trim().is_empty())
                .map(Secret::new),
            previous_data_keys: var("COPRODUCE_DATA_KEY_PREVIOUS")
                .or(file.previous_data_keys)
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(|k| Secret::new(k.to_owned()))
                .collect(),
            webhook_allow_internal: match var("COPRODUCE_WEBHOOK_ALLOW_INTERNAL") {
                Some(v) => match v.as_str() {
                    "true" | "1" => true,
                    "false" | "0" => false,
                    other => bail!(
                        "COPRODUCE_WEBHOOK_ALLOW_INTERNAL must be `true` or `false`, not `{other}`"
                    ),
                },
                None => file.webhook_allow_internal.unwrap_or(false),
            },
            webhook_retry_schedule: var("COPRODUCE_WEBHOOK_RETRY_SCHEDULE")
                .or(file.webhook_retry_schedule)
                .filter(|s| !s.trim().is_empty()),
            webhook_poll: Duration::from_millis(match var("COPRODUCE_WEBHOOK_POLL_MS") {
                Some(v) => v
                    .parse()
                    .context("COPRODUCE_WEBHOOK_POLL_MS must be whole milliseconds")?,
                None => file.webhook_poll_ms.unwrap_or(500),
            })
            .max(Duration::from_millis(10)),
            webhook_timeout: Duration::from_secs(
                secs(
                    "COPRODUCE_WEBHOOK_TIMEOUT_SECS",
                    file.webhook_timeout_secs,
                    10,
                )?
                .clamp(1, 60),
            ),
        })
    }
}

/// The protections' settings (see [`LimitSettings`] for what each is).
fn limits(
    var: &impl Fn(&str) -> Option<String>,
    file: &FileSettings,
) -> anyhow::Result<LimitSettings> {
    fn number<T: std::str::FromStr>(
        var: &impl Fn(&str) -> Option<String>,
        name: &str,
        file_value: Option<T>,
        default: T,
        what: &str,
    ) -> anyhow::Result<T> {
        match var(name) {
            Some(v) => v
                .trim()
                .parse()
                .map_err(|_| anyhow::anyhow!("{name} must be {what}")),
            None => Ok(file_value.unwrap_or(default)),
        }
    }
    let defaults = LimitSettings::default();
    let rate = |who: &str,
                rate_file: Option<f64>,
                burst_file: Option<u32>,
                default: Option<RateSettings>|
     -> anyhow::Result<Option<RateSettings>> {
        let default = default.unwrap_or(RateSettings {
            per_second: 0.0,
            burst: 0,
        });
        let rate_name = format!("COPRODUCE_{who}_RATE");
        let per_second: f64 = number(
            var,
            &rate_name,
            rate_file,
            default.per_second,
            "requests per second (0 turns the limit off)",
        )?;
        if !per_second.is_finite() || per_second < 0.0 {
            bail!("{rate_name} must be requests per second (0 turns the limit off)");
        }
        let burst_name = format!("COPRODUCE_{who}_BURST");
        let burst: u32 = number(
            var,
            &burst_name,
            burst_file,
            default.burst.max(1),
            "a whole number of requests",
        )?;
        if per_second == 0.0 {
            return Ok(None);
        }
        if burst == 0 {
            bail!("{burst_name} must be at least 1");
        }
        Ok(Some(RateSettings { per_second, burst }))
    };
    let list = |name: &str, file_value: &Option<String>| -> Vec<String> {
        var(name)
            .or_else(|| file_value.clone())
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let trusted_proxies = list("COPRODUCE_TRUSTED_PROXIES", &file.trusted_proxies)
        .iter()
        .map(|c| Cidr::parse(c).map_err(|e| anyhow::anyhow!("COPRODUCE_TRUSTED_PROXIES: {e}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let cors_origins = list("COPRODUCE_CORS_ORIGINS", &file.cors_origins);
    for origin in &cors_origins {
        let parsed = url::Url::parse(origin).ok().filter(|u| {
            matches!(u.scheme(), "http" | "https")
                && u.host_str().is_some()
                && u.path() == "/"
                && !origin.ends_with('/')
                && u.query().is_none()
        });
        if parsed.is_none() {
            bail!("COPRODUCE_CORS_ORIGINS: `{origin}` is not an origin (scheme, host and port only, as https://app.example.org)");
        }
    }
    let max_headers = number(
        var,
        "COPRODUCE_MAX_HEADERS",
        file.max_headers,
        defaults.max_headers,
        "a whole number",
    )?;
    let max_header_bytes = number(
        var,
        "COPRODUCE_MAX_HEADER_BYTES",
        file.max_header_bytes,
        defaults.max_header_bytes,
        "a number of bytes",
    )?;
    if max_headers == 0 || max_header_bytes == 0 {
        bail!("COPRODUCE_MAX_HEADERS and COPRODUCE_MAX_HEADER_BYTES must be at least 1");
    }
    let request_timeout = number(
        var,
        "COPRODUCE_REQUEST_TIMEOUT_SECS",
        file.request_timeout_secs,
        defaults.request_timeout.as_secs(),
        "whole seconds",
    )?;
    if request_timeout == 0 {
        bail!("COPRODUCE_REQUEST_TIMEOUT_SECS must be at least 1");
    }
    let statement_timeout = number(
        var,
        "COPRODUCE_STATEMENT_TIMEOUT_SECS",
        file.statement_timeout_secs,
        defaults.statement_timeout.as_secs(),
        "whole seconds (0 turns it off)",
    )?;
    Ok(LimitSettings {
        client_rate: rate(
            "CLIENT",
            file.client_rate,
            file.client_burst,
            defaults.client_rate,
        )?,
        address_rate: rate(
            "ADDRESS",
            file.address_rate,
            file.address_burst,
            defaults.address_rate,
        )?,
        trusted_proxies,
        max_headers,
        max_header_bytes,
        request_timeout: Duration::from_secs(request_timeout),
        statement_timeout: Duration::from_secs(statement_timeout),
        cors_origins,
    })
}

fn read_file(path: &Path) -> anyhow::Result<FileSettings> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read settings file {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("settings file {} is not valid", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn defaults_run_on_a_laptop() {
        let s = Settings::from_lookup(lookup(&[])).expect("defaults");
        assert_eq!(s.bind, "127.0.0.1:8080");
        assert_eq!(s.database_url.expose(), "sqlite://data/coproduce.db");
        assert_eq!(s.data_dir, PathBuf::from("data"));
        assert_eq!(s.body_limit, 1024 * 1024);
        assert!(s.jwt.secret.is_none());
    }

    #[test]
    fn environment_overrides_defaults() {
        let s = Settings::from_lookup(lookup(&[
            ("COPRODUCE_BIND", "0.0.0.0:9000"),
            ("COPRODUCE_LOG_FORMAT", "json"),
            ("COPRODUCE_POOL_SIZE", "4"),
        ]))
        .expect("settings");
        assert_eq!(s.bind, "0.0.0.0:9000");
        assert_eq!(s.log_format, LogFormat::Json);
        assert_eq!(s.pool_size, 4);
    }

    #[test]
    fn no_debug_print_of_the_settings_shows_a_secret() {
        let s = Settings::from_lookup(lookup(&[
            (
                "DATABASE_URL",
                "postgres://app:db-password-123@db.internal/coproduce",
            ),
            (
                "COPRODUCE_JWT_SECRET",
                "jwt-secret-that-is-long-enough-0123456789",
            ),
        ]))
        .expect("settings");
        let printed = format!("{s:?} {s:#?}");
        assert!(!printed.contains("db-password-123"), "{printed}");
        assert!(!printed.contains("jwt-secret-that-is"), "{printed}");
        assert!(printed.contains("[redacted]"));
        assert_eq!(
            s.jwt.secret.as_ref().map(Secret::expose),
            Some("jwt-secret-that-is-long-enough-0123456789")
        );
    }

    #[test]
    fn limits_have_defaults_can_be_turned_off_and_refuse_nonsense() {
        let s = Settings::from_lookup(lookup(&[])).expect("defaults");
        assert_eq!(s.limits, LimitSettings::default());
        let s = Settings::from_lookup(lookup(&[
            ("COPRODUCE_CLIENT_RATE", "0"),
            ("COPRODUCE_ADDRESS_RATE", "2.5"),
            ("COPRODUCE_ADDRESS_BURST", "5"),
            ("COPRODUCE_TRUSTED_PROXIES", "10.0.0.0/8, ::1"),
            (
                "COPRODUCE_CORS_ORIGINS",
                "https://app.example.org,http://localhost:5173",
            ),
        ]))
        .expect("settings");
        assert_eq!(s.limits.client_rate, None);
        assert_eq!(
            s.limits.address_rate,
            Some(RateSettings {
                per_second: 2.5,
                burst: 5
            })
        );
        assert_eq!(s.limits.trusted_proxies.len(), 2);
        assert_eq!(s.limits.cors_origins.len(), 2);
        for (name, value) in [
            ("COPRODUCE_CLIENT_RATE", "-1"),
            ("COPRODUCE_CLIENT_RATE", "fast"),
            ("COPRODUCE_ADDRESS_BURST", "0"),
            ("COPRODUCE_TRUSTED_PROXIES", "10.0.0.0/33"),
            ("COPRODUCE_CORS_ORIGINS", "https://app.example.org/path"),
            ("COPRODUCE_CORS_ORIGINS", "*"),
            ("COPRODUCE_REQUEST_TIMEOUT_SECS", "0"),
        ] {
            let err = Settings::from_lookup(lookup(&[(name, value)]))
                .expect_err(&format!("{name}={value} must be refused"));
            assert!(format!("{err:#}").contains(name), "{name}: {err:#}");
        }
    }

    #[test]
    fn address_blocks_hold_what_they_say() {
        let ip = |s: &str| s.parse::<std::net::IpAddr>().expect("an address");
        let block = Cidr::parse("10.0.0.0/8").expect("a block");
        assert!(block.contains(ip("10.255.0.1")));
        assert!(!block.contains(ip("11.0.0.1")));
        assert!(
            block.contains(ip("::ffff:10.1.1.1")),
            "an IPv4-mapped address"
        );
        assert!(Cidr::parse("0.0.0.0/0")
            .expect("all")
            .contains(ip("8.8.8.8")));
        let one = Cidr::parse("::1").expect("one");
        assert!(one.contains(ip("::1")));
        assert!(!one.contains(ip("::2")));
        assert!(Cidr::parse("fd00::/8")
            .expect("ula")
            .contains(ip("fd12::1")));
        assert!(Cidr::parse("nonsense").is_err());
    }

    #[test]
    fn a_bad_log_format_is_refused_with_its_name() {
        let err = Settings::from_lookup(lookup(&[("COPRODUCE_LOG_FORMAT", "xml")]))
            .expect_err("must refuse");
        assert!(err.to_string().contains("COPRODUCE_LOG_FORMAT"));
    }
}
