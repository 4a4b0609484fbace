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
