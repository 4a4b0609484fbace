//! Prefix rules and allow entries through the real handler and SDK: the
//! precedence end to end, the refresh bound, and failed rule loads.
//! Needs only CreateTable/PutItem/GetItem/Scan/DeleteTable: both servers.

mod common;

use std::time::Duration;

use common::{Server, checker, new_table, put_raw, put_rule, rules_table_for};
use serde_json::{Value, json};

fn call(address: &str) -> Value {
    json!({"Name": "ContactFlowEvent", "Details": {"ContactData": {"Channel": "VOICE", "ContactId": "c1",
        "CustomerEndpoint": {"Address": address, "Type": "TELEPHONE_NUMBER"}}, "Parameters": {}}})
}

async fn answer(
    c: &connect_blocklist::checker::Checker<connect_blocklist::store::DynamoStore>,
    address: &str,
) -> Value {
    let a = serde_json::to_value(c.handle(&call(address)).await).unwrap();
    assert!(a.as_object().unwrap().values().all(Value::is_string), "{a}");
    a
}

async fn prefix_rules_block_and_allow_entries_override(server: Server) {
    let (client, table) = new_table(server).await;
    put_rule(
        &client,
        &table,
        "prefix",
        "+1900",
        &[("reason", "premium rate")],
    )
    .await;
    put_rule(
        &client,
        &table,
        "prefix",
        "+190055",
        &[
            ("reason", "known scam range"),
            ("action", "message"),
            (
                "message",
                "This line does not accept calls from premium numbers.",
            ),
        ],
    )
    .await;
    put_rule(
        &client,
        &table,
        "allow",
        "+19005550100",
        &[("reason", "our own test line")],
    )
    .await;
    put_rule(
        &client,
        &table,
        "allowPrefix",
        "+1415555",
        &[("reason", "head office")],
    )
    .await;
    put_raw(
        &client,
        &table,
        &[("phoneNumber", "+14155550123"), ("reason", "exact block")],
    )
    .await;
    put_raw(
        &client,
        &table,
        &[
            ("phoneNumber", "+19007771234"),
            ("reason", "exact beats prefix"),
        ],
    )
    .await;
    let c = checker(client, &table, &[("BLOCK_ANONYMOUS", "true")]);

    let a = answer(&c, "+19005512345").await;
    assert_eq!(
        (
            a["isBlocked"].as_str(),
            a["matchType"].as_str(),
            a["matchedRule"].as_str()
        ),
        (Some("true"), Some("prefix"), Some("+190055"))
    );
    assert_eq!(a["blockedReason"], "known scam range");
    assert_eq!(a["blockAction"], "message");
    assert_eq!(
        a["blockMessage"],
        "This line does not accept calls from premium numbers."
    );

    let a = answer(&c, "+19007654321").await;
    assert_eq!(
        (
            a["matchType"].as_str(),
            a["matchedRule"].as_str(),
            a["blockAction"].as_str()
        ),
        (Some("prefix"), Some("+1900"), Some("disconnect"))
    );

    let a = answer(&c, "+19007771234").await;
    assert_eq!(
        (a["matchType"].as_str(), a["blockedReason"].as_str()),
        (Some("exact"), Some("exact beats prefix"))
    );

    let a = answer(&c, "+19005550100").await;
    assert_eq!(
        (
            a["isBlocked"].as_str(),
            a["matchType"].as_str(),
            a["matchedRule"].as_str()
        ),
        (Some("false"), Some("allow"), Some("+19005550100"))
    );
    assert_eq!(
        a["lookupStatus"], "skipped",
        "an allow entry decides without a read"
    );

    // The allow prefix wins over the exact block on +14155550123.
    let a = answer(&c, "+14155550123").await;
    assert_eq!(
        (
            a["isBlocked"].as_str(),
            a["matchType"].as_str(),
            a["matchedRule"].as_str()
        ),
        (Some("false"), Some("allow"), Some("+1415555"))
    );

    let a = answer(&c, "+442079460958").await;
    assert_eq!(
        (
            a["isBlocked"].as_str(),
            a["matchType"].as_str(),
            a["lookupStatus"].as_str()
        ),
        (Some("false"), Some("none"), Some("ok"))
    );
}

