//! The console's page, compiled into the binary: `cargo build` alone makes
//! a working console, with nothing to install or build at run time. The
//! files are plain, hand-written HTML, JavaScript and CSS in `console/`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use super::ConsoleState;

const INDEX_HTML: &str = include_str!("../../console/index.html");
const APP_JS: &str = include_str!("../../console/app.js");
const APP_CSS: &str = include_str!("../../console/app.css");
// The agent workspace app: a page of its own (agent-app/ builds the script;
// the committed build is what is embedded, so no Node at build time).
const AGENT_HTML: &str = include_str!("../../console/agent/index.html");
const AGENT_JS: &str = include_str!("../../console/agent/agent.js");
const AGENT_CSS: &str = include_str!("../../console/agent/agent.css");

/// The page.
pub async fn index() -> impl IntoResponse {
    ([(CONTENT_TYPE, "text/html; charset=utf-8")], INDEX_HTML)
}

/// Its script.
pub async fn script() -> impl IntoResponse {
    ([(CONTENT_TYPE, "text/javascript; charset=utf-8")], APP_JS)
}

/// Its style sheet.
pub async fn style() -> impl IntoResponse {
    ([(CONTENT_TYPE, "text/css; charset=utf-8")], APP_CSS)
}

/// The agent workspace app's page, framed by the agent workspace: its
/// Content-Security-Policy names the origins allowed to frame it
/// ([`super::ConsoleState::agent_csp`]); every other page refuses frames.
pub async fn agent_index(State(s): State<Arc<ConsoleState>>) -> impl IntoResponse {
    agent_file(&s, "text/html; charset=utf-8", AGENT_HTML)
}

/// Its script (the SDK bundled in).
pub async fn agent_script(State(s): State<Arc<ConsoleState>>) -> impl IntoResponse {
    agent_file(&s, "text/javascript; charset=utf-8", AGENT_JS)
}

/// Its style sheet.
pub async fn agent_style(State(s): State<Arc<ConsoleState>>) -> impl IntoResponse {
    agent_file(&s, "text/css; charset=utf-8", AGENT_CSS)
}

/// `/agent` to `/agent/`: the page's files are named relative to it.
pub async fn agent_redirect() -> impl IntoResponse {
    Redirect::permanent("/agent/")
}

fn agent_file(s: &ConsoleState, content_type: &'static str, body: &'static str) -> Response {
    let csp = HeaderValue::from_str(&s.agent_csp())
        .unwrap_or_else(|_| HeaderValue::from_static(super::CONTENT_SECURITY_POLICY));
    (
        [
            (CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (CONTENT_SECURITY_POLICY, csp),
        ],
        body,
    )
        .into_response()
}

/// Anything else outside the API.
pub async fn not_found() -> impl IntoResponse {
    (
        StatusCode::NOT_FOUND,
        [(CONTENT_TYPE, "text/plain; charset=utf-8")],
        "not found: the console is at /\n",
    )
}
