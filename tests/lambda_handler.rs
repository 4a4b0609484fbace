//! The Lambda's handler, end to end: Connect events through the real handler
//! and the real SDK against local DynamoDB-compatible servers (dynalite and
//! moto, both needing only CreateTable/PutItem/GetItem).

mod common;

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use blocklist_harness::connect_event::{ContactFlowEvent, connect_event};
use common::{Server, answer, checker, client_for, new_table, put_block, put_raw};
use serde_json::json;
use tokio::net::TcpListener;

async fn blocked_number_is_blocked(server: Server) {
    let (client, table) = new_table(server).await;
    put_raw(
        &client,
        &table,
        &[
            ("phoneNumber", "+14155550123"),
            ("reason", "robocaller"),
            ("createdAt", "2026-11-01T10:00:00Z"),
            ("createdBy", "supervisor@example.com"),
        ],
    )
    .await;
    let c = checker(client, &table, &[]);
    // The caller's number arrives in a national format; it is normalized first.
    let a = answer(&c, &connect_event(Some("(415) 555-0123"))).await;
    assert_eq!(a["isBlocked"], "true");
    assert_eq!(a["phoneNumber"], "+14155550123");
    assert_eq!(a["callerIdStatus"], "valid");
    assert_eq!(a["matchType"], "exact");
    assert_eq!(a["blockedReason"], "robocaller");
    assert_eq!(a["blockedDate"], "2026-11-01T10:00:00Z");
    assert_eq!(a["lookupStatus"], "ok");
}

async fn unlisted_number_is_allowed(server: Server) {
    let (client, table) = new_table(server).await;
    put_block(&client, &table, "+14155550123", "spam").await;
    let c = checker(client, &table, &[("FAIL_MODE", "closed")]);
    let a = answer(&c, &connect_event(Some("+14155550199"))).await;
    assert_eq!(a["isBlocked"], "false");
    assert_eq!(a["phoneNumber"], "+14155550199");
    assert_eq!(a["matchType"], "none");
    assert_eq!(a["blockedReason"], "");
    assert_eq!(a["lookupStatus"], "ok");
}

async fn expired_entry_is_not_a_block(server: Server) {
    let (client, table) = new_table(server).await;
    let past = (connect_blocklist::when::now_epoch() - 60).to_string();
    let future = (connect_blocklist::when::now_epoch() + 3600).to_string();
    put_raw(
        &client,
        &table,
        &[
            ("phoneNumber", "+14155550123"),
            ("reason", "temp"),
            ("expiresAt", &past),
        ],
    )
    .await;
    put_raw(
        &client,
        &table,
        &[
            ("phoneNumber", "+14155550124"),
            ("reason", "temp"),
            ("expiresAt", &future),
        ],
    )
    .await;
    let c = checker(client, &table, &[]);
    let expired = answer(&c, &connect_event(Some("+14155550123"))).await;
    assert_eq!(expired["isBlocked"], "false");
    assert_eq!(expired["matchType"], "none");
    assert_eq!(expired["lookupStatus"], "ok");
    let current = answer(&c, &connect_event(Some("+14155550124"))).await;
    assert_eq!(current["isBlocked"], "true");
}

async fn legacy_attribute_names_are_read(server: Server) {
    let (client, table) = new_table(server).await;
    put_raw(
        &client,
        &table,
        &[
            ("phoneNumber", "+442079460958"),
            ("blockedReason", "abusive caller"),
            ("blockedDate", "2024-05-06"),
        ],
    )
    .await;
    let c = checker(client, &table, &[("DEFAULT_COUNTRY", "GB")]);
    let a = answer(&c, &connect_event(Some("020 7946 0958"))).await;
    assert_eq!(a["isBlocked"], "true");
    assert_eq!(a["blockedReason"], "abusive caller");
    assert_eq!(a["blockedDate"], "2024-05-06");
}

async fn parameters_override_and_bare_events(server: Server) {
    let (client, table) = new_table(server).await;
    put_block(&client, &table, "+14155550123", "fraud").await;
    let c = checker(client, &table, &[]);
    // The caller is clean, but the flow asks about the blocked number (a transfer).
    let event = ContactFlowEvent::voice("+14155550199").parameter("phoneNumber", "+1 415 555 0123");
    let a = answer(&c, &event.build()).await;
    assert_eq!(a["isBlocked"], "true");
    assert_eq!(a["phoneNumber"], "+14155550123");
    let bare = answer(&c, &json!({"phoneNumber": "+14155550123"})).await;
    assert_eq!(bare["isBlocked"], "true");
}

