//! Timestamps in JSON, written fast: the same RFC 3339 text chrono's serde writes
//! (`2026-12-02T07:17:51.123456Z`: UTC, with 0, 3, 6 or 9 fraction digits as the value needs),
//! formatted into a stack buffer instead of through `Display`. Lists carry two or more
//! timestamps per item, and chrono's formatting was a sixth of a list's server time.

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::Serializer;

/// Fills `buf` and returns the text.
fn format<'b>(t: &DateTime<Utc>, buf: &'b mut [u8; 40]) -> Option<&'b str> {
    let year = t.year();
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
    put(buf, 5, t.month(), 2);
    buf[7] = b'-';
    put(buf, 8, t.day(), 2);
    buf[10] = b'T';
    put(buf, 11, t.hour(), 2);
    buf[13] = b':';
    put(buf, 14, t.minute(), 2);
    buf[16] = b':';
    // A leap second is kept as chrono writes it: second 59 with nanoseconds past 1e9.
    let nanos = t.nanosecond();
    let (second, nanos) = if nanos >= 1_000_000_000 {
        (t.second() + 1, nanos - 1_000_000_000)
    } else {
        (t.second(), nanos)
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
    buf[end] = b'Z';
    std::str::from_utf8(&buf[..=end]).ok()
}

/// `#[serde(serialize_with = "crate::domain::time::rfc3339")]`
pub fn rfc3339<S: Serializer>(t: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    let mut buf = [0u8; 40];
    match format(t, &mut buf) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ours(t: &DateTime<Utc>) -> String {
        rfc3339(t, serde_json::value::Serializer)
            .map(|v| v.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn the_text_is_chronos_own() {
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut cases = vec![
            DateTime::from_timestamp(0, 0),
            DateTime::from_timestamp(1_700_000_000, 120_000_000),
            DateTime::from_timestamp(1_700_000_000, 123_456_000),
            DateTime::from_timestamp(1_700_000_000, 123_456_789),
            DateTime::from_timestamp(253_402_300_799, 999_999_999),
            DateTime::from_timestamp(-62_135_596_800, 0),
        ];
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
            cases.push(DateTime::from_timestamp(secs, nanos));
        }
        for t in cases.into_iter().flatten() {
            let chrono = serde_json::to_value(t).map(|v| v.to_string());
            assert_eq!(ours(&t), chrono.unwrap_or_default(), "{t:?}");
        }
    }

    #[test]
    fn an_absent_timestamp_is_null() {
        let v = rfc3339_opt(&None, serde_json::value::Serializer).map(|v| v.to_string());
        assert_eq!(v.ok().as_deref(), Some("null"));
    }
}
