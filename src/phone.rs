//! Caller-ID normalization: raw Connect addresses to E.164, with withheld and
//! invalid numbers reported as a status rather than an error.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::str::FromStr;

use rlibphonenumber::{PHONE_NUMBER_UTIL, PhoneNumberFormat, Region};

/// libphonenumber itself refuses inputs longer than this many characters.
pub const MAX_INPUT_CHARS: usize = 250;

/// Words that carriers and SIP trunks put in place of a withheld number
/// (compared case-insensitively, after trimming and stripping `sip:`/`tel:`).
const ANONYMOUS_WORDS: &[&str] = &[
    "anonymous",
    "restricted",
    "unavailable",
    "unknown",
    "private",
    "withheld",
    "blocked",
    "private number",
    "unknown caller",
    "no caller id",
    "not available",
    "out of area",
    "unknown number",
];

/// Digit strings that spell a withheld-caller word on a phone keypad, as some
/// carriers (and Amazon Connect) present them: ANONYMOUS, RESTRICTED,
/// UNAVAILABLE, UNKNOWN, PRIVATE, BLOCKED.
const ANONYMOUS_KEYPAD_DIGITS: &[&str] = &[
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
    pub fn classify(&self, raw: Option<&str>) -> CallerId {
        let Some(raw) = raw else {
            return CallerId::Missing;
        };
        if raw.chars().count() > MAX_INPUT_CHARS {
            return CallerId::Invalid(InvalidReason::TooLong);
        }
        let trimmed = raw.trim();
        if is_anonymous(trimmed) {
            return CallerId::Anonymous;
        }
        let number = strip_uri_scheme(trimmed);
        if !number.chars().all(is_phone_char) {
            return CallerId::Invalid(InvalidReason::UnexpectedCharacters);
        }
        self.parse(number)
    }

    fn parse(&self, number: &str) -> CallerId {
        // The input is already limited to characters phone numbers are written
        // with, which keeps it away from the parser's RFC 3966 paths; the
        // unwind guard is a second line of defence for builds that unwind.
        let parsed = catch_unwind(AssertUnwindSafe(|| {
            PHONE_NUMBER_UTIL
                .parse(number, Some(self.country.0))
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

/// Characters a written phone number may contain: digits, letters (vanity
/// numbers, `ext`), whitespace and the usual separators.
fn is_phone_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.' | '(' | ')' | '/' | ' ' | '\t')
}

fn strip_uri_scheme(s: &str) -> &str {
    for scheme in ["tel:", "TEL:", "sip:", "SIP:"] {
        if let Some(rest) = s.strip_prefix(scheme) {
            // `sip:+14155550123@host` -> `+14155550123`
            return rest.split('@').next().unwrap_or(rest).trim();
        }
    }
    s
}

/// True for caller IDs that carriers use to say the number was withheld.
pub fn is_anonymous(raw: &str) -> bool {
    let s = strip_uri_scheme(raw.trim());
    if s.is_empty() {
        return true;
    }
    let lower = s.to_ascii_lowercase();
    if ANONYMOUS_WORDS.contains(&lower.as_str()) {
        return true;
    }
    let digits = s.strip_prefix('+').unwrap_or(s);
    ANONYMOUS_KEYPAD_DIGITS.contains(&digits)
}

/// The string rules match a caller ID that is not a valid number against:
/// `+` and its digits when it is written only with digits and separators
/// (`+266696687`, `+999 123 456`), so that prefix and allow rules can still
/// apply to withheld and invalid caller IDs.
pub fn digits_key(raw: &str) -> Option<String> {
    let s = strip_uri_scheme(raw.trim());
    let digits: String = s
        .strip_prefix('+')
        .unwrap_or(s)
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')' | '/'))
        .collect();
    let ok = (1..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| format!("+{digits}"))
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
    fn canonical_e164_is_checked() {
        assert!(E164::from_canonical("+14155550123").is_some());
        for bad in ["14155550123", "+", "+0123", "+1234567890123456", "+1 415"] {
            assert!(E164::from_canonical(bad).is_none(), "{bad}");
        }
    }
}
