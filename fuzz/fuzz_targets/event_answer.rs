//! Event bytes -> answer, through the real `Checker::handle`.
//!
//! Input layout: the first byte picks the configuration (see [`Settings`]),
//! the rest must be JSON, read as the Lambda runtime reads it
//! (`event::read_event`, which also reads what serde_json refuses as it is);
//! anything else is skipped, as the runtime refuses it before the handler. The event is answered twice by a
//! fresh checker over an in-memory store: once while the rules are loaded
//! (the reload path), once from the rules in memory (the cached path).
//!
//! Asserted for every answer: it serializes to a JSON object under 32 KB
//! with exactly the 11 keys, every value a string; keys and the values a
//! flow branches on match `^[A-Za-z0-9_-]*$`; `isBlocked` is `true`/`false`
//! and agrees with `blockAction`; `phoneNumber` is empty or E.164. Both
//! answers make the same decision (only `lookupStatus` may differ: an allow
//! entry in memory skips the read).

#![no_main]

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use connect_blocklist::admin::Admin;
use connect_blocklist::answer::{ANSWER_KEYS, Answer, LookupStatus};
use connect_blocklist::checker::Checker;
use connect_blocklist::config::Config;
use connect_blocklist::entry::{BlockAction, Entry, Kind, Mode, Status};
use connect_blocklist::event::read_event;
use connect_blocklist::metrics::MetricsSink;
use connect_blocklist::phone::Normalizer;
use connect_blocklist::store::memory::{Fault, Faults, MemoryStore};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// Amazon Connect refuses Lambda responses larger than this.
const MAX_ANSWER_BYTES: usize = 32 * 1024;

/// The values a contact flow compares against (Check contact attributes).
const BRANCH_KEYS: [&str; 5] = [
    "isBlocked",
    "callerIdStatus",
    "matchType",
    "lookupStatus",
    "blockAction",
];

/// Far in the past / future, so that expiry never flips between two calls.
const LONG_AGO: i64 = 1_000_000_000; // 2001
const FAR_AHEAD: i64 = 4_102_444_800; // 2100

/// What the first input byte selects.
#[derive(Debug, Clone, Copy)]
struct Settings {
    /// bits 0-4 and 5: environment variables (see [`config_for`]).
    config: u8,
    /// bit 6: loading the rules fails (no rules ever loaded).
    rules_fail: bool,
    /// bit 7: hit-count writes fail.
    hits_fail: bool,
}

impl Settings {
    fn from_byte(byte: u8) -> Settings {
        Settings {
            config: byte & 0x3f,
            rules_fail: byte & 0x40 != 0,
            hits_fail: byte & 0x80 != 0,
        }
    }
}

/// The configuration for the low six bits of the first byte: FAIL_MODE
/// (bit 0), BLOCK_ANONYMOUS (bit 1), INVALID_NUMBER_ACTION (bit 2),
/// DEFAULT_COUNTRY (bits 3-4: US, GB, IN, DE), RECORD_HITS (bit 5, inverted).
fn config_for(bits: u8) -> Config {
    let yes = |bit: u8| if bits & bit != 0 { "true" } else { "false" };
    let country = ["US", "GB", "IN", "DE"][usize::from((bits >> 3) & 3)];
    let vars: HashMap<&str, &str> = HashMap::from([
        ("FAIL_MODE", if bits & 1 != 0 { "closed" } else { "open" }),
        ("BLOCK_ANONYMOUS", yes(2)),
        (
            "INVALID_NUMBER_ACTION",
            if bits & 4 != 0 { "block" } else { "allow" },
        ),
        ("DEFAULT_COUNTRY", country),
        ("RECORD_HITS", if bits & 32 != 0 { "false" } else { "true" }),
        ("LOOKUP_TIMEOUT_MS", "1500"),
        ("RULES_REFRESH_SECONDS", "60"),
    ]);
    Config::from_lookup(|name| vars.get(name).map(|v| (*v).to_owned()))
        .expect("the fuzz configurations are valid")
}

fn configs() -> &'static [Config] {
    static CONFIGS: OnceLock<Vec<Config>> = OnceLock::new();
    CONFIGS.get_or_init(|| (0..64).map(config_for).collect())
}

/// One current-thread runtime for the whole run, with a paused clock: a
/// lookup that never answers times out at once (the clock jumps to the
/// deadline) instead of after a real 1.5 s.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .expect("tokio runtime")
    })
}

