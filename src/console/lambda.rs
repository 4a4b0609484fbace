//! The deployed console: API Gateway HTTP API events (payload format 2.0)
//! answered by the same [`router`] as `blocklist serve`.
//!
//! API Gateway's JWT authorizer has verified the token before an `/api`
//! event reaches the function, and passes its claims in
//! `requestContext.authorizer.jwt.claims`: they, and nothing the request
//! says about itself, decide the caller's [`Role`] (its groups) and the
//! audit's author (`jwt:<iss>#<sub>`). The page and its files have no
//! authorizer, and need none: they hold no data.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Method, Request, Response, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};
use tower::ServiceExt;

use super::{ApiRoute, Caller, Claimed, ConsoleError, ConsoleState, Refused, Role, router};
use crate::admin::Admin;
use crate::admin::audit::Author;
use crate::config::Config;

/// The identity provider's group of each role; the highest one held wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Groups {
    pub admin: String,
    pub supervisor: String,
    pub agent: String,
}

impl Default for Groups {
    fn default() -> Self {
        Groups {
            admin: "admins".into(),
            supervisor: "supervisors".into(),
            agent: "agents".into(),
        }
    }
}

impl Groups {
    /// `CONSOLE_ADMIN_GROUP`, `CONSOLE_SUPERVISOR_GROUP`,
    /// `CONSOLE_AGENT_GROUP` through `get`; unset or blank: the defaults.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Groups {
        let named = |name: &str, default: String| {
            get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .unwrap_or(default)
        };
        let d = Groups::default();
        Groups {
            admin: named("CONSOLE_ADMIN_GROUP", d.admin),
            supervisor: named("CONSOLE_SUPERVISOR_GROUP", d.supervisor),
            agent: named("CONSOLE_AGENT_GROUP", d.agent),
        }
    }

    fn role_of(&self, group: &str) -> Option<Role> {
        [
            (&self.admin, Role::Admin),
            (&self.supervisor, Role::Supervisor),
            (&self.agent, Role::Agent),
        ]
        .into_iter()
        .find_map(|(name, role)| (name == group).then_some(role))
    }
}

/// The groups in a `cognito:groups` claim: API Gateway passes an array
/// claim as the string `[admins supervisors]`; a JSON array (or a JSON
/// array in a string) is read too.
pub fn group_names(claim: &Value) -> Vec<String> {
    match claim {
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Value::String(text) => {
            if let Ok(Value::Array(items)) = serde_json::from_str::<Value>(text) {
                return group_names(&Value::Array(items));
            }
            let inner = text.trim().trim_start_matches('[').trim_end_matches(']');
            inner
                .split([' ', ','])
                .map(|g| g.trim().trim_matches('"'))
                .filter(|g| !g.is_empty())
                .map(str::to_owned)
                .collect()
        }
        _ => Vec::new(),
    }
}

/// The caller the verified `claims` describe: the highest role among its
/// groups; the actor its `email` (else its user name); the identity
/// `jwt:<iss>#<sub>`, what the audit can trust.
pub fn caller_of(claims: &Map<String, Value>, groups: &Groups) -> Result<Caller, Refused> {
    let text = |name: &str| {
        claims
            .get(name)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
    };
    let sub = text("sub").ok_or(Refused::NoSubject)?;
    let role = claims
        .get("cognito:groups")
        .map(group_names)
        .unwrap_or_default()
        .iter()
        .filter_map(|g| groups.role_of(g))
        .max()
        .ok_or(Refused::NoGroup)?;
    let actor = ["email", "username", "cognito:username"]
        .into_iter()
        .find_map(text)
        .unwrap_or(sub);
    Ok(Caller {
        role,
        author: Author {
            actor: actor.to_owned(),
            identity: Some(format!("jwt:{}#{sub}", text("iss").unwrap_or_default())),
        },
    })
}

