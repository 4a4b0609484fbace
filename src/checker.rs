//! The handler: one Connect event in, one answer out, within a deadline.
//!
//! Prefix rules and allow entries are held in memory and reloaded when older
//! than `RULES_REFRESH_SECONDS`, so a change reaches every container within
//! that bound; the only read per call is the exact-entry GetItem.
//!
//! No I/O outlives its invocation: Lambda freezes the sandbox once the
//! answer is sent, so work left running then is lost, or resumed at a later
//! thaw (an SDK retry then counts a hit twice). Everything a call starts
//! ends by its deadline, or is cancelled.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::answer::{Answer, MatchType};
use crate::config::{Config, LogNumbers};
use crate::decision::{Facts, Lookup, LookupFailure, Policy, decide};
use crate::entry::{Entry, Kind, Mode};
use crate::event::CallToCheck;
use crate::logging::capped;
use crate::metrics::{EventMetric, MetricsSink};
use crate::phone::{CallerId, E164, Normalizer, digits_key};
use crate::rules::RuleSet;
use crate::store::BlocklistStore;
use crate::when::{now_epoch, rfc3339};

/// After a failed rules load, the next attempt waits at least this long
/// (or the refresh interval, if shorter), so a failing table is not hit on
/// every call.
const RULES_RETRY_AFTER: Duration = Duration::from_secs(5);

/// The answer and what led to it.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    pub answer: Answer,
    /// What the caller ID was read as.
    pub caller: CallerId,
    /// The stored exact entry, active or not, when the lookup found one.
    pub entry: Option<Entry>,
    /// How long the exact lookup took; zero when skipped.
    pub lookup_latency: Duration,
    /// When the call's wait on DynamoDB ends: `LOOKUP_TIMEOUT_MS` after it
    /// started. The hit count is written by then too, or not at all.
    pub deadline: Instant,
}

/// The rules in memory and when they were loaded.
#[derive(Debug, Default)]
struct RulesState {
    /// The last set loaded successfully.
    rules: Option<Arc<RuleSet>>,
    loaded_at: Option<Instant>,
    /// When the last attempt failed.
    failed_at: Option<Instant>,
}

/// How long [`Checker::warm_up`] spent on each part.
#[derive(Debug, Clone, Copy)]
pub struct WarmUp {
    /// Loading libphonenumber's metadata (the first parse).
    pub phone_metadata: Duration,
    /// Loading the published rules, failed or not.
    pub rules: Duration,
    /// Whether the rules were loaded; without them, callers that a rule
    /// could match are decided as failed lookups until a reload succeeds.
    pub rules_loaded: bool,
}

/// Checks callers against a store with a fixed policy and deadline.
#[derive(Debug)]
pub struct Checker<S> {
    store: S,
    normalizer: Normalizer,
    policy: Policy,
    lookup_timeout: Duration,
    rules_refresh: Duration,
    log_numbers: LogNumbers,
    rules: Mutex<RulesState>,
    /// A reload is under way (another call's); others use the cached rules.
    reloading: AtomicBool,
    record_hits: bool,
    metrics: Option<MetricsSink>,
}

impl<S: BlocklistStore> Checker<S> {
    /// A checker over `store` configured by `config`.
    pub fn new(store: S, config: &Config) -> Self {
        Checker {
            store,
            normalizer: Normalizer::new(config.default_country),
            policy: config.policy.clone(),
            lookup_timeout: config.lookup_timeout,
            rules_refresh: config.rules_refresh,
            log_numbers: config.log_numbers,
            rules: Mutex::new(RulesState::default()),
            reloading: AtomicBool::new(false),
            record_hits: config.record_hits,
            metrics: None,
        }
    }

    /// Also writes an EMF metrics line per call to `sink`.
    pub fn with_metrics(mut self, sink: MetricsSink) -> Self {
        self.metrics = Some(sink);
        self
    }

    /// Loads phone metadata and the rules now rather than on the first call,
    /// and says how long each took.
    pub async fn warm_up(&self) -> WarmUp {
        let started = Instant::now();
        self.normalizer.warm_up();
        let metadata_done = Instant::now();
        let deadline = metadata_done + self.lookup_timeout;
        let rules = self.reload_rules(deadline).await;
        WarmUp {
            phone_metadata: metadata_done - started,
            rules: metadata_done.elapsed(),
            rules_loaded: rules.is_some(),
        }
    }

