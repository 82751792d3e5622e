//! A JSON string written as `serde_json` writes it, byte for byte, but looking for the bytes to
//! escape eight at a time: most text in an answer (ids, names, times) has none, and
//! `serde_json` looks up every byte in a table, one after another.

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `word` below `n` (at most 0x80), or equal to `c` when asked
/// through [`equal`]. Of the bits set, the lowest is always right; a borrow can only set the
/// bits of bytes above it, so only the first byte found is used.
const fn below(word: u64, n: u8) -> u64 {
    word.wrapping_sub(ONES * n as u64) & !word & HIGH
}

const fn equal(word: u64, c: u8) -> u64 {
    below(word ^ (ONES * c as u64), 1)
}

/// Whether a byte is written escaped: a control character, `"` or `\`.
const fn escaped(byte: u8) -> bool {
    byte < 0x20 || byte == b'"' || byte == b'\\'
}

/// The first byte of the eight at `at` that is written escaped, if any.
fn escaped_in_word(bytes: &[u8], at: usize) -> Option<usize> {
    let mut word = [0; 8];
    word.copy_from_slice(bytes.get(at..at + 8)?);
    let word = u64::from_le_bytes(word);
    let found = below(word, 0x20) | equal(word, b'"') | equal(word, b'\\');
    (found != 0).then(|| at + (found.trailing_zeros() / 8) as usize)
}

/// The index of the first byte at or after `from` that is written escaped, or the length.
fn next_escaped(bytes: &[u8], from: usize) -> usize {
    let len = bytes.len();
    if len - from < 8 {
        let mut i = from;
        while i < len && !escaped(bytes[i]) {
            i += 1;
        }
        return i;
    }
    let mut i = from;
    while i + 8 <= len {
        if let Some(found) = escaped_in_word(bytes, i) {
            return found;
        }
        i += 8;
    }
    // The last eight bytes, overlapping those already looked at (none of which is escaped).
    if i < len {
        if let Some(found) = escaped_in_word(bytes, len - 8) {
            return found;
        }
    }
    len
}

/// Appends `text` as a JSON string, quoted and escaped as `serde_json` does it (`\"`, `\\`,
/// `\b`, `\t`, `\n`, `\f`, `\r`, and `\u00xx` in lower case for the other control characters;
/// everything else as it stands).
pub fn write_str(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut start = 0;
    loop {
        let at = next_escaped(bytes, start);
        out.extend_from_slice(&bytes[start..at]);
        let Some(&byte) = bytes.get(at) else {
            break;
        };
        match byte {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x08 => out.extend_from_slice(b"\\b"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            0x0c => out.extend_from_slice(b"\\f"),
            b'\r' => out.extend_from_slice(b"\\r"),
            control => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(control >> 4)]);
                out.push(HEX[usize::from(control & 0xf)]);
            }
        }
        start = at + 1;
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(text: &str) -> String {
        let mut out = Vec::new();
        write_str(&mut out, text);
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn writes_every_string_as_serde_json_does() {
        // Every byte value below 0x80 at every offset of a word, alone and among others, and
        // text beyond ASCII.
        let mut texts: Vec<String> = vec![
            String::new(),
            "plain".into(),
            "01a24187-964e-728e-9356-6715f523b447".into(),
            "Alder \"Voices\" \\ back".into(),
            "café — ünïcödé 🌱 \u{7f}\u{80}\u{85}\u{2028}".into(),
        ];
        for c in 0u8..0x80 {
            let c = char::from(c);
            for offset in 0..17 {
                let mut text = "a".repeat(offset);
                text.push(c);
                text.push_str("bcdefghij");
                texts.push(text.clone());
                texts.push(format!("{text}{c}{c}é{c}"));
            }
        }
        for text in &texts {
            assert_eq!(
                written(text),
                serde_json::to_string(text).expect("serde"),
                "{text:?}"
            );
        }
    }

    #[test]
    fn finds_the_first_byte_to_escape_even_after_others_that_borrow() {
        // 0x00 and 0x1f borrow from the byte above them in the word.
        let text = "\u{0}\u{1f}\"\\aaaa\u{1}";
        assert_eq!(next_escaped(text.as_bytes(), 0), 0);
        assert_eq!(next_escaped(text.as_bytes(), 1), 1);
        assert_eq!(next_escaped(text.as_bytes(), 2), 2);
        assert_eq!(next_escaped(text.as_bytes(), 3), 3);
        assert_eq!(next_escaped(text.as_bytes(), 4), 8);
        assert_eq!(next_escaped(b"abcdefgh\"", 0), 8);
        assert_eq!(next_escaped(b"abcdefghijklmnop", 0), 16);
    }
}
