//! The audit trail: one record per change to an entry, in its own table
//! (partition key `phoneNumber`, sort key `auditId` = RFC 3339 time plus a
//! unique suffix, so a number's records sort by time).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_sdk_dynamodb::types::AttributeValue;

use crate::entry::Entry;
use crate::store::{entry_from_item, item_from_entry};
use crate::when::now_rfc3339_millis;

/// Attribute names of the audit table.
pub mod attr {
    /// The partition key: the audit key of the entry changed
    /// ([`crate::admin::Target::audit_key`]), named as the blocklist's key.
    pub const PHONE_NUMBER: &str = crate::store::attr::PHONE_NUMBER;
    pub const AUDIT_ID: &str = "auditId";
    pub const ACTION: &str = "action";
    pub const ACTOR: &str = "actor";
    pub const AT: &str = "at";
    pub const REASON: &str = "reason";
    pub const SOURCE: &str = "source";
    pub const BEFORE: &str = "before";
    pub const AFTER: &str = "after";
}

/// What happened to the entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    Add,
    Replace,
    Remove,
    /// The change recorded just before did not happen (someone else changed
    /// the entry in between). The trail is append-only: records are never
    /// deleted, so this record says so instead.
    Abort,
    /// An agent reported the caller (a pending entry, or an active one when
    /// reports block at once).
    Report,
    /// An admin approved a pending report: it now blocks.
    Approve,
    /// An admin rejected a pending report: it is removed.
    Reject,
}

crate::wire_names!(AuditAction, "an audit action" {
    Add => "add",
    Replace => "replace",
    Remove => "remove",
    Abort => "abort",
    Report => "report",
    Approve => "approve",
    Reject => "reject",
});

/// One change to one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// The audit key of the entry changed (the table's `phoneNumber`
    /// partition key): see [`super::Target::audit_key`].
    pub key: String,
    /// `2026-11-27T06:30:00.123Z#<suffix>`: sorts by time, unique.
    pub audit_id: String,
    pub action: AuditAction,
    pub actor: String,
    /// When, RFC 3339 UTC.
    pub at: String,
    /// Why, as the admin gave it.
    pub reason: Option<String>,
    /// Where the change came from: `cli`, or `import <file>:<line>`.
    pub source: String,
    pub before: Option<Entry>,
    pub after: Option<Entry>,
}

impl AuditRecord {
    /// A record of a change made now to the entry whose audit key is
    /// `key` (see [`super::Target::audit_key`]).
    pub fn new(
        key: String,
        action: AuditAction,
        actor: &str,
        reason: Option<&str>,
        source: String,
        before: Option<Entry>,
        after: Option<Entry>,
    ) -> AuditRecord {
        let at = now_rfc3339_millis();
        AuditRecord {
            audit_id: format!("{at}#{:016x}", unique_u64()),
            key,
            action,
            actor: actor.to_owned(),
            at,
            reason: reason.map(str::to_owned),
            source,
            before,
            after,
        }
    }

    /// The record saying that `self`'s change did not happen.
    pub fn aborted(&self, actor: &str, why: &str) -> AuditRecord {
        AuditRecord::new(
            self.key.clone(),
            AuditAction::Abort,
            actor,
            Some(&format!("{why} (aborts {})", self.audit_id)),
            self.source.clone(),
            self.before.clone(),
            self.before.clone(),
        )
    }

    /// The record as a DynamoDB item.
    pub fn to_item(&self) -> HashMap<String, AttributeValue> {
        let s = |v: &str| AttributeValue::S(v.to_owned());
        let mut item = HashMap::from([
            (attr::PHONE_NUMBER.to_owned(), s(&self.key)),
            (attr::AUDIT_ID.to_owned(), s(&self.audit_id)),
            (attr::ACTION.to_owned(), s(self.action.as_str())),
            (attr::ACTOR.to_owned(), s(&self.actor)),
            (attr::AT.to_owned(), s(&self.at)),
            (attr::SOURCE.to_owned(), s(&self.source)),
        ]);
        if let Some(reason) = self.reason.as_deref().filter(|r| !r.is_empty()) {
            item.insert(attr::REASON.to_owned(), s(reason));
        }
        if let Some(before) = &self.before {
            item.insert(
                attr::BEFORE.to_owned(),
                AttributeValue::M(item_from_entry(before)),
            );
        }
        if let Some(after) = &self.after {
            item.insert(
                attr::AFTER.to_owned(),
                AttributeValue::M(item_from_entry(after)),
            );
        }
        item
    }

    /// Reads a record back; `None` when the item is not an audit record.
    pub fn from_item(item: &HashMap<String, AttributeValue>) -> Option<AuditRecord> {
        let s = |name: &str| match item.get(name) {
            Some(AttributeValue::S(v)) => Some(v.clone()),
            _ => None,
        };
        let m = |name: &str| match item.get(name) {
            Some(AttributeValue::M(v)) => Some(entry_from_item(v)),
            _ => None,
        };
        Some(AuditRecord {
            key: s(attr::PHONE_NUMBER)?,
            audit_id: s(attr::AUDIT_ID)?,
            action: s(attr::ACTION)?.parse().ok()?,
            actor: s(attr::ACTOR).unwrap_or_default(),
            at: s(attr::AT).unwrap_or_default(),
            reason: s(attr::REASON),
            source: s(attr::SOURCE).unwrap_or_default(),
            before: m(attr::BEFORE),
            after: m(attr::AFTER),
        })
    }
}

/// 64 bits unique within the process and unlikely to collide across
/// processes: process id, a counter and the clock's nanoseconds, mixed by
/// splitmix64's finalizer. For ids and for retry jitter.
pub(crate) fn unique_u64() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut x = nanos
        ^ (u64::from(std::process::id()) << 32)
        ^ COUNTER
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::Kind;

    #[test]
    fn records_round_trip_and_an_abort_names_what_it_aborts() {
        let after = Entry {
            kind: Kind::Prefix,
            value: "+1900".into(),
            reason: Some("premium".into()),
            ..Entry::default()
        };
        let record = AuditRecord::new(
            "prefix#+1900".into(),
            AuditAction::Add,
            "me",
            Some("premium"),
            "cli".into(),
            None,
            Some(after),
        );
        assert_eq!(
            AuditRecord::from_item(&record.to_item()),
            Some(record.clone())
        );
        let abort = record.aborted("me", "lost a race");
        assert_eq!(abort.action, AuditAction::Abort);
        assert_eq!(abort.before, abort.after);
        assert!(abort.reason.unwrap().contains(&record.audit_id));
        assert_ne!(abort.audit_id, record.audit_id);
    }

    #[test]
    fn an_item_that_is_no_record_reads_as_none() {
        assert_eq!(AuditRecord::from_item(&HashMap::new()), None);
        let mut item = AuditRecord::new(
            "+1".into(),
            AuditAction::Remove,
            "me",
            None,
            "cli".into(),
            None,
            None,
        )
        .to_item();
        item.insert(attr::ACTION.to_owned(), AttributeValue::S("explode".into()));
        assert_eq!(AuditRecord::from_item(&item), None);
    }
}
