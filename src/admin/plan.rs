//! Pure planning of admin changes: given what is stored and what was asked,
//! the change to make (or why not). [`super::Admin`] reads, plans, then
//! writes; these functions do no I/O, so every rule here is unit-tested.

use std::collections::{BTreeMap, HashMap};

use super::AdminError;
use super::audit::{AuditAction, AuditRecord, Author, TrailHead, claimed_version};
use super::fields::{EntryFields, Target};
use super::import::Row;
use crate::entry::{Entry, Kind, Mode, Status, Stored};
use crate::when::{ExpiryInPast, future_expiry, parse_absolute, rfc3339};

/// What the next change to an entry may claim, from the stored entry and
/// the head of its trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Claim this version.
    Next(u64),
    /// The newest claim is neither stored nor aborted: its writer is at
    /// work, or stopped between claim and write. Either way the claim is
    /// what happens next: complete it (write what it records, if the entry
    /// is still as it read), then read again.
    Unwritten(Box<AuditRecord>),
}

/// The claim the next change to an entry may make at `now` (epoch seconds).
pub fn next_claim(stored: &Stored, head: &TrailHead, now: i64) -> Claim {
    let Some(claim) = head.claim.as_ref() else {
        return Claim::Next(stored.version() + 1);
    };
    let claimed = claimed_version(&claim.audit_id).unwrap_or_default();
    let done = match (stored, claim.after.as_ref()) {
        _ if head.aborted => true,
        (Stored::Entry(_) | Stored::Removed { .. }, _) => stored.version() >= claimed,
        // Nothing stored, and the claim removes: the entry is gone (its
        // tombstone, or the entry itself once expired, deleted by TTL).
        (Stored::Absent, None) => true,
        // Stored nothing, though the claim stored an entry: TTL deleted it
        // once it expired (no record for that), or the claim is unwritten.
        (Stored::Absent, Some(after)) => after.is_expired_at(now),
    };
    if done {
        Claim::Next(claimed.max(stored.version()) + 1)
    } else {
        Claim::Unwritten(Box::new(claim.clone()))
    }
}

/// One change to one entry, and what its audit record says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub target: Target,
    pub action: AuditAction,
    pub reason: Option<String>,
    /// Where the change comes from: `cli`, `import <file>:<line>`, `report contact <id>`.
    pub source: String,
    /// The entry as read; the write happens only while it is still so.
    pub before: Option<Entry>,
    /// The entry to store; `None` removes it.
    pub after: Option<Entry>,
}

impl Change {
    /// The change as version `version` of the entry: what it stores carries
    /// the version.
    pub fn at_version(mut self, version: u64) -> Change {
        if let Some(after) = self.after.as_mut() {
            after.version = version;
        }
        self
    }

    /// A change an admin makes from the command line.
    fn by_admin(
        target: &Target,
        action: AuditAction,
        reason: Option<String>,
        before: Option<Entry>,
        after: Option<Entry>,
    ) -> Change {
        Change {
            target: target.clone(),
            action,
            reason,
            source: "cli".to_owned(),
            before,
            after,
        }
    }

    /// The record claiming `version` for this change, made now by `author`.
    pub fn record(&self, author: &Author, version: u64) -> AuditRecord {
        AuditRecord::claim(
            self.target.audit_key(),
            version,
            self.action,
            author,
            self.reason.as_deref(),
            self.source.clone(),
            self.before.clone(),
            self.after.clone(),
        )
    }
}

/// `add` / `allow`: a new entry, refused over an active one unless `replace`.
pub fn add(
    target: &Target,
    fields: EntryFields,
    replace: bool,
    existing: Option<Entry>,
    actor: &str,
    now: i64,
) -> Result<Change, AdminError> {
    let fields = fields.checked(target.kind)?;
    // The one rule for an expiry, also an import row's (see `import::planned`).
    if let Some(expires) = fields.expires_at {
        future_expiry(expires, now).map_err(|ExpiryInPast(e)| AdminError::ExpiryInPast(e))?;
    }
    if let Some(entry) = existing
        .as_ref()
        .filter(|e| e.is_active_at(now) && !replace)
    {
        return Err(AdminError::AlreadyExists {
            entry: Box::new(entry.clone()),
        });
    }
    let entry = fields.into_entry(target, actor, &rfc3339(now));
    let action = match existing {
        Some(_) => AuditAction::Replace,
        None => AuditAction::Add,
    };
    Ok(Change::by_admin(
        target,
        action,
        entry.reason.clone(),
        existing,
        Some(entry),
    ))
}

