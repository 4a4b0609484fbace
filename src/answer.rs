//! The flat, string-valued map returned to Amazon Connect.

use serde::{Serialize, Serializer};

/// What the caller ID turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum CallerIdStatus {
    Valid,
    Invalid,
    Anonymous,
    Missing,
}

/// Which rule decided the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum MatchType {
    /// The number has an active entry.
    Exact,
    /// The number starts with an active prefix rule (the longest one decides).
    Prefix,
    /// An allow entry (exact or prefix) covers the number.
    Allow,
    /// Blocked because the caller ID was withheld or missing and `BLOCK_ANONYMOUS=true`.
    Anonymous,
    /// Blocked because the caller ID was invalid and `INVALID_NUMBER_ACTION=block`.
    Invalid,
    /// Blocked because the lookup failed and `FAIL_MODE=closed`.
    FailClosed,
    /// Blocked because the number called more than `RATE_LIMIT_CALLS`
    /// times within `RATE_LIMIT_WINDOW_SECONDS`.
    RateLimited,
    /// Not blocked: a monitoring entry (exact or prefix) matched, and
    /// nothing else blocked the call.
    Monitor,
    /// Nothing blocked the call.
    None,
}

/// What happened to the DynamoDB lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum LookupStatus {
    /// The lookup answered (found or not).
    Ok,
    /// There was no valid number to look up.
    Skipped,
    /// DynamoDB returned an error or could not be reached.
    Error,
    /// The lookup did not finish within `LOOKUP_TIMEOUT_MS`.
    Timeout,
}

/// Every key of the serialized [`Answer`], sorted: what a flow may read.
pub const ANSWER_KEYS: [&str; 11] = [
    "blockAction",
    "blockMessage",
    "blockQueueArn",
    "blockedDate",
    "blockedReason",
    "callerIdStatus",
    "isBlocked",
    "lookupStatus",
    "matchType",
    "matchedRule",
    "phoneNumber",
];

/// The Lambda's answer. Serializes to a flat JSON object whose values are all
/// strings, with every key always present, as Connect's STRING_MAP needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Answer {
    #[serde(serialize_with = "bool_string")]
    pub is_blocked: bool,
    pub phone_number: String,
    pub caller_id_status: CallerIdStatus,
    pub match_type: MatchType,
    /// The number, prefix or allow entry that decided; `""` for policies.
    pub matched_rule: String,
    pub blocked_reason: String,
    pub blocked_date: String,
    pub lookup_status: LookupStatus,
    /// `disconnect`, `message` or `queue` when blocked; `""` otherwise.
    pub block_action: String,
    /// The message to play for `message`; `""` otherwise.
    pub block_message: String,
    /// The queue to route to for `queue`; `""` otherwise.
    pub block_queue_arn: String,
}

/// Longest reason, date or message copied into the answer; keeps the answer
/// far below Connect's 32 KB limit whatever was stored.
pub const MAX_ANSWER_TEXT_CHARS: usize = 256;

/// Truncates stored text for the answer map at a character boundary.
pub fn answer_text(s: Option<&str>) -> String {
    s.unwrap_or_default()
        .chars()
        .take(MAX_ANSWER_TEXT_CHARS)
        .collect()
}

crate::wire_names!(CallerIdStatus, "a caller ID status" { Valid => "valid", Invalid => "invalid", Anonymous => "anonymous", Missing => "missing" });
crate::wire_names!(MatchType, "a match type" { Exact => "exact", Prefix => "prefix", Allow => "allow", Anonymous => "anonymous", Invalid => "invalid", FailClosed => "failClosed", RateLimited => "rateLimited", Monitor => "monitor", None => "none" });
crate::wire_names!(LookupStatus, "a lookup status" { Ok => "ok", Skipped => "skipped", Error => "error", Timeout => "timeout" });

fn bool_string<S: Serializer>(value: &bool, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(if *value { "true" } else { "false" })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn serializes_to_a_flat_map_of_strings_with_every_key() {
        let answer = Answer {
            is_blocked: true,
            phone_number: "+14155550123".into(),
            caller_id_status: CallerIdStatus::Valid,
            match_type: MatchType::FailClosed,
            matched_rule: String::new(),
            blocked_reason: String::new(),
            blocked_date: String::new(),
            lookup_status: LookupStatus::Timeout,
            block_action: "disconnect".into(),
            block_message: String::new(),
            block_queue_arn: String::new(),
        };
        let value = serde_json::to_value(&answer).unwrap();
        let map = value.as_object().unwrap();
        let keys: Vec<_> = map.keys().map(String::as_str).collect();
        assert_eq!(keys, ANSWER_KEYS);
        assert!(map.values().all(Value::is_string));
        assert_eq!(map["isBlocked"], "true");
        assert_eq!(map["matchType"], "failClosed");
        assert_eq!(map["lookupStatus"], "timeout");
        assert_eq!(map["callerIdStatus"], "valid");
        assert_eq!(map["blockAction"], "disconnect");
    }

    #[test]
    fn as_str_matches_the_serialized_names() {
        for m in MatchType::ALL {
            assert_eq!(serde_json::to_value(m).unwrap(), m.as_str());
        }
        for c in CallerIdStatus::ALL {
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
        }
        for l in LookupStatus::ALL {
            assert_eq!(serde_json::to_value(l).unwrap(), l.as_str());
        }
    }
}
