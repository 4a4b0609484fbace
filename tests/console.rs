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
    let body = body.map(Value::to_string);
    let typed = body.as_deref().map(|b| ("application/json", b));
    send_typed(addr, method, path, headers, typed).await
}

/// [`send`] with a body of any content type (a CSV file).
async fn send_typed(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<(&str, &str)>,
) -> Reply {
    let mut request = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    let (content_type, body) = body.unwrap_or_default();
    if !body.is_empty() {
        request.push_str(&format!(
            "Content-Type: {content_type}\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    request.push_str("\r\n");
    request.push_str(body);
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
        let json = body.to_string();
        self.post_typed(path, ("application/json", &json)).await
    }

    /// `POST /api/import?query` with `csv` as the page sends a file.
    async fn import(&self, query: &str, csv: &str) -> Reply {
        let path = format!("/api/import?{query}");
        self.post_typed(&path, ("text/csv; charset=utf-8", csv))
            .await
    }

    /// A POST of `body` (content type, text) with the page's headers.
    async fn post_typed(&self, path: &str, body: (&str, &str)) -> Reply {
        let (host, auth) = (self.host(), self.bearer());
        let origin = format!("http://{host}");
        let headers = [
            ("Host", host.as_str()),
            ("Authorization", &auth),
            ("Origin", &origin),
        ];
        send_typed(self.addr, "POST", path, &headers, Some(body)).await
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
    assert_eq!(
        config.json(),
        json!({"loginUrl": null, "importPartRows": 1000})
    );
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

/// An import file with what a part may cut through: a rejected row, a
/// quoted cell over two lines (so rows and lines differ), a prefix rule,
/// and two rows of one entry four rows apart (the later wins).
const PARTED_CSV: &str = "phoneNumber,kind,reason\n\
    +14155550190,block,imported spam\n\
    not a number,block,x\n\
    +1900555,prefix,\n\
    +14155550191,block,\"two\nlines\"\n\
    +14155550192,block,first\n\
    +14155550193,block,\n\
    (415) 555-0192,block,second\n\
    +14155550194,allow,vip\n";

/// Applies `csv` in parts of `size` rows, as the page does; the parts'
/// answers.
async fn apply_in_parts(c: &Running, csv: &str, size: usize, total: usize) -> Vec<Value> {
    let mut answers = Vec::new();
    for from in (0..total).step_by(size) {
        let to = (from + size).min(total);
        let query = format!("name=f.csv&reason=bulk&apply=true&from={from}&to={to}");
        let reply = c.import(&query, csv).await;
        assert_eq!(reply.status, 200, "rows {from} to {to}: {}", reply.body);
        answers.push(reply.json());
    }
    answers
}

/// The entries and every audit record's action, reason and source, by
/// entry: what an import leaves behind, times aside.
async fn imported(admin: &Admin) -> Vec<(String, String, Option<String>, Vec<Value>)> {
    let mut found = Vec::new();
    for e in admin.list(false).await.unwrap() {
        let target = admin.target(e.kind, &e.value).unwrap();
        let records = admin.history(&[target]).await.unwrap();
        let records = records
            .iter()
            .map(|r| json!([r.action.as_str(), r.reason, r.source]))
            .collect();
        found.push((e.kind.as_str().to_owned(), e.value, e.reason, records));
    }
    found
}

/// The page's apply, a part a request: the same entries and audit
/// records as the whole file in one request, the later of two rows of one
/// entry (split across two parts) written with its own line and the earlier
/// not at all, the parts' counts adding up to the one request's, and where
/// each part lies in the file. Applying again changes nothing.
#[tokio::test]
async fn an_import_applied_in_parts_does_what_one_request_does() {
    let (whole, whole_admin) = start_with_admin_on_dynalite().await;
    let one = whole
        .import("name=f.csv&reason=bulk&apply=true", PARTED_CSV)
        .await;
    assert_eq!(one.status, 200, "{}", one.body);
    let one = one.json();
    assert_eq!(
        one["rows"],
        json!({"from": 0, "to": 8, "total": 8, "firstLine": 2, "nextLine": null})
    );

    let (parted, parted_admin) = start_with_admin_on_dynalite().await;
    let answers = apply_in_parts(&parted, PARTED_CSV, 3, 8).await;
    let mut sum = json!({"read": 0, "valid": 0, "rejected": 0, "duplicates": 0,
                         "unchanged": 0, "written": 0, "conflicts": 0, "dryRun": false});
    for a in &answers {
        for (key, n) in sum.as_object_mut().unwrap() {
            if key != "dryRun" {
                *n = (n.as_u64().unwrap() + a["summary"][key].as_u64().unwrap()).into();
            }
        }
    }
    assert_eq!(sum, one["summary"]);
    assert_eq!(one["summary"]["written"], 6);
    let where_: Vec<&Value> = answers.iter().map(|a| &a["rows"]).collect();
    assert_eq!(
        where_,
        [
            &json!({"from": 0, "to": 3, "total": 8, "firstLine": 2, "nextLine": 5}),
            &json!({"from": 3, "to": 6, "total": 8, "firstLine": 5, "nextLine": 9}),
            &json!({"from": 6, "to": 8, "total": 8, "firstLine": 9, "nextLine": null}),
        ]
    );
    // Each part writes its own rows: the later row of the pair in the
    // third part, where its line is; the earlier one in none.
    let counts: Vec<(u64, u64)> = answers
        .iter()
        .map(|a| {
            let s = &a["summary"];
            (
                s["written"].as_u64().unwrap(),
                s["duplicates"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(counts, [(2, 0), (2, 0), (2, 1)]);
    assert_eq!(answers[0]["rejected"][0]["line"], 3);
    assert_eq!(
        answers[2]["duplicates"],
        json!([{"line": 9, "earlierLine": 7}])
    );

    let left = imported(&parted_admin).await;
    assert_eq!(left, imported(&whole_admin).await);
    let twice = left.iter().find(|e| e.1 == "+14155550192").unwrap();
    assert_eq!(twice.2.as_deref(), Some("second"));
    assert_eq!(
        twice.3,
        [json!(["add", "second", "import console f.csv:9"])]
    );
    let after_two_lines = left.iter().find(|e| e.1 == "+14155550193").unwrap();
    assert_eq!(
        after_two_lines.3,
        [json!(["add", "bulk", "import console f.csv:8"])]
    );

    let again = apply_in_parts(&parted, PARTED_CSV, 3, 8).await;
    let unchanged: u64 = again
        .iter()
        .map(|a| a["summary"]["unchanged"].as_u64().unwrap())
        .sum();
    let written: u64 = again
        .iter()
        .map(|a| a["summary"]["written"].as_u64().unwrap())
        .sum();
    assert_eq!((written, unchanged), (0, 6));
    assert_eq!(imported(&parted_admin).await, left, "no record twice");
}

/// A part the file does not have is refused before anything is read or
/// written, and says what to send.
#[tokio::test]
async fn an_import_part_past_the_file_is_400_and_writes_nothing() {
    let (c, admin) = start_with_admin_on_dynalite().await;
    for query in ["from=6&to=9", "from=5&to=2", "from=9"] {
        let reply = c
            .import(
                &format!("name=f.csv&reason=r&apply=true&{query}"),
                PARTED_CSV,
            )
            .await;
        assert_eq!(reply.status, 400, "{query}: {}", reply.body);
        let error = reply.json()["error"].as_str().unwrap().to_owned();
        assert!(error.contains("this file's 8 rows"), "{error}");
    }
    assert!(
        admin.list(true).await.unwrap().is_empty(),
        "nothing written"
    );
    let page = c.get("/config.json").await;
    assert_eq!(page.json()["importPartRows"], 1000, "{}", page.body);
}
