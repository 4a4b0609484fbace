//! The console's overview: entries by kind and status, what blocked in the
//! last days (from the hit counts the Lambda keeps on each entry), and the
//! stale blocks a team should review. A pure function of the entries, so
//! every count is unit-tested; the handler reads both tables once.

use std::collections::BTreeMap;

use axum::Json;
use serde::Serialize;

use super::Session;
use super::api::ApiError;

use crate::cli::idle_since;
use crate::entry::{Entry, Kind, Mode, Status};
use crate::when::{now_epoch, parse_absolute};

/// Blocks that have not blocked a call (nor been made) for this long are
/// stale (90 days), as `blocklist list --not-hit-since 90d` lists them.
pub const STALE_AFTER_SECONDS: i64 = 90 * 86_400;

/// "Recently" for the overview's blocked calls: the last 7 days.
pub const RECENT_SECONDS: i64 = 7 * 86_400;

/// How many stale blocks the overview names (the oldest first).
const STALE_SHOWN: usize = 10;

/// Counts of one kind of entry, by status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct KindCounts {
    /// In force: active and not expired (monitors included).
    pub active: usize,
    /// Of those, watching only (`mode` monitor).
    pub monitoring: usize,
    /// Agents' reports waiting for a decision.
    pub pending: usize,
    /// Past their `expiresAt`, not yet deleted by TTL.
    pub expired: usize,
}

/// What the overview page shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Overview {
    /// Per kind (`block`, `prefix`, `allow`, `allowPrefix`, `report`).
    pub by_kind: BTreeMap<&'static str, KindCounts>,
    /// Entries whose last block falls in the last [`RECENT_SECONDS`].
    pub blocked_recently: usize,
    /// Their hit counts added up. Hit counts are totals since each entry
    /// was made, not per day: this is the calls those entries blocked in
    /// all, an upper bound on the calls blocked in the last 7 days.
    pub recent_entries_blocks: u64,
    /// Blocks in force that have not blocked a call (nor been made) in
    /// [`STALE_AFTER_SECONDS`].
    pub stale: usize,
    /// The oldest of those, at most ten.
    pub stalest: Vec<StaleEntry>,
}

/// A stale block the overview names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StaleEntry {
    pub kind: &'static str,
    pub value: String,
    /// When it last blocked a call, or else was made (ISO 8601).
    pub last_active: String,
}

impl Overview {
    /// The overview of `entries` at `now` (epoch seconds).
    pub fn of(entries: &[Entry], now: i64) -> Overview {
        let mut overview = Overview::default();
        for e in entries {
            let counts = overview.by_kind.entry(e.kind.as_str()).or_default();
            count_status(counts, e, now);
        }
        let recent: Vec<&Entry> = entries
            .iter()
            .filter(|e| last_block(e).is_some_and(|at| at > now - RECENT_SECONDS))
            .collect();
        overview.blocked_recently = recent.len();
        overview.recent_entries_blocks = recent.iter().filter_map(|e| e.block_count).sum();
        let mut stale: Vec<&Entry> = entries
            .iter()
            .filter(|e| e.kind.blocks() && e.is_active_at(now))
            .filter(|e| idle_since(e, now - STALE_AFTER_SECONDS))
            .collect();
        overview.stale = stale.len();
        stale.sort_by_key(|e| activity_text(e));
        overview.stalest = stale
            .iter()
            .take(STALE_SHOWN)
            .map(|e| StaleEntry {
                kind: e.kind.as_str(),
                value: e.value.clone(),
                last_active: activity_text(e),
            })
            .collect();
        overview
    }
}

/// `GET /api/overview`. Reads both tables whole (one scan each), as
/// `blocklist list` does: a page for a team's thousands of entries, not a
/// request to make often at millions.
pub async fn handler(s: Session) -> Result<Json<Overview>, ApiError> {
    let entries = s.admin.list(true).await?;
    Ok(Json(with_every_kind(Overview::of(&entries, now_epoch()))))
}

/// Adds `e` to its kind's counts.
fn count_status(counts: &mut KindCounts, e: &Entry, now: i64) {
    if e.is_expired_at(now) {
        counts.expired += 1;
        return;
    }
    match e.status {
        Status::Pending => counts.pending += 1,
        Status::Active => {
            counts.active += 1;
            if e.kind.blocks() && e.mode == Mode::Monitor {
                counts.monitoring += 1;
            }
        }
    }
}

/// When `e` last blocked a call (epoch seconds), if it ever did.
fn last_block(e: &Entry) -> Option<i64> {
    e.last_blocked_at
        .as_deref()
        .and_then(|at| parse_absolute(at).ok())
}

/// When `e` last blocked, or else was made, as stored (ISO 8601 sorts).
fn activity_text(e: &Entry) -> String {
    e.last_blocked_at
        .clone()
        .or_else(|| e.created_at.clone())
        .unwrap_or_default()
}

/// Every kind the overview counts, so the page shows zeros too.
pub fn with_every_kind(mut overview: Overview) -> Overview {
    for kind in Kind::ALL {
        overview.by_kind.entry(kind.as_str()).or_default();
    }
    overview
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::when::rfc3339;

    const NOW: i64 = 1_800_000_000;

    fn entry(kind: Kind, value: &str) -> Entry {
        Entry {
            kind,
            value: value.into(),
            created_at: Some(rfc3339(NOW - 200 * 86_400)),
            ..Entry::default()
        }
    }

    #[test]
    fn counts_kinds_statuses_recent_blocks_and_stale_blocks() {
        let recent = Entry {
            block_count: Some(12),
            last_blocked_at: Some(rfc3339(NOW - 86_400)),
            ..entry(Kind::Block, "+14155550101")
        };
        let last_month = Entry {
            block_count: Some(3),
            last_blocked_at: Some(rfc3339(NOW - 30 * 86_400)),
            ..entry(Kind::Block, "+14155550102")
        };
        let stale = entry(Kind::Block, "+14155550103");
        let new = Entry {
            created_at: Some(rfc3339(NOW - 86_400)),
            ..entry(Kind::Block, "+14155550104")
        };
        let monitoring = Entry {
            mode: Mode::Monitor,
            ..entry(Kind::Prefix, "+1900")
        };
        let expired = Entry {
            expires_at: Some(NOW - 1),
            ..entry(Kind::Block, "+14155550105")
        };
        let pending = Entry {
            status: Status::Pending,
            ..entry(Kind::Report, "+14155550106")
        };
        let allow = entry(Kind::Allow, "+14155550107");
        let all = [
            recent, last_month, stale, new, monitoring, expired, pending, allow,
        ];
        let o = with_every_kind(Overview::of(&all, NOW));
        let block = &o.by_kind["block"];
        assert_eq!((block.active, block.expired, block.pending), (4, 1, 0));
        assert_eq!(o.by_kind["prefix"].monitoring, 1);
        assert_eq!(o.by_kind["report"].pending, 1);
        assert_eq!(o.by_kind["allowPrefix"], KindCounts::default());
        assert_eq!((o.blocked_recently, o.recent_entries_blocks), (1, 12));
        // Idle 90 days: the old block that never blocked, and the old
        // monitoring prefix (never the allow entry, the new one, the
        // expired one, or those that blocked lately).
        assert_eq!(o.stale, 2);
        let names: Vec<(&str, &str)> = o
            .stalest
            .iter()
            .map(|e| (e.kind, e.value.as_str()))
            .collect();
        assert_eq!(names, [("block", "+14155550103"), ("prefix", "+1900")]);
    }
}