/// `remove` / `unallow`: the stored entry goes, expired or not.
pub fn remove(
    target: &Target,
    reason: Option<&str>,
    existing: Option<Entry>,
) -> Result<Change, AdminError> {
    let existing = existing.ok_or_else(|| AdminError::NotFound {
        kind: target.kind,
        value: target.value.clone(),
    })?;
    Ok(Change::by_admin(
        target,
        AuditAction::Remove,
        reason.map(str::to_owned),
        Some(existing),
        None,
    ))
}

/// `approve`: a pending report blocks from now on (with the new reason, if given).
pub fn approve(
    target: &Target,
    reason: Option<&str>,
    existing: Option<Entry>,
) -> Result<Change, AdminError> {
    let pending = pending(target, existing)?;
    let mut approved = pending.clone();
    approved.status = Status::Active;
    if let Some(reason) = reason {
        approved.reason = Some(reason.to_owned());
    }
    Ok(Change::by_admin(
        target,
        AuditAction::Approve,
        reason.map(str::to_owned),
        Some(pending),
        Some(approved),
    ))
}

/// `reject`: a pending report is removed.
pub fn reject(
    target: &Target,
    reason: Option<&str>,
    existing: Option<Entry>,
) -> Result<Change, AdminError> {
    let pending = pending(target, existing)?;
    Ok(Change::by_admin(
        target,
        AuditAction::Reject,
        reason.map(str::to_owned),
        Some(pending),
        None,
    ))
}

/// `promote`: a monitoring entry blocks from now on, as it is otherwise.
pub fn promote(
    target: &Target,
    reason: Option<&str>,
    existing: Option<Entry>,
) -> Result<Change, AdminError> {
    let monitoring = match existing {
        Some(e) if e.mode == Mode::Monitor => e,
        _ => {
            return Err(AdminError::NotMonitoring {
                kind: target.kind,
                value: target.value.clone(),
            });
        }
    };
    let blocking = Entry {
        mode: Mode::Block,
        ..monitoring.clone()
    };
    Ok(Change::by_admin(
        target,
        AuditAction::Promote,
        reason.map(str::to_owned),
        Some(monitoring),
        Some(blocking),
    ))
}

fn pending(target: &Target, existing: Option<Entry>) -> Result<Entry, AdminError> {
    match existing {
        Some(e) if e.status == Status::Pending => Ok(e),
        _ => Err(AdminError::NotPending {
            value: target.value.clone(),
        }),
    }
}

/// An agent's report of a caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report<'a> {
    pub contact_id: Option<&'a str>,
    pub reason: Option<&'a str>,
    /// Reports block at once (`REPORTS_BLOCK_IMMEDIATELY=true`).
    pub block_now: bool,
}

/// When distinct agents' reports make a number a block by themselves,
/// without an admin (`REPORTS_AUTO_BLOCK_*`; off unless a threshold is set).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AutoBlock {
    /// Distinct agents (`REPORTS_AUTO_BLOCK_THRESHOLD`, at least 2: one
    /// agent is `REPORTS_BLOCK_IMMEDIATELY`).
    pub threshold: usize,
    /// Their latest reports count within this many seconds before now
    /// (`REPORTS_AUTO_BLOCK_WINDOW_HOURS`).
    pub window_seconds: i64,
    /// How long the block lasts, seconds (`REPORTS_AUTO_BLOCK_EXPIRES`).
    pub expires_seconds: i64,
}

