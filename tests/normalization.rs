//! Caller IDs as contact centres see them: withheld ones, URIs, pasted
//! text, and inputs that must not crash the parser. tests/referee.rs holds
//! the normalizer to libphonenumber over every region.

use connect_blocklist::phone::{
    CallerId, DefaultCountry, InvalidReason, Normalizer, is_withheld_text,
};

fn normalizer(country: &str) -> Normalizer {
    Normalizer::new(country.parse::<DefaultCountry>().expect("known country"))
}

/// Asserts that each input reads as `want` with `country` as the default.
fn assert_reads(country: &str, want: &str, inputs: &[&str]) {
    let n = normalizer(country);
    for raw in inputs {
        match n.classify(Some(raw)) {
            CallerId::Valid(e164) => assert_eq!(e164.as_str(), want, "{raw:?}"),
            other => panic!("{raw:?} ({country}): {other:?}, want {want}"),
        }
    }
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
        "Restricted Number",
        "Anonymous Caller",
        "anonymous_caller",
        "P",
        "O",
        "+266696687",
        "266696687",
        "+7378742833",
        "+86282452253",
        "sip:anonymous@anonymous.invalid",
        "<sip:anonymous@anonymous.invalid>",
        "Tel:+266696687",
    ] {
        assert_eq!(n.classify(Some(raw)), CallerId::Anonymous, "{raw:?}");
        assert!(is_withheld_text(raw), "{raw:?}");
    }
}

/// Keypad spellings are withheld only where they are not a number: with
/// DEFAULT_COUNTRY=US `7378742833` is +1 737-874-2833, in Austin. Failed
/// before: it was read as withheld, never looked up.
#[test]
fn keypad_spellings_that_are_numbers_are_read_as_numbers() {
    assert_reads("US", "+17378742833", &["7378742833", "tel:7378742833"]);
    let n = normalizer("US");
    assert_eq!(n.classify(Some("+7378742833")), CallerId::Anonymous);
    assert_eq!(n.classify(Some("266696687")), CallerId::Anonymous);
    assert_eq!(
        normalizer("AE").classify(Some("7378742833")),
        CallerId::Anonymous
    );
}

#[test]
fn absent_number_is_missing_not_anonymous() {
    assert_eq!(normalizer("US").classify(None), CallerId::Missing);
}

#[test]
fn real_numbers_are_not_taken_for_withheld_ones() {
    let n = normalizer("US");
    for raw in ["+14155550123", "+442079460958", "2665550123"] {
        assert!(!is_withheld_text(raw), "{raw}");
        assert!(
            !matches!(n.classify(Some(raw)), CallerId::Anonymous),
            "{raw}"
        );
    }
}

#[test]
fn uri_forms_are_read_as_numbers() {
    assert_reads(
        "US",
        "+14155550123",
        &[
            "tel:+14155550123",
            "Tel:+1-415-555-0123",
            "TEL:+14155550123",
            "sip:+14155550123@sip.example.com",
            "SIP:+14155550123@sip.example.com",
            "sips:+14155550123@sip.example.com;transport=tls",
            "<sip:+14155550123@10.0.0.1;user=phone>",
            " +1 415 555 0123 ",
            "tel:+1-415-555-0123;ext=12",
            "tel:+1-415-555-0123;isub=12",
            "tel:415-555-0123;phone-context=+1",
            "415-555-0123;phone-context=example.com",
        ],
    );
    // The phone-context's country code, not the default country, decides.
    assert_reads("GB", "+14155550123", &["tel:4155550123;phone-context=+1"]);
}

/// Numbers pasted from spreadsheets, web pages and input methods. Failed
/// before: each was refused as `invalid`.
#[test]
fn pasted_text_is_read_as_libphonenumber_reads_it() {
    assert_reads(
        "US",
        "+14155550123",
        &[
            "+1\u{a0}415\u{a0}555\u{a0}0123",
            "\u{ff0b}\u{ff11}\u{ff14}\u{ff11}\u{ff15}\u{ff15}\u{ff15}\u{ff15}\u{ff10}\u{ff11}\u{ff12}\u{ff13}",
            "+1 4\u{ad}15 555\u{200b}0123",
            "+1 415 555 0123,,12",
            "+1 415 555 0123#12",
            "+1 415 555 0123 x12",
            "+1 415~555 0123",
        ],
    );
    // `*` is punctuation to libphonenumber, not an extension mark: the
    // digits after it are part of the number, which is then too long.
    assert!(matches!(
        normalizer("US").classify(Some("+1 415 555 0123*12")),
        CallerId::Invalid(_)
    ));
    assert_reads(
        "GB",
        "+442079460958",
        &["\u{660}\u{662}\u{660} \u{667}\u{669}\u{664}\u{666} \u{660}\u{669}\u{665}\u{668}"],
    );
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

/// rlibphonenumber 2.2.15 panics on `1;phone-context=+1;tel:2` (see
/// `parser_input` in src/phone.rs); none of these may.
#[test]
fn inputs_known_to_crash_parsers_are_read_without_panicking() {
    let n = normalizer("US");
    for raw in [
        "1;phone-context=+1;tel:2",
        ";phone-context=",
        "tel:1;phone-context=+1;tel:2",
        "4155550123;phone-context=+1;tel:2",
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
    // libphonenumber reads the context alone there: a whole number in it is read.
    assert_reads(
        "US",
        "+14155550123",
        &["1;phone-context=+14155550123;tel:2"],
    );
}

/// Random strings over every character the normalizer lets through to the
/// parser: none may panic, whatever the country.
#[test]
fn parser_never_panics_on_admitted_characters() {
    const ALPHABET: &[char] = &[
        '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '+', '-', '.', '(', ')', '/', ' ', '\t',
        ';', '=', ':', '@', '<', '>', ',', '#', '*', '~', 't', 'e', 'l', 's', 'i', 'p', 'h', 'o',
        'n', 'c', 'x', 'T', 'E', 'L', '\u{a0}', '\u{ad}', '\u{200b}', '\u{ff0b}', '\u{ff11}',
        '\u{661}', 'é', '😀',
    ];
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
                    ALPHABET[(r / 3 % 11) as usize]
                } else {
                    ALPHABET[(r % ALPHABET.len() as u64) as usize]
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
