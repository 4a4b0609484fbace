//! Load and memory: INVOCATIONS events through a local Runtime API to
//! PROCESSES copies of the real `bootstrap` (as many Lambda execution
//! environments), optionally through the fault proxy (passing everything)
//! in front of the local DynamoDB server. Each process is kept busy with
//! two events queued for it. Prints throughput, latency percentiles, every
//! answer that was not the expected one, and each process's resident memory
//! sampled ten times over the run (to show it stays flat).
//!
//! Usage: load BOOTSTRAP [INVOCATIONS] [PROCESSES] [--proxy] [--only=I]
//! (`--only` sends just caller I of the rotation); the function's
//! environment (TABLE_NAME, AWS_ENDPOINT_URL_DYNAMODB, ...) is inherited.
//! `bench/load.sh` sets that up. Exits 1 when any invocation failed.

use std::io;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use blocklist_harness::connect_event::connect_event;
use blocklist_harness::fault_proxy::FaultProxy;
use blocklist_harness::runtime_api::{Counts, Function, Invocation, Lost, Outcome, RuntimeApi};
use blocklist_harness::stats::Summary;
use serde_json::Value;
use tokio::task::{JoinError, JoinSet};
use tokio::time::error::Elapsed;

/// The callers, in rotation: (caller ID or none, expected isBlocked, expected lookupStatus).
const CALLERS: [(Option<&str>, &str, &str); 8] = [
    (Some("+14155550123"), "true", "ok"),
    (Some("+14155550124"), "false", "ok"),
    (Some("(415) 555-0123"), "true", "ok"),
    (Some("+442079460958"), "false", "ok"),
    (Some("anonymous"), "false", "skipped"),
    (Some("+4930123456"), "false", "ok"),
    (None, "false", "skipped"),
    (Some("+61291234567"), "false", "ok"),
];

const WARM_UP_PER_PROCESS: usize = 50;

struct Options {
    bootstrap: PathBuf,
    invocations: usize,
    processes: usize,
    proxy: bool,
    /// Send only this caller of [`CALLERS`] (to tell which path costs what).
    only: Option<usize>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut positional = Vec::new();
    let mut proxy = false;
    let mut only = None;
    for arg in std::env::args().skip(1) {
        if arg == "--proxy" {
            proxy = true;
        } else if let Some(index) = arg.strip_prefix("--only=") {
            only = index.parse::<usize>().ok().filter(|i| *i < CALLERS.len());
        } else {
            positional.push(arg);
        }
    }
    let Some(bootstrap) = positional.first().map(PathBuf::from) else {
        eprintln!("usage: load BOOTSTRAP [INVOCATIONS] [PROCESSES] [--proxy]");
        return ExitCode::from(2);
    };
    let options = Options {
        bootstrap,
        invocations: positional
            .get(1)
            .and_then(|n| n.parse().ok())
            .unwrap_or(10_000),
        processes: positional
            .get(2)
            .and_then(|n| n.parse().ok())
            .unwrap_or(1)
            .max(1),
        proxy,
        only,
    };
    match run(&options).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("load: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Why a load run could not be made at all (a run whose answers were wrong
/// is reported on standard output and exits 1 instead).
#[derive(Debug, thiserror::Error)]
enum LoadError {
    #[error("cannot start the local Runtime API (is loopback networking available?): {0}")]
    RuntimeApi(io::Error),
    #[error("set AWS_ENDPOINT_URL_DYNAMODB to the local DynamoDB server")]
    NoEndpoint,
    #[error("cannot start the fault proxy in front of AWS_ENDPOINT_URL_DYNAMODB: {0}")]
    Proxy(io::Error),
    #[error("cannot start {} (give the path of a built bootstrap; bench/load.sh builds one): {source}", .bootstrap.display())]
    Function {
        bootstrap: PathBuf,
        source: io::Error,
    },
    #[error("warm-up failed: {0}")]
    WarmUp(Failure),
}

/// An invocation that did not answer as expected. The messages are the lines
/// listed under `failures:` in the report.
#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error("{caller:?}: {lost}")]
    Lost { caller: Caller, lost: Lost },
    #[error("{caller:?}: no answer within 10 s")]
    Timeout { caller: Caller },
    #[error("{caller:?}: the function reported an error: {outcome:?}")]
    FunctionError { caller: Caller, outcome: Outcome },
    #[error(
        "{caller:?}: isBlocked {is_blocked} lookupStatus {lookup_status} (expected {expected_blocked}, {expected_status})"
    )]
    WrongAnswer {
        caller: Caller,
        is_blocked: String,
        lookup_status: String,
        expected_blocked: &'static str,
        expected_status: &'static str,
    },
    #[error("task failed: {0}")]
    Task(#[from] JoinError),
}

