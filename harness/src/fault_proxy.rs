//! A loopback HTTP/1.1 proxy in front of a local DynamoDB-compatible server
//! that injects the faults a Lambda meets in production: added latency,
//! dropped connections, HTTP 500s, throttling answers and truncated bodies.
//!
//! The proxy speaks just enough HTTP/1.1 for the AWS SDK: bodies framed by
//! `Content-Length` (or chunked), keep-alive with several requests per
//! connection, one upstream connection per client connection. Faults can be
//! switched at any time with [`FaultProxy::set_fault`]; they apply to the
//! requests read after the switch.
//!
//! Error answers are written as DynamoDB writes them (the awsJson1_0
//! protocol): status 400 (500 for an internal error), a JSON body whose
//! `__type` is the namespaced error name, `Content-Type:
//! application/x-amz-json-1.0`, `x-amzn-RequestId` and `x-amz-crc32`.
//! DynamoDB sends no `x-amzn-ErrorType` header; the SDK reads the error
//! code from `__type` and strips the namespace, and classifies
//! `ThrottlingException` and `ProvisionedThroughputExceededException` as
//! retryable throttling errors, a 500 as a retryable transient error.

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// `__type` of DynamoDB's throughput error (data plane).
pub const PROVISIONED_THROUGHPUT_EXCEEDED: &str =
    "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException";
/// `__type` of the throttling error DynamoDB's request router sends.
pub const THROTTLING: &str = "com.amazon.coral.availability#ThrottlingException";
/// `__type` of DynamoDB's internal server error.
pub const INTERNAL_SERVER_ERROR: &str = "com.amazonaws.dynamodb.v20120810#InternalServerError";

/// Largest request or response head the proxy accepts.
const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Largest body the proxy accepts.
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// What the proxy does with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fault {
    /// Forward it and relay the answer.
    #[default]
    None,
    /// Wait this long, then forward it and relay the answer.
    Latency(Duration),
    /// Read the request, then close the connection without answering.
    DropConnection,
    /// Answer `500 Internal Server Error` with DynamoDB's
    /// `InternalServerError` body.
    Http500,
    /// Answer `400` with `ProvisionedThroughputExceededException`.
    ProvisionedThroughputExceeded,
    /// Answer `400` with `ThrottlingException`.
    Throttling,
    /// Forward it; relay the real status line and headers (including the
    /// full `Content-Length`) but only the first half of the body, then
    /// close the connection.
    TruncatedBody,
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let latency;
        f.pad(match self {
            Fault::None => "none",
            Fault::Latency(d) => {
                latency = format!("latency {} ms", d.as_millis());
                &latency
            }
            Fault::DropConnection => "dropped connection",
            Fault::Http500 => "HTTP 500",
            Fault::ProvisionedThroughputExceeded => "ProvisionedThroughputExceededException",
            Fault::Throttling => "ThrottlingException",
            Fault::TruncatedBody => "truncated body",
        })
    }
}

/// The fault in force and the operation it is limited to.
#[derive(Debug, Clone, Default)]
struct Plan {
    fault: Fault,
    /// Only requests for this operation (`GetItem`, ...) are faulted.
    only: Option<String>,
}

#[derive(Debug)]
struct Shared {
    /// `host:port` of the real server.
    upstream: String,
    plan: Mutex<Plan>,
    requests: AtomicU64,
    faulted: AtomicU64,
    answered: AtomicU64,
    /// Requests read per (operation, table); `""` where there is none.
    by_target: Mutex<BTreeMap<(String, String), u64>>,
    request_ids: AtomicU64,
}

impl Shared {
    fn plan(&self) -> MutexGuard<'_, Plan> {
        self.plan.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn by_target(&self) -> MutexGuard<'_, BTreeMap<(String, String), u64>> {
        self.by_target.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Requests read whose operation and table pass `keep`.
    fn count(&self, keep: impl Fn(&str, &str) -> bool) -> u64 {
        self.by_target()
            .iter()
            .filter(|((operation, table), _)| keep(operation, table))
            .map(|(_, n)| n)
            .sum()
    }

