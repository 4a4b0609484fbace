//! What the Lambda binaries share: init from the environment, then answer
//! events from the Lambda Runtime API, or (`--event FILE...`) from files,
//! through the same handler, printing `FILE<TAB>answer` per file.
//!
//! The Runtime API loop is our own ([`run_runtime_api`]) rather than
//! `lambda_runtime::run`: lambda_runtime (1.5.0, the newest release when
//! this was written) copies each invocation's trace header into the process
//! environment with `std::env::set_var("_X_AMZN_TRACE_ID", ..)`, and glibc's
//! `setenv` never frees a value it has stored (a `getenv` pointer may still
//! refer to it): the "name=value" string and its search-tree node stay
//! allocated. Every invocation brings a new trace ID, so each one leaked
//! ~90 bytes (~160 with a real Lambda trace header) and resident memory grew
//! without bound in a warm execution environment.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use futures_util::FutureExt;
use http::{HeaderValue, Method, Request, Uri};
use http_body_util::BodyExt;
use lambda_runtime_api_client::body::Body;
use lambda_runtime_api_client::{PooledClient, build_request};
use serde::Serialize;
use serde_json::{Value, json};

use crate::aws::{ClientOptions, TrustRoots, dynamodb_client};
use crate::config::{Config, ConfigError};
use crate::event::read_event;
use crate::logging;

/// Why a function binary stopped; `main` prints it after the program's
/// name (see [`exit_code`]).
#[derive(Debug, thiserror::Error)]
pub enum EntrypointError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("usage: {program} [--event FILE...]")]
    Usage { program: String },
    #[error("cannot read {}: {source}", .file.display())]
    ReadEvent {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not JSON: {source}", .file.display())]
    EventNotJson {
        file: PathBuf,
        source: serde_json::Error,
    },
    #[error("the answer to {} cannot be written as JSON: {source}", .file.display())]
    Answer {
        file: PathBuf,
        source: serde_json::Error,
    },
    #[error("AWS_LAMBDA_RUNTIME_API is not set (outside Lambda, use --event FILE...)")]
    NoRuntimeApi,
    #[error("AWS_LAMBDA_RUNTIME_API={value:?} is not host:port: {source}")]
    BadRuntimeApi {
        value: String,
        source: http::uri::InvalidUri,
    },
    /// The Runtime API failed or answered something unusable; Lambda
    /// restarts the environment.
    #[error("Runtime API {path}: {problem}")]
    RuntimeApi { path: String, problem: String },
}

impl EntrypointError {
    fn runtime_api(path: &str, problem: impl std::fmt::Display) -> EntrypointError {
        EntrypointError::RuntimeApi {
            path: path.to_owned(),
            problem: problem.to_string(),
        }
    }
}

/// The process's exit status for `result`; an error is printed once, as
/// `PROGRAM: message`.
pub fn exit_code(program: &str, result: Result<(), EntrypointError>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("{program}: {err}");
            ExitCode::FAILURE
        }
    }
}

/// How long each part of a function's init took; logged once, when it is
/// ready for its first event (`bench/coldstart.sh` reads this line).
#[derive(Debug, Default, Clone, Copy)]
pub struct InitTimings {
    /// Logging and reading the configuration from the environment.
    pub config: Duration,
    /// Building the DynamoDB client (credentials and region chain).
    pub client: Duration,
    /// Loading libphonenumber's metadata.
    pub phone_metadata: Duration,
    /// Loading the published rules (one or more GetItems).
    pub rules: Duration,
    /// Whether the rules were loaded; `None` for a function without rules.
    pub rules_loaded: Option<bool>,
}

impl InitTimings {
    /// Logs the timings, in milliseconds, as one `ready` line; at WARN, with
    /// `rules` `unavailable`, when the rules could not be loaded.
    pub fn log(&self) {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let rules = match self.rules_loaded {
            None => "none",
            Some(true) => "loaded",
            Some(false) => "unavailable",
        };
        macro_rules! ready {
            ($level:ident) => {
                tracing::$level!(
                    init_config_ms = ms(self.config),
                    init_client_ms = ms(self.client),
                    init_phone_metadata_ms = ms(self.phone_metadata),
                    init_rules_ms = ms(self.rules),
                    init_total_ms =
                        ms(self.config + self.client + self.phone_metadata + self.rules),
                    rules,
                    "ready"
                )
            };
        }
        if self.rules_loaded == Some(false) {
            ready!(warn);
        } else {
            ready!(info);
        }
    }
}

