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
//! Deployed ([`lambda`]), the same router answers API Gateway events: API
//! Gateway has verified the caller's JWT, and the claims it passes on say
//! who acts and with which [`Role`]; there is no token of ours and no Host
//! to check, but the same headers and the same per-route roles apply.
//!
//! [`router`] wires the pieces: [`guard`] checks every request,
//! [`ApiRoute::spec`] says the least role of each API call, [`api`] and
//! [`agent`] have the handlers, [`assets`] the embedded page.

pub mod agent;
pub mod api;
pub mod assets;
pub mod by_last_block;
pub mod lambda;
pub mod overview;
pub mod transfer;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use subtle::ConstantTimeEq;
use tokio::net::TcpListener;

use crate::admin::Admin;
use crate::admin::audit::Author;
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

/// What every handler shares: the admin (whose author each request's
/// [`Caller`] replaces), the Lambda's settings for testing a number and
/// reports' policy, and what [`guard`] checks.
#[derive(Debug)]
pub struct ConsoleState {
    pub admin: Admin,
    /// The Lambda's settings, as `blocklist check` builds them; their
    /// `reports` is the report function's policy.
    pub check_config: Config,
    access: Access,
    /// The origins that may frame the agent workspace app (`/agent/`): the
    /// agent workspace's, e.g. `https://example.my.connect.aws`. None: no
    /// one may.
    agent_frame_ancestors: Vec<String>,
    /// Rows the page's import applies a request ([`page_config`]).
    import_part_rows: usize,
}

/// How requests prove who they are.
#[derive(Debug)]
enum Access {
    /// `blocklist serve`: this run's token, the `Host` values that name
    /// this server, and the token holder's role (admin unless `--role`
    /// says less), recorded as the author the process runs as.
    Local {
        token: String,
        hosts: Vec<String>,
        role: Role,
    },
    /// Behind API Gateway: each request's verified claims ([`lambda`]),
    /// and where the page sends someone without a token.
    Deployed { login_url: Option<String> },
}

impl ConsoleState {
    /// The deployed console's state: identity comes from each event.
    pub fn deployed(admin: Admin, check_config: Config, login_url: Option<String>) -> Self {
        ConsoleState {
            admin,
            check_config,
            access: Access::Deployed { login_url },
            agent_frame_ancestors: Vec::new(),
            import_part_rows: transfer::IMPORT_PART_ROWS,
        }
    }

    /// Lets the agent workspace at `origins` frame the agent app (each
    /// checked by [`frame_ancestor`]).
    pub fn framing_agent_app_in(mut self, origins: &[String]) -> Result<Self, ConsoleError> {
        self.agent_frame_ancestors = frame_ancestors(origins)?;
        Ok(self)
    }

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

/// Each of `origins` checked by [`frame_ancestor`].
fn frame_ancestors(origins: &[String]) -> Result<Vec<String>, ConsoleError> {
    origins.iter().map(|o| frame_ancestor(o)).collect()
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

/// What a caller may do, least first: each role can do all that the ones
/// before it can.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Reports a caller and sees the status of the caller on their line.
    Agent,
    /// Entries (list, search, add, edit, remove, test a number) and reports.
    Supervisor,
    /// Everything, including what only admins will be given.
    Admin,
}

impl Role {
    /// Every role, least first.
    pub const ALL: [Role; 3] = [Role::Agent, Role::Supervisor, Role::Admin];

    /// The role named `name` (as [`Role::as_str`] writes it).
    pub fn named(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
        }
    }
}

/// Who a request acts for: set by [`guard`] (the local token's holder) or
/// by [`lambda`] (the verified claims), read by [`Session`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub role: Role,
    pub author: Author,
}

/// What [`lambda`] made of a request's claims, for [`guard`] to act on:
/// a caller, or why the claims do not make one.
#[derive(Debug, Clone)]
pub struct Claimed(pub Result<Caller, Refused>);

/// Every API call, so that adding one forces a decision in [`Self::spec`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiRoute {
    Normalize,
    Whoami,
    ListEntries,
    AddEntry,
    Entry,
    Remove,
    Check,
    Pending,
    Approve,
    Reject,
    Overview,
    Import,
    Export,
    AgentCaller,
    AgentReport,
}

impl ApiRoute {
    pub const ALL: [ApiRoute; 15] = [
        ApiRoute::Normalize,
        ApiRoute::Whoami,
        ApiRoute::ListEntries,
        ApiRoute::AddEntry,
        ApiRoute::Entry,
        ApiRoute::Remove,
        ApiRoute::Check,
        ApiRoute::Pending,
        ApiRoute::Approve,
        ApiRoute::Reject,
        ApiRoute::Overview,
        ApiRoute::Import,
        ApiRoute::Export,
        ApiRoute::AgentCaller,
        ApiRoute::AgentReport,
    ];

