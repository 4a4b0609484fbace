//! Handler latency over a bare GetItem, on the same local server.
//!
//! Run with `bench/lookup.sh` (starts dynalite), or with `DYNALITE_ENDPOINT`
//! set: `cargo bench --bench lookup`. Prints p50/p90/p99 of a bare SDK
//! GetItem and of the whole handler (event parsing, normalization, rules
//! match, GetItem under the deadline, decision, answer serialization) for a
//! blocked number: first with no rules, then with `BENCH_PREFIX_RULES`
//! (default 10,000) prefix rules and `BENCH_ALLOW_ENTRIES` (default 1,000)
//! allow entries loaded.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::Credentials;
use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use blocklist_harness::connect_event::connect_event;
use connect_blocklist::admin::tables::create_table;
use connect_blocklist::answer::{Answer, MatchType};
use connect_blocklist::aws::{ClientOptions, dynamodb_client};
use connect_blocklist::checker::Checker;
use connect_blocklist::config::Config;
use connect_blocklist::store::{DynamoStore, attr};
use serde_json::Value;

const WARMUP: usize = 300;
const SAMPLES: usize = 3_000;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn report(name: &str, mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let p50 = percentile(&samples, 0.50);
    println!(
        "{name:<28} p50 {:7.3} ms   p90 {:7.3} ms   p99 {:7.3} ms   max {:7.3} ms   (n={})",
        ms(p50),
        ms(percentile(&samples, 0.90)),
        ms(percentile(&samples, 0.99)),
        ms(*samples.last().unwrap_or(&Duration::ZERO)),
        samples.len()
    );
    p50
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let Ok(endpoint) = std::env::var("DYNALITE_ENDPOINT") else {
        eprintln!("DYNALITE_ENDPOINT is not set: run bench/lookup.sh");
        std::process::exit(2);
    };
    let bench = Bench::set_up(&endpoint).await;
    // Decision log lines would dominate the measurement: no subscriber is installed.
    let checker = bench.checker();
    // This checker loads the (still empty) rules now and keeps them: the
    // refresh interval is an hour.
    checker.warm_up().await;

    let rules = RuleCounts::from_env();
    bench.load_rules(rules).await;
    let loaded = bench.checker();
    let started = Instant::now();
    loaded.warm_up().await;
    println!(
        "rules load at init: {} prefix rules + {} allow entries in {:.1} ms",
        rules.prefixes,
        rules.allows,
        started.elapsed().as_secs_f64() * 1000.0
    );

    println!(
        "endpoint {endpoint}, {SAMPLES} samples of each, interleaved, after {WARMUP} warm-up rounds"
    );
    let samples = bench.measure(&checker, &loaded).await;
    print_results(rules, samples);
}

/// The client and the tables of one run, and the function configuration
/// that names them.
struct Bench {
    client: Client,
    table: String,
    rules_table: String,
    config: Config,
}

/// How many rules [`Bench::load_rules`] writes: `BENCH_PREFIX_RULES`
/// (default 10,000) prefix rules and `BENCH_ALLOW_ENTRIES` (default 1,000)
/// allow entries.
#[derive(Debug, Clone, Copy)]
struct RuleCounts {
    prefixes: usize,
    allows: usize,
}

impl RuleCounts {
    fn from_env() -> RuleCounts {
        let count = |var: &str, default: usize| {
            std::env::var(var)
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(default)
        };
        RuleCounts {
            prefixes: count("BENCH_PREFIX_RULES", 10_000),
            allows: count("BENCH_ALLOW_ENTRIES", 1_000),
        }
    }
}

/// The measured times, warm-up rounds left out.
struct Samples {
    bare: Vec<Duration>,
    handler: Vec<Duration>,
    with_rules: Vec<Duration>,
}

impl Bench {
    /// Creates this run's blocklist table, blocking +14155550123 (the
    /// number every measured call comes from), and its empty rules table.
    async fn set_up(endpoint: &str) -> Bench {
        let client: Client = dynamodb_client(&ClientOptions {
            region: Some("us-east-1".into()),
            endpoint_url: Some(endpoint.to_owned()),
            credentials: Some(Credentials::new("local", "local", None, None, "bench")),
            ..ClientOptions::default()
        })
        .await;
        let table = format!("bench-{}", std::process::id());
        create_table(&client, &table, &[attr::PHONE_NUMBER])
            .await
            .expect("create table");
        client
            .put_item()
            .table_name(&table)
            .item("phoneNumber", AttributeValue::S("+14155550123".into()))
            .item("reason", AttributeValue::S("robocaller".into()))
            .item(
                "createdAt",
                AttributeValue::S("2026-11-27T00:00:00Z".into()),
            )
            .send()
            .await
            .expect("seed");

        let rules_table = format!("{table}-rules");
        create_table(&client, &rules_table, &[attr::RULE_KEY])
            .await
            .expect("create rules table");
        let config = Config::from_lookup(|name| match name {
            "TABLE_NAME" => Some(table.clone()),
            "RULES_TABLE_NAME" => Some(rules_table.clone()),
            // Long enough that no reload happens while measuring.
            "RULES_REFRESH_SECONDS" => Some("3600".into()),
            // The decision path only: a blocked call's hit-count write (one
            // UpdateItem, waited on for at most 25 ms) is not part of it.
            "RECORD_HITS" => Some("false".into()),
            _ => None,
        })
        .expect("config");
        Bench {
            client,
            table,
            rules_table,
            config,
        }
    }

