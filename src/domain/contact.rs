//! A participant's contact details: email, phone (kept in E.164) and postal address (with a UK
//! postcode). Personal data: stored apart from the profile, encrypted at rest, shown only to
//! those allowed, and shared with other members only with consent.

use async_graphql::SimpleObject;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use chrono::{DateTime, Utc};

use super::id::{AccessLogEntryId, MembershipId, OrganisationId, ParticipantId};
use super::identity::Role;
use super::membership::MemberRole;
use super::time::Rfc3339;
use super::validation::{FieldError, Problems};
use super::written::WriteFields;
use super::EnumList;

domain_enum! {
    /// One kind of contact detail: the unit of consent and of the access log.
    pub enum ContactField as "contact field" {
        Email = "email",
        Phone = "phone",
        PostalAddress = "postal_address",
    }
}

/// A postal address: its lines, and a UK postcode written the standard way (`SW1A 1AA`).
#[derive(
    Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, async_graphql::SimpleObject,
)]
#[graphql(serial)]
pub struct PostalAddress {
    pub lines: Vec<String>,
    pub postcode: String,
}

/// Contact details as stored and shown; a field is `null` when none is held (or, in the group
/// directory, when the person did not consent to share it).
#[derive(
    Debug,
    Clone,
    Default,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    ToSchema,
    async_graphql::SimpleObject,
)]
#[graphql(serial)]
pub struct ContactDetails {
    pub email: Option<String>,
    /// E.164, such as `+447700900123`.
    pub phone: Option<String>,
    pub postal_address: Option<PostalAddress>,
}

impl ContactDetails {
    /// The fields held.
    pub fn fields(&self) -> Vec<ContactField> {
        [
            self.email.as_ref().map(|_| ContactField::Email),
            self.phone.as_ref().map(|_| ContactField::Phone),
            self.postal_address
                .as_ref()
                .map(|_| ContactField::PostalAddress),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// Only the named fields.
    pub fn only(mut self, fields: &[ContactField]) -> Self {
        if !fields.contains(&ContactField::Email) {
            self.email = None;
        }
        if !fields.contains(&ContactField::Phone) {
            self.phone = None;
        }
        if !fields.contains(&ContactField::PostalAddress) {
            self.postal_address = None;
        }
        self
    }
}

/// A postal address as sent.
#[derive(Debug, Clone, Deserialize, ToSchema, async_graphql::InputObject)]
#[serde(deny_unknown_fields)]
pub struct PostalAddressInput {
    #[schema(min_items = 1, max_items = 6)]
    pub lines: Vec<AddressLine>,
    /// A UK postcode, in any case, with or without its space.
    #[schema(
        max_length = 16,
        pattern = r"^ *[A-Za-z]{1,2}[0-9][A-Za-z0-9]? *[0-9][A-Za-z]{2} *$"
    )]
    pub postcode: String,
}

/// One line of an address: some text besides space, at most 200 characters.
#[derive(Debug, Clone, Serialize, Deserialize, async_graphql::NewType)]
#[serde(transparent)]
pub struct AddressLine(pub String);

impl utoipa::PartialSchema for AddressLine {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .min_length(Some(1))
            .max_length(Some(LINE_MAX))
            .pattern(Some(super::validation::SOME_TEXT))
            .into()
    }
}

impl ToSchema for AddressLine {}

/// Contact details as sent; they replace what is held (a field left out is removed).
#[derive(Debug, Clone, Default, Deserialize, ToSchema, async_graphql::InputObject)]
#[serde(deny_unknown_fields)]
pub struct ContactDetailsInput {
    /// One `@`, something before it, a domain with a dot inside it, no spaces (blank is none).
    #[serde(default)]
    #[schema(
        max_length = 254,
        pattern = r"^[\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*(?:[^@\x00\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+@[^@.\x00\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000](?:[^@\x00\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*\.)+[^@\x00\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*[^@.\x00\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000])?[\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    pub email: Option<String>,
    /// A UK number (`07700 900123`) or an international one (`+44 7700 900123`, `0044...`);
    /// spaces, dots, dashes and brackets are ignored. Kept in E.164.
    #[serde(default)]
    #[schema(
        max_length = 40,
        pattern = r"^[ ().-]*(?:\+[ ().-]*[1-9](?:[ ().-]*[0-9]){7,14}|0[ ().-]*0[ ().-]*[1-9](?:[ ().-]*[0-9]){7,14}|0[ ().-]*[1-9](?:[ ().-]*[0-9]){8,9})[ ().-]*$"
    )]
    pub phone: Option<String>,
    #[serde(default)]
    pub postal_address: Option<PostalAddressInput>,
}

