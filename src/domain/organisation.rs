//! Organisations: commissioners, providers and facilitators (an organisation may be several).

use async_graphql::SimpleObject;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::id::{OrganisationId, PaymentPolicyId};

use super::time::Rfc3339;
use super::validation::{FieldError, Problems};
use super::written::WriteFields;
use super::EnumList;

domain_enum! {
    pub enum OrganisationKind as "organisation kind" {
        /// Funds services ("those that fund services").
        Commissioner = "commissioner",
        /// A funded service.
        Provider = "provider",
        /// An involvement organisation, such as a user-led network, that supports participants.
        Facilitator = "facilitator",
    }
}

/// How to reach an organisation (its office, not a person's private details).
#[derive(
    Debug,
    Clone,
    Default,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    ToSchema,
    SimpleObject,
    WriteFields,
    async_graphql::InputObject,
)]
#[graphql(input_name = "OrganisationContactInput")]
#[serde(deny_unknown_fields)]
pub struct OrganisationContact {
    #[schema(max_length = 200, pattern = r"^[^\x00]*$")]
    pub name: Option<String>,
    /// One `@`, something before it, a domain with a dot inside it, no spaces (blank is none).
    #[schema(
        max_length = 254,
        pattern = r"^[\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*(?:[^@\x00\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+@[^@.\x00\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000](?:[^@\x00\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*\.)+[^@\x00\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*[^@.\x00\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000])?[\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    pub email: Option<String>,
    #[schema(max_length = 40, pattern = r"^[^\x00]*$")]
    pub phone: Option<String>,
}

/// A commissioner, provider or facilitator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, SimpleObject, WriteFields)]
#[graphql(serial, complex)]
pub struct Organisation {
    pub id: OrganisationId,
    pub name: String,
    /// What the organisation is: one or more of commissioner, provider, facilitator.
    #[graphql(
        skip,
        derived(name = "kinds", into = "EnumList<OrganisationKind>", owned)
    )]
    pub kinds: Vec<OrganisationKind>,
    // GraphQL answers it from the door (graphql::organisations), as a plain object; a
    // written page writes it in place.
    #[graphql(skip)]
    #[written(object)]
    pub contact: OrganisationContact,
    /// The payment policy new work uses unless it names another (the guide's, to begin with).
    pub default_payment_policy_id: Option<PaymentPolicyId>,
    #[serde(serialize_with = "super::time::rfc3339")]
    #[graphql(skip, derived(name = "created_at", into = "Rfc3339", owned))]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "super::time::rfc3339")]
    #[graphql(skip, derived(name = "updated_at", into = "Rfc3339", owned))]
    pub updated_at: DateTime<Utc>,
    /// Changes with every update; send it back as `If-Match` to update.
    pub version: i32,
}

/// What a client sends to create an organisation.
#[derive(Debug, Clone, Deserialize, ToSchema, async_graphql::InputObject)]
#[serde(deny_unknown_fields)]
pub struct OrganisationInput {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00]*[^\x00\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00]*$"
    )]
    pub name: String,
    #[schema(min_items = 1)]
    pub kinds: Vec<OrganisationKind>,
    #[serde(default)]
    pub contact: Option<OrganisationContact>,
}

/// What a client sends to change an organisation; absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize, ToSchema, async_graphql::InputObject)]
#[serde(deny_unknown_fields)]
pub struct OrganisationPatch {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00]*[^\x00\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00]*$"
    )]
    pub name: Option<String>,
    #[schema(min_items = 1)]
    pub kinds: Option<Vec<OrganisationKind>>,
    pub contact: Option<OrganisationContact>,
}

/// A valid new organisation: the only way to get one is `parse`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrganisation {
    pub name: String,
    pub kinds: Vec<OrganisationKind>,
    pub contact: OrganisationContact,
}

/// A valid change to an organisation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrganisationChanges {
    pub name: Option<String>,
    pub kinds: Option<Vec<OrganisationKind>>,
    pub contact: Option<OrganisationContact>,
}

const NAME_MAX: usize = 200;