async fn anonymous_callers_follow_block_anonymous(server: Server) {
    let (client, table) = new_table(server).await;
    let allow = checker(client.clone(), &table, &[]);
    let block = checker(client, &table, &[("BLOCK_ANONYMOUS", "true")]);
    for address in [
        Some("anonymous"),
        Some("+266696687"),
        Some("Restricted"),
        None,
    ] {
        let status = if address.is_some() {
            "anonymous"
        } else {
            "missing"
        };
        let a = answer(&allow, &connect_event(address)).await;
        assert_eq!(a["isBlocked"], "false", "{address:?}");
        assert_eq!(a["callerIdStatus"], status);
        assert_eq!(a["matchType"], "none");
        assert_eq!(a["lookupStatus"], "skipped");
        assert_eq!(a["phoneNumber"], "");
        let b = answer(&block, &connect_event(address)).await;
        assert_eq!(b["isBlocked"], "true", "{address:?}");
        assert_eq!(b["callerIdStatus"], status);
        assert_eq!(b["matchType"], "anonymous");
    }
    // Chat: no CustomerEndpoint at all.
    let chat = ContactFlowEvent::chat().build();
    assert_eq!(answer(&allow, &chat).await["callerIdStatus"], "missing");
    assert_eq!(answer(&block, &chat).await["isBlocked"], "true");
}

async fn invalid_numbers_follow_invalid_number_action(server: Server) {
    let (client, table) = new_table(server).await;
    let allow = checker(client.clone(), &table, &[]);
    let block = checker(client, &table, &[("INVALID_NUMBER_ACTION", "block")]);
    for address in [
        "123",
        "+999 123456",
        "1;phone-context=+1;tel:2",
        "not a number at all!",
    ] {
        let a = answer(&allow, &connect_event(Some(address))).await;
        assert_eq!(a["isBlocked"], "false", "{address}");
        assert_eq!(a["callerIdStatus"], "invalid");
        assert_eq!(a["matchType"], "none");
        assert_eq!(a["lookupStatus"], "skipped");
        let b = answer(&block, &connect_event(Some(address))).await;
        assert_eq!(b["isBlocked"], "true", "{address}");
        assert_eq!(b["matchType"], "invalid");
    }
}

/// A lookup that fails (`error`) leaves the decision to FAIL_MODE: `open`
/// lets the call through, `closed` blocks it.
async fn assert_fail_mode_decides(client: Client, table: &str) {
    let event = connect_event(Some("+14155550123"));
    let open = answer(&checker(client.clone(), table, &[]), &event).await;
    assert_eq!(open["isBlocked"], "false");
    assert_eq!(open["lookupStatus"], "error");
    assert_eq!(open["matchType"], "none");
    let closed = answer(&checker(client, table, &[("FAIL_MODE", "closed")]), &event).await;
    assert_eq!(closed["isBlocked"], "true");
    assert_eq!(closed["lookupStatus"], "error");
    assert_eq!(closed["matchType"], "failClosed");
}

async fn missing_table_follows_fail_mode(server: Server) {
    let client = client_for(&server.endpoint()).await;
    let table = common::unique_table_name("no-such-table");
    assert_fail_mode_decides(client, &table).await;
}

/// The rules table missing (not deployed, renamed, or an upgrade from a
/// single-table install): no rule can match a caller ID without digits, so
/// the anonymous policy decides those (`skipped`); a number, which rules
/// could match, is a failed lookup (`error`, by FAIL_MODE). Failed before:
/// `anonymous` with BLOCK_ANONYMOUS=true was let through as `error`.
async fn missing_rules_table_leaves_withheld_callers_to_the_policy(server: Server) {
    let (client, table) = new_table(server).await;
    let c = checker(
        client,
        &table,
        &[
            ("BLOCK_ANONYMOUS", "true"),
            ("RULES_TABLE_NAME", "no-such-rules-table"),
        ],
    );
    for address in [Some("anonymous"), Some("Restricted Number"), None] {
        let a = answer(&c, &connect_event(address)).await;
        assert_eq!(a["isBlocked"], "true", "{address:?}");
        assert_eq!(a["matchType"], "anonymous", "{address:?}");
        assert_eq!(a["lookupStatus"], "skipped", "{address:?}");
    }
    let number = answer(&c, &connect_event(Some("+14155550123"))).await;
    assert_eq!(number["isBlocked"], "false");
    assert_eq!(number["lookupStatus"], "error");
}

