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
    fn a_bad_log_format_is_refused_with_its_name() {
        let err = Settings::from_lookup(lookup(&[("COPRODUCE_LOG_FORMAT", "xml")]))
            .expect_err("must refuse");
        assert!(err.to_string().contains("COPRODUCE_LOG_FORMAT"));
    }
}