/// A caller ID of [`CALLERS`] (`None`: withheld).
type Caller = Option<&'static str>;

/// The Runtime API, the proxy when asked for, and the function processes
/// polling it.
struct Setup {
    api: Arc<RuntimeApi>,
    proxy: Option<FaultProxy>,
    functions: Vec<Function>,
}

/// What the measured part of a run gathered.
struct Measured {
    results: Vec<Result<Invocation, Failure>>,
    elapsed: Duration,
    /// Each process's RSS was sampled after every this many answers.
    sample_every: usize,
    /// RSS samples in KiB, one list per process.
    samples: Vec<Vec<u64>>,
}

impl Measured {
    /// Invocations per second over the measured part.
    fn rate(&self, invocations: usize) -> f64 {
        invocations as f64 / self.elapsed.as_secs_f64()
    }
}

/// Runs the load and prints the report; `Ok(false)` when any invocation
/// failed or was lost.
async fn run(options: &Options) -> Result<bool, LoadError> {
    let setup = start(options).await?;
    warm_up(&setup.api, options).await?;
    let measured = measure(&setup, options).await;
    // Result keys say how many processes shared the load: `load2_rate_per_s`.
    let key = format!("load{}", options.processes);
    let counts = setup.api.counts();
    let failures = print_answers(options, &setup, &measured, counts, &key);
    print_memory(&setup.functions, &measured, &key);
    println!(
        "result {key}_rate_per_s={:.0}",
        measured.rate(options.invocations)
    );
    println!("result {key}_failures={}", failures as u64 + counts.errored);
    let lost = counts.queued - counts.answered - counts.errored;
    println!("result {key}_lost={lost}");
    Ok(failures == 0 && counts.errored == 0 && lost == 0)
}

/// Starts the Runtime API, the fault proxy if `--proxy` asked for it, and
/// the function processes, pointed at the proxy or straight at the server.
async fn start(options: &Options) -> Result<Setup, LoadError> {
    let api = Arc::new(RuntimeApi::start().await.map_err(LoadError::RuntimeApi)?);
    let upstream = std::env::var("AWS_ENDPOINT_URL_DYNAMODB").map_err(|_| LoadError::NoEndpoint)?;
    let proxy = if options.proxy {
        Some(
            FaultProxy::start(&upstream)
                .await
                .map_err(LoadError::Proxy)?,
        )
    } else {
        None
    };
    let endpoint = proxy.as_ref().map_or(upstream, FaultProxy::endpoint);
    let mut functions = Vec::new();
    for _ in 0..options.processes {
        let mut command = Function::command(&options.bootstrap, &api);
        command.env("AWS_ENDPOINT_URL_DYNAMODB", &endpoint);
        let function = Function::start(&mut command).map_err(|source| LoadError::Function {
            bootstrap: options.bootstrap.clone(),
            source,
        })?;
        functions.push(function);
    }
    Ok(Setup {
        api,
        proxy,
        functions,
    })
}

/// Gives every process some events before the clock starts, so the
/// measurement sees warm processes; any failure here stops the run.
async fn warm_up(api: &Arc<RuntimeApi>, options: &Options) -> Result<(), LoadError> {
    let warm = drive(
        api,
        WARM_UP_PER_PROCESS * options.processes,
        options,
        |_| {},
    )
    .await;
    match warm.into_iter().find_map(Result::err) {
        Some(failure) => Err(LoadError::WarmUp(failure)),
        None => Ok(()),
    }
}

/// The timed part: `options.invocations` events, each process's memory
/// sampled ten times over the run (every 1,000 of 10,000).
async fn measure(setup: &Setup, options: &Options) -> Measured {
    let sample_every = (options.invocations / 10).max(1);
    let mut samples: Vec<Vec<u64>> = vec![Vec::new(); setup.functions.len()];
    let started = Instant::now();
    let results = drive(&setup.api, options.invocations, options, |done| {
        if done % sample_every == 0 {
            for (function, rss) in setup.functions.iter().zip(samples.iter_mut()) {
                rss.push(function.rss_kib().unwrap_or(0));
            }
        }
    })
    .await;
    let elapsed = started.elapsed();
    Measured {
        results,
        elapsed,
        sample_every,
        samples,
    }
}

