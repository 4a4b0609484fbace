//! Faults between the Lambda and DynamoDB, end to end: the real `bootstrap`
//! binary, polling a local Lambda Runtime API, with its DynamoDB traffic
//! going through a fault-injecting proxy in front of the local server
//! (`blocklist_harness::fault_proxy`): added latency, dropped connections,
//! HTTP 500s, `ProvisionedThroughputExceededException`, `ThrottlingException`
//! and truncated bodies.
//!
//! For each fault and each `FAIL_MODE`, every invocation must be answered
//! (count in = count out), within `LOOKUP_TIMEOUT_MS` plus a small margin,
//! with the `FAIL_MODE` decision and the right `lookupStatus`; then, with the
//! fault lifted, the same process must answer `ok` again.
//!
//! The faults are made by the proxy, not the server, so they need no
//! server-specific feature: dynalite only (CreateTable/PutItem/GetItem).
//!
//! `FAULTS_BOOTSTRAP=PATH` runs another build of the function (a release
//! build, say) instead of the test build of `bootstrap`.

mod common;

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use blocklist_harness::connect_event::connect_event;
use blocklist_harness::fault_proxy::{Fault, FaultProxy};
use blocklist_harness::runtime_api::{Counts, Function, Invocation, RuntimeApi};
use common::{Server, assert_flat, local_aws_env, new_table, put_raw, put_rule, rules_table_for};
use serde_json::Value;
use tokio::task::JoinSet;

/// Small, so a suite of timeouts stays fast; still far above a healthy
/// local GetItem (a few ms).
const LOOKUP_TIMEOUT: Duration = Duration::from_millis(400);

/// What an answer may take beyond `LOOKUP_TIMEOUT`, hand-out to answer. The
/// deadline bounds the DynamoDB wait only; around it the function parses the
/// event, normalizes the number, logs, writes its metrics line (the hit count
/// of a blocked call is written by the same deadline, or cancelled) and posts
/// the answer over loopback, all in an unoptimized test build, while other
/// tests' processes share the machine. 250 ms covers that with room, yet is
/// well under one `LOOKUP_TIMEOUT`: a second wait after the deadline (a retry
/// or a rules reload not bounded by it) would overshoot and fail. This checks
/// that the deadline holds, not how fast the function is.
const MARGIN: Duration = Duration::from_millis(250);

/// A latency that is well past the deadline.
const LONG_LATENCY: Duration = Duration::from_millis(1200);
/// A latency that is well within it.
const SHORT_LATENCY: Duration = Duration::from_millis(100);

/// How long an invocation may take beyond its share of a round (queueing
/// behind the others, each allowed its deadline plus margin) before the
/// test fails as hung rather than hanging the suite.
const INVOKE_LIMIT: Duration = Duration::from_secs(5);

/// The most HTTP attempts one lookup makes (`aws::dynamodb_client`).
const MAX_ATTEMPTS: u64 = 3;

/// Listed in the blocklist table: blocked on an `ok` lookup.
const BLOCKED: &str = "+14155550123";
/// Listed nowhere.
const UNKNOWN: &str = "+14155550199";
/// Under the prefix rule `+1900`, which is held in memory.
const PREFIXED: &str = "+19005550123";
/// An allow entry, held in memory: decides without a read.
const ALLOWED: &str = "+14155550100";

const NUMBERS: [&str; 4] = [BLOCKED, UNKNOWN, PREFIXED, ALLOWED];

/// Each fault round sends every number this many times (12 invocations).
const ROUNDS: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FailMode {
    Open,
    Closed,
}

impl FailMode {
    fn as_str(self) -> &'static str {
        match self {
            FailMode::Open => "open",
            FailMode::Closed => "closed",
        }
    }
}

