//! Documents parsed before, kept by their text. A client sends the same few documents over and
//! over (a dashboard's list, a front end's screens), and parsing one costs more than copying
//! its parsed form. Only documents of callers with a valid token are kept (`POST /graphql`
//! keeps one after the token is checked), and the cache is bounded in entries, in the length of
//! a document's text and in the fields it selects (a parsed field takes a few hundred bytes,
//! so a short text of many one-letter fields would otherwise grow a hundredfold). When it is
//! full it starts again, so a stream of new documents only makes it miss.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_graphql::parser::types::ExecutableDocument;

use super::limits;

/// Distinct documents kept at once.
pub const CAPACITY: usize = 64;
/// Longest document text kept, in bytes; longer ones are parsed every time.
pub const MAX_TEXT: usize = 4 * 1024;
/// Most fields a kept document selects, counted where they are written.
pub const MAX_FIELDS: usize = 256;

#[derive(Default)]
pub struct Documents {
    parsed: Mutex<HashMap<Box<str>, Arc<ExecutableDocument>>>,
}

impl Documents {
    /// The document parsed before from this text, if it is kept.
    pub fn get(&self, text: &str) -> Option<ExecutableDocument> {
        let kept = self.lock().get(text).cloned()?;
        Some(ExecutableDocument::clone(&kept))
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
        parsed.insert(text.into(), document);
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Box<str>, Arc<ExecutableDocument>>> {
        // A panic while holding the lock leaves a map that is still whole.
        self.parsed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::parse_query;

    #[test]
    fn keeps_what_parsed_up_to_its_bounds_and_starts_again_when_full() {
        let documents = Documents::default();
        let text = "{ organisations { nodes { id } } }";
        assert!(documents.get(text).is_none());
        let doc = parse_query(text).expect("parses");
        documents.keep(text, &doc);
        let again = documents.get(text).expect("kept");
        assert_eq!(format!("{again:?}"), format!("{doc:?}"));

        let long = format!("{{ {} }}", "a ".repeat(MAX_TEXT));
        documents.keep(&long, &parse_query(&long).expect("parses"));
        assert!(documents.get(&long).is_none());

        let many = format!("{{ {} }}", "a ".repeat(MAX_FIELDS + 1));
        assert!(documents.would_keep(&many), "short enough");
        documents.keep(&many, &parse_query(&many).expect("parses"));
        assert!(documents.get(&many).is_none(), "too many fields");
        let enough = format!("{{ {} }}", "a ".repeat(MAX_FIELDS));
        documents.keep(&enough, &parse_query(&enough).expect("parses"));
        assert!(documents.get(&enough).is_some());

        for n in 0..CAPACITY {
            let text = format!("{{ a{n} }}");
            documents.keep(&text, &parse_query(&text).expect("parses"));
            assert!(documents.len() <= CAPACITY);
        }
        assert!(documents.len() < CAPACITY, "full, so it started again");
        assert!(!documents.is_empty());
    }
}
