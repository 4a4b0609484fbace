//! The block decision: a pure function of the caller ID, the rules in
//! memory, the exact-entry lookup, the policy and the time.

use crate::answer::{
    Answer, CallerIdStatus, LookupStatus, MAX_ANSWER_TEXT_CHARS, MatchType, answer_text,
};
use crate::entry::{BlockAction, Entry, Mode};
use crate::phone::CallerId;
use crate::rules::RuleSet;

/// What to do when the lookup fails or times out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FailMode {
    /// Let the call through (the default).
    #[default]
    Open,
    /// Block the call.
    Closed,
}

crate::wire_names!(FailMode, "a fail mode" { Open => "open", Closed => "closed" });

/// What to do with a caller ID that is not a valid number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InvalidNumberAction {
    #[default]
    Allow,
    Block,
}

crate::wire_names!(InvalidNumberAction, "an invalid-number action" { Allow => "allow", Block => "block" });

/// The team's blocking policy.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Policy {
    pub fail_mode: FailMode,
    /// Block withheld and missing caller IDs.
    pub block_anonymous: bool,
    pub invalid_number_action: InvalidNumberAction,
    /// Repeat-caller rate limiting; `None` when off (`RATE_LIMIT_CALLS=0`).
    pub rate_limit: Option<RateLimit>,
}

/// Repeat-caller rate limiting: the call after `calls` calls from one
/// number within a window is blocked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimit {
    /// Calls allowed per window (`RATE_LIMIT_CALLS`, at least 1).
    pub calls: u64,
    /// The window, seconds (`RATE_LIMIT_WINDOW_SECONDS`).
    pub window_seconds: u64,
    /// What the flow does with a limited call (`RATE_LIMIT_ACTION`).
    pub action: BlockAction,
    /// The message played for `message` (`RATE_LIMIT_MESSAGE`).
    pub message: String,
}

/// How a failed lookup failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookupFailure {
    Error,
    Timeout,
}

/// The outcome of looking a valid number up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// The table answered: the entry, if there is one.
    Found(Option<Box<Entry>>),
    /// The table did not answer.
    Failed(LookupFailure),
}

/// What the decision is made from.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    /// What the caller ID was read as.
    pub caller: &'a CallerId,
    /// The string rules match against: the E.164 number, or `+digits` for a
    /// withheld or invalid caller ID written in digits; `None` otherwise.
    pub rule_key: Option<&'a str>,
    /// The dialled number (E.164), which line-scoped entries match; `None`
    /// when the event has none.
    pub line: Option<&'a str>,
    /// Prefix rules and allow entries; `None` when none could ever be loaded.
    pub rules: Option<&'a RuleSet>,
    /// The exact-entry lookup; `None` when nothing was looked up.
    pub lookup: Option<&'a Lookup>,
    /// The caller's calls in the current window, counting this one, when
    /// the rate limit is on and the count arrived in time.
    pub calls_in_window: Option<u64>,
}

