//! Values written straight into a GraphQL answer as JSON, as async-graphql would answer them.
//!
//! async-graphql answers each field of an object by a resolver that turns the value into a
//! `Value` (a new string for every id, time and name) which the door then writes. For the
//! objects GraphQL answers page after page, that was most of the difference between GraphQL's
//! and REST's cost. An object that derives [`WriteFields`] (`coproduce_macros::WriteFields`,
//! beside `async_graphql::SimpleObject`, from the same `#[graphql(...)]` attributes) writes
//! its plain fields itself; the GraphQL door asks it first, and answers with the resolver any
//! field the object declines. Each leaf type writes exactly the text its GraphQL type's value
//! has (a test compares every field of every such object with async-graphql's answer).

use std::io::Write as _;

use chrono::NaiveDate;

use super::json::write_str;
use super::time::Rfc3339;
use super::{EnumList, GraphqlName};

/// A leaf value (a scalar, an enum, or a list or option of them), written as the JSON of the
/// value async-graphql answers for it.
pub trait WriteLeaf {
    fn write_leaf(&self, out: &mut Vec<u8>);
}

/// The derive, under the trait's name (as serde's derives are): a plain object says
/// `#[derive(SimpleObject, WriteFields)]` with this module's `WriteFields` in scope.
pub use coproduce_macros::WriteFields;

/// An object that writes its plain fields itself. Derived (the derive above).
pub trait WriteFields {
    /// The GraphQL names of the fields it writes (the others it declines).
    fn written_fields() -> Vec<&'static str>
    where
        Self: Sized;

    /// Writes the value of the field GraphQL calls `name` and says so, or declines (`false`)
    /// and writes nothing: the field is not a plain leaf of this object.
    fn write_field(&self, name: &str, out: &mut Vec<u8>) -> bool;

    /// The plain object that GraphQL's field `name` answers, when the object says so
    /// (`#[written(object)]` on a field the door answers as a plain copy of it): a written
    /// answer then writes that object's fields in place, as it writes this object's own.
    fn field_object(&self, _name: &str) -> Option<&dyn WriteFields> {
        None
    }
}

impl<T: WriteFields> WriteFields for &T {
    fn written_fields() -> Vec<&'static str> {
        T::written_fields()
    }

    fn write_field(&self, name: &str, out: &mut Vec<u8>) -> bool {
        (**self).write_field(name, out)
    }

    fn field_object(&self, name: &str) -> Option<&dyn WriteFields> {
        (**self).field_object(name)
    }
}

/// A field's value, for the derive to ask whether it can be written ([`Writes`]) or not
/// ([`Declines`]): method lookup tries `Leaf<T>` (a leaf) before `&Leaf<T>` (anything else),
/// so a field of a type with no JSON writer, such as an object, declines instead of failing
/// to compile.
#[doc(hidden)]
pub struct Leaf<'a, T: ?Sized>(pub &'a T);

#[doc(hidden)]
pub trait Writes {
    fn write_leaf_or_decline(&self, out: &mut Vec<u8>) -> bool;
}

impl<T: WriteLeaf + ?Sized> Writes for Leaf<'_, T> {
    fn write_leaf_or_decline(&self, out: &mut Vec<u8>) -> bool {
        self.0.write_leaf(out);
        true
    }
}

#[doc(hidden)]
pub trait Declines {
    fn write_leaf_or_decline(&self, out: &mut Vec<u8>) -> bool;
}

impl<T: ?Sized> Declines for &Leaf<'_, T> {
    fn write_leaf_or_decline(&self, _out: &mut Vec<u8>) -> bool {
        false
    }
}

/// A field's type, for the derive to ask whether it is a leaf it can write, as [`Leaf`] does.
#[doc(hidden)]
pub struct Probe<T: ?Sized>(std::marker::PhantomData<fn() -> T>);

impl<T: ?Sized> Probe<T> {
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Self(std::marker::PhantomData)
    }
}

#[doc(hidden)]
pub trait IsLeaf {
    fn is_leaf(&self) -> bool;
}

impl<T: WriteLeaf + ?Sized> IsLeaf for Probe<T> {
    fn is_leaf(&self) -> bool {
        true
    }
}