/// What a team chose reports do (the report function's settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReportPolicy {
    /// Reports block at once (`REPORTS_BLOCK_IMMEDIATELY=true`).
    pub block_now: bool,
    /// Distinct agents' reports block by themselves (off: `None`).
    pub auto_block: Option<AutoBlock>,
}

/// The most agents a report keeps (the latest of each); the oldest go
/// first. Keeps the item far under DynamoDB's size limit.
pub const MAX_REPORTERS: usize = 100;

/// What a report does: nothing (the number is already blocked, or this
/// agent's report already waits for an admin), or one change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportPlan {
    AlreadyBlocked(Entry),
    AlreadyPending(Entry),
    /// Record the caller: a pending report (its own entry, beside the
    /// number's block; another agent's report joins the one waiting), or
    /// an active block when reports block at once.
    Record(Box<Change>),
}

/// Plans a report of the number `block` (its block target) by `actor`
/// (the agent), given its stored block and stored report.
pub fn report(
    block: &Target,
    report: &Report<'_>,
    stored_block: Option<Entry>,
    stored_report: Option<Entry>,
    actor: &str,
    now: i64,
) -> ReportPlan {
    if let Some(e) = stored_block.as_ref().filter(|e| e.is_active_at(now)) {
        return ReportPlan::AlreadyBlocked(e.clone());
    }
    let source = format!("report contact {}", report.contact_id.unwrap_or("unknown"));
    let reason = report.reason.unwrap_or("reported by an agent").to_owned();
    let fresh = |target: &Target, status| Entry {
        kind: target.kind,
        value: target.value.clone(),
        reason: Some(reason.clone()),
        created_at: Some(rfc3339(now)),
        created_by: Some(actor.to_owned()),
        status,
        contact_id: report.contact_id.map(str::to_owned),
        ..Entry::default()
    };
    let (target, before, after) = if report.block_now {
        (block.clone(), stored_block, fresh(block, Status::Active))
    } else {
        let target = block.as_kind(Kind::Report);
        let waiting = stored_report
            .as_ref()
            .filter(|e| e.status == Status::Pending && !e.is_expired_at(now));
        let mut after = match waiting {
            // This agent's report already waits: it does not count twice.
            Some(e) if reporters(e).contains_key(actor) => {
                return ReportPlan::AlreadyPending(e.clone());
            }
            // Another agent's: this one joins it.
            Some(e) => Entry {
                reported_by: reporters(e),
                ..e.clone()
            },
            None => fresh(&target, Status::Pending),
        };
        add_reporter(&mut after.reported_by, actor, now);
        (target, stored_report, after)
    };
    ReportPlan::Record(Box::new(Change {
        target,
        action: AuditAction::Report,
        reason: Some(reason),
        source,
        before,
        after: Some(after),
    }))
}

/// The agents of a report and when each last reported it. A report made
/// before reports kept their agents counts its maker, at its time.
fn reporters(report: &Entry) -> BTreeMap<String, i64> {
    if !report.reported_by.is_empty() {
        return report.reported_by.clone();
    }
    let made = report
        .created_at
        .as_deref()
        .and_then(|at| parse_absolute(at).ok());
    match (&report.created_by, made) {
        (Some(agent), Some(at)) => BTreeMap::from([(agent.clone(), at)]),
        _ => BTreeMap::new(),
    }
}

/// Adds `agent` at `now`, then keeps the [`MAX_REPORTERS`] latest.
fn add_reporter(agents: &mut BTreeMap<String, i64>, agent: &str, now: i64) {
    agents.insert(agent.to_owned(), now);
    while agents.len() > MAX_REPORTERS {
        let oldest = agents
            .iter()
            .min_by_key(|(name, at)| (**at, (*name).clone()))
            .map(|(name, _)| name.clone());
        match oldest {
            Some(name) => agents.remove(&name),
            None => break,
        };
    }
}

