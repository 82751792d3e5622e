//! Who is calling: the roles of API.md and the organisation a caller acts for.

use std::collections::BTreeSet;

use super::id::{ApiClientId, OrganisationId, ParticipantId};

domain_enum! {
    pub enum Role as "role" {
        Admin = "admin",
        Commissioner = "commissioner",
        Provider = "provider",
        Facilitator = "facilitator",
        Participant = "participant",
    }
}

/// The verified caller of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The token's `sub`: a person's or a machine client's identifier.
    pub subject: String,
    pub organisation_id: Option<OrganisationId>,
    pub roles: BTreeSet<Role>,
    pub participant_id: Option<ParticipantId>,
    /// Set when the token was issued to a machine client at `POST /api/v1/token`.
    pub client_id: Option<ApiClientId>,
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
    pub fn belongs_to(&self, organisation_id: OrganisationId) -> bool {
        self.organisation_id == Some(organisation_id)
    }
}