on_both_servers!(
    blocked_number_is_blocked,
    unlisted_number_is_allowed,
    expired_entry_is_not_a_block,
    legacy_attribute_names_are_read,
    parameters_override_and_bare_events,
    anonymous_callers_follow_block_anonymous,
    invalid_numbers_follow_invalid_number_action,
    missing_table_follows_fail_mode,
    missing_rules_table_leaves_withheld_callers_to_the_policy,
);

/// Nothing listens: connection refused, answered as `error` by the fail mode.
#[tokio::test]
async fn unreachable_server_follows_fail_mode() {
    let client = client_for(&common::unreachable_endpoint()).await;
    assert_fail_mode_decides(client, "BlockedPhoneNumbers").await;
}

/// A server that accepts connections and never answers: the answer still
/// arrives within LOOKUP_TIMEOUT_MS plus a small margin, as `timeout`.
#[tokio::test]
async fn stalled_server_answers_within_the_deadline() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket); // read nothing, answer nothing
        }
    });
    let client = client_for(&endpoint).await;
    for (fail_mode, blocked) in [("open", "false"), ("closed", "true")] {
        let c = checker(
            client.clone(),
            "BlockedPhoneNumbers",
            &[("LOOKUP_TIMEOUT_MS", "300"), ("FAIL_MODE", fail_mode)],
        );
        let started = Instant::now();
        let a = answer(&c, &connect_event(Some("+14155550123"))).await;
        let elapsed = started.elapsed();
        assert_eq!(a["lookupStatus"], "timeout");
        assert_eq!(a["isBlocked"], blocked);
        assert!(
            elapsed >= Duration::from_millis(300),
            "waited the deadline: {elapsed:?}"
        );
        assert!(
            elapsed < Duration::from_millis(300 + 400),
            "answered within the deadline plus margin: {elapsed:?}"
        );
    }
}

/// Events of every odd shape still get the full answer map.
#[tokio::test]
async fn malformed_events_still_get_a_valid_answer() {
    let (client, table) = new_table(Server::Dynalite).await;
    let c = checker(client, &table, &[]);
    let huge = "9".repeat(1_000_000);
    for event in [
        json!(null),
        json!("string"),
        json!(12),
        json!([1, 2]),
        json!({}),
        ContactFlowEvent::voice(14155550123u64).build(),
        ContactFlowEvent::voice(huge).build(),
        ContactFlowEvent::voice(json!(["+14155550123"])).build(),
        json!({"phoneNumber": {"nested": true}}),
    ] {
        let a = answer(&c, &event).await;
        assert!(a["isBlocked"] == "false" || a["isBlocked"] == "true");
    }
}

/// The `bootstrap` binary itself: init from the environment, then the same
/// handler, answering event files.
#[tokio::test]
async fn bootstrap_binary_answers_event_files() {
    let (client, table) = new_table(Server::Dynalite).await;
    put_block(&client, &table, "+14155550123", "robocaller").await;
    let out = common::lambda_on_event_files(
        env!("CARGO_BIN_EXE_bootstrap"),
        Server::Dynalite,
        &table,
        &["blocked-call.json", "chat-contact.json"],
    )
    .output()
    .unwrap();
    let answers = common::event_file_answers(&out);
    assert_eq!(answers[0]["isBlocked"], "true");
    assert_eq!(answers[1]["callerIdStatus"], "missing");
    // One decision line per event, the number masked.
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.matches("\"decision\"").count(), 2, "{stderr}");
    assert!(
        stderr.contains("+1415555****") && !stderr.contains("+14155550123"),
        "{stderr}"
    );
}

