//! Settings read from the environment once, at init. A bad value fails init
//! with a message naming the variable.

use std::time::Duration;

use crate::admin::plan::{AutoBlock, MAX_REPORTERS, ReportPolicy};
use crate::answer::MAX_ANSWER_TEXT_CHARS;
use crate::decision::{Policy, RateLimit};
use crate::entry::BlockAction;
use crate::logging::capped;
use crate::phone::{DefaultCountry, mask};
use crate::when::parse_duration;

/// Default DynamoDB table holding blocked numbers.
pub const DEFAULT_TABLE_NAME: &str = "BlockedPhoneNumbers";
/// Default DynamoDB table holding the audit trail.
pub const DEFAULT_AUDIT_TABLE_NAME: &str = "BlockedPhoneNumbersAudit";
/// Default DynamoDB table holding prefix rules and allow entries.
pub const DEFAULT_RULES_TABLE_NAME: &str = "BlocklistRules";
/// Default DynamoDB table counting calls per number, for the rate limit.
pub const DEFAULT_COUNTERS_TABLE_NAME: &str = "BlocklistCallCounters";
/// Default rate-limit window.
pub const DEFAULT_RATE_LIMIT_WINDOW_SECONDS: u64 = 300;
/// Distinct agents' reports count for an auto-block within this many hours.
pub const DEFAULT_AUTO_BLOCK_WINDOW_HOURS: u64 = 24;
/// How long an auto-block lasts (30 days), unless REPORTS_AUTO_BLOCK_EXPIRES says.
pub const DEFAULT_AUTO_BLOCK_EXPIRES_SECONDS: i64 = 30 * 86_400;
/// What a rate-limited caller hears by default.
pub const DEFAULT_RATE_LIMIT_MESSAGE: &str =
    "You have called several times in a short while. Please try again later.";
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

impl LogNumbers {
    /// `number` as a log line shows it: masked, or whole but cut to a log
    /// field's length (a refused caller ID is as long as the event made it).
    pub fn show(self, number: &str) -> String {
        match self {
            LogNumbers::Masked => mask(number),
            LogNumbers::Full => capped(number).into_owned(),
        }
    }
}

/// Everything the Lambda reads from its environment.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub table_name: String,
    /// The audit table (the report function writes to it).
    pub audit_table_name: String,
    /// What agent reports do: block at once instead of waiting for an
    /// admin (`REPORTS_BLOCK_IMMEDIATELY`), or block by themselves once
    /// enough distinct agents made one (`REPORTS_AUTO_BLOCK_*`).
    pub reports: ReportPolicy,
    pub rules_table_name: String,
    /// Calls counted per number and window, while the rate limit is on.
    pub counters_table_name: String,
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
        let env = Env(&get);
        Ok(Config {
            table_name: env.table("TABLE_NAME", DEFAULT_TABLE_NAME)?,
            audit_table_name: env.table("AUDIT_TABLE_NAME", DEFAULT_AUDIT_TABLE_NAME)?,
            rules_table_name: env.table("RULES_TABLE_NAME", DEFAULT_RULES_TABLE_NAME)?,
            reports: ReportPolicy {
                block_now: env.flag("REPORTS_BLOCK_IMMEDIATELY", false)?,
                auto_block: env.auto_block()?,
            },
            rules_refresh: Duration::from_secs(env.number(
                "RULES_REFRESH_SECONDS",
                DEFAULT_RULES_REFRESH_SECONDS,
                1..=86_400,
                "seconds, from 1 to 86400",
            )?),
            default_country: env.parsed("DEFAULT_COUNTRY")?.unwrap_or_default(),
            policy: Policy {
                fail_mode: env.parsed("FAIL_MODE")?.unwrap_or_default(),
                block_anonymous: env.flag("BLOCK_ANONYMOUS", false)?,
                invalid_number_action: env.parsed("INVALID_NUMBER_ACTION")?.unwrap_or_default(),
                rate_limit: env.rate_limit()?,
            },
            counters_table_name: env.table("COUNTERS_TABLE_NAME", DEFAULT_COUNTERS_TABLE_NAME)?,
            lookup_timeout: Duration::from_millis(env.number(
                "LOOKUP_TIMEOUT_MS",
                DEFAULT_LOOKUP_TIMEOUT_MS,
                1..=MAX_LOOKUP_TIMEOUT_MS,
                &format!(
                    "milliseconds, from 1 to {MAX_LOOKUP_TIMEOUT_MS} (Connect waits at most 8 s)"
                ),
            )?),
            log_numbers: env.parsed("LOG_PHONE_NUMBERS")?.unwrap_or_default(),
            record_hits: env.flag("RECORD_HITS", true)?,
            metrics_namespace: env.metrics_namespace()?,
        })
    }
}

