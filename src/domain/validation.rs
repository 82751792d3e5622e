//! Field-level validation messages, gathered so a caller sees every problem at once.

use serde::Serialize;
use utoipa::ToSchema;

/// One problem with one input field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// The field's name as the client sent it (`contact.email`, `limit`).
    pub field: String,
    /// What is wrong, in plain English.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// The pattern of a required text in the OpenAPI document: no NUL, and something besides
/// space. Space is spelled out rather than written `\s`, which means different things to the
/// regular-expression engines of clients (Python's, ECMAScript's, Rust's).
pub const SOME_TEXT: &str = r"^[^\x00]*[^\x00\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00]*$";

/// Space, as the OpenAPI document's patterns mean it: Unicode white space and the four
/// information separators (U+001C to U+001F), which regular-expression engines count as space.
pub fn is_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

fn trim_space(value: &str) -> &str {
    value.trim_matches(is_space)
}

/// Collects field errors while an input is parsed.
#[derive(Debug, Default)]
pub struct Problems(Vec<FieldError>);

impl Problems {
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    /// Ok(value) when nothing was added, otherwise every message.
    pub fn finish<T>(self, value: T) -> Result<T, Vec<FieldError>> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self.0)
        }
    }

    /// The parsed value when nothing was added and it was found, otherwise every message.
    pub fn finish_parsed<T>(self, value: Option<T>) -> Result<T, Vec<FieldError>> {
        match value {
            Some(v) if self.0.is_empty() => Ok(v),
            _ => Err(self.into_errors()),
        }
    }

    /// The problems found so far (never empty after a required value was found missing).
    pub fn into_errors(self) -> Vec<FieldError> {
        if self.0.is_empty() {
            vec![FieldError::new("", "the input is not valid")]
        } else {
            self.0
        }
    }

    /// Checks a required text's length as sent (the OpenAPI document's `maxLength`), then trims
    /// it; a text of nothing but spaces is missing (the document's `pattern: \S`). Records a
    /// problem and returns `None` if bad.
    pub fn required_text(&mut self, field: &str, value: &str, max: usize) -> Option<String> {
        if !self.storable(field, value, max) {
            return None;
        }
        let value = trim_space(value);
        if value.is_empty() {
            self.add(field, "must not be empty");
            None
        } else {
            Some(value.to_owned())
        }
    }

    /// Like `required_text`, but an absent or blank value is simply `None`.
    pub fn optional_text(
        &mut self,
        field: &str,
        value: Option<&str>,
        max: usize,
    ) -> Option<String> {
        let value = value?;
        if !self.storable(field, value, max) {
            return None;
        }
        Some(trim_space(value))
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    }

    /// At most `max` characters as sent, and no NUL character (PostgreSQL text cannot hold it,
    /// and no person's words need it: the OpenAPI document's patterns exclude it too).
    fn storable(&mut self, field: &str, value: &str, max: usize) -> bool {
        if value.chars().count() > max {
            self.add(field, format!("must be at most {max} characters"));
            false
        } else if value.contains('\0') {
            self.add(field, "must not contain the NUL character (U+0000)");
            false
        } else {
            true
        }
    }

    /// A plausible email address: one `@`, something either side, a dot in the domain, no spaces.
    pub fn optional_email(&mut self, field: &str, value: Option<&str>) -> Option<String> {
        let value = self.optional_text(field, value, 254)?;
        let ok = match value.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !value.contains(is_space)
                    && !domain.contains('@')
            }
            None => false,
        };
        if ok {
            Some(value)
        } else {
            self.add(field, "must be an email address such as name@example.org");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_is_reported_at_once() {
        let mut p = Problems::default();
        p.required_text("name", "   ", 10);
        p.optional_email("email", Some("not-an-email"));
        let errors = p.finish(()).expect_err("two problems");
        assert_eq!(errors.len(), 2);
        assert_eq!(errors[0].field, "name");
        assert_eq!(errors[1].field, "email");
    }

    #[test]
    fn text_is_trimmed_and_length_checked_in_characters() {
        let mut p = Problems::default();
        assert_eq!(p.required_text("t", " Café ", 6), Some("Café".to_owned()));
        assert_eq!(
            p.required_text("t", "  Café ", 6),
            None,
            "the length as sent"
        );
        assert_eq!(p.required_text("t", "Cafés", 4), None);
        assert_eq!(
            p.required_text("t", "\u{1c} \u{1f}", 6),
            None,
            "separators are space"
        );
    }

    #[test]
    fn emails_need_a_domain_with_a_dot() {
        let mut p = Problems::default();
        assert!(p.optional_email("e", Some("a@b.org")).is_some());
        assert!(p.optional_email("e", Some("a@b")).is_none());
        assert!(p.optional_email("e", Some("a b@c.org")).is_none());
        assert!(p.optional_email("e", None).is_none());
    }
}

