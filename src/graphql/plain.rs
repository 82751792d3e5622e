//! Objects whose fields are plain copies of the service's values, answered field after field.
//!
//! async-graphql answers an object by boxing one future per selected field and polling them
//! all together; for a page of 50 organisations that is 600 boxed futures, each with its own
//! task, for values that are already there. [`Plain`] wraps such an object: its GraphQL type
//! is the wrapped one (same name, same fields, same SDL), but it walks the selection in the
//! document's order and awaits each field in place. Wrap only objects whose fields do not
//! load: fields that wait on a data loader would then wait one after another instead of
//! together.

use std::borrow::Cow;

use async_graphql::connection::Connection;
use async_graphql::indexmap::map::Entry;
use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{Field, Selection, SelectionSet};
use async_graphql::registry::Registry;
use async_graphql::{
    ContainerType, Context, ContextSelectionSet, Name, OutputType, Positioned, ServerError,
    ServerResult, Value,
};

/// A plain object, answered without a future per field. See the module's note.
pub struct Plain<T>(pub T);

impl<T: ContainerType> OutputType for Plain<T> {
    fn type_name() -> Cow<'static, str> {
        T::type_name()
    }

    fn qualified_type_name() -> String {
        T::qualified_type_name()
    }

    fn introspection_type_name(&self) -> Cow<'static, str> {
        self.0.introspection_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        T::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        resolve_in_order(ctx, &self.0).await
    }
}

/// A Relay connection of plain objects. Its GraphQL type is async-graphql's `Connection` of
/// them (same names, same SDL), but it answers `nodes` and `edges` item after item, in place,
/// where async-graphql polls a future per item together; every field of every item is a plain
/// copy, so there is nothing to wait on together.
pub struct PlainConnection<T: ContainerType>(pub Connection<String, Plain<T>>);

impl<T: ContainerType> OutputType for PlainConnection<T> {
    fn type_name() -> Cow<'static, str> {
        Connection::<String, Plain<T>>::type_name()
    }

    fn qualified_type_name() -> String {
        Connection::<String, Plain<T>>::qualified_type_name()
    }

    fn introspection_type_name(&self) -> Cow<'static, str> {
        self.0.introspection_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        Connection::<String, Plain<T>>::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        resolve_in_order(ctx, self).await
    }
}

impl<T: ContainerType> ContainerType for PlainConnection<T> {
    async fn resolve_field(&self, ctx: &Context<'_>) -> ServerResult<Option<Value>> {
        let edges = &self.0.edges;
        match ctx.item.node.name.node.as_str() {
            "nodes" => list_in_order(ctx, edges.iter().map(|e| &e.node.0)).await,
            "edges" => list_in_order(ctx, edges.iter()).await,
            _ => self.0.resolve_field(ctx).await,
        }
    }
}

/// A list field whose items are plain objects, each answered in place. Its items are of one
/// type and share one selection, so the fields it asks are worked out once, from the first.
async fn list_in_order<'a, T: ContainerType + 'a>(
    ctx: &Context<'_>,
    items: impl ExactSizeIterator<Item = &'a T>,
) -> ServerResult<Option<Value>> {
    let set = ctx.with_selection_set(&ctx.item.node.selection_set);
    let mut values = Vec::with_capacity(items.len());
    let mut fields = None;
    for (index, item) in items.enumerate() {
        let ctx_item = set.with_index(index);
        let fields = match &mut fields {
            Some(fields) => fields,
            None => fields
                .insert(selected_fields(&ctx_item, item).map_err(|e| ctx_item.set_error_path(e))?),
        };
        values.push(answer_in_order(&ctx_item, item, fields).await);
    }
    Ok(Some(Value::List(values)))
}

/// The object's selected fields, resolved one after another.
async fn resolve_in_order<T: ContainerType>(
    ctx: &ContextSelectionSet<'_>,
    root: &T,
) -> ServerResult<Value> {
    let fields = selected_fields(ctx, root)?;
    Ok(answer_in_order(ctx, root, &fields).await)
}

