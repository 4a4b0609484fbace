//! The Lambda that Amazon Connect's "Invoke AWS Lambda function" block calls.
//!
//! Config, phone metadata, the DynamoDB client and the rules are set up once
//! at init and reused by every invocation (the rules are reloaded when older
//! than RULES_REFRESH_SECONDS). Run with `--event FILE...` it answers the
//! given event files locally through the same handler instead of polling the
//! Lambda Runtime API (used by `scripts/demo.sh`).

use std::io::Write;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use connect_blocklist::checker::Checker;
use connect_blocklist::entrypoint::{exit_code, init, serve};
use connect_blocklist::metrics::MetricsSink;
use connect_blocklist::store::DynamoStore;

const PROGRAM: &str = "bootstrap";

// One thread: the function handles one event at a time, and Lambda at
// 128 MB gets a fraction of one core, so worker threads only add their
// start-up and hand-offs (bench/coldstart.sh: init CPU and CPU per call).
#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let (config, client, mut timings) = match init().await {
        Ok(init) => init,
        Err(err) => return exit_code(PROGRAM, Err(err)),
    };
    let store = DynamoStore::for_config(client, &config);
    let mut checker = Checker::new(store, &config);
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() {
        // In Lambda: EMF metrics lines on stdout, which CloudWatch Logs makes
        // metrics; from before the warm-up, so a rules load failing at init
        // is counted too.
        let service = std::env::var("AWS_LAMBDA_FUNCTION_NAME")
            .unwrap_or_else(|_| "connect-blocklist".into());
        let stdout: Arc<Mutex<dyn Write + Send>> = Arc::new(Mutex::new(std::io::stdout()));
        checker = checker.with_metrics(MetricsSink::new(
            &config.metrics_namespace,
            &service,
            stdout,
        ));
    }
    let warm = checker.warm_up().await;
    timings.phone_metadata = warm.phone_metadata;
    timings.rules = warm.rules;
    timings.rules_loaded = Some(warm.rules_loaded);
    timings.log();

    let checker = &checker;
    let served = serve(PROGRAM, &args, |event| async move {
        checker.handle(&event).await
    })
    .await;
    exit_code(PROGRAM, served)
}
