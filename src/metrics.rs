//! CloudWatch metrics as Embedded Metric Format (EMF) log lines: one JSON
//! object per call, written to stdout, which CloudWatch Logs turns into
//! metrics without any API call from the function.
//!
//! Metrics (namespace `METRICS_NAMESPACE`, default `ConnectBlocklist`):
//! `CallsChecked`, `Blocked`, `LookupErrors`, `LookupTimeouts`, `WouldBlock`
//! (a call a monitoring entry matched; Count) and `LookupLatency`
//! (Milliseconds), by `Service` and by `Service, MatchType`;
//! and, on a line of its own when it happens, each [`EventMetric`]
//! (`HitCountDropped`, `RulesLoadFailed`) by `Service`.

use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use crate::answer::{Answer, LookupStatus, MatchType};

/// The metric names, for the template's dashboard and alarms.
pub const METRIC_NAMES: &[&str] = &[
    "CallsChecked",
    "Blocked",
    "LookupErrors",
    "LookupTimeouts",
    "LookupLatency",
    "WouldBlock",
];

/// Metrics written on a line of their own when something goes wrong (no
/// line means none happened), so not among [`METRIC_NAMES`], the per-call
/// metrics. Each is a Count by `Service`; the template alarms on each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventMetric {
    /// A blocked call whose hit count was not written: the write failed, or
    /// was cancelled at the call's deadline.
    HitCountDropped,
    /// A load of the published rules failed or timed out (at init or on a
    /// refresh): calls that rules could match are decided without fresh
    /// rules, and, with none ever loaded, as failed lookups (`FAIL_MODE`).
    RulesLoadFailed,
    /// A call the rate limit could not count (failed, or late): it was
    /// decided as if under the limit.
    CallCountFailed,
}

crate::wire_names!(EventMetric, "an event metric" {
    HitCountDropped => "HitCountDropped",
    RulesLoadFailed => "RulesLoadFailed",
    CallCountFailed => "CallCountFailed",
});

/// The EMF document for one `event`.
pub fn event_emf(namespace: &str, service: &str, event: EventMetric, timestamp_ms: i64) -> Value {
    let name = event.as_str();
    json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": [["Service"]],
                "Metrics": [{"Name": name, "Unit": "Count"}],
            }],
        },
        "Service": service,
        name: 1,
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
                    {"Name": "WouldBlock", "Unit": "Count"},
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
        "WouldBlock": count(answer.match_type == MatchType::Monitor),
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

    /// Writes the line for one `event`.
    pub fn record_event(&self, event: EventMetric) {
        self.write(&event_emf(&self.namespace, &self.service, event, now_ms()));
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