#[tokio::test]
async fn bootstrap_refuses_bad_configuration_naming_the_variable() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_bootstrap"))
        .args([
            "--event",
            concat!(env!("CARGO_MANIFEST_DIR"), "/events/blocked-call.json"),
        ])
        .env("FAIL_MODE", "sometimes")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("FAIL_MODE=\"sometimes\""), "{stderr}");
    assert!(
        out.stdout.is_empty(),
        "no answer from a misconfigured function"
    );
}

/// Without its rules table the function still starts and answers, and its
/// `ready` line says so at WARN: what the README's alarm is about.
#[tokio::test]
async fn the_ready_line_says_when_the_rules_are_unavailable() {
    let (client, table) = new_table(Server::Dynalite).await;
    drop(client);
    let run = |rules_table: &str| {
        common::lambda_on_event_files(
            env!("CARGO_BIN_EXE_bootstrap"),
            Server::Dynalite,
            &table,
            &["anonymous-call.json"],
        )
        .env("RULES_TABLE_NAME", rules_table)
        .output()
        .unwrap()
    };
    let ready = |out: &std::process::Output| -> serde_json::Value {
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let line = stderr
            .lines()
            .find(|l| l.contains("\"ready\""))
            .unwrap_or_else(|| panic!("no ready line: {stderr}"))
            .to_owned();
        serde_json::from_str(&line).unwrap()
    };
    let missing = run("no-such-rules-table");
    assert_eq!(common::event_file_answers(&missing).len(), 1);
    let line = ready(&missing);
    assert_eq!(line["level"], "WARN", "{line}");
    assert_eq!(line["fields"]["rules"], "unavailable", "{line}");
    let present = ready(&run(&common::rules_table_for(&table)));
    assert_eq!(present["level"], "INFO", "{present}");
    assert_eq!(present["fields"]["rules"], "loaded", "{present}");
}

#[tokio::test]
async fn log_phone_numbers_full_unmasks() {
    let (client, table) = new_table(Server::Dynalite).await;
    drop(client);
    let out = common::lambda_on_event_files(
        env!("CARGO_BIN_EXE_bootstrap"),
        Server::Dynalite,
        &table,
        &["allowed-call.json"],
    )
    .env("LOG_PHONE_NUMBERS", "full")
    .output()
    .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("\"phone_number\":\"+14155550199\""),
        "{stderr}"
    );
}

/// An `expiresAt` stored as an ISO date means that date, not "never"; an
/// item with an attribute the function cannot read still answers, and is
/// logged as a warning naming the attribute, its number masked.
#[tokio::test]
async fn iso_expiry_is_read_and_an_unreadable_item_is_logged() {
    use aws_sdk_dynamodb::types::AttributeValue::{Bool, S};
    let (client, table) = new_table(Server::Dynalite).await;
    let items = [
        // blocked-call.json's caller: expired in 2020, written as ISO 8601.
        [
            ("phoneNumber", S("+14155550123".into())),
            ("expiresAt", S("2020-01-01T00:00:00Z".into())),
        ],
        // allowed-call.json's caller: an expiry and an action nobody can read.
        [
            ("phoneNumber", S("+14155550199".into())),
            ("expiresAt", S("next tuesday".into())),
        ],
    ];
    for (i, item) in items.into_iter().enumerate() {
        let mut put = client.put_item().table_name(&table);
        for (name, value) in item {
            put = put.item(name, value);
        }
        if i == 1 {
            put = put.item("action", Bool(true));
        }
        put.send().await.unwrap();
    }
    let out = common::lambda_on_event_files(
        env!("CARGO_BIN_EXE_bootstrap"),
        Server::Dynalite,
        &table,
        &["blocked-call.json", "allowed-call.json"],
    )
    .output()
    .unwrap();
    let answers = common::event_file_answers(&out);
    assert_eq!(answers[0]["isBlocked"], "false", "expired in 2020");
    assert_eq!(answers[1]["isBlocked"], "true", "listed, expiry unreadable");
    let stderr = String::from_utf8(out.stderr).unwrap();
    let warning = stderr
        .lines()
        .find(|l| l.contains("\"WARN\"") && l.contains("expiresAt"))
        .unwrap_or_else(|| panic!("no warning about the unreadable item:\n{stderr}"));
    assert!(
        warning.contains("action") && warning.contains("+1415555****"),
        "{warning}"
    );
    assert!(!stderr.contains("+14155550199"), "masked: {stderr}");
}

