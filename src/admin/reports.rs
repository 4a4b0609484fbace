//! Agent reports: a caller reported from the "Report caller" flow becomes a
//! pending entry, which blocks only once an admin approves it (or at once,
//! when the team chooses `REPORTS_BLOCK_IMMEDIATELY=true`).

use super::audit::AuditAction;
use super::{Admin, AdminError, Target};
use crate::entry::{Entry, Kind, Status};
use crate::when::{now_epoch, rfc3339};

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

impl Admin {
    /// Records a report of the caller `target` (an exact number) made by
    /// this admin's actor (the agent) during `contact_id`.
    pub async fn report(
        &self,
        target: &Target,
        contact_id: Option<&str>,
        reason: Option<&str>,
        block_now: bool,
    ) -> Result<ReportOutcome, AdminError> {
        let now = now_epoch();
        let existing = self.get(target).await?;
        match &existing {
            Some(e) if e.is_active_at(now) => return Ok(ReportOutcome::AlreadyBlocked(e.clone())),
            Some(e) if e.status == Status::Pending && !e.is_expired_at(now) && !block_now => {
                return Ok(ReportOutcome::AlreadyPending(e.clone()));
            }
            _ => {}
        }
        let entry = Entry {
            kind: Kind::Block,
            value: target.value.clone(),
            reason: Some(reason.unwrap_or("reported by an agent").to_owned()),
            created_at: Some(rfc3339(now)),
            created_by: Some(self.actor().to_owned()),
            status: if block_now {
                Status::Active
            } else {
                Status::Pending
            },
            contact_id: contact_id.map(str::to_owned),
            ..Entry::default()
        };
        let source = format!("report contact {}", contact_id.unwrap_or("unknown"));
        self.write(
            target,
            AuditAction::Report,
            entry.reason.as_deref(),
            &source,
            existing,
            Some(entry.clone()),
        )
        .await?;
        Ok(if block_now {
            ReportOutcome::Blocked(entry)
        } else {
            ReportOutcome::Pending(entry)
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
        let pending = self.pending_entry(target).await?;
        let mut approved = pending.clone();
        approved.status = Status::Active;
        if let Some(reason) = reason {
            approved.reason = Some(reason.to_owned());
        }
        self.write(
            target,
            AuditAction::Approve,
            reason,
            "cli",
            Some(pending),
            Some(approved.clone()),
        )
        .await?;
        Ok(approved)
    }

    /// Rejects a pending report: the entry is removed.
    pub async fn reject(&self, target: &Target, reason: Option<&str>) -> Result<Entry, AdminError> {
        let pending = self.pending_entry(target).await?;
        self.write(
            target,
            AuditAction::Reject,
            reason,
            "cli",
            Some(pending.clone()),
            None,
        )
        .await?;
        Ok(pending)
    }

    async fn pending_entry(&self, target: &Target) -> Result<Entry, AdminError> {
        match self.get(target).await? {
            Some(e) if e.status == Status::Pending => Ok(e),
            _ => Err(AdminError::NotPending {
                value: target.value.clone(),
            }),
        }
    }
}
