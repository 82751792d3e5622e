//! Machine clients: a provider's or commissioner's own system, which exchanges its id and secret
//! for a short-lived token scoped to its organisation.

use async_graphql::SimpleObject;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::id::{ApiClientId, OrganisationId};

use super::identity::Role;
use super::organisation::OrganisationKind;
use super::time::Rfc3339;
use super::validation::{FieldError, Problems};
use super::written::WriteFields;
use super::EnumList;

/// A provider's or commissioner's own system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, SimpleObject, WriteFields)]
#[graphql(serial)]
pub struct ApiClient {
    /// The `client_id` used at `POST /api/v1/token`.
    pub id: ApiClientId,
    pub organisation_id: OrganisationId,
    pub name: String,
    /// The roles its tokens carry.
    #[graphql(skip, derived(name = "roles", into = "EnumList<Role>", owned))]
    pub roles: Vec<Role>,
    #[serde(serialize_with = "super::time::rfc3339")]
    #[graphql(skip, derived(name = "created_at", into = "Rfc3339", owned))]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "super::time::rfc3339_opt")]
    #[graphql(
        skip,
        derived(
            name = "rotated_at",
            into = "Option<Rfc3339>",
            owned,
            with = "Rfc3339::some"
        )
    )]
    pub rotated_at: Option<DateTime<Utc>>,
    /// Once set, the client's secret and every token it was given stop working.
    #[serde(serialize_with = "super::time::rfc3339_opt")]
    #[graphql(
        skip,
        derived(
            name = "revoked_at",
            into = "Option<Rfc3339>",
            owned,
            with = "Rfc3339::some"
        )
    )]
    pub revoked_at: Option<DateTime<Utc>>,
    pub version: i32,
}

impl ApiClient {
    pub fn is_revoked(&self) -> bool {
        self.revoked_at.is_some()
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema, async_graphql::InputObject)]
#[serde(deny_unknown_fields)]
pub struct ApiClientInput {
    pub organisation_id: OrganisationId,
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00]*[^\x00\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00]*$"
    )]
    pub name: String,
    /// Defaults to the roles the organisation's kinds allow.
    #[serde(default)]
    #[schema(min_items = 1, value_type = Option<Vec<ClientRole>>)]
    pub roles: Option<Vec<Role>>,
}

/// The roles a machine client can hold at all (never `admin` or `participant`); which of them
/// depends on its organisation's kinds.
#[derive(Debug, Clone, Copy, ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum ClientRole {
    Commissioner,
    Provider,
    Facilitator,
}

/// A valid new client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiClient {
    pub organisation_id: OrganisationId,
    pub name: String,
    pub roles: Vec<Role>,
}

/// The role each kind of organisation may give its machine clients.
pub fn role_for_kind(kind: OrganisationKind) -> Role {
    match kind {
        OrganisationKind::Commissioner => Role::Commissioner,
        OrganisationKind::Provider => Role::Provider,
        OrganisationKind::Facilitator => Role::Facilitator,
    }
}

