//! `blocklist serve`: the supervisor console, a web page on this machine
//! over the same [`Admin`] the CLI uses, so a change made here is checked,
//! audited and written exactly as `blocklist add` would.
//!
//! The page is served to one browser on one machine, so its defences are
//! against other pages in that browser and other users of the machine:
//! - a random token per run, handed over in the printed URL's fragment
//!   (never sent to a server, never in a `Referer`), required as
//!   `Authorization: Bearer` on every API call and compared in constant
//!   time; no cookies, so no other site's request carries it;
//! - `Host` must name this server (a DNS-rebinding page has its own name),
//!   and `Origin`, when a browser sends one, must be this server's own
//!   (a cross-site request is refused before it reaches a handler);
//! - a strict Content-Security-Policy on every response, and a page that
//!   writes every value as text: a reason is attacker-controlled (it comes
//!   from reports), and neither scripts nor markup in it run.
//!
//! [`router`] wires the pieces: [`guard`] checks every request,
//! [`api`] has the handlers, [`assets`] the embedded page.

pub mod api;
pub mod assets;
pub mod overview;
pub mod transfer;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::http::{Method, StatusCode};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use subtle::ConstantTimeEq;
use tokio::net::TcpListener;

use crate::admin::Admin;
use crate::config::Config;

/// The Content-Security-Policy of every response: the page's own script,
/// style and API only; no inline code, no frames, no forms posting away.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Bytes of randomness in a token (hex-encoded: twice as many characters).
const TOKEN_BYTES: usize = 32;

/// The console could not start or stopped serving.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error("cannot listen on {addr}: {source}; pick another --port (0 takes any free one)")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(
        "--bind {0} listens on every address; name one (127.0.0.1, or this machine's address on a trusted network) so that requests naming it can be checked"
    )]
    Unspecified(IpAddr),
    #[error("no random source for the console's token: {0}")]
    Random(getrandom::Error),
    #[error("the console stopped serving: {0}")]
    Serve(std::io::Error),
    #[error(
        "`{0}` is not an origin the agent app can be framed by: give the agent workspace's, https:// and a host (e.g. https://example.my.connect.aws), or http://127.0.0.1:PORT for a local test"
    )]
    FrameAncestor(String),
    #[error("the agent app's framing is set before the console serves")]
    Started,
}

/// What every handler shares: the admin (and its recorded author), the
/// Lambda's settings for testing a number, and what [`guard`] checks.
#[derive(Debug)]
pub struct ConsoleState {
    pub admin: Admin,
    /// The Lambda's settings, as `blocklist check` builds them.
    pub check_config: Config,
    token: String,
    /// The `Host` values that name this server.
    hosts: Vec<String>,
    /// The origins that may frame the agent workspace app (`/agent/`): the
    /// agent workspace's, e.g. `https://example.my.connect.aws`. None: no
    /// one may.
    agent_frame_ancestors: Vec<String>,
}

impl ConsoleState {
    /// The agent app's Content-Security-Policy: the console's, but framed
    /// by the agent workspace's origins only.
    pub fn agent_csp(&self) -> String {
        let ancestors = match self.agent_frame_ancestors.is_empty() {
            true => "'none'".to_owned(),
            false => self.agent_frame_ancestors.join(" "),
        };
        CONTENT_SECURITY_POLICY.replace(
            "frame-ancestors 'none'",
            &format!("frame-ancestors {ancestors}"),
        )
    }
}

/// Checks an origin allowed to frame the agent app: `https://` and a host
/// (a port may follow), or `http://` on a loopback host for local tests.
/// Anything else could widen the policy (`*`, a scheme alone) or break the
/// header.
pub fn frame_ancestor(origin: &str) -> Result<String, ConsoleError> {
    let refused = || ConsoleError::FrameAncestor(origin.to_owned());
    let (scheme, host) = origin.split_once("://").ok_or_else(refused)?;
    let name = host.rsplit_once(':').map_or(host, |(name, port)| {
        if port.bytes().all(|b| b.is_ascii_digit()) {
            name
        } else {
            host
        }
    });
    let well_formed = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b':');
    let allowed = match scheme {
        "https" => true,
        "http" => name == "127.0.0.1" || name == "localhost",
        _ => false,
    };
    if well_formed && allowed {
        Ok(origin.to_ascii_lowercase())
    } else {
        Err(refused())
    }
}

/// A console listening, not yet serving.
#[derive(Debug)]
pub struct Console {
    listener: TcpListener,
    addr: SocketAddr,
    state: Arc<ConsoleState>,
}

