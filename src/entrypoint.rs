//! What the Lambda binaries share: init from the environment, then answer
//! events from the Lambda Runtime API, or (`--event FILE...`) from files,
//! through the same handler, printing `FILE<TAB>answer` per file.

use std::convert::Infallible;
use std::future::Future;

use aws_sdk_dynamodb::Client;
use lambda_runtime::{LambdaEvent, service_fn};
use serde::Serialize;
use serde_json::Value;

use crate::aws::{ClientOptions, dynamodb_client};
use crate::config::Config;
use crate::logging;

/// Logging, configuration and the DynamoDB client, once per container. A bad
/// configuration value is logged and returned, naming the variable.
pub async fn init(program: &str) -> Result<(Config, Client), String> {
    logging::init();
    let config = Config::from_env().map_err(|err| {
        tracing::error!(error = %err, "refusing to start");
        format!("{program}: {err}")
    })?;
    let client = dynamodb_client(&ClientOptions {
        attempt_timeout: Some(config.lookup_timeout),
        ..ClientOptions::default()
    })
    .await;
    Ok((config, client))
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
