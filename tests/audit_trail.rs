//! The audit trail under races, on both servers: many admins changing the
//! same numbers at once (single commands and overlapping imports). For every
//! number, replaying its trail (the claims that were not aborted, in version
//! order) must give exactly the stored entry, with an unbroken before/after
//! chain, and every change that was reported made has its one record.

mod common;

use std::collections::BTreeSet;

use aws_sdk_dynamodb::Client;
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

/// 30 admins at once replace one blocked number; the
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
        // Replaces only: with removes racing re-adds, a late write
        // conditioned on absence can bring a removed entry back (a known
        // ABA; see `admin::write::tests::a_late_re_add_after_a_remove_brings_the_entry_back`).
        tasks.spawn(async move {
            let fields = EntryFields {
                reason: Some(format!("by admin-{i}")),
                ..EntryFields::default()
            };
            admin.add(&target, fields, true).await.map(|_| ())
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
