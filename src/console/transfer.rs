//! The console's import and export: the same [`Admin`] calls as
//! `blocklist import` and `blocklist export`, so a file checks, writes and
//! audits exactly as it would from the command line. A dry run checks the
//! whole file against what is stored and names every rejected line; the
//! apply then writes the valid rows (each through the write protocol, with
//! its own audit record) and counts the rest.
//!
//! A request may take a part of the file, rows `from` to `to`: the page
//! applies a large file a part at a time to show how far it has got. Each
//! request still carries and parses the whole file, so duplicates are
//! resolved and lines numbered over the whole file exactly as in one
//! request, and only the part's rows are planned and written
//! ([`ParsedCsv::rows_in`]); the parts' summaries add up to the whole's.

use std::ops::Range;

use axum::Json;
use axum::extract::Query;
use axum::extract::rejection::QueryRejection;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Session;
use super::api::ApiError;
use crate::admin::import::{
    ImportDefaults, ImportSummary, ParsedCsv, Rejected, parse_csv, write_csv,
};

/// Rows the page's import applies a request unless told otherwise
/// (`blocklist serve --import-rows-per-request`): a few seconds of writes
/// on DynamoDB, well inside API Gateway's 30-second limit for the deployed
/// console, and 20 requests for the largest file the body limit lets in
/// (about 20,000 rows).
pub const IMPORT_PART_ROWS: usize = 1_000;

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
    /// The first row of the part to check or write (0, the first row after
    /// the header, when absent).
    pub from: Option<usize>,
    /// The row after the part's last (the file's end when absent).
    pub to: Option<usize>,
}

/// `POST /api/import` with the CSV as the body: the dry run (default) or
/// the apply, of the whole file or of rows `from` to `to`. Answers the
/// part's summary, every rejected line in it with why, the rows in it that
/// replaced an earlier row of the same entry, and where the part lies in
/// the file (`rows`).
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
    let whole = parse_csv(body.as_bytes(), s.admin.normalizer(), &defaults)
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let range = q.from.unwrap_or(0)..q.to.unwrap_or(whole.read);
    let parsed = whole.rows_in(range.clone())?;
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
        "rows": rows_view(&whole, &range),
    })))
}

/// Where a part lies in the file: its rows, the file's, and the lines the
/// part and the next one start on (null past the end), which a page that
/// stops half-way names as where the file was left.
fn rows_view(whole: &ParsedCsv, range: &Range<usize>) -> Value {
    json!({
        "from": range.start,
        "to": range.end,
        "total": whole.read,
        "firstLine": whole.row_line(range.start),
        "nextLine": whole.row_line(range.end),
    })
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