/// An event that is not an HTTP API (2.0) request.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error(
        "the event is not an API Gateway HTTP API request (payload format 2.0): {0} is missing; invoke the function through ConsoleApi"
    )]
    Missing(&'static str),
    #[error("the request's {0} cannot be read: {1}")]
    Unreadable(&'static str, String),
}

/// The request an HTTP API event describes, marked with what its claims
/// make of the caller (none: no authorizer ran, as for the page).
pub fn request_of(event: &Value, groups: &Groups) -> Result<Request<Body>, EventError> {
    let http = &event["requestContext"]["http"];
    let method = http["method"]
        .as_str()
        .ok_or(EventError::Missing("requestContext.http.method"))?;
    let method = Method::from_bytes(method.as_bytes())
        .map_err(|e| EventError::Unreadable("method", e.to_string()))?;
    let path = event["rawPath"]
        .as_str()
        .ok_or(EventError::Missing("rawPath"))?;
    let uri = match event["rawQueryString"].as_str().unwrap_or_default() {
        "" => path.to_owned(),
        query => format!("{path}?{query}"),
    };
    let mut builder = Request::builder().method(method).uri(uri);
    if let Some(headers) = event["headers"].as_object() {
        for (name, value) in headers {
            let name = HeaderName::from_bytes(name.as_bytes());
            let value = value.as_str().map(HeaderValue::from_str);
            if let (Ok(name), Some(Ok(value))) = (name, value) {
                builder = builder.header(name, value);
            }
        }
    }
    let body = match event["body"].as_str() {
        None => Vec::new(),
        Some(b) if event["isBase64Encoded"] == true => STANDARD
            .decode(b)
            .map_err(|e| EventError::Unreadable("body (base64)", e.to_string()))?,
        Some(b) => b.as_bytes().to_vec(),
    };
    let mut request = builder
        .body(Body::from(body))
        .map_err(|e| EventError::Unreadable("path or headers", e.to_string()))?;
    if let Some(claims) = event["requestContext"]["authorizer"]["jwt"]["claims"].as_object() {
        request
            .extensions_mut()
            .insert(Claimed(caller_of(claims, groups)));
    }
    Ok(request)
}

/// The HTTP API answer for `response`: text bodies as they are, anything
/// else base64.
pub async fn answer_of(response: Response<Body>) -> Value {
    let (parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => bytes,
        Err(e) => return error_answer(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    };
    let mut headers = Map::new();
    for (name, value) in &parts.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        // Repeated headers are one, comma-separated, as HTTP allows.
        let joined = match headers.remove(name.as_str()) {
            Some(Value::String(before)) => format!("{before}, {value}"),
            _ => value,
        };
        headers.insert(name.as_str().to_owned(), joined.into());
    }
    let (body, base64) = match String::from_utf8(bytes.to_vec()) {
        Ok(text) => (text, false),
        Err(_) => (STANDARD.encode(&bytes), true),
    };
    json!({
        "statusCode": parts.status.as_u16(),
        "headers": headers,
        "body": body,
        "isBase64Encoded": base64,
    })
}

/// An answer the router did not make (the event could not become a
/// request): JSON, with the console's security headers.
fn error_answer(status: StatusCode, message: &str) -> Value {
    json!({
        "statusCode": status.as_u16(),
        "headers": {
            "content-type": "application/json",
            "content-security-policy": super::CONTENT_SECURITY_POLICY,
            "x-content-type-options": "nosniff",
            "cache-control": "no-store",
        },
        "body": json!({ "error": message }).to_string(),
        "isBase64Encoded": false,
    })
}

/// The route to log (an API call's path under /api, or a page file), else
/// `other`. Never the query or any other path: a number could be in
/// either, and logs show none unmasked.
fn logged_route(path: &str) -> &'static str {
    const PAGE: [&str; 8] = [
        "/",
        "/app.js",
        "/app.css",
        "/config.json",
        "/agent",
        "/agent/",
        "/agent/agent.js",
        "/agent/agent.css",
    ];
    let api = ApiRoute::ALL
        .into_iter()
        .map(|r| r.spec().1)
        .find(|p| path.strip_prefix("/api") == Some(*p));
    api.or_else(|| PAGE.into_iter().find(|p| *p == path))
        .unwrap_or("other")
}

/// The console as a Lambda handler.
#[derive(Debug, Clone)]
pub struct DeployedConsole {
    router: Router,
    groups: Groups,
}

impl DeployedConsole {
    /// Over `admin` (its author is replaced by each request's caller),
    /// with `login_url` for the page of someone not signed in, and the
    /// agent workspace's origins that may frame the agent app (refused
    /// unless each is a plain https origin: [`super::frame_ancestor`]).
    pub fn new(
        admin: Admin,
        check_config: Config,
        groups: Groups,
        login_url: Option<String>,
        agent_frame_ancestors: &[String],
    ) -> Result<Self, ConsoleError> {
        let state = ConsoleState::deployed(admin, check_config, login_url)
            .framing_agent_app_in(agent_frame_ancestors)?;
        Ok(DeployedConsole {
            router: router(Arc::new(state)),
            groups,
        })
    }