/// Answers `fields` of `root` one after another. A field's error is recorded and the field
/// left out, as async-graphql does for its own objects.
async fn answer_in_order<T: ContainerType>(
    ctx: &ContextSelectionSet<'_>,
    root: &T,
    fields: &[&Positioned<Field>],
) -> Value {
    let mut results = IndexMap::with_capacity(fields.len());
    for field in fields {
        let key = field.node.response_key().node.clone();
        if field.node.name.node == "__typename" {
            let name = root.introspection_type_name().into_owned();
            insert_value(&mut results, key, Value::String(name));
            continue;
        }
        match root.resolve_field(&ctx.with_field(field)).await {
            Ok(value) => insert_value(&mut results, key, value.unwrap_or_default()),
            Err(error) => ctx.add_error(error),
        }
    }
    if results.is_empty() {
        Value::Null
    } else {
        Value::Object(results)
    }
}

/// Fragments nest at most this deep here; validation has already refused cycles.
const MAX_FRAGMENT_NESTING: usize = 32;

/// The fields the context's selection set asks of `root`, in the document's order.
fn selected_fields<'a, T: ContainerType>(
    ctx: &ContextSelectionSet<'a>,
    root: &T,
) -> ServerResult<Vec<&'a Positioned<Field>>> {
    let mut fields = Vec::new();
    collect(ctx, root, &ctx.item.node, &mut fields, 0)?;
    Ok(fields)
}

/// The fields a selection set asks of `root`, with those of the fragments that apply to it.
/// (A field's context depends only on where the object is answered, not on the fragment it
/// was written in, so only the fields are kept.)
fn collect<'a, T: ContainerType>(
    ctx: &ContextSelectionSet<'a>,
    root: &T,
    set: &'a SelectionSet,
    out: &mut Vec<&'a Positioned<Field>>,
    nesting: usize,
) -> ServerResult<()> {
    for selection in &set.items {
        let (condition, inner) = match &selection.node {
            Selection::Field(field) => {
                out.push(field);
                continue;
            }
            Selection::FragmentSpread(spread) => {
                let name = &spread.node.fragment_name.node;
                let fragment = ctx.query_env.fragments.get(name).ok_or_else(|| {
                    ServerError::new(format!(r#"Unknown fragment "{name}"."#), Some(spread.pos))
                })?;
                (
                    Some(fragment.node.type_condition.node.on.node.as_str()),
                    &fragment.node.selection_set,
                )
            }
            Selection::InlineFragment(fragment) => (
                fragment
                    .node
                    .type_condition
                    .as_ref()
                    .map(|c| c.node.on.node.as_str()),
                &fragment.node.selection_set,
            ),
        };
        if nesting >= MAX_FRAGMENT_NESTING {
            return Err(ServerError::new(
                "fragments nest too deeply",
                Some(selection.pos),
            ));
        }
        let own = root.introspection_type_name();
        let applies = condition.is_none_or(|on| {
            own == on
                || T::type_name() == on
                || ctx
                    .schema_env
                    .registry
                    .implements
                    .get(&*own)
                    .is_some_and(|interfaces| interfaces.contains(on))
        });
        if applies {
            collect(ctx, root, &inner.node, out, nesting + 1)?;
        }
    }
    Ok(())
}

/// Adds a field's value under its response key; a key asked twice (`contact { name }
/// contact { email }`) has its objects merged, as the GraphQL specification says.
fn insert_value(target: &mut IndexMap<Name, Value>, name: Name, value: Value) {
    // One lookup: the key is hashed once whether it is new or asked again.
    match target.entry(name) {
        Entry::Vacant(vacant) => {
            vacant.insert(value);
        }
        Entry::Occupied(mut occupied) => match (occupied.get_mut(), value) {
            (Value::Object(existing), Value::Object(more)) => {
                for (key, value) in more {
                    insert_value(existing, key, value);
                }
            }
            (Value::List(existing), Value::List(more)) => {
                for (item, value) in existing.iter_mut().zip(more) {
                    if let (Value::Object(item), Value::Object(value)) = (item, value) {
                        for (key, value) in value {
                            insert_value(item, key, value);
                        }
                    }
                }
            }
            _ => {}
        },
    }
}
