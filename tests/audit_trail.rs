//! The audit trail under races, on both servers: many admins changing the
//! same numbers at once (single commands and overlapping imports). For every
//! number, replaying its trail (the claims that were not aborted, in version
//! order) must give exactly the stored entry, with an unbroken before/after
//! chain, and every change that was reported made has its one record.

mod common;

use std::collections::BTreeSet;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use common::{Server, new_table, rules_table_for, unique_table_name};
use connect_blocklist::admin::audit::{claimed_version, replay};
use connect_blocklist::admin::import::{ImportDefaults, parse_csv};
use connect_blocklist::admin::store::AdminStore;
use connect_blocklist::admin::{Admin, AdminError, EntryFields, Tables, Target};
use connect_blocklist::entry::{Entry, Kind};
use connect_blocklist::phone::Normalizer;

struct Setup {
    client: Client,
    tables: Tables,
}

async fn setup(server: Server) -> Setup {
    let (client, table) = new_table(server).await;
    let audit = unique_table_name("audit");
    common::create_audit_table(&client, &audit).await;
    let tables = Tables {
        blocklist: table.clone(),
        rules: rules_table_for(&table),
        audit,
    };
    Setup { client, tables }
}

fn admin(s: &Setup, actor: &str) -> Admin {
    Admin::new(
        s.client.clone(),
        s.tables.clone(),
        actor,
        Normalizer::default(),
    )
}

fn block(number: &str) -> Target {
    Target {
        kind: Kind::Block,
        value: number.to_owned(),
    }
}

/// Replaying `target`'s trail gives what is stored (hit counts aside).
async fn assert_trail_replays(s: &Setup, target: &Target) {
    let store = admin(s, "checker");
    let records = store
        .store()
        .audit_records(&target.audit_key())
        .await
        .unwrap();
    let replayed =
        replay(&records).unwrap_or_else(|e| panic!("{}: {e}: {records:#?}", target.value));
    let stored = store.get(target).await.unwrap().map(|e| Entry {
        block_count: None,
        last_blocked_at: None,
        ..e
    });
    assert_eq!(replayed, stored, "{}", target.value);
    let ids: BTreeSet<&str> = records.iter().map(|r| r.audit_id.as_str()).collect();
    assert_eq!(ids.len(), records.len(), "no record overwritten");
}