    /// Counts a request read and picks the fault for it.
    fn admit(&self, request: &Message) -> Fault {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let operation = request.operation().unwrap_or("").to_owned();
        let table = request.table_name().unwrap_or_default();
        *self
            .by_target()
            .entry((operation.clone(), table))
            .or_insert(0) += 1;
        let plan = self.plan().clone();
        let applies = plan.only.as_deref().is_none_or(|only| only == operation);
        let fault = if applies { plan.fault } else { Fault::None };
        if fault != Fault::None {
            self.faulted.fetch_add(1, Ordering::Relaxed);
        }
        fault
    }

    /// A request id shaped like DynamoDB's: 52 characters of `A-Z0-9`.
    fn request_id(&self) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        let n = self.request_ids.fetch_add(1, Ordering::Relaxed);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let mut state = n ^ nanos.rotate_left(17) ^ 0x9E37_79B9_7F4A_7C15;
        (0..52)
            .map(|_| {
                // xorshift64*
                state ^= state >> 12;
                state ^= state << 25;
                state ^= state >> 27;
                let r = state.wrapping_mul(0x2545_F491_4F6C_DD1D);
                ALPHABET[(r >> 58) as usize % ALPHABET.len()] as char
            })
            .collect()
    }
}

/// A fault-injecting proxy listening on `127.0.0.1`. Stops accepting, and
/// closes its connections, when dropped.
#[derive(Debug)]
pub struct FaultProxy {
    endpoint: String,
    shared: Arc<Shared>,
    _shutdown: watch::Sender<()>,
}

impl FaultProxy {
    /// Starts a proxy on a free loopback port forwarding to `upstream`
    /// (`http://127.0.0.1:PORT`; plain HTTP only). Must be called within a
    /// Tokio runtime, which then runs the proxy.
    pub async fn start(upstream: &str) -> io::Result<FaultProxy> {
        let authority = upstream
            .strip_prefix("http://")
            .unwrap_or(upstream)
            .trim_end_matches('/');
        if authority.is_empty() || authority.contains('/') {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("upstream must be http://HOST:PORT, not {upstream:?}"),
            ));
        }
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let endpoint = format!("http://{}", listener.local_addr()?);
        let shared = Arc::new(Shared {
            upstream: authority.to_owned(),
            plan: Mutex::new(Plan::default()),
            requests: AtomicU64::new(0),
            faulted: AtomicU64::new(0),
            answered: AtomicU64::new(0),
            by_target: Mutex::new(BTreeMap::new()),
            request_ids: AtomicU64::new(0),
        });
        let (shutdown, stopped) = watch::channel(());
        tokio::spawn(accept_loop(listener, shared.clone(), stopped));
        Ok(FaultProxy {
            endpoint,
            shared,
            _shutdown: shutdown,
        })
    }

    /// Where clients send requests: `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        self.endpoint.clone()
    }

    /// Applies `fault` to every request read from now on.
    pub fn set_fault(&self, fault: Fault) {
        *self.shared.plan() = Plan { fault, only: None };
    }

    /// Applies `fault` only to requests for `operation` (the part of
    /// `X-Amz-Target` after the dot, e.g. `GetItem`); others are forwarded.
    pub fn set_fault_on(&self, operation: &str, fault: Fault) {
        *self.shared.plan() = Plan {
            fault,
            only: Some(operation.to_owned()),
        };
    }

    /// The fault in force.
    pub fn fault(&self) -> Fault {
        self.shared.plan().fault
    }

    /// How many requests the proxy has read.
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }

    /// How many of them got a fault (anything but [`Fault::None`]).
    pub fn faulted(&self) -> u64 {
        self.shared.faulted.load(Ordering::Relaxed)
    }

    /// How many requests were answered in full (relayed or an error
    /// answer); dropped and truncated ones are not.
    pub fn answered(&self) -> u64 {
        self.shared.answered.load(Ordering::Relaxed)
    }

    /// How many requests for `operation` (e.g. `GetItem`) were read.
    pub fn requests_for(&self, operation: &str) -> u64 {
        self.shared.count(|op, _| op == operation)
    }

    /// How many requests naming `table` (their JSON body's `TableName`)
    /// were read.
    pub fn requests_for_table(&self, table: &str) -> u64 {
        self.shared.count(|_, t| t == table)
    }

    /// How many requests for `operation` on `table` were read.
    pub fn requests_on(&self, operation: &str, table: &str) -> u64 {
        self.shared.count(|op, t| op == operation && t == table)
    }

    /// Requests read per operation and table (`""` for a request without
    /// `X-Amz-Target` or `TableName`).
    pub fn targets(&self) -> BTreeMap<(String, String), u64> {
        self.shared.by_target().clone()
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, stopped: watch::Receiver<()>) {
    let mut stop = stopped.clone();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.changed() => return,
        };
        let Ok((client, _)) = accepted else {
            // Out of descriptors or similar: try again shortly.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let _ = client.set_nodelay(true);
        let shared = shared.clone();
        let mut stop = stopped.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = serve_connection(client, &shared) => {}
                _ = stop.changed() => {}
            }
        });
    }
}

