//! Agent reports end to end: the report function records a pending entry,
//! which does not block until `blocklist approve`; `reject` removes it; the
//! audit trail has each step. Needs GetItem/PutItem/Scan/Query: both servers
//! (run on dynalite, the strict one).

mod common;

use blocklist_harness::connect_event::ContactFlowEvent;
use common::{Server, checker, new_table, put_block, unique_table_name};
use connect_blocklist::config::Config;
use connect_blocklist::report::{ReportAnswer, Reporter};
use serde_json::{Value, json};

struct Setup {
    client: aws_sdk_dynamodb::Client,
    table: String,
    audit: String,
}

async fn setup() -> Setup {
    let (client, table) = new_table(Server::Dynalite).await;
    let audit = unique_table_name("audit");
    common::create_audit_table(&client, &audit).await;
    Setup {
        client,
        table,
        audit,
    }
}

fn reporter(s: &Setup, block_now: bool) -> Reporter {
    let config = Config::from_lookup(|name| match name {
        "TABLE_NAME" => Some(s.table.clone()),
        "AUDIT_TABLE_NAME" => Some(s.audit.clone()),
        "REPORTS_BLOCK_IMMEDIATELY" => Some(block_now.to_string()),
        _ => None,
    })
    .unwrap();
    Reporter::new(s.client.clone(), &config)
}

/// The report function (see [`reporter`]) asked about a voice call from
/// `address`, as the agent's flow invokes it (with the agent's name when it
/// has one).
async fn report(s: &Setup, block_now: bool, address: &str, agent: Option<&str>) -> ReportAnswer {
    let event = ContactFlowEvent::voice(address).contact_id("contact-42");
    let event = match agent {
        Some(agent) => event.parameter("agent", agent),
        None => event,
    };
    reporter(s, block_now).handle(&event.build()).await
}

/// Runs the `blocklist` CLI on these tables; returns (status, stdout, stderr).
fn blocklist(s: &Setup, args: &[&str]) -> (i32, String, String) {
    let out = common::blocklist_cli(Server::Dynalite, &s.table, &s.audit)
        .args(["--actor", "admin@ci", "--output", "json"])
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn is_blocked(s: &Setup, number: &str) -> bool {
    let c = checker(s.client.clone(), &s.table, &[]);
    c.handle(&json!({"phoneNumber": number})).await.is_blocked
}

#[tokio::test(flavor = "multi_thread")]
async fn report_then_approve_blocks() {
    let s = setup().await;
    let answer = report(&s, false, "(415) 555-0177", Some("jdoe")).await;
    assert_eq!(
        (answer.report_status.as_str(), answer.phone_number.as_str()),
        ("pending", "+14155550177")
    );
    assert!(
        !is_blocked(&s, "+14155550177").await,
        "a pending report does not block"
    );

    let (code, out, _) = blocklist(&s, &["pending"]);
    assert_eq!(code, 0);
    let pending: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(pending[0]["phoneNumber"], "+14155550177");
    assert_eq!(pending[0]["status"], "pending");
    assert_eq!(pending[0]["createdBy"], "agent:jdoe");

    // The same agent again changes nothing; another agent joins the report.
    let again = report(&s, false, "+14155550177", Some("jdoe")).await;
    assert_eq!(again.report_status, "alreadyPending");
    let other = report(&s, false, "+14155550177", Some("asmith")).await;
    assert_eq!(other.report_status, "pending");
    let (_, out, _) = blocklist(&s, &["pending"]);
    let pending: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(pending.as_array().unwrap().len(), 1, "one report: {out}");
    let agents = pending[0]["reportedBy"].as_object().unwrap();
    let mut names: Vec<&str> = agents.keys().map(String::as_str).collect();
    names.sort();
    assert_eq!(names, ["agent:asmith", "agent:jdoe"], "{out}");

    let (code, _, err) = blocklist(&s, &["approve", "+14155550177"]);
    assert_eq!(code, 0, "{err}");
    assert!(is_blocked(&s, "+14155550177").await, "approved: blocks");
    let (code, _, err) = blocklist(&s, &["approve", "+14155550177"]);
    assert_eq!(code, 1);
    assert!(err.contains("has no pending report"), "{err}");

    let (_, out, _) = blocklist(&s, &["history", "+14155550177"]);
    let history: Value = serde_json::from_str(&out).unwrap();
    let steps: Vec<(&str, &str, &str)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let field = |name: &str| r[name].as_str().unwrap();
            (field("action"), field("actor"), field("phoneNumber"))
        })
        .collect();
    // The report is its own entry (`report#...`): recorded by the agent,
    // joined by the second, then closed by the approval, which made the number's block first.
    assert_eq!(
        steps,
        [
            ("approve", "admin@ci", "report#+14155550177"),
            ("approve", "admin@ci", "+14155550177"),
            ("report", "agent:asmith", "report#+14155550177"),
            ("report", "agent:jdoe", "report#+14155550177"),
        ]
    );
    assert_eq!(history[2]["source"], "report contact contact-42");
    assert_eq!(history[2]["after"]["reason"], "reported by an agent");

    let blocked = report(&s, false, "+14155550177", None).await;
    assert_eq!(blocked.report_status, "alreadyBlocked");
}

