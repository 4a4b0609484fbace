//! Shared set-up for the integration tests: the local DynamoDB-compatible
//! servers that `scripts/test.sh` (and `.ci/run`) start, unique tables, and
//! a real SDK client pointed at them.
//!
//! Server features the tests rely on:
//! - both dynalite and moto: CreateTable, GetItem, PutItem, DeleteItem, Scan, Query,
//!   BatchWriteItem, conditional writes;
//! - moto only: UpdateTimeToLive / DescribeTimeToLive and TransactWriteItems.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::Credentials;
use aws_sdk_dynamodb::types::AttributeValue;
use connect_blocklist::admin::tables::{create_table, init_audit_table};
use connect_blocklist::aws::{ClientOptions, dynamodb_client};
use connect_blocklist::checker::Checker;
use connect_blocklist::config::Config;
use connect_blocklist::store::{DynamoStore, attr};

/// A local DynamoDB-compatible server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Server {
    /// dynalite: fast, strict validation; no TTL settings, no transactions.
    Dynalite,
    /// moto: slower; has TTL settings and TransactWriteItems.
    Moto,
}

impl Server {
    /// The server's endpoint, from `DYNALITE_ENDPOINT` / `MOTO_ENDPOINT`.
    pub fn endpoint(self) -> String {
        let var = match self {
            Server::Dynalite => "DYNALITE_ENDPOINT",
            Server::Moto => "MOTO_ENDPOINT",
        };
        std::env::var(var).unwrap_or_else(|_| {
            panic!("{var} is not set: run the tests with scripts/test.sh, which starts the local servers")
        })
    }
}

/// Dummy credentials: requests are signed, the local servers accept any key.
pub fn local_credentials() -> Credentials {
    Credentials::new("local", "local", None, None, "tests")
}

/// A real SDK client for `endpoint`.
pub async fn client_for(endpoint: &str) -> Client {
    dynamodb_client(&ClientOptions {
        region: Some("us-east-1".into()),
        endpoint_url: Some(endpoint.to_owned()),
        attempt_timeout: None,
        credentials: Some(local_credentials()),
    })
    .await
}

/// A name no other test (or earlier run against the same server) uses.
pub fn unique_table_name(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "{prefix}-{}-{}-{}",
        std::process::id(),
        nanos % 1_000_000_000_000,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// The rules table that goes with blocklist table `table` in these tests.
pub fn rules_table_for(table: &str) -> String {
    format!("{table}-rules")
}

/// Creates a blocklist table (partition key `phoneNumber`) and its rules
/// table (partition key `ruleKey`, named by [`rules_table_for`]) on `server`.
pub async fn new_table(server: Server) -> (Client, String) {
    let client = client_for(&server.endpoint()).await;
    let table = unique_table_name("blocked");
    create_table(&client, &table, &[attr::PHONE_NUMBER])
        .await
        .unwrap();
    create_table(&client, &rules_table_for(&table), &[attr::RULE_KEY])
        .await
        .unwrap();
    (client, table)
}

/// Creates an audit table (keys `phoneNumber`, `auditId`), as `blocklist init` does.
pub async fn create_audit_table(client: &Client, name: &str) {
    init_audit_table(client, name).await.unwrap();
}

/// Puts a rule (`kind` prefix, allow or allowPrefix) into `table`'s rules
/// table and publishes the rules, as the CLI does.
pub async fn put_rule(
    client: &Client,
    table: &str,
    kind: &str,
    value: &str,
    attrs: &[(&str, &str)],
) {
    let key = format!("{kind}#{value}");
    let mut all = vec![
        ("ruleKey", key.as_str()),
        ("kind", kind),
        ("phoneNumber", value),
    ];
    all.extend_from_slice(attrs);
    put_raw(client, &rules_table_for(table), &all).await;
    publish_rules(client, table).await;
}

/// Publishes `table`'s rules table for the Lambda, as the CLI does after
/// every rule change (see `connect_blocklist::snapshot`).
pub async fn publish_rules(client: &Client, table: &str) {
    let tables = connect_blocklist::admin::Tables {
        blocklist: table.to_owned(),
        rules: rules_table_for(table),
        audit: format!("{table}-audit-unused"),
    };
    let admin = connect_blocklist::admin::Admin::new(
        client.clone(),
        tables,
        "tests",
        connect_blocklist::phone::Normalizer::default(),
    );
    admin.publish_rules().await.unwrap();
}

/// Puts a raw item of string attributes (and `expiresAt` as a number).
pub async fn put_raw(client: &Client, table: &str, attrs: &[(&str, &str)]) {
    let mut req = client.put_item().table_name(table);
    for (name, value) in attrs {
        let v = if *name == "expiresAt" {
            AttributeValue::N((*value).to_owned())
        } else {
            AttributeValue::S((*value).to_owned())
        };
        req = req.item(*name, v);
    }
    req.send().await.unwrap();
}

/// A checker configured by `vars` (as the Lambda's environment) over `table`
/// and its rules table.
pub fn checker(client: Client, table: &str, vars: &[(&str, &str)]) -> Checker<DynamoStore> {
    let config = Config::from_lookup(|name| {
        if let Some((_, v)) = vars.iter().find(|(k, _)| *k == name) {
            return Some((*v).to_owned());
        }
        match name {
            "TABLE_NAME" => Some(table.to_owned()),
            "RULES_TABLE_NAME" => Some(rules_table_for(table)),
            _ => None,
        }
    })
    .unwrap();
    let store = DynamoStore::new(client, &config.table_name, &config.rules_table_name);
    Checker::new(store, &config)
}

/// Generates one `#[tokio::test]` per server for each `async fn name(server: Server)`.
#[macro_export]
macro_rules! on_both_servers {
    ($($name:ident),* $(,)?) => {
        mod dynalite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name($crate::common::Server::Dynalite).await })*
        }
        mod moto {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name($crate::common::Server::Moto).await })*
        }
    };
}
