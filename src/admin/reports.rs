//! Agent reports: a caller reported from the "Report caller" flow becomes a
//! pending entry, which blocks only once an admin approves it (or at once,
//! when the team chooses `REPORTS_BLOCK_IMMEDIATELY=true`).

use super::audit::AuditAction;
use super::plan::{self, AutoBlock, Report, ReportPlan, ReportPolicy};
use super::store::AdminStore;
use super::{Admin, AdminError, Target};
use crate::entry::{Entry, Kind, Status};
use crate::when::now_epoch;

/// How many times a report is tried when another agent's report of the
/// same caller wins the race to write it (each round, one of the racing
/// agents wins: a caller calling many agents at once can take several).
const REPORT_TRIES: u32 = 8;

/// The wait before try `tries + 1`: longer each time, and spread by the
/// agent's name so that agents who collided do not collide again in step.
fn backoff(agent: &str, tries: u32) -> std::time::Duration {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (agent, tries).hash(&mut hasher);
    std::time::Duration::from_millis(u64::from(tries) * 10 + hasher.finish() % 20)
}

/// What a report did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportOutcome {
    /// Recorded as pending, waiting for an admin.
    Pending(Entry),
    /// Recorded as an active block (reports block at once).
    Blocked(Entry),
    /// The number was already blocked: nothing changed.
    AlreadyBlocked(Entry),
    /// This agent already reported the number, and the report waits for
    /// an admin: nothing changed.
    AlreadyPending(Entry),
    /// This report made the threshold of distinct agents: the number is
    /// now blocked (`REPORTS_AUTO_BLOCK_THRESHOLD`).
    AutoBlocked(Entry),
}

impl ReportOutcome {
    /// The value of `reportStatus` in the report function's answer.
    pub fn status(&self) -> &'static str {
        match self {
            ReportOutcome::Pending(_) => "pending",
            ReportOutcome::Blocked(_) | ReportOutcome::AutoBlocked(_) => "blocked",
            ReportOutcome::AlreadyBlocked(_) => "alreadyBlocked",
            ReportOutcome::AlreadyPending(_) => "alreadyPending",
        }
    }
}

impl<S: AdminStore> Admin<S> {
    /// Records a report of the caller `target` (an exact number) made by
    /// this admin's actor (the agent) during `contact_id`: a pending report
    /// of its own (`report#<number>`; another agent's report joins the one
    /// waiting), or as `policy` says an active block at once. With its
    /// `auto_block`, the report that makes enough distinct agents within
    /// the window blocks the number by itself ([`Self::auto_block_if_due`]).
    pub async fn report(
        &self,
        target: &Target,
        contact_id: Option<&str>,
        reason: Option<&str>,
        policy: &ReportPolicy,
    ) -> Result<ReportOutcome, AdminError> {
        let report = Report {
            contact_id,
            reason,
            block_now: policy.block_now,
        };
        // Agents reporting one caller at once race for the same report:
        // the loser reads the winner's and joins it.
        let mut tries = 0;
        let outcome = loop {
            tries += 1;
            match self.record_report(target, &report).await {
                Err(AdminError::Conflict { .. }) if tries < REPORT_TRIES => {
                    tokio::time::sleep(backoff(self.actor(), tries)).await;
                }
                other => break other?,
            }
        };
        match (outcome, policy.auto_block.as_ref()) {
            (ReportOutcome::Pending(entry), Some(rule)) => {
                self.auto_block_if_due(target, entry, rule).await
            }
            (outcome, _) => Ok(outcome),
        }
    }

    /// One try at recording a report (see [`plan::report`]).
    async fn record_report(
        &self,
        target: &Target,
        report: &Report<'_>,
    ) -> Result<ReportOutcome, AdminError> {
        let now = now_epoch();
        let on = if report.block_now {
            target.clone()
        } else {
            target.as_kind(Kind::Report)
        };
        let block = if report.block_now {
            None
        } else {
            self.get(target).await?
        };
        let mut unchanged = None;
        let change = self
            .change(&on, |stored| {
                let (stored_block, stored_report) = match report.block_now {
                    true => (stored, None),
                    false => (block, stored),
                };
                let plan = plan::report(
                    target,
                    report,
                    stored_block,
                    stored_report,
                    self.actor(),
                    now,
                );
                Ok(match plan {
                    ReportPlan::AlreadyBlocked(e) => {
                        unchanged = Some(ReportOutcome::AlreadyBlocked(e));
                        None
                    }
                    ReportPlan::AlreadyPending(e) => {
                        unchanged = Some(ReportOutcome::AlreadyPending(e));
                        None
                    }
                    ReportPlan::Record(change) => Some(*change),
                })
            })
            .await?;
        // `plan::report` stores an entry whenever it records a report.
        let entry = change.and_then(|c| c.after).unwrap_or_default();
        Ok(match unchanged {
            Some(outcome) => outcome,
            None if report.block_now => ReportOutcome::Blocked(entry),
            None => ReportOutcome::Pending(entry),
        })
    }

