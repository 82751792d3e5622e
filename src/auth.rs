//! Identity from bearer tokens: verifying JWTs (HS256 with the configured secret, RS256/ES256
//! with configured public keys) and minting them for machine clients and `coproduce token`.
//! Only algorithms with a configured key are accepted, so `alg: none` and algorithm confusion
//! (an HS256 token signed with a public key) are refused.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::{PoisonError, RwLock};
use std::time::Duration;

use anyhow::{bail, Context};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::config::JwtSettings;
use crate::domain::id::{ApiClientId, OrganisationId, ParticipantId};
use crate::domain::identity::{Principal, Role};
use crate::error::AppError;

/// Allowed clock difference between us and whoever minted a token.
const LEEWAY_SECS: u64 = 60;
/// The shortest secret accepted: HS256 is only as strong as its key.
const MIN_SECRET_BYTES: usize = 32;
const SECRET_FILE: &str = "jwt-secret";

/// The claims this service writes into tokens it mints.
#[derive(Debug, Serialize)]
struct MintedClaims<'a> {
    sub: &'a str,
    iss: &'a str,
    aud: &'a str,
    iat: i64,
    nbf: i64,
    exp: i64,
    jti: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    org: Option<OrganisationId>,
    roles: Vec<Role>,
    #[serde(skip_serializing_if = "Option::is_none")]
    participant_id: Option<ParticipantId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cid: Option<ApiClientId>,
}

/// The claims read from a verified token (`iss`, `aud`, `exp`, `nbf` are checked by the decoder).
#[derive(Debug, Deserialize)]
struct VerifiedClaims {
    sub: String,
    exp: i64,
    #[serde(default)]
    org: Option<OrganisationId>,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    participant_id: Option<ParticipantId>,
    #[serde(default)]
    cid: Option<ApiClientId>,
}

/// What a token asks for when minted.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    pub subject: String,
    pub organisation_id: Option<OrganisationId>,
    pub roles: Vec<Role>,
    pub participant_id: Option<ParticipantId>,
    pub client_id: Option<ApiClientId>,
    pub ttl: Duration,
}

struct PublicKey {
    kid: Option<String>,
    algorithm: Algorithm,
    key: DecodingKey,
}

/// Verifies and mints tokens. Built once from the settings and shared.
pub struct TokenAuthority {
    secret: Option<Vec<u8>>,
    public_keys: Vec<PublicKey>,
    issuer: String,
    audience: String,
    /// What every token must satisfy, for each algorithm accepted, and the HS256 secret as a
    /// key: built once, not for every request.
    checks: Checks,
    /// Tokens this authority verified, by their text, with whom they speak for and their
    /// `exp`. A client sends the same token with every request, and checking its signature and
    /// claims again would give the same answer until it expires (about 55,000 instructions, a
    /// twelfth of a list's answer). Only tokens that verified are kept, so a caller without one
    /// cannot add to it; it holds at most [`KEPT_TOKENS`] of at most [`KEPT_TOKEN_BYTES`] each,
    /// and starts afresh when full. Keys never change while the service runs, so only `exp` is
    /// checked again.
    verified: RwLock<HashMap<Box<str>, (Principal, i64)>>,
}

/// How many verified tokens an authority keeps, and the longest it keeps.
const KEPT_TOKENS: usize = 1024;
const KEPT_TOKEN_BYTES: usize = 2048;

struct Checks {
    secret_key: Option<DecodingKey>,
    hs256: Validation,
    rs256: Validation,
    es256: Validation,
}

impl Checks {
    fn new(secret: Option<&[u8]>, issuer: &str, audience: &str) -> Self {
        let validation = |algorithm| {
            let mut validation = Validation::new(algorithm);
            validation.leeway = LEEWAY_SECS;
            validation.validate_nbf = true;
            validation.set_issuer(&[issuer]);
            validation.set_audience(&[audience]);
            validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
            validation
        };
        Self {
            secret_key: secret.map(DecodingKey::from_secret),
            hs256: validation(Algorithm::HS256),
            rs256: validation(Algorithm::RS256),
            es256: validation(Algorithm::ES256),
        }
    }
}

