//! The console's import and export: the same [`Admin`] calls as
//! `blocklist import` and `blocklist export`, so a file checks, writes and
//! audits exactly as it would from the command line. A dry run checks the
//! whole file against what is stored and names every rejected line; the
//! apply then writes the valid rows (each through the write protocol, with
//! its own audit record) and counts the rest.

use axum::Json;
use axum::extract::Query;
use axum::extract::rejection::QueryRejection;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Session;
use super::api::ApiError;
use crate::admin::import::{ImportDefaults, ImportSummary, Rejected, parse_csv, write_csv};

/// What `POST /api/import` is asked.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ImportQuery {
    /// The file's name, for the audit records' source (`import console FILE:LINE`).
    pub name: String,
    /// Write the valid rows; without it, a dry run that writes nothing.
    pub apply: bool,
    /// The reason of rows that give none (required to apply).
    pub reason: String,
}

/// `POST /api/import` with the CSV as the body: the dry run (default) or
/// the apply. Answers the summary, every rejected line with why, and the
/// rows a later row of the same entry replaced.
pub async fn import(
    s: Session,
    q: Result<Query<ImportQuery>, QueryRejection>,
    body: String,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let reason = q.reason.trim();
    if q.apply && reason.is_empty() {
        return Err(ApiError::ReasonRequired);
    }
    let defaults = ImportDefaults {
        reason: (!reason.is_empty()).then(|| reason.to_owned()),
        expires_at: None,
    };
    let parsed = parse_csv(body.as_bytes(), s.admin.normalizer(), &defaults)
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let source = format!("console {}", file_name(&q.name));
    let plan = s.admin.plan_import(&parsed, &source).await?;
    let summary = s.admin.write_import(&plan, !q.apply, |_| {}).await?;
    let rejected: Vec<Value> = parsed
        .rejected
        .iter()
        .chain(&plan.rejected)
        .map(rejected_view)
        .collect();
    let duplicates: Vec<Value> = parsed
        .duplicates
        .iter()
        .map(|d| json!({"line": d.line, "earlierLine": d.earlier_line}))
        .collect();
    Ok(Json(json!({
        "summary": summary_view(&summary),
        "rejected": rejected,
        "duplicates": duplicates,
    })))
}

/// `GET /api/export`: every entry that has not expired, as the import's
/// CSV (what `blocklist export` writes), to save as a file.
pub async fn export(s: Session) -> Result<Response, ApiError> {
    let entries = s.admin.list(false).await?;
    let mut csv = Vec::new();
    write_csv(&entries, &mut csv).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    Ok((
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                CONTENT_DISPOSITION,
                "attachment; filename=\"blocklist-export.csv\"",
            ),
        ],
        csv,
    )
        .into_response())
}

/// The name a file is recorded under: its last path part, printable ASCII
/// only and at most 100 characters (it comes from the browser).
fn file_name(given: &str) -> String {
    let last = given.rsplit(['/', '\\']).next().unwrap_or_default();
    let clean: String = last
        .chars()
        .filter(|c| c.is_ascii_graphic() || *c == ' ')
        .take(100)
        .collect();
    if clean.trim().is_empty() {
        "upload.csv".to_owned()
    } else {
        clean
    }
}

fn rejected_view(r: &Rejected) -> Value {
    json!({"line": r.line, "value": r.value, "why": r.why.to_string()})
}

fn summary_view(s: &ImportSummary) -> Value {
    json!({
        "read": s.read,
        "valid": s.valid,
        "rejected": s.rejected,
        "duplicates": s.duplicates,
        "unchanged": s.unchanged,
        "written": s.written,
        "conflicts": s.conflicts,
        "dryRun": s.dry_run,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_recorded_under_its_last_name_only() {
        assert_eq!(file_name("C:\\Users\\me\\list.csv"), "list.csv");
        assert_eq!(file_name("../../etc/x.csv"), "x.csv");
        assert_eq!(file_name("bad\nname\u{7}.csv"), "badname.csv");
        assert_eq!(file_name(""), "upload.csv");
        assert_eq!(file_name(&"a".repeat(500)).len(), 100);
    }
}
