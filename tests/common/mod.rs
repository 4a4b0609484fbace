//! Shared set-up for the integration tests: the local DynamoDB-compatible
//! servers that `scripts/test.sh` (and `.ci/run`) start, unique tables, and
//! a real SDK client pointed at them.
//!
//! Server features the tests rely on:
//! - both dynalite and moto: CreateTable, GetItem, PutItem, DeleteItem, Scan, Query,
//!   BatchWriteItem, conditional writes;
//! - moto only: UpdateTimeToLive / DescribeTimeToLive and TransactWriteItems.
#![allow(dead_code)]

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::Credentials;
use aws_sdk_dynamodb::types::AttributeValue;
use connect_blocklist::admin::tables::{create_entry_table, init_audit_table};
use connect_blocklist::answer::ANSWER_KEYS;
use connect_blocklist::aws::{ClientOptions, dynamodb_client};
use connect_blocklist::checker::Checker;
use connect_blocklist::config::Config;
use connect_blocklist::store::{DynamoStore, attr};
use serde_json::{Map, Value};

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
        credentials: Some(local_credentials()),
        ..ClientOptions::default()
    })
    .await
}

/// An endpoint where nothing listens: every request is refused.
pub fn unreachable_endpoint() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}", listener.local_addr().unwrap())
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
/// table (partition key `ruleKey`, named by [`rules_table_for`]) on
/// `server`, each with the hit index, as `blocklist init` does.
pub async fn new_table(server: Server) -> (Client, String) {
    let client = client_for(&server.endpoint()).await;
    let table = unique_table_name("blocked");
    create_entry_table(&client, &table, attr::PHONE_NUMBER)
        .await
        .unwrap();
    create_entry_table(&client, &rules_table_for(&table), attr::RULE_KEY)
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
    connect_blocklist::admin::publish::publish_rules_table(
        client,
        &rules_table_for(table),
        "tests",
    )
    .await
    .unwrap();
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

/// Puts a block entry for `number` with `reason` straight into `table`.
pub async fn put_block(client: &Client, table: &str, number: &str, reason: &str) {
    put_raw(
        client,
        table,
        &[("phoneNumber", number), ("reason", reason)],
    )
    .await;
}

/// The Lambda's configuration from `vars` (as its environment), over
/// `table` and its rules table.
pub fn config(table: &str, vars: &[(&str, &str)]) -> Config {
    Config::from_lookup(|name| {
        if let Some((_, v)) = vars.iter().find(|(k, _)| *k == name) {
            return Some((*v).to_owned());
        }
        match name {
            "TABLE_NAME" => Some(table.to_owned()),
            "RULES_TABLE_NAME" => Some(rules_table_for(table)),
            _ => None,
        }
    })
    .unwrap()
}

/// A checker configured by `vars` (as the Lambda's environment) over `table`
/// and its rules table.
pub fn checker(client: Client, table: &str, vars: &[(&str, &str)]) -> Checker<DynamoStore> {
    let config = config(table, vars);
    let store = DynamoStore::for_config(client, &config);
    Checker::new(store, &config)
}

/// The handler's answer to `event` as Connect receives it, checked by
/// [`assert_flat`].
pub async fn answer(c: &Checker<DynamoStore>, event: &Value) -> Map<String, Value> {
    let value = serde_json::to_value(c.handle(event).await).unwrap();
    let map = value.as_object().unwrap().clone();
    assert_flat(&map);
    map
}

/// Checks the answer's values for the `expected` keys in one assertion,
/// showing the whole answer when any differs.
pub fn assert_fields(answer: &Map<String, Value>, expected: &[(&str, &str)]) {
    let got: Vec<(&str, &str)> = expected
        .iter()
        .map(|&(key, _)| (key, answer[key].as_str().unwrap_or("<not a string>")))
        .collect();
    assert_eq!(got, expected, "{answer:?}");
}

/// The answer as Connect needs it: every key of `ANSWER_KEYS`, every value a
/// string, the whole under Connect's 32 KiB limit.
pub fn assert_flat(answer: &Map<String, Value>) {
    let keys: Vec<&str> = answer.keys().map(String::as_str).collect();
    assert_eq!(keys, ANSWER_KEYS, "every key present: {answer:?}");
    assert!(
        answer.values().all(Value::is_string),
        "all values strings: {answer:?}"
    );
    assert!(serde_json::to_string(answer).unwrap().len() < 32 * 1024);
}

/// Points a function or CLI process at the local server `endpoint`, with the
/// dummy credentials and nothing of the caller's own AWS set-up. STS is
/// moto's (the CLI records the caller's identity in the audit trail).
pub fn local_aws_env<'c>(command: &'c mut Command, endpoint: &str) -> &'c mut Command {
    command
        .env("AWS_ENDPOINT_URL_DYNAMODB", endpoint)
        .env("AWS_ENDPOINT_URL_STS", Server::Moto.endpoint())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "local")
        .env("AWS_SECRET_ACCESS_KEY", "local")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env("AWS_EC2_METADATA_DISABLED", "true")
}

/// A Lambda binary (`env!("CARGO_BIN_EXE_bootstrap")` or `..._report`)
/// to answer the sample events `files` (in events/, or absolute paths),
/// pointed at `server` with `table` and its rules table.
pub fn lambda_on_event_files(binary: &str, server: Server, table: &str, files: &[&str]) -> Command {
    let mut command = Command::new(binary);
    command.arg("--event");
    let events = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("events");
    for file in files {
        command.arg(events.join(file));
    }
    local_aws_env(&mut command, &server.endpoint())
        .env("TABLE_NAME", table)
        .env("RULES_TABLE_NAME", rules_table_for(table));
    command
}

/// The answers a Lambda binary printed for its `--event` files (a line
/// each: the file, a tab, the answer), once it exited successfully.
pub fn event_file_answers(out: &std::process::Output) -> Vec<Value> {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l.split_once('\t').unwrap().1).unwrap())
        .collect()
}

/// The `blocklist` CLI pointed at `server` and these tables (the rules
/// table named by [`rules_table_for`]), whatever the caller's environment.
pub fn blocklist_cli(server: Server, table: &str, audit: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_blocklist"));
    command
        .args([
            "--endpoint-url",
            &server.endpoint(),
            "--region",
            "us-east-1",
        ])
        .args(["--table", table, "--audit-table", audit])
        .args(["--rules-table", &rules_table_for(table)])
        .args(["--counters-table", &format!("{table}-counters")])
        // `check` waits LOOKUP_TIMEOUT_MS (1.5 s by default) for its first
        // GetItem on a new connection: more on a loaded 2-core CI machine.
        .env("LOOKUP_TIMEOUT_MS", "5000")
        .env("AWS_ACCESS_KEY_ID", "local")
        .env("AWS_SECRET_ACCESS_KEY", "local")
        // moto answers sts:GetCallerIdentity: the identity in the trail.
        .env("AWS_ENDPOINT_URL_STS", Server::Moto.endpoint())
        .env_remove("AWS_ENDPOINT_URL_DYNAMODB")
        .env_remove("TABLE_NAME")
        .env_remove("BLOCK_ANONYMOUS")
        .env_remove("FAIL_MODE");
    command
}

/// Writes `event` to a fresh file in the temporary directory, for
/// [`lambda_on_event_files`]; returns its path.
pub fn event_file(event: &Value) -> String {
    let path = std::env::temp_dir().join(format!("{}.json", unique_table_name("event")));
    std::fs::write(&path, event.to_string()).unwrap();
    path.display().to_string()
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