/// The variables, read through a lookup function; one method per kind of value.
struct Env<'a, F: Fn(&str) -> Option<String>>(&'a F);

impl<F: Fn(&str) -> Option<String>> Env<'_, F> {
    /// The trimmed value of `name`; unset and blank are `None`.
    fn var(&self, name: &str) -> Option<String> {
        (self.0)(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    fn invalid(variable: &'static str, value: String, expected: &str) -> ConfigError {
        ConfigError {
            variable,
            value,
            expected: expected.to_owned(),
        }
    }

    /// A DynamoDB table name, or `default`.
    fn table(&self, name: &'static str, default: &str) -> Result<String, ConfigError> {
        match self.var(name) {
            None => Ok(default.to_owned()),
            Some(v) if is_table_name(&v) => Ok(v),
            Some(v) => Err(Self::invalid(
                name,
                v,
                "a DynamoDB table name: 3-255 characters of A-Z a-z 0-9 _ - .",
            )),
        }
    }

    /// `true` or `false` (any case), or `default`.
    fn flag(&self, name: &'static str, default: bool) -> Result<bool, ConfigError> {
        match self.var(name) {
            None => Ok(default),
            Some(v) => parse_bool(&v).ok_or_else(|| Self::invalid(name, v, "`true` or `false`")),
        }
    }

    /// A whole number in `range`, or `default`.
    fn number(
        &self,
        name: &'static str,
        default: u64,
        range: std::ops::RangeInclusive<u64>,
        expected: &str,
    ) -> Result<u64, ConfigError> {
        match self.var(name) {
            None => Ok(default),
            Some(v) => match v.parse::<u64>() {
                Ok(n) if range.contains(&n) => Ok(n),
                _ => Err(Self::invalid(name, v, expected)),
            },
        }
    }

    /// A value with a `FromStr` (the policy enums, the country); the parse
    /// error says what is accepted.
    fn parsed<T>(&self, name: &'static str) -> Result<Option<T>, ConfigError>
    where
        T: std::str::FromStr,
        T::Err: std::fmt::Display,
    {
        self.var(name)
            .map(|v| {
                v.parse()
                    .map_err(|e: T::Err| Self::invalid(name, v, &e.to_string()))
            })
            .transpose()
    }

    /// `RATE_LIMIT_CALLS` (0, the default, is off) and the settings that go
    /// with it. The action is `message` (the default) or `disconnect`: a
    /// queue would need an ARN, and a caller over the limit is told why.
    fn rate_limit(&self) -> Result<Option<RateLimit>, ConfigError> {
        let calls = self.number(
            "RATE_LIMIT_CALLS",
            0,
            0..=1_000_000,
            "calls, from 0 (off) to 1000000",
        )?;
        let window_seconds = self.number(
            "RATE_LIMIT_WINDOW_SECONDS",
            DEFAULT_RATE_LIMIT_WINDOW_SECONDS,
            1..=86_400,
            "seconds, from 1 to 86400",
        )?;
        let action: BlockAction = self
            .parsed("RATE_LIMIT_ACTION")?
            .unwrap_or(BlockAction::Message);
        if action == BlockAction::Queue {
            return Err(Self::invalid(
                "RATE_LIMIT_ACTION",
                action.as_str().to_owned(),
                "`message` or `disconnect` (a queue needs an entry's queueArn)",
            ));
        }
        let message = self
            .var("RATE_LIMIT_MESSAGE")
            .unwrap_or_else(|| DEFAULT_RATE_LIMIT_MESSAGE.to_owned());
        if message.chars().count() > MAX_ANSWER_TEXT_CHARS {
            return Err(Self::invalid(
                "RATE_LIMIT_MESSAGE",
                message,
                &format!("at most {MAX_ANSWER_TEXT_CHARS} characters"),
            ));
        }
        Ok((calls > 0).then_some(RateLimit {
            calls,
            window_seconds,
            action,
            message,
        }))
    }

    /// `REPORTS_AUTO_BLOCK_THRESHOLD` (0, the default, is off; else at
    /// least 2 agents: one is `REPORTS_BLOCK_IMMEDIATELY`), with its window
    /// (`REPORTS_AUTO_BLOCK_WINDOW_HOURS`, default 24) and how long the
    /// block lasts (`REPORTS_AUTO_BLOCK_EXPIRES`, a duration like `30d`,
    /// the default, or `12h`).
    fn auto_block(&self) -> Result<Option<AutoBlock>, ConfigError> {
        let threshold = self.number(
            "REPORTS_AUTO_BLOCK_THRESHOLD",
            0,
            0..=MAX_REPORTERS as u64,
            &format!(
                "distinct agents, 0 (off) or from 2 to {MAX_REPORTERS} (for 1, set REPORTS_BLOCK_IMMEDIATELY=true)"
            ),
        )?;
        if threshold == 1 {
            return Err(Self::invalid(
                "REPORTS_AUTO_BLOCK_THRESHOLD",
                threshold.to_string(),
                "0 (off) or at least 2 distinct agents: for one agent's report to block, set REPORTS_BLOCK_IMMEDIATELY=true",
            ));
        }
        let window_hours = self.number(
            "REPORTS_AUTO_BLOCK_WINDOW_HOURS",
            DEFAULT_AUTO_BLOCK_WINDOW_HOURS,
            1..=8_760,
            "hours, from 1 to 8760 (a year)",
        )?;
        let expires_seconds = match self.var("REPORTS_AUTO_BLOCK_EXPIRES") {
            None => DEFAULT_AUTO_BLOCK_EXPIRES_SECONDS,
            Some(v) => parse_duration(&v).map_err(|e| {
                Self::invalid(
                    "REPORTS_AUTO_BLOCK_EXPIRES",
                    v,
                    &format!("a duration such as 30d or 12h: {e}"),
                )
            })?,
        };
        Ok((threshold > 0).then_some(AutoBlock {
            threshold: threshold as usize,
            window_seconds: window_hours as i64 * 3600,
            expires_seconds,
        }))
    }

    fn metrics_namespace(&self) -> Result<String, ConfigError> {
        match self.var("METRICS_NAMESPACE") {
            None => Ok(DEFAULT_METRICS_NAMESPACE.to_owned()),
            Some(v) if v.len() <= 255 && !v.starts_with(':') && v.is_ascii() => Ok(v),
            Some(v) => Err(Self::invalid(
                "METRICS_NAMESPACE",
                v,
                "a CloudWatch namespace: up to 255 ASCII characters",
            )),
        }
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
    use crate::decision::{FailMode, InvalidNumberAction};
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
            ("REPORTS_AUTO_BLOCK_THRESHOLD", "1"),
            ("REPORTS_AUTO_BLOCK_THRESHOLD", "many"),
            ("REPORTS_AUTO_BLOCK_WINDOW_HOURS", "0"),
            ("REPORTS_AUTO_BLOCK_EXPIRES", "a month"),
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

    #[test]
    fn auto_block_is_off_unless_a_threshold_is_set() {
        assert_eq!(config(&[]).unwrap().reports.auto_block, None);
        let on = config(&[("REPORTS_AUTO_BLOCK_THRESHOLD", "3")]).unwrap();
        assert_eq!(
            on.reports.auto_block,
            Some(AutoBlock {
                threshold: 3,
                window_seconds: 24 * 3600,
                expires_seconds: 30 * 86_400,
            })
        );
        let set = config(&[
            ("REPORTS_AUTO_BLOCK_THRESHOLD", "2"),
            ("REPORTS_AUTO_BLOCK_WINDOW_HOURS", "6"),
            ("REPORTS_AUTO_BLOCK_EXPIRES", "7d"),
        ])
        .unwrap();
        let rule = set.reports.auto_block.unwrap();
        assert_eq!(
            (rule.window_seconds, rule.expires_seconds),
            (6 * 3600, 7 * 86_400)
        );
        let one = config(&[("REPORTS_AUTO_BLOCK_THRESHOLD", "1")]).unwrap_err();
        assert!(
            one.to_string().contains("REPORTS_BLOCK_IMMEDIATELY"),
            "{one}"
        );
    }
}
