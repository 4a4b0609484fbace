//! The `blocklist` binary, run as a user would, against the local servers.
//! Every command runs on dynalite (no TTL settings, no transactions needed);
//! `init`'s TTL setting is checked on moto, which supports it.

mod common;

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use blocklist_harness::connect_event::connect_event;
use common::{Server, client_for, unique_table_name};
use serde_json::Value;

/// The flow `render-flow` hands callers who are not blocked to.
const NEXT_FLOW: &str = "arn:aws:connect:us-east-1:123456789012:instance/11111111-2222-3333-4444-555555555555/contact-flow/66666666-7777-8888-9999-000000000000";

/// A pair of fresh tables on a server, and the CLI pointed at them.
struct Env {
    server: Server,
    table: String,
    audit: String,
    dir: PathBuf,
}

impl Env {
    fn new(server: Server) -> Env {
        let table = unique_table_name("cli");
        let dir = std::env::temp_dir().join(&table);
        std::fs::create_dir_all(&dir).unwrap();
        Env {
            server,
            audit: format!("{table}-audit"),
            table,
            dir,
        }
    }

    /// Runs `blocklist` with these tables; returns the process output.
    fn run(&self, args: &[&str]) -> Output {
        common::blocklist_cli(self.server, &self.table, &self.audit)
            .args(["--actor", "tester@ci"])
            .args(args)
            .output()
            .unwrap()
    }

    /// Runs and expects exit status `code`; returns (stdout, stderr).
    fn expect(&self, code: i32, args: &[&str]) -> (String, String) {
        let out = self.run(args);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(
            out.status.code(),
            Some(code),
            "blocklist {args:?}\nstdout:\n{stdout}\nstderr:\n{stderr}"
        );
        (stdout, stderr)
    }

    fn ok(&self, args: &[&str]) -> String {
        self.expect(0, args).0
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend(["--output", "json"]);
        serde_json::from_str(&self.ok(&all)).unwrap()
    }

    fn init(server: Server) -> Env {
        let env = Env::new(server);
        env.ok(&["init"]);
        env
    }

    fn file(&self, name: &str, content: &str) -> String {
        let path = self.dir.join(name);
        std::fs::write(&path, content).unwrap();
        path.to_string_lossy().into_owned()
    }

    async fn audit_items(&self) -> Vec<HashMap<String, AttributeValue>> {
        let client = client_for(&self.server.endpoint()).await;
        let mut items = Vec::new();
        let mut pages = client
            .scan()
            .table_name(&self.audit)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            items.extend(page.unwrap().items().to_vec());
        }
        items
    }

    /// The numbers the audit table has a record for.
    async fn audited_numbers(&self) -> HashSet<String> {
        let items = self.audit_items().await;
        items.iter().map(|a| s(a, "phoneNumber")).collect()
    }
}

/// The `key` of every row of a JSON array (`list`, `history`), as strings.
fn column<'a>(rows: &'a Value, key: &str) -> Vec<&'a str> {
    rows.as_array()
        .unwrap()
        .iter()
        .map(|row| row[key].as_str().unwrap())
        .collect()
}

