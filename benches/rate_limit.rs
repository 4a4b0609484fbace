//! Repeat-caller rate limiting (issue 15): what it costs a warm call, and
//! whether it counts exactly when several containers take one number's calls.
//!
//! Run with `bench/rate-limit.sh` (starts dynalite, runs `blocklist init`,
//! builds the `bootstrap`). Two parts, both on the real `bootstrap`, each
//! process polling a local Lambda Runtime API of its own (as each Lambda
//! execution environment does):
//!
//! - **Cost**: one process with `RATE_LIMIT_CALLS=0` (off) and one with
//!   `RATE_LIMIT_CALLS=1000000` (on, never reached, so both take the same
//!   decision path), called alternately, call by call, from one valid number
//!   that is not blocked (the common call). Wall time per call (hand-out to
//!   answer, as the Runtime API sees it) and CPU per call (user+sys of each
//!   process from `/proc/PID/stat` over its calls), next to a bare GetItem and
//!   a bare counting UpdateItem made by this process with the same SDK.
//! - **Exactness**: `BENCH_RL_CONTAINERS` (4) processes with
//!   `RATE_LIMIT_CALLS=BENCH_RL_LIMIT` (300) take `BENCH_RL_CALLS_EACH` (250)
//!   calls each from one number, all queued at once. The counter must equal
//!   every call made, and exactly the limit must get through; the bench exits
//!   1 otherwise.
//!
//! Sizes: `BENCH_RL_ROUNDS` (20) rounds of `BENCH_RL_PER_ROUND` (500) calls
//! to each process, after `BENCH_RL_WARM_UP` (200) each. The process under
//! test is `BENCH_BOOTSTRAP`; dynalite is `DYNALITE_ENDPOINT`.

use std::error::Error;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::Credentials;
use aws_sdk_dynamodb::types::AttributeValue;
use blocklist_harness::connect_event::connect_event;
use blocklist_harness::runtime_api::{Function, Invocation, RuntimeApi};
use blocklist_harness::stats::Summary;
use connect_blocklist::admin::tables::create_table;
use connect_blocklist::aws::{ClientOptions, dynamodb_client};
use connect_blocklist::config::{Config, DEFAULT_COUNTERS_TABLE_NAME};
use connect_blocklist::phone::E164;
use connect_blocklist::store::{BlocklistStore, DynamoStore, attr};
use serde_json::Value;
use tokio::task::JoinSet;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// The caller of every measured call: valid and not on the blocklist, so
/// each call is one GetItem (plus the count when the limit is on) and the
/// answer is `matchType` `none`.
const CALLER: &str = "+14155550124";

/// The caller of the exactness part's warm-up calls, counted apart.
const WARM_UP_CALLER: &str = "+14155550125";

/// The longest window the function accepts. The run must not cross a window
/// boundary (the count would restart), and with a day it is easy to keep
/// clear of one (see [`clear_of_window_boundary`]).
const WINDOW_SECONDS: u64 = 86_400;

/// On Linux `/proc/PID/stat` counts CPU time in USER_HZ ticks, which the
/// kernel's user ABI fixes at 100 a second on every architecture.
const TICK_MS: f64 = 10.0;

/// The run's sizes, from the environment (see the module documentation).
#[derive(Debug, Clone, Copy)]
struct Sizes {
    rounds: usize,
    per_round: usize,
    warm_up: usize,
    containers: usize,
    calls_each: usize,
    limit: usize,
}

