//! Objects whose fields are plain copies of the service's values, answered field after field.
//!
//! async-graphql answers an object by boxing one future per selected field and polling them
//! all together; for a page of 50 organisations that is 600 boxed futures, each with its own
//! task, for values that are already there. [`Plain`] wraps such an object: its GraphQL type
//! is the wrapped one (same name, same fields, same SDL), but it walks the selection in the
//! document's order and awaits each field in place. Wrap only objects whose fields do not
//! load: fields that wait on a data loader would then wait one after another instead of
//! together.
//!
//! In a written page (see [`ListsAsJson`]) each item writes its plain leaf fields itself
//! ([`WriteFields`], derived beside `SimpleObject`): the field's value goes straight from the
//! domain value into the answer, with no resolver and no `Value` between. Only the fields an
//! object declines (objects, and fields a resolver computes) go through `resolve_field`.
//!
//! A plain object inside a written item is written in place in one of two ways. An object the
//! item holds (`#[written(object)]`: an organisation's `contact`) is handed over by
//! [`WriteFields::field_object`] and written at once when its selection is plain leaves
//! (`write_object`); that is the common case, with no resolver at all. Any other plain object
//! a resolver answers at a field of a written item (an edge's `node`, or a held object whose
//! selection asks more than leaves) writes itself into the item's text through `WRITING`,
//! with its own objects and computed fields resolved as usual.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::pin::pin;

use async_graphql::indexmap::map::Entry;
use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{Field, Selection, SelectionSet};
use async_graphql::registry::Registry;
use async_graphql::{
    ContainerType, Context, ContextSelectionSet, Name, OutputType, Positioned, QueryPathSegment,
    ServerError, ServerResult, Value,
};

use super::{IdConnection, IdCursor};
use crate::domain::json::write_str;
use crate::domain::written::WriteFields;

/// A plain object, answered without a future per field. See the module's note.
pub struct Plain<T>(pub T);

impl<T: ContainerType + WriteFields> OutputType for Plain<T> {
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
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        let fields = selected_fields(ctx, &self.0)?;
        // The value of a written object's field (an edge's `node` in a written page): nothing
        // will merge it, so it writes itself into its parent's answer, where the
        // parent left room for it, when its own keys are unique.
        // Not an item of a list at that field: the list's items are not written in place.
        let direct = matches!(
            ctx.path_node.as_ref().map(|node| &node.segment),
            Some(QueryPathSegment::Name(_))
        );
        let handed = WRITING
            .try_with(|w| {
                (direct && w.field == address(field)).then(|| (w.out.take(), w.keys.take()))
            })
            .ok()
            .flatten();
        if let Some((mut out, keys)) = handed {
            // Keys kept from an earlier item were unique: the selection is the same.
            let keys = keys.or_else(|| keys_unique(&fields).then(|| keys_of(&fields)));
            let written = match &keys {
                Some(keys) => {
                    Some(write_in_order(ctx, &self.0, &fields, Some(keys), None, &mut out).await)
                }
                None => None,
            };
            let handed_back = WRITING.try_with(|w| {
                w.out.replace(out);
                w.wrote.set(matches!(written, Some(Ok(()))));
                w.keys.replace(keys);
            });
            if handed_back.is_err() {
                return Err(ServerError::new("could not write the answer", None));
            }
            if let Some(written) = written {
                written?;
                return Ok(Value::Null);
            }
        }
        Ok(answer_in_order(ctx, &self.0, &fields).await)
    }
}

/// An edge writes none of its fields itself: its cursor is made on demand and its node is
/// an object.
impl<T: OutputType> WriteFields
    for async_graphql::connection::Edge<IdCursor, T, async_graphql::connection::EmptyFields>
{
    fn written_fields() -> Vec<&'static str> {
        Vec::new()
    }

    fn write_field(&self, _name: &str, _out: &mut Vec<u8>) -> bool {
        false
    }
}

