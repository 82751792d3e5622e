//! Plain types and the rules of DOMAIN.md. Nothing in here does I/O.

/// Defines a domain enum once, with the text each value has in JSON, in the database and in
/// messages: its serde, OpenAPI (`ToSchema`) and GraphQL (`Enum`, values in SCREAMING_CASE)
/// faces, `ALL`, `as_str`, `Display` and a `FromStr` whose error lists the values that would
/// do. Other derives (`Default`) and docs pass through.
macro_rules! domain_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident as $what:literal {
            $($(#[$vmeta:meta])* $variant:ident = $text:tt),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize, utoipa::ToSchema, async_graphql::Enum,
        )]
        // Each value is spelt once, as its text: serde and the OpenAPI document use it too (a
        // test below holds serde to it).
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: [$name; [$(stringify!($variant)),+].len()] = [$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl $crate::domain::GraphqlName for $name {
            fn graphql_name(self) -> async_graphql::Name {
                static NAMES: std::sync::OnceLock<Vec<async_graphql::Name>> =
                    std::sync::OnceLock::new();
                let names = NAMES.get_or_init(|| {
                    Self::ALL.iter().map(|v| $crate::domain::name_of(*v)).collect()
                });
                // The values are in `ALL`'s order, which is the order they are declared in.
                names
                    .get(self as usize)
                    .cloned()
                    .unwrap_or_else(|| $crate::domain::name_of(self))
            }
        }

        impl $crate::domain::written::WriteLeaf for $name {
            fn write_leaf(&self, out: &mut Vec<u8>) {
                $crate::domain::written::write_name(out, &$crate::domain::GraphqlName::graphql_name(*self));
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::domain::UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $crate::domain::parse_from(&Self::ALL, s, $what, Self::as_str)
            }
        }
    };
}

pub mod api_client;
pub mod claim;
pub mod consent;
pub mod contact;
pub mod contract;
pub mod event;
pub mod feedback;
pub mod glossary;
pub mod glossary_seed;
pub mod id;
pub mod identity;
pub mod inclusion;
pub mod json;
pub mod ladder;
pub mod membership;
pub mod money;
pub mod opportunity;
pub mod organisation;
pub mod page;
pub mod participant;
pub mod payment;
pub mod payment_policy;
pub mod report;
pub mod session;
pub mod time;
pub mod validation;
pub mod webhook;
pub mod written;

use std::borrow::Cow;
use std::fmt;

use async_graphql::parser::types::Field;
use async_graphql::registry::Registry;
use async_graphql::resolver_utils::{enum_value, EnumType};
use async_graphql::{ContextSelectionSet, Name, OutputType, Positioned, ServerResult, Value};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A new time-ordered (v7) identifier of any kind (see [`id`]): ids sort in creation order,
/// which keeps pagination stable.
pub fn new_id<I: From<Uuid>>() -> I {
    I::from(Uuid::now_v7())
}

/// The current time at microsecond precision, the finest both databases keep, so a value reads
/// back exactly as it was written.
pub fn now() -> DateTime<Utc> {
    truncate_to_micros(Utc::now())
}

pub fn truncate_to_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

/// A list of a domain enum's values as a GraphQL field answers it: the same type as a `Vec` of
/// them (`[T!]!`), with its values made in one pass, where async-graphql answers a `Vec` with a
/// future per value, polled together. An object's field answers it with
/// `#[graphql(skip, derived(name = "…", into = "EnumList<T>", owned))]` on a `Vec<T>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnumList<T>(pub Vec<T>);

impl<T> From<Vec<T>> for EnumList<T> {
    fn from(values: Vec<T>) -> Self {
        Self(values)
    }
}

/// A domain enum's value as GraphQL names it, made once per value: answering it then costs a
/// reference count, not a new string. [`domain_enum!`] implements it.
pub trait GraphqlName {
    fn graphql_name(self) -> Name;
}

/// A value's GraphQL name, as async-graphql makes it.
pub fn name_of<T: EnumType>(value: T) -> Name {
    match enum_value(value) {
        Value::Enum(name) => name,
        _ => Name::new(""),
    }
}

