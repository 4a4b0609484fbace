//! The audit trail: one record per change to an entry, in its own table
//! (partition key `phoneNumber`: the entry's audit key; sort key `auditId`).
//!
//! Each change claims the entry's next version by appending the record
//! `v<version, 12 digits>` with `attribute_not_exists`: only one writer can
//! claim a version, and only the claimant then writes the entry (if it is
//! still at the version read). A change that did not happen is marked by an
//! `abort` record: `<claim id>#abort` when the claimant could not write, or
//! `<claim id>#lost#<suffix>` for a writer that lost the claim. So a key's
//! records sort by version (after the time-stamped ids of records made
//! before versions existed), and replaying its claims that were not aborted
//! ([`replay`]) gives the stored entry, whatever the interleaving.

use std::collections::{HashMap, HashSet};
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
    /// The caller's AWS identity (an ARN), where it is known.
    pub const IDENTITY: &str = "callerArn";
    pub const AT: &str = "at";
    pub const REASON: &str = "reason";
    pub const SOURCE: &str = "source";
    pub const BEFORE: &str = "before";
    pub const AFTER: &str = "after";
    /// On an abort record: the id of the claim whose change did not happen.
    pub const ABORTS: &str = "aborts";
}

/// The id of the record that claims `version` of an entry.
pub fn claim_id(version: u64) -> String {
    format!("v{version:012}")
}

/// The version a claim record's id claims; `None` for any other id (abort
/// marks, lost races, records from before versions).
pub fn claimed_version(audit_id: &str) -> Option<u64> {
    let digits = audit_id.strip_prefix('v')?;
    if digits.len() == 12 && digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse().ok()
    } else {
        None
    }
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
    /// An admin made a monitoring entry block.
    Promote,
    /// Distinct agents' reports made the number a block by themselves
    /// (`REPORTS_AUTO_BLOCK_THRESHOLD`); the record's reason names them.
    AutoBlock,
}

crate::wire_names!(AuditAction, "an audit action" {
    Add => "add",
    Replace => "replace",
    Remove => "remove",
    Abort => "abort",
    Report => "report",
    Approve => "approve",
    Reject => "reject",
    Promote => "promote",
    AutoBlock => "autoBlock",
});

/// One change to one entry (or, `abort`, one that did not happen).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// The audit key of the entry changed (the table's `phoneNumber`
    /// partition key): see [`super::Target::audit_key`].
    pub key: String,
    /// `v000000000007` for the claim of version 7; see the module doc.
    pub audit_id: String,
    pub action: AuditAction,
    /// Who says they made the change (`--actor`, `$USER@host`, `agent:NAME`).
    pub actor: String,
    /// The caller's AWS identity (`sts:GetCallerIdentity` ARN), where known.
    pub identity: Option<String>,
    /// When, RFC 3339 UTC.
    pub at: String,
    /// Why, as the admin gave it.
    pub reason: Option<String>,
    /// Where the change came from: `cli`, or `import <file>:<line>`.
    pub source: String,
    pub before: Option<Entry>,
    pub after: Option<Entry>,
    /// On an abort record: the claim whose change did not happen.
    pub aborts: Option<String>,
}

/// Who makes a change: the self-described actor and, where known, the
/// caller's AWS identity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Author {
    pub actor: String,
    pub identity: Option<String>,
}

impl AuditRecord {
    /// The record claiming `version` of the entry whose audit key is `key`,
    /// made now by `author`.
    #[allow(clippy::too_many_arguments)]
    pub fn claim(
        key: String,
        version: u64,
        action: AuditAction,
        author: &Author,
        reason: Option<&str>,
        source: String,
        before: Option<Entry>,
        after: Option<Entry>,
    ) -> AuditRecord {
        AuditRecord {
            key,
            audit_id: claim_id(version),
            action,
            actor: author.actor.clone(),
            identity: author.identity.clone(),
            at: now_rfc3339_millis(),
            reason: reason.map(str::to_owned),
            source,
            before,
            after,
            aborts: None,
        }
    }

    /// The mark saying that this claim's change did not happen (`why`):
    /// its entry is left as it was before.
    pub fn aborted(&self, author: &Author, why: &str) -> AuditRecord {
        AuditRecord {
            audit_id: format!("{}#abort", self.audit_id),
            action: AuditAction::Abort,
            actor: author.actor.clone(),
            identity: author.identity.clone(),
            at: now_rfc3339_millis(),
            reason: Some(format!("{why} (aborts {})", self.audit_id)),
            after: self.before.clone(),
            aborts: Some(self.audit_id.clone()),
            ..self.clone()
        }
    }