fn parse_kinds(p: &mut Problems, kinds: &[OrganisationKind]) -> Option<Vec<OrganisationKind>> {
    let mut kinds = kinds.to_vec();
    kinds.sort();
    kinds.dedup();
    if kinds.is_empty() {
        p.add(
            "kinds",
            "must name at least one of commissioner, provider, facilitator",
        );
        None
    } else {
        Some(kinds)
    }
}

fn parse_contact(p: &mut Problems, c: &OrganisationContact) -> OrganisationContact {
    OrganisationContact {
        name: p.optional_text("contact.name", c.name.as_deref(), NAME_MAX),
        email: p.optional_email("contact.email", c.email.as_deref()),
        phone: p.optional_text("contact.phone", c.phone.as_deref(), 40),
    }
}

impl NewOrganisation {
    pub fn parse(input: &OrganisationInput) -> Result<Self, Vec<FieldError>> {
        let mut p = Problems::default();
        let name = p.required_text("name", &input.name, NAME_MAX);
        let kinds = parse_kinds(&mut p, &input.kinds);
        let contact = parse_contact(&mut p, &input.contact.clone().unwrap_or_default());
        // A missing value always left a problem behind, so `into_errors` is never empty here.
        let (Some(name), Some(kinds)) = (name, kinds) else {
            return Err(p.into_errors());
        };
        p.finish(Self {
            name,
            kinds,
            contact,
        })
    }
}

impl OrganisationChanges {
    pub fn parse(patch: &OrganisationPatch) -> Result<Self, Vec<FieldError>> {
        let mut p = Problems::default();
        let name = match &patch.name {
            Some(n) => p.required_text("name", n, NAME_MAX),
            None => None,
        };
        let kinds = match &patch.kinds {
            Some(k) => parse_kinds(&mut p, k),
            None => None,
        };
        let contact = patch.contact.as_ref().map(|c| parse_contact(&mut p, c));
        p.finish(Self {
            name,
            kinds,
            contact,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_organisation_needs_a_name_and_a_kind() {
        let errors = NewOrganisation::parse(&OrganisationInput {
            name: " ".into(),
            kinds: vec![],
            contact: None,
        })
        .expect_err("invalid");
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["name", "kinds"]);
    }

    #[test]
    fn kinds_are_sorted_and_deduplicated() {
        let org = NewOrganisation::parse(&OrganisationInput {
            name: "Mind in Camden".into(),
            kinds: vec![
                OrganisationKind::Provider,
                OrganisationKind::Facilitator,
                OrganisationKind::Provider,
            ],
            contact: None,
        })
        .expect("valid");
        assert_eq!(
            org.kinds,
            vec![OrganisationKind::Provider, OrganisationKind::Facilitator]
        );
    }

    /// A written page is handed the contact by its GraphQL name and writes its fields; no
    /// other field is a held object, and `kinds` is written as GraphQL names it.
    #[test]
    fn a_written_page_is_handed_the_contact_and_writes_kinds_by_name() {
        let now = Utc::now();
        let org = Organisation {
            id: OrganisationId::new(),
            name: "Birch Carers".into(),
            kinds: vec![OrganisationKind::Provider, OrganisationKind::Facilitator],
            contact: OrganisationContact {
                name: Some("Dee \"D\" Okafor".into()),
                ..Default::default()
            },
            default_payment_policy_id: None,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let contact = org.field_object("contact").expect("the contact");
        let mut out = Vec::new();
        assert!(contact.write_field("name", &mut out));
        assert_eq!(String::from_utf8_lossy(&out), r#""Dee \"D\" Okafor""#);
        for other in ["name", "kinds", "defaultPaymentPolicyId", "nothing"] {
            assert!(org.field_object(other).is_none(), "{other}");
        }
        let mut kinds = Vec::new();
        assert!(org.write_field("kinds", &mut kinds));
        assert_eq!(
            String::from_utf8_lossy(&kinds),
            r#"["PROVIDER","FACILITATOR"]"#
        );
    }

    #[test]
    fn a_bad_contact_email_names_its_field() {
        let errors = OrganisationChanges::parse(&OrganisationPatch {
            contact: Some(OrganisationContact {
                email: Some("nobody".into()),
                ..Default::default()
            }),
            ..Default::default()
        })
        .expect_err("invalid");
        assert_eq!(errors[0].field, "contact.email");
    }
}
