//! CloudWatch metrics as Embedded Metric Format (EMF) log lines: one JSON
//! object per call, written to stdout, which CloudWatch Logs turns into
//! metrics without any API call from the function.
//!
//! Metrics (namespace `METRICS_NAMESPACE`, default `ConnectBlocklist`):
//! `CallsChecked`, `Blocked`, `LookupErrors`, `LookupTimeouts` (Count) and
//! `LookupLatency` (Milliseconds), by `Service` and by `Service, MatchType`;
//! and, on a line of its own when it happens, [`HIT_COUNT_DROPPED`] by
//! `Service`.

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

/// A blocked call whose hit count was not written: the write failed, or was
/// cancelled at the call's deadline. Written only when it happens (no line
/// means none), so it is not among [`METRIC_NAMES`], the per-call metrics.
pub const HIT_COUNT_DROPPED: &str = "HitCountDropped";

/// The EMF document for one hit count not written.
pub fn hit_dropped_emf(namespace: &str, service: &str, timestamp_ms: i64) -> Value {
    json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": [["Service"]],
                "Metrics": [{"Name": HIT_COUNT_DROPPED, "Unit": "Count"}],
            }],
        },
        "Service": service,
        HIT_COUNT_DROPPED: 1,
    })
}

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

    /// Writes the line for one decision.
    pub fn record(&self, answer: &Answer, lookup_ms: f64) {
        self.write(&emf(
            &self.namespace,
            &self.service,
            answer,
            lookup_ms,
            now_ms(),
        ));
    }

    /// Writes the line for one hit count not written.
    pub fn record_hit_dropped(&self) {
        self.write(&hit_dropped_emf(&self.namespace, &self.service, now_ms()));
    }

    /// Writes one EMF line; a failed write is logged, never raised.
    fn write(&self, doc: &Value) {
        let line = doc.to_string();
        let mut out = self
            .out
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Err(err) = writeln!(out, "{line}").and_then(|()| out.flush()) {
            tracing::warn!(error = %err, "could not write metrics");
        }
    }
}

/// Now, in epoch milliseconds (EMF's `Timestamp`).
fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}