    /// Blocks the number when its pending `report` now has `rule`'s
    /// threshold of distinct agents within the window: the block first
    /// (its record says which agents and which rule), then the report is
    /// closed, as `approve` does. Otherwise the report stays pending.
    async fn auto_block_if_due(
        &self,
        target: &Target,
        report: Entry,
        rule: &AutoBlock,
    ) -> Result<ReportOutcome, AdminError> {
        let now = now_epoch();
        let Some(agents) = plan::auto_block_due(&report, rule, now) else {
            return Ok(ReportOutcome::Pending(report));
        };
        let made = self
            .change(target, |stored| {
                Ok(plan::auto_block(
                    target, &report, &agents, rule, stored, now,
                ))
            })
            .await?;
        let report_t = target.as_kind(Kind::Report);
        let why = made.as_ref().and_then(|c| c.reason.clone());
        self.change(&report_t, |stored| {
            Ok(plan::close_report(
                &report_t,
                AuditAction::AutoBlock,
                why.as_deref(),
                stored,
            ))
        })
        .await?;
        Ok(match made.and_then(|c| c.after) {
            Some(block) => ReportOutcome::AutoBlocked(block),
            // Blocked meanwhile by someone else.
            None => ReportOutcome::AlreadyBlocked(self.get(target).await?.unwrap_or_default()),
        })
    }

    /// Pending reports, oldest first.
    pub async fn pending(&self) -> Result<Vec<Entry>, AdminError> {
        let mut pending: Vec<Entry> = self
            .list(false)
            .await?
            .into_iter()
            .filter(|e| e.status == Status::Pending)
            .collect();
        pending.sort_by(|a, b| a.created_at.cmp(&b.created_at));
        Ok(pending)
    }

    /// Approves the pending report of the number `target`: its block is
    /// made from the report (first, so a stop in between leaves the report
    /// to approve again, never a lost one), then the report goes. Returns
    /// the block.
    pub async fn approve(
        &self,
        target: &Target,
        reason: Option<&str>,
    ) -> Result<Entry, AdminError> {
        let report_t = target.as_kind(Kind::Report);
        let Some(pending) = self.pending_report(&report_t).await? else {
            return self.decide_pending_block(target, reason, true).await;
        };
        let now = now_epoch();
        self.change(target, |stored| {
            Ok(plan::approve_report(target, &pending, reason, stored, now))
        })
        .await?;
        self.change(&report_t, |stored| {
            Ok(plan::close_report(
                &report_t,
                AuditAction::Approve,
                reason,
                stored,
            ))
        })
        .await?;
        self.get(target).await?.ok_or_else(|| AdminError::Conflict {
            value: target.value.clone(),
        })
    }

    /// Rejects the pending report of the number `target`: the report goes.
    pub async fn reject(&self, target: &Target, reason: Option<&str>) -> Result<Entry, AdminError> {
        let report_t = target.as_kind(Kind::Report);
        let Some(pending) = self.pending_report(&report_t).await? else {
            return self.decide_pending_block(target, reason, false).await;
        };
        self.change(&report_t, |stored| {
            Ok(plan::close_report(
                &report_t,
                AuditAction::Reject,
                reason,
                stored,
            ))
        })
        .await?;
        Ok(pending)
    }

    /// The report stored under `report_t`, if it still waits for an admin.
    async fn pending_report(&self, report_t: &Target) -> Result<Option<Entry>, AdminError> {
        let stored = self.get(report_t).await?;
        Ok(stored.filter(|e| e.status == Status::Pending))
    }

    /// `approve` (or not: `reject`) of a report made before reports had
    /// their own entries: a pending entry at the number's own key. Returns
    /// the approved entry, or the rejected one.
    async fn decide_pending_block(
        &self,
        target: &Target,
        reason: Option<&str>,
        approve: bool,
    ) -> Result<Entry, AdminError> {
        let decide = if approve { plan::approve } else { plan::reject };
        let change = self
            .change(target, |stored| decide(target, reason, stored).map(Some))
            .await?;
        // `plan::approve` stores the entry; `plan::reject` removes the one it read.
        let entry = change.and_then(|c| if approve { c.after } else { c.before });
        Ok(entry.unwrap_or_default())
    }
}