#[doc(hidden)]
pub trait IsNotLeaf {
    fn is_leaf(&self) -> bool;
}

impl<T: ?Sized> IsNotLeaf for &Probe<T> {
    fn is_leaf(&self) -> bool {
        false
    }
}

/// A GraphQL name (an enum value's), which needs no escaping, quoted.
pub(crate) fn write_name(out: &mut Vec<u8>, name: &str) {
    out.reserve(name.len() + 2);
    out.push(b'"');
    out.extend_from_slice(name.as_bytes());
    out.push(b'"');
}

impl WriteLeaf for str {
    fn write_leaf(&self, out: &mut Vec<u8>) {
        write_str(out, self);
    }
}

impl WriteLeaf for String {
    fn write_leaf(&self, out: &mut Vec<u8>) {
        write_str(out, self);
    }
}

impl WriteLeaf for bool {
    fn write_leaf(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(if *self { b"true" } else { b"false" });
    }
}

macro_rules! write_integers {
    ($($t:ty),+) => {$(
        impl WriteLeaf for $t {
            fn write_leaf(&self, out: &mut Vec<u8>) {
                // Writing into a Vec cannot fail.
                let _ = write!(out, "{self}");
            }
        }
    )+};
}

write_integers!(i32, i64, u32);

impl<T: WriteLeaf> WriteLeaf for Option<T> {
    fn write_leaf(&self, out: &mut Vec<u8>) {
        match self {
            Some(value) => value.write_leaf(out),
            None => out.extend_from_slice(b"null"),
        }
    }
}

impl<T: WriteLeaf> WriteLeaf for Vec<T> {
    fn write_leaf(&self, out: &mut Vec<u8>) {
        out.push(b'[');
        for (i, value) in self.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            value.write_leaf(out);
        }
        out.push(b']');
    }
}

impl<T: GraphqlName + Copy> WriteLeaf for EnumList<T> {
    fn write_leaf(&self, out: &mut Vec<u8>) {
        write_enum_list(&self.0, out);
    }
}

/// A leaf derived from a field (`derived(into = …)`), written from the field as it stands,
/// without making the leaf (for an enum list, a copy of the field's `Vec`).
pub trait WriteFrom<F: ?Sized> {
    fn write_from(field: &F, out: &mut Vec<u8>);
}

impl<T: GraphqlName + Copy> WriteFrom<Vec<T>> for EnumList<T> {
    fn write_from(field: &Vec<T>, out: &mut Vec<u8>) {
        write_enum_list(field, out);
    }
}

impl WriteFrom<chrono::DateTime<chrono::Utc>> for Rfc3339 {
    fn write_from(field: &chrono::DateTime<chrono::Utc>, out: &mut Vec<u8>) {
        Rfc3339(*field).write_json(out);
    }
}

/// A derived field, for the derive to ask whether its leaf `L` is written from it as it
/// stands ([`WritesFrom`], when `L: WriteFrom<F>`); if not ([`NotWrittenFrom`]), the derive
/// makes the leaf from a copy of the field, as `SimpleObject` does, and writes that.
#[doc(hidden)]
pub struct DerivedFrom<'a, L, F: ?Sized>(pub &'a F, pub std::marker::PhantomData<fn() -> L>);

#[doc(hidden)]
pub trait WritesFrom {
    fn write_from_field(&self, out: &mut Vec<u8>) -> bool;
}

impl<L: WriteFrom<F>, F: ?Sized> WritesFrom for DerivedFrom<'_, L, F> {
    fn write_from_field(&self, out: &mut Vec<u8>) -> bool {
        L::write_from(self.0, out);
        true
    }
}

#[doc(hidden)]
pub trait NotWrittenFrom {
    fn write_from_field(&self, out: &mut Vec<u8>) -> bool;
}

impl<L, F: ?Sized> NotWrittenFrom for &DerivedFrom<'_, L, F> {
    fn write_from_field(&self, _out: &mut Vec<u8>) -> bool {
        false
    }
}

fn write_enum_list<T: GraphqlName + Copy>(values: &[T], out: &mut Vec<u8>) {
    out.push(b'[');
    for (i, value) in values.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_name(out, &value.graphql_name());
    }
    out.push(b']');
}