/// EMF metrics lines go nowhere, but are built as in Lambda.
fn metrics() -> MetricsSink {
    static SINK: OnceLock<MetricsSink> = OnceLock::new();
    SINK.get_or_init(|| {
        MetricsSink::new(
            "ConnectBlocklistFuzz",
            "fuzz",
            Arc::new(Mutex::new(std::io::sink())),
        )
    })
    .clone()
}

fn entry(kind: Kind, value: &str) -> Entry {
    Entry {
        kind,
        value: value.to_owned(),
        reason: Some(format!("{kind} {value}")),
        created_at: Some("2024-05-06T07:08:09Z".to_owned()),
        ..Entry::default()
    }
}

/// The stored entries, with the rules published (by the admin's own
/// publish): exact blocks, one per interesting shape, and rules. Each fuzz
/// run gets a store over these tables with its own faults.
fn stored() -> &'static MemoryStore {
    static STORE: OnceLock<MemoryStore> = OnceLock::new();
    STORE.get_or_init(|| {
        let store = MemoryStore::new();
        for entry in exact_entries().into_iter().chain(rules()) {
            store.insert(entry);
        }
        let admin = Admin::with_store(store.clone(), "fuzz", Normalizer::default());
        runtime()
            .block_on(admin.publish_rules())
            .expect("the fuzz rules publish");
        store
    })
}

fn exact_entries() -> Vec<Entry> {
    vec![
            entry(Kind::Block, "+14155550123"),
            // Monitoring, and scoped to a line the events may or may not name.
            Entry {
                mode: Mode::Monitor,
                ..entry(Kind::Block, "+14155550130")
            },
            Entry {
                lines: vec!["+18005550100".to_owned()],
                ..entry(Kind::Block, "+14155550131")
            },
            Entry {
                expires_at: Some(LONG_AGO),
                ..entry(Kind::Block, "+14155550124")
            },
            Entry {
                status: Status::Pending,
                ..entry(Kind::Block, "+14155550125")
            },
            Entry {
                action: Some(BlockAction::Message),
                message: Some("This number is not accepted. Goodbye.".to_owned()),
                expires_at: Some(FAR_AHEAD),
                ..entry(Kind::Block, "+14155550126")
            },
            Entry {
                action: Some(BlockAction::Queue),
                queue_arn: Some(
                    "arn:aws:connect:us-east-1:123456789012:instance/i/queue/fraud".to_owned(),
                ),
                ..entry(Kind::Block, "+14155550127")
            },
            // An action missing what it needs falls back to disconnect.
            Entry {
                action: Some(BlockAction::Message),
                message: Some("   ".to_owned()),
                ..entry(Kind::Block, "+14155550128")
            },
            Entry {
                action: Some(BlockAction::Queue),
                ..entry(Kind::Block, "+14155550129")
            },
            // Oversized, multi-byte and control-character text: must be cut to
            // size and escaped, never break the map.
            Entry {
                reason: Some("é\"\\\u{0}\n😀".repeat(5_000)),
                created_at: Some("\u{7f}".repeat(5_000)),
                action: Some(BlockAction::Message),
                message: Some("ü".repeat(20_000)),
                ..entry(Kind::Block, "+442079460958")
            },
            Entry {
                action: Some(BlockAction::Queue),
                queue_arn: Some("q".repeat(40_000)),
                ..entry(Kind::Block, "+919876543210")
            },
            Entry {
                reason: None,
                created_at: None,
                ..entry(Kind::Block, "+4930901820")
            },
            // Also allowed: the allow entry wins.
            entry(Kind::Block, "+14155550199"),
    ]
}

fn rules() -> Vec<Entry> {
    vec![
            entry(Kind::Prefix, "+1900"),
            Entry {
                mode: Mode::Monitor,
                ..entry(Kind::Prefix, "+1415556")
            },
            Entry {
                lines: vec!["+18005550199".to_owned()],
                ..entry(Kind::Prefix, "+1415557")
            },
            Entry {
                action: Some(BlockAction::Message),
                message: Some("Premium-rate numbers cannot call this line.".to_owned()),
                ..entry(Kind::Prefix, "+44909")
            },
            Entry {
                status: Status::Pending,
                ..entry(Kind::Prefix, "+1212555")
            },
            Entry {
                expires_at: Some(LONG_AGO),
                ..entry(Kind::Prefix, "+1646")
            },
            entry(Kind::Prefix, "+16465"),
            entry(Kind::Prefix, "+91"),
            entry(Kind::Prefix, "+999"),
            entry(Kind::Prefix, "+2666"),
            entry(Kind::Allow, "+14155550199"),
            entry(Kind::Allow, "+266696687"),
            entry(Kind::AllowPrefix, "+1415555019"),
            entry(Kind::AllowPrefix, "+9198"),
            Entry {
                expires_at: Some(LONG_AGO),
                ..entry(Kind::AllowPrefix, "+1900555")
            },
    ]
}

