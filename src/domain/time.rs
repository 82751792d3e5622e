//! Timestamps in JSON, written fast: the same RFC 3339 text chrono's serde writes
//! (`2026-12-02T07:17:51.123456Z`: UTC, with 0, 3, 6 or 9 fraction digits as the value needs),
//! formatted into a stack buffer instead of through `Display`. Lists carry two or more
//! timestamps per item, and chrono's formatting was a sixth of a list's server time.
//!
//! GraphQL's `DateTime` keeps the text it has always had, chrono's `to_rfc3339`
//! (`2026-12-02T07:17:51.123456+00:00`), written the same way ([`Rfc3339`]).

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::Serializer;

/// How the zone is written after the time.
#[derive(Clone, Copy)]
enum Zone {
    /// `Z`, as chrono's serde writes it.
    Z,
    /// `+00:00`, as chrono's `to_rfc3339` writes it.
    Offset,
}

/// Fills `buf` and returns the text.
fn format<'b>(t: &DateTime<Utc>, zone: Zone, buf: &'b mut [u8; 40]) -> Option<&'b str> {
    // The parts of the time in UTC, read once (each accessor of `DateTime` works out the
    // local time again).
    let naive = t.naive_utc();
    let (date, time) = (naive.date(), naive.time());
    let year = date.year();
    if !(0..=9999).contains(&year) {
        return None;
    }
    fn put(buf: &mut [u8], at: usize, value: u32, digits: usize) {
        let mut v = value;
        for i in (0..digits).rev() {
            buf[at + i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    }
    put(buf, 0, year as u32, 4);
    buf[4] = b'-';
    put(buf, 5, date.month(), 2);
    buf[7] = b'-';
    put(buf, 8, date.day(), 2);
    buf[10] = b'T';
    put(buf, 11, time.hour(), 2);
    buf[13] = b':';
    put(buf, 14, time.minute(), 2);
    buf[16] = b':';
    // A leap second is kept as chrono writes it: second 59 with nanoseconds past 1e9.
    let nanos = time.nanosecond();
    let (second, nanos) = if nanos >= 1_000_000_000 {
        (time.second() + 1, nanos - 1_000_000_000)
    } else {
        (time.second(), nanos)
    };
    put(buf, 17, second, 2);
    let mut end = 19;
    if nanos != 0 {
        buf[end] = b'.';
        let (value, digits) = if nanos % 1_000_000 == 0 {
            (nanos / 1_000_000, 3)
        } else if nanos % 1_000 == 0 {
            (nanos / 1_000, 6)
        } else {
            (nanos, 9)
        };
        put(buf, end + 1, value, digits);
        end += 1 + digits;
    }
    match zone {
        Zone::Z => {
            buf[end] = b'Z';
            end += 1;
        }
        Zone::Offset => {
            buf[end..end + 6].copy_from_slice(b"+00:00");
            end += 6;
        }
    }
    std::str::from_utf8(&buf[..end]).ok()
}

/// `#[serde(serialize_with = "crate::domain::time::rfc3339")]`
pub fn rfc3339<S: Serializer>(t: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    let mut buf = [0u8; 40];
    match format(t, Zone::Z, &mut buf) {
        Some(text) => serializer.serialize_str(text),
        None => serde::Serialize::serialize(t, serializer),
    }
}

/// The same for an optional timestamp (`null` when absent).
pub fn rfc3339_opt<S: Serializer>(
    t: &Option<DateTime<Utc>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => rfc3339(t, serializer),
        None => serializer.serialize_none(),
    }
}

/// A timestamp as GraphQL's `DateTime` answers it: the scalar async-graphql defines for
/// `DateTime<Utc>` (same name, description and parsing; the schema lets the two share the
/// name), with its text written as above instead of through chrono's `to_rfc3339`. An object's
/// field answers it with `#[graphql(skip, derived(name = "…", into = "Rfc3339", owned))]` on a
/// `DateTime<Utc>`, or `into = "Option<Rfc3339>", with = "Rfc3339::some"` on an optional one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rfc3339(pub DateTime<Utc>);

impl From<DateTime<Utc>> for Rfc3339 {
    fn from(t: DateTime<Utc>) -> Self {
        Self(t)
    }
}

impl Rfc3339 {
    pub fn some(t: Option<DateTime<Utc>>) -> Option<Self> {
        t.map(Self)
    }

    /// The text as a JSON string (it needs no escaping), as `to_rfc3339` writes it.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        let mut buf = [0u8; 40];
        out.push(b'"');
        match format(&self.0, Zone::Offset, &mut buf) {
            Some(text) => out.extend_from_slice(text.as_bytes()),
            None => out.extend_from_slice(self.0.to_rfc3339().as_bytes()),
        }
        out.push(b'"');
    }

    /// The text, as `to_rfc3339` writes it.
    pub fn text(&self) -> String {
        let mut buf = [0u8; 40];
        match format(&self.0, Zone::Offset, &mut buf) {
            Some(text) => text.to_owned(),
            None => self.0.to_rfc3339(),
        }
    }
}

