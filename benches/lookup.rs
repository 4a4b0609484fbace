//! Handler latency over a bare GetItem, on the same local server.
//!
//! Run with `bench/lookup.sh` (starts dynalite), or with `DYNALITE_ENDPOINT`
//! set: `cargo bench --bench lookup`. Prints p50/p90/p99 of a bare SDK
//! GetItem and of the whole handler (event parsing, normalization, GetItem
//! under the deadline, decision, answer serialization) for a blocked number.

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::Credentials;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};
use connect_blocklist::aws::{ClientOptions, dynamodb_client};
use connect_blocklist::checker::Checker;
use connect_blocklist::config::Config;
use connect_blocklist::store::DynamoStore;
use serde_json::json;

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

async fn time<F, Fut>(mut f: F) -> Vec<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for _ in 0..WARMUP {
        f().await;
    }
    let mut samples = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let start = Instant::now();
        f().await;
        samples.push(start.elapsed());
    }
    samples
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let Ok(endpoint) = std::env::var("DYNALITE_ENDPOINT") else {
        eprintln!("DYNALITE_ENDPOINT is not set: run bench/lookup.sh");
        std::process::exit(2);
    };
    let client: Client = dynamodb_client(&ClientOptions {
        region: Some("us-east-1".into()),
        endpoint_url: Some(endpoint.clone()),
        attempt_timeout: None,
        credentials: Some(Credentials::new("local", "local", None, None, "bench")),
    })
    .await;
    let table = format!("bench-{}", std::process::id());
    client
        .create_table()
        .table_name(&table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("phoneNumber")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("valid definition"),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("phoneNumber")
                .key_type(KeyType::Hash)
                .build()
                .expect("valid key"),
        )
        .send()
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

    let config =
        Config::from_lookup(|name| (name == "TABLE_NAME").then(|| table.clone())).expect("config");
    let store = DynamoStore::new(client.clone(), &table, &config.rules_table_name);
    let checker = Checker::new(store, &config);
    let event = json!({
        "Name": "ContactFlowEvent",
        "Details": {"ContactData": {"Channel": "VOICE", "ContactId": "bench",
            "CustomerEndpoint": {"Address": "+14155550123", "Type": "TELEPHONE_NUMBER"}}, "Parameters": {}}
    });
    // Decision log lines would dominate the measurement: no subscriber is installed.
    println!("endpoint {endpoint}, {SAMPLES} samples after {WARMUP} warm-up calls each");
    let bare = time(|| async {
        client
            .get_item()
            .table_name(&table)
            .key("phoneNumber", AttributeValue::S("+14155550123".into()))
            .send()
            .await
            .expect("get");
    })
    .await;
    let handler = time(|| async {
        let answer = checker.handle(&event).await;
        assert!(answer.is_blocked);
        std::hint::black_box(serde_json::to_vec(&answer).expect("serialize"));
    })
    .await;
    let bare_p50 = report("bare GetItem", bare);
    let handler_p50 = report("handler (event -> answer)", handler);
    println!(
        "handler overhead at p50: {:.3} ms",
        (handler_p50.as_secs_f64() - bare_p50.as_secs_f64()) * 1000.0
    );
}
