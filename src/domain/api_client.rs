//! Machine clients: a provider's or commissioner's own system, which exchanges its id and secret
//! for a short-lived token scoped to its organisation.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::identity::Role;
use super::organisation::OrganisationKind;
use super::validation::{FieldError, Problems};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ApiClient {
    /// The `client_id` used at `POST /api/v1/token`.
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub name: String,
    /// The roles its tokens carry.
    pub roles: Vec<Role>,
    pub created_at: DateTime<Utc>,
    pub rotated_at: Option<DateTime<Utc>>,
    /// Once set, the client's secret and every token it was given stop working.
    pub revoked_at: Option<DateTime<Utc>>,
    pub version: i32,
}

impl ApiClient {
    pub fn is_revoked(&self) -> bool {
        self.revoked_at.is_some()
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiClientInput {
    pub organisation_id: Uuid,
    pub name: String,
    /// Defaults to the roles the organisation's kinds allow.
    #[serde(default)]
    pub roles: Option<Vec<Role>>,
}

/// A valid new client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiClient {
    pub organisation_id: Uuid,
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

/// Answer to creating a client or rotating its secret: the only time the secret is shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiClientWithSecret {
    pub client: ApiClient,
    /// Shown once; only a hash is kept.
    pub client_secret: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(roles: Option<Vec<Role>>) -> ApiClientInput {
        ApiClientInput {
            organisation_id: Uuid::nil(),
            name: "Case system".into(),
            roles,
        }
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