impl TokenAuthority {
    /// Builds the authority. `embedded` is true on SQLite: with no secret configured, one is
    /// generated once and kept in the data folder. On PostgreSQL a secret is required.
    pub fn from_settings(
        settings: &JwtSettings,
        data_dir: &Path,
        embedded: bool,
    ) -> anyhow::Result<Self> {
        let secret = match &settings.secret {
            Some(s) => Some(s.expose().as_bytes().to_vec()),
            None if embedded => Some(load_or_create_secret(data_dir)?),
            None => bail!(
                "COPRODUCE_JWT_SECRET must be set when running on PostgreSQL (at least {MIN_SECRET_BYTES} bytes)"
            ),
        };
        if let Some(s) = &secret {
            if s.len() < MIN_SECRET_BYTES {
                bail!("COPRODUCE_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes long");
            }
        }
        let public_keys = match &settings.public_keys {
            Some(path) => load_public_keys(path)?,
            None => Vec::new(),
        };
        Ok(Self::new(
            secret,
            public_keys,
            settings.issuer.clone(),
            settings.audience.clone(),
        ))
    }

    fn new(
        secret: Option<Vec<u8>>,
        public_keys: Vec<PublicKey>,
        issuer: String,
        audience: String,
    ) -> Self {
        let checks = Checks::new(secret.as_deref(), &issuer, &audience);
        Self {
            secret,
            public_keys,
            issuer,
            audience,
            checks,
            verified: RwLock::default(),
        }
    }

    /// Signs a token with the HS256 secret.
    pub fn mint(&self, request: &TokenRequest) -> Result<String, AppError> {
        let secret = self
            .secret
            .as_ref()
            .ok_or_else(|| AppError::internal("no signing secret is configured"))?;
        let now = chrono::Utc::now().timestamp();
        let ttl = i64::try_from(request.ttl.as_secs()).unwrap_or(i64::MAX / 2);
        let claims = MintedClaims {
            sub: &request.subject,
            iss: &self.issuer,
            aud: &self.audience,
            iat: now,
            nbf: now,
            exp: now.saturating_add(ttl),
            jti: Uuid::now_v7().to_string(),
            org: request.organisation_id,
            roles: request.roles.clone(),
            participant_id: request.participant_id,
            cid: request.client_id,
        };
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(secret),
        )
        .map_err(|e| AppError::internal(format!("cannot sign a token: {e}")))
    }

    /// Checks a bearer token and returns who it speaks for.
    pub fn verify(&self, token: &str) -> Result<Principal, AppError> {
        self.verify_with_expiry(token)
            .map(|(principal, _)| principal)
    }

    /// Verifies a token and says until when it holds (its `exp`, seconds since the epoch): a
    /// long-lived connection ends then.
    pub fn verify_with_expiry(&self, token: &str) -> Result<(Principal, i64), AppError> {
        if let Some(kept) = self.recall(token, chrono::Utc::now().timestamp()) {
            return Ok(kept);
        }
        let (principal, exp) = self.verify_signed(token)?;
        self.remember(token, &principal, exp);
        Ok((principal, exp))
    }

    /// A token verified before that has not expired at `now` (as the decoder judges `exp`:
    /// expired once it is more than the leeway in the past); an expired one is verified again,
    /// which refuses it with the decoder's reason.
    fn recall(&self, token: &str, now: i64) -> Option<(Principal, i64)> {
        let kept = self.verified.read().unwrap_or_else(PoisonError::into_inner);
        let (principal, exp) = kept.get(token)?;
        (*exp >= now.saturating_sub(LEEWAY_SECS as i64)).then(|| (principal.clone(), *exp))
    }

    fn remember(&self, token: &str, principal: &Principal, exp: i64) {
        if token.len() > KEPT_TOKEN_BYTES {
            return;
        }
        let mut kept = self
            .verified
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if kept.len() >= KEPT_TOKENS {
            kept.clear();
        }
        kept.insert(token.into(), (principal.clone(), exp));
    }

    /// Checks a token's signature and claims.
    fn verify_signed(&self, token: &str) -> Result<(Principal, i64), AppError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| {
            unauthenticated("the token is malformed or uses an unsupported algorithm")
        })?;
        let (keys, validation): (Vec<&DecodingKey>, &Validation) = match header.alg {
            Algorithm::HS256 => match &self.checks.secret_key {
                Some(key) => (vec![key], &self.checks.hs256),
                None => return Err(unauthenticated("HS256 tokens are not accepted here")),
            },
            Algorithm::RS256 | Algorithm::ES256 => {
                let matching: Vec<&DecodingKey> = self
                    .public_keys
                    .iter()
                    .filter(|k| k.algorithm == header.alg)
                    .filter(|k| match (&header.kid, &k.kid) {
                        (Some(want), Some(have)) => want == have,
                        _ => true,
                    })
                    .map(|k| &k.key)
                    .collect();
                if matching.is_empty() {
                    return Err(unauthenticated(
                        "no key is configured for the token's algorithm",
                    ));
                }
                let validation = if header.alg == Algorithm::RS256 {
                    &self.checks.rs256
                } else {
                    &self.checks.es256
                };
                (matching, validation)
            }
            _ => {
                return Err(unauthenticated(
                    "the token's algorithm is not accepted: use HS256, RS256 or ES256",
                ))
            }
        };
        let mut last_error = None;
        for key in keys {
            match jsonwebtoken::decode::<VerifiedClaims>(token, key, validation) {
                Ok(data) => {
                    let exp = data.claims.exp;
                    return Ok((principal_from(data.claims), exp));
                }
                Err(e) => last_error = Some(e),
            }
        }
        Err(unauthenticated(
            match last_error.as_ref().map(|e| e.kind()) {
                Some(jsonwebtoken::errors::ErrorKind::ExpiredSignature) => "the token has expired",
                Some(jsonwebtoken::errors::ErrorKind::ImmatureSignature) => {
                    "the token is not valid yet"
                }
                Some(jsonwebtoken::errors::ErrorKind::InvalidAudience) => {
                    "the token was issued for another audience"
                }
                Some(jsonwebtoken::errors::ErrorKind::InvalidIssuer) => {
                    "the token was issued by an issuer this service does not trust"
                }
                Some(jsonwebtoken::errors::ErrorKind::InvalidSignature) => {
                    "the token's signature is not valid"
                }
                Some(jsonwebtoken::errors::ErrorKind::MissingRequiredClaim(_)) => {
                    "the token lacks a required claim (exp, sub, iss, aud)"
                }
                _ => "the token is not valid",
            },
        ))
    }
}