/// Whole numbers in JSON bodies, read as `8` or `8.0`: JSON Schema's `integer` (and so the
/// OpenAPI document) allows both, so the service accepts both; `8.5` is refused.
pub mod whole {
    use serde::de::{Deserializer, Error, Visitor};

    struct WholeI32;

    impl Visitor<'_> for WholeI32 {
        type Value = i32;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a whole number")
        }

        fn visit_i64<E: Error>(self, v: i64) -> Result<i32, E> {
            i32::try_from(v).map_err(|_| E::custom(format!("{v} is out of range")))
        }

        fn visit_u64<E: Error>(self, v: u64) -> Result<i32, E> {
            i32::try_from(v).map_err(|_| E::custom(format!("{v} is out of range")))
        }

        fn visit_f64<E: Error>(self, v: f64) -> Result<i32, E> {
            if v.fract() == 0.0 && v >= f64::from(i32::MIN) && v <= f64::from(i32::MAX) {
                // Checked whole and in range just above.
                #[allow(clippy::cast_possible_truncation)]
                Ok(v as i32)
            } else {
                Err(E::custom(format!("{v} is not a whole number in range")))
            }
        }
    }

    pub fn i32<'de, D: Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
        d.deserialize_any(WholeI32)
    }

    struct MaybeWholeI32;

    impl<'de> Visitor<'de> for MaybeWholeI32 {
        type Value = Option<i32>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a whole number or null")
        }

        fn visit_none<E: Error>(self) -> Result<Option<i32>, E> {
            Ok(None)
        }

        fn visit_unit<E: Error>(self) -> Result<Option<i32>, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<i32>, D::Error> {
            i32(d).map(Some)
        }
    }

    /// An optional whole number (`null` or absent is `None`).
    pub fn option_i32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i32>, D::Error> {
        d.deserialize_option(MaybeWholeI32)
    }

    /// In a patch: absent (leave it), `null` (clear it) or a whole number.
    pub fn patch_i32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<i32>>, D::Error> {
        option_i32(d).map(Some)
    }

    struct MaybeWholeI64;

    impl<'de> Visitor<'de> for MaybeWholeI64 {
        type Value = Option<i64>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a whole number or null")
        }

        fn visit_none<E: Error>(self) -> Result<Option<i64>, E> {
            Ok(None)
        }

        fn visit_unit<E: Error>(self) -> Result<Option<i64>, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<i64>, D::Error> {
            i32(d).map(|n| Some(i64::from(n)))
        }
    }

    /// An optional whole number within `i32`'s range, as `i64` (amounts of pence).
    pub fn option_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        d.deserialize_option(MaybeWholeI64)
    }

    /// In a patch: absent (leave it), `null` (clear it) or a whole number of pence.
    pub fn maybe_i64<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<async_graphql::MaybeUndefined<i64>, D::Error> {
        option_i64(d).map(|n| match n {
            Some(n) => async_graphql::MaybeUndefined::Value(n),
            None => async_graphql::MaybeUndefined::Null,
        })
    }

    #[cfg(test)]
    mod tests {
        #[derive(serde::Deserialize)]
        struct T {
            #[serde(deserialize_with = "super::i32")]
            n: i32,
            #[serde(default, deserialize_with = "super::option_i32")]
            o: Option<i32>,
        }

        #[test]
        fn whole_numbers_may_be_written_with_a_point_zero() {
            let t: T = serde_json::from_str(r#"{"n": 8.0, "o": 3}"#).expect("whole");
            assert_eq!((t.n, t.o), (8, Some(3)));
            let t: T = serde_json::from_str(r#"{"n": -2, "o": null}"#).expect("whole");
            assert_eq!((t.n, t.o), (-2, None));
            assert!(serde_json::from_str::<T>(r#"{"n": 8.5}"#).is_err());
            assert!(serde_json::from_str::<T>(r#"{"n": 1e12}"#).is_err());
            assert!(serde_json::from_str::<T>(r#"{"n": "8"}"#).is_err());
        }
    }
}
