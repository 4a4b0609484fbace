//! JSON log lines for CloudWatch.

use std::borrow::Cow;
use std::io::Write;
use std::sync::Arc;

use tracing_subscriber::EnvFilter;

/// Installs a JSON subscriber writing to stderr, filtered by `RUST_LOG`
/// (default `info`). Every line names the region the function runs in
/// (`AWS_REGION`, set by Lambda), when it is set: with global tables the
/// same function runs in two regions, each reading its own region's replica,
/// so a decision says which replica answered. Safe to call more than once.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let prefix = region_prefix(std::env::var("AWS_REGION").ok().as_deref());
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        .with_ansi(false)
        .with_writer(move || WithRegion {
            inner: std::io::stderr(),
            prefix: prefix.clone(),
        })
        .try_init();
}

/// `{"region":"<region>",`: what opens every line, or `None` without a region.
fn region_prefix(region: Option<&str>) -> Option<Arc<str>> {
    let region = region.filter(|r| !r.is_empty())?;
    let quoted = serde_json::Value::from(region).to_string();
    Some(Arc::from(format!("{{\"region\":{quoted},")))
}

/// A writer that opens each JSON line with the region field. The formatter
/// writes each event as one whole line (`write_all` of the formatted
/// buffer), so a buffer that starts with `{` is the start of a line.
struct WithRegion<W> {
    inner: W,
    prefix: Option<Arc<str>>,
}

impl<W: Write> Write for WithRegion<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match (&self.prefix, buf.split_first()) {
            (Some(prefix), Some((b'{', rest))) => {
                self.inner.write_all(prefix.as_bytes())?;
                self.inner.write_all(rest)?;
                Ok(buf.len())
            }
            _ => self.inner.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
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
    fn every_line_names_the_region() {
        let mut out = Vec::new();
        let mut writer = WithRegion {
            inner: &mut out,
            prefix: region_prefix(Some("eu-west-2")),
        };
        writer
            .write_all(b"{\"fields\":{\"message\":\"decision\"}}\n")
            .unwrap();
        let line: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(line["region"], "eu-west-2");
        assert_eq!(line["fields"]["message"], "decision");
        // No region (a local run): the line is left as it is.
        for region in [None, Some("")] {
            let mut out = Vec::new();
            let mut writer = WithRegion {
                inner: &mut out,
                prefix: region_prefix(region),
            };
            writer.write_all(b"{\"a\":1}\n").unwrap();
            assert_eq!(out, b"{\"a\":1}\n");
        }
        // A region is JSON-escaped like any text.
        assert_eq!(
            region_prefix(Some("a\"b")).as_deref(),
            Some("{\"region\":\"a\\\"b\",")
        );
    }

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