    /// A checker over this run's tables; it reads the rules when warmed up.
    fn checker(&self) -> Checker<DynamoStore> {
        Checker::new(
            DynamoStore::new(self.client.clone(), &self.table, &self.rules_table),
            &self.config,
        )
    }

    /// Fills the rules table and publishes it, for a second checker: prefixes
    /// that do not match the caller (so the exact entry decides, and every
    /// prefix length is probed) and allow entries for other numbers.
    async fn load_rules(&self, rules: RuleCounts) {
        let mut items = Vec::new();
        for i in 0..rules.prefixes {
            items.push(rule_item("prefix", &format!("+44{:06}", 100_000 + i)));
        }
        for i in 0..rules.allows {
            items.push(rule_item("allow", &format!("+1212555{:04}", i)));
        }
        for batch in items.chunks(25) {
            self.write_batch(batch).await;
        }
        // Publish them for the Lambda, as the CLI does after a rule change.
        let published = connect_blocklist::admin::publish::publish_rules_table(
            &self.client,
            &self.rules_table,
            "bench",
        )
        .await
        .expect("publish");
        assert_eq!(published, rules.prefixes + rules.allows);
    }

    /// Writes up to 25 rule items (one BatchWriteItem) to the rules table.
    async fn write_batch(&self, batch: &[HashMap<String, AttributeValue>]) {
        let requests = batch
            .iter()
            .map(|item| {
                WriteRequest::builder()
                    .put_request(
                        PutRequest::builder()
                            .set_item(Some(item.clone()))
                            .build()
                            .expect("put"),
                    )
                    .build()
            })
            .collect();
        let out = self
            .client
            .batch_write_item()
            .request_items(&self.rules_table, requests)
            .send()
            .await
            .expect("batch");
        assert!(
            out.unprocessed_items.is_none_or(|u| u.is_empty()),
            "local server left items unprocessed"
        );
    }

    /// Times the three paths interleaved, call by call, so that drift in the
    /// server or the machine weighs on all three alike: a bare GetItem, the
    /// handler of `checker` (no rules) and of `loaded` (many rules).
    async fn measure(
        &self,
        checker: &Checker<DynamoStore>,
        loaded: &Checker<DynamoStore>,
    ) -> Samples {
        let event = connect_event(Some("+14155550123"));
        let (mut bare, mut handler, mut with_rules) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..WARMUP + SAMPLES {
            let bare_time = self.time_get_item().await;

            let (answer, handler_time) = time_handler(checker, &event).await;
            assert!(answer.is_blocked);

            let (answer, rules_time) = time_handler(loaded, &event).await;
            assert_eq!(answer.match_type, MatchType::Exact);

            if round >= WARMUP {
                bare.push(bare_time);
                handler.push(handler_time);
                with_rules.push(rules_time);
            }
        }
        Samples {
            bare,
            handler,
            with_rules,
        }
    }

    /// How long one GetItem of the blocked number takes.
    async fn time_get_item(&self) -> Duration {
        let t = Instant::now();
        self.client
            .get_item()
            .table_name(&self.table)
            .key("phoneNumber", AttributeValue::S("+14155550123".into()))
            .send()
            .await
            .expect("get");
        t.elapsed()
    }
}

/// `checker`'s answer to `event`, and how long the handler took to give it,
/// serialization included (as the runtime sends it).
async fn time_handler(checker: &Checker<DynamoStore>, event: &Value) -> (Answer, Duration) {
    let t = Instant::now();
    let answer = checker.handle(event).await;
    std::hint::black_box(serde_json::to_vec(&answer).expect("serialize"));
    (answer, t.elapsed())
}

/// Prints each path's percentiles, then the differences at p50 and the
/// `result` lines.
fn print_results(rules: RuleCounts, samples: Samples) {
    let bare_p50 = report("bare GetItem", samples.bare);
    let handler_p50 = report("handler, no rules", samples.handler);
    let rules_p50 = report(
        &format!("handler, {}+{} rules", rules.prefixes, rules.allows),
        samples.with_rules,
    );
    let ms = |a: Duration, b: Duration| (a.as_secs_f64() - b.as_secs_f64()) * 1000.0;
    println!(
        "handler overhead over the bare GetItem at p50: {:.3} ms",
        ms(handler_p50, bare_p50)
    );
    println!(
        "cost of the rules at p50: {:.3} ms",
        ms(rules_p50, handler_p50)
    );
    println!(
        "result warm_bare_getitem_p50_ms={:.3}",
        bare_p50.as_secs_f64() * 1000.0
    );
    println!(
        "result warm_handler_p50_ms={:.3}",
        handler_p50.as_secs_f64() * 1000.0
    );
    println!(
        "result warm_handler_overhead_p50_ms={:.3}",
        ms(handler_p50, bare_p50)
    );
    println!(
        "result warm_rules_cost_p50_ms={:.3}",
        ms(rules_p50, handler_p50)
    );
}

/// One item of the rules table.
fn rule_item(kind: &str, value: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([
        (
            "ruleKey".to_owned(),
            AttributeValue::S(format!("{kind}#{value}")),
        ),
        ("kind".to_owned(), AttributeValue::S(kind.to_owned())),
        (
            "phoneNumber".to_owned(),
            AttributeValue::S(value.to_owned()),
        ),
        ("reason".to_owned(), AttributeValue::S("bench".to_owned())),
    ])
}
