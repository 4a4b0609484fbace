//! `blocklist serve`'s server, spoken to over TCP as a browser (or an
//! attacker's page) would: the guard (token, Host, Origin), the headers of
//! every response, and the API's answers and statuses against dynalite.
//! The page itself is driven in a browser by tests/browser/.

mod common;

use std::net::SocketAddr;

use connect_blocklist::admin::plan::ReportPolicy;
use connect_blocklist::admin::{Admin, Tables};
use connect_blocklist::console::{CONTENT_SECURITY_POLICY, Console};
use connect_blocklist::entry::Kind;
use connect_blocklist::phone::Normalizer;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use common::{Server, client_for, create_audit_table, new_table, rules_table_for};

/// A console running in this process, and what a request needs.
struct Running {
    addr: SocketAddr,
    token: String,
}

/// Starts a console over `admin` on a free loopback port.
async fn start(admin: Admin, table: &str) -> Running {
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let console = Console::bind(addr, admin, common::config(table, &[]))
        .await
        .unwrap();
    let url = console.url();
    let token = url.split_once("#token=").unwrap().1.to_owned();
    assert_eq!(token.len(), 64, "{url}");
    let addr = console.local_addr();
    assert_eq!(url, format!("http://{addr}/#token={token}"));
    tokio::spawn(console.run());
    Running { addr, token }
}

/// A console whose DynamoDB is nowhere: for what is decided before any read.
async fn start_unreachable() -> Running {
    let client = client_for(&common::unreachable_endpoint()).await;
    let tables = Tables {
        blocklist: "nowhere".into(),
        rules: "nowhere-rules".into(),
        audit: "nowhere-audit".into(),
    };
    start(
        Admin::new(client, tables, "tester", Normalizer::default()),
        "nowhere",
    )
    .await
}

/// A console over fresh tables on dynalite.
async fn start_on_dynalite() -> Running {
    start_with_admin_on_dynalite().await.0
}

/// A console over fresh tables on dynalite, and an admin over them.
async fn start_with_admin_on_dynalite() -> (Running, Admin) {
    let (client, table) = new_table(Server::Dynalite).await;
    let audit = format!("{table}-audit");
    create_audit_table(&client, &audit).await;
    let tables = Tables {
        blocklist: table.clone(),
        rules: rules_table_for(&table),
        audit,
    };
    let admin = Admin::new(client, tables, "tester", Normalizer::default());
    (start(admin.clone(), &table).await, admin)
}

/// One HTTP/1.1 response: status, headers (names lower-cased), body.
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        let found = self.headers.iter().find(|(n, _)| n == name);
        found.map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

/// Sends `method path` with exactly `headers` (and a JSON `body`), as raw
/// HTTP/1.1, and reads the whole reply.
async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> Reply {
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut request = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() {
        request.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    request.push_str("\r\n");
    request.push_str(&body);
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).await.unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(n, v)| (n.to_ascii_lowercase(), v.to_owned()))
        .collect();
    Reply {
        status,
        headers,
        body: body.to_owned(),
    }
}

impl Running {
    fn host(&self) -> String {
        self.addr.to_string()
    }

    fn bearer(&self) -> String {
        format!("Bearer {}", self.token)
    }

    /// A GET as the console's own page sends it.
    async fn get(&self, path: &str) -> Reply {
        let (host, auth) = (self.host(), self.bearer());
        send(
            self.addr,
            "GET",
            path,
            &[("Host", &host), ("Authorization", &auth)],
            None,
        )
        .await
    }

    /// A POST as the console's own page sends it (with its Origin).
    async fn post(&self, path: &str, body: Value) -> Reply {
        let (host, auth) = (self.host(), self.bearer());
        let origin = format!("http://{host}");
        let headers = [
            ("Host", host.as_str()),
            ("Authorization", &auth),
            ("Origin", &origin),
        ];
        send(self.addr, "POST", path, &headers, Some(&body)).await
    }
}

/// Every response, a refusal too, carries the policy and its companions.
fn assert_security_headers(reply: &Reply) {
    assert_eq!(
        reply.header("content-security-policy"),
        Some(CONTENT_SECURITY_POLICY)
    );
    assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(reply.header("referrer-policy"), Some("no-referrer"));
    assert_eq!(reply.header("set-cookie"), None, "no cookies");
    // The agent app's sign-in popup returns to the console's page, which
    // hands the token to the app through `window.opener`: a
    // Cross-Origin-Opener-Policy would cut that link (README: Agent
    // workspace app, signing in).
    assert_eq!(reply.header("cross-origin-opener-policy"), None);
}

