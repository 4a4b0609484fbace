//! The block decision: a pure function of the caller ID, the lookup result,
//! the policy and the time.

use crate::answer::{Answer, CallerIdStatus, LookupStatus, MatchType};
use crate::entry::{BlockEntry, answer_text};
use crate::phone::CallerId;

/// What to do when the lookup fails or times out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FailMode {
    /// Let the call through (the default).
    #[default]
    Open,
    /// Block the call.
    Closed,
}

/// What to do with a caller ID that is not a valid number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InvalidNumberAction {
    #[default]
    Allow,
    Block,
}

/// The team's blocking policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Policy {
    pub fail_mode: FailMode,
    /// Block withheld and missing caller IDs.
    pub block_anonymous: bool,
    pub invalid_number_action: InvalidNumberAction,
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
    Found(Option<BlockEntry>),
    /// The table did not answer.
    Failed(LookupFailure),
}

/// Decides the answer. `lookup` is only consulted for valid numbers (pass
/// `None` for the others: nothing was looked up).
pub fn decide(caller: &CallerId, lookup: Option<&Lookup>, policy: &Policy, now: i64) -> Answer {
    match caller {
        CallerId::Valid(number) => {
            let mut answer = allowed(CallerIdStatus::Valid, number.as_str(), LookupStatus::Ok);
            match lookup {
                Some(Lookup::Found(Some(entry))) if entry.is_active_at(now) => {
                    answer.is_blocked = true;
                    answer.match_type = MatchType::Exact;
                    answer.blocked_reason = answer_text(entry.reason.as_deref());
                    answer.blocked_date = answer_text(entry.created_at.as_deref());
                }
                Some(Lookup::Found(_)) => {}
                Some(Lookup::Failed(failure)) => {
                    answer.lookup_status = match failure {
                        LookupFailure::Error => LookupStatus::Error,
                        LookupFailure::Timeout => LookupStatus::Timeout,
                    };
                    if policy.fail_mode == FailMode::Closed {
                        answer.is_blocked = true;
                        answer.match_type = MatchType::FailClosed;
                    }
                }
                None => answer.lookup_status = LookupStatus::Skipped,
            }
            answer
        }
        CallerId::Invalid(_) => by_policy(
            CallerIdStatus::Invalid,
            policy.invalid_number_action == InvalidNumberAction::Block,
            MatchType::Invalid,
        ),
        CallerId::Anonymous => by_policy(
            CallerIdStatus::Anonymous,
            policy.block_anonymous,
            MatchType::Anonymous,
        ),
        CallerId::Missing => by_policy(
            CallerIdStatus::Missing,
            policy.block_anonymous,
            MatchType::Anonymous,
        ),
    }
}

fn allowed(status: CallerIdStatus, number: &str, lookup: LookupStatus) -> Answer {
    Answer {
        is_blocked: false,
        phone_number: number.to_owned(),
        caller_id_status: status,
        match_type: MatchType::None,
        blocked_reason: String::new(),
        blocked_date: String::new(),
        lookup_status: lookup,
    }
}

