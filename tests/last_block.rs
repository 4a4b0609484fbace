//! The list in last-block order over real DynamoDB servers: the Lambda's
//! hit counter puts entries in the sparse hit index, the console's list
//! merges both tables' parts of it newest first and then the rest, and
//! `blocklist init` adds the index to a table made without it.

mod common;

use std::collections::BTreeSet;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use common::{Server, create_audit_table, new_table, rules_table_for, unique_table_name};
use connect_blocklist::admin::tables::{TableInit, create_entry_table, create_table};
use connect_blocklist::admin::{Admin, AdminError, EntryFields, Tables};
use connect_blocklist::console::by_last_block::{HitCursor, LastBlockCursor, last_block_page};
use connect_blocklist::entry::{Entry, Kind};
use connect_blocklist::phone::Normalizer;
use connect_blocklist::store::{BlocklistStore, DynamoStore, attr};

fn admin_over(client: &Client, table: &str) -> Admin {
    let tables = Tables {
        blocklist: table.to_owned(),
        rules: rules_table_for(table),
        audit: format!("{table}-audit"),
    };
    Admin::new(client.clone(), tables, "tester", Normalizer::default())
}

async fn add(admin: &Admin, kind: Kind, value: &str) {
    let target = admin.target(kind, value).unwrap();
    let fields = EntryFields {
        reason: Some("test".into()),
        ..EntryFields::default()
    };
    admin.add(&target, fields, false).await.unwrap();
}

/// The time of the `n`th hit: later `n`, later time.
fn at(n: u32) -> String {
    format!("2026-11-{:02}T{:02}:00:00Z", 1 + n / 24, n % 24)
}

/// Every page in last-block order from the first, following `next`
/// through its string.
async fn walk(admin: &Admin, size: usize, max_read: usize) -> Vec<Entry> {
    let mut seen = Vec::new();
    let mut from = Some(LastBlockCursor::Hits(HitCursor::start(None)));
    let mut requests = 0;
    while let Some(cursor) = from {
        let page = last_block_page(admin.store(), cursor, None, size, max_read, |_| true)
            .await
            .unwrap();
        assert!(page.entries.len() <= size);
        seen.extend(page.entries);
        from = page
            .next
            .map(|c| LastBlockCursor::decode(&c.encode().unwrap()).unwrap());
        requests += 1;
        assert!(requests < 200, "the pages end");
    }
    seen
}

fn key(e: &Entry) -> (Kind, String) {
    (e.kind, e.value.clone())
}

async fn pages_in_last_block_order_merge_both_tables_then_the_rest(server: Server) {
    let (client, table) = new_table(server).await;
    create_audit_table(&client, &format!("{table}-audit")).await;
    let admin = admin_over(&client, &table);
    let hits = DynamoStore::new(client.clone(), &table, rules_table_for(&table));
    let mut expected_hits = Vec::new();
    for n in 0..14u32 {
        let number = format!("+1415555{:04}", 100 + n);
        add(&admin, Kind::Block, &number).await;
        // Every other block has blocked a call, at times that interleave
        // with the prefixes' below.
        if n % 2 == 0 {
            hits.record_hit(Kind::Block, &number, &at(3 * n))
                .await
                .unwrap();
            expected_hits.push((at(3 * n), (Kind::Block, number)));
        }
    }
    for n in 0..5u32 {
        let prefix = format!("+1900{n}");
        add(&admin, Kind::Prefix, &prefix).await;
        hits.record_hit(Kind::Prefix, &prefix, &at(7 * n + 1))
            .await
            .unwrap();
        expected_hits.push((at(7 * n + 1), (Kind::Prefix, prefix)));
    }
    // Blocked again later: it moves to the top.
    let first = expected_hits.remove(0);
    hits.record_hit(Kind::Block, &first.1.1, &at(90))
        .await
        .unwrap();
    expected_hits.push((at(90), first.1));
    // Blocked, then removed: its tombstone is in neither the index nor the list.
    add(&admin, Kind::Block, "+14155550999").await;
    hits.record_hit(Kind::Block, "+14155550999", &at(95))
        .await
        .unwrap();
    let gone = admin.target(Kind::Block, "+14155550999").unwrap();
    admin.remove(&gone, Some("done")).await.unwrap();
    // Blocked before the index existed: a hit time but no partition
    // attribute. It is listed after the index, with the never-blocked.
    let old = "+14155550998";
    add(&admin, Kind::Block, old).await;
    client
        .update_item()
        .table_name(&table)
        .key(attr::PHONE_NUMBER, AttributeValue::S(old.into()))
        .update_expression("SET lastBlockedAt = :at")
        .expression_attribute_values(":at", AttributeValue::S(at(99)))
        .send()
        .await
        .unwrap();
    expected_hits.sort_by(|a, b| b.0.cmp(&a.0));
    let newest_first: Vec<_> = expected_hits.iter().map(|(_, k)| k.clone()).collect();
    let all: BTreeSet<_> = admin.list(true).await.unwrap().iter().map(key).collect();
    for (size, max_read) in [(3, 5000), (1, 5000), (4, 3), (50, 5000)] {
        let seen = walk(&admin, size, max_read).await;
        let keys: Vec<_> = seen.iter().map(key).collect();
        assert_eq!(
            keys[..newest_first.len()],
            newest_first[..],
            "the blocked first, newest first (size {size}, max_read {max_read})"
        );
        let rest = &seen[newest_first.len()..];
        assert!(
            rest.iter().any(|e| e.value == old),
            "blocked before the index: listed with the rest"
        );
        assert!(
            rest.iter()
                .filter(|e| e.value != old)
                .all(|e| e.last_blocked_at.is_none())
        );
        assert_eq!(keys.len(), all.len(), "no entry twice: {keys:?}");
        assert_eq!(keys.into_iter().collect::<BTreeSet<_>>(), all);
    }
}

