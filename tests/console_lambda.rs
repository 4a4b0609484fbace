//! The deployed console (src/console/lambda.rs) answering hand-built API
//! Gateway HTTP API events against dynalite: each role's grants, what a
//! request without verified claims gets, and that the audit records the
//! token's identity. The JWT itself is verified by API Gateway: these
//! events carry claims as API Gateway passes them on after verifying.

mod common;

use connect_blocklist::admin::{Admin, Tables};
use connect_blocklist::console::lambda::{DeployedConsole, Groups};
use connect_blocklist::console::{ApiRoute, CONTENT_SECURITY_POLICY, Role};
use connect_blocklist::entry::Kind;
use connect_blocklist::phone::Normalizer;
use serde_json::{Value, json};

use common::{Server, create_audit_table, new_table, rules_table_for};

const ISSUER: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Test";

/// A deployed console over fresh tables on dynalite, and an admin to read
/// what it wrote.
async fn deployed() -> (DeployedConsole, Admin) {
    let (client, table) = new_table(Server::Dynalite).await;
    let audit = format!("{table}-audit");
    create_audit_table(&client, &audit).await;
    let tables = Tables {
        blocklist: table.clone(),
        rules: rules_table_for(&table),
        audit,
    };
    let admin = Admin::new(client, tables, "reader", Normalizer::default());
    let config = common::config(&table, &[]);
    let console = DeployedConsole::new(
        admin.clone(),
        config,
        Groups::default(),
        Some("https://login.example/".into()),
        &["https://example.my.connect.aws".to_owned()],
    )
    .unwrap();
    (console, admin)
}

/// Verified claims of `email` in `groups` (API Gateway's string form).
fn claims(email: &str, groups: &str) -> Value {
    json!({
        "sub": format!("sub-of-{email}"),
        "iss": ISSUER,
        "email": email,
        "cognito:groups": groups,
        "token_use": "id",
    })
}

/// An HTTP API (2.0) event; `claims` as the JWT authorizer passes them.
fn event(method: &str, path_and_query: &str, body: Option<Value>, claims: Option<Value>) -> Value {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let mut event = json!({
        "version": "2.0",
        "routeKey": format!("{method} {path}"),
        "rawPath": path,
        "rawQueryString": query,
        "headers": {
            "host": "abc123.execute-api.eu-west-1.amazonaws.com",
            "content-type": "application/json",
        },
        "requestContext": {
            "domainName": "abc123.execute-api.eu-west-1.amazonaws.com",
            "http": {"method": method, "path": path},
        },
        "isBase64Encoded": false,
    });
    if let Some(body) = body {
        event["body"] = body.to_string().into();
    }
    if let Some(claims) = claims {
        event["requestContext"]["authorizer"] = json!({"jwt": {"claims": claims, "scopes": null}});
    }
    event
}

/// The answer's status and its body as JSON (`Null` if it is not JSON).
fn status_and_json(answer: &Value) -> (u64, Value) {
    let body = answer["body"].as_str().unwrap_or_default();
    (
        answer["statusCode"].as_u64().unwrap(),
        serde_json::from_str(body).unwrap_or(Value::Null),
    )
}

fn block_form(number: &str) -> Value {
    json!({"kind": "block", "number": number, "reason": "fraud calls"})
}

#[tokio::test]
async fn an_agent_token_cannot_add_an_entry_and_nothing_is_written() {
    let (console, admin) = deployed().await;
    let number = "+14155550101";
    let agent = claims("agent@example.com", "[agents]");
    let answer = console
        .handle(&event(
            "POST",
            "/api/entries",
            Some(block_form(number)),
            Some(agent.clone()),
        ))
        .await;
    let (status, body) = status_and_json(&answer);
    assert_eq!(status, 403, "{answer}");
    let error = body["error"].as_str().unwrap();
    assert!(
        error.contains("supervisor") && error.contains("agent"),
        "{error}"
    );
    assert_eq!(
        answer["headers"]["content-security-policy"],
        CONTENT_SECURITY_POLICY
    );
    let target = admin.target(Kind::Block, number).unwrap();
    assert_eq!(admin.get(&target).await.unwrap(), None, "no entry written");
    assert!(
        admin.history(&[target]).await.unwrap().is_empty(),
        "no audit record"
    );
    // Nor anything else a supervisor does.
    for (method, path) in [
        ("GET", "/api/entries"),
        ("GET", "/api/pending"),
        ("GET", "/api/check?number=%2B14155550101"),
        ("POST", "/api/remove"),
        ("POST", "/api/approve"),
    ] {
        let body = (method == "POST").then(|| json!({}));
        let answer = console
            .handle(&event(method, path, body, Some(agent.clone())))
            .await;
        assert_eq!(status_and_json(&answer).0, 403, "{method} {path}: {answer}");
    }
}

