//! Caller-ID normalization: any text, read with several default countries.
//!
//! The input bytes are read as UTF-8 (invalid sequences become U+FFFD) and
//! classified by `Normalizer::classify` for each country in [`COUNTRIES`].
//! Asserted: nothing panics (a panic the normalizer catches still aborts
//! here, through libfuzzer-sys's panic hook); a valid number is strict E.164
//! (`+`, 2-15 digits, the first 1-9), the same whichever way it is reached;
//! the result is `Anonymous` only for text `is_withheld_text` accepts, and
//! such text is `Anonymous` unless it is a valid number (a keypad spelling
//! that is a real number where it is read); the rules
//! key (`digits_key`) is `+` and 1-15 digits; `mask` keeps at most 32
//! characters and never shows a number's last four digits.

#![no_main]

use std::sync::OnceLock;

use connect_blocklist::phone::{
    CallerId, DefaultCountry, MAX_INPUT_CHARS, Normalizer, digits_key, is_withheld_text, mask,
};
use libfuzzer_sys::fuzz_target;

/// Countries with different national prefixes, trunk codes and lengths.
const COUNTRIES: [&str; 8] = ["US", "GB", "IN", "BR", "DE", "JP", "FR", "AU"];

fn normalizers() -> &'static [Normalizer] {
    static NORMALIZERS: OnceLock<Vec<Normalizer>> = OnceLock::new();
    NORMALIZERS.get_or_init(|| {
        COUNTRIES
            .iter()
            .map(|c| Normalizer::new(c.parse::<DefaultCountry>().expect("known country")))
            .collect()
    })
}

fn is_e164(s: &str) -> bool {
    s.strip_prefix('+').is_some_and(|d| {
        (2..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()) && !d.starts_with('0')
    })
}

fn digit_count(s: &str) -> usize {
    s.chars().filter(char::is_ascii_digit).count()
}

/// `mask` keeps at most 32 characters and hides at least the last four digits.
fn check_mask(s: &str) {
    let masked = mask(s);
    assert!(masked.chars().count() <= 32, "mask({s:?}) = {masked:?}");
    assert!(
        digit_count(&masked) <= digit_count(s).saturating_sub(4),
        "mask({s:?}) = {masked:?} shows too many digits"
    );
}

fuzz_target!(|input: &[u8]| {
    let raw = String::from_utf8_lossy(input);
    let raw = raw.as_ref();
    let withheld = is_withheld_text(raw);
    let short_enough = raw.chars().count() <= MAX_INPUT_CHARS;

    for normalizer in normalizers() {
        let caller = normalizer.classify(Some(raw));
        match &caller {
            CallerId::Valid(number) => {
                let n = number.as_str();
                assert!(is_e164(n), "{raw:?} normalized to {n:?}");
                let masked = mask(n);
                assert!(masked.ends_with("****"), "mask({n:?}) = {masked:?}");
                // Normalizing the normalized number gives it back.
                assert_eq!(
                    normalizer.classify(Some(n)),
                    caller,
                    "{raw:?} -> {n:?} is not stable"
                );
            }
            CallerId::Missing => panic!("{raw:?}: Missing for a present caller ID"),
            CallerId::Anonymous | CallerId::Invalid(_) => {}
        }
        if short_enough {
            let consistent = match caller {
                CallerId::Anonymous => withheld,
                CallerId::Valid(_) => true,
                CallerId::Invalid(_) | CallerId::Missing => !withheld,
            };
            assert!(
                consistent,
                "{raw:?}: classify {caller:?} but is_withheld_text {withheld}"
            );
        }
    }

    if let Some(key) = digits_key(raw) {
        let digits = key.strip_prefix('+').expect("digits_key starts with +");
        assert!(
            (1..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()),
            "digits_key({raw:?}) = {key:?}"
        );
    }
    check_mask(raw);
});