/// One read of a person's contact details by someone else, outside the group directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, SimpleObject, WriteFields)]
#[graphql(serial)]
pub struct AccessLogEntry {
    pub id: AccessLogEntryId,
    pub participant_id: ParticipantId,
    /// The `sub` of who read them.
    pub accessed_by: String,
    pub accessed_by_organisation_id: Option<OrganisationId>,
    #[graphql(
        skip,
        derived(name = "accessed_by_roles", into = "EnumList<Role>", owned)
    )]
    pub accessed_by_roles: Vec<Role>,
    /// The fields that were shown.
    #[graphql(skip, derived(name = "fields", into = "EnumList<ContactField>", owned))]
    pub fields: Vec<ContactField>,
    /// Why: the endpoint or GraphQL field that showed them.
    pub purpose: String,
    #[serde(serialize_with = "super::time::rfc3339")]
    #[graphql(skip, derived(name = "accessed_at", into = "Rfc3339", owned))]
    pub accessed_at: DateTime<Utc>,
}

/// One member in a piece of work's group directory: their name, their role in the group, and
/// only the contact details they consented to share with the reader's audience.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, SimpleObject, WriteFields)]
#[graphql(serial)]
pub struct DirectoryEntry {
    pub membership_id: MembershipId,
    pub participant_id: ParticipantId,
    /// The preferred name when there is one; `null` for someone erased.
    pub name: Option<String>,
    pub role: MemberRole,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub postal_address: Option<PostalAddress>,
}

const PHONE_MAX: usize = 40;
const LINE_MAX: usize = 200;
const POSTCODE_MAX: usize = 16;

impl ContactDetailsInput {
    pub fn parse(&self) -> Result<ContactDetails, Vec<FieldError>> {
        self.parse_under("")
    }

    /// Parses, naming fields under `prefix` in errors (`contact_details.phone`).
    pub fn parse_under(&self, prefix: &str) -> Result<ContactDetails, Vec<FieldError>> {
        let mut p = Problems::default();
        let email = p.optional_email(&format!("{prefix}email"), self.email.as_deref());
        let phone = match &self.phone {
            None => None,
            Some(text) => {
                let parsed = if text.chars().count() > PHONE_MAX {
                    None
                } else {
                    e164(text)
                };
                if parsed.is_none() {
                    p.add(
                        format!("{prefix}phone"),
                        "must be a phone number such as 07700 900123 or +44 7700 900123",
                    );
                }
                parsed
            }
        };
        let postal_address = match &self.postal_address {
            None => None,
            Some(a) => {
                let field = format!("{prefix}postal_address");
                if a.lines.is_empty() || a.lines.len() > 6 {
                    p.add(format!("{field}.lines"), "must have between 1 and 6 lines");
                }
                let lines: Vec<String> = a
                    .lines
                    .iter()
                    .enumerate()
                    .filter_map(|(i, l)| {
                        p.required_text(&format!("{field}.lines[{i}]"), &l.0, LINE_MAX)
                    })
                    .collect();
                let postcode = if a.postcode.chars().count() > POSTCODE_MAX {
                    None
                } else {
                    uk_postcode(&a.postcode)
                };
                if postcode.is_none() {
                    p.add(
                        format!("{field}.postcode"),
                        "must be a UK postcode such as SW1A 1AA",
                    );
                }
                postcode.map(|postcode| PostalAddress { lines, postcode })
            }
        };
        p.finish(ContactDetails {
            email,
            phone,
            postal_address,
        })
    }
}

fn is_separator(c: char) -> bool {
    matches!(c, ' ' | '(' | ')' | '-' | '.')
}

/// A phone number in E.164 (`+447700900123`): `+` or `00` and 8 to 15 digits, or a UK number
/// of 10 or 11 digits starting with 0. Spaces, dots, dashes and brackets are ignored.
pub fn e164(text: &str) -> Option<String> {
    let mut digits = String::new();
    let mut plus = false;
    for (i, c) in text.chars().filter(|c| !is_separator(*c)).enumerate() {
        match c {
            '+' if i == 0 => plus = true,
            '0'..='9' => digits.push(c),
            _ => return None,
        }
    }
    let international = if plus {
        Some(digits.as_str())
    } else {
        digits.strip_prefix("00")
    };
    // The digits as written decide whether it is a number at all, before any tidying.
    let (written, national) = match international {
        // "+44 (0)20 ...": the UK trunk zero, often written after the country code, goes.
        Some(rest) => (
            rest,
            match rest.strip_prefix("440") {
                Some(number) => format!("44{number}"),
                None => rest.to_owned(),
            },
        ),
        None => {
            let number = digits.strip_prefix('0')?;
            (number, format!("44{number}"))
        }
    };
    let first_ok = written.chars().next().is_some_and(|c| c != '0');
    let len_ok = match international {
        Some(_) => (8..=15).contains(&written.len()),
        None => (9..=10).contains(&written.len()),
    };
    (first_ok && len_ok).then(|| format!("+{national}"))
}

