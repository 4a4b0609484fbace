//! `blocklist`: the admin CLI for the connect-blocklist table.
//! Exit status: 0 success, 1 failure, 2 usage error.

use std::process::ExitCode;

use clap::Parser;
use connect_blocklist::cli::{Cli, run};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}
