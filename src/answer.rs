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
    /// Blocked because the caller ID was withheld or missing and `BLOCK_ANONYMOUS=true`.
    Anonymous,
    /// Blocked because the caller ID was invalid and `INVALID_NUMBER_ACTION=block`.
    Invalid,
    /// Blocked because the lookup failed and `FAIL_MODE=closed`.
    FailClosed,
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
    pub blocked_reason: String,
    pub blocked_date: String,
    pub lookup_status: LookupStatus,
}

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
            blocked_reason: String::new(),
            blocked_date: String::new(),
            lookup_status: LookupStatus::Timeout,
        };
        let value = serde_json::to_value(&answer).unwrap();
        let map = value.as_object().unwrap();
        let keys: Vec<_> = map.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "blockedDate",
                "blockedReason",
                "callerIdStatus",
                "isBlocked",
                "lookupStatus",
                "matchType",
                "phoneNumber"
            ]
        );
        assert!(map.values().all(Value::is_string));
        assert_eq!(map["isBlocked"], "true");
        assert_eq!(map["matchType"], "failClosed");
        assert_eq!(map["lookupStatus"], "timeout");
        assert_eq!(map["callerIdStatus"], "valid");
    }
}
