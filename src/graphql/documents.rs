//! Documents parsed before, kept by their text. A client sends the same few documents over and
//! over (a dashboard's list, a front end's screens), and parsing one costs more than copying
//! its parsed form. Only documents of callers with a valid token are kept (`POST /graphql`
//! keeps one after the token is checked), and the cache is bounded in entries, in the length of
//! a document's text and in the fields it selects (a parsed field takes a few hundred bytes,
//! so a short text of many one-letter fields would otherwise grow a hundredfold). When it is
//! full it starts again, so a stream of new documents only makes it miss.
//!
//! A kept document also remembers the operation name and the variables it last passed
//! validation with. Validation depends on nothing else (the schema and its limits are fixed), so
//! the same document with the same operation name and variables passes again: the door then
//! runs it on the schema that checks only the limits ([`super::KnownValidSchema`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{Value, Variables};

use super::limits;

/// Distinct documents kept at once.
pub const CAPACITY: usize = 64;
/// Longest document text kept, in bytes; longer ones are parsed every time.
pub const MAX_TEXT: usize = 4 * 1024;
/// Most fields a kept document selects, counted where they are written.
pub const MAX_FIELDS: usize = 256;
/// Most values (each scalar, list and object counted) in variables remembered as valid.
pub const MAX_VARIABLE_VALUES: usize = 64;
/// Most bytes of text in variables remembered as valid.
pub const MAX_VARIABLE_TEXT: usize = 1024;

struct Kept {
    document: Arc<ExecutableDocument>,
    /// The operation name and variables the document last passed validation with.
    valid_for: Option<(Option<String>, Variables)>,
}

#[derive(Default)]
pub struct Documents {
    parsed: Mutex<HashMap<Box<str>, Kept>>,
}

impl Documents {
    /// The document parsed before from this text, if it is kept, and whether it passed
    /// validation before with this operation name and these variables.
    pub fn get(
        &self,
        text: &str,
        operation_name: Option<&str>,
        variables: &Variables,
    ) -> Option<(ExecutableDocument, bool)> {
        let (document, valid) = {
            let parsed = self.lock();
            let kept = parsed.get(text)?;
            let valid = kept
                .valid_for
                .as_ref()
                .is_some_and(|(name, vars)| name.as_deref() == operation_name && vars == variables);
            (kept.document.clone(), valid)
        };
        Some((ExecutableDocument::clone(&document), valid))
    }

    /// Remembers that the kept document of this text passed validation with this operation
    /// name and these variables (unless they are too large to keep).
    pub fn passed(&self, text: &str, operation_name: Option<String>, variables: Variables) {
        let mut budget = (MAX_VARIABLE_VALUES, MAX_VARIABLE_TEXT);
        if !variables.values().all(|v| within(v, &mut budget)) {
            return;
        }
        if let Some(kept) = self.lock().get_mut(text) {
            kept.valid_for = Some((operation_name, variables));
        }
    }

    /// Whether a document of this text would be kept (it is not too long).
    pub fn would_keep(&self, text: &str) -> bool {
        text.len() <= MAX_TEXT
    }

