//! Caller-ID normalization: raw Connect addresses to E.164, with withheld and
//! invalid numbers reported as a status rather than an error.

use std::borrow::Cow;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::str::FromStr;

use rlibphonenumber::{PHONE_NUMBER_UTIL, PhoneNumberFormat, Region};

/// libphonenumber itself refuses inputs longer than this many characters.
pub const MAX_INPUT_CHARS: usize = 250;

/// Words that carriers and SIP trunks put in place of a withheld number,
/// compared after [`fold_words`] (any case; `_`, `-` and `.` read as spaces).
/// `P` (private) and `O` (out of area) are the letters North American caller
/// ID uses. No word can be a number: libphonenumber needs at least three
/// digits before any letter.
const WITHHELD_WORDS: &[&str] = &[
    "anonymous",
    "anonymous caller",
    "anonymous number",
    "restricted",
    "restricted caller",
    "restricted number",
    "unavailable",
    "unavailable number",
    "number unavailable",
    "unknown",
    "unknown caller",
    "unknown number",
    "private",
    "private caller",
    "private number",
    "withheld",
    "withheld number",
    "number withheld",
    "blocked",
    "blocked number",
    "caller id blocked",
    "no caller id",
    "no number",
    "not available",
    "out of area",
    "p",
    "o",
];

/// Digit strings that spell a withheld-caller word on a phone keypad, as some
/// carriers (and Amazon Connect) present them: ANONYMOUS, RESTRICTED,
/// UNAVAILABLE, UNKNOWN, PRIVATE, BLOCKED. Without a `+` several are real
/// national numbers (`7378742833` is +1 737-874-2833, in Austin), so a
/// spelling is withheld only where it is not a valid number.
const WITHHELD_KEYPAD_DIGITS: &[&str] = &[
    "266696687",
    "7378742833",
    "86282452253",
    "8656696",
    "7748283",
    "2562533",
];

/// A phone number in E.164 form (`+` followed by up to 15 digits).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct E164(String);

impl E164 {
    /// The number as a string, e.g. `+14155550123`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Wraps a string that is already in strict E.164 form (`+` then 2-15
    /// digits, no leading zero), without checking it against numbering plans.
    pub fn from_canonical(s: &str) -> Option<E164> {
        let digits = s.strip_prefix('+')?;
        let ok = (2..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0');
        ok.then(|| E164(s.to_owned()))
    }
}

impl E164 {
    /// The ISO 3166 alpha-2 country (or region) the number belongs to, as
    /// libphonenumber's metadata says; `None` for numbers of no one country
    /// (+800, +882...).
    pub fn region(&self) -> Option<String> {
        let parsed = catch_unwind(AssertUnwindSafe(|| PHONE_NUMBER_UTIL.parse(&self.0, None)));
        let region = parsed.ok()?.ok()?.get_region_code()?;
        let code = region.as_region_str().as_str().to_owned();
        (code != "001" && code != "ZZ").then_some(code)
    }
}

impl fmt::Display for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a caller ID could not be read as a valid number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvalidReason {
    /// Longer than libphonenumber accepts.
    TooLong,
    /// Contains characters no phone number is written with.
    UnexpectedCharacters,
    /// libphonenumber could not parse it (its message).
    Unparseable(String),
    /// Parsed, but not a number in use under the country's numbering plan.
    NotAValidNumber,
}

impl fmt::Display for InvalidReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InvalidReason::TooLong => write!(f, "longer than {MAX_INPUT_CHARS} characters"),
            InvalidReason::UnexpectedCharacters => {
                f.write_str("contains characters that are not part of a phone number")
            }
            InvalidReason::Unparseable(msg) => write!(f, "not a phone number ({msg})"),
            InvalidReason::NotAValidNumber => {
                f.write_str("not a valid number in its country's numbering plan")
            }
        }
    }
}

/// What a caller ID turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallerId {
    /// A valid number, normalized.
    Valid(E164),
    /// Something that is not a valid phone number.
    Invalid(InvalidReason),
    /// A withheld caller ID (`anonymous`, `Restricted`, `+266696687`, empty...).
    Anonymous,
    /// No caller ID at all (chat, tasks, no `CustomerEndpoint`).
    Missing,
}

/// An ISO 3166 alpha-2 country used to read national-format numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DefaultCountry(Region);

impl DefaultCountry {
    /// The two-letter code, e.g. `US`.
    pub fn code(&self) -> String {
        self.0.as_region_str().as_str().to_owned()
    }
}

impl Default for DefaultCountry {
    fn default() -> Self {
        DefaultCountry(Region::US)
    }
}

/// The given text is not an ISO 3166 alpha-2 country known to libphonenumber.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a two-letter ISO 3166 country code known to libphonenumber (e.g. US, GB, IN)"
)]
pub struct UnknownCountry(pub String);