/// A blocklist table and its rules table as made before the hit index.
async fn tables_without_the_index(client: &Client) -> String {
    let table = unique_table_name("old");
    create_table(client, &table, &[attr::PHONE_NUMBER])
        .await
        .unwrap();
    create_table(client, &rules_table_for(&table), &[attr::RULE_KEY])
        .await
        .unwrap();
    table
}

async fn init_adds_the_hit_index_to_a_table_made_without_it(server: Server) {
    let client = common::client_for(&server.endpoint()).await;
    let table = tables_without_the_index(&client).await;
    create_audit_table(&client, &format!("{table}-audit")).await;
    let admin = admin_over(&client, &table);
    add(&admin, Kind::Block, "+14155550100").await;
    let hits = DynamoStore::new(client.clone(), &table, rules_table_for(&table));
    hits.record_hit(Kind::Block, "+14155550100", &at(1))
        .await
        .unwrap();
    let start = || LastBlockCursor::Hits(HitCursor::start(None));
    let err = last_block_page(admin.store(), start(), None, 10, 100, |_| true)
        .await
        .unwrap_err();
    assert!(matches!(err, AdminError::NoHitIndex { .. }), "{err:?}");
    assert!(err.to_string().contains("blocklist init"), "{err}");
    for t in [table.clone(), rules_table_for(&table)] {
        let key = if t == table {
            attr::PHONE_NUMBER
        } else {
            attr::RULE_KEY
        };
        let init = create_entry_table(&client, &t, key).await.unwrap();
        assert_eq!(init, TableInit::IndexAdded, "{t}");
        let again = create_entry_table(&client, &t, key).await.unwrap();
        assert_eq!(again, TableInit::AlreadyExists, "{t}");
    }
    let page = last_block_page(admin.store(), start(), None, 10, 100, |_| true)
        .await
        .unwrap();
    let values: Vec<_> = page.entries.iter().map(|e| e.value.as_str()).collect();
    assert_eq!(
        values,
        ["+14155550100"],
        "the item hit before is in the new index"
    );
}

/// An edit is a Put of the whole item: it carries the hit record over, so
/// the entry keeps its count, its last block and its place in the index,
/// while the audit trail records no hit counts.
async fn an_edit_keeps_the_hit_record_and_the_place_in_the_index(server: Server) {
    let (client, table) = new_table(server).await;
    create_audit_table(&client, &format!("{table}-audit")).await;
    let admin = admin_over(&client, &table);
    let hits = DynamoStore::new(client.clone(), &table, rules_table_for(&table));
    for (kind, value) in [(Kind::Block, "+14155550150"), (Kind::Prefix, "+1900")] {
        add(&admin, kind, value).await;
        hits.record_hit(kind, value, &at(5)).await.unwrap();
        hits.record_hit(kind, value, &at(6)).await.unwrap();
        let target = admin.target(kind, value).unwrap();
        let fields = EntryFields {
            reason: Some("edited".into()),
            ..EntryFields::default()
        };
        admin.add(&target, fields, true).await.unwrap();
        let edited = admin.get(&target).await.unwrap().unwrap();
        assert_eq!(edited.reason.as_deref(), Some("edited"));
        assert_eq!(
            (edited.block_count, edited.last_blocked_at.as_deref()),
            (Some(2), Some(at(6).as_str())),
            "{value}"
        );
        let trail = admin.history(std::slice::from_ref(&target)).await.unwrap();
        assert!(
            trail
                .iter()
                .flat_map(|r| [&r.before, &r.after])
                .flatten()
                .all(|e| e.block_count.is_none() && e.last_blocked_at.is_none()),
            "{trail:?}"
        );
    }
    let seen = walk(&admin, 10, 5000).await;
    let keys: Vec<_> = seen.iter().take(2).map(key).collect();
    assert_eq!(keys.len(), 2);
    assert!(
        seen.iter()
            .take(2)
            .all(|e| e.last_blocked_at.as_deref() == Some(at(6).as_str())),
        "both edited entries are still in the index: {keys:?}"
    );
}

on_both_servers!(
    pages_in_last_block_order_merge_both_tables_then_the_rest,
    an_edit_keeps_the_hit_record_and_the_place_in_the_index,
);

/// moto only: dynalite's UpdateTable changes throughput and nothing else
/// (it accepts an index to create and adds none).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moto_init_adds_the_hit_index_to_a_table_made_without_it() {
    init_adds_the_hit_index_to_a_table_made_without_it(Server::Moto).await;
}

/// What dynalite does get: the missing index named, with what to do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynalite_names_a_missing_hit_index() {
    let client = common::client_for(&Server::Dynalite.endpoint()).await;
    let table = tables_without_the_index(&client).await;
    let admin = admin_over(&client, &table);
    let start = LastBlockCursor::Hits(HitCursor::start(None));
    let err = last_block_page(admin.store(), start, None, 10, 100, |_| true)
        .await
        .unwrap_err();
    assert!(matches!(err, AdminError::NoHitIndex { .. }), "{err:?}");
    let init = create_entry_table(&client, &table, attr::PHONE_NUMBER).await;
    assert!(init.is_err(), "not added, not said to be: {init:?}");
}