/// `FUZZ_PRINT_ANSWERS=1` prints each answer (to see what an input does).
fn print_answers() -> bool {
    static PRINT: OnceLock<bool> = OnceLock::new();
    *PRINT.get_or_init(|| std::env::var_os("FUZZ_PRINT_ANSWERS").is_some_and(|v| v == "1"))
}

fn is_token(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn is_e164(s: &str) -> bool {
    s.strip_prefix('+').is_some_and(|d| {
        (2..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()) && !d.starts_with('0')
    })
}

/// Asserts the answer is what Connect's STRING_MAP and the flows need.
fn check_answer(answer: &Answer) {
    let text = serde_json::to_string(answer).expect("the answer serializes");
    assert!(
        text.len() < MAX_ANSWER_BYTES,
        "answer is {} bytes, over Connect's 32 KB",
        text.len()
    );
    let value: Value = serde_json::from_str(&text).expect("the answer is JSON");
    let map = value.as_object().expect("the answer is a JSON object");
    let keys: BTreeSet<&str> = map.keys().map(String::as_str).collect();
    assert_eq!(map.len(), ANSWER_KEYS.len(), "keys: {keys:?}");
    assert_eq!(keys, BTreeSet::from(ANSWER_KEYS), "keys");
    let get = |key: &str| {
        map[key]
            .as_str()
            .unwrap_or_else(|| panic!("{key} is not a string: {}", map[key]))
    };
    for key in ANSWER_KEYS {
        assert!(is_token(key), "key {key:?}");
        get(key);
    }
    for key in BRANCH_KEYS {
        let v = get(key);
        assert!(is_token(v), "{key} = {v:?} is not a plain token");
    }
    let blocked = match get("isBlocked") {
        "true" => true,
        "false" => false,
        other => panic!("isBlocked = {other:?}"),
    };
    let action = get("blockAction");
    assert_eq!(
        blocked,
        !action.is_empty(),
        "isBlocked {blocked} with blockAction {action:?}"
    );
    assert!(
        ["", "disconnect", "message", "queue"].contains(&action),
        "blockAction {action:?}"
    );
    assert!(
        get("blockMessage").is_empty() || action == "message",
        "a message without the message action"
    );
    assert!(
        get("blockQueueArn").is_empty() || action == "queue",
        "a queue without the queue action"
    );
    let number = get("phoneNumber");
    assert!(
        number.is_empty() || is_e164(number),
        "phoneNumber {number:?} is not E.164"
    );
}

fuzz_target!(|input: &[u8]| {
    let Some((&byte, json)) = input.split_first() else {
        return;
    };
    // The runtime's own reader: valid JSON serde_json refuses as it is
    // (deep nesting, 1e400, lone surrogates) is read after json_repair.
    let Ok(event) = read_event(json) else {
        return;
    };
    let settings = Settings::from_byte(byte);
    let fails = |yes: bool| if yes { Fault::Fail } else { Fault::None };
    // Numbers ending in 666 fail to look up; ending in 777 never answer.
    let store = stored().with_faults(Faults {
        lookups_ending: vec![("666".to_owned(), Fault::Fail), ("777".to_owned(), Fault::Hang)],
        rules: fails(settings.rules_fail),
        hits: fails(settings.hits_fail),
        counts: fails(settings.hits_fail),
        admin: Fault::None,
    });
    let config = &configs()[usize::from(settings.config)];
    let checker = Checker::new(store, config).with_metrics(metrics());
    let (loading, cached) = runtime().block_on(async {
        let loading = checker.handle(&event).await;
        let cached = checker.handle(&event).await;
        (loading, cached)
    });
    if print_answers() {
        eprintln!("settings {settings:?}");
        for answer in [&loading, &cached] {
            eprintln!("{}", serde_json::to_string(answer).unwrap_or_default());
        }
    }
    check_answer(&loading);
    check_answer(&cached);
    // Same decision from the rules in memory; an allow entry there skips the read.
    let skipped_read = cached.lookup_status == LookupStatus::Skipped;
    assert!(
        cached.lookup_status == loading.lookup_status || skipped_read,
        "lookupStatus {:?} then {:?}",
        loading.lookup_status,
        cached.lookup_status
    );
    let same_decision = Answer {
        lookup_status: loading.lookup_status,
        ..cached.clone()
    };
    assert_eq!(
        same_decision, loading,
        "the cached rules decide differently"
    );
});