/// What to do with the client connection after a request.
enum Next {
    KeepAlive,
    Close,
}

/// Serves one client connection until it closes or a fault closes it.
async fn serve_connection(client: TcpStream, shared: &Shared) {
    let mut client = BufReader::new(client);
    let mut upstream: Option<BufReader<TcpStream>> = None;
    loop {
        let request = match read_message(&mut client, Kind::Request).await {
            Ok(Some(request)) => request,
            // Closed between requests, or not HTTP we understand.
            Ok(None) | Err(_) => return,
        };
        let fault = shared.admit(&request);
        let next = match handle(&mut client, &mut upstream, shared, &request, fault).await {
            Ok(next) => next,
            Err(_) => Next::Close,
        };
        if matches!(next, Next::Close) || request.wants_close() {
            let _ = client.get_mut().shutdown().await;
            return;
        }
    }
}

async fn handle(
    client: &mut BufReader<TcpStream>,
    upstream: &mut Option<BufReader<TcpStream>>,
    shared: &Shared,
    request: &Message,
    fault: Fault,
) -> io::Result<Next> {
    let error = |status: u16, type_: &str, message: &str| {
        let body = serde_json::json!({ "__type": type_, "message": message }).to_string();
        dynamodb_error(status, &body, &shared.request_id())
    };
    let canned = match fault {
        Fault::None => None,
        Fault::Latency(delay) => {
            tokio::time::sleep(delay).await;
            None
        }
        Fault::DropConnection => return Ok(Next::Close),
        Fault::Http500 => Some(error(500, INTERNAL_SERVER_ERROR, "Internal server error")),
        Fault::ProvisionedThroughputExceeded => Some(error(
            400,
            PROVISIONED_THROUGHPUT_EXCEEDED,
            "The level of configured provisioned throughput for the table was exceeded. \
             Consider increasing your provisioning level with the UpdateTable API.",
        )),
        Fault::Throttling => Some(error(
            400,
            THROTTLING,
            "Rate of requests exceeds the allowed throughput.",
        )),
        Fault::TruncatedBody => None,
    };
    if let Some(answer) = canned {
        client.get_mut().write_all(&answer).await?;
        client.get_mut().flush().await?;
        shared.answered.fetch_add(1, Ordering::Relaxed);
        return Ok(Next::KeepAlive);
    }

    let response = forward(upstream, &shared.upstream, request).await?;
    let out = client.get_mut();
    if fault == Fault::TruncatedBody {
        out.write_all(&response.head).await?;
        out.write_all(&response.body[..response.body.len() / 2])
            .await?;
        out.flush().await?;
        return Ok(Next::Close);
    }
    out.write_all(&response.head).await?;
    out.write_all(&response.body).await?;
    out.flush().await?;
    shared.answered.fetch_add(1, Ordering::Relaxed);
    if response.wants_close() || response.until_eof {
        *upstream = None;
        return Ok(Next::Close);
    }
    Ok(Next::KeepAlive)
}

