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
use std::path::PathBuf;
use std::process::{ExitCode, Stdio};
use std::sync::Arc;
use std::time::Duration;

use blocklist_harness::connect_event::connect_event;
use blocklist_harness::runtime_api::{Function, RuntimeApi};
use blocklist_harness::stats::Summary;
use serde_json::Value;

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

async fn run(bootstrap: PathBuf, runs: usize, address: &str) -> Result<(), String> {
    let mut first_answer = Vec::new();
    let mut ready = Vec::new();
    let mut parts: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    let mut answers: BTreeMap<String, usize> = BTreeMap::new();
    let log_path = std::env::temp_dir().join(format!("coldstart-{}.log", std::process::id()));
    for _ in 0..runs {
        let api = Arc::new(RuntimeApi::start().await.map_err(|e| e.to_string())?);
        let queued = {
            let api = Arc::clone(&api);
            let event = connect_event(Some(address));
            tokio::spawn(async move { api.invoke(event).await })
        };
        tokio::task::yield_now().await;
        let log = File::create(&log_path).map_err(|e| e.to_string())?;
        let mut command = Function::command(&bootstrap, &api);
        command.stderr(Stdio::from(log));
        let function = Function::start(&mut command)
            .map_err(|e| format!("cannot start {}: {e}", bootstrap.display()))?;
        let invocation = tokio::time::timeout(Duration::from_secs(10), queued)
            .await
            .map_err(|_| "no answer within 10 s".to_string())?
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        let started = function.started();
        first_answer.push(ms(invocation.answered.duration_since(started)));
        if let Some(polled) = api.first_poll() {
            ready.push(ms(polled.duration_since(started)));
        }
        drop(function);
        let answer = invocation
            .response()
            .and_then(|r| r.get("isBlocked"))
            .and_then(Value::as_str)
            .map_or_else(|| "error".to_string(), |b| format!("isBlocked={b}"));
        *answers.entry(answer).or_default() += 1;
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        if let Some(fields) = ready_line(&log) {
            for part in PARTS {
                if let Some(value) = fields.get(part).and_then(Value::as_f64) {
                    parts.entry(part).or_default().push(value);
                }
            }
        }
    }
    let _ = std::fs::remove_file(&log_path);

    println!(
        "cold start, {runs} fresh processes of {}:",
        bootstrap.display()
    );
    println!("  answers: {answers:?}");
    let first = Summary::of(&first_answer).ok_or("no runs")?;
    println!("  exec to first answer:       {first}");
    if let Some(ready) = Summary::of(&ready) {
        println!("  exec to ready (first poll): {ready}");
        println!("result coldstart_ready_p50_ms={:.2}", ready.p50);
    }
    for (part, values) in &parts {
        if let Some(s) = Summary::of(values) {
            println!("  {part:<24} p50 {:.2} ms, max {:.2} ms", s.p50, s.max);
            println!("result coldstart_{part}_p50={:.2}", s.p50);
        }
    }
    println!("result coldstart_first_answer_p50_ms={:.2}", first.p50);
    println!("result coldstart_first_answer_p90_ms={:.2}", first.p90);
    if answers.keys().any(|k| k == "error") {
        return Err("some cold starts answered with an error".into());
    }
    Ok(())
}

/// The `fields` of the function's `ready` log line, if it logged one.
fn ready_line(log: &str) -> Option<serde_json::Map<String, Value>> {
    log.lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter_map(|line| line.get("fields").and_then(Value::as_object).cloned())
        .find(|fields| fields.get("message").and_then(Value::as_str) == Some("ready"))
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
