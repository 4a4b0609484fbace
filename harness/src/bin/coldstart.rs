//! Cold start of the real function: RUNS fresh `bootstrap` processes, each
//! started against its own local Runtime API with one event already queued.
//! Prints, over the runs, the time from exec to the first answer, from exec
//! to the first poll of the Runtime API (init done), the init parts the
//! function logs in its `ready` line, and CPU time (user + system, all
//! threads): of the init alone (a process with no event queued, read once it
//! polls), from exec to the first answer, and per warm call after it.
//!
//! With `--baseline "PROGRAM ARG..."` each run also starts that program as a
//! fresh process against its own Runtime API with the same event (the
//! seed's Python handler: `bench/coldstart.sh`), interleaved with the Rust
//! runs so that both see the same machine load, and prints the ratio of
//! the first answers.
//!
//! Usage: coldstart [--baseline "PROGRAM ARG..."] [--warm-calls N]
//!        BOOTSTRAP [RUNS] [ADDRESS]
//! The function's own environment (TABLE_NAME, AWS_ENDPOINT_URL_DYNAMODB,
//! ...) is inherited. `bench/coldstart.sh` sets all of that up.

use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
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

/// How long a function may take to answer, or to poll again.
const LIMIT: Duration = Duration::from_secs(10);

const USAGE: &str =
    "usage: coldstart [--baseline \"PROGRAM ARG...\"] [--warm-calls N] BOOTSTRAP [RUNS] [ADDRESS]";

#[tokio::main]
async fn main() -> ExitCode {
    let options = match Options::parse(std::env::args().skip(1)) {
        Some(options) => options,
        None => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&options).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("coldstart: {err}");
            ExitCode::FAILURE
        }
    }
}

/// The command line.
struct Options {
    bootstrap: PathBuf,
    runs: usize,
    address: String,
    /// The program (and its arguments) to compare with, if any.
    baseline: Option<Vec<String>>,
    /// Warm calls after the first answer, for the CPU time per warm call.
    warm_calls: usize,
}

impl Options {
    /// `None` for a command line that does not fit [`USAGE`].
    fn parse(args: impl Iterator<Item = String>) -> Option<Options> {
        let mut positional = Vec::new();
        let mut baseline = None;
        let mut warm_calls = 100;
        let mut args = args;
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--baseline" => {
                    let words: Vec<String> =
                        args.next()?.split_whitespace().map(str::to_owned).collect();
                    baseline = Some(words).filter(|w| !w.is_empty());
                }
                "--warm-calls" => warm_calls = args.next()?.parse().ok()?,
                _ => positional.push(arg),
            }
        }
        let mut positional = positional.into_iter();
        Some(Options {
            bootstrap: PathBuf::from(positional.next()?),
            runs: match positional.next() {
                Some(runs) => runs.parse().ok()?,
                None => 20,
            },
            address: positional.next().unwrap_or_else(|| "+14155550123".into()),
            baseline,
            warm_calls,
        })
    }
}