#[tokio::test(flavor = "multi_thread")]
async fn report_then_reject_removes() {
    let s = setup().await;
    assert_eq!(
        report(&s, false, "+14155550178", Some("jdoe"))
            .await
            .report_status,
        "pending"
    );
    let (code, _, err) = blocklist(
        &s,
        &[
            "reject",
            "+14155550178",
            "--reason",
            "customer was upset, not abusive",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(!is_blocked(&s, "+14155550178").await);
    let (_, out, _) = blocklist(&s, &["pending"]);
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap(), json!([]));
    let (_, out, _) = blocklist(&s, &["history", "+14155550178"]);
    let history: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(history[0]["action"], "reject");
    assert_eq!(history[0]["reason"], "customer was upset, not abusive");
}

#[tokio::test(flavor = "multi_thread")]
async fn reports_can_block_at_once() {
    let s = setup().await;
    let answer = report(&s, true, "+14155550179", Some("jdoe")).await;
    assert_eq!(answer.report_status, "blocked");
    assert!(is_blocked(&s, "+14155550179").await);
}

#[tokio::test(flavor = "multi_thread")]
async fn withheld_and_invalid_callers_cannot_be_reported() {
    let s = setup().await;
    for address in ["anonymous", "123"] {
        let answer = report(&s, true, address, Some("jdoe")).await;
        assert_eq!(
            (answer.report_status.as_str(), answer.phone_number.as_str()),
            ("notANumber", "")
        );
    }
    let chat = ContactFlowEvent::chat().build();
    assert_eq!(
        reporter(&s, true).handle(&chat).await.report_status,
        "notANumber"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unwritable_table_answers_error() {
    let s = setup().await;
    let missing = Setup {
        client: s.client.clone(),
        table: "no-such-table-xyz".into(),
        audit: s.audit.clone(),
    };
    let answer = report(&missing, false, "+14155550180", Some("jdoe")).await;
    assert_eq!(answer.report_status, "error");
}

/// The `report` binary answers the sample event file with a flat string map.
#[tokio::test(flavor = "multi_thread")]
async fn report_binary_answers_event_files() {
    let s = setup().await;
    put_block(&s.client, &s.table, "+14155550123", "spam").await;
    let out = common::lambda_on_event_files(
        env!("CARGO_BIN_EXE_report"),
        Server::Dynalite,
        &s.table,
        &["report-caller.json"],
    )
    .env("AUDIT_TABLE_NAME", &s.audit)
    .output()
    .unwrap();
    assert_eq!(
        common::event_file_answers(&out),
        [json!({"reportStatus": "pending", "phoneNumber": "+14155550177"})]
    );
}

/// A refused caller ID is logged masked (the default), not as the agent's
/// flow sent it, and event fields are cut short: the report binary, as
/// Lambda runs it.
#[tokio::test]
async fn a_refused_caller_id_is_logged_masked_and_fields_cut_short() {
    let s = setup().await;
    let raw = "+14155550123456789";
    let event = ContactFlowEvent::voice(raw)
        .contact_id(&"c".repeat(100_000))
        .parameter("agent", "a".repeat(100_000))
        .build();
    let file = common::event_file(&event);
    let out = common::lambda_on_event_files(
        env!("CARGO_BIN_EXE_report"),
        Server::Dynalite,
        &s.table,
        &[&file],
    )
    .env("AUDIT_TABLE_NAME", &s.audit)
    .output()
    .unwrap();
    assert_eq!(
        common::event_file_answers(&out)[0]["reportStatus"],
        "notANumber"
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    let refused = stderr
        .lines()
        .find(|l| l.contains("report refused"))
        .unwrap_or_else(|| panic!("no `report refused` line: {} bytes", stderr.len()));
    assert!(!refused.contains(raw), "masked: {refused}");
    assert!(refused.contains("****"), "masked: {refused}");
    assert!(refused.len() < 2_000, "{} bytes", refused.len());
}

/// With `REPORTS_AUTO_BLOCK_THRESHOLD=2`, the second distinct agent's
/// report blocks the caller for `REPORTS_AUTO_BLOCK_EXPIRES`; the first
/// agent reporting again does not count twice; the history says why.
#[tokio::test(flavor = "multi_thread")]
async fn distinct_agents_reports_block_by_themselves() {
    let s = setup().await;
    let config = Config::from_lookup(|name| match name {
        "TABLE_NAME" => Some(s.table.clone()),
        "AUDIT_TABLE_NAME" => Some(s.audit.clone()),
        "REPORTS_AUTO_BLOCK_THRESHOLD" => Some("2".into()),
        "REPORTS_AUTO_BLOCK_EXPIRES" => Some("1d".into()),
        _ => None,
    })
    .unwrap();
    let reporter = Reporter::new(s.client.clone(), &config);
    let by = |agent: &str| {
        ContactFlowEvent::voice("(415) 555-0190")
            .contact_id("contact-7")
            .parameter("agent", agent)
            .build()
    };
    assert_eq!(reporter.handle(&by("ann")).await.report_status, "pending");
    assert_eq!(
        reporter.handle(&by("ann")).await.report_status,
        "alreadyPending"
    );
    assert!(!is_blocked(&s, "+14155550190").await);
    assert_eq!(reporter.handle(&by("bob")).await.report_status, "blocked");
    assert!(is_blocked(&s, "+14155550190").await);

    let (code, out, err) = blocklist(&s, &["history", "+14155550190"]);
    assert_eq!(code, 0, "{err}");
    let records: Vec<Value> = serde_json::from_str(&out).unwrap();
    let auto = records
        .iter()
        .find(|r| r["phoneNumber"] == "+14155550190")
        .unwrap_or_else(|| panic!("{out}"));
    assert_eq!(auto["action"], "autoBlock");
    let why = auto["reason"].as_str().unwrap();
    assert!(why.contains("agent:ann, agent:bob"), "{why}");
    let expires = auto["after"]["expiresAt"].as_str().unwrap_or_default();
    assert!(!expires.is_empty(), "the block expires: {auto}");
}
