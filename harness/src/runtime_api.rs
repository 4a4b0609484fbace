//! A local Lambda Runtime API (the `2018-06-01` interface a custom runtime
//! polls), so the real `bootstrap` binary can be run, timed and loaded exactly
//! as Lambda runs it: it asks `GET /runtime/invocation/next` for work, answers
//! with `POST /runtime/invocation/{id}/response` (or `/error`), and reports a
//! failed start with `POST /runtime/init/error`.
//!
//! [`RuntimeApi::invoke`] queues one event and resolves with the function's
//! answer. Several processes may poll the same API, as several Lambda
//! execution environments would; each takes one event at a time.

use std::collections::HashMap;
use std::convert::Infallible;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

const PREFIX: &str = "/2018-06-01/runtime";

/// The function's answer to one event.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// `POST .../response`: the body, parsed as JSON (a string if it was not JSON).
    Response(Value),
    /// `POST .../error`: the error document the runtime sent.
    Error(Value),
}

/// One event's trip through the function.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// The `lambda-runtime-aws-request-id` the event was handed out with.
    pub request_id: String,
    /// What the function answered.
    pub outcome: Outcome,
    /// When [`RuntimeApi::invoke`] queued the event.
    pub queued: Instant,
    /// When a polling runtime received it.
    pub handed_out: Instant,
    /// When the answer arrived.
    pub answered: Instant,
}

impl Invocation {
    /// Time from hand-out to answer: what the function itself took.
    pub fn latency(&self) -> Duration {
        self.answered.duration_since(self.handed_out)
    }

    /// The response document, or `None` when the function reported an error.
    pub fn response(&self) -> Option<&Value> {
        match &self.outcome {
            Outcome::Response(value) => Some(value),
            Outcome::Error(_) => None,
        }
    }
}

/// Running totals, for "count in = count out" checks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Events queued by [`RuntimeApi::invoke`].
    pub queued: u64,
    /// Events a runtime took with `GET .../next`.
    pub handed_out: u64,
    /// Events answered with `.../response`.
    pub answered: u64,
    /// Events answered with `.../error`.
    pub errored: u64,
    /// `POST .../init/error` calls: a runtime that failed to start.
    pub init_errors: u64,
}

/// The event's answer never came: the API was dropped while it was queued or
/// in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lost;

impl fmt::Display for Lost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the invocation was lost: the runtime API stopped before it was answered")
    }
}

impl std::error::Error for Lost {}

struct Queued {
    /// The event as the function receives it.
    body: Vec<u8>,
    queued: Instant,
    reply: oneshot::Sender<Invocation>,
}

struct InFlight {
    queued: Instant,
    handed_out: Instant,
    reply: oneshot::Sender<Invocation>,
}

struct State {
    events: tokio::sync::Mutex<mpsc::UnboundedReceiver<Queued>>,
    in_flight: Mutex<HashMap<String, InFlight>>,
    next_id: AtomicU64,
    timeout: Duration,
    first_poll: OnceLock<Instant>,
    /// `GET .../next` requests so far: a function that has polled again
    /// after its answer is idle.
    polls: AtomicU64,
    init_errors: Mutex<Vec<Value>>,
    queued: AtomicU64,
    handed_out: AtomicU64,
    answered: AtomicU64,
    errored: AtomicU64,
}

/// A Lambda Runtime API on `127.0.0.1`, serving until dropped.
pub struct RuntimeApi {
    address: SocketAddr,
    sender: mpsc::UnboundedSender<Queued>,
    state: Arc<State>,
    server: JoinHandle<()>,
}

impl RuntimeApi {
    /// Binds a free loopback port and starts serving. Each event is handed out
    /// with a deadline 3 s ahead, the Lambda default timeout.
    pub async fn start() -> io::Result<RuntimeApi> {
        Self::start_with_timeout(Duration::from_secs(3)).await
    }

