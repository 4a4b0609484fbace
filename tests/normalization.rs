//! Normalization against Python `phonenumbers` (libphonenumber) as referee,
//! withheld caller IDs, and inputs that must not crash the parser.

use connect_blocklist::phone::{CallerId, DefaultCountry, InvalidReason, Normalizer, is_anonymous};
use serde::Deserialize;

#[derive(Deserialize)]
struct RefereeCase {
    input: String,
    country: String,
    e164: Option<String>,
}

fn normalizer(country: &str) -> Normalizer {
    Normalizer::new(country.parse::<DefaultCountry>().expect("known country"))
}

#[test]
fn agrees_with_libphonenumber_referee_on_every_case() {
    let cases: Vec<RefereeCase> =
        serde_json::from_str(include_str!("data/normalization-referee.json")).unwrap();
    assert!(
        cases.len() >= 40,
        "the referee file holds at least 40 inputs"
    );
    let countries: std::collections::BTreeSet<_> = cases.iter().map(|c| &c.country).collect();
    assert!(
        countries.len() >= 10,
        "the referee file covers at least 10 countries"
    );

    let mut mismatches = Vec::new();
    for case in &cases {
        let got = normalizer(&case.country).classify(Some(&case.input));
        let ok = match (&got, &case.e164) {
            (CallerId::Valid(n), Some(want)) => n.as_str() == want,
            (CallerId::Invalid(_), None) => true,
            _ => false,
        };
        if !ok {
            mismatches.push(format!(
                "{} ({}): got {got:?}, referee {:?}",
                case.input, case.country, case.e164
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "mismatches:\n{}",
        mismatches.join("\n")
    );
}

#[test]
fn withheld_caller_ids_are_anonymous() {
    let n = normalizer("US");
    for raw in [
        "",
        "   ",
        "anonymous",
        "Anonymous",
        "ANONYMOUS",
        "restricted",
        "Restricted",
        "unavailable",
        "unknown",
        "private",
        "Private Number",
        "withheld",
        "+266696687",
        "266696687",
        "+7378742833",
        "+86282452253",
        "sip:anonymous@anonymous.invalid",
        "tel:+266696687",
    ] {
        assert_eq!(n.classify(Some(raw)), CallerId::Anonymous, "{raw:?}");
        assert!(is_anonymous(raw), "{raw:?}");
    }
}

#[test]
fn absent_number_is_missing_not_anonymous() {
    assert_eq!(normalizer("US").classify(None), CallerId::Missing);
}

#[test]
fn real_numbers_are_not_taken_for_withheld_ones() {
    let n = normalizer("US");
    for raw in ["+14155550123", "+442079460958", "2665550123"] {
        assert!(!is_anonymous(raw), "{raw}");
        assert!(
            !matches!(n.classify(Some(raw)), CallerId::Anonymous),
            "{raw}"
        );
    }
}

#[test]
fn uri_forms_are_read_as_numbers() {
    let n = normalizer("US");
    for raw in [
        "tel:+14155550123",
        "sip:+14155550123@sip.example.com",
        " +1 415 555 0123 ",
    ] {
        match n.classify(Some(raw)) {
            CallerId::Valid(e164) => assert_eq!(e164.as_str(), "+14155550123", "{raw}"),
            other => panic!("{raw}: {other:?}"),
        }
    }
}

#[test]
fn default_country_decides_national_numbers() {
    let raw = Some("020 7946 0958");
    assert!(
        matches!(normalizer("GB").classify(raw), CallerId::Valid(ref n) if n.as_str() == "+442079460958")
    );
    assert!(matches!(
        normalizer("US").classify(raw),
        CallerId::Invalid(_)
    ));
}

#[test]
fn overlong_input_is_invalid_without_parsing() {
    let long = "1".repeat(251);
    assert_eq!(
        normalizer("US").classify(Some(&long)),
        CallerId::Invalid(InvalidReason::TooLong)
    );
    let long_unicode = "é".repeat(300);
    assert_eq!(
        normalizer("US").classify(Some(&long_unicode)),
        CallerId::Invalid(InvalidReason::TooLong)
    );
}

#[test]
fn inputs_known_to_crash_parsers_are_invalid() {
    let n = normalizer("US");
    for raw in [
        "1;phone-context=+1;tel:2",
        ";phone-context=",
        "tel:1;phone-context=+1;tel:2",
        "+1 415 555 0123;ext=12",
        "<script>",
        "\u{0}\u{1}\u{2}",
        "١٢٣٤٥٦٧٨٩٠",
        "😀😀😀",
    ] {
        assert!(
            matches!(n.classify(Some(raw)), CallerId::Invalid(_)),
            "{raw:?}"
        );
    }
}

/// Random strings over every character the normalizer lets through to the
/// parser: none may panic, whatever the country.
#[test]
fn parser_never_panics_on_admitted_characters() {
    const ALPHABET: &[u8] =
        b"0123456789+-.()/ \tabcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let normalizers: Vec<_> = ["US", "GB", "IN", "BR", "DE", "JP"]
        .iter()
        .map(|c| normalizer(c))
        .collect();
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for i in 0..30_000 {
        let len = (next() % 40) as usize;
        let s: String = (0..len)
            .map(|_| {
                // Bias towards digits and '+' so that many inputs get deep into the parser.
                let r = next();
                if r % 3 == 0 {
                    ALPHABET[(r / 3 % 11) as usize] as char
                } else {
                    ALPHABET[(r % ALPHABET.len() as u64) as usize] as char
                }
            })
            .collect();
        let result =
            std::panic::catch_unwind(|| normalizers[i % normalizers.len()].classify(Some(&s)));
        assert!(result.is_ok(), "panicked on {s:?}");
    }
}

#[test]
fn unknown_default_country_is_refused() {
    for bad in ["XX", "USA", "", "1", "ZZ"] {
        assert!(bad.parse::<DefaultCountry>().is_err(), "{bad:?}");
    }
    assert_eq!("gb".parse::<DefaultCountry>().unwrap().code(), "GB");
}
