//! What the Lambda binaries share: init from the environment, then answer
//! events from the Lambda Runtime API, or (`--event FILE...`) from files,
//! through the same handler, printing `FILE<TAB>answer` per file.

use std::convert::Infallible;
use std::future::Future;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use lambda_runtime::{LambdaEvent, service_fn};
use serde::Serialize;
use serde_json::Value;

use crate::aws::{ClientOptions, dynamodb_client};
use crate::config::Config;
use crate::logging;

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
}

impl InitTimings {
    /// Logs the timings, in milliseconds, as one `ready` line.
    pub fn log(&self) {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        tracing::info!(
            init_config_ms = ms(self.config),
            init_client_ms = ms(self.client),
            init_phone_metadata_ms = ms(self.phone_metadata),
            init_rules_ms = ms(self.rules),
            init_total_ms = ms(self.config + self.client + self.phone_metadata + self.rules),
            "ready"
        );
    }
}

/// Logging, configuration and the DynamoDB client, once per container. A bad
/// configuration value is logged and returned, naming the variable.
pub async fn init(program: &str) -> Result<(Config, Client, InitTimings), String> {
    let started = Instant::now();
    logging::init();
    let config = Config::from_env().map_err(|err| {
        tracing::error!(error = %err, "refusing to start");
        format!("{program}: {err}")
    })?;
    let config_done = Instant::now();
    let client = dynamodb_client(&ClientOptions {
        attempt_timeout: Some(config.lookup_timeout),
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
pub async fn serve<H, Fut, R>(program: &str, args: &[String], handler: H) -> Result<(), String>
where
    H: Fn(Value) -> Fut,
    Fut: Future<Output = R>,
    R: Serialize,
{
    match args.split_first() {
        Some((flag, files)) if flag == "--event" && !files.is_empty() => {
            for file in files {
                let text = std::fs::read_to_string(file)
                    .map_err(|e| format!("cannot read {file}: {e}"))?;
                let event: Value =
                    serde_json::from_str(&text).map_err(|e| format!("{file} is not JSON: {e}"))?;
                let answer =
                    serde_json::to_string(&handler(event).await).map_err(|e| e.to_string())?;
                println!("{file}\t{answer}");
            }
            Ok(())
        }
        Some(_) => Err(format!("usage: {program} [--event FILE...]")),
        None => {
            let handler = &handler;
            lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
                let answer = handler(event.payload);
                async move { Ok::<_, Infallible>(answer.await) }
            }))
            .await
            .map_err(|e| e.to_string())
        }
    }
}