impl FromStr for DefaultCountry {
    type Err = UnknownCountry;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let upper = s.trim().to_ascii_uppercase();
        if upper.len() != 2 || !upper.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(UnknownCountry(s.to_owned()));
        }
        let region = Region::from_str(&upper).map_err(|_| UnknownCountry(s.to_owned()))?;
        // Region codes that exist but have no numbering metadata (e.g. `ZZ`) are refused.
        if PHONE_NUMBER_UTIL
            .get_country_code_for_region(region)
            .unwrap_or(0)
            == 0
        {
            return Err(UnknownCountry(s.to_owned()));
        }
        Ok(DefaultCountry(region))
    }
}

/// Reads caller IDs the way libphonenumber does, for one default country.
#[derive(Debug, Clone, Copy, Default)]
pub struct Normalizer {
    country: DefaultCountry,
}

impl Normalizer {
    /// A normalizer reading national numbers as numbers of `country`.
    pub fn new(country: DefaultCountry) -> Self {
        Normalizer { country }
    }

    /// Loads libphonenumber's metadata now, so the first call does not pay for it.
    pub fn warm_up(&self) {
        let _ = self.classify(Some("+14155550123"));
    }

    /// Classifies a raw caller ID; `None` means the event carried no number.
    ///
    /// Read as libphonenumber reads it (tests/referee.rs holds it to Python
    /// `phonenumbers` over every region's numbers), with two additions: the
    /// number in a `tel:`, `sip:` or `sips:` URI, and withheld caller IDs.
    pub fn classify(&self, raw: Option<&str>) -> CallerId {
        let Some(raw) = raw else {
            return CallerId::Missing;
        };
        if raw.chars().count() > MAX_INPUT_CHARS {
            return CallerId::Invalid(InvalidReason::TooLong);
        }
        let number = uri_number(raw);
        if number.is_empty() || is_withheld_word(number) {
            return CallerId::Anonymous;
        }
        match self.parse(number) {
            CallerId::Invalid(_) if is_keypad_spelling(number) => CallerId::Anonymous,
            caller => caller,
        }
    }

    fn parse(&self, number: &str) -> CallerId {
        let input = parser_input(number);
        // `parser_input` steers clear of the one parser panic known (see
        // there) and fuzz/ looks for others; the unwind guard is a second
        // line of defence for builds that unwind (tests; release aborts).
        let parsed = catch_unwind(AssertUnwindSafe(|| {
            PHONE_NUMBER_UTIL
                .parse(&input, Some(self.country.0))
                .map(|n| {
                    (
                        n.is_valid(),
                        n.format_as(PhoneNumberFormat::E164).into_owned(),
                    )
                })
        }));
        match parsed {
            Err(_) => CallerId::Invalid(InvalidReason::Unparseable("parser failure".into())),
            Ok(Err(err)) => CallerId::Invalid(InvalidReason::Unparseable(err.to_string())),
            Ok(Ok((false, _))) => CallerId::Invalid(InvalidReason::NotAValidNumber),
            Ok(Ok((true, e164))) => match E164::from_canonical(&e164) {
                Some(e164) => CallerId::Valid(e164),
                None => CallerId::Invalid(InvalidReason::NotAValidNumber),
            },
        }
    }
}

/// RFC 3966's phone-context parameter, as libphonenumber spells it.
const PHONE_CONTEXT: &str = ";phone-context=";

/// What the parser is given for `number`: the number itself, except where
/// rlibphonenumber 2.2.15 would panic. It slices from after the first
/// `tel:` to the first `;phone-context=`, which panics when `tel:` comes
/// after (`1;phone-context=+1;tel:2`). libphonenumber (Java, C++, Python)
/// reads the number part there as empty, leaving only a `+…` context: the
/// same input without the panic is `tel:` followed by the context.
fn parser_input(number: &str) -> Cow<'_, str> {
    if let (Some(context_at), Some(tel_at)) = (number.find(PHONE_CONTEXT), number.find("tel:"))
        && tel_at > context_at
    {
        let context = &number[context_at + PHONE_CONTEXT.len()..];
        let context = context.split(';').next().unwrap_or(context);
        return Cow::Owned(format!("tel:{PHONE_CONTEXT}{context}"));
    }
    Cow::Borrowed(number)
}

/// The number a caller ID holds: trimmed, and out of a URI when it is one.
/// `tel:`, `sip:` and `sips:` in any case (schemes are case-insensitive,
/// RFC 3986 3.1), also in angle brackets as SIP headers write them
/// (`<sip:+14155550123@host;user=phone>`). Of a SIP URI the user part, before
/// `@`; its and a `tel:` URI's parameters (`;ext=`, `;isub=`,
/// `;phone-context=`) are left to the parser, which reads them as RFC 3966
/// says. libphonenumber itself reads no SIP URI: see tests/referee.rs.
fn uri_number(raw: &str) -> &str {
    let s = raw.trim();
    let s = s
        .strip_prefix('<')
        .and_then(|inner| inner.strip_suffix('>'))
        .map_or(s, str::trim);
    let Some((scheme, rest)) = s.split_once(':') else {
        return s;
    };
    if scheme.eq_ignore_ascii_case("tel") {
        rest.trim()
    } else if scheme.eq_ignore_ascii_case("sip") || scheme.eq_ignore_ascii_case("sips") {
        rest.split('@').next().unwrap_or(rest).trim()
    } else {
        s
    }
}

