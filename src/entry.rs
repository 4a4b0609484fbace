//! Blocklist entries as stored: exact blocks in the blocklist table, prefix
//! rules and allow entries in the rules table.

use std::fmt;
use std::str::FromStr;

/// Longest reason, date or message copied into the answer; keeps the answer
/// far below Connect's 32 KB limit whatever was stored.
pub const MAX_ANSWER_TEXT_CHARS: usize = 256;

/// What an entry does, and to what it applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Kind {
    /// Blocks one number (the blocklist table; the Lambda's one read).
    #[default]
    Block,
    /// Blocks every number starting with a prefix.
    Prefix,
    /// Never blocks one number.
    Allow,
    /// Never blocks numbers starting with a prefix.
    AllowPrefix,
}

impl Kind {
    /// All kinds, in the order `list` shows them.
    pub const ALL: [Kind; 4] = [Kind::Block, Kind::Prefix, Kind::Allow, Kind::AllowPrefix];

    /// The name in CSV files, `list` and the rules table.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Block => "block",
            Kind::Prefix => "prefix",
            Kind::Allow => "allow",
            Kind::AllowPrefix => "allowPrefix",
        }
    }

    /// Whether the entry's value is a prefix rather than a whole number.
    pub fn is_prefix(self) -> bool {
        matches!(self, Kind::Prefix | Kind::AllowPrefix)
    }

    /// Whether the entry allows rather than blocks.
    pub fn is_allow(self) -> bool {
        matches!(self, Kind::Allow | Kind::AllowPrefix)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text is not an entry kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a kind: use block, prefix, allow or allowPrefix")]
pub struct UnknownKind(pub String);

impl FromStr for Kind {
    type Err = UnknownKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownKind(s.to_owned()))
    }
}

/// What the flow does with a blocked call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BlockAction {
    /// Play the standard message and disconnect (the default).
    #[default]
    Disconnect,
    /// Play the entry's own message, then disconnect.
    Message,
    /// Route to a queue (e.g. a fraud team), the entry's `queueArn`.
    Queue,
}

impl BlockAction {
    /// The value of `blockAction` in the answer.
    pub fn as_str(self) -> &'static str {
        match self {
            BlockAction::Disconnect => "disconnect",
            BlockAction::Message => "message",
            BlockAction::Queue => "queue",
        }
    }
}

impl FromStr for BlockAction {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "disconnect" => Ok(BlockAction::Disconnect),
            "message" => Ok(BlockAction::Message),
            "queue" => Ok(BlockAction::Queue),
            _ => Err(format!(
                "`{s}` is not an action: use disconnect, message or queue"
            )),
        }
    }
}

/// Whether an entry is in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Status {
    #[default]
    Active,
    /// Reported by an agent, waiting for an admin: does not block.
    Pending,
}

/// One entry of the blocklist or rules table.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BlockEntry {
    /// What the entry does.
    pub kind: Kind,
    /// The E.164 number, or the prefix (`+1900`) for prefix kinds.
    pub phone_number: String,
    /// Why (`reason`, or the older `blockedReason`).
    pub reason: Option<String>,
    /// When it was made, ISO 8601 (`createdAt`, or the older `blockedDate`).
    pub created_at: Option<String>,
    /// Who made it.
    pub created_by: Option<String>,
    /// When it ends, epoch seconds; also the tables' TTL attribute.
    pub expires_at: Option<i64>,
    /// Free-text note for admins.
    pub note: Option<String>,
    /// What the flow does with a call it blocks (block kinds only).
    pub action: Option<BlockAction>,
    /// The message played for `action = message`.
    pub message: Option<String>,
    /// The queue for `action = queue`.
    pub queue_arn: Option<String>,
    /// Active, or pending an admin's approval.
    pub status: Status,
    /// The contact during which an agent reported the number.
    pub contact_id: Option<String>,
    /// Calls blocked by this entry (`blockCount`, kept by the Lambda).
    pub block_count: Option<u64>,
    /// When it last blocked a call, ISO 8601 (`lastBlockedAt`).
    pub last_blocked_at: Option<String>,
}

impl BlockEntry {
    /// Whether the entry is in force at `now` (epoch seconds): not pending,
    /// and not past its `expiresAt` (even before TTL deletes it).
    pub fn is_active_at(&self, now: i64) -> bool {
        self.status == Status::Active && !self.is_expired_at(now)
    }

    /// Whether `expiresAt` has passed.
    pub fn is_expired_at(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|expires| expires <= now)
    }

    /// The action the flow takes for a call this entry blocks.
    pub fn block_action(&self) -> BlockAction {
        self.action.unwrap_or_default()
    }
}

/// Truncates text for the answer map at a character boundary.
pub fn answer_text(s: Option<&str>) -> String {
    s.unwrap_or_default()
        .chars()
        .take(MAX_ANSWER_TEXT_CHARS)
        .collect()
}