impl Console {
    /// Listens on `addr` (port 0: any free one) with a fresh token.
    pub async fn bind(
        addr: SocketAddr,
        admin: Admin,
        check_config: Config,
    ) -> Result<Console, ConsoleError> {
        if addr.ip().is_unspecified() {
            return Err(ConsoleError::Unspecified(addr.ip()));
        }
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| ConsoleError::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| ConsoleError::Bind { addr, source })?;
        let state = ConsoleState {
            admin,
            check_config,
            token: new_token()?,
            hosts: host_names(addr),
            agent_frame_ancestors: Vec::new(),
        };
        Ok(Console {
            listener,
            addr,
            state: Arc::new(state),
        })
    }

    /// Lets the agent workspace at `origins` frame the agent app (each
    /// checked by [`frame_ancestor`]).
    pub fn allow_agent_app_in(mut self, origins: &[String]) -> Result<Console, ConsoleError> {
        let checked = origins
            .iter()
            .map(|o| frame_ancestor(o))
            .collect::<Result<Vec<_>, _>>()?;
        match Arc::get_mut(&mut self.state) {
            Some(state) => state.agent_frame_ancestors = checked,
            None => return Err(ConsoleError::Started),
        }
        Ok(self)
    }

    /// The address to open, with the token in the fragment.
    pub fn url(&self) -> String {
        format!("http://{}/#token={}", self.addr, self.state.token)
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Whether only this machine can reach it.
    pub fn is_loopback(&self) -> bool {
        self.addr.ip().is_loopback()
    }

    /// Serves until the process stops.
    pub async fn run(self) -> Result<(), ConsoleError> {
        axum::serve(self.listener, router(self.state))
            .await
            .map_err(ConsoleError::Serve)
    }
}

/// `TOKEN_BYTES` from the OS's random source, as hex.
fn new_token() -> Result<String, ConsoleError> {
    let mut bytes = [0u8; TOKEN_BYTES];
    getrandom::getrandom(&mut bytes).map_err(ConsoleError::Random)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The `Host` values a browser sends for `addr`: the address itself, and
/// `localhost` too when it is a loopback one.
fn host_names(addr: SocketAddr) -> Vec<String> {
    let mut hosts = vec![addr.to_string()];
    if addr.ip().is_loopback() {
        hosts.push(format!("localhost:{}", addr.port()));
    }
    hosts
}

/// The routes, behind [`guard`] and [`security_headers`].
pub fn router(state: Arc<ConsoleState>) -> Router {
    let api = Router::new()
        .route("/normalize", get(api::normalize))
        .route("/whoami", get(api::whoami))
        .route("/entries", get(api::entries).post(api::add))
        .route("/entry", get(api::entry))
        .route("/remove", post(api::remove))
        .route("/check", get(api::check))
        .route("/pending", get(api::pending))
        .route("/approve", post(api::approve))
        .route("/reject", post(api::reject))
        .route("/overview", get(overview::handler))
        .route("/import", post(transfer::import))
        .route("/export", get(transfer::export))
        .fallback(api::not_found);
    Router::new()
        .route("/", get(assets::index))
        .route("/app.js", get(assets::script))
        .route("/app.css", get(assets::style))
        .route("/agent", get(assets::agent_redirect))
        .route("/agent/", get(assets::agent_index))
        .route("/agent/agent.js", get(assets::agent_script))
        .route("/agent/agent.css", get(assets::agent_style))
        .nest("/api", api)
        .fallback(assets::not_found)
        .layer(from_fn_with_state(state.clone(), guard))
        .layer(from_fn(security_headers))
        .with_state(state)
}

/// Why [`guard`] refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error(
        "the Host header does not name this console: open the address `blocklist serve` printed"
    )]
    Host,
    #[error("requests from another site are refused: use the console's own page")]
    Origin,
    #[error(
        "missing or wrong token: open the address `blocklist serve` printed (it ends in #token=...)"
    )]
    Token,
}

impl Refused {
    fn status(self) -> StatusCode {
        match self {
            Refused::Host | Refused::Origin => StatusCode::FORBIDDEN,
            Refused::Token => StatusCode::UNAUTHORIZED,
        }
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        api::error_response(self.status(), &self.to_string())
    }
}

/// Lets a request through only if its `Host` names this server, its
/// `Origin` (if any) is this server's own, and, for the API, it carries
/// the token.
pub async fn guard(State(state): State<Arc<ConsoleState>>, req: Request, next: Next) -> Response {
    match check_request(&state, req.method(), req.uri().path(), req.headers()) {
        Ok(()) => next.run(req).await,
        Err(refused) => refused.into_response(),
    }
}

/// [`guard`]'s decision, apart from the plumbing.
fn check_request(
    state: &ConsoleState,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
) -> Result<(), Refused> {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    if !host.is_some_and(|h| state.hosts.iter().any(|own| own.eq_ignore_ascii_case(h))) {
        return Err(Refused::Host);
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let own = |h: &String| origin.to_str().is_ok_and(|o| o == format!("http://{h}"));
        if !state.hosts.iter().any(own) {
            return Err(Refused::Origin);
        }
    }
    // The page itself holds no data: it loads without the token (it reads
    // it from its own fragment). Everything under /api needs it.
    let is_api = path == "/api" || path.starts_with("/api/");
    if is_api || method != Method::GET {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        if !bool::from(given.as_bytes().ct_eq(state.token.as_bytes())) {
            return Err(Refused::Token);
        }
    }
    Ok(())
}

/// The headers every response carries, refusals included.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    // The agent app's files set a policy of their own (framed by the agent
    // workspace): keep it, and send no X-Frame-Options, which would refuse
    // every frame whatever the policy says.
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        );
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    let set: [(HeaderName, &'static str); 3] = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        // Entries and the token-bearing page are never worth caching.
        (header::CACHE_CONTROL, "no-store"),
    ];
    for (name, value) in set {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}
