//! Caller-ID normalization cost with rlibphonenumber, measured by criterion:
//! nanoseconds per number over a mixed international set (the 54 inputs from
//! 15 countries of tests/data/normalization-referee.json, each with its own
//! default country, in rotation). Before criterion runs, the cost of the
//! first parse (which loads the metadata) is timed once and printed, since
//! it falls on a cold start's path.
//! Run: `cargo bench --bench normalize` (no server needed).

use std::time::Instant;

use connect_blocklist::phone::{DefaultCountry, Normalizer};
use criterion::{Criterion, Throughput};
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    input: String,
    country: String,
}

fn first_parse() {
    let started = Instant::now();
    let us = Normalizer::new(DefaultCountry::default());
    std::hint::black_box(us.classify(Some("+14155550123")));
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    println!("first parse (metadata load): {ms:.2} ms");
    println!("result normalize_first_parse_ms={ms:.2}");
}

fn mixed_international(c: &mut Criterion) {
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
    let countries: std::collections::BTreeSet<String> =
        inputs.iter().map(|(n, _)| format!("{n:?}")).collect();
    let name = format!(
        "normalize/mixed_international ({} inputs, {} countries)",
        inputs.len(),
        countries.len()
    );
    let mut group = c.benchmark_group("normalize");
    group.throughput(Throughput::Elements(inputs.len() as u64));
    group.bench_function("mixed_international", |b| {
        b.iter(|| {
            for (normalizer, input) in &inputs {
                std::hint::black_box(normalizer.classify(Some(std::hint::black_box(input))));
            }
        })
    });
    group.finish();
    // criterion's own estimate (mean time per iteration of all inputs), from
    // the file it has just written.
    let estimates = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/criterion/normalize/mixed_international/new/estimates.json");
    let mean_ns = std::fs::read_to_string(&estimates)
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|json| json["mean"]["point_estimate"].as_f64());
    if let Some(mean_ns) = mean_ns {
        let ns = mean_ns / inputs.len() as f64;
        println!("{name}: {ns:.0} ns per number (criterion's mean estimate)");
        println!("result normalize_ns_per_number={ns:.0}");
    }
}

fn main() {
    first_parse();
    let mut criterion = Criterion::default().configure_from_args();
    mixed_international(&mut criterion);
    criterion.final_summary();
}
