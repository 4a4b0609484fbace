//! The report Lambda: the "Report caller" flow (an agent's quick connect)
//! calls it to record the caller on the line as a pending blocklist entry.
//! Run with `--event FILE...` it answers event files locally.

use std::process::ExitCode;

use connect_blocklist::entrypoint::{init, serve};
use connect_blocklist::report::Reporter;

#[tokio::main]
async fn main() -> ExitCode {
    let (config, client, timings) = match init("report").await {
        Ok(init) => init,
        Err(err) => {
            eprintln!("{err}");
            return ExitCode::FAILURE;
        }
    };
    let reporter = Reporter::new(client, &config);
    timings.log();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let reporter = &reporter;
    match serve("report", &args, |event| async move {
        reporter.handle(&event).await
    })
    .await
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("report: {err}");
            ExitCode::FAILURE
        }
    }
}
