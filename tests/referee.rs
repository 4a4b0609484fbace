//! Google's libphonenumber (Python `phonenumbers`, pinned to the metadata
//! version rlibphonenumber ships) as referee over about 60,000 caller IDs it
//! generates from its own metadata (tests/referee/corpus.py): every region's
//! example numbers in every format, perturbed the ways caller IDs arrive, the
//! withheld spellings, and random strings. Every disagreement is counted by
//! category; only those listed in [`INTENTIONAL`] are allowed, and each of
//! those must still occur, so the list says what the project does on purpose.

use std::collections::BTreeMap;
use std::process::Command;

use connect_blocklist::phone::{CallerId, DefaultCountry, Normalizer};
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    input: String,
    country: String,
    category: String,
    /// libphonenumber's E.164 number, when it reads a valid one.
    referee: Option<String>,
    /// One of the spellings carriers use for a withheld number.
    withheld: bool,
}

/// How the project's reading compares with the referee's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    /// The same valid number, or both find none.
    Agree,
    /// A withheld spelling the referee finds no valid number in.
    WithheldAsIntended,
    /// Both valid, different numbers.
    DifferentNumber,
    /// The project reads a valid number the referee does not.
    ReadWhereRefereeRefuses,
    /// The referee reads a valid number the project refuses.
    RefusedAValidNumber,
    /// The referee reads a valid number of more than 15 digits.
    RefusedOverFifteenDigits,
    /// The project says withheld where the referee reads a valid number.
    WithheldAValidNumber,
    /// The project says withheld for text that is no withheld spelling.
    WithheldOtherText,
    /// A present caller ID read as missing.
    Missing,
}

/// The disagreements kept on purpose: (category, or `None` for any; outcome; why).
const INTENTIONAL: &[(Option<&str>, Outcome, &str)] = &[
    (
        Some("sip-uri"),
        Outcome::ReadWhereRefereeRefuses,
        "libphonenumber reads no SIP URI (`sip:+44…@host` is not a number to it); a caller \
         ID from a SIP trunk is one, so the project reads its user part as the number",
    ),
    (
        None,
        Outcome::RefusedOverFifteenDigits,
        "E.164 numbers have at most 15 digits (ITU-T E.164), and Connect presents caller \
         IDs in E.164; libphonenumber's metadata lets some German and Nigerian numbers run \
         longer (`+4980001234567890`), which the project refuses as not a valid number",
    ),
];

fn outcome(case: &Case, ours: &CallerId) -> Outcome {
    match (ours, &case.referee) {
        (CallerId::Valid(n), Some(want)) if n.as_str() == want => Outcome::Agree,
        (CallerId::Valid(_), Some(_)) => Outcome::DifferentNumber,
        (CallerId::Valid(_), None) => Outcome::ReadWhereRefereeRefuses,
        (CallerId::Invalid(_), None) => Outcome::Agree,
        (CallerId::Invalid(_), Some(want)) if want.len() > 16 => Outcome::RefusedOverFifteenDigits,
        (CallerId::Invalid(_), Some(_)) => Outcome::RefusedAValidNumber,
        (CallerId::Anonymous, Some(_)) => Outcome::WithheldAValidNumber,
        (CallerId::Anonymous, None) if case.withheld => Outcome::WithheldAsIntended,
        (CallerId::Anonymous, None) => Outcome::WithheldOtherText,
        (CallerId::Missing, _) => Outcome::Missing,
    }
}

/// The corpus with the referee's verdicts, from the pinned `phonenumbers`.
fn corpus() -> Vec<Case> {
    let python = std::env::var("REFEREE_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/referee/corpus.py");
    let out = Command::new(&python)
        .arg(script)
        .output()
        .unwrap_or_else(|e| panic!("could not run {python}: {e}"));
    assert!(
        out.status.success(),
        "{script} failed; install the referee with \
         `pip install -r tools/requirements-ci.txt` (scripts/local-dynamodb.sh install):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("the corpus is UTF-8")
        .lines()
        .map(|line| serde_json::from_str(line).expect("a corpus line"))
        .collect()
}

/// The project and the referee agree on every caller ID except where
/// [`INTENTIONAL`] says why not.
#[test]
fn libphonenumber_referee_agrees_except_where_intended() {
    let cases = corpus();
    assert!(cases.len() >= 50_000, "{} cases", cases.len());
    let mut normalizers: BTreeMap<String, Normalizer> = BTreeMap::new();
    let mut tally: BTreeMap<(String, Outcome), usize> = BTreeMap::new();
    let mut examples: BTreeMap<(String, Outcome), Vec<String>> = BTreeMap::new();
    for case in &cases {
        let normalizer = normalizers.entry(case.country.clone()).or_insert_with(|| {
            Normalizer::new(case.country.parse::<DefaultCountry>().expect("a region"))
        });
        let ours = normalizer.classify(Some(&case.input));
        let key = (case.category.clone(), outcome(case, &ours));
        *tally.entry(key.clone()).or_default() += 1;
        let seen = examples.entry(key).or_default();
        if seen.len() < 5 {
            seen.push(format!(
                "{:?} ({}): ours {ours:?}, referee {:?}",
                case.input, case.country, case.referee
            ));
        }
    }

    let intended = |category: &str, outcome: Outcome| {
        INTENTIONAL
            .iter()
            .any(|(c, o, _)| c.is_none_or(|c| c == category) && *o == outcome)
    };
    let mut report = String::new();
    let mut unintended = Vec::new();
    for ((category, outcome), count) in &tally {
        report.push_str(&format!("{category:28} {outcome:?}: {count}\n"));
        let fine = matches!(outcome, Outcome::Agree | Outcome::WithheldAsIntended)
            || intended(category, *outcome);
        if !fine {
            unintended.push(format!(
                "{category} {outcome:?} ({count}):\n  {}",
                examples[&(category.clone(), *outcome)].join("\n  ")
            ));
        }
    }
    println!(
        "{} caller IDs, by category and outcome:\n{report}",
        cases.len()
    );
    assert!(
        unintended.is_empty(),
        "disagreements with libphonenumber not listed as intended:\n{}\n\nall:\n{report}",
        unintended.join("\n")
    );
    for (category, outcome, why) in INTENTIONAL {
        let occurs = tally
            .keys()
            .any(|(c, o)| category.is_none_or(|want| want == c) && o == outcome);
        assert!(
            occurs,
            "{category:?} {outcome:?} no longer occurs: remove it from INTENTIONAL ({why})"
        );
    }
}
