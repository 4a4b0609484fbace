//! The Lambda that Amazon Connect's "Invoke AWS Lambda function" block calls.
//!
//! Config, phone metadata, the DynamoDB client and the rules are set up once
//! at init and reused by every invocation (the rules are reloaded when older
//! than RULES_REFRESH_SECONDS). Run with `--event FILE...` it answers the given
//! event files locally through the same handler instead of polling the Lambda
//! Runtime API (used by `scripts/demo.sh`).

use std::convert::Infallible;
use std::io::Write;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use connect_blocklist::aws::{ClientOptions, dynamodb_client};
use connect_blocklist::checker::Checker;
use connect_blocklist::config::Config;
use connect_blocklist::logging;
use connect_blocklist::metrics::MetricsSink;
use connect_blocklist::store::DynamoStore;
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> ExitCode {
    logging::init();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            tracing::error!(error = %err, "refusing to start");
            eprintln!("bootstrap: {err}");
            return ExitCode::FAILURE;
        }
    };
    let client = dynamodb_client(&ClientOptions {
        attempt_timeout: Some(config.lookup_timeout),
        ..ClientOptions::default()
    })
    .await;
    let store = DynamoStore::new(client, &config.table_name, &config.rules_table_name);
    let checker = Checker::new(store, &config);
    checker.warm_up().await;

    let event_files: Vec<String> = std::env::args().skip(1).collect();
    let result = match event_files.split_first() {
        Some((flag, files)) if flag == "--event" && !files.is_empty() => {
            answer_files(&checker, files).await
        }
        Some(_) => Err("usage: bootstrap [--event FILE...]".to_owned()),
        None => {
            // EMF metrics lines on stdout; CloudWatch Logs makes them metrics.
            let service = std::env::var("AWS_LAMBDA_FUNCTION_NAME")
                .unwrap_or_else(|_| "connect-blocklist".into());
            let stdout: Arc<Mutex<dyn Write + Send>> = Arc::new(Mutex::new(std::io::stdout()));
            let checker = checker.with_metrics(MetricsSink::new(
                &config.metrics_namespace,
                &service,
                stdout,
            ));
            let checker = &checker;
            lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
                Ok::<_, Infallible>(checker.handle(&event.payload).await)
            }))
            .await
            .map_err(|e| e.to_string())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("bootstrap: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Answers each event file through the handler, printing one line per file.
async fn answer_files(checker: &Checker<DynamoStore>, files: &[String]) -> Result<(), String> {
    for file in files {
        let text = std::fs::read_to_string(file).map_err(|e| format!("cannot read {file}: {e}"))?;
        let event: Value =
            serde_json::from_str(&text).map_err(|e| format!("{file} is not JSON: {e}"))?;
        let answer = checker.handle(&event).await;
        let json = serde_json::to_string(&answer).map_err(|e| e.to_string())?;
        println!("{file}\t{json}");
    }
    Ok(())
}