    /// Handles one Lambda invocation: any JSON in, the answer map out.
    pub async fn handle(&self, event: &Value) -> Answer {
        let call = CallToCheck::from_event(event);
        let line = self.line(call.dialled_number.as_deref());
        let checked = self
            .check(call.raw_number.as_deref(), line.as_ref(), now_epoch())
            .await;
        self.log_decision(&call, &checked);
        if let Some(metrics) = &self.metrics {
            metrics.record(
                &checked.answer,
                checked.lookup_latency.as_secs_f64() * 1000.0,
            );
        }
        if self.record_hits {
            self.record_hit(&checked, checked.deadline).await;
        }
        checked.answer
    }

    /// The dialled number as line-scoped entries name it (E.164); `None`
    /// when there is none, or it is not a valid number.
    pub fn line(&self, dialled: Option<&str>) -> Option<E164> {
        match self.normalizer.classify(dialled) {
            CallerId::Valid(number) => Some(number),
            CallerId::Invalid(_) | CallerId::Anonymous | CallerId::Missing => None,
        }
    }

    /// Checks one raw caller ID, on a call to `line`, at `now` (epoch
    /// seconds). Everything that waits on DynamoDB (the exact lookup, the
    /// rate-limit count when it is on, and, when due, the rules reload, run
    /// side by side) ends by one deadline, `LOOKUP_TIMEOUT_MS` from now.
    pub async fn check(&self, raw_number: Option<&str>, line: Option<&E164>, now: i64) -> Checked {
        let started = Instant::now();
        let deadline = started + self.lookup_timeout;
        let caller = self.normalizer.classify(raw_number);
        let rule_key = match &caller {
            CallerId::Valid(n) => Some(n.as_str().to_owned()),
            _ => raw_number.and_then(digits_key),
        };
        let number = match &caller {
            CallerId::Valid(number) => Some(number),
            _ => None,
        };
        let line = line.map(E164::as_str);
        let (cached, due) = self.cached_rules(started);
        // An allow entry decides without a read, and is never rate limited.
        let allowed = !due
            && matches!((&rule_key, &cached),
                (Some(key), Some(rules)) if rules.allow_for(key, line, now).is_some());
        let reads = async {
            if allowed {
                return (None, None);
            }
            tokio::join!(
                self.lookup(number, deadline),
                self.count_call(number, now, deadline)
            )
        };
        let rules = async {
            if due {
                self.reload_rules(deadline).await
            } else {
                cached.clone()
            }
        };
        let (rules, (lookup, calls_in_window)) = tokio::join!(rules, reads);
        let lookup_latency = if lookup.is_some() {
            started.elapsed()
        } else {
            Duration::ZERO
        };
        let facts = Facts {
            caller: &caller,
            rule_key: rule_key.as_deref(),
            line,
            rules: rules.as_deref(),
            lookup: lookup.as_ref(),
            calls_in_window,
        };
        let answer = decide(&facts, &self.policy, now);
        let entry = match lookup {
            Some(Lookup::Found(entry)) => entry.map(|e| *e),
            _ => None,
        };
        Checked {
            answer,
            caller,
            entry,
            lookup_latency,
            deadline,
        }
    }

    /// Counts the call for the rate limit, by `deadline`: the window's
    /// count, or `None` when the limit is off, there is no number, or the
    /// count failed or came late (logged and counted in `CallCountFailed`:
    /// the limit is a heuristic, and never blocks on a failure).
    async fn count_call(&self, number: Option<&E164>, now: i64, deadline: Instant) -> Option<u64> {
        let limit = self.policy.rate_limit.as_ref()?;
        let number = number?;
        let window = i64::try_from(limit.window_seconds).unwrap_or(i64::MAX);
        let start = now - now.rem_euclid(window);
        let count = self
            .store
            .count_call(number, start, start.saturating_add(window));
        match tokio::time::timeout_at(deadline.into(), count).await {
            Ok(Ok(calls)) => return Some(calls),
            Ok(Err(err)) => {
                tracing::warn!(error = %err, "the call could not be counted for the rate limit")
            }
            Err(_) => tracing::warn!(
                timeout_ms = self.lookup_timeout.as_millis() as u64,
                "the rate-limit count did not come by the call's deadline: cancelled"
            ),
        }
        self.record_event(EventMetric::CallCountFailed);
        None
    }