    /// Keeps a document that parsed, unless its text is too long or it selects too many
    /// fields to keep.
    pub fn keep(&self, text: &str, document: &ExecutableDocument) {
        if !self.would_keep(text) || limits::tally(document).fields > MAX_FIELDS {
            return;
        }
        let document = Arc::new(document.clone());
        let mut parsed = self.lock();
        if parsed.len() >= CAPACITY {
            parsed.clear();
        }
        parsed.insert(
            text.into(),
            Kept {
                document,
                valid_for: None,
            },
        );
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Box<str>, Kept>> {
        // A panic while holding the lock leaves a map that is still whole.
        self.parsed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Whether a value fits what is left of the budget (values, bytes of text), taking its share.
fn within(value: &Value, budget: &mut (usize, usize)) -> bool {
    if budget.0 == 0 {
        return false;
    }
    budget.0 -= 1;
    let text = match value {
        Value::String(s) => s.len(),
        Value::Enum(name) => name.len(),
        Value::Binary(bytes) => bytes.len(),
        Value::List(items) => return items.iter().all(|v| within(v, budget)),
        Value::Object(map) => {
            return map
                .iter()
                .all(|(key, v)| match budget.1.checked_sub(key.len()) {
                    Some(left) => {
                        budget.1 = left;
                        within(v, budget)
                    }
                    None => false,
                })
        }
        Value::Null | Value::Number(_) | Value::Boolean(_) => 0,
    };
    match budget.1.checked_sub(text) {
        Some(left) => {
            budget.1 = left;
            true
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::parse_query;

    #[test]
    fn keeps_what_parsed_up_to_its_bounds_and_starts_again_when_full() {
        let documents = Documents::default();
        let none = Variables::default();
        let text = "{ organisations { nodes { id } } }";
        assert!(documents.get(text, None, &none).is_none());
        let doc = parse_query(text).expect("parses");
        documents.keep(text, &doc);
        let (again, valid) = documents.get(text, None, &none).expect("kept");
        assert!(!valid, "not validated yet");
        assert_eq!(format!("{again:?}"), format!("{doc:?}"));

        let long = format!("{{ {} }}", "a ".repeat(MAX_TEXT));
        documents.keep(&long, &parse_query(&long).expect("parses"));
        assert!(documents.get(&long, None, &none).is_none());

        let many = format!("{{ {} }}", "a ".repeat(MAX_FIELDS + 1));
        assert!(documents.would_keep(&many), "short enough");
        documents.keep(&many, &parse_query(&many).expect("parses"));
        assert!(
            documents.get(&many, None, &none).is_none(),
            "too many fields"
        );
        let enough = format!("{{ {} }}", "a ".repeat(MAX_FIELDS));
        documents.keep(&enough, &parse_query(&enough).expect("parses"));
        assert!(documents.get(&enough, None, &none).is_some());

        for n in 0..CAPACITY {
            let text = format!("{{ a{n} }}");
            documents.keep(&text, &parse_query(&text).expect("parses"));
            assert!(documents.len() <= CAPACITY);
        }
        assert!(documents.len() < CAPACITY, "full, so it started again");
        assert!(!documents.is_empty());
    }

    fn variables(json: serde_json::Value) -> Variables {
        Variables::from_json(json)
    }

    #[test]
    fn a_document_is_known_valid_only_for_the_operation_name_and_variables_it_passed_with() {
        let documents = Documents::default();
        let text = "query Page($first: Int) { organisations(first: $first) { nodes { id } } }";
        let first_5 = variables(serde_json::json!({ "first": 5 }));
        // Not kept: nothing is remembered.
        documents.passed(text, None, first_5.clone());
        assert!(documents.get(text, None, &first_5).is_none());

        documents.keep(text, &parse_query(text).expect("parses"));
        assert!(!documents.get(text, None, &first_5).expect("kept").1);
        documents.passed(text, None, first_5.clone());
        assert!(documents.get(text, None, &first_5).expect("kept").1);
        // Other variables, another operation name, or none: validated again.
        let first_x = variables(serde_json::json!({ "first": "x" }));
        assert!(!documents.get(text, None, &first_x).expect("kept").1);
        assert!(!documents.get(text, Some("Page"), &first_5).expect("kept").1);
        assert!(
            !documents
                .get(text, None, &Variables::default())
                .expect("kept")
                .1
        );
        // The last that passed is the one remembered.
        documents.passed(text, Some("Page".to_owned()), first_5.clone());
        assert!(documents.get(text, Some("Page"), &first_5).expect("kept").1);
        assert!(!documents.get(text, None, &first_5).expect("kept").1);

        // Variables too large to remember are validated every time.
        let many = variables(serde_json::json!({ "ids": vec![1; MAX_VARIABLE_VALUES] }));
        documents.passed(text, None, many.clone());
        assert!(!documents.get(text, None, &many).expect("kept").1);
        let long = variables(serde_json::json!({ "name": "a".repeat(MAX_VARIABLE_TEXT + 1) }));
        documents.passed(text, None, long.clone());
        assert!(!documents.get(text, None, &long).expect("kept").1);
        let enough = variables(serde_json::json!({ "name": "a".repeat(MAX_VARIABLE_TEXT) }));
        documents.passed(text, None, enough.clone());
        assert!(documents.get(text, None, &enough).expect("kept").1);
    }
}
