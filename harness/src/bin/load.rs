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

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use blocklist_harness::connect_event::connect_event;
use blocklist_harness::fault_proxy::FaultProxy;
use blocklist_harness::runtime_api::{Function, Invocation, RuntimeApi};
use blocklist_harness::stats::Summary;
use serde_json::Value;
use tokio::task::JoinSet;

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

async fn run(options: &Options) -> Result<bool, String> {
    let api = Arc::new(RuntimeApi::start().await.map_err(|e| e.to_string())?);
    let upstream = std::env::var("AWS_ENDPOINT_URL_DYNAMODB")
        .map_err(|_| "set AWS_ENDPOINT_URL_DYNAMODB to the local DynamoDB server")?;
    let proxy = if options.proxy {
        Some(
            FaultProxy::start(&upstream)
                .await
                .map_err(|e| e.to_string())?,
        )
    } else {
        None
    };
    let endpoint = proxy.as_ref().map_or(upstream, FaultProxy::endpoint);
    let mut functions = Vec::new();
    for _ in 0..options.processes {
        let mut command = Function::command(&options.bootstrap, &api);
        command.env("AWS_ENDPOINT_URL_DYNAMODB", &endpoint);
        functions.push(Function::start(&mut command).map_err(|e| e.to_string())?);
    }

    // Warm-up: every process takes some events before the clock starts.
    let warm = drive(
        &api,
        WARM_UP_PER_PROCESS * options.processes,
        options,
        |_| {},
    )
    .await;
    if let Some(failure) = warm.iter().find_map(|r| r.as_ref().err()) {
        return Err(format!("warm-up failed: {failure}"));
    }

    // Memory is sampled ten times over the run (every 1,000 of 10,000).
    let sample_every = (options.invocations / 10).max(1);
    let mut samples: Vec<Vec<u64>> = vec![Vec::new(); functions.len()];
    let started = Instant::now();
    let results = drive(&api, options.invocations, options, |done| {
        if done % sample_every == 0 {
            for (function, rss) in functions.iter().zip(samples.iter_mut()) {
                rss.push(function.rss_kib().unwrap_or(0));
            }
        }
    })
    .await;
    let elapsed = started.elapsed();

    let mut latency = Vec::new();
    let mut turnaround = Vec::new();
    let mut failures = Vec::new();
    for result in &results {
        match result {
            Ok(invocation) => {
                latency.push(ms(invocation.latency()));
                turnaround.push(ms(invocation.answered.duration_since(invocation.queued)));
            }
            Err(failure) => failures.push(failure.clone()),
        }
    }
    let counts = api.counts();
    // Result keys say how many processes shared the load: `load2_rate_per_s`.
    let key = format!("load{}", options.processes);
    println!(
        "load: {} invocations, {} process(es), {}dynalite",
        options.invocations,
        options.processes,
        if options.proxy { "proxy → " } else { "" }
    );
    println!(
        "  rate: {:.0} invocations/s over {:.2} s",
        options.invocations as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64()
    );
    println!(
        "  runtime API counts: queued {}, handed out {}, answered {}, errored {}",
        counts.queued, counts.handed_out, counts.answered, counts.errored
    );
    if let Some(proxy) = &proxy {
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
    for (i, (function, rss)) in functions.iter().zip(&samples).enumerate() {
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
    println!(
        "result {key}_rate_per_s={:.0}",
        options.invocations as f64 / elapsed.as_secs_f64()
    );
    println!(
        "result {key}_failures={}",
        failures.len() as u64 + counts.errored
    );
    let lost = counts.queued - counts.answered - counts.errored;
    println!("result {key}_lost={lost}");
    Ok(failures.is_empty() && counts.errored == 0 && lost == 0)
}

/// Sends `total` events with `2 × processes` outstanding, checking each
/// answer; calls `progress` with the number done after each one.
async fn drive(
    api: &Arc<RuntimeApi>,
    total: usize,
    options: &Options,
    mut progress: impl FnMut(usize),
) -> Vec<Result<Invocation, String>> {
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
            Some(Ok(result)) => results.push(result),
            Some(Err(err)) => results.push(Err(format!("task failed: {err}"))),
            None => break,
        }
        progress(results.len());
    }
    results
}

fn check(
    caller: Option<&str>,
    blocked: &str,
    status: &str,
    answer: Result<Result<Invocation, impl std::fmt::Display>, tokio::time::error::Elapsed>,
) -> Result<Invocation, String> {
    let invocation = match answer {
        Ok(Ok(invocation)) => invocation,
        Ok(Err(lost)) => return Err(format!("{caller:?}: {lost}")),
        Err(_) => return Err(format!("{caller:?}: no answer within 10 s")),
    };
    let Some(response) = invocation.response() else {
        return Err(format!(
            "{caller:?}: the function reported an error: {:?}",
            invocation.outcome
        ));
    };
    let field = |name: &str| {
        response
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or("<missing>")
    };
    if field("isBlocked") != blocked || field("lookupStatus") != status {
        return Err(format!(
            "{caller:?}: isBlocked {} lookupStatus {} (expected {blocked}, {status})",
            field("isBlocked"),
            field("lookupStatus")
        ));
    }
    Ok(invocation)
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
