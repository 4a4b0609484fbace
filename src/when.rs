//! Times as the blocklist stores and accepts them: epoch seconds in the
//! table, RFC 3339 UTC for people, and expiry specs such as `12h`, `7d`,
//! `2026-12-31` or `2026-12-31T18:00:00Z`.

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, UtcOffset};

/// A time or expiry the user gave could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` is not a time: use {expected}")]
pub struct TimeError {
    pub input: String,
    pub expected: &'static str,
}

/// An expiry given for a new entry has already passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{} is already in the past: the entry would never block; give a later time, or none to block until removed", rfc3339(*.0))]
pub struct ExpiryInPast(pub i64);

const ABSOLUTE: &str =
    "a date (2026-12-31), a UTC datetime (2026-12-31T18:00:00Z) or epoch seconds";
const DURATION: &str = "a duration: 90s, 30m, 12h, 7d, 2w";
const EXPIRY: &str = "a duration (90s, 30m, 12h, 7d, 2w), a date (2026-12-31), a UTC datetime (2026-12-31T18:00:00Z) or epoch seconds";

/// Seconds since the Unix epoch, now.
pub fn now_epoch() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// `2026-12-31T18:00:00Z` for epoch seconds (out-of-range values print as the number).
pub fn rfc3339(epoch: i64) -> String {
    OffsetDateTime::from_unix_timestamp(epoch)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| epoch.to_string())
}

/// Now, as RFC 3339 UTC with milliseconds: `2026-11-27T06:30:00.123Z`.
pub fn now_rfc3339_millis() -> String {
    let now = OffsetDateTime::now_utc();
    let format =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    now.format(&format)
        .unwrap_or_else(|_| now.unix_timestamp().to_string())
}

/// The one rule for the expiry of a new entry, wherever it is given
/// (`add --expires`, an import row, `import --expires`): it must be later
/// than `now`. An entry expiring at `now` has expired
/// ([`crate::entry::Entry::is_expired_at`]): it would never block, and
/// stored over an active block it would end that block at once.
pub fn future_expiry(expires_at: i64, now: i64) -> Result<i64, ExpiryInPast> {
    if expires_at > now {
        Ok(expires_at)
    } else {
        Err(ExpiryInPast(expires_at))
    }
}

/// Reads an absolute time: `2026-12-31` (midnight UTC), an RFC 3339 datetime
/// (any offset), or epoch seconds.
pub fn parse_absolute(input: &str) -> Result<i64, TimeError> {
    let s = input.trim();
    let err = || TimeError {
        input: input.to_owned(),
        expected: ABSOLUTE,
    };
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().map_err(|_| err());
    }
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Ok(t.unix_timestamp());
    }
    let date_format = format_description!("[year]-[month]-[day]");
    if let Ok(date) = Date::parse(s, &date_format) {
        return Ok(date
            .midnight()
            .assume_offset(UtcOffset::UTC)
            .unix_timestamp());
    }
    Err(err())
}

/// Reads a duration (`90s`, `30m`, `12h`, `7d`, `2w`) as seconds.
pub fn parse_duration(input: &str) -> Result<i64, TimeError> {
    let s = input.trim();
    let err = || TimeError {
        input: input.to_owned(),
        expected: DURATION,
    };
    let unit = s
        .chars()
        .last()
        .filter(|c| c.is_ascii_alphabetic())
        .ok_or_else(err)?;
    let digits = &s[..s.len() - 1];
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err());
    }
    let n: i64 = digits.parse().map_err(|_| err())?;
    let seconds = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        'w' => 7 * 86_400,
        _ => return Err(err()),
    };
    n.checked_mul(seconds).filter(|_| n > 0).ok_or_else(err)
}

/// Reads an expiry: a duration from `now` (`90s`, `30m`, `12h`, `7d`, `2w`)
/// or an absolute time as [`parse_absolute`] reads it.
pub fn parse_expiry(input: &str, now: i64) -> Result<i64, TimeError> {
    let s = input.trim();
    let err = || TimeError {
        input: input.to_owned(),
        expected: EXPIRY,
    };
    let looks_like_duration = s.len() > 1
        && s.chars().last().is_some_and(|c| c.is_ascii_alphabetic())
        && s[..s.len() - 1].bytes().all(|b| b.is_ascii_digit());
    if looks_like_duration {
        let seconds = parse_duration(s).map_err(|_| err())?;
        return now.checked_add(seconds).ok_or_else(err);
    }
    parse_absolute(s).map_err(|_| err())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_count_from_now() {
        let now = 1_000_000;
        assert_eq!(parse_expiry("1s", now), Ok(now + 1));
        assert_eq!(parse_expiry("30m", now), Ok(now + 1800));
        assert_eq!(parse_expiry("12h", now), Ok(now + 43_200));
        assert_eq!(parse_expiry("7d", now), Ok(now + 604_800));
        assert_eq!(parse_expiry("2w", now), Ok(now + 1_209_600));
    }

    #[test]
    fn absolute_forms() {
        assert_eq!(parse_absolute("2026-12-31"), Ok(1_798_675_200));
        assert_eq!(parse_absolute("2026-12-31T18:00:00Z"), Ok(1_798_740_000));
        assert_eq!(
            parse_absolute("2026-12-31T19:00:00+01:00"),
            Ok(1_798_740_000)
        );
        assert_eq!(parse_absolute("1798740000"), Ok(1_798_740_000));
        assert_eq!(parse_expiry("2026-12-31", 0), Ok(1_798_675_200));
        assert_eq!(rfc3339(1_798_740_000), "2026-12-31T18:00:00Z");
    }

    #[test]
    fn an_expiry_must_be_later_than_now() {
        assert_eq!(future_expiry(1_001, 1_000), Ok(1_001));
        assert_eq!(future_expiry(1_000, 1_000), Err(ExpiryInPast(1_000)));
        assert_eq!(
            future_expiry(1_577_836_800, 1_800_000_000)
                .unwrap_err()
                .to_string(),
            "2020-01-01T00:00:00Z is already in the past: the entry would never block; give a later time, or none to block until removed"
        );
    }

    #[test]
    fn bad_input_is_refused() {
        for bad in [
            "",
            "tomorrow",
            "7x",
            "0d",
            "-5d",
            "2026-13-01",
            "2026-12-31 18:00",
            "12",
            "h",
        ] {
            assert!(parse_expiry(bad, 0).is_err() || bad == "12", "{bad}");
        }
        for bad in ["", "yesterday", "2026-02-30", "31/12/2026", "1e9"] {
            assert!(parse_absolute(bad).is_err(), "{bad}");
        }
    }
}