/// What a written object hands to the plain object that answers one of its fields: the answer
/// written so far, for the object to write itself at its end, and the object's keys as
/// written, kept from one item of a page to the next.
struct Writing {
    /// The field, by its address in the document.
    field: usize,
    out: RefCell<Vec<u8>>,
    keys: RefCell<Option<Keys>>,
    /// Whether the object wrote itself (its value is then `Null`, and not to be written).
    wrote: Cell<bool>,
}

tokio::task_local! {
    /// The field a written object is answering now: a plain object that is the value of
    /// exactly that field may write itself as well, as its parent's keys are unique and its
    /// parent writes what it answers as it stands. Any other field (one of an object
    /// async-graphql answers, which merges keys asked twice) is not that field.
    static WRITING: Writing;
}

fn address(field: &Positioned<Field>) -> usize {
    std::ptr::from_ref(field) as usize
}

/// A Relay connection of plain objects. Its GraphQL type is async-graphql's `Connection` of
/// them (same names, same SDL), but it answers `nodes` and `edges` item after item, in place,
/// where async-graphql polls a future per item together; every field of every item is a plain
/// copy, so there is nothing to wait on together.
pub struct PlainConnection<T: ContainerType + WriteFields>(pub IdConnection<Plain<T>>);

impl<T: ContainerType + WriteFields> OutputType for PlainConnection<T> {
    fn type_name() -> Cow<'static, str> {
        IdConnection::<Plain<T>>::type_name()
    }

    fn qualified_type_name() -> String {
        IdConnection::<Plain<T>>::qualified_type_name()
    }

    fn introspection_type_name(&self) -> Cow<'static, str> {
        self.0.introspection_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        IdConnection::<Plain<T>>::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        let fields = selected_fields(ctx, self)?;
        // A list already written cannot be merged with the same key asked again.
        if ctx.data_opt::<ListsAsJson>().is_none() || !keys_unique(&fields) {
            return Ok(answer_in_order(ctx, self, &fields).await);
        }
        let edges = &self.0.edges;
        let mut results = IndexMap::with_capacity(fields.len());
        for field in fields {
            let ctx_field = ctx.with_field(field);
            let answer = match field.node.name.node.as_str() {
                "nodes" => written_list(&ctx_field, edges.iter().map(|e| &e.node.0)).await,
                "edges" => written_list(&ctx_field, edges.iter()).await,
                "__typename" => Ok(Some(Value::String(
                    self.introspection_type_name().into_owned(),
                ))),
                _ => self.0.resolve_field(&ctx_field).await,
            };
            match answer {
                Ok(value) => {
                    results.insert(
                        field.node.response_key().node.clone(),
                        value.unwrap_or_default(),
                    );
                }
                Err(error) => ctx.add_error(error),
            }
        }
        Ok(if results.is_empty() {
            Value::Null
        } else {
            Value::Object(results)
        })
    }
}

impl<T: ContainerType + WriteFields> ContainerType for PlainConnection<T> {
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

/// In a request's data, says that its door writes the answer with [`write_response`]: a
/// connection of plain objects then writes its `nodes` and `edges` as JSON while it answers
/// them, instead of building an object of its own per item for the door to write later (for a
/// page of 50, 50 maps, each key hashed and the whole tree dropped afterwards); a plain object
/// that is a field of a written item (an organisation's `contact`, an edge's `node`) is written
/// as well. The written text travels in the answer as a `Binary` value, which no type of this
/// schema otherwise produces (a test checks the SDL has no `Binary` scalar); a door that does
/// not put this in the request's data (subscriptions over WebSocket) gets the values as before.
pub struct ListsAsJson;

/// Whether no response key is asked twice, so each field's value can be written as it comes.
fn keys_unique(fields: &[&Positioned<Field>]) -> bool {
    fields.iter().enumerate().all(|(i, field)| {
        let key = field.node.response_key();
        fields[..i]
            .iter()
            .all(|f| f.node.response_key().node != key.node)
    })
}

fn json_error(error: serde_json::Error) -> ServerError {
    ServerError::new(format!("could not write the answer: {error}"), None)
}

/// Response keys as [`write_key`] writes them, one per field.
type Keys = Vec<Vec<u8>>;

fn keys_of(fields: &[&Positioned<Field>]) -> Keys {
    let key = |field: &&Positioned<Field>| {
        let mut key = Vec::new();
        write_key(&mut key, field.node.response_key().node.as_str());
        key
    };
    fields.iter().map(key).collect()
}

/// What the items of a written list ask, worked out from the first: the fields, their keys
/// when unique, and for each field the keys of the plain object answering it, if it wrote
/// itself.
struct Selected<'a> {
    fields: Vec<&'a Positioned<Field>>,
    keys: Option<Keys>,
    nested: Vec<Option<Keys>>,
}