    /// The method, the path under `/api`, and the least role: the one place
    /// where each call's access is decided.
    pub fn spec(self) -> (Method, &'static str, Role) {
        use ApiRoute::*;
        match self {
            // Who the caller is and as what: every role's page asks.
            Whoami => (Method::GET, "/whoami", Role::Agent),
            AgentCaller => (Method::GET, "/agent/caller", Role::Agent),
            AgentReport => (Method::POST, "/agent/report", Role::Agent),
            Normalize => (Method::GET, "/normalize", Role::Supervisor),
            ListEntries => (Method::GET, "/entries", Role::Supervisor),
            AddEntry => (Method::POST, "/entries", Role::Supervisor),
            Entry => (Method::GET, "/entry", Role::Supervisor),
            Remove => (Method::POST, "/remove", Role::Supervisor),
            Check => (Method::GET, "/check", Role::Supervisor),
            Pending => (Method::GET, "/pending", Role::Supervisor),
            Approve => (Method::POST, "/approve", Role::Supervisor),
            Reject => (Method::POST, "/reject", Role::Supervisor),
            Overview => (Method::GET, "/overview", Role::Supervisor),
            // Whole files at once: admins only.
            Import => (Method::POST, "/import", Role::Admin),
            Export => (Method::GET, "/export", Role::Admin),
        }
    }

    /// The handler, behind [`require`] of the route's role.
    fn handler(self) -> MethodRouter<Arc<ConsoleState>> {
        use ApiRoute::*;
        let (_, _, role) = self.spec();
        let handler = match self {
            Whoami => get(api::whoami),
            AgentCaller => get(agent::caller),
            AgentReport => post(agent::report),
            Normalize => get(api::normalize),
            ListEntries => get(api::entries),
            AddEntry => post(api::add),
            Entry => get(api::entry),
            Remove => post(api::remove),
            Check => get(api::check),
            Pending => get(api::pending),
            Approve => post(api::approve),
            Reject => post(api::reject),
            Overview => get(overview::handler),
            Import => post(transfer::import),
            Export => get(transfer::export),
        };
        handler.route_layer(from_fn(move |req: Request, next: Next| {
            require(role, req, next)
        }))
    }
}

/// Lets a request through only if its caller's role is at least `role`.
async fn require(role: Role, req: Request, next: Next) -> Response {
    match req.extensions().get::<Caller>() {
        None => Refused::Token.into_response(),
        Some(caller) if caller.role < role => api::error_response(
            StatusCode::FORBIDDEN,
            &format!(
                "this needs the {} role (or a higher one); your token's role is {}",
                role.as_str(),
                caller.role.as_str()
            ),
        ),
        Some(_) => next.run(req).await,
    }
}

/// What a handler acts with: the admin recording this request's caller as
/// the author, the caller's role, and the shared state.
#[derive(Debug)]
pub struct Session {
    pub admin: Admin,
    pub role: Role,
    pub state: Arc<ConsoleState>,
}

impl FromRequestParts<Arc<ConsoleState>> for Session {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<ConsoleState>,
    ) -> Result<Session, Response> {
        // [`guard`] sets it on every API request it lets through.
        let Some(caller) = parts.extensions.get::<Caller>() else {
            return Err(Refused::Token.into_response());
        };
        Ok(Session {
            admin: state.admin.clone().with_author(caller.author.clone()),
            role: caller.role,
            state: state.clone(),
        })
    }
}