/// `(isBlocked, matchType, lookupStatus)` for `number` when the exact
/// lookup ends with `status` (`ok`, `error` or `timeout`).
fn expected(
    number: &str,
    mode: FailMode,
    status: &'static str,
) -> (&'static str, &'static str, &'static str) {
    match (number, status) {
        // An allow entry is checked first, in memory: no read, no failure.
        (ALLOWED, _) => ("false", "allow", "skipped"),
        // A prefix rule in memory still blocks while the table is failing
        // (precedence: exact > prefix > FAIL_MODE); the status still tells
        // that the exact lookup failed.
        (PREFIXED, _) => ("true", "prefix", status),
        (BLOCKED, "ok") => ("true", "exact", "ok"),
        (UNKNOWN, "ok") => ("false", "none", "ok"),
        // A failed lookup cannot tell a listed caller from an unlisted one:
        // FAIL_MODE decides for both (so `open` lets a listed caller through).
        (_, _) => match mode {
            FailMode::Closed => ("true", "failClosed", status),
            FailMode::Open => ("false", "none", status),
        },
    }
}

/// A blocklist table (and rules table) with the numbers above: one exact
/// entry, one published prefix rule and one published allow entry.
async fn seeded_table() -> String {
    let (client, table) = new_table(Server::Dynalite).await;
    put_raw(
        &client,
        &table,
        &[
            ("phoneNumber", BLOCKED),
            ("reason", "robocaller"),
            ("createdAt", "2026-11-01T10:00:00Z"),
        ],
    )
    .await;
    put_rule(&client, &table, "prefix", "+1900", &[("reason", "premium")]).await;
    put_rule(&client, &table, "allow", ALLOWED, &[("reason", "our line")]).await;
    table
}

/// One function process under a runtime API, its DynamoDB traffic through
/// its own proxy.
struct Rig {
    mode: FailMode,
    /// Its `LOOKUP_TIMEOUT_MS`.
    lookup_timeout: Duration,
    table: String,
    api: Arc<RuntimeApi>,
    proxy: FaultProxy,
    log: PathBuf,
    function: Function,
}

impl Rig {
    /// Starts `bootstrap` for `table` in `mode` (with `env` added) and waits
    /// for a healthy first answer, so init (the rules load) is done before
    /// any fault is switched on.
    async fn start(table: &str, mode: FailMode, env: &[(&str, &str)]) -> Rig {
        let rig = Rig::spawn(table, mode, LOOKUP_TIMEOUT, env, Fault::None).await;
        let warm = rig.round(&[UNKNOWN]).await;
        rig.check(&warm, "ok");
        rig
    }

    /// Starts `bootstrap` with `fault` already in force.
    async fn spawn(
        table: &str,
        mode: FailMode,
        lookup_timeout: Duration,
        env: &[(&str, &str)],
        fault: Fault,
    ) -> Rig {
        let proxy = FaultProxy::start(&Server::Dynalite.endpoint())
            .await
            .expect("proxy starts");
        proxy.set_fault(fault);
        let api = Arc::new(RuntimeApi::start().await.expect("runtime API starts"));
        let log = std::env::temp_dir().join(format!("faults-{table}-{}.log", mode.as_str()));
        let stderr = std::fs::File::create(&log).expect("log file");
        let binary = std::env::var_os("FAULTS_BOOTSTRAP")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_bootstrap")));
        let mut command = Function::command(&binary, &api);
        let rules_table = rules_table_for(table);
        let timeout_ms = lookup_timeout.as_millis().to_string();
        local_aws_env(&mut command, &proxy.endpoint())
            .env("TABLE_NAME", table)
            .env("RULES_TABLE_NAME", &rules_table)
            .env("FAIL_MODE", mode.as_str())
            .env("LOOKUP_TIMEOUT_MS", &timeout_ms)
            .env("LOG_PHONE_NUMBERS", "full")
            .envs(env.iter().copied())
            .stderr(Stdio::from(stderr));
        let function = Function::start(&mut command).expect("bootstrap starts");
        Rig {
            mode,
            lookup_timeout,
            table: table.to_owned(),
            api,
            proxy,
            log,
            function,
        }
    }