/// The token of an `Authorization: Bearer <token>` header value.
pub fn bearer_token(header: Option<&str>) -> Result<&str, AppError> {
    let value = header.ok_or_else(|| unauthenticated("send `Authorization: Bearer <token>`"))?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim())
        }
        _ => Err(unauthenticated(
            "the Authorization header must be `Bearer <token>`",
        )),
    }
}

fn unauthenticated(reason: &str) -> AppError {
    AppError::Unauthenticated(reason.to_owned())
}

fn principal_from(claims: VerifiedClaims) -> Principal {
    // Roles this service does not know (from an external identity provider) grant nothing.
    let roles: BTreeSet<Role> = claims.roles.iter().filter_map(|r| r.parse().ok()).collect();
    Principal {
        subject: claims.sub,
        organisation_id: claims.org,
        roles,
        participant_id: claims.participant_id,
        client_id: claims.cid,
    }
}

/// Reads the generated secret, or makes one readable by its owner only.
fn load_or_create_secret(data_dir: &Path) -> anyhow::Result<Vec<u8>> {
    let path = data_dir.join(SECRET_FILE);
    if path.exists() {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        return Ok(text.trim().as_bytes().to_vec());
    }
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    let mut bytes = [0u8; 48];
    rand::thread_rng().fill_bytes(&mut bytes);
    let secret = hex::encode(bytes);
    write_private(&path, secret.as_bytes())?;
    tracing::info!(path = %path.display(), "generated a token signing secret");
    Ok(secret.into_bytes())
}

#[cfg(unix)]
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(bytes)?;
    Ok(())
}

#[cfg(not(unix))]
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("cannot create {}", path.display()))
}