/// The agent workspace app's page is served at /agent/ (its script and
/// style beside it), framed only by the origins the console was given:
/// by none without one. Every other page still refuses every frame.
#[tokio::test]
async fn the_agent_app_is_framed_only_by_the_origins_given() {
    let bare = start_unreachable().await;
    let host = bare.host();
    let page = send(bare.addr, "GET", "/agent/", &[("Host", &host)], None).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("agent.js"), "{}", page.body);
    let csp = page.header("content-security-policy").unwrap();
    assert!(csp.ends_with("frame-ancestors 'none'"), "{csp}");
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    let moved = send(bare.addr, "GET", "/agent", &[("Host", &host)], None).await;
    assert_eq!(
        (moved.status, moved.header("location")),
        (308, Some("/agent/"))
    );

    let client = client_for(&common::unreachable_endpoint()).await;
    let tables = Tables {
        blocklist: "nowhere".into(),
        rules: "nowhere-rules".into(),
        audit: "nowhere-audit".into(),
    };
    let admin = Admin::new(client, tables, "tester", Normalizer::default());
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let workspace = "https://example.my.connect.aws".to_owned();
    let console = Console::bind(addr, admin, common::config("nowhere", &[]))
        .await
        .unwrap()
        .allow_agent_app_in(std::slice::from_ref(&workspace))
        .unwrap();
    let addr = console.local_addr();
    tokio::spawn(console.run());
    let host = addr.to_string();
    for path in ["/agent/", "/agent/agent.js", "/agent/agent.css"] {
        let reply = send(addr, "GET", path, &[("Host", &host)], None).await;
        assert_eq!(reply.status, 200, "{path}");
        let csp = reply.header("content-security-policy").unwrap();
        assert_eq!(
            csp,
            CONTENT_SECURITY_POLICY.replace(
                "frame-ancestors 'none'",
                "frame-ancestors https://example.my.connect.aws"
            ),
            "{path}"
        );
        assert_eq!(
            reply.header("x-frame-options"),
            None,
            "{path}: would refuse the frame"
        );
    }
    let console_page = send(addr, "GET", "/", &[("Host", &host)], None).await;
    assert_security_headers(&console_page);
    assert_eq!(console_page.header("x-frame-options"), Some("DENY"));
}

/// Origins that would widen the agent app's framing or break the header
/// are refused, naming what to give.
#[test]
fn only_plain_https_origins_may_frame_the_agent_app() {
    use connect_blocklist::console::frame_ancestor;
    for good in [
        "https://example.my.connect.aws",
        "https://example.awsapps.com",
        "http://127.0.0.1:8080",
    ] {
        assert_eq!(frame_ancestor(good).unwrap(), good);
    }
    for bad in [
        "*",
        "https:",
        "https://*.my.connect.aws",
        "http://example.my.connect.aws",
        "https://a.example; script-src *",
        "https://a.example/path",
        "'self'",
    ] {
        let err = frame_ancestor(bad).unwrap_err().to_string();
        assert!(err.contains("https://"), "{bad}: {err}");
    }
}