impl<T: GraphqlName + OutputType + Copy + Sync> OutputType for EnumList<T> {
    fn type_name() -> Cow<'static, str> {
        <Vec<T> as OutputType>::type_name()
    }

    fn qualified_type_name() -> String {
        <Vec<T> as OutputType>::qualified_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        <Vec<T> as OutputType>::create_type_info(registry)
    }

    async fn resolve(
        &self,
        _ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        Ok(Value::List(
            self.0
                .iter()
                .map(|v| Value::Enum(v.graphql_name()))
                .collect(),
        ))
    }
}

/// A string that names no known variant of one of the domain's enums.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownValue {
    /// Which enum was being parsed, e.g. "ladder level".
    pub what: &'static str,
    /// The text that did not match.
    pub value: String,
    /// Every text form that would have matched.
    pub expected: Vec<&'static str>,
}

impl fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown {} {:?}: expected one of {}",
            self.what,
            self.value,
            self.expected.join(", ")
        )
    }
}

impl std::error::Error for UnknownValue {}

/// Parses by comparing against `as_str` of every variant, so the text form is defined in
/// exactly one place per enum.
pub(crate) fn parse_from<T: Copy>(
    all: &[T],
    text: &str,
    what: &'static str,
    as_str: fn(T) -> &'static str,
) -> Result<T, UnknownValue> {
    all.iter()
        .copied()
        .find(|v| as_str(*v) == text)
        .ok_or_else(|| UnknownValue {
            what,
            value: text.to_owned(),
            expected: all.iter().map(|v| as_str(*v)).collect(),
        })
}

#[cfg(test)]
mod enum_tests {
    use super::{enum_value, EnumType, GraphqlName, Value};

    /// Each value's text is what serde writes and reads, for every domain enum.
    fn texts_agree<T>(all: &[T])
    where
        T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug + Copy,
        T: std::fmt::Display + GraphqlName + EnumType,
    {
        for v in all {
            let json = serde_json::to_string(v).expect("serialise");
            assert_eq!(json, format!("\"{v}\""));
            // The name made once per value is the one async-graphql makes for it each time.
            assert_eq!(Value::Enum(v.graphql_name()), enum_value(*v), "{v}");
            assert_eq!(serde_json::from_str::<T>(&json).ok(), Some(*v));
        }
    }

    #[test]
    fn every_enum_text_is_its_serde_text() {
        use super::*;
        texts_agree(&identity::Role::ALL);
        texts_agree(&inclusion::Format::ALL);
        texts_agree(&inclusion::Support::ALL);
        texts_agree(&ladder::LadderLevel::ALL);
        texts_agree(&ladder::WorkingMode::ALL);
        texts_agree(&ladder::OpportunityKind::ALL);
        texts_agree(&ladder::OpportunityStatus::ALL);
        texts_agree(&ladder::Criterion::ALL);
        texts_agree(&membership::MemberStatus::ALL);
        texts_agree(&membership::MemberRole::ALL);
        texts_agree(&membership::Experience::ALL);
        texts_agree(&opportunity::LivedExperienceArea::ALL);
        texts_agree(&opportunity::Admission::ALL);
        texts_agree(&organisation::OrganisationKind::ALL);
        texts_agree(&session::Participation::ALL);
        texts_agree(&participant::ParticipantRole::ALL);
        texts_agree(&participant::ContactMethod::ALL);
        texts_agree(&participant::SupportNeed::ALL);
        texts_agree(&participant::PaymentPreference::ALL);
        texts_agree(&contact::ContactField::ALL);
        texts_agree(&consent::AudienceKind::ALL);
        texts_agree(&consent::ConsentMethod::ALL);
        texts_agree(&claim::ClaimStatus::ALL);
        texts_agree(&claim::LineKind::ALL);
        texts_agree(&claim::PaymentChoice::ALL);
        texts_agree(&claim::PaymentMethod::ALL);
        texts_agree(&event::EventType::ALL);
        texts_agree(&feedback::FeedbackChannel::ALL);
        texts_agree(&feedback::FeedbackOutcome::ALL);
        texts_agree(&feedback::CoProductionBarrier::ALL);
        texts_agree(&feedback::PreparedToPay::ALL);
        texts_agree(&feedback::FeedbackStatus::ALL);
        texts_agree(&webhook::DeliveryStatus::ALL);
    }
}
