//! Blocklist entries as stored: exact blocks in the blocklist table, prefix
//! rules and allow entries in the rules table.

use std::collections::BTreeMap;

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
    /// An agent's report of a caller, waiting for an admin: never blocks.
    /// Stored under `report#<number>`, a key the Lambda never reads, so the
    /// report function's role (fenced to those keys) cannot block anyone.
    Report,
}

crate::wire_names!(Kind, "a kind" {
    Block => "block",
    Prefix => "prefix",
    Allow => "allow",
    AllowPrefix => "allowPrefix",
    Report => "report",
});

impl Kind {
    /// Whether the entry's value is a prefix rather than a whole number.
    pub fn is_prefix(self) -> bool {
        match self {
            Kind::Prefix | Kind::AllowPrefix => true,
            Kind::Block | Kind::Allow | Kind::Report => false,
        }
    }

    /// The table entries of this kind live in. Exact blocks have the
    /// blocklist table to themselves: the Lambda's one read per call.
    pub fn table(self) -> EntryTable {
        match self {
            Kind::Block | Kind::Report => EntryTable::Blocklist,
            Kind::Prefix | Kind::Allow | Kind::AllowPrefix => EntryTable::Rules,
        }
    }

    /// Whether the entry allows rather than blocks.
    pub fn is_allow(self) -> bool {
        match self {
            Kind::Allow | Kind::AllowPrefix => true,
            Kind::Block | Kind::Prefix | Kind::Report => false,
        }
    }

    /// Whether an active entry of this kind blocks calls (and so takes a
    /// block action).
    pub fn blocks(self) -> bool {
        match self {
            Kind::Block | Kind::Prefix => true,
            Kind::Allow | Kind::AllowPrefix | Kind::Report => false,
        }
    }
}

/// The two tables that hold entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryTable {
    /// Exact blocks and pending reports, keyed by `phoneNumber`.
    Blocklist,
    /// Prefix rules and allow entries, keyed by `ruleKey`
    /// (`<kind>#<value>`), beside the published snapshot.
    Rules,
}

impl EntryTable {
    /// Both tables, in the order `list` reads them.
    pub const ALL: [EntryTable; 2] = [EntryTable::Blocklist, EntryTable::Rules];
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

crate::wire_names!(BlockAction, "an action" {
    Disconnect => "disconnect",
    Message => "message",
    Queue => "queue",
});

/// Whether an entry is in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Status {
    #[default]
    Active,
    /// Reported by an agent, waiting for an admin: does not block.
    Pending,
}

crate::wire_names!(Status, "a status" { Active => "active", Pending => "pending" });

/// Whether a blocking entry blocks, or only watches what it would block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Blocks the calls it matches (the default).
    #[default]
    Block,
    /// Never blocks: a call it matches that nothing else blocks is answered
    /// `matchType` `monitor` and counted, so a team sees what the entry
    /// would catch before it acts (`blocklist promote` makes it block).
    Monitor,
}

crate::wire_names!(Mode, "a mode" { Block => "block", Monitor => "monitor" });

/// One entry of the blocklist or rules table: an exact block, a prefix
/// rule, an allow entry or an allow prefix (see [`Kind`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Entry {
    /// What the entry does.
    pub kind: Kind,
    /// The E.164 number, or the prefix (`+1900`) for prefix kinds.
    pub value: String,
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
    /// How many audited changes made the entry what it is (`version`): each
    /// change claims the next version in the audit trail before it writes,
    /// and writes only if the entry is still at the version it read. 0 for
    /// an entry written before versions existed.
    pub version: u64,
    /// Blocks, or only watches (block kinds only).
    pub mode: Mode,
    /// The dialled numbers (E.164, sorted) the entry applies to; empty for
    /// every line.
    pub lines: Vec<String>,
    /// On a report: each agent who reported the number, with the time
    /// (epoch seconds) of their latest report (`reportedBy`). Distinct
    /// agents within a window make the report a block, when the team
    /// turned that on (`REPORTS_AUTO_BLOCK_THRESHOLD`).
    pub reported_by: BTreeMap<String, i64>,
}

impl Entry {
    /// This entry with the hit record (`blockCount`, `lastBlockedAt`) of
    /// `read`, the entry as the change read it: a change of the entry's
    /// fields keeps when and how often it blocked, and its place in the
    /// last-block order. (A hit counted between the read and the write is
    /// lost: a count, not the record.)
    pub fn with_hits_of(&self, read: Option<&Entry>) -> Entry {
        Entry {
            block_count: read.and_then(|r| r.block_count),
            last_blocked_at: read.and_then(|r| r.last_blocked_at.clone()),
            ..self.clone()
        }
    }

