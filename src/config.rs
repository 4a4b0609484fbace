//! Settings read from the environment once, at init. A bad value fails init
//! with a message naming the variable.

use std::time::Duration;

use crate::decision::{FailMode, InvalidNumberAction, Policy};
use crate::phone::DefaultCountry;

/// Default DynamoDB table holding blocked numbers.
pub const DEFAULT_TABLE_NAME: &str = "BlockedPhoneNumbers";
/// Default DynamoDB table holding the audit trail.
pub const DEFAULT_AUDIT_TABLE_NAME: &str = "BlockedPhoneNumbersAudit";
/// Default DynamoDB table holding prefix rules and allow entries.
pub const DEFAULT_RULES_TABLE_NAME: &str = "BlocklistRules";
/// Default bound on how stale the in-memory rules may be.
pub const DEFAULT_RULES_REFRESH_SECONDS: u64 = 60;
/// Default CloudWatch namespace of the function's metrics.
pub const DEFAULT_METRICS_NAMESPACE: &str = "ConnectBlocklist";
/// Default bound on the whole lookup, SDK retries included.
pub const DEFAULT_LOOKUP_TIMEOUT_MS: u64 = 1500;
/// Connect waits at most 8 s for a Lambda; the lookup must end well before.
pub const MAX_LOOKUP_TIMEOUT_MS: u64 = 7000;

/// How phone numbers appear in logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogNumbers {
    /// `+1415555****` (the default).
    #[default]
    Masked,
    /// The whole number (`LOG_PHONE_NUMBERS=full`).
    Full,
}

crate::wire_names!(LogNumbers, "a log setting" { Masked => "masked", Full => "full" });

/// Everything the Lambda reads from its environment.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub table_name: String,
    /// The audit table (the report function writes to it).
    pub audit_table_name: String,
    /// Agent reports block at once instead of waiting for an admin.
    pub reports_block_immediately: bool,
    pub rules_table_name: String,
    /// Rules are reloaded when older than this.
    pub rules_refresh: Duration,
    pub default_country: DefaultCountry,
    pub policy: Policy,
    pub lookup_timeout: Duration,
    pub log_numbers: LogNumbers,
    /// Count blocked calls on the entry that blocked them (`RECORD_HITS`).
    pub record_hits: bool,
    /// CloudWatch namespace of the EMF metrics (`METRICS_NAMESPACE`).
    pub metrics_namespace: String,
}

/// A configuration variable has a value the function cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid configuration: {variable}={value:?}: {expected}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub value: String,
    pub expected: String,
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `get`, so it can be tested without
    /// touching the process environment. Unset and blank variables take their
    /// defaults.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let var = |name: &'static str| {
            get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .map(|v| (name, v))
        };
        let invalid = |(variable, value): (&'static str, String), expected: &str| ConfigError {
            variable,
            value,
            expected: expected.to_owned(),
        };

        let table = |name: &'static str, default: &str| match var(name) {
            None => Ok(default.to_owned()),
            Some((_, v)) if is_table_name(&v) => Ok(v),
            Some(bad) => Err(invalid(
                bad,
                "a DynamoDB table name: 3-255 characters of A-Z a-z 0-9 _ - .",
            )),
        };
        let table_name = table("TABLE_NAME", DEFAULT_TABLE_NAME)?;
        let rules_table_name = table("RULES_TABLE_NAME", DEFAULT_RULES_TABLE_NAME)?;
        let audit_table_name = table("AUDIT_TABLE_NAME", DEFAULT_AUDIT_TABLE_NAME)?;
        let reports_block_immediately = match var("REPORTS_BLOCK_IMMEDIATELY") {
            None => false,
            Some(pair) => parse_bool(&pair.1).ok_or_else(|| invalid(pair, "`true` or `false`"))?,
        };
        let rules_refresh = match var("RULES_REFRESH_SECONDS") {
            None => Duration::from_secs(DEFAULT_RULES_REFRESH_SECONDS),
            Some(pair) => match pair.1.parse::<u64>() {
                Ok(s) if (1..=86_400).contains(&s) => Duration::from_secs(s),
                _ => return Err(invalid(pair, "seconds, from 1 to 86400")),
            },
        };
        let default_country = match var("DEFAULT_COUNTRY") {
            None => DefaultCountry::default(),
            Some(pair) => pair
                .1
                .parse()
                .map_err(|e: crate::phone::UnknownCountry| invalid(pair, &e.to_string()))?,
        };
        let fail_mode = match var("FAIL_MODE") {
            None => FailMode::Open,
            Some(pair) => match pair.1.to_ascii_lowercase().as_str() {
                "open" => FailMode::Open,
                "closed" => FailMode::Closed,
                _ => {
                    return Err(invalid(
                        pair,
                        "`open` (allow the call) or `closed` (block it)",
                    ));
                }
            },
        };
        let block_anonymous = match var("BLOCK_ANONYMOUS") {
            None => false,
            Some(pair) => parse_bool(&pair.1).ok_or_else(|| invalid(pair, "`true` or `false`"))?,
        };
        let invalid_number_action = match var("INVALID_NUMBER_ACTION") {
            None => InvalidNumberAction::Allow,
            Some(pair) => match pair.1.to_ascii_lowercase().as_str() {
                "allow" => InvalidNumberAction::Allow,
                "block" => InvalidNumberAction::Block,
                _ => return Err(invalid(pair, "`allow` or `block`")),
            },
        };
        let lookup_timeout = match var("LOOKUP_TIMEOUT_MS") {
            None => Duration::from_millis(DEFAULT_LOOKUP_TIMEOUT_MS),
            Some(pair) => match pair.1.parse::<u64>() {
                Ok(ms) if (1..=MAX_LOOKUP_TIMEOUT_MS).contains(&ms) => Duration::from_millis(ms),
                _ => {
                    return Err(invalid(
                        pair,
                        &format!(
                            "milliseconds, from 1 to {MAX_LOOKUP_TIMEOUT_MS} (Connect waits at most 8 s)"
                        ),
                    ));
                }
            },
        };
        let record_hits = match var("RECORD_HITS") {
            None => true,
            Some(pair) => parse_bool(&pair.1).ok_or_else(|| invalid(pair, "`true` or `false`"))?,
        };
        let metrics_namespace = match var("METRICS_NAMESPACE") {
            None => DEFAULT_METRICS_NAMESPACE.to_owned(),
            Some((_, v)) if v.len() <= 255 && !v.starts_with(':') && v.is_ascii() => v,
            Some(bad) => {
                return Err(invalid(
                    bad,
                    "a CloudWatch namespace: up to 255 ASCII characters",
                ));
            }
        };
        let log_numbers = match var("LOG_PHONE_NUMBERS") {
            None => LogNumbers::Masked,
            Some(pair) => match pair.1.to_ascii_lowercase().as_str() {
                "masked" => LogNumbers::Masked,
                "full" => LogNumbers::Full,
                _ => return Err(invalid(pair, "`masked` (the default) or `full`")),
            },
        };

        Ok(Config {
            table_name,
            audit_table_name,
            reports_block_immediately,
            rules_table_name,
            rules_refresh,
            default_country,
            policy: Policy {
                fail_mode,
                block_anonymous,
                invalid_number_action,
            },
            lookup_timeout,
            log_numbers,
            record_hits,
            metrics_namespace,
        })
    }
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

