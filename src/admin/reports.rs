//! Agent reports: a caller reported from the "Report caller" flow becomes a
//! pending entry, which blocks only once an admin approves it (or at once,
//! when the team chooses `REPORTS_BLOCK_IMMEDIATELY=true`).

use super::plan::{self, Report, ReportPlan};
use super::store::AdminStore;
use super::{Admin, AdminError, Target};
use crate::entry::{Entry, Status};
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
    /// this admin's actor (the agent) during `contact_id`.
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
        let mut unchanged = None;
        let change = self
            .change(target, |stored| {
                Ok(
                    match plan::report(target, &report, stored, self.actor(), now) {
                        ReportPlan::AlreadyBlocked(e) => {
                            unchanged = Some(ReportOutcome::AlreadyBlocked(e));
                            None
                        }
                        ReportPlan::AlreadyPending(e) => {
                            unchanged = Some(ReportOutcome::AlreadyPending(e));
                            None
                        }
                        ReportPlan::Record(change) => Some(*change),
                    },
                )
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

    /// Approves a pending report: the entry blocks from now on.
    pub async fn approve(
        &self,
        target: &Target,
        reason: Option<&str>,
    ) -> Result<Entry, AdminError> {
        let change = self
            .change(target, |stored| {
                plan::approve(target, reason, stored).map(Some)
            })
            .await?;
        // `plan::approve` always stores the approved entry.
        Ok(change.and_then(|c| c.after).unwrap_or_default())
    }

    /// Rejects a pending report: the entry is removed.
    pub async fn reject(&self, target: &Target, reason: Option<&str>) -> Result<Entry, AdminError> {
        let change = self
            .change(target, |stored| {
                plan::reject(target, reason, stored).map(Some)
            })
            .await?;
        // `plan::reject` always has the report it removes.
        Ok(change.and_then(|c| c.before).unwrap_or_default())
    }
}
