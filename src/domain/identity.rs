//! Who is calling: the roles of API.md and the organisation a caller acts for.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Commissioner,
    Provider,
    Facilitator,
    Participant,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Commissioner,
        Role::Provider,
        Role::Facilitator,
        Role::Participant,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Commissioner => "commissioner",
            Role::Provider => "provider",
            Role::Facilitator => "facilitator",
            Role::Participant => "participant",
        }
    }
}

text_form!(Role, "role");

/// The verified caller of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The token's `sub`: a person's or a machine client's identifier.
    pub subject: String,
    pub organisation_id: Option<Uuid>,
    pub roles: BTreeSet<Role>,
    pub participant_id: Option<Uuid>,
    /// Set when the token was issued to a machine client at `POST /api/v1/token`.
    pub client_id: Option<Uuid>,
}

impl Principal {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn is_admin(&self) -> bool {
        self.has(Role::Admin)
    }

    /// Staff of an organisation: provider, facilitator or commissioner.
    pub fn is_staff(&self) -> bool {
        self.has(Role::Provider) || self.has(Role::Facilitator) || self.has(Role::Commissioner)
    }

    /// True when the caller acts for this organisation.
    pub fn belongs_to(&self, organisation_id: Uuid) -> bool {
        self.organisation_id == Some(organisation_id)
    }
}
