//! Limits on what one GraphQL document may ask, beyond depth and complexity (which the schema
//! checks): how many fields it renames with an alias. `POST /graphql` checks it on the document
//! it has parsed; subscriptions through the [`AliasLimit`] extension, which only their schema
//! carries (an extension puts every field of every answer through its hooks). Aliases let one
//! document ask the same field many times over, which the complexity estimate prices only one
//! field at a time.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{ServerError, ServerResult, Variables};

/// Most aliased fields one document may hold (a front end renaming what it shows needs a few).
pub const MAX_ALIASES: usize = 30;
/// Most operations one batched request may carry.
pub const MAX_BATCH: usize = 10;

pub struct AliasLimit;

impl ExtensionFactory for AliasLimit {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(AliasLimitExtension)
    }
}

struct AliasLimitExtension;

#[async_graphql::async_trait::async_trait]
impl Extension for AliasLimitExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        check_aliases(&document)?;
        Ok(document)
    }
}

/// Refuses a document that renames more than [`MAX_ALIASES`] fields.
pub fn check_aliases(document: &ExecutableDocument) -> ServerResult<()> {
    let aliases = count_aliases(document);
    if aliases > MAX_ALIASES {
        return Err(ServerError::new(
            format!("the document renames {aliases} fields with aliases; at most {MAX_ALIASES} are accepted"),
            None,
        ));
    }
    Ok(())
}

/// Aliased fields in every operation and fragment of the document, each counted where it is
/// written (the complexity limit prices fragments where they are spread).
pub fn count_aliases(document: &ExecutableDocument) -> usize {
    tally(document).aliases
}

/// What a document selects, each field counted where it is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    /// Fields selected, in every operation and fragment.
    pub fields: usize,
    /// Of those, the fields renamed with an alias.
    pub aliases: usize,
}

/// Counts the fields of every operation and fragment of the document.
pub fn tally(document: &ExecutableDocument) -> Tally {
    // A stack rather than recursion: this runs before the depth limits are checked, on
    // documents nested as deep as the parser allows.
    let mut sets: Vec<&SelectionSet> = document
        .operations
        .iter()
        .map(|(_, op)| &op.node.selection_set.node)
        .chain(
            document
                .fragments
                .values()
                .map(|f| &f.node.selection_set.node),
        )
        .collect();
    let mut tally = Tally {
        fields: 0,
        aliases: 0,
    };
    while let Some(set) = sets.pop() {
        for item in &set.items {
            match &item.node {
                Selection::Field(f) => {
                    tally.fields += 1;
                    tally.aliases += usize::from(f.node.alias.is_some());
                    sets.push(&f.node.selection_set.node);
                }
                Selection::InlineFragment(i) => sets.push(&i.node.selection_set.node),
                Selection::FragmentSpread(_) => {}
            }
        }
    }
    tally
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_are_counted_in_operations_fragments_and_nested_fields() {
        let doc = async_graphql::parser::parse_query(
            "query A { a: x { b: y z } ...F ... on Q { c: w } } query B { d: x } fragment F on Q { e: v f: u }",
        )
        .expect("parses");
        assert_eq!(count_aliases(&doc), 6);
        assert_eq!(
            tally(&doc),
            Tally {
                fields: 7,
                aliases: 6
            }
        );
        let none = async_graphql::parser::parse_query("{ x { y } }").expect("parses");
        assert_eq!(count_aliases(&none), 0);
    }
}