async fn expired_rules_do_not_apply(server: Server) {
    let (client, table) = new_table(server).await;
    let past = (connect_blocklist::when::now_epoch() - 10).to_string();
    put_rule(&client, &table, "prefix", "+1900", &[("expiresAt", &past)]).await;
    put_rule(
        &client,
        &table,
        "allow",
        "+14155550123",
        &[("expiresAt", &past)],
    )
    .await;
    put_raw(
        &client,
        &table,
        &[("phoneNumber", "+14155550123"), ("reason", "spam")],
    )
    .await;
    let c = checker(client, &table, &[]);
    assert_eq!(answer(&c, "+19007771234").await["isBlocked"], "false");
    assert_eq!(answer(&c, "+14155550123").await["matchType"], "exact");
}

/// A rule added is honoured once the refresh interval has passed, not before.
async fn a_new_rule_is_honoured_after_the_refresh_interval(server: Server) {
    let (client, table) = new_table(server).await;
    let c = checker(client.clone(), &table, &[("RULES_REFRESH_SECONDS", "2")]);
    assert_eq!(
        answer(&c, "+19007771234").await["isBlocked"],
        "false",
        "loads the (empty) rules"
    );
    put_rule(&client, &table, "prefix", "+1900", &[("reason", "premium")]).await;
    assert_eq!(
        answer(&c, "+19007771234").await["isBlocked"],
        "false",
        "not before the interval"
    );
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(
        answer(&c, "+19007771234").await["isBlocked"],
        "false",
        "still within the interval"
    );
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let a = answer(&c, "+19007771234").await;
    assert_eq!(
        (a["isBlocked"].as_str(), a["matchType"].as_str()),
        (Some("true"), Some("prefix")),
        "after the interval"
    );
}

/// When a reload fails the last good rules are kept.
async fn a_failed_reload_keeps_the_last_good_rules(server: Server) {
    let (client, table) = new_table(server).await;
    put_rule(&client, &table, "prefix", "+1900", &[("reason", "premium")]).await;
    let c = checker(client.clone(), &table, &[("RULES_REFRESH_SECONDS", "1")]);
    assert_eq!(answer(&c, "+19007771234").await["matchType"], "prefix");
    client
        .delete_table()
        .table_name(rules_table_for(&table))
        .send()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let a = answer(&c, "+19007771234").await;
    assert_eq!(
        (a["isBlocked"].as_str(), a["matchType"].as_str()),
        (Some("true"), Some("prefix")),
        "the last good set still applies"
    );
    let a = answer(&c, "+14155550123").await;
    assert_eq!(a["lookupStatus"], "ok", "the exact lookup itself worked");
}

/// With no rules ever loaded, FAIL_MODE decides (exact blocks still count).
async fn no_rules_at_all_follow_fail_mode(server: Server) {
    let (client, table) = new_table(server).await;
    put_raw(
        &client,
        &table,
        &[("phoneNumber", "+14155550123"), ("reason", "spam")],
    )
    .await;
    client
        .delete_table()
        .table_name(rules_table_for(&table))
        .send()
        .await
        .unwrap();
    let open = checker(client.clone(), &table, &[]);
    let a = answer(&open, "+14155550199").await;
    assert_eq!(
        (a["isBlocked"].as_str(), a["lookupStatus"].as_str()),
        (Some("false"), Some("error"))
    );
    let closed = checker(client, &table, &[("FAIL_MODE", "closed")]);
    let a = answer(&closed, "+14155550199").await;
    assert_eq!(
        (a["isBlocked"].as_str(), a["matchType"].as_str()),
        (Some("true"), Some("failClosed"))
    );
    let a = answer(&closed, "+14155550123").await;
    assert_eq!(
        a["matchType"], "exact",
        "a definite exact block is still a block"
    );
}

on_both_servers!(
    prefix_rules_block_and_allow_entries_override,
    expired_rules_do_not_apply,
    a_new_rule_is_honoured_after_the_refresh_interval,
    a_failed_reload_keeps_the_last_good_rules,
    no_rules_at_all_follow_fail_mode,
);

/// Counts the DynamoDB operations a client sends, by forwarding its traffic
/// to the real server and reading each request's `X-Amz-Target` header.
struct CountingProxy {
    endpoint: String,
    seen: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
}

