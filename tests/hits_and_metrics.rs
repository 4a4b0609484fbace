//! Hit counts on blocked calls (atomic under concurrency, off with
//! RECORD_HITS=false, never failing the answer) and the EMF metrics lines.
//! Needs UpdateItem with ADD and conditions: both servers.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use blocklist_harness::connect_event::connect_event;
use common::{Server, checker, new_table, put_block, put_rule, rules_table_for};
use std::collections::HashMap;

use connect_blocklist::admin::tables::create_table;
use connect_blocklist::answer::MatchType;
use connect_blocklist::config::Config;
use connect_blocklist::entry::Kind;
use connect_blocklist::metrics::{METRIC_NAMES, MetricsSink};
use connect_blocklist::phone::E164;
use connect_blocklist::rules::RuleSet;
use connect_blocklist::store::{BlocklistStore, DynamoStore, StoreError, attr};
use serde_json::Value;

async fn count_of(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    key: (&str, &str),
) -> (u64, Option<String>) {
    let item = client
        .get_item()
        .table_name(table)
        .key(key.0, AttributeValue::S(key.1.to_owned()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    let count = match item.get("blockCount") {
        Some(AttributeValue::N(n)) => n.parse().unwrap(),
        _ => 0,
    };
    let last = match item.get("lastBlockedAt") {
        Some(AttributeValue::S(s)) => Some(s.clone()),
        _ => None,
    };
    (count, last)
}

/// Waits until the count stops rising (writes may finish after the answers).
async fn settled_count(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    key: (&str, &str),
    want: u64,
) -> u64 {
    let mut count = 0;
    for _ in 0..100 {
        count = count_of(client, table, key).await.0;
        if count >= want {
            tokio::time::sleep(Duration::from_millis(200)).await;
            return count_of(client, table, key).await.0;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    count
}

async fn concurrent_blocked_calls_lose_no_increments(server: Server) {
    let (client, table) = new_table(server).await;
    put_block(&client, &table, "+14155550123", "spam").await;
    put_rule(&client, &table, "prefix", "+1900", &[("reason", "premium")]).await;
    let c = Arc::new(checker(client.clone(), &table, &[]));
    c.warm_up().await;
    let mut calls = Vec::new();
    for i in 0..40 {
        let c = c.clone();
        let address = if i % 4 == 0 {
            "+19007771234"
        } else {
            "+14155550123"
        };
        calls.push(tokio::spawn(async move {
            c.handle(&connect_event(Some(address))).await
        }));
    }
    for call in calls {
        assert!(call.await.unwrap().is_blocked);
    }
    assert_eq!(
        settled_count(&client, &table, ("phoneNumber", "+14155550123"), 30).await,
        30
    );
    let rules = rules_table_for(&table);
    assert_eq!(
        settled_count(&client, &rules, ("ruleKey", "prefix#+1900"), 10).await,
        10
    );
    let (_, last) = count_of(&client, &table, ("phoneNumber", "+14155550123")).await;
    assert!(
        last.is_some_and(|t| t.starts_with("20")),
        "lastBlockedAt is set"
    );
    // An allowed call counts nothing, and no entry is created for it.
    c.handle(&connect_event(Some("+14155550199"))).await;
    let missing = client
        .get_item()
        .table_name(&table)
        .key("phoneNumber", AttributeValue::S("+14155550199".into()))
        .send()
        .await
        .unwrap();
    assert!(missing.item.is_none());
}

async fn record_hits_false_counts_nothing(server: Server) {
    let (client, table) = new_table(server).await;
    put_block(&client, &table, "+14155550123", "spam").await;
    let c = checker(client.clone(), &table, &[("RECORD_HITS", "false")]);
    for _ in 0..3 {
        assert!(
            c.handle(&connect_event(Some("+14155550123")))
                .await
                .is_blocked
        );
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        count_of(&client, &table, ("phoneNumber", "+14155550123")).await,
        (0, None)
    );
}

/// Items in `table` (a scan; the tests' tables are small).
async fn items_in(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
) -> Vec<HashMap<String, AttributeValue>> {
    let page = client.scan().table_name(table).send().await.unwrap();
    page.items().to_vec()
}

/// Four containers (each its own client and checker) take 40 calls from
/// one number at once with RATE_LIMIT_CALLS=10: exactly 10 get through and
/// 30 are rate limited, and the window's counter says 40. With the limit
/// off, nothing is counted at all.
async fn concurrent_containers_count_calls_exactly(server: Server) {
    let (client, table) = new_table(server).await;
    let counters = format!("{table}-counters");
    create_table(&client, &counters, &[attr::COUNTER_KEY])
        .await
        .unwrap();
    let limited = [
        ("RATE_LIMIT_CALLS", "10"),
        ("COUNTERS_TABLE_NAME", counters.as_str()),
    ];
    let mut containers = Vec::new();
    for _ in 0..4 {
        let c = Arc::new(checker(
            common::client_for(&server.endpoint()).await,
            &table,
            &limited,
        ));
        c.warm_up().await;
        containers.push(c);
    }
    let mut calls = Vec::new();
    for i in 0..40 {
        let c = containers[i % 4].clone();
        calls.push(tokio::spawn(async move {
            c.handle(&connect_event(Some("+14155550123"))).await
        }));
    }
    let mut limited_calls = 0;
    for call in calls {
        let answer = call.await.unwrap();
        if answer.match_type == MatchType::RateLimited {
            limited_calls += 1;
            assert_eq!(answer.block_action, "message");
        } else {
            assert!(!answer.is_blocked, "{answer:?}");
        }
    }
    assert_eq!(limited_calls, 30);
    let items = items_in(&client, &counters).await;
    assert_eq!(
        items.len(),
        1,
        "one counter for one number in one window: {items:?}"
    );
    assert_eq!(
        items[0].get(attr::CALLS),
        Some(&AttributeValue::N("40".into()))
    );
    assert!(items[0].contains_key("expiresAt"), "the counter expires");

    let off_table = format!("{table}-off");
    create_table(&client, &off_table, &[attr::COUNTER_KEY])
        .await
        .unwrap();
    let off = checker(
        client.clone(),
        &table,
        &[("COUNTERS_TABLE_NAME", off_table.as_str())],
    );
    for _ in 0..3 {
        off.handle(&connect_event(Some("+14155550123"))).await;
    }
    assert!(
        items_in(&client, &off_table).await.is_empty(),
        "no UpdateItem while the limit is off"
    );
}

on_both_servers!(
    concurrent_blocked_calls_lose_no_increments,
    record_hits_false_counts_nothing,
    concurrent_containers_count_calls_exactly
);

/// What the store of [`OddHits`] does when asked to write a hit count.
#[derive(Clone, Copy)]
enum HitWrite {
    /// Fails.
    Fail,
    /// Starts a second later, then writes.
    Slow,
}

/// The real store, except for its hit-count writes (see [`HitWrite`]).
#[derive(Clone)]
struct OddHits(DynamoStore, HitWrite);

impl OddHits {
    /// Over `table` (and its rules table), configured by `config`.
    fn new(client: aws_sdk_dynamodb::Client, config: &Config, hits: HitWrite) -> OddHits {
        let store = DynamoStore::for_config(client, config);
        OddHits(store, hits)
    }
}

impl BlocklistStore for OddHits {
    async fn get(
        &self,
        number: &E164,
    ) -> Result<Option<connect_blocklist::entry::Entry>, StoreError> {
        self.0.get(number).await
    }
    async fn load_rules(&self) -> Result<RuleSet, StoreError> {
        self.0.load_rules().await
    }
    async fn record_hit(&self, kind: Kind, value: &str, at: &str) -> Result<(), StoreError> {
        match self.1 {
            HitWrite::Fail => Err(StoreError::Request {
                table: "test".into(),
                message: "AccessDeniedException (simulated)".into(),
            }),
            HitWrite::Slow => {
                tokio::time::sleep(Duration::from_secs(1)).await;
                self.0.record_hit(kind, value, at).await
            }
        }
    }
    async fn count_call(&self, number: &E164, start: i64, expires: i64) -> Result<u64, StoreError> {
        self.0.count_call(number, start, expires).await
    }
}

#[tokio::test]
async fn a_failed_hit_write_never_fails_the_answer() {
    let (client, table) = new_table(Server::Dynalite).await;
    put_block(&client, &table, "+14155550123", "spam").await;
    let config = common::config(&table, &[]);
    let store = OddHits::new(client, &config, HitWrite::Fail);
    let c = connect_blocklist::checker::Checker::new(store, &config);
    let answer = c.handle(&connect_event(Some("+14155550123"))).await;
    assert!(answer.is_blocked);
    assert_eq!(answer.blocked_reason, "spam");
}

/// A `Write` the test can read back.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// A metrics sink writing here.
    fn sink(&self, namespace: &str, service: &str) -> MetricsSink {
        let out: Arc<Mutex<dyn Write + Send>> = Arc::new(Mutex::new(self.clone()));
        MetricsSink::new(namespace, service, out)
    }

    /// What was written so far.
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Checks one line against the EMF specification: `_aws.Timestamp` in
/// epoch milliseconds, `CloudWatchMetrics` directives whose dimensions and
/// metrics name top-level members, metric values numbers, dimension values
/// strings. Returns the parsed document.
fn assert_emf(line: &str) -> Value {
    let doc: Value =
        serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
    let aws = &doc["_aws"];
    let ts = aws["Timestamp"].as_i64().expect("Timestamp is an integer");
    assert!(
        ts > 1_600_000_000_000,
        "Timestamp in epoch milliseconds: {ts}"
    );
    let directives = aws["CloudWatchMetrics"]
        .as_array()
        .expect("CloudWatchMetrics array");
    assert!(!directives.is_empty());
    for d in directives {
        let namespace = d["Namespace"].as_str().expect("Namespace");
        assert!(!namespace.is_empty() && namespace.len() <= 255);
        for set in d["Dimensions"].as_array().expect("Dimensions") {
            let set = set.as_array().expect("a dimension set is an array");
            assert!(!set.is_empty() && set.len() <= 30);
            for name in set {
                let name = name.as_str().unwrap();
                assert!(
                    doc[name].is_string(),
                    "dimension {name} is a top-level string"
                );
            }
        }
        let metrics = d["Metrics"].as_array().expect("Metrics");
        assert!(metrics.len() <= 100);
        for m in metrics {
            let name = m["Name"].as_str().expect("metric Name");
            assert!(doc[name].is_number(), "metric {name} is a top-level number");
            let unit = m["Unit"].as_str().unwrap_or("None");
            assert!(["Count", "Milliseconds", "None"].contains(&unit), "{unit}");
        }
    }
    doc
}

#[tokio::test]
async fn every_call_writes_one_emf_line() {
    let (client, table) = new_table(Server::Dynalite).await;
    put_block(&client, &table, "+14155550123", "spam").await;
    put_rule(&client, &table, "prefix", "+1900", &[]).await;
    let captured = Captured::default();
    let c = checker(client, &table, &[("BLOCK_ANONYMOUS", "true")])
        .with_metrics(captured.sink("ConnectBlocklistTest", "blocklist-fn"));
    for address in ["+14155550123", "+19007771234", "+14155550199", "anonymous"] {
        c.handle(&connect_event(Some(address))).await;
    }
    let text = captured.text();
    let docs: Vec<Value> = text.lines().map(assert_emf).collect();
    assert_eq!(docs.len(), 4);
    let seen: Vec<(String, i64)> = docs
        .iter()
        .map(|d| {
            (
                d["MatchType"].as_str().unwrap().to_owned(),
                d["Blocked"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("exact".into(), 1),
            ("prefix".into(), 1),
            ("none".into(), 0),
            ("anonymous".into(), 1)
        ]
    );
    for d in &docs {
        assert_eq!(d["CallsChecked"], 1);
        assert_eq!(d["Service"], "blocklist-fn");
        assert_eq!(
            d["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "ConnectBlocklistTest"
        );
        let names: Vec<_> = d["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["Name"].as_str().unwrap())
            .collect();
        assert_eq!(names, METRIC_NAMES);
    }
    assert!(docs[0]["LookupLatency"].as_f64().unwrap() > 0.0);
    assert_eq!(
        docs[3]["LookupLatency"], 0.0,
        "nothing looked up for a withheld number"
    );
}

#[tokio::test]
async fn lookup_failures_are_counted() {
    let captured = Captured::default();
    let client = common::client_for(&common::unreachable_endpoint()).await;
    let c = checker(client, "BlockedPhoneNumbers", &[]).with_metrics(captured.sink("N", "s"));
    c.handle(&connect_event(Some("+14155550123"))).await;
    let docs: Vec<Value> = captured.text().lines().map(assert_emf).collect();
    let call = docs
        .iter()
        .find(|d| d["CallsChecked"] == 1)
        .expect("the call's line");
    assert_eq!(
        (
            call["LookupErrors"].as_i64(),
            call["LookupTimeouts"].as_i64()
        ),
        (Some(1), Some(0))
    );
    // The rules could not be loaded either (the first call loads them).
    assert!(docs.iter().any(|d| d["RulesLoadFailed"] == 1), "{docs:?}");
}

/// Lambda freezes the sandbox once the answer is sent, so a write still
/// running then is lost, or retried at the next thaw and counted twice. A
/// hit count that cannot be written within the call's deadline is
/// cancelled, never written later, and counted as `HitCountDropped`.
#[tokio::test]
async fn a_slow_hit_write_is_cancelled_and_counted_not_left_running() {
    let (client, table) = new_table(Server::Dynalite).await;
    put_block(&client, &table, "+14155550123", "spam").await;
    let config = common::config(&table, &[("LOOKUP_TIMEOUT_MS", "300")]);
    let store = OddHits::new(client.clone(), &config, HitWrite::Slow);
    let captured = Captured::default();
    let c = connect_blocklist::checker::Checker::new(store, &config)
        .with_metrics(captured.sink("N", "s"));
    assert!(
        c.handle(&connect_event(Some("+14155550123")))
            .await
            .is_blocked
    );
    // Long enough for a write left running to land.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(
        count_of(&client, &table, ("phoneNumber", "+14155550123")).await,
        (0, None),
        "no write outlives its call"
    );
    let docs: Vec<Value> = captured.text().lines().map(assert_emf).collect();
    let dropped: i64 = docs
        .iter()
        .filter_map(|d| d["HitCountDropped"].as_i64())
        .sum();
    assert_eq!(dropped, 1, "{docs:?}");
}

/// A rules load that fails (the rules table missing) is counted in
/// `RulesLoadFailed`, the metric the template alarms on, once per attempt.
#[tokio::test]
async fn a_failed_rules_load_is_counted() {
    let (client, table) = new_table(Server::Dynalite).await;
    let config = common::config(&table, &[("RULES_TABLE_NAME", "no-such-rules-table")]);
    let store = DynamoStore::for_config(client, &config);
    let captured = Captured::default();
    let c = connect_blocklist::checker::Checker::new(store, &config)
        .with_metrics(captured.sink("N", "s"));
    assert!(!c.warm_up().await.rules_loaded);
    let docs: Vec<Value> = captured.text().lines().map(assert_emf).collect();
    let failed: i64 = docs
        .iter()
        .filter_map(|d| d["RulesLoadFailed"].as_i64())
        .sum();
    assert_eq!(failed, 1, "{docs:?}");
}