#[tokio::test]
async fn a_supervisor_and_an_admin_can_add_and_the_audit_names_the_token() {
    let (console, admin) = deployed().await;
    for (email, groups, number) in [
        ("sup@example.com", "[supervisors]", "+14155550102"),
        // The highest role wins, whichever order the groups come in.
        ("boss@example.com", "[agents admins]", "+14155550103"),
    ] {
        let answer = console
            .handle(&event(
                "POST",
                "/api/entries",
                Some(block_form(number)),
                Some(claims(email, groups)),
            ))
            .await;
        let (status, body) = status_and_json(&answer);
        assert_eq!(status, 200, "{email}: {answer}");
        assert_eq!(body["entry"]["phoneNumber"], number, "{body}");
        let target = admin.target(Kind::Block, number).unwrap();
        let history = admin.history(&[target]).await.unwrap();
        assert_eq!(history.len(), 1);
        assert_eq!(history[0].actor, email);
        assert_eq!(
            history[0].identity.as_deref(),
            Some(format!("jwt:{ISSUER}#sub-of-{email}").as_str()),
            "the token's identity, not the console's own author"
        );
    }
    let whoami = console
        .handle(&event(
            "GET",
            "/api/whoami",
            None,
            Some(claims("sup@example.com", "[supervisors]")),
        ))
        .await;
    let (_, body) = status_and_json(&whoami);
    assert_eq!(body["role"], "supervisor");
    assert_eq!(body["actor"], "sup@example.com");
}

#[tokio::test]
async fn an_agent_reports_a_caller_and_sees_its_status() {
    let (console, admin) = deployed().await;
    let number = "+14155550104";
    let agent = claims("agent@example.com", "[agents]");
    let status_of = |claims: Value| {
        let console = console.clone();
        async move {
            let path = "/api/agent/caller?number=%2B14155550104";
            status_and_json(
                &console
                    .handle(&event("GET", path, None, Some(claims)))
                    .await,
            )
        }
    };
    let (status, body) = status_of(agent.clone()).await;
    assert_eq!((status, &body["status"]), (200, &json!("clear")), "{body}");
    let report = json!({"number": number, "contactId": "c-1", "category": "fraud", "note": "asked for a PIN"});
    let answer = console
        .handle(&event(
            "POST",
            "/api/agent/report",
            Some(report),
            Some(agent.clone()),
        ))
        .await;
    let (status, body) = status_and_json(&answer);
    assert_eq!(
        (status, &body["status"]),
        (200, &json!("pending")),
        "{answer}"
    );
    let (_, body) = status_of(agent.clone()).await;
    assert_eq!(body["status"], "pending");
    assert_eq!(body["reports"], 1);
    let reported = admin.target(Kind::Report, number).unwrap();
    let history = admin
        .history(std::slice::from_ref(&reported))
        .await
        .unwrap();
    assert_eq!(history[0].reason.as_deref(), Some("fraud: asked for a PIN"));
    assert_eq!(history[0].actor, "agent@example.com");
    // An unknown category is refused before anything is written.
    let bad = json!({"number": "+14155550105", "category": "rude", "note": ""});
    let answer = console
        .handle(&event(
            "POST",
            "/api/agent/report",
            Some(bad),
            Some(agent.clone()),
        ))
        .await;
    assert_eq!(status_and_json(&answer).0, 400, "{answer}");
    // A supervisor approves it; the agent then sees the caller blocked.
    let approve = json!({"numbers": [number], "reason": "confirmed"});
    let supervisor = claims("sup@example.com", "[supervisors]");
    let answer = console
        .handle(&event(
            "POST",
            "/api/approve",
            Some(approve),
            Some(supervisor),
        ))
        .await;
    assert_eq!(status_and_json(&answer).0, 200, "{answer}");
    let (_, body) = status_of(agent.clone()).await;
    assert_eq!(body["status"], "blocked", "{body}");
    // A report rejected: reported once, nothing waits, not blocked.
    let other = "+14155550106";
    let report = json!({"number": other, "category": "spam"});
    let answer = console
        .handle(&event(
            "POST",
            "/api/agent/report",
            Some(report),
            Some(agent.clone()),
        ))
        .await;
    assert_eq!(status_and_json(&answer).0, 200, "{answer}");
    let reject = json!({"numbers": [other], "reason": "a customer"});
    let supervisor = claims("sup@example.com", "[supervisors]");
    let answer = console
        .handle(&event(
            "POST",
            "/api/reject",
            Some(reject),
            Some(supervisor),
        ))
        .await;
    assert_eq!(status_and_json(&answer).0, 200, "{answer}");
    let path = "/api/agent/caller?number=%2B14155550106";
    let answer = console
        .handle(&event("GET", path, None, Some(agent.clone())))
        .await;
    let (_, body) = status_and_json(&answer);
    assert_eq!(body["status"], "reported", "{body}");
    assert_eq!(body["reports"], 1, "{body}");
    assert!(body["since"].is_string(), "{body}");
    // Blocked later by hand (a block that carries no agents): the agent
    // still sees the report made before.
    let block = json!({"kind": "block", "number": other, "reason": "called again"});
    let supervisor = claims("sup@example.com", "[supervisors]");
    let answer = console
        .handle(&event(
            "POST",
            "/api/entries",
            Some(block),
            Some(supervisor),
        ))
        .await;
    assert_eq!(status_and_json(&answer).0, 200, "{answer}");
    let answer = console.handle(&event("GET", path, None, Some(agent))).await;
    let (_, body) = status_and_json(&answer);
    assert_eq!(body["status"], "blocked", "{body}");
    assert_eq!(body["reports"], 1, "reported before the block: {body}");
}