/// The agents whose latest report of `report` falls within `rule`'s
/// window before `now`, when they are at least its threshold: the number
/// is due to be blocked by them. `None` otherwise.
pub fn auto_block_due(report: &Entry, rule: &AutoBlock, now: i64) -> Option<Vec<String>> {
    let since = now - rule.window_seconds;
    let agents: Vec<String> = reporters(report)
        .into_iter()
        .filter(|(_, at)| *at > since)
        .map(|(agent, _)| agent)
        .collect();
    (agents.len() >= rule.threshold).then_some(agents)
}

/// The block that distinct agents' reports make by themselves: active,
/// expiring after `rule.expires_seconds`, its reason (and its audit
/// record's) naming the agents and the rule. Nothing when the number
/// already blocks.
pub fn auto_block(
    block: &Target,
    report: &Entry,
    agents: &[String],
    rule: &AutoBlock,
    stored_block: Option<Entry>,
    now: i64,
) -> Option<Change> {
    if stored_block.as_ref().is_some_and(|e| e.is_active_at(now)) {
        return None;
    }
    let why = format!(
        "blocked automatically: {} agents reported it within {} h ({}); REPORTS_AUTO_BLOCK_THRESHOLD={}",
        agents.len(),
        rule.window_seconds / 3600,
        agents.join(", "),
        rule.threshold
    );
    let blocked = Entry {
        kind: Kind::Block,
        value: block.value.clone(),
        reason: Some(why.clone()),
        created_at: Some(rfc3339(now)),
        created_by: Some("auto-block".to_owned()),
        expires_at: Some(now + rule.expires_seconds),
        contact_id: report.contact_id.clone(),
        ..Entry::default()
    };
    Some(Change {
        target: block.clone(),
        action: AuditAction::AutoBlock,
        reason: Some(why),
        source: "auto-block".to_owned(),
        before: stored_block,
        after: Some(blocked),
    })
}

/// `approve` of a pending report: the number's block, made from the report
/// (with the admin's reason, if given); nothing when it already blocks.
pub fn approve_report(
    block: &Target,
    pending: &Entry,
    reason: Option<&str>,
    stored_block: Option<Entry>,
    now: i64,
) -> Option<Change> {
    if stored_block.as_ref().is_some_and(|e| e.is_active_at(now)) {
        return None;
    }
    let approved = Entry {
        kind: Kind::Block,
        value: block.value.clone(),
        reason: reason.map(str::to_owned).or_else(|| pending.reason.clone()),
        created_at: pending.created_at.clone(),
        created_by: pending.created_by.clone(),
        contact_id: pending.contact_id.clone(),
        ..Entry::default()
    };
    Some(Change::by_admin(
        block,
        AuditAction::Approve,
        reason.map(str::to_owned),
        stored_block,
        Some(approved),
    ))
}

/// The report's own entry goes once an admin decided (`approve` or
/// `reject`); nothing when it is already gone.
pub fn close_report(
    report: &Target,
    action: AuditAction,
    reason: Option<&str>,
    stored: Option<Entry>,
) -> Option<Change> {
    let stored = stored?;
    Some(Change::by_admin(
        report,
        action,
        reason.map(str::to_owned),
        Some(stored),
        None,
    ))
}

/// An import: one change per row that changes something (rows equal to
/// what is stored are skipped), each replacing what was read.
pub fn import(
    rows: &[Row],
    existing: &HashMap<Target, Entry>,
    source: &str,
    actor: &str,
    now: i64,
) -> Vec<Change> {
    rows.iter()
        .filter_map(|row| import_row(row, existing.get(&row.target), source, actor, now))
        .collect()
}

