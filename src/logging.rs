//! JSON log lines for CloudWatch.

use std::borrow::Cow;

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

/// Longest text a log field carries. Event fields (contact id, channel,
/// agent) and error texts that echo input are as long as whoever sent them
/// made them: a 1 MB contact id must not make a 1 MB log line.
pub const MAX_LOG_FIELD_CHARS: usize = 128;

/// `text` cut to [`MAX_LOG_FIELD_CHARS`] characters for a log field, saying
/// how much was left out.
pub fn capped(text: &str) -> Cow<'_, str> {
    match text.char_indices().nth(MAX_LOG_FIELD_CHARS) {
        None => Cow::Borrowed(text),
        Some((end, _)) => {
            let left_out = text[end..].chars().count();
            Cow::Owned(format!("{}…(+{left_out} chars)", &text[..end]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_fields_are_cut_saying_so() {
        assert_eq!(capped("short"), "short");
        let exact = "é".repeat(MAX_LOG_FIELD_CHARS);
        assert_eq!(capped(&exact), exact);
        let long = "x".repeat(1_000_000);
        let cut = capped(&long);
        assert!(cut.starts_with(&"x".repeat(MAX_LOG_FIELD_CHARS)));
        assert!(cut.ends_with("…(+999872 chars)"), "{cut}");
    }
}
