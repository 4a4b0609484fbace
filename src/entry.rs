//! A blocklist entry as stored in the table.

/// Longest reason or date copied into the answer; keeps the answer far below
/// Connect's 32 KB limit whatever was stored.
pub const MAX_ANSWER_TEXT_CHARS: usize = 256;

/// One item of the `BlockedPhoneNumbers` table.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BlockEntry {
    /// Partition key, E.164.
    pub phone_number: String,
    /// Why it is blocked (`reason`, or the older `blockedReason`).
    pub reason: Option<String>,
    /// When it was blocked, ISO 8601 (`createdAt`, or the older `blockedDate`).
    pub created_at: Option<String>,
    /// Who blocked it.
    pub created_by: Option<String>,
    /// When the block ends, epoch seconds; also the table's TTL attribute.
    pub expires_at: Option<i64>,
    /// Free-text note for admins.
    pub note: Option<String>,
}

impl BlockEntry {
    /// Whether the entry blocks at `now` (epoch seconds). An entry whose
    /// `expiresAt` has passed no longer blocks, even before TTL deletes it.
    pub fn is_active_at(&self, now: i64) -> bool {
        self.expires_at.is_none_or(|expires| expires > now)
    }
}

/// Truncates text for the answer map at a character boundary.
pub fn answer_text(s: Option<&str>) -> String {
    s.unwrap_or_default()
        .chars()
        .take(MAX_ANSWER_TEXT_CHARS)
        .collect()
}