    /// The record of a writer that lost the claim of this record's version
    /// to another: its change (`self`, not stored) was not made.
    pub fn lost(&self) -> AuditRecord {
        let attempted = self.action;
        AuditRecord {
            audit_id: format!("{}#lost#{:016x}", self.audit_id, unique_u64()),
            action: AuditAction::Abort,
            reason: Some(format!(
                "not made: another change claimed {} first ({attempted}: {})",
                self.audit_id,
                self.reason.as_deref().unwrap_or("no reason given")
            )),
            after: self.before.clone(),
            ..self.clone()
        }
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
        let texts = [
            (attr::REASON, &self.reason),
            (attr::IDENTITY, &self.identity),
            (attr::ABORTS, &self.aborts),
        ];
        for (name, value) in texts {
            if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
                item.insert(name.to_owned(), s(v));
            }
        }
        for (name, entry) in [(attr::BEFORE, &self.before), (attr::AFTER, &self.after)] {
            if let Some(entry) = entry {
                item.insert(name.to_owned(), AttributeValue::M(item_from_entry(entry)));
            }
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
            identity: s(attr::IDENTITY),
            at: s(attr::AT).unwrap_or_default(),
            reason: s(attr::REASON),
            source: s(attr::SOURCE).unwrap_or_default(),
            before: m(attr::BEFORE),
            after: m(attr::AFTER),
            aborts: s(attr::ABORTS),
        })
    }
}

/// Where an entry's trail ends: its newest claim, and whether that claim
/// was aborted. Built from the versioned records, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrailHead {
    pub claim: Option<AuditRecord>,
    pub aborted: bool,
    /// Abort marks seen before the claim (newer ids).
    seen_aborts: HashSet<String>,
}

impl TrailHead {
    /// Takes the next record, newest first; returns `true` once the newest
    /// claim is found (no older record can change the head).
    pub fn push(&mut self, record: AuditRecord) -> bool {
        if claimed_version(&record.audit_id).is_some() {
            self.aborted = self.seen_aborts.contains(&record.audit_id);
            self.claim = Some(record);
            return true;
        }
        if let Some(aborted) = record.aborts {
            self.seen_aborts.insert(aborted);
        }
        false
    }

    /// The version of the newest claim; 0 when there is none.
    pub fn version(&self) -> u64 {
        self.claim
            .as_ref()
            .and_then(|c| claimed_version(&c.audit_id))
            .unwrap_or(0)
    }
}

/// A trail that does not replay to a consistent history.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    #[error("{id}: its `before` is not the previous change's `after`")]
    BrokenChain { id: String },
    #[error("{id}: claims version {claimed} after version {previous}")]
    OutOfOrder {
        id: String,
        claimed: u64,
        previous: u64,
    },
}