/// Sends `request` upstream and reads the answer, over the kept-alive
/// connection when there is one. A kept-alive connection the server closed
/// while idle is replaced once.
async fn forward(
    upstream: &mut Option<BufReader<TcpStream>>,
    authority: &str,
    request: &Message,
) -> io::Result<Message> {
    for _ in 0..2 {
        let reused = upstream.is_some();
        let connection = match upstream {
            Some(connection) => connection,
            None => {
                let stream = TcpStream::connect(authority).await?;
                let _ = stream.set_nodelay(true);
                upstream.insert(BufReader::new(stream))
            }
        };
        let sent = async {
            connection.get_mut().write_all(&request.head).await?;
            connection.get_mut().write_all(&request.body).await?;
            connection.get_mut().flush().await
        }
        .await;
        let answer = match sent {
            Ok(()) => read_message(connection, Kind::Response).await,
            Err(err) => Err(err),
        };
        match answer {
            Ok(Some(response)) => {
                if response.wants_close() || response.until_eof {
                    *upstream = None;
                }
                return Ok(response);
            }
            Ok(None) | Err(_) if reused => *upstream = None,
            Ok(None) => {
                *upstream = None;
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the server closed the connection without answering",
                ));
            }
            Err(err) => {
                *upstream = None;
                return Err(err);
            }
        }
    }
    Err(io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "the server closed the connection without answering",
    ))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Request,
    Response,
}

/// One HTTP/1.1 message as read off the wire.
#[derive(Debug)]
struct Message {
    /// Start line and headers, through the blank line, as received.
    head: Vec<u8>,
    /// Header names (lower-cased) and values.
    headers: Vec<(String, String)>,
    /// The body as received (still chunk-encoded if it was).
    body: Vec<u8>,
    /// The body ran to the end of the connection (no length given).
    until_eof: bool,
}

impl Message {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// `GetItem` for `X-Amz-Target: DynamoDB_20120810.GetItem`.
    fn operation(&self) -> Option<&str> {
        let target = self.header("x-amz-target")?;
        Some(target.rsplit_once('.').map_or(target, |(_, op)| op))
    }

    /// The `TableName` of a JSON request body.
    fn table_name(&self) -> Option<String> {
        let body: serde_json::Value = serde_json::from_slice(&self.body).ok()?;
        Some(body.get("TableName")?.as_str()?.to_owned())
    }

    fn wants_close(&self) -> bool {
        self.header("connection")
            .is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case("close")))
            || self.head.starts_with(b"HTTP/1.0")
    }
}

fn invalid(why: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, why.into())
}

/// Reads one message; `None` when the connection closes before its first
/// byte.
async fn read_message(
    reader: &mut BufReader<TcpStream>,
    kind: Kind,
) -> io::Result<Option<Message>> {
    let Some(head) = read_head(reader).await? else {
        return Ok(None);
    };
    let (start, headers) = parse_head(&head)?;
    let mut message = Message {
        head,
        headers,
        body: Vec::new(),
        until_eof: false,
    };
    read_body(reader, kind, &start, &mut message).await?;
    Ok(Some(message))
}

/// Reads a message head through its blank line, as received; `None` when
/// the connection closes before its first byte.
async fn read_head(reader: &mut BufReader<TcpStream>) -> io::Result<Option<Vec<u8>>> {
    let mut head = Vec::new();
    loop {
        let before = head.len();
        let n = (&mut *reader)
            .take((MAX_HEAD_BYTES + 1 - head.len()) as u64)
            .read_until(b'\n', &mut head)
            .await?;
        if n == 0 {
            return if head.is_empty() {
                Ok(None)
            } else {
                Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "connection closed inside a message head",
                ))
            };
        }
        if head.len() > MAX_HEAD_BYTES {
            return Err(invalid("message head too large"));
        }
        let line = &head[before..];
        if line == b"\r\n" || line == b"\n" {
            if before == 0 {
                // A stray blank line before a message: skip it.
                head.clear();
                continue;
            }
            return Ok(Some(head));
        }
    }
}