/// A list of plain objects written as JSON, item after item: the value [`write_response`]
/// copies into the answer as it stands.
async fn written_list<'a, T: ContainerType + WriteFields + 'a>(
    ctx: &Context<'_>,
    items: impl ExactSizeIterator<Item = &'a T>,
) -> ServerResult<Option<Value>> {
    let set = ctx.with_selection_set(&ctx.item.node.selection_set);
    let count = items.len();
    // Room for the first item; once it is written, room for all of them at once (growing a
    // buffer sized for them all from the start would copy all of it).
    let mut out = Vec::with_capacity(512);
    out.push(b'[');
    let mut selected: Option<Selected> = None;
    for (index, item) in items.enumerate() {
        if index > 0 {
            out.push(b',');
        }
        let ctx_item = set.with_index(index);
        let selected = match &mut selected {
            Some(selected) => selected,
            None => {
                let fields =
                    selected_fields(&ctx_item, item).map_err(|e| ctx_item.set_error_path(e))?;
                let keys = keys_unique(&fields).then(|| keys_of(&fields));
                let nested = vec![None; fields.len()];
                selected.insert(Selected {
                    fields,
                    keys,
                    nested,
                })
            }
        };
        if let Some(keys) = &selected.keys {
            let nested = Some(selected.nested.as_mut_slice());
            write_in_order(
                &ctx_item,
                item,
                &selected.fields,
                Some(keys),
                nested,
                &mut out,
            )
            .await?;
        } else {
            let value = answer_in_order(&ctx_item, item, &selected.fields).await;
            write_value(&value, &mut out).map_err(json_error)?;
        }
        if index == 0 {
            // The others are about as long as the first: room for them all at once.
            let first = out.len();
            out.reserve(first * count + first * count / 8);
        }
    }
    out.push(b']');
    Ok(Some(Value::Binary(out.into())))
}

/// Writes a response key as JSON, with its colon. A key is a GraphQL name (`[_A-Za-z][_0-9A-Za-z]*`,
/// as the parser reads it), which needs no escaping; anything else is escaped all the same.
fn write_key(out: &mut Vec<u8>, key: &str) {
    if key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        out.reserve(key.len() + 3);
        out.push(b'"');
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(b"\":");
    } else {
        write_str(out, key);
        out.push(b':');
    }
}