/// Prints the run's heading, rate, counts, the first failures and the
/// latency percentiles; returns the number of failed invocations.
fn print_answers(
    options: &Options,
    setup: &Setup,
    measured: &Measured,
    counts: Counts,
    key: &str,
) -> usize {
    let mut latency = Vec::new();
    let mut turnaround = Vec::new();
    let mut failures = Vec::new();
    for result in &measured.results {
        match result {
            Ok(invocation) => {
                latency.push(ms(invocation.latency()));
                turnaround.push(ms(invocation.answered.duration_since(invocation.queued)));
            }
            Err(failure) => failures.push(failure),
        }
    }
    println!(
        "load: {} invocations, {} process(es), {}dynalite",
        options.invocations,
        options.processes,
        if options.proxy { "proxy → " } else { "" }
    );
    println!(
        "  rate: {:.0} invocations/s over {:.2} s",
        measured.rate(options.invocations),
        measured.elapsed.as_secs_f64()
    );
    println!(
        "  runtime API counts: queued {}, handed out {}, answered {}, errored {}",
        counts.queued, counts.handed_out, counts.answered, counts.errored
    );
    if let Some(proxy) = &setup.proxy {
        println!("  proxy: {} requests forwarded", proxy.requests());
    }
    println!("  failures: {}", failures.len());
    for failure in failures.iter().take(10) {
        println!("    {failure}");
    }
    if let Some(s) = Summary::of(&latency) {
        println!("  function latency (hand-out → answer): {s}");
        println!("result {key}_latency_p50_ms={:.3}", s.p50);
        println!("result {key}_latency_p99_ms={:.3}", s.p99);
    }
    if let Some(s) = Summary::of(&turnaround) {
        println!("  queued → answer:                       {s}");
    }
    failures.len()
}

/// Prints each process's RSS samples, growth and peak; the first process's
/// peak and growth are also the `result` lines.
fn print_memory(functions: &[Function], measured: &Measured, key: &str) {
    let sample_every = measured.sample_every;
    for (i, (function, rss)) in functions.iter().zip(&measured.samples).enumerate() {
        let first = rss.first().copied().unwrap_or(0);
        let last = rss.last().copied().unwrap_or(0);
        let peak = function.peak_rss_kib().unwrap_or(0);
        let mib = |kib: u64| kib as f64 / 1024.0;
        println!(
            "  process {i}: RSS every {sample_every}: {:?} KiB; first {:.1} MiB, last {:.1} MiB, growth {:+} KiB, peak (VmHWM) {:.1} MiB",
            rss,
            mib(first),
            mib(last),
            last as i64 - first as i64,
            mib(peak)
        );
        if i == 0 {
            println!("result {key}_peak_rss_kib={peak}");
            println!("result {key}_rss_growth_kib={}", last as i64 - first as i64);
        }
    }
}

/// Sends `total` events with `2 × processes` outstanding, checking each
/// answer; calls `progress` with the number done after each one.
async fn drive(
    api: &Arc<RuntimeApi>,
    total: usize,
    options: &Options,
    mut progress: impl FnMut(usize),
) -> Vec<Result<Invocation, Failure>> {
    let window = 2 * options.processes;
    let mut running = JoinSet::new();
    let mut results = Vec::with_capacity(total);
    let mut sent = 0;
    while results.len() < total {
        while sent < total && running.len() < window {
            let (caller, blocked, status) = CALLERS[options.only.unwrap_or(sent % CALLERS.len())];
            let api = Arc::clone(api);
            running.spawn(async move {
                let answer = tokio::time::timeout(
                    Duration::from_secs(10),
                    api.invoke(connect_event(caller)),
                )
                .await;
                check(caller, blocked, status, answer)
            });
            sent += 1;
        }
        match running.join_next().await {
            Some(result) => results.push(result.unwrap_or_else(|err| Err(Failure::from(err)))),
            None => break,
        }
        progress(results.len());
    }
    results
}

/// The invocation, if it answered in time with the expected `isBlocked` and
/// `lookupStatus`.
fn check(
    caller: Caller,
    blocked: &'static str,
    status: &'static str,
    answer: Result<Result<Invocation, Lost>, Elapsed>,
) -> Result<Invocation, Failure> {
    let invocation = match answer {
        Ok(Ok(invocation)) => invocation,
        Ok(Err(lost)) => return Err(Failure::Lost { caller, lost }),
        Err(_) => return Err(Failure::Timeout { caller }),
    };
    let Some(response) = invocation.response() else {
        return Err(Failure::FunctionError {
            caller,
            outcome: invocation.outcome,
        });
    };
    let field = |name: &str| {
        response
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or("<missing>")
            .to_owned()
    };
    let (is_blocked, lookup_status) = (field("isBlocked"), field("lookupStatus"));
    if is_blocked != blocked || lookup_status != status {
        return Err(Failure::WrongAnswer {
            caller,
            is_blocked,
            lookup_status,
            expected_blocked: blocked,
            expected_status: status,
        });
    }
    Ok(invocation)
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
