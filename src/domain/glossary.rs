//! The glossary: plain-English meanings of the words services use, seeded from the guide's
//! jargon buster, shown by front ends and used by the inclusion check.

use async_graphql::SimpleObject;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::id::GlossaryTermId;

use super::validation::{FieldError, Problems};
use super::written::WriteFields;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, SimpleObject, WriteFields)]
#[graphql(serial)]
pub struct GlossaryTerm {
    pub id: GlossaryTermId,
    pub term: String,
    pub meaning: String,
    #[graphql(skip)]
    #[serde(serialize_with = "super::time::rfc3339")]
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GlossaryInput {
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00]*[^\x00\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00]*$"
    )]
    pub term: String,
    #[schema(
        min_length = 1,
        max_length = 2000,
        pattern = r"^[^\x00]*[^\x00\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00]*$"
    )]
    pub meaning: String,
}

/// The key a term is unique by: case and surrounding space do not make a new term.
pub fn term_key(term: &str) -> String {
    term.trim().to_lowercase()
}

impl GlossaryInput {
    pub fn parse(&self) -> Result<(String, String), Vec<FieldError>> {
        let mut p = Problems::default();
        let term = p.required_text("term", &self.term, 100);
        let meaning = p.required_text("meaning", &self.meaning, 2000);
        match (term, meaning) {
            (Some(t), Some(m)) => p.finish((t, m)),
            _ => Err(p.into_errors()),
        }
    }
}