/// A UK postcode in its standard form (`SW1A 1AA`): an outward code of 2 to 4 characters
/// (one or two letters, a digit, perhaps one more letter or digit), then a digit and two
/// letters. Spaces may stand before, between and after; nowhere else.
pub fn uk_postcode(text: &str) -> Option<String> {
    let trimmed = text.trim_matches(' ');
    let compact: String = trimmed
        .chars()
        .filter(|c| *c != ' ')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if !compact.is_ascii() || compact.len() < 5 || compact.len() > 7 {
        return None;
    }
    let (outward, inward) = compact.split_at(compact.len() - 3);
    let o = outward.as_bytes();
    let i = inward.as_bytes();
    let letters = o.iter().take_while(|b| b.is_ascii_uppercase()).count();
    let outward_ok = (1..=2).contains(&letters)
        && o.get(letters).is_some_and(u8::is_ascii_digit)
        && o.len() - letters - 1 <= 1
        && o[letters + 1..].iter().all(u8::is_ascii_alphanumeric);
    let inward_ok = i[0].is_ascii_digit() && i[1..].iter().all(u8::is_ascii_uppercase);
    // Spaces only between the two halves.
    let spaced_ok = match trimmed.find(' ') {
        None => true,
        Some(at) => {
            let (head, tail) = trimmed.split_at(at);
            head.len() == outward.len() && tail.trim_start_matches(' ').len() == inward.len()
        }
    };
    (outward_ok && inward_ok && spaced_ok).then(|| format!("{outward} {inward}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uk_and_international_numbers_are_kept_in_e164() {
        assert_eq!(e164("07700 900123").as_deref(), Some("+447700900123"));
        assert_eq!(e164("(020) 7946-0958").as_deref(), Some("+442079460958"));
        assert_eq!(e164("+44 7700 900123").as_deref(), Some("+447700900123"));
        assert_eq!(
            e164("+44 (0)20 7946 0958").as_deref(),
            Some("+442079460958")
        );
        assert_eq!(
            e164("+44012345").as_deref(),
            Some("+4412345"),
            "8 digits as written"
        );
        assert_eq!(e164("0033 1 23 45 67 89").as_deref(), Some("+33123456789"));
        assert_eq!(e164("+1 (415) 555-2671").as_deref(), Some("+14155552671"));
        for bad in [
            "",
            "12345",
            "077009001",
            "+0 7700 900123",
            "07700 9001234567",
            "07700a900123",
            "++447700900123",
            "4477 0090 0123",
        ] {
            assert_eq!(e164(bad), None, "{bad}");
        }
    }

    #[test]
    fn postcodes_are_checked_and_written_the_standard_way() {
        assert_eq!(uk_postcode("sw1a1aa").as_deref(), Some("SW1A 1AA"));
        assert_eq!(uk_postcode(" M1  1AE ").as_deref(), Some("M1 1AE"));
        assert_eq!(uk_postcode("B33 8TH").as_deref(), Some("B33 8TH"));
        assert_eq!(uk_postcode("EC1A 1BB").as_deref(), Some("EC1A 1BB"));
        for bad in [
            "",
            "SW1A",
            "1AA SW1",
            "SW1A 1A",
            "S W1A 1AA",
            "SW1A 1AAA",
            "ABC1 1AA",
            "SW1É 1AA",
        ] {
            assert_eq!(uk_postcode(bad), None, "{bad}");
        }
    }

    #[test]
    fn every_bad_detail_is_named() {
        let input: ContactDetailsInput = serde_json::from_value(serde_json::json!({
            "email": "not-an-email",
            "phone": "12",
            "postal_address": { "lines": [" "], "postcode": "nowhere" }
        }))
        .expect("shape");
        let errors = input.parse_under("contact_details.").expect_err("bad");
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "contact_details.email",
                "contact_details.phone",
                "contact_details.postal_address.lines[0]",
                "contact_details.postal_address.postcode"
            ]
        );
    }

    #[test]
    fn only_the_named_fields_are_kept() {
        let c = ContactDetails {
            email: Some("a@b.org".to_owned()),
            phone: Some("+447700900123".to_owned()),
            postal_address: None,
        };
        assert_eq!(c.fields(), [ContactField::Email, ContactField::Phone]);
        let only = c.only(&[ContactField::Phone]);
        assert_eq!(only.email, None);
        assert_eq!(only.phone.as_deref(), Some("+447700900123"));
    }
}