/// [`answer_in_order`], writing each field's value as JSON as it comes; the keys are unique.
/// `keys`, when given, are the fields' keys as [`write_key`] writes them; `nested`, when
/// given, keeps for each field the keys of the plain object that answers it and writes itself.
async fn write_in_order<T: ContainerType + WriteFields>(
    ctx: &ContextSelectionSet<'_>,
    root: &T,
    fields: &[&Positioned<Field>],
    keys: Option<&[Vec<u8>]>,
    mut nested: Option<&mut [Option<Keys>]>,
    out: &mut Vec<u8>,
) -> ServerResult<()> {
    let start = out.len();
    let mut written = 0;
    for (i, field) in fields.iter().enumerate() {
        // The key goes first; a field that fails is taken out again.
        let mark = out.len();
        out.push(if written == 0 { b'{' } else { b',' });
        match keys.and_then(|keys| keys.get(i)) {
            Some(key) => out.extend_from_slice(key),
            None => write_key(out, field.node.response_key().node.as_str()),
        }
        let answer = if field.node.name.node == "__typename" {
            Ok(Some(Value::String(
                root.introspection_type_name().into_owned(),
            )))
        } else if field.node.selection_set.node.items.is_empty() {
            // A leaf (a scalar or an enum): written by the object itself when it is a plain
            // copy of its value, else answered by the resolver.
            if root.write_field(field.node.name.node.as_str(), out) {
                written += 1;
                continue;
            }
            root.resolve_field(&ctx.with_field(field)).await
        } else if root
            .field_object(field.node.name.node.as_str())
            .is_some_and(|object| write_object(object, &field.node.selection_set.node, out))
        {
            // A plain object the item holds, written in place.
            written += 1;
            continue;
        } else {
            let slot = nested.as_mut().and_then(|nested| nested.get_mut(i));
            let writing = Writing {
                field: address(field),
                out: RefCell::new(std::mem::take(out)),
                keys: RefCell::new(slot.and_then(Option::take)),
                wrote: Cell::new(false),
            };
            let ctx_field = ctx.with_field(field);
            let mut scoped = pin!(WRITING.scope(writing, root.resolve_field(&ctx_field)));
            let answer = scoped.as_mut().await;
            let Some(writing) = scoped.as_mut().take_value() else {
                return Err(ServerError::new("could not write the answer", None));
            };
            *out = writing.out.into_inner();
            if let Some(slot) = nested.as_mut().and_then(|nested| nested.get_mut(i)) {
                *slot = writing.keys.into_inner();
            }
            if writing.wrote.get() {
                // Written in place, after its key.
                written += 1;
                continue;
            }
            answer
        };
        match answer {
            Ok(value) => write_value(&value.unwrap_or_default(), out).map_err(json_error)?,
            Err(error) => {
                out.truncate(mark);
                ctx.add_error(error);
                continue;
            }
        }
        written += 1;
    }
    if written == 0 {
        out.truncate(start);
        out.extend_from_slice(b"null");
    } else {
        out.push(b'}');
    }
    Ok(())
}

/// Writes a plain object an item holds ([`WriteFields::field_object`]) with the fields `set`
/// asks, and says so; or writes nothing and declines when the set asks what only the resolver
/// answers rightly: a fragment, a directive (async-graphql has taken out `@skip` and
/// `@include` by now, as their variables say), an argument, a field of its own selection, a
/// key asked twice, or a field the object does not write (`__typename` among them).
fn write_object(object: &dyn WriteFields, set: &SelectionSet, out: &mut Vec<u8>) -> bool {
    let start = out.len();
    for (i, selection) in set.items.iter().enumerate() {
        let Selection::Field(field) = &selection.node else {
            out.truncate(start);
            return false;
        };
        let field = &field.node;
        let key = field.response_key();
        let asked_before = set.items[..i].iter().any(|earlier| {
            matches!(&earlier.node, Selection::Field(f) if f.node.response_key().node == key.node)
        });
        if asked_before
            || !field.directives.is_empty()
            || !field.arguments.is_empty()
            || !field.selection_set.node.items.is_empty()
        {
            out.truncate(start);
            return false;
        }
        out.push(if i == 0 { b'{' } else { b',' });
        write_key(out, key.node.as_str());
        if !object.write_field(field.name.node.as_str(), out) {
            out.truncate(start);
            return false;
        }
    }
    if set.items.is_empty() {
        return false;
    }
    out.push(b'}');
    true
}

/// Writes a response as async-graphql's `Serialize` does (`data`, then `extensions` and
/// `errors` when there are any), copying the lists written by [`written_list`] as they stand.
pub fn write_response(
    response: &async_graphql::Response,
    out: &mut Vec<u8>,
) -> serde_json::Result<()> {
    out.reserve(written_len(&response.data) + 256);
    out.extend_from_slice(b"{\"data\":");
    write_value(&response.data, out)?;
    if !response.extensions.is_empty() {
        out.extend_from_slice(b",\"extensions\":");
        serde_json::to_writer(&mut *out, &response.extensions)?;
    }
    if !response.errors.is_empty() {
        out.extend_from_slice(b",\"errors\":");
        serde_json::to_writer(&mut *out, &response.errors)?;
    }
    out.push(b'}');
    Ok(())
}