impl CountingProxy {
    async fn start(upstream: String) -> CountingProxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let upstream = upstream.trim_start_matches("http://").to_owned();
        let record = seen.clone();
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let record = record.clone();
                tokio::spawn(async move {
                    use tokio::io::{AsyncReadExt, AsyncWriteExt};
                    let mut server = tokio::net::TcpStream::connect(&upstream).await.unwrap();
                    let (mut client_read, mut client_write) = client.split();
                    let (mut server_read, mut server_write) = server.split();
                    let requests = async {
                        let mut buf = [0u8; 16 * 1024];
                        loop {
                            let n = client_read.read(&mut buf).await.unwrap_or(0);
                            if n == 0 {
                                break;
                            }
                            record.lock().unwrap().extend_from_slice(&buf[..n]);
                            if server_write.write_all(&buf[..n]).await.is_err() {
                                break;
                            }
                        }
                        let _ = server_write.shutdown().await;
                    };
                    let responses = tokio::io::copy(&mut server_read, &mut client_write);
                    let _ = tokio::join!(requests, responses);
                });
            }
        });
        CountingProxy { endpoint, seen }
    }

    /// Operations seen since the last call, e.g. `["GetItem"]`.
    fn take(&self) -> Vec<String> {
        let bytes = std::mem::take(&mut *self.seen.lock().unwrap());
        let text = String::from_utf8_lossy(&bytes).to_ascii_lowercase();
        text.match_indices("x-amz-target: dynamodb_20120810.")
            .map(|(i, m)| {
                let rest = &text[i + m.len()..];
                rest[..rest.find('\r').unwrap_or(rest.len())].to_owned()
            })
            .collect()
    }
}

/// A call costs at most one read: the exact GetItem (none when an allow
/// entry decides), with the rules in memory; the published rules are read
/// (GetItem only, no Scan) at init and once per refresh interval.
#[tokio::test]
async fn a_call_costs_at_most_one_read() {
    let (client, table) = new_table(Server::Dynalite).await;
    for i in 0..50 {
        put_rule(
            &client,
            &table,
            "prefix",
            &format!("+44{:04}", 1000 + i),
            &[],
        )
        .await;
    }
    put_rule(&client, &table, "allow", "+14155550100", &[]).await;
    put_raw(
        &client,
        &table,
        &[("phoneNumber", "+14155550123"), ("reason", "spam")],
    )
    .await;
    let proxy = CountingProxy::start(Server::Dynalite.endpoint()).await;
    let counted = common::client_for(&proxy.endpoint).await;
    let c = checker(counted, &table, &[("RECORD_HITS", "false")]);
    c.warm_up().await;
    assert_eq!(
        proxy.take(),
        ["getitem", "getitem"],
        "the published rules at init: manifest, one chunk"
    );
    for address in ["+14155550123", "+442079460958", "+19007771234"] {
        answer(&c, address).await;
        assert_eq!(proxy.take(), ["getitem"], "{address}");
    }
    answer(&c, "+14155550100").await;
    assert_eq!(
        proxy.take(),
        Vec::<String>::new(),
        "an allow entry decides without a read"
    );
    answer(&c, "anonymous").await;
    assert_eq!(proxy.take(), Vec::<String>::new(), "nothing to look up");
}

/// Rules added at the same moment by several admins all reach the published
/// snapshot: a publish that raced another starts over.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_rule_changes_are_all_published() {
    use connect_blocklist::admin::{Admin, EntryFields, Tables};
    use connect_blocklist::entry::Kind;
    use connect_blocklist::store::BlocklistStore;
    let (client, table) = new_table(Server::Dynalite).await;
    let audit = common::unique_table_name("audit");
    common::create_audit_table(&client, &audit).await;
    let tables = Tables {
        blocklist: table.clone(),
        rules: rules_table_for(&table),
        audit,
    };
    let mut tasks = Vec::new();
    for i in 0..8 {
        let admin = Admin::new(
            client.clone(),
            tables.clone(),
            &format!("admin{i}"),
            Default::default(),
        );
        tasks.push(tokio::spawn(async move {
            let target = admin.target(Kind::Prefix, &format!("+4470{i}")).unwrap();
            admin
                .add(&target, EntryFields::default(), false)
                .await
                .unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let store = connect_blocklist::store::DynamoStore::new(client, &table, rules_table_for(&table));
    let rules = store.load_rules().await.unwrap();
    assert_eq!(
        rules.counts(),
        (8, 0, 0),
        "every concurrent change is in the published rules"
    );
}
