//! Prefix rules and allow entries through the real handler and SDK: the
//! precedence end to end, the refresh bound, and failed rule loads.
//! Needs only CreateTable/PutItem/GetItem/Scan/DeleteTable: both servers.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use blocklist_harness::connect_event::connect_event;
use blocklist_harness::fault_proxy::FaultProxy;
use common::{Server, assert_fields, checker, new_table, put_block, put_rule, rules_table_for};
use connect_blocklist::checker::Checker;
use connect_blocklist::store::DynamoStore;
use serde_json::{Map, Value};

/// The handler's answer to a call from `address`, checked as Connect needs it.
async fn answer(c: &Checker<DynamoStore>, address: &str) -> Map<String, Value> {
    common::answer(c, &connect_event(Some(address))).await
}

/// Deletes `table`'s rules table: every rules load fails from now on.
async fn delete_rules_table(client: &Client, table: &str) {
    client
        .delete_table()
        .table_name(rules_table_for(table))
        .send()
        .await
        .unwrap();
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
    put_block(&client, &table, "+14155550123", "exact block").await;
    put_block(&client, &table, "+19007771234", "exact beats prefix").await;
    let c = checker(client, &table, &[("BLOCK_ANONYMOUS", "true")]);

    // Each caller, and the answer it gets (the fields that tell what decided).
    let message = "This line does not accept calls from premium numbers.";
    for (caller, expected) in [
        (
            "+19005512345",
            &[
                ("isBlocked", "true"),
                ("matchType", "prefix"),
                ("matchedRule", "+190055"),
                ("blockedReason", "known scam range"),
                ("blockAction", "message"),
                ("blockMessage", message),
            ][..],
        ),
        (
            "+19007654321",
            &[
                ("matchType", "prefix"),
                ("matchedRule", "+1900"),
                ("blockAction", "disconnect"),
            ],
        ),
        (
            "+19007771234",
            &[
                ("matchType", "exact"),
                ("blockedReason", "exact beats prefix"),
            ],
        ),
        // An allow entry decides without a read.
        (
            "+19005550100",
            &[
                ("isBlocked", "false"),
                ("matchType", "allow"),
                ("matchedRule", "+19005550100"),
                ("lookupStatus", "skipped"),
            ],
        ),
        // The allow prefix wins over the exact block on +14155550123.
        (
            "+14155550123",
            &[
                ("isBlocked", "false"),
                ("matchType", "allow"),
                ("matchedRule", "+1415555"),
            ],
        ),
        (
            "+442079460958",
            &[
                ("isBlocked", "false"),
                ("matchType", "none"),
                ("lookupStatus", "ok"),
            ],
        ),
    ] {
        assert_fields(&answer(&c, caller).await, expected);
    }
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
    put_block(&client, &table, "+14155550123", "spam").await;
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
    // After the interval.
    assert_fields(&a, &[("isBlocked", "true"), ("matchType", "prefix")]);
}

/// When a reload fails the last good rules are kept.
async fn a_failed_reload_keeps_the_last_good_rules(server: Server) {
    let (client, table) = new_table(server).await;
    put_rule(&client, &table, "prefix", "+1900", &[("reason", "premium")]).await;
    let c = checker(client.clone(), &table, &[("RULES_REFRESH_SECONDS", "1")]);
    assert_eq!(answer(&c, "+19007771234").await["matchType"], "prefix");
    delete_rules_table(&client, &table).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let a = answer(&c, "+19007771234").await;
    // The last good set still applies.
    assert_fields(&a, &[("isBlocked", "true"), ("matchType", "prefix")]);
    let a = answer(&c, "+14155550123").await;
    assert_eq!(a["lookupStatus"], "ok", "the exact lookup itself worked");
}

/// With no rules ever loaded, FAIL_MODE decides (exact blocks still count).
async fn no_rules_at_all_follow_fail_mode(server: Server) {
    let (client, table) = new_table(server).await;
    put_block(&client, &table, "+14155550123", "spam").await;
    delete_rules_table(&client, &table).await;
    let open = checker(client.clone(), &table, &[]);
    let a = answer(&open, "+14155550199").await;
    assert_fields(&a, &[("isBlocked", "false"), ("lookupStatus", "error")]);
    let closed = checker(client, &table, &[("FAIL_MODE", "closed")]);
    let a = answer(&closed, "+14155550199").await;
    assert_fields(&a, &[("isBlocked", "true"), ("matchType", "failClosed")]);
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

/// The requests `proxy` read since `seen` was taken, as `(operation,
/// table, count)`; `seen` moves on to now.
fn new_requests(
    proxy: &FaultProxy,
    seen: &mut BTreeMap<(String, String), u64>,
) -> Vec<(String, String, u64)> {
    let now = proxy.targets();
    let new = now
        .iter()
        .filter_map(|((operation, table), &n)| {
            let before = seen.get(&(operation.clone(), table.clone())).copied();
            let added = n - before.unwrap_or(0);
            (added > 0).then(|| (operation.clone(), table.clone(), added))
        })
        .collect();
    *seen = now;
    new
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
    put_block(&client, &table, "+14155550123", "spam").await;
    // The harness's proxy, passing everything, counts the requests.
    let proxy = FaultProxy::start(&Server::Dynalite.endpoint())
        .await
        .unwrap();
    let counted = common::client_for(&proxy.endpoint()).await;
    let c = checker(counted, &table, &[("RECORD_HITS", "false")]);
    let mut seen = BTreeMap::new();
    c.warm_up().await;
    let rules = rules_table_for(&table);
    assert_eq!(
        new_requests(&proxy, &mut seen),
        [("GetItem".to_owned(), rules, 2)],
        "the published rules at init: manifest, one chunk"
    );
    for address in ["+14155550123", "+442079460958", "+19007771234"] {
        answer(&c, address).await;
        assert_eq!(
            new_requests(&proxy, &mut seen),
            [("GetItem".to_owned(), table.clone(), 1)],
            "{address}"
        );
    }
    answer(&c, "+14155550100").await;
    let none = Vec::<(String, String, u64)>::new();
    assert_eq!(
        new_requests(&proxy, &mut seen),
        none,
        "an allow entry decides without a read"
    );
    answer(&c, "anonymous").await;
    assert_eq!(new_requests(&proxy, &mut seen), none, "nothing to look up");
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
