//! What an agent does from the console: report the caller on their line
//! (the same [`crate::admin::Admin::report`] as the report function, with
//! the same policy) and see where that caller stands.

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::Query;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Session;
use super::api::ApiError;
use crate::admin::Target;
use crate::admin::audit::{AuditAction, AuditRecord};
use crate::entry::{Kind, Mode, Status};
use crate::when::now_epoch;

/// The categories a report's reason starts with.
pub const CATEGORIES: [&str; 5] = ["spam", "robocall", "fraud", "abusive", "other"];

/// The longest note an agent may add, in characters.
pub const MAX_NOTE_CHARS: usize = 500;

#[derive(Debug, Deserialize)]
pub struct CallerQuery {
    number: String,
}

/// `GET /api/agent/caller?number=`: `{number, status, reports, since}`,
/// status one of `blocked` (an active block entry), `pending` (a report
/// waits for a supervisor), `reported` (reports were made and decided) or
/// `clear`; `reports` counts the agents who reported it.
pub async fn caller(
    s: Session,
    q: Result<Query<CallerQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = q?;
    let target = s.admin.target(Kind::Block, &q.number)?;
    let (status, reports, since) = standing(&s, &target).await?;
    Ok(Json(json!({
        "number": target.value,
        "status": status,
        "reports": reports,
        "since": since,
    })))
}

/// The caller's status, how many agents reported it, and since when.
async fn standing(
    s: &Session,
    target: &Target,
) -> Result<(&'static str, usize, Option<String>), ApiError> {
    let now = now_epoch();
    let report = target.as_kind(Kind::Report);
    if let Some(block) = s.admin.get(target).await?
        && block.is_active_at(now)
        && block.mode == Mode::Block
    {
        // A block made from reports carries its agents; one made by hand
        // carries none, though agents may have reported the number before.
        let reports = match block.reported_by.len() {
            0 => reporters(&s.admin.history(&[report]).await?),
            n => n,
        };
        return Ok(("blocked", reports, block.created_at));
    }
    if let Some(waiting) = s.admin.get(&report).await?
        && waiting.status == Status::Pending
        && !waiting.is_expired_at(now)
    {
        return Ok((
            "pending",
            waiting.reported_by.len().max(1),
            waiting.created_at,
        ));
    }
    let history = s.admin.history(&[report]).await?;
    Ok(match history.first() {
        Some(first) => ("reported", reporters(&history), Some(first.at.clone())),
        None => ("clear", 0, None),
    })
}

/// How many distinct agents the report trail `history` has reports from.
fn reporters(history: &[AuditRecord]) -> usize {
    history
        .iter()
        .filter(|r| r.action == AuditAction::Report)
        .map(|r| r.actor.as_str())
        .collect::<BTreeSet<_>>()
        .len()
}

/// The report form of the agent's page.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReportForm {
    number: String,
    #[serde(default)]
    contact_id: String,
    category: String,
    #[serde(default)]
    note: String,
}

/// `POST /api/agent/report`: records the caller as the report function
/// does, the reason `category: note`; answers `{status}` as
/// [`crate::admin::reports::ReportOutcome::status`] names it.
pub async fn report(
    s: Session,
    body: Result<Json<ReportForm>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(form) = body?;
    let reason = report_reason(&form.category, &form.note)?;
    let target = s.admin.target(Kind::Block, &form.number)?;
    let contact_id = Some(form.contact_id.trim()).filter(|c| !c.is_empty());
    let outcome = s
        .admin
        .report(
            &target,
            contact_id,
            Some(&reason),
            &s.state.check_config.reports,
        )
        .await?;
    Ok(Json(
        json!({ "number": target.value, "status": outcome.status() }),
    ))
}

/// `category: note` (the category alone without a note), or why not.
pub fn report_reason(category: &str, note: &str) -> Result<String, ApiError> {
    if !CATEGORIES.contains(&category) {
        return Err(ApiError::BadRequest(format!(
            "category `{category}` is not one of {}",
            CATEGORIES.join(", ")
        )));
    }
    let chars = note.chars().count();
    if chars > MAX_NOTE_CHARS {
        return Err(ApiError::BadRequest(format!(
            "the note has {chars} characters; keep it to {MAX_NOTE_CHARS}"
        )));
    }
    Ok(match note.trim() {
        "" => category.to_owned(),
        note => format!("{category}: {note}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_is_a_known_category_and_a_short_note() {
        assert_eq!(
            report_reason("fraud", " asked for a PIN ").unwrap(),
            "fraud: asked for a PIN"
        );
        assert_eq!(report_reason("spam", "").unwrap(), "spam");
        assert!(report_reason("rude", "x").is_err());
        assert!(report_reason("other", &"é".repeat(MAX_NOTE_CHARS)).is_ok());
        let long = report_reason("other", &"é".repeat(MAX_NOTE_CHARS + 1));
        assert_eq!(
            long.unwrap_err().status(),
            axum::http::StatusCode::BAD_REQUEST
        );
    }
}
