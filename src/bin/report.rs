//! The report Lambda: the "Report caller" flow (an agent's quick connect)
//! calls it to record the caller on the line as a pending blocklist entry.
//! Run with `--event FILE...` it answers event files locally.

use std::convert::Infallible;
use std::process::ExitCode;

use connect_blocklist::aws::{ClientOptions, dynamodb_client};
use connect_blocklist::config::Config;
use connect_blocklist::logging;
use connect_blocklist::report::Reporter;
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> ExitCode {
    logging::init();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            tracing::error!(error = %err, "refusing to start");
            eprintln!("report: {err}");
            return ExitCode::FAILURE;
        }
    };
    let client = dynamodb_client(&ClientOptions {
        attempt_timeout: Some(config.lookup_timeout),
        ..ClientOptions::default()
    })
    .await;
    let reporter = Reporter::new(client, &config);

    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.split_first() {
        Some((flag, files)) if flag == "--event" && !files.is_empty() => {
            let mut result = Ok(());
            for file in files {
                let answer = match std::fs::read_to_string(file)
                    .map_err(|e| e.to_string())
                    .and_then(|t| {
                        serde_json::from_str::<Value>(&t)
                            .map_err(|e| format!("{file} is not JSON: {e}"))
                    }) {
                    Ok(event) => reporter.handle(&event).await,
                    Err(err) => {
                        result = Err(err);
                        break;
                    }
                };
                println!(
                    "{file}\t{}",
                    serde_json::to_string(&answer).unwrap_or_default()
                );
            }
            result
        }
        Some(_) => Err("usage: report [--event FILE...]".to_owned()),
        None => {
            let reporter = &reporter;
            lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
                Ok::<_, Infallible>(reporter.handle(&event.payload).await)
            }))
            .await
            .map_err(|e| e.to_string())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("report: {err}");
            ExitCode::FAILURE
        }
    }
}