#[tokio::test]
async fn the_page_loads_without_the_token_and_holds_no_inline_code() {
    let c = start_unreachable().await;
    let host = c.host();
    let page = send(c.addr, "GET", "/", &[("Host", &host)], None).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_security_headers(&page);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(
        page.body
            .contains(r#"<script src="/app.js" defer></script>"#)
    );
    // The CSP would block inline code anyway; there is none to block.
    assert!(
        !page.body.contains("<script>") && !page.body.contains("style="),
        "{}",
        page.body
    );
    let handler = regex::Regex::new(r"\son[a-z]+\s*=").unwrap();
    assert!(!handler.is_match(&page.body), "no inline event handlers");
    let script = send(c.addr, "GET", "/app.js", &[("Host", &host)], None).await;
    assert_eq!(
        script.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert!(
        !script.body.contains("innerHTML"),
        "values are written as text only"
    );
}

#[tokio::test]
async fn an_api_call_without_the_right_token_is_401() {
    let c = start_unreachable().await;
    let host = c.host();
    let wrong_token = format!("Bearer {}", "0".repeat(64));
    let short_token = format!("Bearer {}", &c.token[..10]);
    let basic = format!("Basic {}", c.token);
    let cases: [&[(&str, &str)]; 4] = [
        &[("Host", &host)],
        &[("Host", &host), ("Authorization", &wrong_token)],
        &[("Host", &host), ("Authorization", &short_token)],
        &[("Host", &host), ("Authorization", &basic)],
    ];
    for headers in cases {
        let reply = send(c.addr, "GET", "/api/whoami", headers, None).await;
        assert_eq!(reply.status, 401, "{headers:?}: {}", reply.body);
        assert_security_headers(&reply);
        assert!(
            reply.json()["error"].as_str().unwrap().contains("#token="),
            "{}",
            reply.body
        );
    }
    // A write without it is refused before it is read.
    let origin = format!("http://{host}");
    let post = send(
        c.addr,
        "POST",
        "/api/remove",
        &[("Host", &host), ("Origin", &origin)],
        Some(&json!({})),
    )
    .await;
    assert_eq!(post.status, 401);
    // With it, the same call answers.
    let ok = c.get("/api/whoami").await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.json()["actor"], "tester");
    assert_security_headers(&ok);
}

#[tokio::test]
async fn a_host_that_does_not_name_the_console_is_403() {
    let c = start_unreachable().await;
    let auth = c.bearer();
    let rebound = format!("evil.example:{}", c.addr.port());
    let other_port = format!("127.0.0.1:{}", c.addr.port().wrapping_add(1));
    for host in [rebound.as_str(), other_port.as_str(), "127.0.0.1"] {
        for path in ["/", "/api/whoami"] {
            let reply = send(
                c.addr,
                "GET",
                path,
                &[("Host", host), ("Authorization", &auth)],
                None,
            )
            .await;
            assert_eq!(reply.status, 403, "Host {host} {path}: {}", reply.body);
            assert_security_headers(&reply);
        }
    }
    let missing = send(
        c.addr,
        "GET",
        "/api/whoami",
        &[("Authorization", &auth)],
        None,
    )
    .await;
    assert_eq!(missing.status, 403, "no Host at all");
    let localhost = format!("localhost:{}", c.addr.port());
    let reply = send(
        c.addr,
        "GET",
        "/api/whoami",
        &[("Host", &localhost), ("Authorization", &auth)],
        None,
    )
    .await;
    assert_eq!(
        reply.status, 200,
        "localhost names a loopback console: {}",
        reply.body
    );
}

#[tokio::test]
async fn a_foreign_origin_is_403_even_with_the_token() {
    let c = start_unreachable().await;
    let (host, auth) = (c.host(), c.bearer());
    for origin in [
        "http://evil.example",
        "null",
        "https://127.0.0.1",
        &format!("http://localhost:{}0", c.addr.port()),
    ] {
        let headers = [
            ("Host", host.as_str()),
            ("Authorization", &auth),
            ("Origin", origin),
        ];
        let reply = send(c.addr, "POST", "/api/remove", &headers, Some(&json!({}))).await;
        assert_eq!(reply.status, 403, "Origin {origin}: {}", reply.body);
        assert_security_headers(&reply);
    }
    let own = format!("http://{host}");
    let headers = [
        ("Host", host.as_str()),
        ("Authorization", &auth),
        ("Origin", &own),
    ];
    let reply = send(c.addr, "GET", "/api/whoami", &headers, None).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

#[tokio::test]
async fn normalize_reads_a_number_as_the_lambda_does() {
    let c = start_unreachable().await;
    let ok = c
        .get("/api/normalize?input=%28415%29%20555-0123")
        .await
        .json();
    assert_eq!(
        ok,
        json!({"valid": true, "value": "+14155550123", "country": "US"})
    );
    let uk = c
        .get("/api/normalize?input=%2B44%2020%207946%200000")
        .await
        .json();
    assert_eq!(
        (uk["value"].as_str(), uk["country"].as_str()),
        (Some("+442079460000"), Some("GB"))
    );
    let prefix = c
        .get("/api/normalize?kind=prefix&input=%2B1%20900")
        .await
        .json();
    assert_eq!(
        prefix,
        json!({"valid": true, "value": "+1900", "country": null})
    );
    let bad = c.get("/api/normalize?input=12").await.json();
    assert_eq!(bad["valid"], false);
    assert!(
        bad["error"]
            .as_str()
            .unwrap()
            .contains("not a valid phone number"),
        "{bad}"
    );
}

#[tokio::test]
async fn dynamodb_unreachable_is_502_with_what_failed() {
    let c = start_unreachable().await;
    let reply = c.get("/api/entries").await;
    assert_eq!(reply.status, 502, "{}", reply.body);
    assert!(
        reply.json()["error"]
            .as_str()
            .unwrap()
            .contains("DynamoDB request on `nowhere`"),
        "{}",
        reply.body
    );
}

#[tokio::test]
async fn changes_need_a_reason_and_map_admin_errors_to_statuses() {
    let c = start_on_dynalite().await;
    let add = |reason: &str| json!({"kind": "block", "number": "(415) 555-0123", "reason": reason});
    for blank in [
        json!({"kind": "block", "number": "+14155550123"}),
        add("  "),
    ] {
        let reply = c.post("/api/entries", blank).await;
        assert_eq!(reply.status, 400, "{}", reply.body);
        assert!(
            reply.json()["error"]
                .as_str()
                .unwrap()
                .contains("reason is required")
        );
    }
    let added = c.post("/api/entries", add("spam")).await;
    assert_eq!(added.status, 200, "{}", added.body);
    assert_eq!(added.json()["entry"]["phoneNumber"], "+14155550123");
    let again = c.post("/api/entries", add("again")).await;
    assert_eq!(again.status, 409, "{}", again.body);
    let mut replace = add("fraud");
    replace["replace"] = true.into();
    assert_eq!(c.post("/api/entries", replace).await.status, 200);

    let bad_number = c
        .post(
            "/api/entries",
            json!({"kind": "block", "number": "12", "reason": "x"}),
        )
        .await;
    assert_eq!(bad_number.status, 400, "{}", bad_number.body);
    let report_kind = c
        .post(
            "/api/entries",
            json!({"kind": "report", "number": "+14155550123", "reason": "x"}),
        )
        .await;
    assert_eq!(report_kind.status, 400, "{}", report_kind.body);
    let no_text = c
        .post(
            "/api/entries",
            json!({"kind": "block", "number": "+14155550124", "reason": "x", "action": "message"}),
        )
        .await;
    assert_eq!(no_text.status, 400, "{}", no_text.body);
    assert!(
        no_text.json()["error"]
            .as_str()
            .unwrap()
            .contains("needs the message to play: fill in Message"),
        "{}",
        no_text.body
    );
    let unknown_field = c
        .post(
            "/api/entries",
            json!({"kind": "block", "number": "+14155550124", "reason": "x", "sneaky": 1}),
        )
        .await;
    assert_eq!(unknown_field.status, 400, "{}", unknown_field.body);
}

#[tokio::test]
async fn an_entry_comes_with_its_trail_and_goes_with_a_reason() {
    let c = start_on_dynalite().await;
    for (reason, replace) in [("spam", false), ("fraud", true)] {
        let body = json!({"kind": "block", "number": "+14155550123", "reason": reason, "replace": replace});
        assert_eq!(c.post("/api/entries", body).await.status, 200);
    }
    let detail = c.get("/api/entry?kind=block&input=415-555-0123").await;
    assert_eq!(detail.status, 200, "{}", detail.body);
    let detail = detail.json();
    assert_eq!(detail["entry"]["reason"], "fraud");
    let actions: Vec<&str> = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["replace", "add"]);
    assert_eq!(detail["history"][0]["before"]["reason"], "spam");
    assert_eq!(
        c.get("/api/entry?kind=block&input=%2B14155550199")
            .await
            .status,
        404
    );

    let remove =
        |reason: Value| json!({"kind": "block", "number": "+14155550123", "reason": reason});
    assert_eq!(c.post("/api/remove", remove(Value::Null)).await.status, 400);
    assert_eq!(
        c.post("/api/remove", remove("resolved".into()))
            .await
            .status,
        200
    );
    assert_eq!(
        c.post("/api/remove", remove("again".into())).await.status,
        404
    );
    let none_pending = c
        .post(
            "/api/approve",
            json!({"numbers": ["+14155550123"], "reason": "ok"}),
        )
        .await;
    assert_eq!(none_pending.status, 404, "{}", none_pending.body);
    assert_eq!(none_pending.json()["results"][0]["ok"], false);
}

#[tokio::test]
async fn the_list_filters_sorts_and_pages_on_the_server() {
    let c = start_on_dynalite().await;
    for n in 0..5 {
        let body = json!({"kind": "block", "number": format!("+1415555010{n}"), "reason": "r"});
        assert_eq!(c.post("/api/entries", body).await.status, 200);
    }
    let monitor = json!({"kind": "prefix", "number": "+1900", "reason": "r", "mode": "monitor"});
    assert_eq!(c.post("/api/entries", monitor).await.status, 200);
    let allow = json!({"kind": "allow", "number": "+14155550100", "reason": "vip"});
    assert_eq!(c.post("/api/entries", allow).await.status, 200);

    // Following `next` from the first page: every block once, pages of
    // at most 2, the last one without a `next`.
    let mut seen = Vec::new();
    let mut url = "/api/entries?kind=block&pageSize=2".to_owned();
    let mut pages = 0;
    loop {
        let page = c.get(&url).await.json();
        let entries = page["entries"].as_array().unwrap();
        assert!(entries.len() <= 2, "{page}");
        assert_eq!(page["moreMayMatch"], false, "{page}");
        seen.extend(
            entries
                .iter()
                .map(|e| e["phoneNumber"].as_str().unwrap().to_owned()),
        );
        pages += 1;
        assert!(pages < 10, "the pages end");
        match page["next"].as_str() {
            Some(next) => url = format!("/api/entries?kind=block&pageSize=2&cursor={next}"),
            None => break,
        }
    }
    seen.sort();
    let blocks: Vec<String> = (0..5).map(|n| format!("+1415555010{n}")).collect();
    assert_eq!(seen, blocks);
    let watching = c.get("/api/entries?mode=monitor").await.json();
    assert_eq!(watching["entries"].as_array().unwrap().len(), 1);
    assert_eq!(watching["entries"][0]["kind"], "prefix");
    assert_eq!(
        watching["next"],
        Value::Null,
        "both tables read to their end"
    );
    // Nothing has blocked a call, and everything was made just now.
    let idle = c.get("/api/entries?notHitSince=1d").await.json();
    assert_eq!(idle["entries"].as_array().unwrap().len(), 0);
    let all = c
        .get("/api/entries?sort=lastBlocked&pageSize=200")
        .await
        .json();
    assert_eq!(all["entries"].as_array().unwrap().len(), 7);
    for bad in [
        "status=gone",
        "kind=blocks",
        "sort=random",
        "notHitSince=soon",
        "page=x",
        "page=2",
        "cursor=nope",
        "cursor=eA",
    ] {
        let reply = c.get(&format!("/api/entries?{bad}")).await;
        assert_eq!(reply.status, 400, "{bad}: {}", reply.body);
        let (name, value) = bad.split_once('=').unwrap();
        let error = reply.json()["error"].as_str().unwrap().to_owned();
        if name == "cursor" || name == "page" {
            assert!(error.contains(value), "{bad}: {error}");
        }
    }
}

#[tokio::test]
async fn a_bulk_decision_decides_each_report_and_says_which_failed() {
    let (c, admin) = start_with_admin_on_dynalite().await;
    for n in ["+14155550177", "+14155550178"] {
        let t = admin.target(Kind::Block, n).unwrap();
        admin
            .report(&t, Some("c-1"), None, &ReportPolicy::default())
            .await
            .unwrap();
    }
    let pending = c.get("/api/pending").await.json();
    assert_eq!(pending["entries"].as_array().unwrap().len(), 2);
    let no_reason = json!({"numbers": ["+14155550177"]});
    assert_eq!(c.post("/api/approve", no_reason).await.status, 400);
    let none = json!({"numbers": [], "reason": "r"});
    assert_eq!(c.post("/api/approve", none).await.status, 400);

    let body =
        json!({"numbers": ["+14155550177", "+14155550199", "+14155550178"], "reason": "spam"});
    let reply = c.post("/api/approve", body).await;
    assert_eq!(reply.status, 404, "{}", reply.body);
    let reply = reply.json();
    let ok: Vec<bool> = reply["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["ok"].as_bool().unwrap())
        .collect();
    assert_eq!(
        ok,
        [true, false, true],
        "the failure stops none of the others"
    );
    assert!(
        reply["error"]
            .as_str()
            .unwrap()
            .starts_with("1 of 3 failed"),
        "{reply}"
    );
    assert!(admin.pending().await.unwrap().is_empty());
    let blocked = admin.target(Kind::Block, "+14155550178").unwrap();
    let history = admin.history(&[blocked]).await.unwrap();
    assert_eq!(
        (history[0].actor.as_str(), history[0].reason.as_deref()),
        ("tester", Some("spam"))
    );
}

/// The local token's holder is an admin: the agents' calls answer too,
/// and record the console's own author; `/config.json` names no sign-in.
#[tokio::test]
async fn the_local_token_holder_is_an_admin_and_can_use_the_agents_calls() {
    let (c, admin) = start_with_admin_on_dynalite().await;
    let who = c.get("/api/whoami").await;
    assert_eq!(who.json()["role"], "admin", "{}", who.body);
    let report = json!({"number": "+14155550177", "category": "robocall", "note": ""});
    let reply = c.post("/api/agent/report", report).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["status"], "pending");
    let status = c.get("/api/agent/caller?number=%2B14155550177").await;
    assert_eq!(status.json()["status"], "pending", "{}", status.body);
    let reported = admin.target(Kind::Report, "+14155550177").unwrap();
    let history = admin.history(&[reported]).await.unwrap();
    assert_eq!(history[0].actor, "tester");
    assert_eq!(history[0].reason.as_deref(), Some("robocall"));
    let host = c.host();
    let config = send(c.addr, "GET", "/config.json", &[("Host", &host)], None).await;
    assert_security_headers(&config);
    assert_eq!(config.json(), json!({"loginUrl": null}));
}

#[tokio::test]
async fn list_pages_over_dynamodb_cover_every_entry_once_within_the_read_bound() {
    use connect_blocklist::console::api::{Cursor, list_page};
    use std::collections::BTreeSet;

    let (c, admin) = start_with_admin_on_dynalite().await;
    let mut all = BTreeSet::new();
    for n in 0..23 {
        let number = format!("+141555502{n:02}");
        let kind = if n % 4 == 0 { "allow" } else { "block" };
        let body = json!({"kind": kind, "number": number, "reason": "r"});
        assert_eq!(c.post("/api/entries", body).await.status, 200);
        all.insert((kind.to_owned(), number));
    }
    // A remove leaves a tombstone: read, never listed.
    let gone = admin.target(Kind::Block, "+14155550201").unwrap();
    admin.remove(&gone, Some("r")).await.unwrap();
    all.remove(&("block".to_owned(), "+14155550201".to_owned()));
    // Blocks only, 3 a page, at most 20 items read a request: the page
    // fills in the middle of a Scan page (of 6, then 12) and the next one
    // starts after its last entry, not after the last item read.
    let is_block = |e: &connect_blocklist::entry::Entry| e.kind == Kind::Block;
    let mut seen = Vec::new();
    let mut at = Some(Cursor::start());
    let mut requests = 0;
    while let Some(from) = at {
        let page = list_page(admin.store(), from, None, 3, 20, is_block)
            .await
            .unwrap();
        assert!(page.read <= 20 && page.entries.len() <= 3, "{page:?}");
        seen.extend(
            page.entries
                .iter()
                .map(|e| ("block".to_owned(), e.value.clone())),
        );
        at = page.next.map(|c| Cursor::decode(&c.encode()).unwrap());
        requests += 1;
        assert!(requests < 100, "the pages end");
    }
    // Nothing passes, at most 4 read a request: every request stops at the
    // bound with a `next`, until both tables are read.
    let (mut at, mut read, mut requests) = (Some(Cursor::start()), 0, 0);
    while let Some(from) = at {
        let page = list_page(admin.store(), from, None, 3, 4, |_| false)
            .await
            .unwrap();
        assert!(page.read <= 4 && page.entries.is_empty(), "{page:?}");
        read += page.read;
        at = page.next;
        requests += 1;
        assert!(requests < 100, "the pages end");
    }
    assert!(
        read >= 23 && requests >= 6,
        "{read} items in {requests} requests"
    );
    let blocks: BTreeSet<_> = all.iter().filter(|(k, _)| k == "block").cloned().collect();
    assert_eq!(seen.len(), blocks.len(), "no block twice: {seen:?}");
    assert_eq!(seen.into_iter().collect::<BTreeSet<_>>(), blocks);
    // Through the API, unfiltered, 5 a page: every entry once.
    let mut listed = BTreeSet::new();
    let mut url = "/api/entries?pageSize=5".to_owned();
    loop {
        let page = c.get(&url).await.json();
        for e in page["entries"].as_array().unwrap() {
            let key = (
                e["kind"].as_str().unwrap().to_owned(),
                e["phoneNumber"].as_str().unwrap().to_owned(),
            );
            assert!(listed.insert(key), "listed twice: {e}");
        }
        match page["next"].as_str() {
            Some(next) => url = format!("/api/entries?pageSize=5&cursor={next}"),
            None => break,
        }
    }
    assert_eq!(listed, all);
}