impl NewApiClient {
    /// Checks the input against the organisation it is for: a client may only hold roles its
    /// organisation's kinds allow (never `admin` or `participant`).
    pub fn parse(
        input: &ApiClientInput,
        org_kinds: &[OrganisationKind],
    ) -> Result<Self, Vec<FieldError>> {
        let mut p = Problems::default();
        let name = p.required_text("name", &input.name, 200);
        let allowed: Vec<Role> = org_kinds.iter().map(|k| role_for_kind(*k)).collect();
        let mut roles = match &input.roles {
            None => allowed.clone(),
            Some(roles) => {
                for role in roles {
                    if !allowed.contains(role) {
                        p.add(
                            "roles",
                            format!(
                                "`{role}` is not a role this organisation's clients can hold (allowed: {})",
                                allowed
                                    .iter()
                                    .map(|r| r.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        );
                    }
                }
                roles.clone()
            }
        };
        roles.sort();
        roles.dedup();
        if roles.is_empty() {
            p.add("roles", "must hold at least one role");
        }
        let Some(name) = name else {
            return Err(p.into_errors());
        };
        p.finish(Self {
            organisation_id: input.organisation_id,
            name,
            roles,
        })
    }
}

/// How a client secret is kept: the SHA-256 digest of the secret, never the secret. A secret is
/// 32 random bytes (256 bits), so nobody can guess it from its digest and no slow password hash
/// is needed; checking one costs microseconds and no memory, whatever the request rate.
pub const DIGEST_PREFIX: &str = "sha256$";

/// The stored form of a secret.
pub fn secret_digest(secret: &str) -> String {
    use sha2::{Digest, Sha256};
    format!(
        "{DIGEST_PREFIX}{}",
        hex::encode(Sha256::digest(secret.as_bytes()))
    )
}

/// What a stored secret form says about a presented secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretCheck {
    Matches,
    DoesNotMatch,
    /// Kept by an earlier version as an argon2 hash: checked the slow way, then replaced.
    Legacy,
}

/// Compares in constant time, so the time taken tells nothing about the digest.
pub fn check_secret(stored: &str, presented: &str) -> SecretCheck {
    use subtle::ConstantTimeEq;
    if !stored.starts_with(DIGEST_PREFIX) {
        return if stored.starts_with("$argon2") {
            SecretCheck::Legacy
        } else {
            SecretCheck::DoesNotMatch
        };
    }
    let want = secret_digest(presented);
    if bool::from(want.as_bytes().ct_eq(stored.as_bytes())) {
        SecretCheck::Matches
    } else {
        SecretCheck::DoesNotMatch
    }
}

/// Answer to creating a client or rotating its secret: the only time the secret is shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiClientWithSecret {
    pub client: ApiClient,
    /// Shown once; only its SHA-256 digest is kept. A replay of the request under the same
    /// `Idempotency-Key` answers `null` here, with `secret_notice` saying why.
    pub client_secret: Option<String>,
    /// Set only on a replay: the secret was shown once and is not kept, so it cannot be shown
    /// again (rotate the secret for a new one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_notice: Option<String>,
}

/// Said instead of the secret when an answer that held one is replayed.
pub const SECRET_SHOWN_ONCE: &str = "The client secret was shown once, in the first answer to this request, and is not kept; rotate the secret to get a new one.";

impl ApiClientWithSecret {
    pub fn new(client: ApiClient, secret: String) -> Self {
        Self {
            client,
            client_secret: Some(secret),
            secret_notice: None,
        }
    }

    /// The same answer with the secret taken out, fit to be stored for replays.
    pub fn without_secret(&self) -> Self {
        Self {
            client: self.client.clone(),
            client_secret: None,
            secret_notice: Some(SECRET_SHOWN_ONCE.to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(roles: Option<Vec<Role>>) -> ApiClientInput {
        ApiClientInput {
            organisation_id: OrganisationId::from_uuid(uuid::Uuid::nil()),
            name: "Case system".into(),
            roles,
        }
    }

    #[test]
    fn a_secret_is_kept_as_a_digest_that_only_it_matches() {
        let stored = secret_digest("cps_right");
        assert!(!stored.contains("cps_right"));
        assert_eq!(check_secret(&stored, "cps_right"), SecretCheck::Matches);
        assert_eq!(
            check_secret(&stored, "cps_wrong"),
            SecretCheck::DoesNotMatch
        );
        assert_eq!(check_secret("", "cps_right"), SecretCheck::DoesNotMatch);
        assert_eq!(
            check_secret("$argon2id$v=19$m=19456,t=2,p=1$abc$def", "x"),
            SecretCheck::Legacy
        );
    }

    #[test]
    fn a_client_takes_its_organisations_roles_by_default() {
        let c = NewApiClient::parse(&input(None), &[OrganisationKind::Provider]).expect("valid");
        assert_eq!(c.roles, vec![Role::Provider]);
    }

    #[test]
    fn a_client_cannot_be_made_an_admin() {
        let errors = NewApiClient::parse(
            &input(Some(vec![Role::Admin])),
            &[OrganisationKind::Provider],
        )
        .expect_err("refused");
        assert_eq!(errors[0].field, "roles");
    }

    #[test]
    fn a_provider_client_cannot_act_as_a_commissioner() {
        assert!(NewApiClient::parse(
            &input(Some(vec![Role::Commissioner])),
            &[OrganisationKind::Provider]
        )
        .is_err());
    }
}
