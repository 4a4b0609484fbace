//! JSON log lines for CloudWatch.

use tracing_subscriber::EnvFilter;

/// Installs a JSON subscriber writing to stderr, filtered by `RUST_LOG`
/// (default `info`). Safe to call more than once.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        .with_ansi(false)
        .with_writer(std::io::stderr)
        .try_init();
}