/// The length of the lists already written in a value, which [`write_value`] copies.
fn written_len(value: &Value) -> usize {
    match value {
        Value::Binary(written) => written.len(),
        Value::List(items) => items.iter().map(written_len).sum(),
        Value::Object(map) => map.values().map(written_len).sum(),
        _ => 0,
    }
}

fn write_value(value: &Value, out: &mut Vec<u8>) -> serde_json::Result<()> {
    match value {
        Value::Binary(written) => out.extend_from_slice(written),
        Value::List(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(item, out)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            out.push(b'{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_str(out, key.as_str());
                out.push(b':');
                write_value(item, out)?;
            }
            out.push(b'}');
        }
        Value::String(text) => write_str(out, text),
        Value::Enum(name) => write_str(out, name),
        Value::Null => out.extend_from_slice(b"null"),
        Value::Boolean(yes) => out.extend_from_slice(if *yes { b"true" } else { b"false" }),
        other => serde_json::to_writer(&mut *out, other)?,
    }
    Ok(())
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
    let mut fields = Vec::with_capacity(ctx.item.node.items.len());
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

#[cfg(test)]
mod tests {
    use async_graphql::{ErrorExtensionValues, Name, Pos, Response, ServerError, Value};

    use super::{write_key, write_response};

    #[test]
    fn a_key_is_written_as_serde_json_writes_it() {
        for key in ["id", "_a9", "createdAt", "", "a\"b", "a\\b", "é", "a\nb"] {
            let mut ours = Vec::new();
            write_key(&mut ours, key);
            let theirs = format!("{}:", serde_json::to_string(key).unwrap_or_default());
            assert_eq!(String::from_utf8_lossy(&ours), theirs, "{key:?}");
        }
    }

    #[test]
    fn writes_a_response_as_serde_does_and_a_written_list_as_it_stands() {
        let mut object = async_graphql::indexmap::IndexMap::new();
        object.insert(
            Name::new("name"),
            Value::String("Alder \"Voices\"\n".into()),
        );
        object.insert(
            Name::new("kinds"),
            Value::List(vec![Value::Enum(Name::new("PROVIDER"))]),
        );
        object.insert(Name::new("version"), Value::Number(3.into()));
        object.insert(Name::new("ratio"), Value::from(0.5));
        object.insert(Name::new("none"), Value::Null);
        object.insert(Name::new("yes"), Value::Boolean(true));
        let mut data = async_graphql::indexmap::IndexMap::new();
        data.insert(Name::new("organisation"), Value::Object(object));
        data.insert(Name::new("empty"), Value::List(vec![]));
        let mut response = Response::new(Value::Object(data));
        let mut error = ServerError::new("refused", Some(Pos { line: 1, column: 3 }));
        let mut extensions = ErrorExtensionValues::default();
        extensions.set("code", "forbidden");
        error.extensions = Some(extensions);
        response.errors.push(error);
        response
            .extensions
            .insert("cost".to_owned(), Value::Number(7.into()));

        let mut written = Vec::new();
        write_response(&response, &mut written).expect("written");
        assert_eq!(
            String::from_utf8(written).expect("utf-8"),
            serde_json::to_string(&response).expect("serde")
        );

        let listed = Response::new(Value::List(vec![
            Value::Binary(br#"[{"id":"a"},{"id":"b"}]"#.to_vec().into()),
            Value::Null,
        ]));
        let mut written = Vec::new();
        write_response(&listed, &mut written).expect("written");
        assert_eq!(written, br#"{"data":[[{"id":"a"},{"id":"b"}],null]}"#);
    }

    /// The SDL's fields of an object type: (name, base type name, takes arguments).
    fn sdl_fields(sdl: &str, type_name: &str) -> Vec<(String, String, bool)> {
        let start = format!("type {type_name} ");
        let block = sdl
            .split("\n}\n")
            .find_map(|b| b.split_once(&start).map(|(_, rest)| rest.to_owned()))
            .unwrap_or_default();
        let mut fields = Vec::new();
        // Fields sit one tab in, as `name: Type` or `name(arguments): Type`; descriptions
        // are in quotes.
        let mut described = false;
        for line in block
            .lines()
            .filter(|l| l.starts_with('\t') && !l.starts_with("\t\t"))
        {
            let line = line.trim();
            if let Some(rest) = line.strip_prefix("\"\"\"") {
                // A description on one line closes where it opens.
                if !rest.ends_with("\"\"\"") {
                    described = !described;
                }
                continue;
            }
            if described {
                continue;
            }
            let Some(first) = line.chars().next() else {
                continue;
            };
            if !(first.is_ascii_alphabetic() || first == '_') {
                continue;
            }
            let name_end = line.find([':', '(']).unwrap_or(line.len());
            let Some((_, ty)) = line.rsplit_once(": ") else {
                continue;
            };
            let base: String = ty
                .chars()
                .filter(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            fields.push((
                line[..name_end].to_owned(),
                base,
                line[..name_end + 1].ends_with('('),
            ));
        }
        fields
    }

    /// The fields each plain object writes itself are fields of its GraphQL type, and every
    /// scalar or enum field of the type is among them, but those a resolver computes.
    #[test]
    fn plain_objects_write_every_plain_leaf_of_their_type() {
        use async_graphql::OutputType;

        use crate::domain::written::WriteFields;

        let sdl = crate::graphql::sdl_of(&crate::graphql::build_schema(None));
        let is_leaf = |base: &str| {
            ["String", "Int", "Float", "Boolean", "ID"].contains(&base)
                || sdl.contains(&format!("\nscalar {base}\n"))
                || sdl.contains(&format!("\nenum {base} {{"))
        };
        // Answered by a resolver of their own, on purpose.
        let computed: &[(&str, &str)] = &[("Event", "data")];
        let mut checked = 0;
        let mut check = |type_name: std::borrow::Cow<'static, str>, written: &[&str]| {
            let fields = sdl_fields(&sdl, &type_name);
            assert!(!fields.is_empty(), "no type {type_name} in the SDL");
            for name in written {
                assert!(
                    fields.iter().any(|(f, base, _)| f == name && is_leaf(base)),
                    "{type_name} writes {name}, which is not one of its leaf fields"
                );
            }
            for (name, base, takes_arguments) in &fields {
                if is_leaf(base) && !takes_arguments && !computed.contains(&(&*type_name, name)) {
                    assert!(
                        written.contains(&name.as_str()),
                        "{type_name}.{name} is not written by the object"
                    );
                }
            }
            checked += 1;
        };
        macro_rules! each {
            ($($t:ty),+ $(,)?) => {$(
                check(<$t as OutputType>::type_name(), &<$t as WriteFields>::written_fields());
            )+};
        }
        use crate::domain::{
            api_client::ApiClient,
            claim::Claim,
            contact::{AccessLogEntry, DirectoryEntry},
            contract::Contract,
            event::Event,
            feedback::{Evaluation, FeedbackItem, SelfAssessment},
            glossary::GlossaryTerm,
            organisation::{Organisation, OrganisationContact},
            payment_policy::PaymentPolicy,
            session::{Attendance, Decision},
            webhook::{WebhookAttempt, WebhookDelivery, WebhookEndpoint},
        };
        each!(
            ApiClient,
            Claim,
            AccessLogEntry,
            DirectoryEntry,
            Contract,
            Event,
            Evaluation,
            FeedbackItem,
            SelfAssessment,
            GlossaryTerm,
            Organisation,
            OrganisationContact,
            PaymentPolicy,
            Attendance,
            Decision,
            WebhookAttempt,
            WebhookDelivery,
            WebhookEndpoint,
        );
        assert_eq!(checked, 18);
    }

    /// A `Binary` value is copied into the answer as written JSON, so no type may produce one.
    #[test]
    fn no_type_of_the_schema_answers_with_binary() {
        let sdl = crate::graphql::sdl_of(&crate::graphql::build_schema(None));
        assert!(sdl.contains("type OrganisationConnection"));
        assert!(!sdl.contains("scalar Binary"), "a Binary scalar in the SDL");
        assert!(
            !sdl.contains("scalar Upload"),
            "an Upload scalar in the SDL"
        );
    }
}