/// Why the cold starts could not be measured.
#[derive(Debug, thiserror::Error)]
enum ColdstartError {
    #[error("cannot start the local Runtime API (is loopback networking available?): {0}")]
    RuntimeApi(io::Error),
    #[error("cannot create the function's log file {}: {source} (check the temporary directory is writable)", .path.display())]
    Log { path: PathBuf, source: io::Error },
    #[error("cannot start {program}: {source}")]
    Function { program: String, source: io::Error },
    #[error(
        "{program}: no answer, or no poll, within 10 s (is the local DynamoDB server running? bench/coldstart.sh starts one)"
    )]
    Timeout { program: String },
    #[error("{0}")]
    Task(#[from] JoinError),
    #[error("{0}")]
    Lost(#[from] Lost),
    #[error("no runs: RUNS must be at least 1")]
    NoRuns,
    #[error("some cold starts answered with an error, or not as the Rust function did")]
    ErrorAnswers,
}

/// A program to start as a function: its path and arguments.
struct Program {
    words: Vec<String>,
}

impl Program {
    fn name(&self) -> String {
        self.words.join(" ")
    }

    /// The command that runs it against `api`, standard error to `log`.
    fn command(&self, api: &RuntimeApi, log: Option<File>) -> Command {
        let mut command = Function::command(Path::new(&self.words[0]), api);
        command.args(&self.words[1..]);
        if let Some(log) = log {
            command.stderr(Stdio::from(log));
        }
        command
    }

    fn start(&self, command: &mut Command) -> Result<Function, ColdstartError> {
        Function::start(command).map_err(|source| ColdstartError::Function {
            program: self.name(),
            source,
        })
    }

    fn timeout(&self) -> ColdstartError {
        ColdstartError::Timeout {
            program: self.name(),
        }
    }
}

/// What one fresh process showed.
struct ColdStart {
    /// Exec to the first answer, in ms.
    first_answer: f64,
    /// Exec to the first poll of the Runtime API, in ms.
    ready: Option<f64>,
    /// CPU time from exec to the first answer (read once it polls again), in ms.
    first_answer_cpu: Option<f64>,
    /// CPU time per warm call after the first, in ms.
    warm_call_cpu: Option<f64>,
    /// `isBlocked=…`, or `error` when the function answered with an error.
    answer: String,
    /// The `fields` of the function's `ready` log line, if it logged one.
    ready_fields: Option<Map<String, Value>>,
}

/// The cold starts of one program gathered over the runs.
#[derive(Default)]
struct Tally {
    first_answer: Vec<f64>,
    ready: Vec<f64>,
    first_answer_cpu: Vec<f64>,
    warm_call_cpu: Vec<f64>,
    /// CPU time of the init alone (exec to the first poll, no event queued).
    init_cpu: Vec<f64>,
    /// The init parts of [`PARTS`] the function logged.
    parts: BTreeMap<&'static str, Vec<f64>>,
    /// How many runs gave each answer.
    answers: BTreeMap<String, usize>,
}

impl Tally {
    fn add(&mut self, run: ColdStart) {
        self.first_answer.push(run.first_answer);
        self.ready.extend(run.ready);
        self.first_answer_cpu.extend(run.first_answer_cpu);
        self.warm_call_cpu.extend(run.warm_call_cpu);
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

/// Starts `runs` fresh processes of each program one after another and
/// prints what they took.
async fn run(options: &Options) -> Result<(), ColdstartError> {
    let log_path = std::env::temp_dir().join(format!("coldstart-{}.log", std::process::id()));
    let rust = Program {
        words: vec![options.bootstrap.display().to_string()],
    };
    let baseline = options.baseline.clone().map(|words| Program { words });
    let (mut tally, mut base) = (Tally::default(), Tally::default());
    for _ in 0..options.runs {
        let event = || connect_event(Some(&options.address));
        tally.add(cold_start(&rust, event(), &log_path, options.warm_calls).await?);
        tally.init_cpu.extend(init_cpu(&rust).await?);
        if let Some(baseline) = &baseline {
            base.add(cold_start(baseline, event(), &log_path, 0).await?);
        }
    }
    let _ = std::fs::remove_file(&log_path);
    print_report(&rust, options, &tally)?;
    if let Some(baseline) = &baseline {
        print_baseline(baseline, &tally, &base)?;
    }
    let all_answers = tally.answers.keys().chain(base.answers.keys());
    if all_answers.clone().any(|k| k == "error")
        || (baseline.is_some() && tally.answers != base.answers)
    {
        return Err(ColdstartError::ErrorAnswers);
    }
    Ok(())
}

/// One fresh process against a Runtime API of its own that already holds its
/// event, so that exec → first answer includes no wait for work. Once it
/// has answered and polled again (idle), its CPU time is read; then
/// `warm_calls` more events give the CPU time per warm call. The process's
/// standard error goes to `log_path`, read for its `ready` line once the
/// process is gone.
async fn cold_start(
    program: &Program,
    event: Value,
    log_path: &Path,
    warm_calls: usize,
) -> Result<ColdStart, ColdstartError> {
    let api = Arc::new(
        RuntimeApi::start()
            .await
            .map_err(ColdstartError::RuntimeApi)?,
    );
    let queued = {
        let (api, event) = (Arc::clone(&api), event.clone());
        tokio::spawn(async move { api.invoke(event).await })
    };
    tokio::task::yield_now().await;
    let log = File::create(log_path).map_err(|source| ColdstartError::Log {
        path: log_path.to_owned(),
        source,
    })?;
    let function = program.start(&mut program.command(&api, Some(log)))?;
    let invocation = tokio::time::timeout(LIMIT, queued)
        .await
        .map_err(|_| program.timeout())???;
    let started = function.started();
    let first_answer = ms(invocation.answered.duration_since(started));
    let ready = api
        .first_poll()
        .map(|polled| ms(polled.duration_since(started)));
    let (first_answer_cpu, warm_call_cpu) =
        cpu_times(program, &api, &function, event, warm_calls).await?;
    drop(function);
    let answer = invocation
        .response()
        .and_then(|r| r.get("isBlocked"))
        .map_or_else(
            || "error".to_string(),
            |b| format!("isBlocked={}", plain(b)),
        );
    let log = std::fs::read_to_string(log_path).unwrap_or_default();
    Ok(ColdStart {
        first_answer,
        ready,
        first_answer_cpu,
        warm_call_cpu,
        answer,
        ready_fields: ready_line(&log),
    })
}

/// The CPU time of `function` once it is idle after its first answer, and
/// per call over `warm_calls` more of `event` (`None` for none).
async fn cpu_times(
    program: &Program,
    api: &RuntimeApi,
    function: &Function,
    event: Value,
    warm_calls: usize,
) -> Result<(Option<f64>, Option<f64>), ColdstartError> {
    if !api.wait_for_polls(2, LIMIT).await {
        return Err(program.timeout());
    }
    let after_first = function.cpu_time();
    if warm_calls == 0 {
        return Ok((after_first.map(ms), None));
    }
    for _ in 0..warm_calls {
        tokio::time::timeout(LIMIT, api.invoke(event.clone()))
            .await
            .map_err(|_| program.timeout())??;
    }
    if !api.wait_for_polls(2 + warm_calls as u64, LIMIT).await {
        return Err(program.timeout());
    }
    let per_call = match (after_first, function.cpu_time()) {
        (Some(first), Some(last)) => Some(ms(last.saturating_sub(first)) / warm_calls as f64),
        _ => None,
    };
    Ok((after_first.map(ms), per_call))
}

/// The CPU time of a fresh process's init: started with no event queued, it
/// is read once the process first asks for work (and so waits, idle).
async fn init_cpu(program: &Program) -> Result<Option<f64>, ColdstartError> {
    let api = RuntimeApi::start()
        .await
        .map_err(ColdstartError::RuntimeApi)?;
    let function = program.start(&mut program.command(&api, None))?;
    if !api.wait_for_polls(1, LIMIT).await {
        return Err(program.timeout());
    }
    Ok(function.cpu_time().map(ms))
}

/// A JSON string's text, any other value as JSON (the seed answers `true`,
/// the Rust function `"true"`).
fn plain(value: &Value) -> String {
    value
        .as_str()
        .map_or_else(|| value.to_string(), str::to_owned)
}

/// Prints the answers, the percentiles and the `result` lines.
fn print_report(program: &Program, options: &Options, tally: &Tally) -> Result<(), ColdstartError> {
    println!(
        "cold start, {} fresh processes of {}:",
        options.runs,
        program.name()
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
    let cpu = [
        (
            "init CPU (user+sys, exec to first poll, no event)",
            "init_cpu",
            &tally.init_cpu,
        ),
        (
            "CPU, exec to first answer",
            "first_answer_cpu",
            &tally.first_answer_cpu,
        ),
    ];
    for (label, key, values) in cpu {
        if let Some(s) = Summary::of(values) {
            println!("  {label}: {s}");
            println!("result coldstart_{key}_p50_ms={:.2}", s.p50);
        }
    }
    if let Some(s) = Summary::of(&tally.warm_call_cpu) {
        println!(
            "  CPU per warm call (mean of {} calls per process): {s}",
            options.warm_calls
        );
        println!("result coldstart_warm_call_cpu_p50_ms={:.4}", s.p50);
    }
    println!("result coldstart_first_answer_p50_ms={:.2}", first.p50);
    println!("result coldstart_first_answer_p90_ms={:.2}", first.p90);
    Ok(())
}

/// Prints the baseline's cold starts and the ratio of the first answers.
fn print_baseline(program: &Program, rust: &Tally, base: &Tally) -> Result<(), ColdstartError> {
    println!("baseline, the same runs interleaved: {}", program.name());
    println!("  answers: {:?}", base.answers);
    let first = Summary::of(&base.first_answer).ok_or(ColdstartError::NoRuns)?;
    println!("  exec to first answer:       {first}");
    if let Some(ready) = Summary::of(&base.ready) {
        println!("  exec to ready (first poll): {ready}");
    }
    if let Some(cpu) = Summary::of(&base.first_answer_cpu) {
        println!("  CPU, exec to first answer: {cpu}");
        println!(
            "result coldstart_baseline_first_answer_cpu_p50_ms={:.2}",
            cpu.p50
        );
    }
    let own = Summary::of(&rust.first_answer).ok_or(ColdstartError::NoRuns)?;
    let ratio = own.p50 / first.p50;
    println!(
        "  first answer p50, Rust / baseline: {:.2} / {:.2} ms = {ratio:.4} (1/{:.1})",
        own.p50,
        first.p50,
        1.0 / ratio
    );
    println!(
        "result coldstart_baseline_first_answer_p50_ms={:.2}",
        first.p50
    );
    println!("result coldstart_first_answer_ratio={ratio:.4}");
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