/// `words` in lower case, with `_`, `-` and `.` read as spaces and runs of
/// spaces as one: `Anonymous_Caller` and `anonymous  caller` read alike.
fn fold_words(words: &str) -> String {
    let spaced: String = words
        .chars()
        .map(|c| match c {
            '_' | '-' | '.' => ' ',
            c => c.to_ascii_lowercase(),
        })
        .collect();
    spaced.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A word carriers send for a withheld number (`Restricted Number`, `P`).
fn is_withheld_word(number: &str) -> bool {
    // Every withheld word is short and ASCII: skip folding anything else.
    number.len() <= 24 && number.is_ascii() && WITHHELD_WORDS.contains(&fold_words(number).as_str())
}

/// A keypad spelling of a withheld word, with or without `+`.
fn is_keypad_spelling(number: &str) -> bool {
    let digits = number.strip_prefix('+').unwrap_or(number);
    WITHHELD_KEYPAD_DIGITS.contains(&digits)
}

/// True for caller IDs written as carriers write a withheld number: empty,
/// a withheld word, or a keypad spelling. [`Normalizer::classify`] reads a
/// keypad spelling as withheld only where it is not a valid number.
pub fn is_withheld_text(raw: &str) -> bool {
    let number = uri_number(raw);
    number.is_empty() || is_withheld_word(number) || is_keypad_spelling(number)
}

/// The string rules match a caller ID that is not a valid number against:
/// `+` and its digits when it is written only with digits and separators
/// (`+266696687`, `+999 123 456`), so that prefix and allow rules can still
/// apply to withheld and invalid caller IDs.
pub fn digits_key(raw: &str) -> Option<String> {
    let s = uri_number(raw);
    let digits: String = s
        .strip_prefix('+')
        .unwrap_or(s)
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')' | '/'))
        .collect();
    let ok = (1..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| format!("+{digits}"))
}

/// A number prefix as typed or pasted, compacted: separators dropped
/// (spaces of any kind, `-`, `.`, `(`, `)`, Unicode dashes, soft hyphens,
/// zero-width spaces), any Unicode decimal digit and the full-width plus
/// read as their ASCII forms (`＋４４ ２０` is `+4420`). Anything else is
/// kept, for the caller to refuse.
pub fn compact_prefix(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    for c in input.chars() {
        match c {
            '+' | '\u{ff0b}' => out.push('+'),
            '-'
            | '.'
            | '('
            | ')'
            | '\u{ad}'
            | '\u{200b}'
            | '\u{2010}'..='\u{2015}'
            | '\u{2212}' => {}
            c if c.is_whitespace() => {}
            c if c.is_ascii_digit() => out.push(c),
            c => match PHONE_NUMBER_UTIL.normalize_digits_only(c.encode_utf8(&mut [0; 4])) {
                digit if digit.len() == 1 => out.push_str(&digit),
                _ => out.push(c),
            },
        }
    }
    out
}

/// Masks a number for logs: keeps all but the last four digits, e.g.
/// `+14155550123` becomes `+1415555****`.
pub fn mask(number: &str) -> String {
    let digit_count = number.chars().filter(char::is_ascii_digit).count();
    let keep = digit_count.saturating_sub(4);
    let mut seen = 0;
    number
        .chars()
        .take(32)
        .map(|c| {
            if c.is_ascii_digit() {
                seen += 1;
                if seen > keep { '*' } else { c }
            } else {
                c
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_hides_the_last_four_digits() {
        assert_eq!(mask("+14155550123"), "+1415555****");
        assert_eq!(mask("+442079460958"), "+44207946****");
        assert_eq!(mask("123"), "***");
        assert_eq!(mask(""), "");
    }

    #[test]
    fn digits_key_reads_digit_only_caller_ids() {
        assert_eq!(digits_key("+266696687").as_deref(), Some("+266696687"));
        assert_eq!(digits_key(" +999 123-456 ").as_deref(), Some("+999123456"));
        assert_eq!(digits_key("tel:266696687").as_deref(), Some("+266696687"));
        for none in ["anonymous", "", "+", "12a4", "1".repeat(16).as_str()] {
            assert_eq!(digits_key(none), None, "{none}");
        }
    }

    #[test]
    fn prefixes_are_compacted_to_ascii() {
        assert_eq!(compact_prefix(" +1 (900) "), "+1900");
        assert_eq!(
            compact_prefix("\u{ff0b}\u{ff14}\u{ff14} \u{ff12}\u{ff10}"),
            "+4420"
        );
        assert_eq!(compact_prefix("+44\u{a0}20\u{ad}7\u{200b}9"), "+442079");
        assert_eq!(compact_prefix("+\u{669}\u{661}-\u{662}"), "+912");
        assert_eq!(compact_prefix("+1 9x0"), "+19x0");
    }

    #[test]
    fn canonical_e164_is_checked() {
        assert!(E164::from_canonical("+14155550123").is_some());
        for bad in ["14155550123", "+", "+0123", "+1234567890123456", "+1 415"] {
            assert!(E164::from_canonical(bad).is_none(), "{bad}");
        }
    }
}