impl WriteLeaf for Rfc3339 {
    fn write_leaf(&self, out: &mut Vec<u8>) {
        self.write_json(out);
    }
}

/// async-graphql's `NaiveDate` scalar: `%Y-%m-%d`.
impl WriteLeaf for NaiveDate {
    fn write_leaf(&self, out: &mut Vec<u8>) {
        out.push(b'"');
        // Writing into a Vec cannot fail.
        let _ = write!(out, "{}", self.format("%Y-%m-%d"));
        out.push(b'"');
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::{OutputType, ScalarType, Value};
    use chrono::{DateTime, NaiveDate, Utc};

    use super::WriteLeaf;
    use crate::domain::id::OrganisationId;
    use crate::domain::organisation::OrganisationKind;
    use crate::domain::time::Rfc3339;
    use crate::domain::EnumList;

    fn written(value: &impl WriteLeaf) -> serde_json::Value {
        let mut out = Vec::new();
        value.write_leaf(&mut out);
        serde_json::from_slice(&out)
            .unwrap_or_else(|e| panic!("not JSON: {e}: {}", String::from_utf8_lossy(&out)))
    }

    fn json(value: Value) -> serde_json::Value {
        value.into_json().expect("JSON")
    }

    /// Each leaf type writes the JSON of the value async-graphql makes of it.
    #[test]
    fn leaves_are_written_as_async_graphql_answers_them() {
        let id = OrganisationId::new();
        assert_eq!(written(&id), json(ScalarType::to_value(&id)));
        assert_eq!(written(&Some(id)), json(ScalarType::to_value(&id)));
        assert_eq!(written(&None::<OrganisationId>), serde_json::Value::Null);
        for text in ["Alder \"Voices\"\n\u{1}", "", "café 🌱"] {
            assert_eq!(written(&text.to_owned()), json(Value::from(text)));
        }
        for n in [i64::MIN, -1, 0, 7, i64::MAX] {
            assert_eq!(written(&n), json(Value::from(n)));
        }
        for n in [i32::MIN, 0, i32::MAX] {
            assert_eq!(written(&n), json(Value::from(n)));
        }
        assert_eq!(written(&true), json(Value::from(true)));
        assert_eq!(written(&false), json(Value::from(false)));
        for kind in OrganisationKind::ALL {
            assert_eq!(
                written(&kind),
                json(async_graphql::resolver_utils::enum_value(kind))
            );
        }
        let kinds = EnumList(OrganisationKind::ALL.to_vec());
        let names: Vec<serde_json::Value> = OrganisationKind::ALL
            .iter()
            .map(|k| json(async_graphql::resolver_utils::enum_value(*k)))
            .collect();
        assert_eq!(written(&kinds), serde_json::Value::Array(names));
        assert_eq!(
            written(&EnumList::<OrganisationKind>(vec![])),
            serde_json::json!([])
        );
        for date in [
            NaiveDate::from_ymd_opt(2026, 12, 6),
            NaiveDate::from_ymd_opt(1, 1, 1),
            NaiveDate::from_ymd_opt(12_345, 6, 7),
            NaiveDate::from_ymd_opt(-44, 3, 15),
        ]
        .into_iter()
        .flatten()
        {
            assert_eq!(written(&date), json(ScalarType::to_value(&date)), "{date}");
        }
        for t in [
            DateTime::<Utc>::from_timestamp(1_700_000_000, 123_456_000),
            DateTime::<Utc>::from_timestamp(0, 0),
            // Beyond year 9999, where the text is chrono's own.
            DateTime::<Utc>::from_timestamp(300_000_000_000, 5),
        ]
        .into_iter()
        .flatten()
        {
            assert_eq!(
                written(&Rfc3339(t)),
                json(ScalarType::to_value(&Rfc3339(t)))
            );
        }
        let themes = vec!["access".to_owned(), "\"quoted\"".to_owned()];
        assert_eq!(written(&themes), serde_json::json!(themes));
        // The list is the type async-graphql would answer.
        assert_eq!(<Vec<String> as OutputType>::type_name(), "[String!]");
    }
}