    /// Answers one HTTP API event.
    pub async fn handle(&self, event: &Value) -> Value {
        let request = match request_of(event, &self.groups) {
            Ok(request) => request,
            Err(e) => return error_answer(StatusCode::BAD_REQUEST, &e.to_string()),
        };
        let (method, path) = (request.method().clone(), logged_route(request.uri().path()));
        // The router's error type is Infallible: every failure is a response.
        let response = match self.router.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        tracing::info!(%method, route = path, status = response.status().as_u16(), "request");
        answer_of(response).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(groups: Value) -> Map<String, Value> {
        let v = json!({
            "sub": "1111-2222",
            "iss": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_X",
            "email": "ana@example.com",
            "cognito:groups": groups,
        });
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn groups_arrive_as_api_gateway_strings_or_json_arrays() {
        let want = ["admins", "agents"];
        assert_eq!(group_names(&json!("[admins agents]")), want);
        assert_eq!(group_names(&json!(["admins", "agents"])), want);
        assert_eq!(group_names(&json!("[\"admins\",\"agents\"]")), want);
        assert_eq!(group_names(&json!("admins")), ["admins"]);
        assert!(group_names(&json!("[]")).is_empty());
        assert!(group_names(&json!(7)).is_empty());
    }

    #[test]
    fn the_highest_group_wins_and_the_identity_is_the_tokens() {
        let groups = Groups::default();
        let caller = caller_of(&claims(json!("[agents supervisors]")), &groups).unwrap();
        assert_eq!(caller.role, Role::Supervisor);
        assert_eq!(caller.author.actor, "ana@example.com");
        assert_eq!(
            caller.author.identity.as_deref(),
            Some("jwt:https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_X#1111-2222")
        );
        let admin = caller_of(&claims(json!(["admins", "agents"])), &groups).unwrap();
        assert_eq!(admin.role, Role::Admin);
        assert_eq!(
            caller_of(&claims(json!("[other]")), &groups).unwrap_err(),
            Refused::NoGroup
        );
        let mut no_groups = claims(json!(null));
        no_groups.remove("cognito:groups");
        assert_eq!(
            caller_of(&no_groups, &groups).unwrap_err(),
            Refused::NoGroup
        );
        let mut no_sub = claims(json!("[admins]"));
        no_sub.remove("sub");
        assert_eq!(caller_of(&no_sub, &groups).unwrap_err(), Refused::NoSubject);
    }

    #[test]
    fn group_names_are_settings() {
        let groups = Groups::from_lookup(|name| {
            (name == "CONSOLE_AGENT_GROUP").then(|| "call-centre".to_owned())
        });
        assert_eq!(groups.agent, "call-centre");
        assert_eq!(groups.admin, "admins");
        let caller = caller_of(&claims(json!("[call-centre]")), &groups).unwrap();
        assert_eq!(caller.role, Role::Agent);
        assert!(caller_of(&claims(json!("[agents]")), &groups).is_err());
    }

    #[test]
    fn only_known_paths_are_logged() {
        assert_eq!(logged_route("/api/entries"), "/entries");
        assert_eq!(logged_route("/app.js"), "/app.js");
        assert_eq!(logged_route("/api/+14155550101"), "other");
        assert_eq!(logged_route("/+14155550101"), "other");
    }

    #[tokio::test]
    async fn a_response_becomes_the_answer_api_gateway_expects() {
        let text = Response::builder()
            .status(StatusCode::CREATED)
            .header("content-type", "text/plain")
            .header("vary", "a")
            .header("vary", "b")
            .body(Body::from("héllo"))
            .unwrap();
        assert_eq!(
            answer_of(text).await,
            json!({"statusCode": 201, "isBase64Encoded": false, "body": "héllo",
                "headers": {"content-type": "text/plain", "vary": "a, b"}})
        );
        let binary = Response::new(Body::from(vec![0xff, 0x00]));
        let answer = answer_of(binary).await;
        assert_eq!(answer["isBase64Encoded"], true);
        assert_eq!(answer["body"], STANDARD.encode([0xff, 0x00]));
    }

    #[test]
    fn an_event_becomes_the_request_it_describes() {
        let event = json!({
            "rawPath": "/api/entries",
            "rawQueryString": "kind=block&page=2",
            "headers": {"content-type": "application/json", "authorization": "Bearer x"},
            "body": STANDARD.encode(b"{\"a\":1}"),
            "isBase64Encoded": true,
            "requestContext": {"http": {"method": "POST"},
                "authorizer": {"jwt": {"claims": claims(json!("[supervisors]"))}}},
        });
        let request = request_of(&event, &Groups::default()).unwrap();
        assert_eq!(request.method(), Method::POST);
        assert_eq!(request.uri(), "/api/entries?kind=block&page=2");
        assert_eq!(request.headers()["content-type"], "application/json");
        let Claimed(caller) = request.extensions().get::<Claimed>().unwrap();
        assert_eq!(caller.as_ref().unwrap().role, Role::Supervisor);
        let page = json!({"rawPath": "/", "requestContext": {"http": {"method": "GET"}}});
        let request = request_of(&page, &Groups::default()).unwrap();
        assert!(request.extensions().get::<Claimed>().is_none());
        let not_http = json!({"Details": {}});
        assert!(matches!(
            request_of(&not_http, &Groups::default()),
            Err(EventError::Missing("requestContext.http.method"))
        ));
    }
}