/// Logging, configuration and the DynamoDB client, once per container. A bad
/// configuration value is logged and returned, naming the variable.
pub async fn init() -> Result<(Config, Client, InitTimings), EntrypointError> {
    let started = Instant::now();
    logging::init();
    let config = Config::from_env().inspect_err(|err| {
        tracing::error!(error = %err, "refusing to start");
    })?;
    let config_done = Instant::now();
    let client = dynamodb_client(&ClientOptions {
        attempt_timeout: Some(config.lookup_timeout),
        trust_roots: TrustRoots::Bundled,
        ..ClientOptions::default()
    })
    .await;
    let timings = InitTimings {
        config: config_done - started,
        client: config_done.elapsed(),
        ..InitTimings::default()
    };
    Ok((config, client, timings))
}

/// Runs `handler` for every invocation until the runtime stops, or for each
/// `--event` file in `args` (the arguments after the program name).
pub async fn serve<H, Fut, R>(
    program: &str,
    args: &[String],
    handler: H,
) -> Result<(), EntrypointError>
where
    H: Fn(Value) -> Fut,
    Fut: Future<Output = R>,
    R: Serialize,
{
    match args.split_first() {
        Some((flag, files)) if flag == "--event" && !files.is_empty() => {
            for file in files {
                let answer = answer_file(PathBuf::from(file), &handler).await?;
                println!("{file}\t{answer}");
            }
            Ok(())
        }
        Some(_) => Err(EntrypointError::Usage {
            program: program.to_owned(),
        }),
        None => run_runtime_api(&handler).await,
    }
}

/// The handler's answer to the event in `file`, as JSON.
async fn answer_file<H, Fut, R>(file: PathBuf, handler: &H) -> Result<String, EntrypointError>
where
    H: Fn(Value) -> Fut,
    Fut: Future<Output = R>,
    R: Serialize,
{
    let text = match std::fs::read_to_string(&file) {
        Ok(text) => text,
        Err(source) => return Err(EntrypointError::ReadEvent { file, source }),
    };
    let event = match read_event(text.as_bytes()) {
        Ok(event) => event,
        Err(source) => return Err(EntrypointError::EventNotJson { file, source }),
    };
    serde_json::to_string(&handler(event).await)
        .map_err(|source| EntrypointError::Answer { file, source })
}

const NEXT: &str = "/2018-06-01/runtime/invocation/next";
const REQUEST_ID: &str = "lambda-runtime-aws-request-id";
/// Sent by newer Runtime APIs and echoed back with the answer, so a late
/// answer to a timed-out invocation cannot be taken for the current one's.
const INVOCATION_ID: &str = "lambda-runtime-invocation-id";

/// The Lambda custom-runtime loop over the Runtime API at
/// `AWS_LAMBDA_RUNTIME_API`: take the next event (`GET .../invocation/next`),
/// answer it (`POST .../{id}/response`, or `.../{id}/error` for an event that
/// is not JSON (valid JSON serde_json refuses is read: [`read_event`]), an answer that cannot be serialized, or a panic in a build
/// that unwinds; the release profile aborts instead), repeat.
/// Ends with an error only when the Runtime API itself fails, as
/// `lambda_runtime::run` did; Lambda then restarts the environment.
///
/// Unlike lambda_runtime it does not set `_X_AMZN_TRACE_ID` (see the module
/// doc: that leaks on every invocation). Nothing here needs it: X-Ray is not
/// active for the function, and the SDK's recursion-detection header it would
/// feed only matters for calls that can invoke this function again.
async fn run_runtime_api<H, Fut, R>(handler: &H) -> Result<(), EntrypointError>
where
    H: Fn(Value) -> Fut,
    Fut: Future<Output = R>,
    R: Serialize,
{
    let api = std::env::var("AWS_LAMBDA_RUNTIME_API").map_err(|_| EntrypointError::NoRuntimeApi)?;
    let base: Uri =
        format!("http://{api}")
            .parse()
            .map_err(|source| EntrypointError::BadRuntimeApi {
                value: api.clone(),
                source,
            })?;
    // Keep-alive: the polls and answers reuse the same connection(s).
    let client = PooledClient::builder().with_endpoint(base).build();
    loop {
        let invocation = next_invocation(&client).await?;
        let outcome = invoke(handler, &invocation.body).await;
        let answer = answer_request(
            &invocation.request_id,
            invocation.invocation_id.as_ref(),
            outcome,
        )?;
        let path = answer.uri().path().to_owned();
        let response = client
            .call(answer)
            .await
            .map_err(|e| EntrypointError::runtime_api(&path, e))?;
        let status = response.status();
        // Read the (small) reply to the end so the connection can be reused.
        let _ = response.into_body().collect().await;
        if !status.is_success() {
            // E.g. 410 Gone for an invocation that already timed out; the
            // next event is still ours to take.
            tracing::error!(%status, path, "the Runtime API refused the answer");
        }
    }
}

