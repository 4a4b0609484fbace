//! Agent reports: a caller reported from the "Report caller" flow becomes a
//! pending entry, which blocks only once an admin approves it (or at once,
//! when the team chooses `REPORTS_BLOCK_IMMEDIATELY=true`).

use super::audit::AuditAction;
use super::plan::{self, Report, ReportPlan};
use super::store::AdminStore;
use super::{Admin, AdminError, Target};
use crate::entry::{Entry, Kind, Status};
use crate::when::now_epoch;

/// What a report did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportOutcome {
    /// Recorded as pending, waiting for an admin.
    Pending(Entry),
    /// Recorded as an active block (reports block at once).
    Blocked(Entry),
    /// The number was already blocked: nothing changed.
    AlreadyBlocked(Entry),
    /// The number was already reported and waits for an admin: nothing changed.
    AlreadyPending(Entry),
}

impl ReportOutcome {
    /// The value of `reportStatus` in the report function's answer.
    pub fn status(&self) -> &'static str {
        match self {
            ReportOutcome::Pending(_) => "pending",
            ReportOutcome::Blocked(_) => "blocked",
            ReportOutcome::AlreadyBlocked(_) => "alreadyBlocked",
            ReportOutcome::AlreadyPending(_) => "alreadyPending",
        }
    }
}

impl<S: AdminStore> Admin<S> {
    /// Records a report of the caller `target` (an exact number) made by
    /// this admin's actor (the agent) during `contact_id`: a pending report
    /// of its own (`report#<number>`), or with `block_now` an active block.
    pub async fn report(
        &self,
        target: &Target,
        contact_id: Option<&str>,
        reason: Option<&str>,
        block_now: bool,
    ) -> Result<ReportOutcome, AdminError> {
        let report = Report {
            contact_id,
            reason,
            block_now,
        };
        let now = now_epoch();
        let on = if block_now {
            target.clone()
        } else {
            target.as_kind(Kind::Report)
        };
        let block = if block_now {
            None
        } else {
            self.get(target).await?
        };
        let mut unchanged = None;
        let change = self
            .change(&on, |stored| {
                let (stored_block, stored_report) = match block_now {
                    true => (stored, None),
                    false => (block, stored),
                };
                let plan = plan::report(
                    target,
                    &report,
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
            None if block_now => ReportOutcome::Blocked(entry),
            None => ReportOutcome::Pending(entry),
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