/// Loads a PEM public key (RSA or EC) or a JWKS document.
fn load_public_keys(path: &Path) -> anyhow::Result<Vec<PublicKey>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read public keys from {}", path.display()))?;
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') {
        let set: JwkSet = serde_json::from_str(trimmed)
            .with_context(|| format!("{} is not a JWKS document", path.display()))?;
        let mut keys = Vec::new();
        for jwk in &set.keys {
            let algorithm = match &jwk.algorithm {
                jsonwebtoken::jwk::AlgorithmParameters::RSA(_) => Algorithm::RS256,
                jsonwebtoken::jwk::AlgorithmParameters::EllipticCurve(_) => Algorithm::ES256,
                _ => continue,
            };
            keys.push(PublicKey {
                kid: jwk.common.key_id.clone(),
                algorithm,
                key: DecodingKey::from_jwk(jwk).context("a key in the JWKS cannot be used")?,
            });
        }
        if keys.is_empty() {
            bail!("{} holds no RSA or EC key", path.display());
        }
        return Ok(keys);
    }
    if let Ok(key) = DecodingKey::from_rsa_pem(text.as_bytes()) {
        return Ok(vec![PublicKey {
            kid: None,
            algorithm: Algorithm::RS256,
            key,
        }]);
    }
    if let Ok(key) = DecodingKey::from_ec_pem(text.as_bytes()) {
        return Ok(vec![PublicKey {
            kid: None,
            algorithm: Algorithm::ES256,
            key,
        }]);
    }
    bail!(
        "{} is neither a PEM public key (RSA or EC) nor a JWKS document",
        path.display()
    )
}

/// Parses a lifetime such as `1h`, `15m` or `3600s`.
pub fn parse_ttl(text: &str) -> anyhow::Result<Duration> {
    humantime::parse_duration(text)
        .with_context(|| format!("`{text}` is not a duration like 1h or 15m"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn authority() -> TokenAuthority {
        authority_with(7, "coproduce")
    }

    /// An authority with a secret of 32 bytes of `byte`, for `audience`.
    fn authority_with(byte: u8, audience: &str) -> TokenAuthority {
        TokenAuthority::new(
            Some(vec![byte; 32]),
            Vec::new(),
            "coproduce".into(),
            audience.into(),
        )
    }

    fn request() -> TokenRequest {
        TokenRequest {
            subject: "someone".into(),
            organisation_id: Some(OrganisationId::from_uuid(uuid::Uuid::nil())),
            roles: vec![Role::Provider],
            participant_id: None,
            client_id: None,
            ttl: Duration::from_secs(60),
        }
    }

    #[test]
    fn a_minted_token_verifies_to_the_same_principal() {
        let a = authority();
        let token = a.mint(&request()).expect("mint");
        let p = a.verify(&token).expect("verify");
        assert_eq!(p.subject, "someone");
        assert!(p.has(Role::Provider));
        assert_eq!(
            p.organisation_id,
            Some(OrganisationId::from_uuid(uuid::Uuid::nil()))
        );
    }

    #[test]
    fn a_token_for_another_audience_is_refused() {
        let token = authority().mint(&request()).expect("mint");
        let other = authority_with(7, "someone-else");
        assert!(matches!(
            other.verify(&token),
            Err(AppError::Unauthenticated(_))
        ));
    }

    #[test]
    fn a_kept_token_is_answered_again_only_by_its_authority_and_only_until_it_expires() {
        let a = authority();
        let token = a.mint(&request()).expect("mint");
        let (first, exp) = a.verify_with_expiry(&token).expect("verify");
        let now = chrono::Utc::now().timestamp();
        assert_eq!(a.recall(&token, now), Some((first.clone(), exp)));
        assert_eq!(a.verify_with_expiry(&token).expect("again"), (first, exp));
        // Expired as the decoder judges it: more than the leeway after `exp`.
        let leeway = LEEWAY_SECS as i64;
        assert!(a.recall(&token, exp + leeway).is_some());
        assert_eq!(a.recall(&token, exp + leeway + 1), None);
        // Another authority (another secret) kept nothing, and refuses the token.
        let other = authority_with(8, "coproduce");
        assert!(matches!(
            other.verify(&token),
            Err(AppError::Unauthenticated(_))
        ));
        // A token changed after it was kept is not the kept one.
        let mut forged = token.clone();
        forged.push('A');
        assert!(a.verify(&forged).is_err());
    }

    #[test]
    fn refused_tokens_are_not_kept_and_the_kept_ones_are_bounded() {
        let a = authority();
        assert!(a.verify("not.a.token").is_err());
        assert!(a.verified.read().expect("lock").is_empty());
        for _ in 0..KEPT_TOKENS + 5 {
            let token = a.mint(&request()).expect("mint");
            a.verify(&token).expect("verify");
        }
        let kept = a.verified.read().expect("lock").len();
        assert!((1..=KEPT_TOKENS).contains(&kept), "{kept} kept");
    }

    #[test]
    fn ttls_read_like_people_write_them() {
        assert_eq!(parse_ttl("1h").ok(), Some(Duration::from_secs(3600)));
        assert!(parse_ttl("soon").is_err());
    }
}