fn s(item: &HashMap<String, AttributeValue>, key: &str) -> String {
    match item.get(key) {
        Some(AttributeValue::S(v)) => v.clone(),
        other => panic!("{key}: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn init_creates_both_tables_once() {
    let env = Env::new(Server::Dynalite);
    let first = env.ok(&["init"]);
    assert!(
        first.contains(&format!("table {}: created", env.table)),
        "{first}"
    );
    assert!(
        first.contains(&format!("table {}: created", env.audit)),
        "{first}"
    );
    assert!(
        first.contains("TTL on expiresAt: not supported by this server"),
        "dynalite has no TTL: {first}"
    );
    let second = env.ok(&["init"]);
    assert!(second.contains("already exists"), "{second}");
    let client = client_for(&env.server.endpoint()).await;
    let audit = client
        .describe_table()
        .table_name(&env.audit)
        .send()
        .await
        .unwrap();
    let keys: Vec<_> = audit
        .table
        .unwrap()
        .key_schema()
        .iter()
        .map(|k| k.attribute_name().to_owned())
        .collect();
    assert_eq!(keys, ["phoneNumber", "auditId"]);
}

/// Needs UpdateTimeToLive: moto.
#[tokio::test(flavor = "multi_thread")]
async fn init_enables_ttl_on_expires_at() {
    let env = Env::new(Server::Moto);
    let out = env.ok(&["init"]);
    assert!(out.contains("TTL on expiresAt: enabled"), "{out}");
    let client = client_for(&env.server.endpoint()).await;
    let ttl = client
        .describe_time_to_live()
        .table_name(&env.table)
        .send()
        .await
        .unwrap();
    assert_eq!(
        ttl.time_to_live_description.unwrap().attribute_name(),
        Some("expiresAt")
    );
    assert!(
        env.ok(&["init"])
            .contains("TTL on expiresAt: already enabled")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn add_normalizes_and_refuses_invalid_numbers() {
    let env = Env::init(Server::Dynalite);
    let added = env.json(&[
        "add",
        "(415) 555-0123",
        "--reason",
        "robocaller",
        "--note",
        "3 reports",
    ]);
    assert_eq!(added[0]["phoneNumber"], "+14155550123");
    assert_eq!(added[0]["reason"], "robocaller");
    assert_eq!(added[0]["createdBy"], "tester@ci");
    assert_eq!(added[0]["status"], "active");

    let (_, err) = env.expect(1, &["add", "123"]);
    assert!(err.contains("`123` is not a valid phone number"), "{err}");
    let (_, err) = env.expect(1, &["add", "anonymous"]);
    assert!(err.contains("withheld"), "{err}");
    let (_, err) = env.expect(1, &["--default-country", "GB", "add", "415-555-0199"]);
    assert!(
        err.contains("not a valid phone number"),
        "a US number is not valid as a GB one: {err}"
    );
    // Another country's national format, with --default-country.
    let gb = env.json(&["--default-country", "GB", "add", "020 7946 0958"]);
    assert_eq!(gb[0]["phoneNumber"], "+442079460958");
}

#[tokio::test(flavor = "multi_thread")]
async fn add_refuses_an_existing_entry_unless_replace() {
    let env = Env::init(Server::Dynalite);
    env.ok(&["add", "+14155550123", "--reason", "first"]);
    let (_, err) = env.expect(1, &["add", "415 555 0123", "--reason", "second"]);
    assert!(
        err.contains("block +14155550123 already exists (reason: first"),
        "shows the entry: {err}"
    );
    assert!(err.contains("--replace"), "{err}");
    let replaced = env.json(&["add", "415 555 0123", "--reason", "second", "--replace"]);
    assert_eq!(replaced[0]["reason"], "second");

    let history = env.json(&["history", "+14155550123"]);
    let actions = column(&history, "action");
    assert_eq!(actions, ["replace", "add"], "newest first");
    assert_eq!(history[0]["before"]["reason"], "first");
    assert_eq!(history[0]["after"]["reason"], "second");
    assert_eq!(history[0]["actor"], "tester@ci");
    assert_eq!(history[1]["before"], Value::Null);
    // Beside the self-described actor, the AWS identity STS vouches for
    // (moto's test user here).
    let identity = history[0]["identity"].as_str().unwrap_or_default();
    assert!(identity.starts_with("arn:aws:"), "{history:#}");
    assert_eq!(
        column(&history, "auditId"),
        ["v000000000002", "v000000000001"]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn remove_is_audited_and_a_missing_entry_fails() {
    let env = Env::init(Server::Dynalite);
    let (_, err) = env.expect(1, &["remove", "+14155550123"]);
    assert!(
        err.contains("there is no block entry for +14155550123"),
        "{err}"
    );
    env.ok(&["add", "+14155550123", "--reason", "spam"]);
    env.ok(&[
        "remove",
        "+1 (415) 555-0123",
        "--reason",
        "customer verified",
    ]);
    assert_eq!(
        env.json(&["list", "--include-expired"]),
        Value::Array(vec![])
    );
    let history = env.json(&["history", "+14155550123"]);
    assert_eq!(history[0]["action"], "remove");
    assert_eq!(history[0]["reason"], "customer verified");
    assert_eq!(history[0]["before"]["reason"], "spam");
    assert_eq!(history[0]["after"], Value::Null);
    let (_, err) = env.expect(1, &["remove", "+14155550123"]);
    assert!(err.contains("there is no block entry"), "{err}");
}

/// `check` prints exactly what the Lambda's handler answers.
#[tokio::test(flavor = "multi_thread")]
async fn check_prints_the_lambdas_answer() {
    let env = Env::init(Server::Dynalite);
    env.ok(&["add", "+14155550123", "--reason", "fraud"]);
    let checked = env.json(&["check", "(415) 555-0123"]);
    let client = client_for(&env.server.endpoint()).await;
    let handler = common::checker(client, &env.table, &[]);
    let event = connect_event(Some("(415) 555-0123"));
    let lambda = serde_json::to_value(handler.handle(&event).await).unwrap();
    assert_eq!(checked["answer"], lambda);
    assert_eq!(checked["answer"]["isBlocked"], "true");
    assert_eq!(checked["entry"]["reason"], "fraud");

    let unlisted = env.json(&["check", "+14155550199"]);
    assert_eq!(unlisted["answer"]["isBlocked"], "false");
    assert_eq!(unlisted["entry"], Value::Null);
    let table = env.ok(&["check", "+14155550123"]);
    assert!(
        table.contains("Blocked: the number has an active entry (+14155550123)."),
        "{table}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_entry_expiring_in_seconds_stops_blocking() {
    let env = Env::init(Server::Dynalite);
    env.ok(&[
        "add",
        "+14155550123",
        "--expires",
        "4s",
        "--reason",
        "cool-off",
    ]);
    // The expiry is checked when the entry is written, after the identity
    // lookup and the claim: on a loaded 2-core CI machine that took over a
    // second, and `1s` was refused as already past. Expiry is kept in whole
    // seconds, so `4s` can end at the next boundary: the entry that must
    // still block gets a wider margin.
    env.ok(&["add", "+14155550124", "--expires", "30s"]);
    assert_eq!(
        env.json(&["check", "+14155550124"])["answer"]["isBlocked"],
        "true"
    );
    tokio::time::sleep(Duration::from_millis(5100)).await;
    let after = env.json(&["check", "+14155550123"]);
    assert_eq!(after["answer"]["isBlocked"], "false");
    assert_eq!(
        after["entry"]["status"], "expired",
        "the entry is still stored"
    );
    let listed = env.json(&["list"]);
    let numbers = column(&listed, "phoneNumber");
    assert_eq!(numbers, ["+14155550124"], "list hides expired entries");
    assert_eq!(
        env.json(&["list", "--include-expired"])
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // An expired entry can be added again without --replace.
    env.ok(&["add", "+14155550123", "--reason", "again"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_expiry_and_usage_errors() {
    let env = Env::init(Server::Dynalite);
    let (_, err) = env.expect(1, &["add", "+14155550123", "--expires", "tomorrow"]);
    assert!(err.contains("`tomorrow` is not a time"), "{err}");
    let (_, err) = env.expect(1, &["add", "+14155550123", "--expires", "2020-01-01"]);
    assert!(err.contains("already in the past"), "{err}");
    let (_, err) = env.expect(2, &["add"]);
    assert!(err.contains("NUMBER"), "{err}");
    env.expect(2, &["frobnicate"]);
    env.expect(2, &["list", "--output", "yaml"]);
    let (_, err) = env.expect(1, &["--default-country", "XX", "list"]);
    assert!(err.contains("--default-country"), "{err}");
    let (help, _) = env.expect(0, &["import", "--help"]);
    assert!(
        help.contains("--dry-run") && help.contains("phoneNumber"),
        "{help}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_tables_say_how_to_create_them() {
    let env = Env::new(Server::Dynalite);
    let (_, err) = env.expect(1, &["list"]);
    assert!(
        err.contains("does not exist") && err.contains("blocklist init"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn import_reports_each_rejected_row_and_writes_the_rest() {
    let env = Env::init(Server::Dynalite);
    let csv = env.file(
        "mixed.csv",
        "phoneNumber,reason,expiresAt,note\n\
         +14155550101,spam,,\n\
         123,bad number,,\n\
         (415) 555-0102,fraud,2099-01-01,\n\
         +14155550103,bad date,31/12/2026,\n\
         +14155550104,too,many,fields,here\n\
         ,empty number,,\n\
         415.555.0101,repeat wins,,second row for 0101\n\
         anonymous,withheld,,\n",
    );
    let (out, err) = env.expect(1, &["import", &csv]);
    assert!(
        err.contains("mixed.csv:3: rejected `123`: not a valid phone number"),
        "{err}"
    );
    assert!(
        err.contains("mixed.csv:5: rejected `+14155550103`: expiresAt: `31/12/2026` is not a time"),
        "{err}"
    );
    assert!(
        err.contains("mixed.csv:6: rejected `+14155550104`: has 5 fields, the header has 4"),
        "{err}"
    );
    assert!(
        err.contains("mixed.csv:7: rejected ``: phoneNumber is empty"),
        "{err}"
    );
    assert!(
        err.contains("mixed.csv:9: rejected `anonymous`: a withheld caller ID"),
        "{err}"
    );
    assert!(
        err.contains("mixed.csv:8: block +14155550101 repeats line 2; the later row is used"),
        "{err}"
    );
    assert!(err.contains("5 rows were rejected"), "{err}");
    assert_eq!(
        out.trim(),
        "read 8, valid 2, rejected 5, duplicates 1, unchanged 0, written 2"
    );

    let list = env.json(&["list"]);
    let numbers = column(&list, "phoneNumber");
    assert_eq!(numbers, ["+14155550101", "+14155550102"]);
    assert_eq!(list[0]["reason"], "repeat wins");
    assert_eq!(list[1]["expiresAt"], "2099-01-01T00:00:00Z");

    // Each imported change has its audit record, naming the file and line.
    let audits = env.audit_items().await;
    let mut sources: Vec<_> = audits
        .iter()
        .map(|a| (s(a, "phoneNumber"), s(a, "source"), s(a, "action")))
        .collect();
    sources.sort();
    assert_eq!(
        sources,
        [
            (
                "+14155550101".into(),
                format!("import {csv}:8"),
                "add".into()
            ),
            (
                "+14155550102".into(),
                format!("import {csv}:4"),
                "add".into()
            ),
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn import_refuses_files_it_cannot_read() {
    let env = Env::init(Server::Dynalite);
    let unknown = env.file(
        "unknown.csv",
        "phoneNumber,reason,colour\n+14155550101,spam,red\n",
    );
    let (_, err) = env.expect(1, &["import", &unknown]);
    assert!(err.contains("unknown column `colour`"), "{err}");
    let no_number = env.file("nonumber.csv", "reason,note\nspam,x\n");
    let (_, err) = env.expect(1, &["import", &no_number]);
    assert!(err.contains("no `phoneNumber` column"), "{err}");
    let (_, err) = env.expect(1, &["import", "/no/such/file.csv"]);
    assert!(err.contains("/no/such/file.csv"), "{err}");
    assert_eq!(env.json(&["list"]), Value::Array(vec![]), "nothing written");
    assert!(env.audit_items().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn dry_run_and_defaults() {
    let env = Env::init(Server::Dynalite);
    let csv = env.file(
        "d.csv",
        "phoneNumber,reason\n+14155550101,\n+14155550102,own reason\n",
    );
    let (out, _) = env.expect(0, &["import", &csv, "--dry-run", "--reason", "bulk"]);
    assert!(
        out.contains("would write 2") && out.contains("dry run"),
        "{out}"
    );
    assert_eq!(env.json(&["list"]), Value::Array(vec![]));
    env.ok(&["import", &csv, "--reason", "bulk", "--expires", "30d"]);
    let list = env.json(&["list"]);
    assert_eq!(list[0]["reason"], "bulk");
    assert_eq!(list[1]["reason"], "own reason");
    assert!(list[0]["expiresAt"].as_str().unwrap().starts_with("20"));
}

/// 10,000 rows, one in ten invalid; re-running the file changes nothing.
#[tokio::test(flavor = "multi_thread")]
async fn ten_thousand_rows_then_an_idempotent_rerun() {
    let env = Env::init(Server::Dynalite);
    let mut csv = String::from("phoneNumber,reason,expiresAt,note\n");
    for i in 0..10_000u32 {
        if i % 10 == 7 {
            writeln!(csv, "555-{i:04},invalid on purpose,,").unwrap();
        } else {
            writeln!(csv, "+1415{:03}{:04},bulk {i},,", 200 + i / 10_000, i).unwrap();
        }
    }
    let file = env.file("big.csv", &csv);
    let (out, err) = env.expect(1, &["import", &file, "--output", "json"]);
    let summary: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(summary["read"], 10_000);
    assert_eq!(summary["rejected"], 1_000);
    assert_eq!(summary["valid"], 9_000);
    assert_eq!(summary["written"], 9_000);
    assert_eq!(
        err.matches(": rejected `555-").count(),
        1_000,
        "every rejected row reported"
    );
    assert!(
        err.contains("big.csv:9: rejected `555-0007`"),
        "line numbers count the header: {}",
        &err[..300]
    );

    let (out, _) = env.expect(1, &["import", &file, "--output", "json"]);
    let rerun: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(rerun["unchanged"], 9_000);
    assert_eq!(rerun["written"], 0);
    assert_eq!(env.json(&["list"]).as_array().unwrap().len(), 9_000);
    assert_eq!(
        env.audit_items().await.len(),
        9_000,
        "one record per change, none for the re-run"
    );
}

/// Export then import into an empty table reproduces the same export.
#[tokio::test(flavor = "multi_thread")]
async fn export_import_round_trips_exactly() {
    let env = Env::init(Server::Dynalite);
    env.ok(&[
        "add",
        "+14155550101",
        "--reason",
        "spam, with a comma",
        "--note",
        "quoted \"note\"",
    ]);
    env.ok(&[
        "add",
        "+442079460958",
        "--reason",
        "fraud",
        "--expires",
        "2099-12-31T18:00:00Z",
    ]);
    env.ok(&["add", "+14155550102"]);
    let exported = env.file("export.csv", "");
    env.ok(&["export", &exported]);
    let first = std::fs::read_to_string(&exported).unwrap();
    assert_eq!(
        first.lines().next(),
        Some(
            "phoneNumber,kind,reason,expiresAt,note,action,message,queueArn,status,mode,lines,reportedBy"
        )
    );
    assert_eq!(first.lines().count(), 4);
    assert!(
        first.contains("\n'+14155550101,block,\"spam, with a comma\","),
        "a number is written as text for spreadsheets: {first}"
    );

    let other = Env::init(Server::Dynalite);
    other.ok(&["import", &exported]);
    let second = other.ok(&["export"]);
    assert_eq!(second, first);
    // Importing the export back into the original changes nothing.
    let out = env.ok(&["import", &exported]);
    assert!(out.contains("unchanged 3, written 0"), "{out}");
}

/// Killed part-way, an import leaves no entry without its audit record,
/// and a re-run completes both.
#[tokio::test(flavor = "multi_thread")]
async fn a_killed_import_is_completed_by_a_rerun() {
    let env = Env::init(Server::Moto);
    let mut csv = String::from("phoneNumber,reason\n");
    for i in 0..3_000u32 {
        writeln!(csv, "+1415300{i:04},bulk").unwrap();
    }
    let file = env.file("killed.csv", &csv);
    let mut child = common::blocklist_cli(env.server, &env.table, &env.audit)
        .args(["import", &file])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    child.kill().unwrap();
    child.wait().unwrap();

    let audited = env.audited_numbers().await;
    let entries = env.json(&["list"]);
    let written = column(&entries, "phoneNumber");
    for number in &written {
        assert!(
            audited.contains(*number),
            "{number} changed without an audit record"
        );
    }
    eprintln!("killed after {} of 3000 entries", written.len());

    env.ok(&["import", &file]);
    let audited = env.audited_numbers().await;
    assert_eq!(env.json(&["list"]).as_array().unwrap().len(), 3_000);
    assert_eq!(audited.len(), 3_000, "every entry has its record");
}

#[tokio::test(flavor = "multi_thread")]
async fn render_flow_from_the_table_and_from_csv() {
    let env = Env::init(Server::Dynalite);
    env.ok(&["add", "+14155550101", "--reason", "spam"]);
    env.ok(&["add", "+442079460958", "--reason", "fraud"]);
    env.ok(&["add", "+1900", "--prefix"]);
    env.ok(&["allow", "+19007770100"]);
    // A pending report is not a block yet: it stays out of the flow.
    let client = client_for(&env.server.endpoint()).await;
    client
        .put_item()
        .table_name(&env.table)
        .item("phoneNumber", AttributeValue::S("+14155550177".into()))
        .item("status", AttributeValue::S("pending".into()))
        .send()
        .await
        .unwrap();
    let out = env.dir.join("from-table.json");
    let (_, err) = env.expect(
        0,
        &[
            "render-flow",
            "--out",
            out.to_str().unwrap(),
            "--next-flow",
            NEXT_FLOW,
        ],
    );
    assert!(err.contains("4 numbers in 1 Compare blocks"), "{err}");
    let content = std::fs::read_to_string(&out).unwrap();
    assert_eq!(connect_blocklist::flow::validate(&content), vec![]);
    assert!(content.contains("\"+14155550101\"") && content.contains("\"+442079460958\""));
    assert!(
        content.contains("{\"Operands\":[\"+1900\"],\"Operator\":\"TextStartsWith\"}"),
        "{content}"
    );
    assert!(content.contains("\"+19007770100\"") && !content.contains("+14155550177"));
    assert!(
        content.contains(NEXT_FLOW),
        "callers not blocked go on to --next-flow"
    );

    let csv = env.file(
        "flow.csv",
        "phoneNumber,reason\n(415) 555-0199,x\n+14155550198,y\n",
    );
    let out = env.dir.join("from-csv.json");
    env.ok(&[
        "render-flow",
        "--next-flow",
        NEXT_FLOW,
        "--from-csv",
        &csv,
        "--out",
        out.to_str().unwrap(),
    ]);
    let content = std::fs::read_to_string(&out).unwrap();
    assert!(content.contains("\"+14155550199\"") && !content.contains("+14155550101"));

    let bad = env.file("bad.csv", "phoneNumber\n123\n");
    let (_, err) = env.expect(
        1,
        &[
            "render-flow",
            "--next-flow",
            NEXT_FLOW,
            "--from-csv",
            &bad,
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(
        err.contains("bad.csv:2: rejected `123`") && err.contains("no flow was written"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn render_flow_refuses_a_list_too_large() {
    let env = Env::new(Server::Dynalite);
    let mut csv = String::from("phoneNumber\n");
    for i in 0..20_000u32 {
        writeln!(csv, "+1415{:07}", 2_000_000 + i).unwrap();
    }
    let file = env.file("huge.csv", &csv);
    let out = env.dir.join("huge.json");
    let (_, err) = env.expect(
        1,
        &[
            "render-flow",
            "--next-flow",
            NEXT_FLOW,
            "--from-csv",
            &file,
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(
        err.contains("20000 numbers do not fit in one flow"),
        "{err}"
    );
    assert!(err.contains("at most") && err.contains("fit"), "{err}");
    assert!(!out.exists(), "nothing written");
}

/// Monitor mode and per-line scope, through every command that shows or
/// moves entries: add, check, list, promote (audited), export, import.
#[tokio::test(flavor = "multi_thread")]
async fn monitor_entries_and_line_scopes_from_the_cli() {
    let env = Env::init(Server::Dynalite);
    let counters = format!("{}-counters", env.table);
    let client = client_for(&env.server.endpoint()).await;
    assert!(
        client
            .describe_table()
            .table_name(&counters)
            .send()
            .await
            .is_ok(),
        "init creates the counters table"
    );
    env.ok(&[
        "add",
        "+14155550123",
        "--monitor",
        "--reason",
        "suspected robocaller",
    ]);
    env.ok(&["add", "+1 900", "--prefix", "--monitor"]);
    env.ok(&[
        "add",
        "+14155550188",
        "--line",
        "(800) 555-0100",
        "--line",
        "+18005550101",
    ]);
    let (_, err) = env.expect(2, &["allow", "+14155550199", "--monitor"]);
    assert!(err.contains("unexpected argument '--monitor'"), "{err}");
    let (_, err) = env.expect(1, &["add", "+14155550177", "--line", "+1900"]);
    assert!(err.contains("`+1900` is not a valid phone number"), "{err}");

    let watched = env.json(&["check", "+14155550123"]);
    assert_eq!(watched["answer"]["matchType"], "monitor", "{watched}");
    assert_eq!(watched["answer"]["isBlocked"], "false");
    let text = env.ok(&["check", "+1 900 555 0100"]);
    assert!(
        text.contains("only the monitoring entry +1900 matches"),
        "{text}"
    );
    let sales = env.json(&["check", "+14155550188", "--line", "+18005550100"]);
    assert_eq!(sales["answer"]["matchType"], "exact");
    let support = env.json(&["check", "+14155550188", "--line", "+18005550199"]);
    assert_eq!(support["answer"]["matchType"], "none");

    let list = env.json(&["list"]);
    let shown: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} {} {} {}",
                e["kind"], e["phoneNumber"], e["mode"], e["lines"]
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            r#""block" "+14155550123" "monitor" "all""#,
            r#""block" "+14155550188" "block" "+18005550100 +18005550101""#,
            r#""prefix" "+1900" "monitor" "all""#,
        ]
    );

    env.ok(&["promote", "+14155550123", "--reason", "confirmed"]);
    assert_eq!(
        env.json(&["check", "+14155550123"])["answer"]["matchType"],
        "exact"
    );
    let (_, err) = env.expect(1, &["promote", "+14155550123"]);
    assert!(
        err.contains("no monitoring block entry for +14155550123"),
        "{err}"
    );
    let history = env.json(&["history", "+14155550123"]);
    assert_eq!(history[0]["action"], "promote", "{history}");
    env.ok(&["promote", "+1900", "--prefix"]);
    assert_eq!(
        env.json(&["check", "+19005550100"])["answer"]["matchType"],
        "prefix"
    );

    // Export, then import into fresh tables: mode and lines come back.
    let exported = env.ok(&["export"]);
    assert!(
        exported
            .lines()
            .next()
            .unwrap()
            .ends_with(",mode,lines,reportedBy"),
        "{exported}"
    );
    let copy = Env::init(Server::Dynalite);
    let file = copy.file("entries.csv", &exported);
    copy.ok(&["import", &file]);
    env.ok(&["add", "+14155550166", "--monitor"]);
    let csv = copy.file(
        "more.csv",
        "phoneNumber,kind,mode,lines\n+14155550166,block,monitor,\n+14155550155,block,shadow,\n+14155550144,allow,,+18005550100;bad\n",
    );
    let (_, err) = copy.expect(1, &["import", &csv]);
    assert!(err.contains("mode: `shadow` is not a mode"), "{err}");
    assert!(
        err.contains("lines: `bad` is not a valid phone number"),
        "{err}"
    );
    let strip = |v: Value| -> Vec<Value> {
        let mut rows = v.as_array().unwrap().clone();
        for row in &mut rows {
            let row = row.as_object_mut().unwrap();
            row.retain(|k, _| ["kind", "phoneNumber", "mode", "lines"].contains(&k.as_str()));
        }
        rows
    };
    assert_eq!(strip(copy.json(&["list"])), strip(env.json(&["list"])));
}

#[tokio::test(flavor = "multi_thread")]
async fn prefix_and_allow_rules_from_the_cli() {
    let env = Env::init(Server::Dynalite);
    let prefix = env.json(&["add", "+1 900", "--prefix", "--reason", "premium rate"]);
    assert_eq!(
        (
            prefix[0]["kind"].as_str(),
            prefix[0]["phoneNumber"].as_str()
        ),
        (Some("prefix"), Some("+1900"))
    );
    let (_, err) = env.expect(1, &["add", "1900", "--prefix"]);
    assert!(err.contains("`1900` is not a prefix"), "{err}");
    env.ok(&["add", "+14155550123", "--reason", "spam"]);
    env.ok(&["allow", "+14155550123", "--reason", "VIP"]);
    env.ok(&["allow", "+4420", "--prefix", "--reason", "London office"]);
    let (_, err) = env.expect(1, &["allow", "+14155550123"]);
    assert!(err.contains("allow +14155550123 already exists"), "{err}");

    let list = env.json(&["list"]);
    let kinds: Vec<_> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e["kind"].as_str().unwrap(),
                e["phoneNumber"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "block +14155550123",
            "prefix +1900",
            "allow +14155550123",
            "allowPrefix +4420"
        ]
    );

    // check explains which rule decided.
    let vip = env.json(&["check", "+14155550123"]);
    assert_eq!(
        (
            vip["answer"]["matchType"].as_str(),
            vip["answer"]["isBlocked"].as_str()
        ),
        (Some("allow"), Some("false"))
    );
    let text = env.ok(&["check", "+1 900 777 1234"]);
    assert!(
        text.contains("Blocked: the number starts with the prefix rule +1900"),
        "{text}"
    );
    let text = env.ok(&["check", "+14155550123"]);
    assert!(
        text.contains("the allow entry +14155550123 covers the number"),
        "{text}"
    );

    env.ok(&["unallow", "+14155550123", "--reason", "no longer VIP"]);
    assert_eq!(
        env.json(&["check", "+14155550123"])["answer"]["matchType"],
        "exact"
    );
    let (_, err) = env.expect(1, &["unallow", "+14155550123"]);
    assert!(
        err.contains("there is no allow entry for +14155550123"),
        "{err}"
    );
    env.ok(&["remove", "+1900", "--prefix"]);
    assert_eq!(
        env.json(&["check", "+19007771234"])["answer"]["isBlocked"],
        "false"
    );

    // Every change is audited under its own key.
    let history = env.json(&["history", "+14155550123"]);
    let actions = column(&history, "action");
    assert_eq!(
        actions,
        ["remove", "add", "add"],
        "unallow, allow, add: newest first"
    );
    assert_eq!(history[0]["phoneNumber"], "allow#+14155550123");
    let history = env.json(&["history", "+1900", "--prefix"]);
    let actions = column(&history, "action");
    assert_eq!(actions, ["remove", "add"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn block_actions_from_the_cli() {
    let env = Env::init(Server::Dynalite);
    let arn = "arn:aws:connect:us-east-1:123456789012:instance/11111111-2222-3333-4444-555555555555/queue/66666666-7777-8888-9999-000000000000";
    env.ok(&[
        "add",
        "+14155550101",
        "--action",
        "queue",
        "--queue-arn",
        arn,
    ]);
    env.ok(&[
        "add",
        "+14155550102",
        "--action",
        "message",
        "--message",
        "Please email us instead.",
    ]);
    let q = env.json(&["check", "+14155550101"])["answer"].clone();
    assert_eq!(
        (q["blockAction"].as_str(), q["blockQueueArn"].as_str()),
        (Some("queue"), Some(arn))
    );
    let m = env.json(&["check", "+14155550102"])["answer"].clone();
    assert_eq!(
        (m["blockAction"].as_str(), m["blockMessage"].as_str()),
        (Some("message"), Some("Please email us instead."))
    );
    let (_, err) = env.expect(1, &["add", "+14155550103", "--action", "queue"]);
    assert!(
        err.contains("needs the queue's ARN") && err.contains("--queue-arn"),
        "{err}"
    );
    let (_, err) = env.expect(
        1,
        &[
            "add",
            "+14155550103",
            "--action",
            "queue",
            "--queue-arn",
            "fraud-team",
        ],
    );
    assert!(err.contains("not an Amazon Connect queue ARN"), "{err}");
    let (_, err) = env.expect(1, &["add", "+14155550103", "--action", "shout"]);
    assert!(err.contains("`shout` is not an action"), "{err}");
}

/// Kinds and actions survive export then import; kind errors are row errors.
#[tokio::test(flavor = "multi_thread")]
async fn import_and_export_carry_kind_and_action() {
    let env = Env::init(Server::Dynalite);
    let arn = "arn:aws:connect:us-east-1:123456789012:instance/i/queue/q";
    let csv = env.file(
        "kinds.csv",
        &format!(
            "phoneNumber,kind,reason,action,message,queueArn\n\
             +14155550101,,plain block,,,\n\
             +1900,prefix,premium,message,No premium calls.,\n\
             +14155550102,allow,VIP,,,\n\
             +4420,allowPrefix,office,,,\n\
             +14155550103,block,fraud,queue,,{arn}\n\
             +1900,nonsense,bad kind,,,\n\
             +14155550104,allow,allow with action,queue,,{arn}\n\
             12345,prefix,not a prefix,,,\n"
        ),
    );
    let (out, err) = env.expect(1, &["import", &csv]);
    assert!(
        err.contains("kinds.csv:7: rejected `+1900`: kind: `nonsense` is not a kind"),
        "{err}"
    );
    assert!(
        err.contains("kinds.csv:8: rejected `+14155550104`: allow entries take no action"),
        "{err}"
    );
    assert!(
        err.contains("kinds.csv:9: rejected `12345`: `12345` is not a prefix"),
        "{err}"
    );
    assert!(out.contains("valid 5, rejected 3"), "{out}");
    assert_eq!(
        env.json(&["check", "+19007771234"])["answer"]["blockMessage"],
        "No premium calls."
    );
    assert_eq!(
        env.json(&["check", "+14155550103"])["answer"]["blockQueueArn"],
        arn
    );

    let exported = env.file("kinds-export.csv", "");
    env.ok(&["export", &exported]);
    let first = std::fs::read_to_string(&exported).unwrap();
    assert!(
        first.contains("\n'+1900,prefix,premium,,,message,No premium calls.,"),
        "{first}"
    );
    let other = Env::init(Server::Dynalite);
    other.ok(&["import", &exported]);
    assert_eq!(other.ok(&["export"]), first, "round trip");
    let again = env.ok(&["import", &exported]);
    assert!(again.contains("unchanged 5, written 0"), "{again}");
}

/// Hit counts show in `list`, and `--not-hit-since` finds entries to prune.
#[tokio::test(flavor = "multi_thread")]
async fn list_shows_hits_and_finds_stale_entries() {
    let env = Env::init(Server::Dynalite);
    env.ok(&["add", "+14155550101", "--reason", "hit long ago"]);
    env.ok(&["add", "+14155550102", "--reason", "hit today"]);
    env.ok(&[
        "add",
        "+14155550103",
        "--reason",
        "never hit, made long ago",
    ]);
    env.ok(&["add", "+14155550104", "--reason", "never hit, new"]);
    env.ok(&["allow", "+14155550105"]);
    let client = client_for(&env.server.endpoint()).await;
    let long_ago =
        connect_blocklist::when::rfc3339(connect_blocklist::when::now_epoch() - 100 * 86_400);
    let today = connect_blocklist::when::rfc3339(connect_blocklist::when::now_epoch());
    for (number, attr, value) in [
        ("+14155550101", "lastBlockedAt", long_ago.as_str()),
        ("+14155550102", "lastBlockedAt", today.as_str()),
        ("+14155550103", "createdAt", long_ago.as_str()),
    ] {
        client
            .update_item()
            .table_name(&env.table)
            .key("phoneNumber", AttributeValue::S(number.into()))
            .update_expression("SET #a = :v, blockCount = :n")
            .expression_attribute_names("#a", attr)
            .expression_attribute_values(":v", AttributeValue::S(value.into()))
            .expression_attribute_values(
                ":n",
                AttributeValue::N(if attr == "createdAt" { "0" } else { "7" }.into()),
            )
            .send()
            .await
            .unwrap();
    }
    let all = env.json(&["list"]);
    let hits: Vec<_> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["blockCount"].as_u64().unwrap())
        .collect();
    assert_eq!(hits, [7, 7, 0, 0, 0]);
    let stale = env.json(&["list", "--not-hit-since", "90d"]);
    let numbers = column(&stale, "phoneNumber");
    assert_eq!(
        numbers,
        ["+14155550101", "+14155550103"],
        "allow entries are never stale"
    );
    let (_, err) = env.expect(1, &["list", "--not-hit-since", "ninety days"]);
    assert!(err.contains("is not a time"), "{err}");
}

/// A DynamoDB that accepts connections and never answers (a frozen server,
/// a proxy that lost its upstream): the CLI gives up after its timeout
/// (`BLOCKLIST_TIMEOUT`, seconds) with an error saying what to check, and
/// exits 1, instead of waiting forever.
#[test]
fn a_frozen_dynamodb_is_an_error_not_a_hang() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept() {
            held.push(socket); // read nothing, answer nothing
        }
    });
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_blocklist"))
        .args(["--endpoint-url", &endpoint, "--region", "us-east-1"])
        .args(["add", "+14155550123", "--reason", "spam"])
        .env("BLOCKLIST_TIMEOUT", "2")
        .env("AWS_ACCESS_KEY_ID", "local")
        .env("AWS_SECRET_ACCESS_KEY", "local")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Not a speed target: only tells a hang from an answer.
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("blocklist still waiting on a frozen DynamoDB after 60 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("did not answer") && stderr.contains("--endpoint-url"),
        "says what to check: {stderr}"
    );
}

/// Issue 12.5a: a quote that never closes would read every later row into
/// one cell; the file is refused, naming the line where the quote opened.
#[tokio::test(flavor = "multi_thread")]
async fn an_unterminated_quote_refuses_the_whole_file() {
    let env = Env::init(Server::Dynalite);
    let csv = env.file(
        "quote.csv",
        "phoneNumber,reason\n\
         +14155550101,spam\n\
         +14155550102,\"fraud, said he would call back\n\
         +14155550103,spam\n\
         +14155550104,spam\n",
    );
    let (out, err) = env.expect(1, &["import", &csv]);
    assert!(
        err.contains("quote.csv:3: rejected `+14155550102`: ") && err.contains("never closed"),
        "{err}"
    );
    assert!(err.contains("nothing in the file was used"), "{err}");
    assert_eq!(out, "", "no summary: the file was not imported");
    assert_eq!(env.json(&["list"]), Value::Array(vec![]), "nothing written");
    assert!(env.audit_items().await.is_empty(), "no audit record");
}

/// Issue 12.5b: a field too long for DynamoDB's 400 KB item (and for the
/// audit record that holds the entry twice) is a rejected row, found before
/// anything is written: the other rows are written, each with its record.
#[tokio::test(flavor = "multi_thread")]
async fn an_oversized_field_is_rejected_before_anything_is_written() {
    let env = Env::init(Server::Dynalite);
    let mut csv = String::from("phoneNumber,reason\n");
    for i in 0..250u32 {
        let reason = if i == 210 {
            "x".repeat(1_000_000)
        } else {
            format!("bulk {i}")
        };
        writeln!(csv, "+1415400{i:04},{reason}").unwrap();
    }
    let file = env.file("long.csv", &csv);
    let (out, err) = env.expect(1, &["import", &file]);
    assert!(
        err.contains(
            "long.csv:212: rejected `+14154000210`: reason: 1000000 characters, at most 1024"
        ),
        "{}",
        &err[..err.len().min(500)]
    );
    assert_eq!(
        out.trim(),
        "read 250, valid 249, rejected 1, duplicates 0, unchanged 0, written 249"
    );
    let listed = env.json(&["list"]);
    assert_eq!(listed.as_array().unwrap().len(), 249);
    let audited = env.audited_numbers().await;
    assert_eq!(audited.len(), 249, "one record per entry written, no other");
    assert!(!audited.contains("+14154000210"));

    // A stored entry near the item limit (written by other means) cannot be
    // replaced by an import: the audit record would hold it and the new
    // entry, over 400 KB. Refused with its line, before any write.
    let client = client_for(&env.server.endpoint()).await;
    common::put_raw(
        &client,
        &env.table,
        &[
            ("phoneNumber", "+14154000001"),
            ("reason", &"y".repeat(405_000)),
        ],
    )
    .await;
    let replace = env.file(
        "replace.csv",
        &format!(
            "phoneNumber,reason,note\n+14154000001,{},{}\n+14154000002,fine,\n",
            "r".repeat(1_000),
            "n".repeat(4_000)
        ),
    );
    let (out, err) = env.expect(1, &["import", &replace]);
    assert!(
        err.contains("replace.csv:2: rejected `+14154000001`: its audit record")
            && err.contains("over DynamoDB's item limit"),
        "{}",
        &err[..err.len().min(500)]
    );
    assert!(
        out.contains("rejected 1") && out.contains("written 1"),
        "{out}"
    );
    assert_eq!(env.audit_items().await.len(), 250);
}

/// Issue 12.5c: one rule for an expiry that has passed, whether given to
/// `add`, in an import row or as the import's default: refused. An import
/// row can no longer end an active block by giving a past date.
#[tokio::test(flavor = "multi_thread")]
async fn an_expiry_that_has_passed_is_refused_by_import_as_by_add() {
    let env = Env::init(Server::Dynalite);
    env.ok(&["add", "+14155550101", "--reason", "spam"]);
    let (_, err) = env.expect(1, &["add", "+14155550102", "--expires", "2020-01-01"]);
    assert!(err.contains("in the past"), "{err}");
    let csv = env.file(
        "past.csv",
        "phoneNumber,reason,expiresAt\n\
         +14155550101,spam,2020-01-01\n\
         +14155550102,new,2099-01-01\n",
    );
    let (out, err) = env.expect(1, &["import", &csv]);
    assert!(
        err.contains(
            "past.csv:2: rejected `+14155550101`: expiresAt: 2020-01-01T00:00:00Z is already in the past"
        ),
        "{err}"
    );
    assert!(
        out.contains("rejected 1") && out.contains("written 1"),
        "{out}"
    );
    assert_eq!(
        env.json(&["check", "+14155550101"])["answer"]["isBlocked"],
        "true",
        "the active block is untouched"
    );
    let defaults = env.file("defaults.csv", "phoneNumber\n+14155550103\n");
    let (_, err) = env.expect(1, &["import", &defaults, "--expires", "2020-01-01"]);
    assert!(
        err.contains("--expires") && err.contains("in the past"),
        "{err}"
    );
    assert_eq!(env.json(&["list"]).as_array().unwrap().len(), 2);

    // An entry that has expired (TTL deletes it later) is not exported, so
    // importing an export is still clean and changes nothing.
    let client = client_for(&env.server.endpoint()).await;
    common::put_raw(
        &client,
        &env.table,
        &[("phoneNumber", "+14155550109"), ("expiresAt", "1577836800")],
    )
    .await;
    let exported = env.ok(&["export"]);
    assert!(!exported.contains("+14155550109"), "{exported}");
    let backup = env.file("backup.csv", &exported);
    let out = env.ok(&["import", &backup]);
    assert!(out.contains("unchanged 2, written 0"), "{out}");
}

/// Issue 12.5d: a cell a spreadsheet would run as a formula (`=`, `+`, `-`,
/// `@`, tab, CR first) is written with a `'` before it, in `export` and in
/// every `--output csv`; import takes exactly that `'` off again, so export
/// -> import is exact. An agent's free-text report reason is one way in.
#[tokio::test(flavor = "multi_thread")]
async fn csv_cells_a_spreadsheet_would_run_are_quoted_and_read_back() {
    let env = Env::init(Server::Dynalite);
    let formula = "=HYPERLINK(\"http://evil.example\",\"click\")";
    env.ok(&[
        "add",
        "+14155550101",
        "--reason",
        formula,
        "--note",
        "@SUM(A1)",
    ]);
    env.ok(&[
        "add",
        "+14155550102",
        "--reason",
        "'=not a formula",
        "--note=-1",
    ]);
    env.ok(&["add", "+1900", "--prefix", "--reason", "\tpremium"]);
    let client = client_for(&env.server.endpoint()).await;
    let config = connect_blocklist::config::Config::from_lookup(|name| match name {
        "TABLE_NAME" => Some(env.table.clone()),
        "AUDIT_TABLE_NAME" => Some(env.audit.clone()),
        _ => None,
    })
    .unwrap();
    let event = blocklist_harness::connect_event::ContactFlowEvent::voice("+14155550177")
        .contact_id("contact-7")
        .parameter("agent", "jdoe")
        .parameter("reason", "+1 called 5 times");
    let answer = connect_blocklist::report::Reporter::new(client, &config)
        .handle(&event.build())
        .await;
    assert_eq!(answer.report_status, "pending");

    let exported = env.file("export.csv", "");
    env.ok(&["export", &exported]);
    let first = std::fs::read_to_string(&exported).unwrap();
    let mut lines: Vec<&str> = first.lines().collect();
    // The report's last cell is its agent and the time of the report.
    let (report, agents) = lines[4].split_once(",\"{").unwrap();
    assert!(agents.starts_with("\"\"agent:jdoe\"\":"), "{agents}");
    lines[4] = report;
    assert_eq!(
        lines[1..],
        [
            "'+14155550101,block,\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")\",,'@SUM(A1),,,,active,block,,",
            "'+14155550102,block,''=not a formula,,'-1,,,,active,block,,",
            "'+1900,prefix,'\tpremium,,,,,,active,block,,",
            // A report is an entry of its own kind (listed after the rules).
            "'+14155550177,report,'+1 called 5 times,,,,,,pending,,",
        ],
        "{first}"
    );
    let listed = env.ok(&["list", "--output", "csv"]);
    assert!(listed.contains(",'+14155550101,\"'=HYPERLINK("), "{listed}");
    assert!(listed.contains(",'@SUM(A1)"), "{listed}");
    let pending = env.ok(&["pending", "--output", "csv"]);
    assert!(pending.contains(",'+1 called 5 times,"), "{pending}");
    let history = env.ok(&["history", "+14155550101", "--output", "csv"]);
    assert!(
        history.contains("'=HYPERLINK") && !history.contains("\"=HYPERLINK"),
        "{history}"
    );

    // Read back exactly: the same entries, the same export, nothing changed.
    let other = Env::init(Server::Dynalite);
    other.ok(&["import", &exported]);
    assert_eq!(other.ok(&["export"]), first, "round trip");
    let restored = other.json(&["list"]);
    assert_eq!(restored[0]["phoneNumber"], "+14155550101");
    assert_eq!(restored[0]["reason"], formula);
    assert_eq!(restored[0]["note"], "@SUM(A1)");
    assert_eq!(restored[1]["reason"], "'=not a formula");
    assert_eq!(restored[2]["reason"], "\tpremium");
    let again = env.ok(&["import", &exported]);
    assert!(again.contains("unchanged 4, written 0"), "{again}");
    let flow = env.dir.join("quoted.json");
    env.ok(&[
        "render-flow",
        "--next-flow",
        NEXT_FLOW,
        "--from-csv",
        &exported,
        "--out",
        flow.to_str().unwrap(),
    ]);
    let content = std::fs::read_to_string(&flow).unwrap();
    assert!(
        content.contains("\"+14155550101\"") && !content.contains("'+1"),
        "{content}"
    );
}
