//! Caller-ID normalization cost with rlibphonenumber: the first parse (which
//! loads the metadata) and the steady-state cost per number with many
//! countries rotating (the inputs of tests/data/normalization-referee.json).
//! Run: `cargo bench --bench normalize` (no server needed).

use std::time::Instant;

use connect_blocklist::phone::{DefaultCountry, Normalizer};
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    input: String,
    country: String,
}

fn main() {
    let started = Instant::now();
    let us = Normalizer::new(DefaultCountry::default());
    std::hint::black_box(us.classify(Some("+14155550123")));
    println!(
        "first parse (metadata load): {:.2} ms",
        started.elapsed().as_secs_f64() * 1000.0
    );

    let cases: Vec<Case> =
        serde_json::from_str(include_str!("../tests/data/normalization-referee.json"))
            .expect("referee file");
    let inputs: Vec<(Normalizer, String)> = cases
        .into_iter()
        .map(|c| {
            (
                Normalizer::new(c.country.parse().expect("country")),
                c.input,
            )
        })
        .collect();
    let countries: std::collections::BTreeSet<_> =
        inputs.iter().map(|(n, _)| format!("{n:?}")).collect();
    let rounds = 2_000;
    let started = Instant::now();
    for _ in 0..rounds {
        for (normalizer, input) in &inputs {
            std::hint::black_box(normalizer.classify(Some(input)));
        }
    }
    let per = started.elapsed().as_secs_f64() / (rounds * inputs.len()) as f64;
    println!(
        "steady state: {:.2} µs per number ({} inputs, {} countries rotating, {} rounds)",
        per * 1e6,
        inputs.len(),
        countries.len(),
        rounds
    );
}
