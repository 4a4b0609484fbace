//! The handler: one Connect event in, one answer out, within a deadline.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::answer::Answer;
use crate::config::{Config, LogNumbers};
use crate::decision::{Lookup, LookupFailure, Policy, decide};
use crate::entry::BlockEntry;
use crate::event::CallToCheck;
use crate::phone::{CallerId, Normalizer, mask};
use crate::store::BlocklistStore;

/// The answer and what led to it.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    pub answer: Answer,
    /// What the caller ID was read as.
    pub caller: CallerId,
    /// The stored entry, active or expired, when the lookup found one.
    pub entry: Option<BlockEntry>,
    /// How long the lookup took; zero when skipped.
    pub lookup_latency: Duration,
}

/// Checks callers against a store with a fixed policy and deadline.
#[derive(Debug, Clone)]
pub struct Checker<S> {
    store: S,
    normalizer: Normalizer,
    policy: Policy,
    lookup_timeout: Duration,
    log_numbers: LogNumbers,
}

impl<S: BlocklistStore> Checker<S> {
    /// A checker over `store` configured by `config`.
    pub fn new(store: S, config: &Config) -> Self {
        Checker {
            store,
            normalizer: Normalizer::new(config.default_country),
            policy: config.policy,
            lookup_timeout: config.lookup_timeout,
            log_numbers: config.log_numbers,
        }
    }

    /// The store this checker reads.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Loads phone metadata now rather than on the first call.
    pub fn warm_up(&self) {
        self.normalizer.warm_up();
    }

    /// Handles one Lambda invocation: any JSON in, the answer map out.
    pub async fn handle(&self, event: &Value) -> Answer {
        let call = CallToCheck::from_event(event);
        let checked = self.check(call.raw_number.as_deref(), now_epoch()).await;
        self.log_decision(&call, &checked);
        checked.answer
    }

    /// Checks one raw caller ID at `now` (epoch seconds).
    pub async fn check(&self, raw_number: Option<&str>, now: i64) -> Checked {
        let caller = self.normalizer.classify(raw_number);
        let (lookup, lookup_latency) = match &caller {
            CallerId::Valid(number) => {
                let started = Instant::now();
                let lookup =
                    match tokio::time::timeout(self.lookup_timeout, self.store.get(number)).await {
                        Ok(Ok(entry)) => Lookup::Found(entry),
                        Ok(Err(err)) => {
                            tracing::warn!(error = %err, "blocklist lookup failed");
                            Lookup::Failed(LookupFailure::Error)
                        }
                        Err(_) => {
                            tracing::warn!(
                                timeout_ms = self.lookup_timeout.as_millis() as u64,
                                "blocklist lookup timed out"
                            );
                            Lookup::Failed(LookupFailure::Timeout)
                        }
                    };
                (Some(lookup), started.elapsed())
            }
            _ => (None, Duration::ZERO),
        };
        let answer = decide(&caller, lookup.as_ref(), &self.policy, now);
        let entry = match lookup {
            Some(Lookup::Found(entry)) => entry,
            _ => None,
        };
        Checked {
            answer,
            caller,
            entry,
            lookup_latency,
        }
    }

    fn log_decision(&self, call: &CallToCheck, checked: &Checked) {
        let number = match self.log_numbers {
            LogNumbers::Masked => mask(&checked.answer.phone_number),
            LogNumbers::Full => checked.answer.phone_number.clone(),
        };
        let answer = &checked.answer;
        tracing::info!(
            contact_id = call.contact_id.as_deref().unwrap_or(""),
            channel = call.channel.as_deref().unwrap_or(""),
            number_source = call.source.as_str(),
            phone_number = %number,
            is_blocked = answer.is_blocked,
            caller_id_status = answer.caller_id_status.as_str(),
            match_type = answer.match_type.as_str(),
            lookup_status = answer.lookup_status.as_str(),
            lookup_ms = checked.lookup_latency.as_secs_f64() * 1000.0,
            "decision"
        );
    }
}

/// Seconds since the Unix epoch.
pub fn now_epoch() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