/// 30 admins at once replace (and some remove) one blocked number; the
/// changes they were told were made are exactly the claims that were not
/// aborted. Before versions, this broke the before/after chain in every
/// round: writes were conditional on `createdAt`, to the second, so two
/// replaces within a second both "won".
async fn racing_admins(server: Server) {
    let s = setup(server).await;
    let target = block("+14155550123");
    let seed = EntryFields {
        reason: Some("seed".to_owned()),
        ..EntryFields::default()
    };
    admin(&s, "seed").add(&target, seed, false).await.unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..30 {
        let admin = admin(&s, &format!("admin-{i}"));
        let target = target.clone();
        // Removes race re-adds: a remove's tombstone keeps a late write
        // conditioned on absence from bringing a removed entry back.
        tasks.spawn(async move {
            if i % 10 == 9 {
                admin.remove(&target, Some("racing")).await.map(|_| ())
            } else {
                let fields = EntryFields {
                    reason: Some(format!("by admin-{i}")),
                    ..EntryFields::default()
                };
                admin.add(&target, fields, true).await.map(|_| ())
            }
        });
    }
    let mut made = 0;
    while let Some(done) = tasks.join_next().await {
        match done.unwrap() {
            Ok(()) => made += 1,
            Err(AdminError::Conflict { .. } | AdminError::NotFound { .. }) => {}
            Err(other) => panic!("{other}"),
        }
    }
    assert!(made > 0);
    let records = admin(&s, "checker")
        .store()
        .audit_records(&target.audit_key())
        .await
        .unwrap();
    let claims = records
        .iter()
        .filter(|r| claimed_version(&r.audit_id).is_some())
        .count();
    let aborted = records.iter().filter(|r| r.aborts.is_some()).count();
    assert_eq!(claims - aborted, made + 1, "each change made, and the seed");
    assert_trail_replays(&s, &target).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_admins_keep_an_exact_trail_on_dynalite() {
    racing_admins(Server::Dynalite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_admins_keep_an_exact_trail_on_moto() {
    racing_admins(Server::Moto).await;
}

/// Two imports of the same 300 numbers (different reasons) at once: for
/// every number each record names exactly the version it wrote, and the
/// newest surviving claim is what is stored.
async fn overlapping_imports(server: Server) {
    let s = setup(server).await;
    let csv = |reason: &str| {
        let mut text = String::from("phoneNumber,reason\n");
        for i in 0..300 {
            text.push_str(&format!("+1415555{i:04},{reason}\n"));
        }
        parse_csv(
            text.as_bytes(),
            &Normalizer::default(),
            &ImportDefaults::default(),
        )
        .unwrap()
    };
    let (first, second) = (csv("first"), csv("second"));
    let (a, b) = (admin(&s, "importer-a"), admin(&s, "importer-b"));
    let (ra, rb) = tokio::join!(
        a.import(&first, "a.csv", false, |_| {}),
        b.import(&second, "b.csv", false, |_| {})
    );
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_eq!(ra.written + ra.conflicts + ra.unchanged, 300);
    assert_eq!(rb.written + rb.conflicts + rb.unchanged, 300);
    for i in 0..300 {
        assert_trail_replays(&s, &block(&format!("+1415555{i:04}"))).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn overlapping_imports_keep_an_exact_trail_on_dynalite() {
    overlapping_imports(Server::Dynalite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn overlapping_imports_keep_an_exact_trail_on_moto() {
    overlapping_imports(Server::Moto).await;
}

/// A remove leaves a tombstone that keeps its version: the Lambda, `list`
/// and the hit counter read no entry there, a write conditioned on absence
/// that arrives late (a re-add, or another writer completing one, delayed
/// past the remove) is refused, and a re-add through the protocol takes
/// the next version. Before tombstones the late write brought the removed
/// entry back.
async fn a_remove_leaves_a_tombstone(server: Server) {
    use connect_blocklist::admin::store::{Precondition, WriteOutcome};
    use connect_blocklist::entry::Stored;
    use connect_blocklist::phone::E164;
    use connect_blocklist::store::{BlocklistStore, DynamoStore};

    let s = setup(server).await;
    let target = block("+14155550142");
    let first = admin(&s, "first")
        .add(&target, EntryFields::default(), false)
        .await
        .unwrap()
        .entry;
    admin(&s, "second")
        .remove(&target, Some("done"))
        .await
        .unwrap();
    let raw = s
        .client
        .get_item()
        .table_name(&s.tables.blocklist)
        .key("phoneNumber", AttributeValue::S(target.value.clone()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    let text = |name: &str| raw.get(name).map(|v| format!("{v:?}"));
    assert_eq!(text("status").as_deref(), Some(r#"S("removed")"#));
    assert_eq!(text("version").as_deref(), Some(r#"N("2")"#));
    assert_eq!(text("reason"), None, "a tombstone keeps no entry fields");
    let expires: i64 = raw["expiresAt"].as_n().unwrap().parse().unwrap();
    let in_days = (expires - connect_blocklist::when::now_epoch()) / 86_400;
    assert!((29..=30).contains(&in_days), "TTL in {in_days} days");

    let store = admin(&s, "late");
    let late = store
        .store()
        .write_entry(&target, 1, Some(&first), &Precondition::of(None))
        .await
        .unwrap();
    assert_eq!(late, WriteOutcome::Conflict, "a removed entry came back");
    assert_eq!(
        store.store().entry(&target).await.unwrap(),
        Stored::Removed { version: 2 }
    );
    assert!(store.list(true).await.unwrap().is_empty());
    let lambda = DynamoStore::new(s.client.clone(), &s.tables.blocklist, &s.tables.rules);
    let number = E164::from_canonical(&target.value).unwrap();
    assert_eq!(lambda.get(&number).await.unwrap(), None);
    assert!(
        lambda
            .record_hit(Kind::Block, &target.value, "now")
            .await
            .is_err(),
        "no hit is counted on a tombstone"
    );

    let again = admin(&s, "third")
        .add(&target, EntryFields::default(), false)
        .await
        .unwrap();
    assert_eq!(again.entry.version, 3);
    assert_eq!(
        lambda.get(&number).await.unwrap().map(|e| e.version),
        Some(3)
    );
    assert_trail_replays(&s, &target).await;
}

#[tokio::test]
async fn a_remove_leaves_a_tombstone_on_dynalite() {
    a_remove_leaves_a_tombstone(Server::Dynalite).await;
}

#[tokio::test]
async fn a_remove_leaves_a_tombstone_on_moto() {
    a_remove_leaves_a_tombstone(Server::Moto).await;
}
