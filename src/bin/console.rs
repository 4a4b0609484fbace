//! The deployed supervisor console: API Gateway's HTTP API (JWT authorizer
//! in front of `/api`) invokes it with each request, and it answers with
//! the same router as `blocklist serve` (src/console/lambda.rs). Run with
//! `--event FILE...` it answers HTTP API event files locally.

use std::process::ExitCode;

use connect_blocklist::admin::{Admin, Tables};
use connect_blocklist::console::lambda::{DeployedConsole, Groups};
use connect_blocklist::entrypoint::{exit_code, init, serve};
use connect_blocklist::phone::Normalizer;

const PROGRAM: &str = "console";

// One thread, as the other functions: one event at a time.
#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let (mut config, client, timings) = match init().await {
        Ok(init) => init,
        Err(err) => return exit_code(PROGRAM, Err(err)),
    };
    let tables = Tables {
        blocklist: config.table_name.clone(),
        rules: config.rules_table_name.clone(),
        audit: config.audit_table_name.clone(),
    };
    // Each request's author replaces this one (its verified claims).
    let admin = Admin::new(
        client,
        tables,
        "console",
        Normalizer::new(config.default_country),
    );
    // Testing a number answers as the lookup would, without counting the
    // call against the rate limit (as `blocklist check`).
    config.policy.rate_limit = None;
    let get = |name: &str| std::env::var(name).ok();
    let login_url = get("CONSOLE_LOGIN_URL").filter(|u| !u.trim().is_empty());
    // The agent workspace's origins (comma-separated), for the agent app.
    let ancestors: Vec<String> = get("AGENT_APP_FRAME_ANCESTORS")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(str::to_owned)
        .collect();
    let groups = Groups::from_lookup(get);
    let console = match DeployedConsole::new(admin, config, groups, login_url, &ancestors) {
        Ok(console) => console,
        Err(err) => {
            eprintln!("{PROGRAM}: AGENT_APP_FRAME_ANCESTORS: {err}");
            return ExitCode::FAILURE;
        }
    };
    timings.log();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let console = &console;
    let served = serve(PROGRAM, &args, |event| async move {
        console.handle(&event).await
    })
    .await;
    exit_code(PROGRAM, served)
}
