//! Cold start of the real function: RUNS fresh `bootstrap` processes, each
//! started against its own local Runtime API with one event already queued.
//! Prints, over the runs, the time from exec to the first answer, from exec
//! to the first poll of the Runtime API (init done), and the init parts the
//! function logs in its `ready` line.
//!
//! Usage: coldstart BOOTSTRAP [RUNS] [ADDRESS]; the function's own
//! environment (TABLE_NAME, AWS_ENDPOINT_URL_DYNAMODB, ...) is inherited.
//! `bench/coldstart.sh` sets all of that up.

use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::sync::Arc;
use std::time::Duration;

use blocklist_harness::connect_event::connect_event;
use blocklist_harness::runtime_api::{Function, Lost, RuntimeApi};
use blocklist_harness::stats::Summary;
use serde_json::{Map, Value};
use tokio::task::JoinError;

const PARTS: [&str; 5] = [
    "init_config_ms",
    "init_client_ms",
    "init_phone_metadata_ms",
    "init_rules_ms",
    "init_total_ms",
];

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(bootstrap) = args.first().map(PathBuf::from) else {
        eprintln!("usage: coldstart BOOTSTRAP [RUNS] [ADDRESS]");
        return ExitCode::from(2);
    };
    let runs: usize = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(20);
    let address = args
        .get(2)
        .cloned()
        .unwrap_or_else(|| "+14155550123".into());
    match run(bootstrap, runs, &address).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("coldstart: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Why the cold starts could not be measured.
#[derive(Debug, thiserror::Error)]
enum ColdstartError {
    #[error("cannot start the local Runtime API (is loopback networking available?): {0}")]
    RuntimeApi(io::Error),
    #[error("cannot create the function's log file {}: {source} (check the temporary directory is writable)", .path.display())]
    Log { path: PathBuf, source: io::Error },
    #[error("cannot start {}: {source}", .bootstrap.display())]
    Function {
        bootstrap: PathBuf,
        source: io::Error,
    },
    #[error(
        "no answer within 10 s (is the local DynamoDB server running? bench/coldstart.sh starts one)"
    )]
    Timeout,
    #[error("{0}")]
    Task(#[from] JoinError),
    #[error("{0}")]
    Lost(#[from] Lost),
    #[error("no runs: RUNS must be at least 1")]
    NoRuns,
    #[error("some cold starts answered with an error")]
    ErrorAnswers,
}

/// What one fresh process showed.
struct ColdStart {
    /// Exec to the first answer, in ms.
    first_answer: f64,
    /// Exec to the first poll of the Runtime API, in ms.
    ready: Option<f64>,
    /// `isBlocked=…`, or `error` when the function answered with an error.
    answer: String,
    /// The `fields` of the function's `ready` log line, if it logged one.
    ready_fields: Option<Map<String, Value>>,
}

/// The cold starts gathered over the runs.
#[derive(Default)]
struct Tally {
    first_answer: Vec<f64>,
    ready: Vec<f64>,
    /// The init parts of [`PARTS`] the function logged.
    parts: BTreeMap<&'static str, Vec<f64>>,
    /// How many runs gave each answer.
    answers: BTreeMap<String, usize>,
}

impl Tally {
    fn add(&mut self, run: ColdStart) {
        self.first_answer.push(run.first_answer);
        self.ready.extend(run.ready);
        *self.answers.entry(run.answer).or_default() += 1;
        if let Some(fields) = run.ready_fields {
            for part in PARTS {
                if let Some(value) = fields.get(part).and_then(Value::as_f64) {
                    self.parts.entry(part).or_default().push(value);
                }
            }
        }
    }
}

/// Starts `runs` fresh processes one after another and prints what they took.
async fn run(bootstrap: PathBuf, runs: usize, address: &str) -> Result<(), ColdstartError> {
    let log_path = std::env::temp_dir().join(format!("coldstart-{}.log", std::process::id()));
    let mut tally = Tally::default();
    for _ in 0..runs {
        tally.add(cold_start(&bootstrap, address, &log_path).await?);
    }
    let _ = std::fs::remove_file(&log_path);
    print_report(&bootstrap, runs, &tally)?;
    if tally.answers.keys().any(|k| k == "error") {
        return Err(ColdstartError::ErrorAnswers);
    }
    Ok(())
}

/// One fresh process against a Runtime API of its own that already holds its
/// event, so that exec → first answer includes no wait for work. The
/// function's standard error goes to `log_path`, read for its `ready` line
/// once the process is gone.
async fn cold_start(
    bootstrap: &Path,
    address: &str,
    log_path: &Path,
) -> Result<ColdStart, ColdstartError> {
    let api = Arc::new(
        RuntimeApi::start()
            .await
            .map_err(ColdstartError::RuntimeApi)?,
    );
    let queued = {
        let api = Arc::clone(&api);
        let event = connect_event(Some(address));
        tokio::spawn(async move { api.invoke(event).await })
    };
    tokio::task::yield_now().await;
    let log = File::create(log_path).map_err(|source| ColdstartError::Log {
        path: log_path.to_owned(),
        source,
    })?;
    let mut command = Function::command(bootstrap, &api);
    command.stderr(Stdio::from(log));
    let function = Function::start(&mut command).map_err(|source| ColdstartError::Function {
        bootstrap: bootstrap.to_owned(),
        source,
    })?;
    let invocation = tokio::time::timeout(Duration::from_secs(10), queued)
        .await
        .map_err(|_| ColdstartError::Timeout)???;
    let started = function.started();
    let first_answer = ms(invocation.answered.duration_since(started));
    let ready = api
        .first_poll()
        .map(|polled| ms(polled.duration_since(started)));
    drop(function);
    let answer = invocation
        .response()
        .and_then(|r| r.get("isBlocked"))
        .and_then(Value::as_str)
        .map_or_else(|| "error".to_string(), |b| format!("isBlocked={b}"));
    let log = std::fs::read_to_string(log_path).unwrap_or_default();
    Ok(ColdStart {
        first_answer,
        ready,
        answer,
        ready_fields: ready_line(&log),
    })
}

/// Prints the answers, the percentiles and the `result` lines.
fn print_report(bootstrap: &Path, runs: usize, tally: &Tally) -> Result<(), ColdstartError> {
    println!(
        "cold start, {runs} fresh processes of {}:",
        bootstrap.display()
    );
    println!("  answers: {:?}", tally.answers);
    let first = Summary::of(&tally.first_answer).ok_or(ColdstartError::NoRuns)?;
    println!("  exec to first answer:       {first}");
    if let Some(ready) = Summary::of(&tally.ready) {
        println!("  exec to ready (first poll): {ready}");
        println!("result coldstart_ready_p50_ms={:.2}", ready.p50);
    }
    for (part, values) in &tally.parts {
        if let Some(s) = Summary::of(values) {
            println!("  {part:<24} p50 {:.2} ms, max {:.2} ms", s.p50, s.max);
            println!("result coldstart_{part}_p50={:.2}", s.p50);
        }
    }
    println!("result coldstart_first_answer_p50_ms={:.2}", first.p50);
    println!("result coldstart_first_answer_p90_ms={:.2}", first.p90);
    Ok(())
}

/// The `fields` of the function's `ready` log line, if it logged one.
fn ready_line(log: &str) -> Option<Map<String, Value>> {
    log.lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter_map(|line| line.get("fields").and_then(Value::as_object).cloned())
        .find(|fields| fields.get("message").and_then(Value::as_str) == Some("ready"))
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