    /// Counts the call on the entry that blocked it, by the call's
    /// `deadline`. A write not done by then is cancelled (dropped in place:
    /// nothing is left running once the answer is sent; it may still have
    /// reached DynamoDB). A cancelled or failed write is logged and counted
    /// in the `HitCountDropped` metric, never raised.
    async fn record_hit(&self, checked: &Checked, deadline: Instant) {
        let answer = &checked.answer;
        let Some(kind) = counted_kind(checked) else {
            return;
        };
        let at = rfc3339(now_epoch());
        let write = self.store.record_hit(kind, &answer.matched_rule, &at);
        match tokio::time::timeout_at(deadline.into(), write).await {
            Ok(Ok(())) => return,
            Ok(Err(err)) => {
                tracing::warn!(error = %err, "could not record the blocked call's hit count")
            }
            Err(_) => tracing::warn!(
                timeout_ms = self.lookup_timeout.as_millis() as u64,
                "hit count not written by the call's deadline: cancelled"
            ),
        }
        self.record_event(EventMetric::HitCountDropped);
    }

    /// The exact-entry GetItem for a valid number, ended by `deadline`.
    async fn lookup(&self, number: Option<&E164>, deadline: Instant) -> Option<Lookup> {
        let number = number?;
        let lookup = match tokio::time::timeout_at(deadline.into(), self.store.get(number)).await {
            Ok(Ok(entry)) => Lookup::Found(entry.map(Box::new)),
            // The SDK's attempt timeout is LOOKUP_TIMEOUT_MS too (see
            // `entrypoint::init`) and can fire in the same timer tick as the
            // deadline; once its retry quota is spent (a sustained hang) it
            // then returns its timeout error before this deadline is polled.
            // An error that comes at or after the deadline is a timeout.
            Ok(Err(err)) if Instant::now() >= deadline => {
                tracing::warn!(
                    error = %err,
                    timeout_ms = self.lookup_timeout.as_millis() as u64,
                    "blocklist lookup timed out"
                );
                Lookup::Failed(LookupFailure::Timeout)
            }
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
        Some(lookup)
    }

    /// The rules in memory, and whether a reload is due at `now`: they are
    /// older than the refresh interval (or were never loaded), no other call
    /// is reloading them, and the last failed attempt is not too recent.
    fn cached_rules(&self, now: Instant) -> (Option<Arc<RuleSet>>, bool) {
        let state = self
            .rules
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let fresh = state
            .loaded_at
            .is_some_and(|t| now.duration_since(t) < self.rules_refresh);
        let retry_wait = RULES_RETRY_AFTER.min(self.rules_refresh);
        let backing_off = state
            .failed_at
            .is_some_and(|t| now.duration_since(t) < retry_wait);
        let due = !fresh && !backing_off && !self.reloading.load(Ordering::Acquire);
        (state.rules.clone(), due)
    }

    /// Reloads the rules, ended by `deadline`. On failure the last good set
    /// is kept (and returned); with none, `None`.
    async fn reload_rules(&self, deadline: Instant) -> Option<Arc<RuleSet>> {
        if self.reloading.swap(true, Ordering::AcqRel) {
            return self.cached_rules(Instant::now()).0;
        }
        let started = Instant::now();
        let loaded = tokio::time::timeout_at(deadline.into(), self.store.load_rules()).await;
        let mut state = self
            .rules
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match loaded {
            Ok(Ok(rules)) => {
                let (prefixes, allows, allow_prefixes) = rules.counts();
                tracing::info!(
                    prefixes,
                    allows,
                    allow_prefixes,
                    load_ms = started.elapsed().as_secs_f64() * 1000.0,
                    "rules loaded"
                );
                state.rules = Some(Arc::new(rules));
                state.loaded_at = Some(started);
                state.failed_at = None;
            }
            Ok(Err(err)) => {
                tracing::warn!(error = %err, kept_previous = state.rules.is_some(), "rules load failed");
                state.failed_at = Some(started);
                self.record_event(EventMetric::RulesLoadFailed);
            }
            Err(_) => {
                tracing::warn!(
                    kept_previous = state.rules.is_some(),
                    "rules load timed out"
                );
                state.failed_at = Some(started);
                self.record_event(EventMetric::RulesLoadFailed);
            }
        }
        self.reloading.store(false, Ordering::Release);
        state.rules.clone()
    }

    /// Counts `event` in its metric, when metrics are on.
    fn record_event(&self, event: EventMetric) {
        if let Some(metrics) = &self.metrics {
            metrics.record_event(event);
        }
    }

    fn log_decision(&self, call: &CallToCheck, checked: &Checked) {
        let answer = &checked.answer;
        let number = self.log_numbers.show(&answer.phone_number);
        let rule = self.log_numbers.show(&answer.matched_rule);
        tracing::info!(
            contact_id = %capped(call.contact_id.as_deref().unwrap_or("")),
            channel = %capped(call.channel.as_deref().unwrap_or("")),
            number_source = call.source.as_str(),
            phone_number = %number,
            is_blocked = answer.is_blocked,
            caller_id_status = answer.caller_id_status.as_str(),
            match_type = answer.match_type.as_str(),
            matched_rule = %rule,
            block_action = answer.block_action.as_str(),
            lookup_status = answer.lookup_status.as_str(),
            lookup_ms = checked.lookup_latency.as_secs_f64() * 1000.0,
            "decision"
        );
    }
}

/// The kind of entry a call decided by `match_type` is counted on: the
/// entry that blocked it. Policies, failures and allows count on none.
fn counted_kind(checked: &Checked) -> Option<Kind> {
    let answer = &checked.answer;
    match answer.match_type {
        MatchType::Exact => Some(Kind::Block),
        MatchType::Prefix => Some(Kind::Prefix),
        // A monitoring entry counts the calls it would have blocked: the
        // exact entry when it is the one that matched, else the prefix.
        MatchType::Monitor => Some(match &checked.entry {
            Some(e) if e.value == answer.matched_rule && e.mode == Mode::Monitor => Kind::Block,
            _ => Kind::Prefix,
        }),
        MatchType::Allow
        | MatchType::Anonymous
        | MatchType::Invalid
        | MatchType::FailClosed
        | MatchType::RateLimited
        | MatchType::None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::{Admin, EntryFields};
    use crate::answer::LookupStatus;
    use crate::phone::Normalizer;
    use crate::store::memory::{Fault, Faults, MemoryStore};

    const BLOCKED: &str = "+14155550123";
    const VIP: &str = "+14155550100";

    fn config(vars: &[(&str, &str)]) -> Config {
        Config::from_lookup(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
        .unwrap()
    }

    /// A store with one exact block, a prefix rule and an allow entry, all
    /// written (and the rules published) through the admin operations.
    async fn seeded() -> MemoryStore {
        let store = MemoryStore::new();
        let admin = Admin::with_store(store.clone(), "tests", Normalizer::default());
        for (kind, value) in [
            (Kind::Block, BLOCKED),
            (Kind::Prefix, "+1900"),
            (Kind::Allow, VIP),
        ] {
            let target = admin.target(kind, value).unwrap();
            let fields = EntryFields {
                reason: Some(format!("{kind} rule")),
                ..EntryFields::default()
            };
            admin.add(&target, fields, false).await.unwrap();
        }
        store
    }

    fn lookups(fault: Fault) -> Faults {
        Faults {
            lookups_ending: vec![(String::new(), fault)],
            ..Faults::default()
        }
    }

    #[tokio::test]
    async fn blocks_what_the_admin_wrote_and_counts_the_hit() {
        let store = seeded().await;
        let checker = Checker::new(store.clone(), &config(&[]));
        let event = blocklist_harness::connect_event::connect_event(Some("(415) 555-0123"));
        let answer = checker.handle(&event).await;
        assert!(answer.is_blocked);
        assert_eq!(
            (answer.match_type, answer.matched_rule.as_str()),
            (MatchType::Exact, BLOCKED)
        );
        assert_eq!(answer.blocked_reason, "block rule");
        // Written before the answer, not after it.
        let entry = store
            .entries()
            .into_iter()
            .find(|e| e.value == BLOCKED)
            .unwrap();
        assert_eq!(entry.block_count, Some(1));

        let prefix = checker
            .check(Some("+1 900 555 0100"), None, now_epoch())
            .await;
        assert_eq!(
            (
                prefix.answer.match_type,
                prefix.answer.matched_rule.as_str()
            ),
            (MatchType::Prefix, "+1900")
        );
        let free = checker.check(Some("+14155550999"), None, now_epoch()).await;
        assert!(!free.answer.is_blocked);
        assert_eq!(free.answer.lookup_status, LookupStatus::Ok);
    }

    #[tokio::test]
    async fn an_allow_entry_decides_without_a_read() {
        let store = seeded().await;
        let checker = Checker::new(store.clone(), &config(&[("FAIL_MODE", "closed")]));
        checker.warm_up().await;
        store.set_faults(lookups(Fault::Fail));
        let vip = checker.check(Some(VIP), None, now_epoch()).await;
        assert_eq!(vip.answer.match_type, MatchType::Allow);
        assert_eq!(vip.answer.lookup_status, LookupStatus::Skipped);
        assert_eq!(vip.lookup_latency, Duration::ZERO);
        let other = checker.check(Some("+14155550999"), None, now_epoch()).await;
        assert_eq!(other.answer.match_type, MatchType::FailClosed);
        assert_eq!(other.answer.lookup_status, LookupStatus::Error);
    }

    // Real time, not a paused clock: the deadline is a std Instant, which a
    // paused tokio clock does not follow.
    #[tokio::test]
    async fn a_hanging_lookup_ends_at_the_deadline() {
        let store = seeded().await;
        let checker = Checker::new(store.clone(), &config(&[("LOOKUP_TIMEOUT_MS", "50")]));
        checker.warm_up().await;
        store.set_faults(lookups(Fault::Hang));
        let started = Instant::now();
        let checked = checker.check(Some("+14155550999"), None, now_epoch()).await;
        assert!(started.elapsed() >= Duration::from_millis(50));
        assert_eq!(checked.answer.lookup_status, LookupStatus::Timeout);
        assert!(
            !checked.answer.is_blocked,
            "FAIL_MODE=open lets the call through"
        );
    }

    #[tokio::test]
    async fn a_failed_rules_reload_keeps_the_last_rules() {
        let store = seeded().await;
        let checker = Checker::new(store.clone(), &config(&[("RULES_REFRESH_SECONDS", "1")]));
        checker.warm_up().await;
        store.set_faults(Faults {
            rules: Fault::Fail,
            ..Faults::default()
        });
        // The refresh interval passes (real time: the checker's clock is std's).
        tokio::time::sleep(Duration::from_millis(1_100)).await;
        let checked = checker.check(Some("+19005550100"), None, now_epoch()).await;
        assert_eq!(store.rules_loads(), 2, "the reload was tried, and failed");
        assert_eq!(checked.answer.match_type, MatchType::Prefix);
        assert_eq!(checked.answer.lookup_status, LookupStatus::Ok);
    }

    #[tokio::test]
    async fn with_no_rules_ever_loaded_the_lookup_counts_as_failed() {
        let store = seeded().await;
        store.set_faults(Faults {
            rules: Fault::Fail,
            ..Faults::default()
        });
        let checker = Checker::new(store, &config(&[("FAIL_MODE", "closed")]));
        let checked = checker.check(Some("+14155550999"), None, now_epoch()).await;
        assert_eq!(checked.answer.match_type, MatchType::FailClosed);
        assert_eq!(checked.answer.lookup_status, LookupStatus::Error);
    }

    /// Adds entries through the admin, as `blocklist add` would.
    async fn add(store: &MemoryStore, kind: Kind, value: &str, fields: EntryFields) {
        let admin = Admin::with_store(store.clone(), "tests", Normalizer::default());
        let target = admin.target(kind, value).unwrap();
        admin.add(&target, fields, true).await.unwrap();
    }

    fn count_of(store: &MemoryStore, kind: Kind, value: &str) -> Option<u64> {
        let found = store
            .entries()
            .into_iter()
            .find(|e| e.kind == kind && e.value == value);
        found.and_then(|e| e.block_count)
    }

    #[tokio::test]
    async fn a_monitoring_entry_never_blocks_and_counts_what_it_would_block() {
        let store = seeded().await;
        let watch = EntryFields {
            mode: Mode::Monitor,
            ..EntryFields::default()
        };
        add(&store, Kind::Block, "+14155550777", watch.clone()).await;
        add(&store, Kind::Prefix, "+1555", watch.clone()).await;
        add(&store, Kind::Prefix, "+1900555", watch).await;
        let checker = Checker::new(store.clone(), &config(&[]));
        for (caller, kind, rule) in [
            ("+14155550777", Kind::Block, "+14155550777"),
            ("+15555550123", Kind::Prefix, "+1555"),
        ] {
            let event = blocklist_harness::connect_event::connect_event(Some(caller));
            let answer = checker.handle(&event).await;
            assert!(!answer.is_blocked, "{caller}");
            assert_eq!(
                (answer.match_type, answer.matched_rule.as_str()),
                (MatchType::Monitor, rule)
            );
            assert_eq!(count_of(&store, kind, rule), Some(1), "{caller}");
        }
        // A blocking prefix (+1900) still blocks under a longer monitoring one.
        let event = blocklist_harness::connect_event::connect_event(Some("+19005550100"));
        let answer = checker.handle(&event).await;
        assert_eq!(
            (answer.match_type, answer.matched_rule.as_str()),
            (MatchType::Prefix, "+1900")
        );
        assert_eq!(count_of(&store, Kind::Prefix, "+1900555"), None);
    }

    #[tokio::test]
    async fn a_line_scoped_block_applies_only_on_its_lines() {
        let store = MemoryStore::new();
        let sales = EntryFields {
            lines: vec!["+18005550100".into()],
            ..EntryFields::default()
        };
        add(&store, Kind::Block, BLOCKED, sales).await;
        let checker = Checker::new(store, &config(&[]));
        let call_to = |line: &str| {
            blocklist_harness::connect_event::ContactFlowEvent::voice(BLOCKED)
                .dialled(line)
                .build()
        };
        assert!(checker.handle(&call_to("+1 800 555 0100")).await.is_blocked);
        let support = checker.handle(&call_to("+18005550199")).await;
        assert!(!support.is_blocked);
        assert_eq!(support.match_type, MatchType::None);
    }

    #[tokio::test]
    async fn the_call_after_the_limit_is_rate_limited_and_allows_never_are() {
        let store = seeded().await;
        let limited = [
            ("RATE_LIMIT_CALLS", "2"),
            ("RATE_LIMIT_MESSAGE", "Later, please."),
        ];
        let checker = Checker::new(store.clone(), &config(&limited));
        checker.warm_up().await;
        let now = now_epoch();
        let caller = "+14155550999";
        for _ in 0..2 {
            assert!(
                !checker
                    .check(Some(caller), None, now)
                    .await
                    .answer
                    .is_blocked
            );
        }
        let third = checker.check(Some(caller), None, now).await.answer;
        assert_eq!(third.match_type, MatchType::RateLimited);
        assert!(third.is_blocked);
        assert_eq!(
            (third.block_action.as_str(), third.block_message.as_str()),
            ("message", "Later, please.")
        );
        for _ in 0..3 {
            let vip = checker.check(Some(VIP), None, now).await.answer;
            assert_eq!(vip.match_type, MatchType::Allow);
        }
        // A failed count never blocks, whatever FAIL_MODE says.
        store.set_faults(Faults {
            counts: Fault::Fail,
            ..Faults::default()
        });
        let closed = Checker::new(store, &config(&[limited[0], ("FAIL_MODE", "closed")]));
        closed.warm_up().await;
        let answer = closed.check(Some(caller), None, now).await.answer;
        assert_eq!(
            (answer.is_blocked, answer.lookup_status),
            (false, LookupStatus::Ok)
        );
    }

    // Real time: the deadline is a std Instant (see a_hanging_lookup_ends_at_the_deadline).
    #[tokio::test]
    async fn a_count_that_never_comes_ends_at_the_deadline_and_never_blocks() {
        let store = seeded().await;
        let vars = [
            ("RATE_LIMIT_CALLS", "1"),
            ("LOOKUP_TIMEOUT_MS", "50"),
            ("FAIL_MODE", "closed"),
        ];
        let checker = Checker::new(store.clone(), &config(&vars));
        checker.warm_up().await;
        store.set_faults(Faults {
            counts: Fault::Hang,
            ..Faults::default()
        });
        let started = Instant::now();
        let checked = checker.check(Some("+14155550999"), None, now_epoch()).await;
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "ended by the deadline"
        );
        assert!(!checked.answer.is_blocked, "{:?}", checked.answer);
        assert_eq!(checked.answer.lookup_status, LookupStatus::Ok);
        let blocked = checker.check(Some(BLOCKED), None, now_epoch()).await;
        assert_eq!(
            blocked.answer.match_type,
            MatchType::Exact,
            "the lookup still decides"
        );
    }
}