/// What decided the call, before it is written as an answer.
enum Verdict<'a> {
    /// An allow entry covers the number.
    Allowed(&'a Entry),
    /// An entry in force blocks it (`Exact` or `Prefix`).
    Blocked(MatchType, &'a Entry),
    /// The rate limit blocks it.
    RateLimited(&'a RateLimit),
    /// A policy blocks it (`FailClosed`, `Anonymous`, `Invalid`).
    PolicyBlocked(MatchType),
    /// A monitoring entry would have blocked it.
    Monitored(&'a Entry),
    /// Nothing applies.
    Nothing,
}

/// Decides the answer. Precedence: allow > exact block > longest prefix
/// block > rate limit > failed lookup (`FAIL_MODE`) > anonymous / invalid
/// policy > monitor > allowed; entries with lines apply on those lines only.
pub fn decide(facts: &Facts<'_>, policy: &Policy, now: i64) -> Answer {
    let failure = failure(facts);
    let mut answer = undecided(facts, failure);
    match verdict(facts, policy, failure, now) {
        Verdict::Allowed(entry) => {
            answer.match_type = MatchType::Allow;
            answer.matched_rule = entry.value.clone();
        }
        Verdict::Blocked(match_type, entry) => block_by(&mut answer, match_type, entry),
        Verdict::RateLimited(limit) => {
            block_by_policy(&mut answer, MatchType::RateLimited);
            if limit.action == BlockAction::Message && !limit.message.trim().is_empty() {
                answer.block_action = BlockAction::Message.as_str().to_owned();
                answer.block_message = answer_text(Some(&limit.message));
            }
        }
        Verdict::PolicyBlocked(match_type) => block_by_policy(&mut answer, match_type),
        Verdict::Monitored(entry) => {
            answer.match_type = MatchType::Monitor;
            answer.matched_rule = entry.value.clone();
        }
        Verdict::Nothing => {}
    }
    answer
}

/// How the lookup failed, if it did. Rules that could not be loaded fail
/// the call only where a rule could have matched it: a caller ID without
/// digits (`anonymous`, no number) is decided by the policy whatever the
/// rules' state.
fn failure(facts: &Facts<'_>) -> Option<LookupFailure> {
    match facts.lookup {
        Some(Lookup::Failed(f)) => Some(*f),
        _ if facts.rules.is_none() && facts.rule_key.is_some() => Some(LookupFailure::Error),
        _ => None,
    }
}

/// The answer before any rule: the caller ID and how the lookup went.
fn undecided(facts: &Facts<'_>, failure: Option<LookupFailure>) -> Answer {
    let (status, number) = match facts.caller {
        CallerId::Valid(n) => (CallerIdStatus::Valid, n.as_str()),
        CallerId::Invalid(_) => (CallerIdStatus::Invalid, ""),
        CallerId::Anonymous => (CallerIdStatus::Anonymous, ""),
        CallerId::Missing => (CallerIdStatus::Missing, ""),
    };
    let lookup_status = match (facts.lookup, failure) {
        (_, Some(LookupFailure::Timeout)) => LookupStatus::Timeout,
        (_, Some(LookupFailure::Error)) => LookupStatus::Error,
        (Some(_), None) => LookupStatus::Ok,
        (None, None) => LookupStatus::Skipped,
    };
    Answer {
        is_blocked: false,
        phone_number: number.to_owned(),
        caller_id_status: status,
        match_type: MatchType::None,
        matched_rule: String::new(),
        blocked_reason: String::new(),
        blocked_date: String::new(),
        lookup_status,
        block_action: String::new(),
        block_message: String::new(),
        block_queue_arn: String::new(),
    }
}

/// The rule that decides, in order of precedence.
fn verdict<'a>(
    facts: &Facts<'a>,
    policy: &'a Policy,
    failure: Option<LookupFailure>,
    now: i64,
) -> Verdict<'a> {
    let (key, line, rules) = (facts.rule_key, facts.line, facts.rules);
    let exact = match facts.lookup {
        Some(Lookup::Found(Some(entry))) if entry.applies_at(now, line) => Some(&**entry),
        _ => None,
    };
    let exact_in = |mode: Mode| exact.filter(|e| e.mode == mode);
    if let Some(allow) = key.and_then(|k| rules?.allow_for(k, line, now)) {
        return Verdict::Allowed(allow);
    }
    if let Some(entry) = exact_in(Mode::Block) {
        return Verdict::Blocked(MatchType::Exact, entry);
    }
    if let Some(prefix) = key.and_then(|k| rules?.block_prefix_for(k, line, now)) {
        return Verdict::Blocked(MatchType::Prefix, prefix);
    }
    if let (Some(limit), Some(calls)) = (&policy.rate_limit, facts.calls_in_window)
        && calls > limit.calls
    {
        return Verdict::RateLimited(limit);
    }
    if failure.is_some() {
        return match policy.fail_mode {
            FailMode::Closed => Verdict::PolicyBlocked(MatchType::FailClosed),
            FailMode::Open => Verdict::Nothing,
        };
    }
    let policy_blocks = match facts.caller {
        CallerId::Valid(_) => None,
        CallerId::Invalid(_) => (policy.invalid_number_action == InvalidNumberAction::Block)
            .then_some(MatchType::Invalid),
        CallerId::Anonymous | CallerId::Missing => {
            policy.block_anonymous.then_some(MatchType::Anonymous)
        }
    };
    if let Some(match_type) = policy_blocks {
        return Verdict::PolicyBlocked(match_type);
    }
    let monitor = exact_in(Mode::Monitor)
        .or_else(|| key.and_then(|k| rules?.monitor_prefix_for(k, line, now)));
    monitor.map_or(Verdict::Nothing, Verdict::Monitored)
}

/// Blocked by a stored entry: its reason, date and action.
fn block_by(answer: &mut Answer, match_type: MatchType, entry: &Entry) {
    answer.is_blocked = true;
    answer.match_type = match_type;
    answer.matched_rule = entry.value.clone();
    answer.blocked_reason = answer_text(entry.reason.as_deref());
    answer.blocked_date = answer_text(entry.created_at.as_deref());
    let message = entry.message.as_deref().filter(|m| !m.trim().is_empty());
    let queue = entry.queue_arn.as_deref().filter(|q| !q.trim().is_empty());
    // An action missing what it needs falls back to the standard disconnect.
    let action = match (entry.block_action(), message, queue) {
        (BlockAction::Message, Some(m), _) => {
            answer.block_message = answer_text(Some(m));
            BlockAction::Message
        }
        (BlockAction::Queue, _, Some(q)) => {
            answer.block_queue_arn = q.chars().take(MAX_ANSWER_TEXT_CHARS).collect();
            BlockAction::Queue
        }
        _ => BlockAction::Disconnect,
    };
    answer.block_action = action.as_str().to_owned();
}

/// Blocked by the policy (anonymous, invalid, fail closed): disconnect.
fn block_by_policy(answer: &mut Answer, match_type: MatchType) {
    answer.is_blocked = true;
    answer.match_type = match_type;
    answer.block_action = BlockAction::Disconnect.as_str().to_owned();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::Kind;
    use crate::phone::{E164, InvalidReason};

    const NOW: i64 = 1_800_000_000;
    const NUMBER: &str = "+14155550123";

    fn number() -> CallerId {
        CallerId::Valid(E164::from_canonical(NUMBER).unwrap())
    }

    fn entry(kind: Kind, value: &str, expires_at: Option<i64>) -> Entry {
        Entry {
            kind,
            value: value.into(),
            reason: Some(format!("{kind} {value}")),
            created_at: Some("2026-01-02T03:04:05Z".into()),
            expires_at,
            ..Entry::default()
        }
    }

    fn closed() -> Policy {
        Policy {
            fail_mode: FailMode::Closed,
            ..Policy::default()
        }
    }

    fn decide_valid(found: Option<Entry>, rules: &RuleSet, policy: &Policy) -> Answer {
        let caller = number();
        let lookup = Lookup::Found(found.map(Box::new));
        decide(
            &Facts {
                caller: &caller,
                rule_key: Some(NUMBER),
                rules: Some(rules),
                lookup: Some(&lookup),
                line: None,
                calls_in_window: None,
            },
            policy,
            NOW,
        )
    }

    #[test]
    fn active_entry_blocks_with_reason_and_date() {
        let a = decide_valid(
            Some(entry(Kind::Block, NUMBER, None)),
            &RuleSet::default(),
            &Policy::default(),
        );
        assert!(a.is_blocked);
        assert_eq!(a.match_type, MatchType::Exact);
        assert_eq!(a.matched_rule, NUMBER);
        assert_eq!(a.phone_number, NUMBER);
        assert_eq!(a.caller_id_status, CallerIdStatus::Valid);
        assert_eq!(a.blocked_reason, "block +14155550123");
        assert_eq!(a.blocked_date, "2026-01-02T03:04:05Z");
        assert_eq!(a.lookup_status, LookupStatus::Ok);
        assert_eq!(a.block_action, "disconnect");
    }

    #[test]
    fn entry_expiring_in_the_future_still_blocks() {
        let a = decide_valid(
            Some(entry(Kind::Block, NUMBER, Some(NOW + 1))),
            &RuleSet::default(),
            &Policy::default(),
        );
        assert!(a.is_blocked);
    }

    #[test]
    fn expired_or_pending_entry_does_not_block() {
        for expires in [NOW, NOW - 1, 0] {
            let a = decide_valid(
                Some(entry(Kind::Block, NUMBER, Some(expires))),
                &RuleSet::default(),
                &Policy::default(),
            );
            assert!(!a.is_blocked, "expires {expires}");
            assert_eq!(a.match_type, MatchType::None);
            assert_eq!(a.blocked_reason, "");
            assert_eq!(a.blocked_date, "");
            assert_eq!(a.block_action, "");
            assert_eq!(a.lookup_status, LookupStatus::Ok);
        }
        let mut pending = entry(Kind::Block, NUMBER, None);
        pending.status = crate::entry::Status::Pending;
        assert!(!decide_valid(Some(pending), &RuleSet::default(), &Policy::default()).is_blocked);
    }

    #[test]
    fn no_entry_allows() {
        let a = decide_valid(None, &RuleSet::default(), &closed());
        assert!(!a.is_blocked);
        assert_eq!(a.match_type, MatchType::None);
        assert_eq!(a.matched_rule, "");
        assert_eq!(a.lookup_status, LookupStatus::Ok);
    }

    #[test]
    fn failures_follow_fail_mode() {
        for (failure, status) in [
            (LookupFailure::Error, LookupStatus::Error),
            (LookupFailure::Timeout, LookupStatus::Timeout),
        ] {
            let caller = number();
            let lookup = Lookup::Failed(failure);
            let rules = RuleSet::default();
            let facts = Facts {
                caller: &caller,
                rule_key: Some(NUMBER),
                rules: Some(&rules),
                lookup: Some(&lookup),
                line: None,
                calls_in_window: None,
            };
            let open = decide(&facts, &Policy::default(), NOW);
            assert!(!open.is_blocked);
            assert_eq!(open.match_type, MatchType::None);
            assert_eq!(open.lookup_status, status);
            assert_eq!(open.phone_number, NUMBER);

            let shut = decide(&facts, &closed(), NOW);
            assert!(shut.is_blocked);
            assert_eq!(shut.match_type, MatchType::FailClosed);
            assert_eq!(shut.lookup_status, status);
            assert_eq!(shut.block_action, "disconnect");
        }
    }

    #[test]
    fn rules_never_loaded_follow_fail_mode_but_exact_blocks_still_count() {
        let caller = number();
        let none = Lookup::Found(None);
        let facts = Facts {
            caller: &caller,
            rule_key: Some(NUMBER),
            rules: None,
            lookup: Some(&none),
            line: None,
            calls_in_window: None,
        };
        let open = decide(&facts, &Policy::default(), NOW);
        assert!(!open.is_blocked);
        assert_eq!(open.lookup_status, LookupStatus::Error);
        let shut = decide(&facts, &closed(), NOW);
        assert_eq!(shut.match_type, MatchType::FailClosed);

        let found = Lookup::Found(Some(Box::new(entry(Kind::Block, NUMBER, None))));
        let facts = Facts {
            lookup: Some(&found),
            ..facts
        };
        assert_eq!(
            decide(&facts, &Policy::default(), NOW).match_type,
            MatchType::Exact
        );
    }

    /// No rule can match a caller ID without digits, so rules that could
    /// not be loaded (the rules table missing) must not turn the anonymous
    /// policy into a failed lookup. Failed before: `anonymous` with
    /// `BLOCK_ANONYMOUS=true` was let through with `lookupStatus` `error`.
    #[test]
    fn unloaded_rules_leave_callers_without_digits_to_the_policy() {
        let block_anonymous = Policy {
            block_anonymous: true,
            ..closed()
        };
        for caller in [
            CallerId::Anonymous,
            CallerId::Missing,
            CallerId::Invalid(InvalidReason::UnexpectedCharacters),
        ] {
            let facts = Facts {
                caller: &caller,
                rule_key: None,
                rules: None,
                lookup: None,
                line: None,
                calls_in_window: None,
            };
            let a = decide(&facts, &block_anonymous, NOW);
            assert_eq!(a.lookup_status, LookupStatus::Skipped, "{caller:?}");
            let blocked = !matches!(caller, CallerId::Invalid(_));
            assert_eq!(a.is_blocked, blocked, "{caller:?}");
            if blocked {
                assert_eq!(a.match_type, MatchType::Anonymous, "{caller:?}");
            }
        }
        // A withheld caller ID written in digits could match a prefix rule:
        // there the rules' absence is a failed lookup, as for a number.
        let caller = CallerId::Anonymous;
        let facts = Facts {
            caller: &caller,
            rule_key: Some("+266696687"),
            rules: None,
            lookup: None,
            line: None,
            calls_in_window: None,
        };
        let a = decide(&facts, &block_anonymous, NOW);
        assert_eq!(a.lookup_status, LookupStatus::Error);
        assert_eq!(a.match_type, MatchType::FailClosed);
    }

    #[test]
    fn anonymous_and_missing_follow_block_anonymous() {
        for (caller, status) in [
            (CallerId::Anonymous, CallerIdStatus::Anonymous),
            (CallerId::Missing, CallerIdStatus::Missing),
        ] {
            let rules = RuleSet::default();
            let facts = Facts {
                caller: &caller,
                rule_key: None,
                rules: Some(&rules),
                lookup: None,
                line: None,
                calls_in_window: None,
            };
            let allow = decide(&facts, &Policy::default(), NOW);
            assert!(!allow.is_blocked);
            assert_eq!(allow.match_type, MatchType::None);
            assert_eq!(allow.caller_id_status, status);
            assert_eq!(allow.lookup_status, LookupStatus::Skipped);
            assert_eq!(allow.phone_number, "");

            let policy = Policy {
                block_anonymous: true,
                ..Policy::default()
            };
            let block = decide(&facts, &policy, NOW);
            assert!(block.is_blocked);
            assert_eq!(block.match_type, MatchType::Anonymous);
            assert_eq!(block.caller_id_status, status);
        }
    }

    #[test]
    fn invalid_follows_invalid_number_action() {
        let caller = CallerId::Invalid(InvalidReason::NotAValidNumber);
        let rules = RuleSet::default();
        let facts = Facts {
            caller: &caller,
            rule_key: None,
            rules: Some(&rules),
            lookup: None,
            line: None,
            calls_in_window: None,
        };
        let allow = decide(&facts, &Policy::default(), NOW);
        assert!(!allow.is_blocked);
        assert_eq!(allow.caller_id_status, CallerIdStatus::Invalid);
        assert_eq!(allow.match_type, MatchType::None);
        assert_eq!(allow.lookup_status, LookupStatus::Skipped);

        // Anonymous blocking must not leak into invalid numbers.
        let policy = Policy {
            invalid_number_action: InvalidNumberAction::Block,
            block_anonymous: false,
            ..Policy::default()
        };
        let block = decide(&facts, &policy, NOW);
        assert!(block.is_blocked);
        assert_eq!(block.match_type, MatchType::Invalid);
    }

    #[test]
    fn overlong_stored_reason_is_truncated() {
        let mut e = entry(Kind::Block, NUMBER, None);
        e.reason = Some("x".repeat(10_000));
        let a = decide_valid(Some(e), &RuleSet::default(), &Policy::default());
        assert_eq!(a.blocked_reason.chars().count(), MAX_ANSWER_TEXT_CHARS);
    }

    #[test]
    fn block_actions_come_from_the_entry_and_fall_back_to_disconnect() {
        let with = |action, message: Option<&str>, queue: Option<&str>| {
            let mut e = entry(Kind::Block, NUMBER, None);
            e.action = Some(action);
            e.message = message.map(str::to_owned);
            e.queue_arn = queue.map(str::to_owned);
            decide_valid(Some(e), &RuleSet::default(), &Policy::default())
        };
        let m = with(
            BlockAction::Message,
            Some("Please write to us instead."),
            None,
        );
        assert_eq!(
            (
                m.block_action.as_str(),
                m.block_message.as_str(),
                m.block_queue_arn.as_str()
            ),
            ("message", "Please write to us instead.", "")
        );
        let arn = "arn:aws:connect:us-east-1:123456789012:instance/i/queue/q";
        let q = with(BlockAction::Queue, None, Some(arn));
        assert_eq!(
            (
                q.block_action.as_str(),
                q.block_message.as_str(),
                q.block_queue_arn.as_str()
            ),
            ("queue", "", arn)
        );
        // Missing what the action needs: the standard disconnect.
        assert_eq!(
            with(BlockAction::Message, Some("  "), None).block_action,
            "disconnect"
        );
        assert_eq!(
            with(BlockAction::Queue, None, None).block_action,
            "disconnect"
        );
        assert_eq!(
            with(BlockAction::Disconnect, Some("x"), Some(arn)).block_message,
            ""
        );
    }

    /// One row per pair of rule kinds that can both apply to a call: which
    /// one decides. allow > exact block > longest prefix > rate limit >
    /// failed lookup > anonymous/invalid policy > monitor > allowed, each
    /// scoped by line.
    #[test]
    fn precedence_for_every_pair_of_rule_kinds() {
        let anonymous_code = "+266696687";
        let invalid_number = "+999123456";
        let block_all = Policy {
            block_anonymous: true,
            invalid_number_action: InvalidNumberAction::Block,
            rate_limit: Some(RateLimit {
                calls: 3,
                window_seconds: 300,
                action: BlockAction::Message,
                message: "Please call again later.".into(),
            }),
            ..Policy::default()
        };
        let allow = || entry(Kind::Allow, NUMBER, None);
        let allow_prefix = || entry(Kind::AllowPrefix, "+1415", None);
        let exact = || entry(Kind::Block, NUMBER, None);
        let prefix = || entry(Kind::Prefix, "+141555", None);
        let short_prefix = || entry(Kind::Prefix, "+14", None);

        struct Case {
            name: &'static str,
            caller: CallerId,
            key: &'static str,
            rules: Vec<Entry>,
            exact: Option<Entry>,
            want: (bool, MatchType, &'static str),
            /// The dialled number.
            line: Option<&'static str>,
            /// Calls in the rate-limit window (the limit is 3).
            calls: Option<u64>,
            /// The exact lookup failed.
            failed: bool,
            /// FAIL_MODE=closed.
            closed: bool,
        }
        const SALES: &str = "+18005550100";
        const SUPPORT: &str = "+18005550199";
        let monitor = |e: Entry| Entry {
            mode: Mode::Monitor,
            ..e
        };
        let on_lines = |e: Entry, line: &str| Entry {
            lines: vec![line.to_owned()],
            ..e
        };
        // A call from NUMBER with nothing stored: each new row says what differs.
        let on_number = || Case {
            name: "",
            caller: number(),
            key: NUMBER,
            rules: vec![],
            exact: None,
            want: (false, MatchType::None, ""),
            line: None,
            calls: None,
            failed: false,
            closed: false,
        };
        let cases = vec![
            Case {
                name: "allow > exact",
                caller: number(),
                key: NUMBER,
                rules: vec![allow()],
                exact: Some(exact()),
                want: (false, MatchType::Allow, NUMBER),
                line: None,
                calls: None,
                failed: false,
                closed: false,
            },
            Case {
                name: "allowPrefix > exact",
                caller: number(),
                key: NUMBER,
                rules: vec![allow_prefix()],
                exact: Some(exact()),
                want: (false, MatchType::Allow, "+1415"),
                line: None,
                calls: None,
                failed: false,
                closed: false,
            },
            Case {
                name: "allow > prefix",
                caller: number(),
                key: NUMBER,
                rules: vec![allow(), prefix()],
                exact: None,
                want: (false, MatchType::Allow, NUMBER),
                line: None,
                calls: None,
                failed: false,
                closed: false,
            },
            Case {
                name: "allowPrefix > prefix, even a longer one",
                caller: number(),
                key: NUMBER,
                rules: vec![allow_prefix(), prefix()],
                exact: None,
                want: (false, MatchType::Allow, "+1415"),
                line: None,
                calls: None,
                failed: false,
                closed: false,
            },
            Case {
                name: "allow > allowPrefix (exact allow named)",
                caller: number(),
                key: NUMBER,
                rules: vec![allow(), allow_prefix()],
                exact: None,
                want: (false, MatchType::Allow, NUMBER),
                line: None,
                calls: None,
                failed: false,
                closed: false,
            },
            Case {
                name: "exact > prefix",
                caller: number(),
                key: NUMBER,
                rules: vec![prefix()],
                exact: Some(exact()),
                want: (true, MatchType::Exact, NUMBER),
                line: None,
                calls: None,
                failed: false,
                closed: false,
            },
            Case {
                name: "longest prefix > shorter prefix",
                caller: number(),
                key: NUMBER,
                rules: vec![short_prefix(), prefix()],
                exact: None,
                want: (true, MatchType::Prefix, "+141555"),
                line: None,
                calls: None,
                failed: false,
                closed: false,
            },
            Case {
                name: "prefix > anonymous policy",
                caller: CallerId::Anonymous,
                key: anonymous_code,
                rules: vec![entry(Kind::Prefix, "+266", None)],
                exact: None,
                want: (true, MatchType::Prefix, "+266"),
                line: None,
                calls: None,
                failed: false,
                closed: false,
            },
            Case {
                name: "allow > anonymous policy",
                caller: CallerId::Anonymous,
                key: anonymous_code,
                rules: vec![entry(Kind::Allow, anonymous_code, None)],
                exact: None,
                want: (false, MatchType::Allow, anonymous_code),
                line: None,
                calls: None,
                failed: false,
                closed: false,
            },
            Case {
                name: "prefix > invalid policy",
                caller: CallerId::Invalid(InvalidReason::NotAValidNumber),
                key: invalid_number,
                rules: vec![entry(Kind::Prefix, "+999", None)],
                exact: None,
                want: (true, MatchType::Prefix, "+999"),
                line: None,
                calls: None,
                failed: false,
                closed: false,
            },
            Case {
                name: "allowPrefix > invalid policy",
                caller: CallerId::Invalid(InvalidReason::NotAValidNumber),
                key: invalid_number,
                rules: vec![entry(Kind::AllowPrefix, "+999", None)],
                exact: None,
                want: (false, MatchType::Allow, "+999"),
                line: None,
                calls: None,
                failed: false,
                closed: false,
            },
            Case {
                name: "anonymous policy > allowed",
                caller: CallerId::Anonymous,
                key: anonymous_code,
                rules: vec![],
                exact: None,
                want: (true, MatchType::Anonymous, ""),
                line: None,
                calls: None,
                failed: false,
                closed: false,
            },
            Case {
                name: "invalid policy > allowed",
                caller: CallerId::Invalid(InvalidReason::NotAValidNumber),
                key: invalid_number,
                rules: vec![],
                exact: None,
                want: (true, MatchType::Invalid, ""),
                line: None,
                calls: None,
                failed: false,
                closed: false,
            },
            Case {
                name: "exact block > monitor prefix",
                rules: vec![monitor(prefix())],
                exact: Some(exact()),
                want: (true, MatchType::Exact, NUMBER),
                ..on_number()
            },
            Case {
                name: "prefix block > monitor exact",
                rules: vec![prefix()],
                exact: Some(monitor(exact())),
                want: (true, MatchType::Prefix, "+141555"),
                ..on_number()
            },
            Case {
                name: "allow > monitor",
                rules: vec![allow()],
                exact: Some(monitor(exact())),
                want: (false, MatchType::Allow, NUMBER),
                ..on_number()
            },
            Case {
                name: "a longer monitor prefix never hides a shorter block prefix",
                rules: vec![monitor(prefix()), short_prefix()],
                want: (true, MatchType::Prefix, "+14"),
                ..on_number()
            },
            Case {
                name: "monitor exact > monitor prefix",
                rules: vec![monitor(prefix())],
                exact: Some(monitor(exact())),
                want: (false, MatchType::Monitor, NUMBER),
                ..on_number()
            },
            Case {
                name: "monitor > allowed",
                rules: vec![monitor(prefix())],
                want: (false, MatchType::Monitor, "+141555"),
                ..on_number()
            },
            Case {
                name: "anonymous policy > monitor",
                caller: CallerId::Anonymous,
                key: anonymous_code,
                rules: vec![monitor(entry(Kind::Prefix, "+266", None))],
                want: (true, MatchType::Anonymous, ""),
                ..on_number()
            },
            Case {
                name: "exact block > rate limit",
                exact: Some(exact()),
                calls: Some(4),
                want: (true, MatchType::Exact, NUMBER),
                ..on_number()
            },
            Case {
                name: "prefix block > rate limit",
                rules: vec![prefix()],
                calls: Some(4),
                want: (true, MatchType::Prefix, "+141555"),
                ..on_number()
            },
            Case {
                name: "allow > rate limit",
                rules: vec![allow()],
                calls: Some(4),
                want: (false, MatchType::Allow, NUMBER),
                ..on_number()
            },
            Case {
                name: "rate limit > failed lookup",
                failed: true,
                closed: true,
                calls: Some(4),
                want: (true, MatchType::RateLimited, ""),
                ..on_number()
            },
            Case {
                name: "rate limit > monitor",
                exact: Some(monitor(exact())),
                calls: Some(4),
                want: (true, MatchType::RateLimited, ""),
                ..on_number()
            },
            Case {
                name: "the limit's own call is not limited",
                calls: Some(3),
                want: (false, MatchType::None, ""),
                ..on_number()
            },
            Case {
                name: "failed lookup > monitor",
                rules: vec![monitor(prefix())],
                failed: true,
                closed: true,
                want: (true, MatchType::FailClosed, ""),
                ..on_number()
            },
            Case {
                name: "an entry for other lines does not apply",
                exact: Some(on_lines(exact(), SALES)),
                line: Some(SUPPORT),
                want: (false, MatchType::None, ""),
                ..on_number()
            },
            Case {
                name: "an entry for this line applies",
                exact: Some(on_lines(exact(), SALES)),
                line: Some(SALES),
                want: (true, MatchType::Exact, NUMBER),
                ..on_number()
            },
            Case {
                name: "an allow for other lines leaves the block",
                rules: vec![on_lines(allow(), SUPPORT)],
                exact: Some(exact()),
                line: Some(SALES),
                want: (true, MatchType::Exact, NUMBER),
                ..on_number()
            },
            Case {
                name: "a longer prefix for other lines leaves a shorter one",
                rules: vec![on_lines(prefix(), SUPPORT), short_prefix()],
                line: Some(SALES),
                want: (true, MatchType::Prefix, "+14"),
                ..on_number()
            },
            Case {
                name: "a line-scoped entry never applies to a call without a dialled number",
                exact: Some(on_lines(exact(), SALES)),
                want: (false, MatchType::None, ""),
                ..on_number()
            },
            Case {
                name: "expired allow does not override",
                caller: number(),
                key: NUMBER,
                rules: vec![entry(Kind::Allow, NUMBER, Some(NOW - 1))],
                exact: Some(exact()),
                want: (true, MatchType::Exact, NUMBER),
                line: None,
                calls: None,
                failed: false,
                closed: false,
            },
        ];
        for case in cases {
            let rules = RuleSet::new(case.rules);
            let lookup = if case.failed {
                Lookup::Failed(LookupFailure::Error)
            } else {
                Lookup::Found(case.exact.map(Box::new))
            };
            let looked_up = matches!(case.caller, CallerId::Valid(_)).then_some(&lookup);
            let facts = Facts {
                caller: &case.caller,
                rule_key: Some(case.key),
                rules: Some(&rules),
                lookup: looked_up,
                line: case.line,
                calls_in_window: case.calls,
            };
            let policy = Policy {
                fail_mode: if case.closed {
                    FailMode::Closed
                } else {
                    FailMode::Open
                },
                ..block_all.clone()
            };
            let a = decide(&facts, &policy, NOW);
            assert_eq!(
                (a.is_blocked, a.match_type, a.matched_rule.as_str()),
                case.want,
                "{}",
                case.name
            );
        }
    }
}