fn is_table_name(s: &str) -> bool {
    (3..=255).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_when_nothing_is_set() {
        let c = config(&[]).unwrap();
        assert_eq!(c.table_name, "BlockedPhoneNumbers");
        assert_eq!(c.rules_table_name, "BlocklistRules");
        assert_eq!(c.rules_refresh, Duration::from_secs(60));
        assert_eq!(c.default_country.code(), "US");
        assert_eq!(c.policy, Policy::default());
        assert_eq!(c.policy.fail_mode, FailMode::Open);
        assert!(!c.policy.block_anonymous);
        assert_eq!(c.policy.invalid_number_action, InvalidNumberAction::Allow);
        assert_eq!(c.lookup_timeout, Duration::from_millis(1500));
        assert_eq!(c.log_numbers, LogNumbers::Masked);
        assert!(c.record_hits);
        assert_eq!(c.metrics_namespace, "ConnectBlocklist");
    }

    #[test]
    fn reads_every_variable() {
        let c = config(&[
            ("TABLE_NAME", "Blocked-2"),
            ("DEFAULT_COUNTRY", "in"),
            ("FAIL_MODE", "CLOSED"),
            ("BLOCK_ANONYMOUS", "true"),
            ("INVALID_NUMBER_ACTION", "block"),
            ("LOOKUP_TIMEOUT_MS", "800"),
            ("LOG_PHONE_NUMBERS", "full"),
            ("RULES_TABLE_NAME", "Rules-2"),
            ("RULES_REFRESH_SECONDS", "5"),
        ])
        .unwrap();
        assert_eq!(c.rules_table_name, "Rules-2");
        assert_eq!(c.rules_refresh, Duration::from_secs(5));
        assert_eq!(c.table_name, "Blocked-2");
        assert_eq!(c.default_country.code(), "IN");
        assert_eq!(c.policy.fail_mode, FailMode::Closed);
        assert!(c.policy.block_anonymous);
        assert_eq!(c.policy.invalid_number_action, InvalidNumberAction::Block);
        assert_eq!(c.lookup_timeout, Duration::from_millis(800));
        assert_eq!(c.log_numbers, LogNumbers::Full);
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (var, value) in [
            ("TABLE_NAME", "no spaces allowed"),
            ("DEFAULT_COUNTRY", "Narnia"),
            ("FAIL_MODE", "sometimes"),
            ("BLOCK_ANONYMOUS", "yes"),
            ("INVALID_NUMBER_ACTION", "drop"),
            ("LOOKUP_TIMEOUT_MS", "0"),
            ("LOOKUP_TIMEOUT_MS", "9000"),
            ("LOOKUP_TIMEOUT_MS", "fast"),
            ("LOG_PHONE_NUMBERS", "some"),
            ("RULES_TABLE_NAME", "a"),
            ("RULES_REFRESH_SECONDS", "0"),
            ("RECORD_HITS", "maybe"),
            ("REPORTS_BLOCK_IMMEDIATELY", "soon"),
            ("AUDIT_TABLE_NAME", "x"),
        ] {
            let err = config(&[(var, value)]).unwrap_err();
            assert_eq!(err.variable, var);
            let message = err.to_string();
            assert!(
                message.contains(var) && message.contains(value),
                "{message}"
            );
        }
    }
}