    /// As [`RuntimeApi::start`], with the function timeout that sets the
    /// `lambda-runtime-deadline-ms` header.
    pub async fn start_with_timeout(timeout: Duration) -> io::Result<RuntimeApi> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let (sender, receiver) = mpsc::unbounded_channel();
        let state = Arc::new(State {
            events: tokio::sync::Mutex::new(receiver),
            in_flight: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            timeout,
            first_poll: OnceLock::new(),
            polls: AtomicU64::new(0),
            init_errors: Mutex::new(Vec::new()),
            queued: AtomicU64::new(0),
            handed_out: AtomicU64::new(0),
            answered: AtomicU64::new(0),
            errored: AtomicU64::new(0),
        });
        let server = tokio::spawn(accept(listener, Arc::clone(&state)));
        Ok(RuntimeApi {
            address,
            sender,
            state,
            server,
        })
    }

    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.address.to_string()
    }

    /// The `AWS_LAMBDA_*` variables a custom runtime reads at start, pointing
    /// it at this API.
    pub fn lambda_env(&self) -> Vec<(String, String)> {
        [
            ("AWS_LAMBDA_RUNTIME_API", self.address()),
            ("AWS_LAMBDA_FUNCTION_NAME", "connect-blocklist-local".into()),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128".into()),
            (
                "AWS_LAMBDA_LOG_GROUP_NAME",
                "/aws/lambda/connect-blocklist-local".into(),
            ),
            ("AWS_LAMBDA_LOG_STREAM_NAME", "local".into()),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_string(), value))
        .collect()
    }

    /// Queues `event` and waits for the function's answer. The wait has no
    /// limit of its own: wrap it in a timeout where a hang must fail.
    pub async fn invoke(&self, event: Value) -> Result<Invocation, Lost> {
        self.invoke_raw(serde_json::to_vec(&event).unwrap_or_default())
            .await
    }

    /// As [`RuntimeApi::invoke`], with the event's bytes as they are: a
    /// payload a `Value` cannot hold (not JSON, or JSON beyond serde_json's
    /// limits) reaches the function unchanged.
    pub async fn invoke_raw(&self, body: Vec<u8>) -> Result<Invocation, Lost> {
        let (reply, answer) = oneshot::channel();
        let queued = Queued {
            body,
            queued: Instant::now(),
            reply,
        };
        self.sender.send(queued).map_err(|_| Lost)?;
        self.state.queued.fetch_add(1, Ordering::Relaxed);
        answer.await.map_err(|_| Lost)
    }

    /// When a runtime first asked for work, i.e. finished its init.
    pub fn first_poll(&self) -> Option<Instant> {
        self.state.first_poll.get().copied()
    }

    /// How many times a runtime has asked for work (`GET .../next`) so far.
    pub fn polls(&self) -> u64 {
        self.state.polls.load(Ordering::Relaxed)
    }

    /// Waits (up to `limit`) until runtimes have asked for work at least
    /// `count` times: a function that polls again after answering is idle,
    /// so its CPU time can be read without a race. False on time-out.
    pub async fn wait_for_polls(&self, count: u64, limit: Duration) -> bool {
        let give_up = Instant::now() + limit;
        while self.polls() < count {
            if Instant::now() >= give_up {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        true
    }

    /// The error documents of runtimes that reported a failed init.
    pub fn init_errors(&self) -> Vec<Value> {
        lock(&self.state.init_errors).clone()
    }

    /// How many events were queued, handed out and answered so far.
    pub fn counts(&self) -> Counts {
        Counts {
            queued: self.state.queued.load(Ordering::Relaxed),
            handed_out: self.state.handed_out.load(Ordering::Relaxed),
            answered: self.state.answered.load(Ordering::Relaxed),
            errored: self.state.errored.load(Ordering::Relaxed),
            init_errors: lock(&self.state.init_errors).len() as u64,
        }
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

async fn accept(listener: TcpListener, state: Arc<State>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let state = Arc::clone(&state);
        tokio::spawn(async move {
            let service = service_fn(move |request| route(Arc::clone(&state), request));
            // A runtime that goes away mid-request is not this API's error.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn route(
    state: Arc<State>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let Some(rest) = path.strip_prefix(PREFIX) else {
        return Ok(reply(StatusCode::NOT_FOUND, "unknown path"));
    };
    let body = match request.into_body().collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return Ok(reply(StatusCode::BAD_REQUEST, "unreadable body")),
    };
    let answer = match (method, rest) {
        (Method::GET, "/invocation/next") => next(&state).await,
        (Method::POST, "/init/error") => {
            lock(&state.init_errors).push(parse(&body));
            reply(StatusCode::ACCEPTED, "{}")
        }
        (Method::POST, rest) => match rest
            .strip_prefix("/invocation/")
            .and_then(|r| r.rsplit_once('/'))
        {
            Some((id, "response")) => finish(&state, id, Outcome::Response(parse(&body))),
            Some((id, "error")) => finish(&state, id, Outcome::Error(parse(&body))),
            _ => reply(StatusCode::NOT_FOUND, "unknown path"),
        },
        _ => reply(StatusCode::NOT_FOUND, "unknown path"),
    };
    Ok(answer)
}

/// Long-polls for the next queued event and hands it out.
async fn next(state: &State) -> Response<Full<Bytes>> {
    state.first_poll.get_or_init(Instant::now);
    state.polls.fetch_add(1, Ordering::Relaxed);
    let Some(queued) = state.events.lock().await.recv().await else {
        return reply(StatusCode::GONE, "the runtime API is shutting down");
    };
    let id = format!("local-{:08}", state.next_id.fetch_add(1, Ordering::Relaxed));
    let deadline = SystemTime::now() + state.timeout;
    let deadline_ms = deadline
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default();
    lock(&state.in_flight).insert(
        id.clone(),
        InFlight {
            queued: queued.queued,
            handed_out: Instant::now(),
            reply: queued.reply,
        },
    );
    state.handed_out.fetch_add(1, Ordering::Relaxed);
    let response = Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .header("lambda-runtime-aws-request-id", &id)
        .header("lambda-runtime-deadline-ms", deadline_ms.to_string())
        .header(
            "lambda-runtime-invoked-function-arn",
            "arn:aws:lambda:us-east-1:123456789012:function:connect-blocklist-local",
        )
        .header("lambda-runtime-trace-id", format!("Root=1-local-{id}"))
        .body(Full::new(Bytes::from(queued.body)));
    response.unwrap_or_else(|_| reply(StatusCode::INTERNAL_SERVER_ERROR, "bad response"))
}

/// Records the answer to the in-flight event `id` and wakes its caller.
fn finish(state: &State, id: &str, outcome: Outcome) -> Response<Full<Bytes>> {
    let Some(in_flight) = lock(&state.in_flight).remove(id) else {
        return reply(StatusCode::BAD_REQUEST, "no such invocation in flight");
    };
    let counter = match outcome {
        Outcome::Response(_) => &state.answered,
        Outcome::Error(_) => &state.errored,
    };
    counter.fetch_add(1, Ordering::Relaxed);
    // The caller may have stopped waiting (a timeout); the answer still counts.
    let _ = in_flight.reply.send(Invocation {
        request_id: id.to_string(),
        outcome,
        queued: in_flight.queued,
        handed_out: in_flight.handed_out,
        answered: Instant::now(),
    });
    reply(StatusCode::ACCEPTED, "{\"status\":\"OK\"}")
}

fn parse(body: &[u8]) -> Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
}

fn reply(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *response.status_mut() = status;
    response
}

/// A function process (the real `bootstrap`) polling a [`RuntimeApi`];
/// killed when dropped.
pub struct Function {
    child: Child,
    started: Instant,
}

impl Function {
    /// A command that runs `binary` against `api`: the `AWS_LAMBDA_*`
    /// variables set, standard input and output discarded. Add the function's
    /// own environment, then [`Function::start`] it.
    pub fn command(binary: &Path, api: &RuntimeApi) -> Command {
        let mut command = Command::new(binary);
        command
            .envs(api.lambda_env())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        command
    }

    /// Starts `command`, noting the moment it was started.
    pub fn start(command: &mut Command) -> io::Result<Function> {
        let started = Instant::now();
        let child = command.spawn()?;
        Ok(Function { child, started })
    }

    /// Starts `binary` against `api` with `env` added to this process's
    /// environment.
    pub fn spawn(binary: &Path, api: &RuntimeApi, env: &[(&str, &str)]) -> io::Result<Function> {
        let mut command = Self::command(binary, api);
        command.envs(env.iter().copied());
        Self::start(&mut command)
    }

    /// When the process was started.
    pub fn started(&self) -> Instant {
        self.started
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its resident set size now, in KiB (Linux `/proc`; `None` elsewhere or
    /// once it has exited).
    pub fn rss_kib(&self) -> Option<u64> {
        self.status_kib("VmRSS:")
    }

    /// Its peak resident set size so far, in KiB.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        self.status_kib("VmHWM:")
    }

    /// The CPU time (user + system) its threads have used so far, with
    /// nanosecond resolution: the sum of `/proc/PID/task/*/schedstat`'s run
    /// times (`/proc/PID/stat` counts in 10 ms clock ticks, too coarse for an
    /// init of a few ms). Threads that have already exited are not counted;
    /// the function's (tokio's workers and blocking pool) outlive its init.
    /// `None` off Linux or once the process has exited.
    pub fn cpu_time(&self) -> Option<Duration> {
        let tasks = std::fs::read_dir(format!("/proc/{}/task", self.child.id())).ok()?;
        // A thread that ends while this reads is skipped, not an error.
        let run_ns = tasks.filter_map(|task| {
            let schedstat = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
            schedstat.split_whitespace().next()?.parse::<u64>().ok()
        });
        let (count, total_ns) = run_ns.fold((0, 0), |(n, sum), ns| (n + 1, sum + ns));
        (count > 0).then(|| Duration::from_nanos(total_ns))
    }

    /// Whether it has exited, and how.
    pub fn exited(&mut self) -> io::Result<Option<std::process::ExitStatus>> {
        self.child.try_wait()
    }

    fn status_kib(&self, field: &str) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|line| line.starts_with(field))?;
        line[field.len()..].split_whitespace().next()?.parse().ok()
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Plays a runtime by hand over a raw socket: poll, then answer.
    async fn request(address: &str, method: &str, path: &str, body: &str) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
        let text = format!(
            "{method} {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(text.as_bytes()).await.unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        answer
    }

    /// The request id the API gave a `next` answer.
    fn request_id(next: &str) -> String {
        next.lines()
            .find_map(|l| l.strip_prefix("lambda-runtime-aws-request-id: "))
            .unwrap()
            .to_string()
    }

    #[tokio::test]
    async fn hands_out_events_and_returns_answers() {
        let api = RuntimeApi::start().await.unwrap();
        let address = api.address();
        let runtime = tokio::spawn(async move {
            let next = request(&address, "GET", "/2018-06-01/runtime/invocation/next", "").await;
            assert!(next.starts_with("HTTP/1.1 200"), "{next}");
            assert!(next.contains("lambda-runtime-deadline-ms: "), "{next}");
            assert!(next.ends_with("{\"n\":1}"), "{next}");
            let id = request_id(&next);
            let path = format!("/2018-06-01/runtime/invocation/{id}/response");
            let done = request(&address, "POST", &path, "{\"ok\":\"yes\"}").await;
            assert!(done.starts_with("HTTP/1.1 202"), "{done}");
            // A second answer to the same event is refused, not counted.
            let again = request(&address, "POST", &path, "{}").await;
            assert!(again.starts_with("HTTP/1.1 400"), "{again}");
        });
        let invocation = api.invoke(json!({"n": 1})).await.unwrap();
        runtime.await.unwrap();
        assert_eq!(invocation.response(), Some(&json!({"ok": "yes"})));
        assert!(invocation.answered >= invocation.handed_out);
        assert!(api.first_poll().is_some());
        let counts = api.counts();
        assert_eq!(
            (counts.queued, counts.handed_out, counts.answered),
            (1, 1, 1)
        );
        assert_eq!(counts.errored, 0);
    }

    #[tokio::test]
    async fn counts_errors_and_failed_inits() {
        let api = RuntimeApi::start().await.unwrap();
        let address = api.address();
        let runtime = tokio::spawn(async move {
            request(
                &address,
                "POST",
                "/2018-06-01/runtime/init/error",
                "{\"e\":1}",
            )
            .await;
            let next = request(&address, "GET", "/2018-06-01/runtime/invocation/next", "").await;
            let id = request_id(&next);
            let path = format!("/2018-06-01/runtime/invocation/{id}/error");
            request(&address, "POST", &path, "not json").await;
        });
        let invocation = api.invoke(json!({})).await.unwrap();
        runtime.await.unwrap();
        assert!(matches!(&invocation.outcome, Outcome::Error(Value::String(s)) if s == "not json"));
        assert_eq!(invocation.response(), None);
        assert_eq!(api.counts().errored, 1);
        assert_eq!(api.init_errors(), vec![json!({"e": 1})]);
    }
}