/// Replays one entry's versioned records: every claim that was not aborted,
/// in version order, each starting from the previous one's `after`. Returns
/// the entry the trail says is stored (hit counts are not in the trail).
pub fn replay(records: &[AuditRecord]) -> Result<Option<Entry>, ReplayError> {
    let aborted: HashSet<&str> = records.iter().filter_map(|r| r.aborts.as_deref()).collect();
    let mut claims: Vec<&AuditRecord> = records
        .iter()
        .filter(|r| {
            claimed_version(&r.audit_id).is_some() && !aborted.contains(r.audit_id.as_str())
        })
        .collect();
    claims.sort_by(|a, b| a.audit_id.cmp(&b.audit_id));
    let mut current: Option<&Entry> = None;
    let mut previous = 0;
    for (i, claim) in claims.iter().enumerate() {
        let claimed = claimed_version(&claim.audit_id).unwrap_or_default();
        if claimed <= previous {
            return Err(ReplayError::OutOfOrder {
                id: claim.audit_id.clone(),
                claimed,
                previous,
            });
        }
        if i > 0 && claim.before.as_ref() != current {
            return Err(ReplayError::BrokenChain {
                id: claim.audit_id.clone(),
            });
        }
        current = claim.after.as_ref();
        previous = claimed;
    }
    Ok(current.cloned())
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

    fn author() -> Author {
        Author {
            actor: "me".into(),
            identity: Some("arn:aws:iam::123456789012:user/me".into()),
        }
    }

    fn entry(reason: &str, version: u64) -> Entry {
        Entry {
            kind: Kind::Prefix,
            value: "+1900".into(),
            reason: Some(reason.into()),
            version,
            ..Entry::default()
        }
    }

    fn claim(version: u64, before: Option<Entry>, after: Option<Entry>) -> AuditRecord {
        AuditRecord::claim(
            "prefix#+1900".into(),
            version,
            AuditAction::Replace,
            &author(),
            Some("why"),
            "cli".into(),
            before,
            after,
        )
    }

    #[test]
    fn claim_ids_sort_by_version_and_after_older_ids() {
        assert_eq!(claim_id(7), "v000000000007");
        assert_eq!(claimed_version("v000000000007"), Some(7));
        for not_a_claim in ["v000000000007#abort", "2026-11-27T06:30:00.123Z#ab", "v7"] {
            assert_eq!(claimed_version(not_a_claim), None, "{not_a_claim}");
        }
        let mut ids = vec![
            claim_id(10),
            format!("{}#lost#00ff", claim_id(9)),
            claim_id(9),
            "2026-11-27T06:30:00.123Z#ab".to_owned(),
            format!("{}#abort", claim_id(9)),
        ];
        ids.sort();
        assert_eq!(
            ids,
            [
                "2026-11-27T06:30:00.123Z#ab",
                "v000000000009",
                "v000000000009#abort",
                "v000000000009#lost#00ff",
                "v000000000010",
            ]
        );
    }

    #[test]
    fn records_round_trip_and_marks_name_what_did_not_happen() {
        let record = claim(3, Some(entry("old", 2)), Some(entry("new", 3)));
        assert_eq!(
            AuditRecord::from_item(&record.to_item()),
            Some(record.clone())
        );
        let abort = record.aborted(&author(), "lost a race");
        assert_eq!(abort.action, AuditAction::Abort);
        assert_eq!(abort.audit_id, "v000000000003#abort");
        assert_eq!(abort.aborts.as_deref(), Some("v000000000003"));
        assert_eq!(abort.before, abort.after, "an abort changes nothing");
        let lost = record.lost();
        assert!(lost.audit_id.starts_with("v000000000003#lost#"));
        assert_eq!(
            (lost.action, lost.aborts.as_deref()),
            (AuditAction::Abort, None)
        );
        assert!(lost.reason.unwrap().contains("replace: why"));
        assert_eq!(AuditRecord::from_item(&abort.to_item()), Some(abort));
    }

    #[test]
    fn the_trail_head_is_the_newest_claim_and_whether_it_was_aborted() {
        let c1 = claim(1, None, Some(entry("a", 1)));
        let c2 = claim(2, Some(entry("a", 1)), Some(entry("b", 2)));
        let mut head = TrailHead::default();
        let newest_first = [c2.lost(), c2.aborted(&author(), "x"), c2.clone(), c1];
        let mut taken = 0;
        for r in newest_first {
            taken += 1;
            if head.push(r) {
                break;
            }
        }
        assert_eq!((taken, head.version(), head.aborted), (3, 2, true));
        assert_eq!(TrailHead::default().version(), 0);
    }

    #[test]
    fn replay_skips_what_did_not_happen_and_checks_the_chain() {
        let c1 = claim(1, None, Some(entry("a", 1)));
        let c2 = claim(2, Some(entry("a", 1)), Some(entry("b", 2)));
        let c3 = claim(3, Some(entry("b", 2)), None);
        let trail = [
            c3.clone(),
            c2.aborted(&author(), "x"),
            c2.clone(),
            c1.clone(),
        ];
        // c2 was aborted, so c3's `before` (b) does not follow c1's `after` (a).
        assert_eq!(
            replay(&trail),
            Err(ReplayError::BrokenChain {
                id: "v000000000003".into()
            })
        );
        assert_eq!(
            replay(&[c3.clone(), c2.clone(), c1.clone(), c2.lost()]),
            Ok(None)
        );
        assert_eq!(replay(&[c2, c1]), Ok(Some(entry("b", 2))));
        assert_eq!(replay(&[]), Ok(None));
    }

    #[test]
    fn an_item_that_is_no_record_reads_as_none() {
        assert_eq!(AuditRecord::from_item(&HashMap::new()), None);
        let mut item = claim(1, None, None).to_item();
        item.insert(attr::ACTION.to_owned(), AttributeValue::S("explode".into()));
        assert_eq!(AuditRecord::from_item(&item), None);
    }
}
