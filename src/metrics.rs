//! CloudWatch metrics as Embedded Metric Format (EMF) log lines: one JSON
//! object per call, written to stdout, which CloudWatch Logs turns into
//! metrics without any API call from the function.
//!
//! Metrics (namespace `METRICS_NAMESPACE`, default `ConnectBlocklist`):
//! `CallsChecked`, `Blocked`, `LookupErrors`, `LookupTimeouts` (Count) and
//! `LookupLatency` (Milliseconds), by `Service` and by `Service, MatchType`.

use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use crate::answer::{Answer, LookupStatus};

/// The metric names, for the template's dashboard and alarms.
pub const METRIC_NAMES: &[&str] = &[
    "CallsChecked",
    "Blocked",
    "LookupErrors",
    "LookupTimeouts",
    "LookupLatency",
];

/// The EMF document for one decision.
pub fn emf(
    namespace: &str,
    service: &str,
    answer: &Answer,
    lookup_ms: f64,
    timestamp_ms: i64,
) -> Value {
    let count = |yes: bool| u8::from(yes);
    json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": [["Service"], ["Service", "MatchType"]],
                "Metrics": [
                    {"Name": "CallsChecked", "Unit": "Count"},
                    {"Name": "Blocked", "Unit": "Count"},
                    {"Name": "LookupErrors", "Unit": "Count"},
                    {"Name": "LookupTimeouts", "Unit": "Count"},
                    {"Name": "LookupLatency", "Unit": "Milliseconds"},
                ],
            }],
        },
        "Service": service,
        "MatchType": answer.match_type.as_str(),
        "CallsChecked": 1,
        "Blocked": count(answer.is_blocked),
        "LookupErrors": count(answer.lookup_status == LookupStatus::Error),
        "LookupTimeouts": count(answer.lookup_status == LookupStatus::Timeout),
        "LookupLatency": (lookup_ms * 1000.0).round() / 1000.0,
    })
}

/// Where EMF lines go, and what they are labelled with.
#[derive(Clone)]
pub struct MetricsSink {
    namespace: String,
    service: String,
    out: Arc<Mutex<dyn Write + Send>>,
}

impl std::fmt::Debug for MetricsSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsSink")
            .field("namespace", &self.namespace)
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

impl MetricsSink {
    /// Lines to `out`, e.g. `std::io::stdout()` in Lambda.
    pub fn new(namespace: &str, service: &str, out: Arc<Mutex<dyn Write + Send>>) -> Self {
        MetricsSink {
            namespace: namespace.to_owned(),
            service: service.to_owned(),
            out,
        }
    }

    /// Writes the line for one decision; a failed write is logged, never raised.
    pub fn record(&self, answer: &Answer, lookup_ms: f64) {
        let now_ms = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
        let line = emf(
            &self.namespace,
            &self.service,
            answer,
            lookup_ms,
            now_ms as i64,
        )
        .to_string();
        let mut out = self
            .out
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Err(err) = writeln!(out, "{line}").and_then(|()| out.flush()) {
            tracing::warn!(error = %err, "could not write metrics");
        }
    }
}