/// One event handed out by the Runtime API.
struct Invocation {
    request_id: String,
    invocation_id: Option<HeaderValue>,
    body: Vec<u8>,
}

/// `GET .../invocation/next`: waits for the next event.
async fn next_invocation(client: &PooledClient) -> Result<Invocation, EntrypointError> {
    let next = build_request()
        .method(Method::GET)
        .uri(NEXT)
        .body(Body::empty())
        .map_err(|e| EntrypointError::runtime_api(NEXT, e))?;
    let (parts, body) = client
        .call(next)
        .await
        .map_err(|e| EntrypointError::runtime_api(NEXT, e))?
        .into_parts();
    let body = body
        .collect()
        .await
        .map_err(|e| EntrypointError::runtime_api(NEXT, format!("reading the event failed: {e}")))?
        .to_bytes()
        .into();
    if !parts.status.is_success() {
        return Err(EntrypointError::runtime_api(
            NEXT,
            format!("answered {}", parts.status),
        ));
    }
    let request_id = parts
        .headers
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|id| !id.is_empty() && !id.contains(['/', '?', '#']))
        .ok_or_else(|| {
            EntrypointError::runtime_api(NEXT, format!("no usable {REQUEST_ID} header"))
        })?
        .to_owned();
    Ok(Invocation {
        request_id,
        invocation_id: parts.headers.get(INVOCATION_ID).cloned(),
        body,
    })
}

/// An invocation that gets an error document instead of an answer.
struct InvocationError {
    /// `Runtime.UnmarshalError`, `Runtime.MarshalError` or `Runtime.Panic`.
    error_type: &'static str,
    message: String,
}

/// Runs the handler on one event: the answer's JSON, or why there is none.
async fn invoke<H, Fut, R>(handler: &H, body: &[u8]) -> Result<Vec<u8>, InvocationError>
where
    H: Fn(Value) -> Fut,
    Fut: Future<Output = R>,
    R: Serialize,
{
    let error = |error_type, message| InvocationError {
        error_type,
        message,
    };
    let event = read_event(body).map_err(|err| {
        error(
            "Runtime.UnmarshalError",
            format!("the event is not JSON: {err}"),
        )
    })?;
    match AssertUnwindSafe(handler(event)).catch_unwind().await {
        Ok(answer) => serde_json::to_vec(&answer)
            .map_err(|err| error("Runtime.MarshalError", format!("the answer: {err}"))),
        Err(panic) => Err(error("Runtime.Panic", panic_message(panic.as_ref()))),
    }
}

/// `POST .../{id}/response` with the answer's JSON, or `.../{id}/error` with
/// an error document (`errorType`, `errorMessage`).
fn answer_request(
    request_id: &str,
    invocation_id: Option<&HeaderValue>,
    outcome: Result<Vec<u8>, InvocationError>,
) -> Result<Request<Body>, EntrypointError> {
    let mut builder = build_request().method(Method::POST);
    if let Some(id) = invocation_id {
        builder = builder.header(INVOCATION_ID, id);
    }
    let request = match outcome {
        Ok(json) => builder
            .uri(format!(
                "/2018-06-01/runtime/invocation/{request_id}/response"
            ))
            .body(Body::from(json)),
        Err(InvocationError {
            error_type,
            message,
        }) => {
            // A panic's message can echo the event: cut short like any event field.
            tracing::error!(error_type, error = %logging::capped(&message), request_id, "invocation failed");
            let document = json!({"errorType": error_type, "errorMessage": message});
            builder
                .uri(format!("/2018-06-01/runtime/invocation/{request_id}/error"))
                .header("lambda-runtime-function-error-type", "unhandled")
                .body(Body::from(document.to_string()))
        }
    };
    request.map_err(|e| {
        EntrypointError::runtime_api(request_id, format!("cannot build the answer: {e}"))
    })
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    let detail = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str));
    match detail {
        Some(detail) => format!("the handler panicked: {detail}"),
        None => "the handler panicked".to_owned(),
    }
}