impl Sizes {
    fn from_env() -> Sizes {
        let size = |var: &str, default: usize| {
            std::env::var(var)
                .ok()
                .and_then(|v| v.parse().ok())
                .filter(|n| *n > 0)
                .unwrap_or(default)
        };
        Sizes {
            rounds: size("BENCH_RL_ROUNDS", 20),
            per_round: size("BENCH_RL_PER_ROUND", 500),
            warm_up: size("BENCH_RL_WARM_UP", 200),
            containers: size("BENCH_RL_CONTAINERS", 4),
            calls_each: size("BENCH_RL_CALLS_EACH", 250),
            limit: size("BENCH_RL_LIMIT", 300),
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run().await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("rate_limit: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Both parts; `Ok(false)` when the count was not exact.
async fn run() -> Result<bool> {
    let endpoint = std::env::var("DYNALITE_ENDPOINT")
        .map_err(|_| "DYNALITE_ENDPOINT is not set: run bench/rate-limit.sh")?;
    let bootstrap =
        PathBuf::from(std::env::var("BENCH_BOOTSTRAP").map_err(
            |_| "BENCH_BOOTSTRAP (a built bootstrap) is not set: run bench/rate-limit.sh",
        )?);
    let sizes = Sizes::from_env();
    let client: Client = dynamodb_client(&ClientOptions {
        region: Some("us-east-1".into()),
        endpoint_url: Some(endpoint.clone()),
        credentials: Some(Credentials::new("local", "local", None, None, "bench")),
        ..ClientOptions::default()
    })
    .await;
    println!("endpoint {endpoint}, bootstrap {}", bootstrap.display());
    cost(&client, &bootstrap, sizes).await?;
    exactness(&client, &bootstrap, sizes).await
}

/// One execution environment: a Runtime API and the `bootstrap` polling it.
struct Container {
    api: Arc<RuntimeApi>,
    function: Function,
}

impl Container {
    /// Starts `bootstrap` with `env` added to this process's environment
    /// (which points it at dynalite).
    async fn start(bootstrap: &Path, env: &[(&str, &str)]) -> Result<Container> {
        let api = Arc::new(RuntimeApi::start().await?);
        let mut common = vec![
            // As deployed (template.yaml leaves RUST_LOG unset): a decision
            // line per call is part of what a call costs.
            ("RUST_LOG", "info"),
            ("RATE_LIMIT_WINDOW_SECONDS", "86400"),
            // No rules reload while measuring: it would land on one side.
            ("RULES_REFRESH_SECONDS", "3600"),
        ];
        common.extend_from_slice(env);
        let function = Function::spawn(bootstrap, &api, &common)
            .map_err(|e| format!("cannot start {}: {e}", bootstrap.display()))?;
        Ok(Container { api, function })
    }

    /// Its user+sys CPU time so far, in ticks of [`TICK_MS`].
    fn cpu_ticks(&self) -> Result<u64> {
        cpu_ticks(&self.function.pid().to_string())
    }
}

/// Sends one call from `caller` to `api`; the invocation and the answer's
/// `matchType`, or why there was no proper answer.
async fn call(api: &RuntimeApi, caller: &str) -> Result<(Invocation, String)> {
    let invocation = tokio::time::timeout(
        Duration::from_secs(10),
        api.invoke(connect_event(Some(caller))),
    )
    .await
    .map_err(|_| "no answer within 10 s")??;
    let response = invocation
        .response()
        .ok_or_else(|| format!("the function reported an error: {:?}", invocation.outcome))?;
    let field = |name: &str| response.get(name).and_then(Value::as_str).unwrap_or("");
    let (blocked, match_type) = (field("isBlocked"), field("matchType").to_owned());
    let expected_blocked = if match_type == "rateLimited" {
        "true"
    } else {
        "false"
    };
    if blocked != expected_blocked || field("lookupStatus") != "ok" {
        return Err(format!("unexpected answer: {response}").into());
    }
    Ok((invocation, match_type))
}

/// A call that must be answered `matchType` `none`; its wall time in ms.
async fn plain_call(api: &RuntimeApi, caller: &str) -> Result<f64> {
    let (invocation, match_type) = call(api, caller).await?;
    if match_type != "none" {
        return Err(format!("{caller}: matchType {match_type}, expected none").into());
    }
    Ok(ms(invocation.latency()))
}

/// User+sys CPU time of process `pid` (or `self`) in ticks of [`TICK_MS`]:
/// fields 14 and 15 of `/proc/PID/stat`, counted after the `)` that ends the
/// command name (which may hold spaces). They include threads that exited.
fn cpu_ticks(pid: &str) -> Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let after_name = stat.rsplit_once(')').ok_or("unreadable /proc stat")?.1;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let field =
        |i: usize| -> Result<u64> { Ok(fields.get(i).ok_or("short /proc stat")?.parse::<u64>()?) };
    // After the name, field 3 (state) is index 0: utime (14) is 11, stime 12.
    Ok(field(11)? + field(12)?)
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// What the cost part gathered: wall times in ms, and CPU ticks per round.
#[derive(Default)]
struct CostSamples {
    off: Vec<f64>,
    on: Vec<f64>,
    get: Vec<f64>,
    update: Vec<f64>,
    off_ticks: Vec<u64>,
    on_ticks: Vec<u64>,
    get_ticks: Vec<u64>,
    update_ticks: Vec<u64>,
}

/// The bare requests this process makes for comparison, through the
/// function's own store code: the exact-entry GetItem, and the counting
/// UpdateItem on a key of its own (window start 0), so the function's
/// counter is left alone.
struct Bare {
    store: DynamoStore,
    number: E164,
}

impl Bare {
    fn new(client: &Client) -> Result<Bare> {
        let config = Config::from_lookup(|_| None)?;
        let number = E164::from_canonical(CALLER).ok_or("CALLER is not E.164")?;
        Ok(Bare {
            store: DynamoStore::for_config(client.clone(), &config),
            number,
        })
    }

    async fn get(&self) -> Result<f64> {
        let t = Instant::now();
        self.store.get(&self.number).await?;
        Ok(ms(t.elapsed()))
    }

    async fn update(&self) -> Result<f64> {
        let t = Instant::now();
        self.store
            .count_call(&self.number, 0, WINDOW_SECONDS as i64)
            .await?;
        Ok(ms(t.elapsed()))
    }
}

/// The cost part: limit off versus on, interleaved, with the bare requests.
async fn cost(client: &Client, bootstrap: &Path, sizes: Sizes) -> Result<()> {
    let off = Container::start(bootstrap, &[("RATE_LIMIT_CALLS", "0")]).await?;
    let on = Container::start(bootstrap, &[("RATE_LIMIT_CALLS", "1000000")]).await?;
    let bare = Bare::new(client)?;
    for _ in 0..sizes.warm_up {
        plain_call(&off.api, CALLER).await?;
        plain_call(&on.api, CALLER).await?;
        bare.get().await?;
        bare.update().await?;
    }
    println!(
        "rate limit cost: caller {CALLER} (valid, not blocked), RATE_LIMIT_CALLS=0 (off) vs 1000000 (on, never reached), \
         {} rounds of {} calls to each process, interleaved call by call, after {} warm-up calls each",
        sizes.rounds, sizes.per_round, sizes.warm_up
    );
    let mut samples = CostSamples::default();
    for _ in 0..sizes.rounds {
        measure_round(&off, &on, &bare, sizes.per_round, &mut samples).await?;
    }
    let counted = counted_calls(client, DEFAULT_COUNTERS_TABLE_NAME).await?;
    print_cost(&samples, sizes);
    let made = (sizes.warm_up + sizes.rounds * sizes.per_round) as u64;
    println!(
        "  the function's counter for {CALLER}: {counted} (calls made to the limit-on process: {made})"
    );
    if counted != made {
        return Err(format!("the counter says {counted}, {made} calls were made").into());
    }
    Ok(())
}

/// One round: `n` calls to each process, alternating which goes first so
/// neither always follows the other, each pair followed by a bare GetItem
/// and UpdateItem; then this process's CPU for `n` bare GetItems and `n`
/// bare UpdateItems on their own (nothing else runs in it meanwhile).
async fn measure_round(
    off: &Container,
    on: &Container,
    bare: &Bare,
    n: usize,
    samples: &mut CostSamples,
) -> Result<()> {
    let (off_before, on_before) = (off.cpu_ticks()?, on.cpu_ticks()?);
    for i in 0..n {
        if i % 2 == 0 {
            samples.off.push(plain_call(&off.api, CALLER).await?);
            samples.on.push(plain_call(&on.api, CALLER).await?);
        } else {
            samples.on.push(plain_call(&on.api, CALLER).await?);
            samples.off.push(plain_call(&off.api, CALLER).await?);
        }
        samples.get.push(bare.get().await?);
        samples.update.push(bare.update().await?);
    }
    samples.off_ticks.push(off.cpu_ticks()? - off_before);
    samples.on_ticks.push(on.cpu_ticks()? - on_before);
    let before = cpu_ticks("self")?;
    for _ in 0..n {
        bare.get().await?;
    }
    let middle = cpu_ticks("self")?;
    for _ in 0..n {
        bare.update().await?;
    }
    samples.get_ticks.push(middle - before);
    samples.update_ticks.push(cpu_ticks("self")? - middle);
    Ok(())
}

/// The calls counted for [`CALLER`] in the function's windows (not the bare
/// UpdateItem's key, window start 0), over every window the run touched.
async fn counted_calls(client: &Client, table: &str) -> Result<u64> {
    let mut total = 0;
    for item in scan_counters(client, table).await? {
        let key = match item.get(attr::COUNTER_KEY) {
            Some(AttributeValue::S(key)) => key.as_str(),
            _ => continue,
        };
        if key.starts_with(&format!("{CALLER}#")) && key != format!("{CALLER}#0") {
            total += calls_of(&item)?;
        }
    }
    Ok(total)
}

type Item = std::collections::HashMap<String, AttributeValue>;

/// Every item of a counters table (a consistent scan; these are small).
async fn scan_counters(client: &Client, table: &str) -> Result<Vec<Item>> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let page = client
            .scan()
            .table_name(table)
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await?;
        items.extend(page.items().iter().cloned());
        start = page.last_evaluated_key;
        if start.is_none() {
            return Ok(items);
        }
    }
}

/// A counter item's `calls`.
fn calls_of(item: &Item) -> Result<u64> {
    match item.get(attr::CALLS) {
        Some(AttributeValue::N(n)) => Ok(n.parse()?),
        other => Err(format!("a counter without a number of calls: {other:?}").into()),
    }
}

/// Prints the cost part's percentiles, CPU per call and the `result` lines.
fn print_cost(samples: &CostSamples, sizes: Sizes) {
    let calls = (sizes.rounds * sizes.per_round) as f64;
    println!("  wall per call (the functions: Runtime API hand-out to answer):");
    let mut p50 = Vec::new();
    for (name, values) in [
        ("limit off", &samples.off),
        ("limit on", &samples.on),
        ("bare GetItem", &samples.get),
        ("bare UpdateItem (count)", &samples.update),
    ] {
        let Some(s) = Summary::of(values) else {
            continue;
        };
        println!("    {name:<24} {s}");
        p50.push(s);
    }
    let &[off, on, get, update] = &p50[..] else {
        return;
    };
    println!(
        "  added by the limit (on minus off): p50 {:+.3} ms, p90 {:+.3} ms, p99 {:+.3} ms; a bare UpdateItem is p50 {:.3} ms",
        on.p50 - off.p50,
        on.p90 - off.p90,
        on.p99 - off.p99,
        update.p50
    );
    let per_call = |ticks: &[u64]| ticks.iter().sum::<u64>() as f64 * TICK_MS / calls;
    let (off_cpu, on_cpu) = (per_call(&samples.off_ticks), per_call(&samples.on_ticks));
    let (get_cpu, update_cpu) = (
        per_call(&samples.get_ticks),
        per_call(&samples.update_ticks),
    );
    println!("  CPU per call (user+sys from /proc/PID/stat, {calls} calls each, 10 ms ticks):");
    println!(
        "    limit off {off_cpu:.3} ms, limit on {on_cpu:.3} ms: added {:+.3} ms",
        on_cpu - off_cpu
    );
    println!(
        "    by round, added: {}",
        round_deltas(samples, sizes.per_round)
    );
    println!(
        "    this process's client side of a bare GetItem {get_cpu:.3} ms, of a bare UpdateItem {update_cpu:.3} ms"
    );
    for (key, value) in [
        ("rate_limit_off_p50_ms", off.p50),
        ("rate_limit_on_p50_ms", on.p50),
        ("rate_limit_added_p50_ms", on.p50 - off.p50),
        ("rate_limit_added_p99_ms", on.p99 - off.p99),
        ("rate_limit_bare_getitem_p50_ms", get.p50),
        ("rate_limit_bare_updateitem_p50_ms", update.p50),
        ("rate_limit_off_cpu_ms", off_cpu),
        ("rate_limit_on_cpu_ms", on_cpu),
        ("rate_limit_added_cpu_ms", on_cpu - off_cpu),
        ("rate_limit_bare_updateitem_cpu_ms", update_cpu),
    ] {
        println!("result {key}={value:.3}");
    }
}

/// The added CPU per call round by round (on minus off, ms): median, least
/// and most, to show how much a single round's figure moves.
fn round_deltas(samples: &CostSamples, per_round: usize) -> String {
    let deltas: Vec<f64> = samples
        .on_ticks
        .iter()
        .zip(&samples.off_ticks)
        .map(|(on, off)| (*on as f64 - *off as f64) * TICK_MS / per_round as f64)
        .collect();
    match Summary::of(&deltas) {
        Some(s) => format!(
            "median {:+.3} ms, min {:+.3} ms, max {:+.3} ms over {} rounds",
            s.p50, s.min, s.max, s.count
        ),
        None => "no rounds".to_owned(),
    }
}

/// The exactness part; `Ok(false)` when the count or the answers were off.
async fn exactness(client: &Client, bootstrap: &Path, sizes: Sizes) -> Result<bool> {
    let table = format!("rl-exact-{}", std::process::id());
    create_table(client, &table, &[attr::COUNTER_KEY]).await?;
    let limit = sizes.limit.to_string();
    let env = [
        ("RATE_LIMIT_CALLS", limit.as_str()),
        ("COUNTERS_TABLE_NAME", table.as_str()),
    ];
    let mut containers = Vec::new();
    for _ in 0..sizes.containers {
        let container = Container::start(bootstrap, &env).await?;
        // Ready and connected before the clock starts; counted apart.
        for _ in 0..5 {
            plain_call(&container.api, WARM_UP_CALLER).await?;
        }
        containers.push(container);
    }
    clear_of_window_boundary().await;
    let started = Instant::now();
    let tally = hammer(&containers, sizes.calls_each).await;
    let elapsed = started.elapsed();
    let items: Vec<Item> = scan_counters(client, &table)
        .await?
        .into_iter()
        .filter(|item| {
            matches!(item.get(attr::COUNTER_KEY),
                Some(AttributeValue::S(key)) if key.starts_with(&format!("{CALLER}#")))
        })
        .collect();
    let counted = items.iter().map(calls_of).sum::<Result<u64>>()?;
    Ok(print_exactness(
        &tally,
        sizes,
        elapsed,
        items.len(),
        counted,
    ))
}

/// Waits, if need be, until the current window has at least a minute left,
/// so that the hammering (seconds) stays in one window.
async fn clear_of_window_boundary() {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let left = WINDOW_SECONDS - now % WINDOW_SECONDS;
    if left < 60 {
        println!("waiting {left} s for the next rate-limit window");
        tokio::time::sleep(Duration::from_secs(left + 1)).await;
    }
}

/// How the calls of each container were answered.
#[derive(Debug, Default, Clone)]
struct Tally {
    /// Per container: answered `none` (got through).
    through: Vec<usize>,
    /// Per container: answered `rateLimited`.
    limited: Vec<usize>,
    /// Calls without a proper answer, with why (the first few).
    failed: Vec<String>,
}

/// Queues `calls_each` calls from [`CALLER`] on every container at once and
/// tallies the answers.
async fn hammer(containers: &[Container], calls_each: usize) -> Tally {
    let mut running = JoinSet::new();
    for (index, container) in containers.iter().enumerate() {
        for _ in 0..calls_each {
            let api = Arc::clone(&container.api);
            running.spawn(async move {
                let answer = call(&api, CALLER).await.map_err(|e| e.to_string());
                (index, answer.map(|(_, match_type)| match_type))
            });
        }
    }
    let mut tally = Tally {
        through: vec![0; containers.len()],
        limited: vec![0; containers.len()],
        failed: Vec::new(),
    };
    while let Some(joined) = running.join_next().await {
        match joined {
            Ok((i, Ok(match_type))) if match_type == "none" => tally.through[i] += 1,
            Ok((i, Ok(match_type))) if match_type == "rateLimited" => tally.limited[i] += 1,
            Ok((_, Ok(match_type))) => tally.failed.push(format!("matchType {match_type}")),
            Ok((_, Err(err))) => tally.failed.push(err),
            Err(err) => tally.failed.push(err.to_string()),
        }
    }
    tally
}

/// Prints the exactness part and its `result` lines; whether it was exact.
fn print_exactness(
    tally: &Tally,
    sizes: Sizes,
    elapsed: Duration,
    counters: usize,
    counted: u64,
) -> bool {
    let made = sizes.containers * sizes.calls_each;
    let through: usize = tally.through.iter().sum();
    let limited: usize = tally.limited.iter().sum();
    println!(
        "rate limit counting: {} bootstrap processes (each its own Runtime API) x {} calls from {CALLER}, all queued at once, RATE_LIMIT_CALLS={}",
        sizes.containers, sizes.calls_each, sizes.limit
    );
    println!(
        "  answered in {:.2} s: {through} got through (matchType none), {limited} rateLimited, {} failed",
        elapsed.as_secs_f64(),
        tally.failed.len()
    );
    for failure in tally.failed.iter().take(5) {
        println!("    {failure}");
    }
    println!(
        "  per process: through {:?}, rateLimited {:?}",
        tally.through, tally.limited
    );
    println!("  counter items for {CALLER}: {counters}, calls {counted} (calls made: {made})");
    let expected_through = sizes.limit.min(made);
    let exact = counters == 1
        && counted == made as u64
        && through == expected_through
        && through + limited == made;
    println!(
        "  {}",
        if exact {
            format!("exact: the counter is {made} and {expected_through} got through")
        } else {
            format!("NOT EXACT: expected one counter of {made} and {expected_through} through")
        }
    );
    println!("result rate_limit_counted_calls={counted}");
    println!("result rate_limit_made_calls={made}");
    println!("result rate_limit_containers={}", sizes.containers);
    println!("result rate_limit_through={through}");
    println!("result rate_limit_limit={}", sizes.limit);
    println!("result rate_limit_exact={}", u8::from(exact));
    exact
}