/// The start line of `head`, and its header names (lower-cased) and values.
fn parse_head(head: &[u8]) -> io::Result<(String, Vec<(String, String)>)> {
    let text = std::str::from_utf8(head).map_err(|_| invalid("message head is not UTF-8"))?;
    let mut lines = text.split('\n').map(|l| l.trim_end_matches('\r'));
    let start = lines.next().unwrap_or("").to_owned();
    let headers = lines
        .filter(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Ok((start, headers))
}

/// Reads the body `message`'s head announces into `message.body`: none for
/// the statuses that have none, chunked, `Content-Length` bytes, or (a
/// response with no length) all until the connection closes.
async fn read_body(
    reader: &mut BufReader<TcpStream>,
    kind: Kind,
    start: &str,
    message: &mut Message,
) -> io::Result<()> {
    let status = match kind {
        Kind::Request => None,
        Kind::Response => Some(
            start
                .split_whitespace()
                .nth(1)
                .and_then(|s| s.parse::<u16>().ok())
                .ok_or_else(|| invalid(format!("bad status line {start:?}")))?,
        ),
    };
    let bodiless = status.is_some_and(|s| (100..200).contains(&s) || s == 204 || s == 304);
    let chunked = message
        .header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let length = message
        .header("content-length")
        .map(|v| {
            v.parse::<usize>()
                .map_err(|_| invalid("bad Content-Length"))
        })
        .transpose()?;
    if bodiless {
    } else if chunked {
        read_chunked(reader, &mut message.body).await?;
    } else if let Some(length) = length {
        if length > MAX_BODY_BYTES {
            return Err(invalid("body too large"));
        }
        message.body.resize(length, 0);
        reader.read_exact(&mut message.body).await?;
    } else if kind == Kind::Response {
        (&mut *reader)
            .take(MAX_BODY_BYTES as u64)
            .read_to_end(&mut message.body)
            .await?;
        message.until_eof = true;
    }
    Ok(())
}

/// Reads a chunked body, keeping its encoding, into `body`.
async fn read_chunked(reader: &mut BufReader<TcpStream>, body: &mut Vec<u8>) -> io::Result<()> {
    loop {
        let start = body.len();
        read_line(reader, body).await?;
        let line = std::str::from_utf8(&body[start..]).map_err(|_| invalid("bad chunk size"))?;
        let size = line.trim().split(';').next().unwrap_or("");
        let size = usize::from_str_radix(size.trim(), 16).map_err(|_| invalid("bad chunk size"))?;
        if body.len() + size > MAX_BODY_BYTES {
            return Err(invalid("body too large"));
        }
        if size == 0 {
            // Trailers, up to a blank line.
            loop {
                let start = body.len();
                read_line(reader, body).await?;
                if body[start..].trim_ascii().is_empty() {
                    return Ok(());
                }
            }
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..]).await?;
        read_line(reader, body).await?;
    }
}

async fn read_line(reader: &mut BufReader<TcpStream>, into: &mut Vec<u8>) -> io::Result<()> {
    let n = (&mut *reader)
        .take(MAX_HEAD_BYTES as u64)
        .read_until(b'\n', into)
        .await?;
    if n == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "connection closed inside a chunked body",
        ));
    }
    Ok(())
}

/// A DynamoDB error answer: status, headers as DynamoDB sends them, body.
fn dynamodb_error(status: u16, body: &str, request_id: &str) -> Vec<u8> {
    let reason = match status {
        400 => "Bad Request",
        500 => "Internal Server Error",
        _ => "Error",
    };
    format!(
        "HTTP/1.1 {status} {reason}\r\n\
         x-amzn-RequestId: {request_id}\r\n\
         x-amz-crc32: {crc}\r\n\
         Content-Type: application/x-amz-json-1.0\r\n\
         Content-Length: {length}\r\n\
         Date: {date}\r\n\
         \r\n\
         {body}",
        crc = crc32(body.as_bytes()),
        length = body.len(),
        date = http_date(SystemTime::now()),
    )
    .into_bytes()
}