fn by_policy(status: CallerIdStatus, block: bool, match_type: MatchType) -> Answer {
    let mut answer = allowed(status, "", LookupStatus::Skipped);
    if block {
        answer.is_blocked = true;
        answer.match_type = match_type;
    }
    answer
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phone::{E164, InvalidReason};

    const NOW: i64 = 1_800_000_000;

    fn number() -> CallerId {
        CallerId::Valid(E164::from_canonical("+14155550123").unwrap())
    }

    fn entry(expires_at: Option<i64>) -> BlockEntry {
        BlockEntry {
            phone_number: "+14155550123".into(),
            reason: Some("robocaller".into()),
            created_at: Some("2026-01-02T03:04:05Z".into()),
            created_by: Some("admin".into()),
            expires_at,
            note: None,
        }
    }

    fn closed() -> Policy {
        Policy {
            fail_mode: FailMode::Closed,
            ..Policy::default()
        }
    }

    #[test]
    fn active_entry_blocks_with_reason_and_date() {
        let a = decide(
            &number(),
            Some(&Lookup::Found(Some(entry(None)))),
            &Policy::default(),
            NOW,
        );
        assert!(a.is_blocked);
        assert_eq!(a.match_type, MatchType::Exact);
        assert_eq!(a.phone_number, "+14155550123");
        assert_eq!(a.caller_id_status, CallerIdStatus::Valid);
        assert_eq!(a.blocked_reason, "robocaller");
        assert_eq!(a.blocked_date, "2026-01-02T03:04:05Z");
        assert_eq!(a.lookup_status, LookupStatus::Ok);
    }

    #[test]
    fn entry_expiring_in_the_future_still_blocks() {
        let a = decide(
            &number(),
            Some(&Lookup::Found(Some(entry(Some(NOW + 1))))),
            &Policy::default(),
            NOW,
        );
        assert!(a.is_blocked);
    }

    #[test]
    fn expired_entry_does_not_block() {
        for expires in [NOW, NOW - 1, 0] {
            let a = decide(
                &number(),
                Some(&Lookup::Found(Some(entry(Some(expires))))),
                &Policy::default(),
                NOW,
            );
            assert!(!a.is_blocked, "expires {expires}");
            assert_eq!(a.match_type, MatchType::None);
            assert_eq!(a.blocked_reason, "");
            assert_eq!(a.blocked_date, "");
            assert_eq!(a.lookup_status, LookupStatus::Ok);
        }
    }

    #[test]
    fn no_entry_allows() {
        let a = decide(&number(), Some(&Lookup::Found(None)), &closed(), NOW);
        assert!(!a.is_blocked);
        assert_eq!(a.match_type, MatchType::None);
        assert_eq!(a.lookup_status, LookupStatus::Ok);
    }

    #[test]
    fn failures_follow_fail_mode() {
        for (failure, status) in [
            (LookupFailure::Error, LookupStatus::Error),
            (LookupFailure::Timeout, LookupStatus::Timeout),
        ] {
            let open = decide(
                &number(),
                Some(&Lookup::Failed(failure)),
                &Policy::default(),
                NOW,
            );
            assert!(!open.is_blocked);
            assert_eq!(open.match_type, MatchType::None);
            assert_eq!(open.lookup_status, status);
            assert_eq!(open.phone_number, "+14155550123");

            let shut = decide(&number(), Some(&Lookup::Failed(failure)), &closed(), NOW);
            assert!(shut.is_blocked);
            assert_eq!(shut.match_type, MatchType::FailClosed);
            assert_eq!(shut.lookup_status, status);
        }
    }

    #[test]
    fn anonymous_and_missing_follow_block_anonymous() {
        for (caller, status) in [
            (CallerId::Anonymous, CallerIdStatus::Anonymous),
            (CallerId::Missing, CallerIdStatus::Missing),
        ] {
            let allow = decide(&caller, None, &Policy::default(), NOW);
            assert!(!allow.is_blocked);
            assert_eq!(allow.match_type, MatchType::None);
            assert_eq!(allow.caller_id_status, status);
            assert_eq!(allow.lookup_status, LookupStatus::Skipped);
            assert_eq!(allow.phone_number, "");

            let policy = Policy {
                block_anonymous: true,
                ..Policy::default()
            };
            let block = decide(&caller, None, &policy, NOW);
            assert!(block.is_blocked);
            assert_eq!(block.match_type, MatchType::Anonymous);
            assert_eq!(block.caller_id_status, status);
        }
    }

    #[test]
    fn invalid_follows_invalid_number_action() {
        let caller = CallerId::Invalid(InvalidReason::NotAValidNumber);
        let allow = decide(&caller, None, &Policy::default(), NOW);
        assert!(!allow.is_blocked);
        assert_eq!(allow.caller_id_status, CallerIdStatus::Invalid);
        assert_eq!(allow.match_type, MatchType::None);
        assert_eq!(allow.lookup_status, LookupStatus::Skipped);

        let policy = Policy {
            invalid_number_action: InvalidNumberAction::Block,
            // Anonymous blocking must not leak into invalid numbers.
            block_anonymous: false,
            ..Policy::default()
        };
        let block = decide(&caller, None, &policy, NOW);
        assert!(block.is_blocked);
        assert_eq!(block.match_type, MatchType::Invalid);
    }

    #[test]
    fn overlong_stored_reason_is_truncated() {
        let mut e = entry(None);
        e.reason = Some("x".repeat(10_000));
        let a = decide(
            &number(),
            Some(&Lookup::Found(Some(e))),
            &Policy::default(),
            NOW,
        );
        assert_eq!(
            a.blocked_reason.chars().count(),
            crate::entry::MAX_ANSWER_TEXT_CHARS
        );
    }
}