#[tokio::test]
async fn without_verified_claims_only_the_page_is_served() {
    let (console, _) = deployed().await;
    let page = console.handle(&event("GET", "/", None, None)).await;
    assert_eq!(page["statusCode"], 200);
    assert!(
        page["headers"]["content-type"]
            .as_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert_eq!(
        page["headers"]["content-security-policy"],
        CONTENT_SECURITY_POLICY
    );
    assert_eq!(page["headers"]["x-frame-options"], "DENY");
    // No Cross-Origin-Opener-Policy: the agent app's sign-in popup hands
    // the token back to the app through `window.opener` from this page.
    assert!(page["headers"]["cross-origin-opener-policy"].is_null());
    let config = console
        .handle(&event("GET", "/config.json", None, None))
        .await;
    assert_eq!(
        status_and_json(&config),
        (
            200,
            json!({"loginUrl": "https://login.example/", "importPartRows": 1000})
        )
    );
    // No claims: API Gateway's authorizer did not run; nothing is answered.
    let answer = console
        .handle(&event("GET", "/api/whoami", None, None))
        .await;
    assert_eq!(status_and_json(&answer).0, 401, "{answer}");
    // A bearer token of its own proves nothing here: only claims count.
    let mut forged = event("GET", "/api/entries", None, None);
    forged["headers"]["authorization"] = "Bearer anything".into();
    assert_eq!(status_and_json(&console.handle(&forged).await).0, 401);
    // Verified, but in no console group.
    let outsider = claims("x@example.com", "[marketing]");
    let answer = console
        .handle(&event("GET", "/api/whoami", None, Some(outsider)))
        .await;
    let (status, body) = status_and_json(&answer);
    assert_eq!(status, 403, "{answer}");
    assert!(body["error"].as_str().unwrap().contains("group"), "{body}");
    // Not an HTTP API event at all.
    let answer = console.handle(&json!({"Details": {}})).await;
    assert_eq!(status_and_json(&answer).0, 400, "{answer}");
}

/// Every API call, as each role: below the call's least role, 403 before
/// any handler runs; at it or above, never 403 (the handler may still
/// refuse the empty input). Agents reach only what the table gives them.
#[tokio::test]
async fn each_role_reaches_exactly_the_calls_the_table_gives_it() {
    let (console, _) = deployed().await;
    let mut agents_reach = Vec::new();
    for route in ApiRoute::ALL {
        let (method, path, least) = route.spec();
        for (role, groups) in [
            (Role::Agent, "[agents]"),
            (Role::Supervisor, "[supervisors]"),
            (Role::Admin, "[admins]"),
        ] {
            let body = (method == "POST").then(|| json!({}));
            let path = format!("/api{path}");
            let answer = console
                .handle(&event(
                    method.as_str(),
                    &path,
                    body,
                    Some(claims("u@example.com", groups)),
                ))
                .await;
            let status = status_and_json(&answer).0;
            assert_eq!(
                status == 403,
                role < least,
                "{role:?} {method} {path}: {answer}"
            );
            if role == Role::Agent && status != 403 {
                agents_reach.push(path);
            }
        }
    }
    assert_eq!(
        agents_reach,
        ["/api/whoami", "/api/agent/caller", "/api/agent/report"]
    );
}