/// Event fields reach the log cut short: a 1 MB ContactId or Channel (the
/// Lambda takes events up to 6 MB) makes an ordinary decision line.
#[tokio::test]
async fn event_fields_are_logged_cut_short() {
    let (client, table) = new_table(Server::Dynalite).await;
    drop(client);
    let huge = "c".repeat(1_000_000);
    let mut event = ContactFlowEvent::voice("+14155550199")
        .contact_id(&huge)
        .build();
    event["Details"]["ContactData"]["Channel"] = json!(huge);
    let file = common::event_file(&event);
    let out = common::lambda_on_event_files(
        env!("CARGO_BIN_EXE_bootstrap"),
        Server::Dynalite,
        &table,
        &[&file],
    )
    .output()
    .unwrap();
    assert_eq!(common::event_file_answers(&out)[0]["isBlocked"], "false");
    let stderr = String::from_utf8(out.stderr).unwrap();
    let decision = stderr
        .lines()
        .find(|l| l.contains("\"decision\""))
        .unwrap_or_else(|| panic!("no decision line: {} bytes of log", stderr.len()));
    assert!(decision.len() < 2_000, "{} bytes", decision.len());
    assert!(decision.contains("chars)"), "says it was cut: {decision}");
}

/// Valid JSON that serde_json refuses as it is (nesting deeper than 128,
/// a number beyond f64, a lone surrogate escape) still gets the answer map,
/// through the real `bootstrap` under the Runtime API: what it can read is
/// read, and an event with no readable caller ID is decided by the policy
/// (here BLOCK_ANONYMOUS=true). Only a payload that is not JSON gets the
/// runtime's error.
#[tokio::test]
async fn json_beyond_serde_json_still_gets_the_answer_map() {
    use blocklist_harness::runtime_api::{Function, Outcome, RuntimeApi};
    let (client, table) = new_table(Server::Dynalite).await;
    put_block(&client, &table, "+14155550123", "spam").await;
    let api = RuntimeApi::start().await.unwrap();
    let mut command =
        Function::command(std::path::Path::new(env!("CARGO_BIN_EXE_bootstrap")), &api);
    common::local_aws_env(&mut command, &Server::Dynalite.endpoint())
        .env("TABLE_NAME", &table)
        .env("RULES_TABLE_NAME", common::rules_table_for(&table))
        .env("FAIL_MODE", "closed")
        .env("BLOCK_ANONYMOUS", "true");
    let _function = Function::start(&mut command).unwrap();
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    let missing = [
        ("callerIdStatus", "missing"),
        ("isBlocked", "true"),
        ("matchType", "anonymous"),
    ];
    let listed = [
        ("callerIdStatus", "valid"),
        ("isBlocked", "true"),
        ("matchType", "exact"),
    ];
    let cases = [
        (deep.clone(), missing),
        (format!(r#"{{"Details":{deep}}}"#), missing),
        (r#"{"phoneNumber": 1e400}"#.to_owned(), missing),
        (
            r#"{"phoneNumber": -1e400, "x": [1e999]}"#.to_owned(),
            missing,
        ),
        (
            r#"{"Details":{"ContactData":{"ContactId":"\ud800","Channel":"\udc00x"}}}"#.to_owned(),
            missing,
        ),
        (
            format!(
                r#"{{"Details":{{"ContactData":{{"CustomerEndpoint":{{"Address":"+14155550123"}}}}}},"Extra":{deep},"Big":1e400,"Odd":"\ud800"}}"#
            ),
            listed,
        ),
    ];
    for (body, expected) in cases {
        let invocation = tokio::time::timeout(
            Duration::from_secs(30),
            api.invoke_raw(body.clone().into_bytes()),
        )
        .await
        .expect("answered")
        .unwrap();
        let Some(serde_json::Value::Object(answer)) = invocation.response() else {
            panic!("{body:.80}: {:?}", invocation.outcome);
        };
        common::assert_flat(answer);
        common::assert_fields(answer, &expected);
    }
    let not_json = api.invoke_raw(b"{\"Details\": ".to_vec()).await.unwrap();
    assert!(
        matches!(&not_json.outcome, Outcome::Error(e) if e["errorType"] == "Runtime.UnmarshalError"),
        "{:?}",
        not_json.outcome
    );
}