    /// The function's log so far, for failure messages.
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// Invokes the function once per number, all queued at once, and
    /// checks none is lost: every invoke returns, and the API handed out
    /// and got an answer for each.
    async fn round(&self, numbers: &[&'static str]) -> Vec<(&'static str, Invocation)> {
        let before = self.api.counts();
        let limit = INVOKE_LIMIT + (self.lookup_timeout + MARGIN) * numbers.len() as u32;
        let mut calls = JoinSet::new();
        for (i, &number) in numbers.iter().enumerate() {
            let api = self.api.clone();
            calls.spawn(async move {
                let answer =
                    tokio::time::timeout(limit, api.invoke(connect_event(Some(number)))).await;
                (i, number, answer)
            });
        }
        let mut answers = Vec::new();
        while let Some(joined) = calls.join_next().await {
            let (i, number, answer) = joined.expect("invoke task");
            match answer {
                Ok(Ok(invocation)) => answers.push((i, number, invocation)),
                Ok(Err(lost)) => panic!("{number}: {lost}\n{}", self.log_tail()),
                Err(_) => panic!(
                    "{number}: no answer within {limit:?} ({:?} mode)\n{}",
                    self.mode,
                    self.log_tail()
                ),
            }
        }
        answers.sort_by_key(|(i, _, _)| *i);
        let after = self.api.counts();
        let n = numbers.len() as u64;
        assert_eq!(
            delta(before, after),
            Counts {
                queued: n,
                handed_out: n,
                answered: n,
                errored: 0,
                init_errors: 0,
            },
            "count in = count out"
        );
        answers
            .into_iter()
            .map(|(_, number, invocation)| (number, invocation))
            .collect()
    }

    /// Checks each answer: a flat map of strings, the decision and status
    /// expected when the exact lookup ends with `status`, and within the
    /// deadline plus margin. Returns the slowest answer's latency.
    fn check(&self, answers: &[(&'static str, Invocation)], status: &'static str) -> Duration {
        let mut slowest = Duration::ZERO;
        for (number, invocation) in answers {
            let Some(Value::Object(answer)) = invocation.response() else {
                panic!(
                    "{number}: not an answer map: {:?}\n{}",
                    invocation.outcome,
                    self.log_tail()
                );
            };
            assert_flat(answer);
            let got = (
                answer["isBlocked"].as_str().unwrap_or(""),
                answer["matchType"].as_str().unwrap_or(""),
                answer["lookupStatus"].as_str().unwrap_or(""),
            );
            assert_eq!(
                got,
                expected(number, self.mode, status),
                "{number} in {:?} mode: {answer:?}\n{}",
                self.mode,
                self.log_tail()
            );
            let latency = invocation.latency();
            assert!(
                latency <= self.lookup_timeout + MARGIN,
                "{number} in {:?} mode answered in {latency:?}, past {:?} + {MARGIN:?}\n{}",
                self.mode,
                self.lookup_timeout,
                self.log_tail()
            );
            slowest = slowest.max(latency);
        }
        slowest
    }

    /// Under `fault`: every number [`ROUNDS`] times, each answer checked
    /// against `status`; then the fault lifted and every number answered
    /// `ok` by the same process. Returns the slowest answer under the fault.
    async fn fault_round(&self, fault: Fault, status: &'static str) -> Duration {
        self.proxy.set_fault(fault);
        let reads_before = self.proxy.requests_on("GetItem", &self.table);
        let numbers: Vec<&'static str> = (0..ROUNDS).flat_map(|_| NUMBERS).collect();
        let answers = self.round(&numbers).await;
        let slowest = self.check(&answers, status);
        let lookups = numbers.iter().filter(|n| **n != ALLOWED).count() as u64;
        let reads = self.proxy.requests_on("GetItem", &self.table) - reads_before;

        for (number, invocation) in &answers {
            if *number == ALLOWED {
                continue;
            }
            let latency = invocation.latency();
            match fault {
                // The lookup waited for the deadline, no less: `timeout`
                // is not given early.
                Fault::Latency(d) if d > self.lookup_timeout => assert!(
                    latency >= self.lookup_timeout,
                    "{number}: timed out after only {latency:?}"
                ),
                // The delay was really added, and waited out.
                Fault::Latency(d) => assert!(latency >= d, "{number}: {latency:?} < {d:?}"),
                _ => {}
            }
        }
        match fault {
            // One attempt per lookup: a slow answer is not retried, and a
            // hung attempt times out with the deadline, leaving no room.
            Fault::Latency(_) => assert_eq!(reads, lookups, "one GetItem per lookup"),
            Fault::None => {}
            // Retried, but never past the attempt limit. (The SDK's retry
            // quota, 500 tokens at 5-14 a retry, covers this round's 18.)
            _ => assert!(
                reads > lookups && reads <= MAX_ATTEMPTS * lookups,
                "{fault}: {reads} GetItems for {lookups} lookups: retries expected, at most {MAX_ATTEMPTS} each"
            ),
        }

        self.proxy.set_fault(Fault::None);
        let recovered = self.round(&NUMBERS).await;
        self.check(&recovered, "ok");
        eprintln!(
            "{fault:>40} | FAIL_MODE={:<6} | {} answers, slowest {:>4} ms (deadline {} ms + margin {} ms) | {reads} GetItems for {lookups} lookups",
            self.mode.as_str(),
            answers.len(),
            slowest.as_millis(),
            self.lookup_timeout.as_millis(),
            MARGIN.as_millis(),
        );
        slowest
    }
}

impl Drop for Rig {
    /// Keeps the function's log only when the test failed.
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("function log: {}", self.log.display());
        } else {
            let _ = std::fs::remove_file(&self.log);
        }
    }
}

fn delta(before: Counts, after: Counts) -> Counts {
    Counts {
        queued: after.queued - before.queued,
        handed_out: after.handed_out - before.handed_out,
        answered: after.answered - before.answered,
        errored: after.errored - before.errored,
        init_errors: after.init_errors - before.init_errors,
    }
}

/// Runs `fault` against a fresh table in both FAIL_MODEs side by side.
async fn both_modes(fault: Fault, status: &'static str) {
    let table = seeded_table().await;
    let (open, closed) = tokio::join!(
        Rig::start(&table, FailMode::Open, &[]),
        Rig::start(&table, FailMode::Closed, &[])
    );
    tokio::join!(
        open.fault_round(fault, status),
        closed.fault_round(fault, status)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_within_the_deadline_answers_ok() {
    both_modes(Fault::Latency(SHORT_LATENCY), "ok").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_past_the_deadline_answers_timeout_by_the_deadline() {
    both_modes(Fault::Latency(LONG_LATENCY), "timeout").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_connections_answer_error() {
    both_modes(Fault::DropConnection, "error").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_500s_answer_error() {
    both_modes(Fault::Http500, "error").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provisioned_throughput_exceeded_answers_error() {
    both_modes(Fault::ProvisionedThroughputExceeded, "error").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_answers_error() {
    both_modes(Fault::Throttling, "error").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_bodies_answer_error() {
    both_modes(Fault::TruncatedBody, "error").await;
}

/// A rules reload that falls due while DynamoDB hangs runs beside the
/// lookup and ends by the same deadline; the rules in memory are kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rules_reload_due_during_an_outage_ends_by_the_deadline() {
    let table = seeded_table().await;
    let rig = Rig::start(&table, FailMode::Closed, &[("RULES_REFRESH_SECONDS", "1")]).await;
    let rules_table = rules_table_for(&table);
    rig.proxy.set_fault(Fault::Latency(LONG_LATENCY));
    // Past the refresh interval: the next call reloads.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let rule_reads = rig.proxy.requests_on("GetItem", &rules_table);
    let started = Instant::now();
    let answers = rig.round(&[PREFIXED, UNKNOWN]).await;
    let slowest = rig.check(&answers, "timeout");
    assert!(
        rig.proxy.requests_on("GetItem", &rules_table) > rule_reads,
        "the rules were reloaded during the outage"
    );
    eprintln!(
        "rules reload during {} | slowest {} ms, both answers in {} ms",
        Fault::Latency(LONG_LATENCY),
        slowest.as_millis(),
        started.elapsed().as_millis()
    );
    rig.proxy.set_fault(Fault::None);
    let recovered = rig.round(&NUMBERS).await;
    rig.check(&recovered, "ok");
}

/// Started while DynamoDB hangs: init's rules load gives up by the deadline
/// instead of holding the function back, calls are answered by `FAIL_MODE`
/// meanwhile, and once DynamoDB is back the rules load on a later call (after
/// the failed load's back-off) and answers are `ok` again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fault_during_init_does_not_hold_up_the_function() {
    let table = seeded_table().await;
    let hang = Duration::from_secs(5);
    let rig = Rig::spawn(
        &table,
        FailMode::Closed,
        LOOKUP_TIMEOUT,
        &[],
        Fault::Latency(hang),
    )
    .await;
    let answers = rig.round(&[UNKNOWN, BLOCKED]).await;
    rig.check(&answers, "timeout");
    let init = rig
        .api
        .first_poll()
        .expect("the function polled")
        .duration_since(rig.function.started());
    // The rules load gives up at LOOKUP_TIMEOUT; the rest of init (phone
    // metadata, the SDK client) takes well under 2 s even in a debug build.
    assert!(
        init < LOOKUP_TIMEOUT + Duration::from_secs(2),
        "init took {init:?}: it waited for DynamoDB\n{}",
        rig.log_tail()
    );

    rig.proxy.set_fault(Fault::None);
    let lifted = Instant::now();
    // Without rules in memory (they could hold an allow entry) a healthy
    // lookup still leaves the decision to FAIL_MODE, with `error`, until
    // the rules load; the retry waits out `checker::RULES_RETRY_AFTER` (5 s).
    let recovered = loop {
        let answers = rig.round(&[UNKNOWN]).await;
        let answer = answers[0].1.response().cloned().unwrap_or_default();
        if answer["lookupStatus"] == "ok" {
            break lifted.elapsed();
        }
        rig.check(&answers, "error");
        assert!(
            lifted.elapsed() < Duration::from_secs(8),
            "no recovery: {answer}\n{}",
            rig.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let answers = rig.round(&NUMBERS).await;
    rig.check(&answers, "ok");
    eprintln!(
        "init under latency {} ms: first poll after {} ms; ok {} ms after the fault was lifted",
        hang.as_millis(),
        init.as_millis(),
        recovered.as_millis()
    );
}

/// A hang that goes on: every lookup still ends by the deadline and says
/// `timeout`, also once the SDK's retry quota is spent. (It used to say
/// `error` from then on: the SDK's own attempt timeout, also
/// `LOOKUP_TIMEOUT_MS`, fired in the same timer tick as the deadline and,
/// with no retry left to wait for, won the race.) A short deadline keeps
/// the ~100 hung lookups it takes to spend the quota fast.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sustained_hang_answers_timeout_after_the_retry_quota_is_spent() {
    let table = seeded_table().await;
    let lookup_timeout = Duration::from_millis(60);
    let rig = Rig::spawn(&table, FailMode::Closed, lookup_timeout, &[], Fault::None).await;
    // A healthy answer first: init (and its rules load, which a loaded
    // machine may not fit in 60 ms; then it is retried after 5 s) is done.
    let started = Instant::now();
    loop {
        let answers = rig.round(&[UNKNOWN]).await;
        let answer = answers[0].1.response().cloned().unwrap_or_default();
        if answer["lookupStatus"] == "ok" {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(12),
            "never healthy: {answer}\n{}",
            rig.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    rig.proxy.set_fault(Fault::Latency(LONG_LATENCY));
    let hung = [UNKNOWN; 120];
    let answers = rig.round(&hung).await;
    let slowest = rig.check(&answers, "timeout");
    eprintln!(
        "sustained latency {} ms | {} answers, slowest {} ms (deadline {} ms + margin {} ms)",
        LONG_LATENCY.as_millis(),
        answers.len(),
        slowest.as_millis(),
        lookup_timeout.as_millis(),
        MARGIN.as_millis()
    );
    rig.proxy.set_fault(Fault::None);
    let recovered = rig.round(&NUMBERS).await;
    rig.check(&recovered, "ok");
}