/// CRC-32 (IEEE), as DynamoDB's `x-amz-crc32` header carries it.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// `Fri, 27 Nov 2026 07:57:22 GMT`.
fn http_date(at: SystemTime) -> String {
    let secs = at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let days = (secs / 86_400) as i64;
    let (h, m, s) = (secs % 86_400 / 3600, secs % 3600 / 60, secs % 60);
    // Civil date from days since the epoch (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{}, {day:02} {} {year} {h:02}:{m:02}:{s:02} GMT",
        WEEKDAYS[days.rem_euclid(7) as usize],
        MONTHS[(month - 1) as usize],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_dynalite() {
        // Seen on the wire from dynalite for this body.
        assert_eq!(crc32(br#"{"TableNames":[]}"#), 1_315_925_753);
    }

    #[test]
    fn http_dates() {
        assert_eq!(http_date(UNIX_EPOCH), "Thu, 01 Jan 1970 00:00:00 GMT");
        let at = UNIX_EPOCH + Duration::from_secs(1_795_766_242);
        assert_eq!(http_date(at), "Fri, 27 Nov 2026 07:57:22 GMT");
    }

    #[test]
    fn error_answers_are_shaped_like_dynamodb() {
        let body = serde_json::json!({"__type": THROTTLING, "message": "slow down"}).to_string();
        let answer = String::from_utf8(dynamodb_error(400, &body, "ABC")).unwrap();
        assert!(
            answer.starts_with("HTTP/1.1 400 Bad Request\r\n"),
            "{answer}"
        );
        assert!(answer.contains("Content-Type: application/x-amz-json-1.0\r\n"));
        assert!(answer.contains(&format!("Content-Length: {}\r\n", body.len())));
        assert!(answer.ends_with(&format!("\r\n\r\n{body}")));
    }

    /// A one-connection upstream answering every request with `body`.
    async fn upstream(body: &'static str) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut stream = BufReader::new(stream);
                    while let Ok(Some(_)) = read_message(&mut stream, Kind::Request).await {
                        let answer = format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
                            body.len()
                        );
                        stream.get_mut().write_all(answer.as_bytes()).await.unwrap();
                    }
                });
            }
        });
        format!("http://{address}")
    }

    async fn exchange(stream: &mut BufReader<TcpStream>, target: &str) -> io::Result<Message> {
        let body = r#"{"TableName":"blocked"}"#;
        let request = format!(
            "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: DynamoDB_20120810.{target}\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        );
        stream.get_mut().write_all(request.as_bytes()).await?;
        read_message(stream, Kind::Response)
            .await?
            .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "closed"))
    }

    #[tokio::test]
    async fn relays_injects_and_counts() {
        let proxy = FaultProxy::start(&upstream(r#"{"Item":{}}"#).await)
            .await
            .unwrap();
        let address = proxy.endpoint().trim_start_matches("http://").to_owned();
        let mut conn = BufReader::new(TcpStream::connect(&address).await.unwrap());

        let ok = exchange(&mut conn, "GetItem").await.unwrap();
        assert!(ok.head.starts_with(b"HTTP/1.1 200"));
        assert_eq!(ok.body, br#"{"Item":{}}"#);

        proxy.set_fault(Fault::Throttling);
        let throttled = exchange(&mut conn, "GetItem").await.unwrap();
        assert!(throttled.head.starts_with(b"HTTP/1.1 400"));
        let body: serde_json::Value = serde_json::from_slice(&throttled.body).unwrap();
        assert_eq!(body["__type"], THROTTLING);

        proxy.set_fault_on("GetItem", Fault::Http500);
        let other = exchange(&mut conn, "UpdateItem").await.unwrap();
        assert!(other.head.starts_with(b"HTTP/1.1 200"), "only GetItem");
        let failed = exchange(&mut conn, "GetItem").await.unwrap();
        assert!(failed.head.starts_with(b"HTTP/1.1 500"));

        proxy.set_fault(Fault::TruncatedBody);
        let err = exchange(&mut conn, "GetItem").await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof, "{err}");

        let mut conn = BufReader::new(TcpStream::connect(&address).await.unwrap());
        proxy.set_fault(Fault::DropConnection);
        assert!(exchange(&mut conn, "GetItem").await.is_err());

        assert_eq!(proxy.requests(), 6);
        assert_eq!(proxy.requests_for("GetItem"), 5);
        assert_eq!(proxy.requests_for("UpdateItem"), 1);
        assert_eq!(proxy.requests_for_table("blocked"), 6);
        assert_eq!(proxy.requests_on("GetItem", "blocked"), 5);
        assert_eq!(proxy.faulted(), 4);
        assert_eq!(proxy.answered(), 4);
    }
}