    /// Whether the entry is in force at `now` (epoch seconds): not pending,
    /// and not past its `expiresAt` (even before TTL deletes it).
    pub fn is_active_at(&self, now: i64) -> bool {
        self.status == Status::Active && !self.is_expired_at(now)
    }

    /// Whether `expiresAt` has passed.
    pub fn is_expired_at(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|expires| expires <= now)
    }

    /// Whether the entry applies to a call to `line`, the dialled number
    /// (`None` when the event has none): entries without lines apply to
    /// every call, entries with lines only to calls to one of them.
    pub fn applies_on(&self, line: Option<&str>) -> bool {
        self.lines.is_empty() || line.is_some_and(|l| self.lines.iter().any(|own| own == l))
    }

    /// Whether the entry is in force at `now` for a call to `line`.
    pub fn applies_at(&self, now: i64, line: Option<&str>) -> bool {
        self.is_active_at(now) && self.applies_on(line)
    }

    /// The action the flow takes for a call this entry blocks.
    pub fn block_action(&self) -> BlockAction {
        self.action.unwrap_or_default()
    }
}

/// What is stored under one entry's key, as the write protocol reads it.
///
/// A remove does not delete the item: it leaves a tombstone that keeps the
/// version of the change that removed it (`status` `removed`, expiring with
/// the tables' TTL after [`TOMBSTONE_SECONDS`]). Absence carries no version,
/// so a write conditioned on "no entry" that was delayed past a later
/// remove (a re-add, or another writer completing one) would otherwise find
/// the key empty again and bring the removed entry back (ABA). The
/// tombstone's version refuses it. Every reader but the write protocol
/// skips tombstones: they never block, allow, list or export.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Stored {
    /// Nothing: never written, deleted by TTL once expired, or a tombstone
    /// past its time.
    #[default]
    Absent,
    /// Removed by the change that claimed `version`.
    Removed { version: u64 },
    /// An entry (boxed: a tombstone is a version).
    Entry(Box<Entry>),
}

/// How long a tombstone is kept (30 days) before the tables' TTL deletes
/// it: far longer than any write of the protocol can be delayed (each is
/// sent right after its read, under the CLI's request timeouts), and not
/// forever, since its key is a phone number (personal data).
pub const TOMBSTONE_SECONDS: i64 = 30 * 24 * 3600;

impl Stored {
    /// The version of what is stored: 0 for nothing (or an entry written
    /// before versions existed).
    pub fn version(&self) -> u64 {
        match self {
            Stored::Absent => 0,
            Stored::Removed { version } => *version,
            Stored::Entry(entry) => entry.version,
        }
    }

    /// The entry, if one is stored (a tombstone is none).
    pub fn entry(&self) -> Option<&Entry> {
        match self {
            Stored::Entry(entry) => Some(entry),
            Stored::Absent | Stored::Removed { .. } => None,
        }
    }

    /// The entry, if one is stored (a tombstone is none).
    pub fn into_entry(self) -> Option<Entry> {
        match self {
            Stored::Entry(entry) => Some(*entry),
            Stored::Absent | Stored::Removed { .. } => None,
        }
    }

    /// What a change of `version` leaves: `after`, or its tombstone.
    pub fn after_change(after: Option<&Entry>, version: u64) -> Stored {
        match after {
            Some(entry) => Stored::Entry(Box::new(entry.clone())),
            None => Stored::Removed { version },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_without_lines_apply_to_every_call_others_to_their_lines() {
        let everywhere = Entry::default();
        assert!(everywhere.applies_on(None));
        assert!(everywhere.applies_on(Some("+18005550100")));
        let sales = Entry {
            lines: vec!["+18005550100".into(), "+18005550101".into()],
            ..Entry::default()
        };
        assert!(sales.applies_on(Some("+18005550101")));
        assert!(!sales.applies_on(Some("+18005550199")));
        assert!(
            !sales.applies_on(None),
            "no dialled number: not one of its lines"
        );
        let expired = Entry {
            expires_at: Some(5),
            ..sales.clone()
        };
        assert!(!expired.applies_at(5, Some("+18005550100")));
        assert!(sales.applies_at(5, Some("+18005550100")));
    }
}
