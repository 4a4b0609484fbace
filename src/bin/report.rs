//! The report Lambda: the "Report caller" flow (an agent's quick connect)
//! calls it to record the caller on the line as a pending blocklist entry.
//! Run with `--event FILE...` it answers event files locally.

use std::process::ExitCode;

use connect_blocklist::entrypoint::{exit_code, init, serve};
use connect_blocklist::report::Reporter;

const PROGRAM: &str = "report";

// One thread: the function handles one event at a time, and Lambda at
// 128 MB gets a fraction of one core, so worker threads only add their
// start-up and hand-offs (bench/coldstart.sh: init CPU and CPU per call).
#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let (config, client, timings) = match init().await {
        Ok(init) => init,
        Err(err) => return exit_code(PROGRAM, Err(err)),
    };
    let reporter = Reporter::new(client, &config);
    timings.log();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let reporter = &reporter;
    let served = serve(PROGRAM, &args, |event| async move {
        reporter.handle(&event).await
    })
    .await;
    exit_code(PROGRAM, served)
}