/// A console listening, not yet serving.
#[derive(Debug)]
pub struct Console {
    listener: TcpListener,
    addr: SocketAddr,
    /// This run's token (the state's guard holds it too).
    token: String,
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
        let token = new_token()?;
        let state = ConsoleState {
            admin,
            check_config,
            access: Access::Local {
                token: token.clone(),
                hosts: host_names(addr),
                role: Role::Admin,
            },
            agent_frame_ancestors: Vec::new(),
            import_part_rows: transfer::IMPORT_PART_ROWS,
        };
        Ok(Console {
            listener,
            addr,
            token,
            state: Arc::new(state),
        })
    }

    /// Lets the agent workspace at `origins` frame the agent app (each
    /// checked by [`frame_ancestor`]).
    pub fn allow_agent_app_in(mut self, origins: &[String]) -> Result<Console, ConsoleError> {
        let checked = frame_ancestors(origins)?;
        match Arc::get_mut(&mut self.state) {
            Some(state) => state.agent_frame_ancestors = checked,
            None => return Err(ConsoleError::Started),
        }
        Ok(self)
    }

    /// Has the page's import apply `rows` rows a request (at least 1)
    /// rather than [`transfer::IMPORT_PART_ROWS`]: fewer show progress more
    /// often and keep each request shorter, at the cost of more requests,
    /// each carrying the whole file.
    pub fn import_rows_per_request(mut self, rows: usize) -> Result<Console, ConsoleError> {
        match Arc::get_mut(&mut self.state) {
            Some(state) => state.import_part_rows = rows.max(1),
            None => return Err(ConsoleError::Started),
        }
        Ok(self)
    }

    /// Gives the token's holder `role` rather than admin: a console for
    /// supervisors, or for an agent (the pages and calls of that role only).
    pub fn as_role(mut self, role: Role) -> Result<Console, ConsoleError> {
        match Arc::get_mut(&mut self.state).map(|s| &mut s.access) {
            Some(Access::Local { role: holder, .. }) => *holder = role,
            Some(Access::Deployed { .. }) | None => return Err(ConsoleError::Started),
        }
        Ok(self)
    }

    /// The address to open, with the token in the fragment.
    pub fn url(&self) -> String {
        format!("http://{}/#token={}", self.addr, self.token)
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

/// The routes, behind [`guard`] and [`security_headers`]; each API call
/// behind its role ([`ApiRoute::spec`]).
pub fn router(state: Arc<ConsoleState>) -> Router {
    let api = ApiRoute::ALL
        .into_iter()
        .fold(Router::new(), |api, route| {
            api.route(route.spec().1, route.handler())
        })
        .fallback(api::not_found);
    Router::new()
        .route("/", get(assets::index))
        .route("/app.js", get(assets::script))
        .route("/app.css", get(assets::style))
        .route("/agent", get(assets::agent_redirect))
        .route("/agent/", get(assets::agent_index))
        .route("/agent/agent.js", get(assets::agent_script))
        .route("/agent/agent.css", get(assets::agent_style))
        .route("/config.json", get(page_config))
        .nest("/api", api)
        .fallback(assets::not_found)
        .layer(from_fn_with_state(state.clone(), guard))
        .layer(from_fn(security_headers))
        .with_state(state)
}

/// `GET /config.json`, without auth like the page: where the page sends
/// someone who has no token (deployed: the identity provider's login), and
/// how many rows its import applies a request.
async fn page_config(State(state): State<Arc<ConsoleState>>) -> Response {
    let login_url = match &state.access {
        Access::Local { .. } => None,
        Access::Deployed { login_url } => login_url.clone(),
    };
    axum::Json(serde_json::json!({
        "loginUrl": login_url,
        "importPartRows": state.import_part_rows,
    }))
    .into_response()
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
    #[error(
        "no verified token: sign in again (API Gateway's JWT authorizer must be in front of every /api route)"
    )]
    NoClaims,
    #[error(
        "the token names no console group: ask an admin to add you to the admins, supervisors or agents group"
    )]
    NoGroup,
    #[error(
        "the token has no `sub` claim, so no identity to record: use the identity provider's ID or access token"
    )]
    NoSubject,
}

impl Refused {
    fn status(self) -> StatusCode {
        match self {
            Refused::Host | Refused::Origin | Refused::NoGroup => StatusCode::FORBIDDEN,
            Refused::Token | Refused::NoClaims | Refused::NoSubject => StatusCode::UNAUTHORIZED,
        }
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        api::error_response(self.status(), &self.to_string())
    }
}

/// Lets a request through only if it may reach what it asks for, and
/// marks an API request with its [`Caller`]: locally, the token's holder
/// (the process's admin) once `Host`, `Origin` and the token check out;
/// deployed, the caller [`lambda`] made of the verified claims.
pub async fn guard(
    State(state): State<Arc<ConsoleState>>,
    mut req: Request,
    next: Next,
) -> Response {
    let is_api = is_api(req.uri().path());
    let checked = match &state.access {
        Access::Local { token, hosts, role } => {
            check_request(token, hosts, req.method(), req.uri().path(), req.headers())
                .map(|()| is_api.then(|| local_caller(&state, *role)))
        }
        Access::Deployed { .. } if is_api => match req.extensions().get::<Claimed>() {
            None => Err(Refused::NoClaims),
            Some(Claimed(claimed)) => claimed.clone().map(Some),
        },
        Access::Deployed { .. } => Ok(None),
    };
    match checked {
        Ok(caller) => {
            if let Some(caller) = caller {
                req.extensions_mut().insert(caller);
            }
            next.run(req).await
        }
        Err(refused) => refused.into_response(),
    }
}

/// The local token's holder: the author `blocklist serve` runs as, in the
/// role it was given.
fn local_caller(state: &ConsoleState, role: Role) -> Caller {
    Caller {
        role,
        author: state.admin.author().clone(),
    }
}

fn is_api(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}

/// [`guard`]'s local decision, apart from the plumbing.
fn check_request(
    token: &str,
    hosts: &[String],
    method: &Method,
    path: &str,
    headers: &HeaderMap,
) -> Result<(), Refused> {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    if !host.is_some_and(|h| hosts.iter().any(|own| own.eq_ignore_ascii_case(h))) {
        return Err(Refused::Host);
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let own = |h: &String| origin.to_str().is_ok_and(|o| o == format!("http://{h}"));
        if !hosts.iter().any(own) {
            return Err(Refused::Origin);
        }
    }
    // The page itself holds no data: it loads without the token (it reads
    // it from its own fragment). Everything under /api needs it.
    if is_api(path) || method != Method::GET {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        if !bool::from(given.as_bytes().ct_eq(token.as_bytes())) {
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