/// Implement the DateTime<Utc> scalar
///
/// The input/output is a string in RFC3339 format.
#[Scalar(
    name = "DateTime",
    specified_by_url = "https://datatracker.ietf.org/doc/html/rfc3339"
)]
impl ScalarType for Rfc3339 {
    fn parse(value: Value) -> InputValueResult<Self> {
        <DateTime<Utc> as ScalarType>::parse(value)
            .map(Self)
            .map_err(InputValueError::propagate)
    }

    fn is_valid(value: &Value) -> bool {
        <DateTime<Utc> as ScalarType>::is_valid(value)
    }

    fn to_value(&self) -> Value {
        Value::String(self.text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ours(t: &DateTime<Utc>) -> String {
        rfc3339(t, serde_json::value::Serializer)
            .map(|v| v.to_string())
            .unwrap_or_default()
    }

    /// 10,000 instants from year 0 to 9999, with whole seconds and milli-, micro- and
    /// nanosecond fractions alike (xorshift from `seed`).
    fn random_instants(mut seed: u64) -> Vec<Option<DateTime<Utc>>> {
        let mut instants = Vec::with_capacity(10_000);
        for _ in 0..10_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let secs = (seed % 253_402_300_800) as i64;
            let nanos = match seed % 4 {
                0 => 0,
                1 => (seed >> 20) as u32 % 1000 * 1_000_000,
                2 => (seed >> 20) as u32 % 1_000_000 * 1_000,
                _ => (seed >> 20) as u32 % 1_000_000_000,
            };
            instants.push(DateTime::from_timestamp(secs, nanos));
        }
        instants
    }

    #[test]
    fn the_text_is_chronos_own() {
        let mut cases = vec![
            DateTime::from_timestamp(0, 0),
            DateTime::from_timestamp(1_700_000_000, 120_000_000),
            DateTime::from_timestamp(1_700_000_000, 123_456_000),
            DateTime::from_timestamp(1_700_000_000, 123_456_789),
            DateTime::from_timestamp(253_402_300_799, 999_999_999),
            DateTime::from_timestamp(-62_135_596_800, 0),
            // 0000-01-01, 1900-03-01, 2000-02-29 and 2100-03-01, and a leap second.
            DateTime::from_timestamp(-62_167_219_200, 0),
            DateTime::from_timestamp(-2_203_891_200, 0),
            DateTime::from_timestamp(951_782_400, 1_000),
            DateTime::from_timestamp(4_107_542_400, 0),
            DateTime::from_timestamp(1_483_228_799, 1_500_000_000),
        ];
        cases.extend(random_instants(0x9E37_79B9_7F4A_7C15));
        for t in cases.into_iter().flatten() {
            let chrono = serde_json::to_value(t).map(|v| v.to_string());
            assert_eq!(ours(&t), chrono.unwrap_or_default(), "{t:?}");
        }
    }

    #[test]
    fn graphqls_text_is_to_rfc3339s() {
        let mut cases = vec![
            DateTime::from_timestamp(0, 0),
            DateTime::from_timestamp(1_700_000_000, 120_000_000),
            DateTime::from_timestamp(1_700_000_000, 123_456_789),
            DateTime::from_timestamp(253_402_300_799, 999_999_999),
            DateTime::from_timestamp(253_402_300_800, 0),
            DateTime::from_timestamp(-62_135_596_801, 5),
            // A leap second.
            DateTime::from_timestamp(1_483_228_799, 1_500_000_000),
        ];
        cases.extend(random_instants(0x2545_F491_4F6C_DD1D));
        let cases: Vec<_> = cases.into_iter().flatten().collect();
        assert!(cases.len() > 9_000);
        for t in cases {
            assert_eq!(Rfc3339(t).text(), t.to_rfc3339(), "{t:?}");
            assert_eq!(
                Rfc3339(t).to_value(),
                <DateTime<Utc> as ScalarType>::to_value(&t)
            );
        }
    }

    #[test]
    fn graphql_reads_a_timestamp_as_chrono_does() {
        for text in [
            "2026-12-02T07:17:51.5+00:00",
            "2026-12-02T08:17:51Z",
            "2026-12-02",
        ] {
            let ours = Rfc3339::parse(Value::String(text.into())).map(|t| t.0);
            let theirs = <DateTime<Utc> as ScalarType>::parse(Value::String(text.into()));
            match (ours, theirs) {
                (Ok(a), Ok(b)) => assert_eq!(a, b),
                (Err(a), Err(b)) => assert_eq!(
                    a.into_server_error(Default::default()).message,
                    b.into_server_error(Default::default()).message
                ),
                (a, b) => panic!("{text}: {a:?} against {b:?}"),
            }
        }
    }

    #[test]
    fn an_absent_timestamp_is_null() {
        let v = rfc3339_opt(&None, serde_json::value::Serializer).map(|v| v.to_string());
        assert_eq!(v.ok().as_deref(), Some("null"));
    }
}
