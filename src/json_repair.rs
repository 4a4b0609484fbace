//! Valid JSON that serde_json refuses as it is, rewritten so that it reads.
//!
//! RFC 8259 sets no limit on nesting or on the size of numbers, and its
//! grammar admits any `\uXXXX` escape. serde_json refuses three things
//! within that: nesting deeper than 128, a number beyond `f64` (`1e400`),
//! and an escaped surrogate without its pair (`"\ud800"`). The Lambda reads
//! events tolerantly (a field it cannot read counts as absent), so such an
//! event must get the answer map too, not the runtime's error.
//!
//! [`repair`] replaces exactly those parts and copies everything else, so
//! text that is not JSON stays not JSON. It walks the text once, without
//! recursion (the nesting it exists for would overflow a recursive one).

/// Deepest nesting kept: an array or object opened deeper is replaced by
/// `null`, unread (and unchecked). Half serde_json's limit, and far deeper
/// than any Connect event (the caller ID sits at depth 4).
pub const MAX_DEPTH: usize = 64;

/// What serde_json refuses in `text` replaced: arrays and objects nested
/// deeper than [`MAX_DEPTH`] by `null`, numbers beyond `f64` by `null`,
/// unpaired surrogate escapes by `\ufffd` (the replacement character).
pub fn repair(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut depth = 0usize;
    // Inside a container opened beyond MAX_DEPTH: the depth it opened at.
    let mut dropping: Option<usize> = None;
    let mut i = 0;
    while i < bytes.len() {
        // Whatever opens or closes a dropped container, nothing in it is written.
        let writing = dropping.is_none();
        let (end, piece) = match bytes[i] {
            b'"' => {
                let end = string_end(bytes, i);
                (end, Piece::Text(repaired_string(&text[i..end])))
            }
            b'-' | b'0'..=b'9' => {
                let end = token_end(bytes, i, |b| b.is_ascii_digit() || b"+-.eE".contains(&b));
                (end, number(&text[i..end]))
            }
            b'[' | b'{' => {
                depth += 1;
                if dropping.is_none() && depth > MAX_DEPTH {
                    dropping = Some(depth);
                    (i + 1, Piece::Text("null".into()))
                } else {
                    (i + 1, Piece::Copy)
                }
            }
            b']' | b'}' => {
                if dropping == Some(depth) {
                    dropping = None;
                }
                depth = depth.saturating_sub(1);
                (i + 1, Piece::Copy)
            }
            // Whitespace, `,`, `:`, literals, and whatever is not JSON.
            _ => (
                token_end(bytes, i, |b| !b"\"-0123456789[]{}".contains(&b)),
                Piece::Copy,
            ),
        };
        match piece {
            _ if !writing => {}
            Piece::Copy => out.push_str(&text[i..end]),
            Piece::Text(replaced) => out.push_str(&replaced),
        }
        i = end;
    }
    out
}

/// What a stretch of the input becomes.
enum Piece {
    /// Itself.
    Copy,
    /// This text instead.
    Text(String),
}

/// The end of the run of bytes from `start` (inclusive) that `keep`
/// accepts; at least one byte past `start`. `keep` only ever splits at
/// ASCII bytes, so the end is a character boundary.
fn token_end(bytes: &[u8], start: usize, keep: impl Fn(u8) -> bool) -> usize {
    let mut end = start + 1;
    while end < bytes.len() && keep(bytes[end]) {
        end += 1;
    }
    end
}

/// The end of the string literal opening at `start` (past its closing
/// quote, or the end of the text when it has none).
fn string_end(bytes: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// A number token: `null` when it is beyond `f64` (serde_json refuses it),
/// else itself (a token that is not a number stays, and stays refused).
fn number(token: &str) -> Piece {
    match token.parse::<f64>() {
        Ok(value) if !value.is_finite() => Piece::Text("null".into()),
        _ => Piece::Copy,
    }
}

/// A string literal with each unpaired surrogate escape replaced by
/// `\ufffd`; a pair (`\ud83d\ude00`) and everything else is kept.
fn repaired_string(literal: &str) -> String {
    let mut out = String::with_capacity(literal.len());
    let mut copied = 0;
    let mut i = 0;
    while i < literal.len() {
        if literal.as_bytes()[i] != b'\\' {
            i += 1;
            continue;
        }
        let unit = (literal.as_bytes().get(i + 1) == Some(&b'u'))
            .then(|| hex_unit(literal, i + 2))
            .flatten();
        match unit {
            Some(0xD800..=0xDBFF) if is_low_surrogate_escape(literal, i + 6) => i += 12,
            Some(0xD800..=0xDFFF) => {
                out.push_str(&literal[copied..i]);
                out.push_str("\\ufffd");
                i += 6;
                copied = i;
            }
            Some(_) => i += 6,
            None => i += 2,
        }
    }
    out.push_str(literal.get(copied..).unwrap_or_default());
    out
}

/// The code unit of the four hex digits at `at`, if there are four.
fn hex_unit(text: &str, at: usize) -> Option<u16> {
    let digits = text.get(at..at + 4)?;
    if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u16::from_str_radix(digits, 16).ok()
}

/// Whether a `\uDC00`-`\uDFFF` escape starts at `at`.
fn is_low_surrogate_escape(text: &str, at: usize) -> bool {
    text.get(at..at + 2) == Some("\\u") && matches!(hex_unit(text, at + 2), Some(0xDC00..=0xDFFF))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn read(text: &str) -> Value {
        serde_json::from_str(&repair(text)).unwrap_or_else(|e| panic!("{text:.60}: {e}"))
    }

    #[test]
    fn json_serde_json_reads_is_left_as_it_is() {
        for text in [
            r#"{"a": [1, -2.5e3, "x\"y\\", true, null], "é": "\ud83d\ude00 ok \u00e9"}"#,
            "  [ ]  ",
            "12345678901234567890123456789",
            r#""[{\"1e400\"}]""#,
        ] {
            assert_eq!(repair(text), text);
        }
    }

    #[test]
    fn what_serde_json_refuses_is_replaced() {
        let deep = format!("{}{}", "[".repeat(500), "]".repeat(500));
        let mut want = json!(null);
        for _ in 0..MAX_DEPTH {
            want = json!([want]);
        }
        assert_eq!(read(&deep), want);
        let text = format!(r#"{{"a": {deep}, "b": 1}}"#);
        assert_eq!(read(&text)["b"], 1);
        assert_eq!(
            read(r#"[1e400, -1e400, 1e308, "1e400", 1e-400]"#),
            json!([null, null, 1e308, "1e400", 0.0])
        );
        assert_eq!(
            read(r#"["\ud800", "a\udc00b", "\ud800\ud800", "\ud800\u0041", "\ud800\n"]"#),
            json!([
                "\u{fffd}",
                "a\u{fffd}b",
                "\u{fffd}\u{fffd}",
                "\u{fffd}A",
                "\u{fffd}\n"
            ])
        );
    }

    #[test]
    fn what_is_not_json_stays_not_json() {
        for text in [
            "",
            "{",
            r#"{"a": }"#,
            "[1e400",
            "\"\\ud800",
            "-",
            "NaN",
            "{'a': 1}",
            "[1,]",
        ] {
            assert!(
                serde_json::from_str::<Value>(&repair(text)).is_err(),
                "{text}"
            );
        }
    }
}