/// One import row's change over `stored`; `None` when the row is what is
/// stored already.
pub fn import_row(
    row: &Row,
    stored: Option<&Entry>,
    source: &str,
    actor: &str,
    now: i64,
) -> Option<Change> {
    if stored.is_some_and(|b| row.fields.same_as(b)) {
        return None;
    }
    let entry = row
        .fields
        .clone()
        .into_entry(&row.target, actor, &rfc3339(now));
    Some(Change {
        target: row.target.clone(),
        action: match stored {
            Some(_) => AuditAction::Replace,
            None => AuditAction::Add,
        },
        reason: entry.reason.clone(),
        source: format!("import {source}:{}", row.line),
        before: stored.cloned(),
        after: Some(entry),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::Kind;

    const NOW: i64 = 1_800_000_000;

    fn target(kind: Kind, value: &str) -> Target {
        Target {
            kind,
            value: value.into(),
        }
    }

    fn stored(t: &Target, status: Status, expires_at: Option<i64>) -> Entry {
        Entry {
            status,
            expires_at,
            ..EntryFields::default().into_entry(t, "earlier", "2026-01-01T00:00:00Z")
        }
    }

    fn reason(r: &str) -> EntryFields {
        EntryFields {
            reason: Some(r.into()),
            ..EntryFields::default()
        }
    }

    #[test]
    fn add_refuses_an_active_entry_unless_replacing() {
        let t = target(Kind::Block, "+14155550123");
        let active = stored(&t, Status::Active, None);
        let err = add(&t, reason("spam"), false, Some(active.clone()), "me", NOW).unwrap_err();
        assert!(matches!(err, AdminError::AlreadyExists { .. }), "{err}");
        let change = add(&t, reason("spam"), true, Some(active.clone()), "me", NOW).unwrap();
        assert_eq!(change.action, AuditAction::Replace);
        assert_eq!(change.before, Some(active));
        let after = change.after.unwrap();
        assert_eq!(after.reason.as_deref(), Some("spam"));
        assert_eq!(after.created_by.as_deref(), Some("me"));
        assert_eq!(after.created_at, Some(rfc3339(NOW)));
    }

    #[test]
    fn add_over_an_expired_or_pending_entry_replaces_it() {
        let t = target(Kind::Prefix, "+1900");
        for old in [
            stored(&t, Status::Active, Some(NOW)),
            stored(&t, Status::Pending, None),
        ] {
            let change = add(&t, reason("x"), false, Some(old.clone()), "me", NOW).unwrap();
            assert_eq!(change.action, AuditAction::Replace);
            assert_eq!(change.before, Some(old));
        }
        let change = add(&t, reason("x"), false, None, "me", NOW).unwrap();
        assert_eq!((change.action, change.before), (AuditAction::Add, None));
    }

    #[test]
    fn add_refuses_an_expiry_in_the_past() {
        let t = target(Kind::Block, "+14155550123");
        let fields = EntryFields {
            expires_at: Some(NOW),
            ..EntryFields::default()
        };
        let err = add(&t, fields, false, None, "me", NOW).unwrap_err();
        assert!(matches!(err, AdminError::ExpiryInPast(NOW)), "{err}");
    }

    #[test]
    fn remove_needs_an_entry() {
        let t = target(Kind::Allow, "+14155550123");
        assert!(matches!(
            remove(&t, None, None),
            Err(AdminError::NotFound { .. })
        ));
        let old = stored(&t, Status::Active, Some(1));
        let change = remove(&t, Some("gone"), Some(old.clone())).unwrap();
        assert_eq!(change.before, Some(old));
        assert_eq!(change.after, None);
        let record = change.record(&Author::default(), 4);
        assert_eq!(
            (record.key.as_str(), record.audit_id.as_str()),
            ("allow#+14155550123", "v000000000004")
        );
    }

    #[test]
    fn approve_and_reject_need_a_pending_report() {
        let t = target(Kind::Block, "+14155550123");
        let active = stored(&t, Status::Active, None);
        for plan in [approve, reject] {
            assert!(matches!(
                plan(&t, None, Some(active.clone())),
                Err(AdminError::NotPending { .. })
            ));
        }
        let pending = stored(&t, Status::Pending, None);
        let approved = approve(&t, Some("confirmed"), Some(pending.clone())).unwrap();
        let after = approved.after.unwrap();
        assert_eq!(after.status, Status::Active);
        assert_eq!(after.reason.as_deref(), Some("confirmed"));
        assert_eq!(
            after.created_at, pending.created_at,
            "approval keeps the report's time"
        );
        let rejected = reject(&t, None, Some(pending)).unwrap();
        assert_eq!(
            (rejected.action, rejected.after),
            (AuditAction::Reject, None)
        );
    }

    #[test]
    fn a_report_is_its_own_entry_never_the_block_and_waits_once() {
        let t = target(Kind::Block, "+14155550123");
        let r = Report {
            contact_id: Some("c-1"),
            reason: None,
            block_now: false,
        };
        let active = stored(&t, Status::Active, None);
        assert_eq!(
            report(&t, &r, Some(active.clone()), None, "agent:a", NOW),
            ReportPlan::AlreadyBlocked(active)
        );
        // Made by `earlier` (before reports kept their agents): `earlier`
        // again does not count twice.
        let pending = stored(&t.as_kind(Kind::Report), Status::Pending, None);
        assert_eq!(
            report(&t, &r, None, Some(pending.clone()), "earlier", NOW),
            ReportPlan::AlreadyPending(pending.clone())
        );
        let ReportPlan::Record(change) = report(&t, &r, None, None, "agent:a", NOW) else {
            panic!("a first report is recorded");
        };
        assert_eq!(
            change.target,
            t.as_kind(Kind::Report),
            "never the block's key"
        );
        let entry = change.after.unwrap();
        assert_eq!((entry.kind, entry.status), (Kind::Report, Status::Pending));
        assert_eq!(entry.reason.as_deref(), Some("reported by an agent"));
        assert_eq!(entry.contact_id.as_deref(), Some("c-1"));
        assert_eq!(change.source, "report contact c-1");
        assert_eq!(entry.reported_by, BTreeMap::from([("agent:a".into(), NOW)]));
        let now = Report {
            block_now: true,
            ..r
        };
        let ReportPlan::Record(change) = report(&t, &now, None, Some(pending), "agent:a", NOW)
        else {
            panic!("blocking at once overrides a pending report");
        };
        assert_eq!(change.target, t);
        assert_eq!(change.after.unwrap().status, Status::Active);
    }

    /// Another agent's report joins the one waiting (its first reason and
    /// contact kept, the agent and time added, the record with this
    /// agent's reason); the same agent again changes nothing.
    #[test]
    fn distinct_agents_join_one_report_and_each_counts_once() {
        let t = target(Kind::Block, "+14155550123");
        let by = |reason| Report {
            contact_id: Some("c-2"),
            reason: Some(reason),
            block_now: false,
        };
        let first = Entry {
            contact_id: Some("c-1".into()),
            reported_by: BTreeMap::from([("agent:a".into(), NOW - 60)]),
            ..stored(&t.as_kind(Kind::Report), Status::Pending, None)
        };
        let ReportPlan::Record(change) = report(
            &t,
            &by("robocall"),
            None,
            Some(first.clone()),
            "agent:b",
            NOW,
        ) else {
            panic!("a second agent's report is recorded");
        };
        assert_eq!(change.before.as_ref(), Some(&first));
        assert_eq!(change.reason.as_deref(), Some("robocall"));
        let joined = change.after.unwrap();
        assert_eq!(
            joined.reported_by,
            BTreeMap::from([("agent:a".into(), NOW - 60), ("agent:b".into(), NOW)])
        );
        assert_eq!(joined.contact_id.as_deref(), Some("c-1"));
        assert_eq!(joined.created_at, first.created_at);
        assert_eq!(
            report(
                &t,
                &by("again"),
                None,
                Some(joined.clone()),
                "agent:b",
                NOW + 5
            ),
            ReportPlan::AlreadyPending(joined)
        );
    }

    #[test]
    fn a_report_keeps_its_latest_agents_only() {
        let mut agents: BTreeMap<String, i64> = (0..MAX_REPORTERS as i64)
            .map(|i| (format!("agent:{i:03}"), NOW - 1000 + i))
            .collect();
        add_reporter(&mut agents, "agent:new", NOW);
        assert_eq!(agents.len(), MAX_REPORTERS);
        assert!(!agents.contains_key("agent:000"), "the oldest went");
        assert_eq!(agents.get("agent:new"), Some(&NOW));
    }

    /// K distinct agents whose latest reports fall in the window are due;
    /// older reports and fewer agents are not. The block lasts the rule's
    /// time and its reason names the agents and the rule.
    #[test]
    fn distinct_agents_within_the_window_make_a_block() {
        let t = target(Kind::Block, "+14155550123");
        let rule = AutoBlock {
            threshold: 3,
            window_seconds: 3600,
            expires_seconds: 86_400,
        };
        let with = |agents: &[(&str, i64)]| Entry {
            reported_by: agents
                .iter()
                .map(|(a, at)| ((*a).to_owned(), *at))
                .collect(),
            ..stored(&t.as_kind(Kind::Report), Status::Pending, None)
        };
        let two = with(&[("agent:a", NOW - 10), ("agent:b", NOW)]);
        assert_eq!(auto_block_due(&two, &rule, NOW), None);
        let one_too_old = with(&[("agent:a", NOW - 3600), ("agent:b", NOW), ("agent:c", NOW)]);
        assert_eq!(auto_block_due(&one_too_old, &rule, NOW), None);
        let three = with(&[("agent:a", NOW - 3599), ("agent:b", NOW), ("agent:c", NOW)]);
        let agents = auto_block_due(&three, &rule, NOW).unwrap();
        assert_eq!(agents, ["agent:a", "agent:b", "agent:c"]);

        let change = auto_block(&t, &three, &agents, &rule, None, NOW).unwrap();
        assert_eq!(
            (change.action, &change.target),
            (AuditAction::AutoBlock, &t)
        );
        let block = change.after.unwrap();
        assert_eq!((block.kind, block.status), (Kind::Block, Status::Active));
        assert_eq!(block.expires_at, Some(NOW + 86_400));
        assert_eq!(
            change.reason.as_deref(),
            Some(
                "blocked automatically: 3 agents reported it within 1 h (agent:a, agent:b, agent:c); REPORTS_AUTO_BLOCK_THRESHOLD=3"
            )
        );
        assert!(block.reported_by.is_empty(), "the block keeps no agents");
        let active = stored(&t, Status::Active, None);
        assert_eq!(
            auto_block(&t, &three, &agents, &rule, Some(active), NOW),
            None
        );
    }

    #[test]
    fn approving_a_report_makes_the_block_from_it_once() {
        let t = target(Kind::Block, "+14155550123");
        let pending = Entry {
            contact_id: Some("c-1".into()),
            ..stored(&t.as_kind(Kind::Report), Status::Pending, None)
        };
        let change = approve_report(&t, &pending, Some("confirmed"), None, NOW).unwrap();
        let block = change.after.unwrap();
        assert_eq!((block.kind, block.status), (Kind::Block, Status::Active));
        assert_eq!(block.reason.as_deref(), Some("confirmed"));
        assert_eq!(block.contact_id.as_deref(), Some("c-1"));
        let active = stored(&t, Status::Active, None);
        assert_eq!(approve_report(&t, &pending, None, Some(active), NOW), None);
        let report_t = t.as_kind(Kind::Report);
        let close = close_report(&report_t, AuditAction::Reject, None, Some(pending)).unwrap();
        assert_eq!((close.action, close.after), (AuditAction::Reject, None));
        assert_eq!(
            close_report(&report_t, AuditAction::Reject, None, None),
            None
        );
    }

    #[test]
    fn import_skips_unchanged_rows_and_names_each_line() {
        let same = target(Kind::Block, "+14155550123");
        let changed = target(Kind::Prefix, "+1900");
        let fresh = target(Kind::Allow, "+14155550100");
        let row = |line, t: &Target, r| Row {
            line,
            target: t.clone(),
            fields: reason(r),
        };
        let rows = [
            row(2, &same, "spam"),
            row(3, &changed, "new"),
            row(4, &fresh, "vip"),
        ];
        let existing = HashMap::from([
            (
                same.clone(),
                reason("spam").into_entry(&same, "x", "2026-01-01T00:00:00Z"),
            ),
            (
                changed.clone(),
                reason("old").into_entry(&changed, "x", "2026-01-01T00:00:00Z"),
            ),
        ]);
        let changes = import(&rows, &existing, "f.csv", "me", NOW);
        let got: Vec<_> = changes
            .iter()
            .map(|c| (c.target.value.as_str(), c.action, c.source.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("+1900", AuditAction::Replace, "import f.csv:3"),
                ("+14155550100", AuditAction::Add, "import f.csv:4"),
            ]
        );
    }

    fn head(claim: Option<AuditRecord>, aborted: bool) -> TrailHead {
        let mut head = TrailHead::default();
        if let Some(c) = claim {
            if aborted {
                head.push(c.aborted(&Author::default(), "x"));
            }
            head.push(c);
        }
        head
    }

    fn claimed(version: u64, after: Option<Entry>, at: i64) -> AuditRecord {
        let t = target(Kind::Block, "+14155550123");
        AuditRecord {
            at: rfc3339(at),
            ..Change::by_admin(&t, AuditAction::Add, None, None, after)
                .record(&Author::default(), version)
        }
    }

    #[test]
    fn the_next_claim_follows_the_stored_entry_and_the_trail() {
        let t = target(Kind::Block, "+14155550123");
        let at = |v| Entry {
            version: v,
            ..stored(&t, Status::Active, None)
        };
        // Nothing yet, or an entry from before versions: version 1.
        assert_eq!(
            next_claim(&Stored::Absent, &head(None, false), NOW),
            Claim::Next(1)
        );
        assert_eq!(
            next_claim(&Stored::Entry(Box::new(at(0))), &head(None, false), NOW),
            Claim::Next(1)
        );
        // The newest claim is stored (or was a removal, or was aborted).
        let c3 = claimed(3, Some(at(3)), NOW);
        assert_eq!(
            next_claim(
                &Stored::Entry(Box::new(at(3))),
                &head(Some(c3.clone()), false),
                NOW
            ),
            Claim::Next(4)
        );
        // A removal: its tombstone, or nothing once TTL deleted that.
        let removal = head(Some(claimed(3, None, NOW)), false);
        assert_eq!(
            next_claim(&Stored::Removed { version: 3 }, &removal, NOW),
            Claim::Next(4)
        );
        assert_eq!(next_claim(&Stored::Absent, &removal, NOW), Claim::Next(4));
        assert_eq!(
            next_claim(
                &Stored::Entry(Box::new(at(2))),
                &head(Some(c3.clone()), true),
                NOW
            ),
            Claim::Next(4)
        );
        // Stored nothing after an expired entry: TTL removed it.
        let expired = Entry {
            expires_at: Some(NOW - 1),
            ..at(3)
        };
        assert_eq!(
            next_claim(
                &Stored::Absent,
                &head(Some(claimed(3, Some(expired), NOW)), false),
                NOW
            ),
            Claim::Next(4)
        );
    }

    #[test]
    fn an_unwritten_claim_comes_first() {
        let t = target(Kind::Block, "+14155550123");
        let at2 = Entry {
            version: 2,
            ..stored(&t, Status::Active, None)
        };
        let c3 = claimed(3, Some(at2.clone()), NOW - 5);
        assert_eq!(
            next_claim(
                &Stored::Entry(Box::new(at2.clone())),
                &head(Some(c3.clone()), false),
                NOW
            ),
            Claim::Unwritten(Box::new(c3.clone()))
        );
        // A re-add after a removal is unwritten while the tombstone is older.
        assert!(matches!(
            next_claim(
                &Stored::Removed { version: 2 },
                &head(Some(c3.clone()), false),
                NOW
            ),
            Claim::Unwritten(_)
        ));
        let never_stored = claimed(1, Some(at2), NOW);
        assert!(matches!(
            next_claim(&Stored::Absent, &head(Some(never_stored), false), NOW),
            Claim::Unwritten(_)
        ));
    }
}
