//! Bulk import and export as CSV: `phoneNumber` (required), `kind`
//! (`block`, `prefix`, `allow`, `allowPrefix`; absent means `block`),
//! `reason`, `expiresAt`, `note`, `action`, `message`, `queueArn`.
//!
//! An import normalizes each row as the Lambda would, reports every rejected
//! row with its line number, collapses duplicates (the later row wins),
//! skips rows that would change nothing, and writes the rest in batches:
//! each batch's audit records first, then its entries.

use std::collections::HashMap;
use std::io::{Read, Write};

use aws_sdk_dynamodb::types::AttributeValue;
use tokio::task::JoinSet;

use super::audit::{AuditAction, AuditRecord};
use super::batch::{GET_BATCH, WRITE_BATCH, get_batch, put_batch};
use super::{Admin, AdminError, EntryFields, Target, parse_target};
use crate::entry::{BlockAction, Entry, Kind};
use crate::phone::Normalizer;
use crate::store::{entry_from_item, item_from_entry};
use crate::when::{now_epoch, parse_absolute, rfc3339};

/// The columns of import and export files, in export order.
pub const COLUMNS: &[&str] = &[
    "phoneNumber",
    "kind",
    "reason",
    "expiresAt",
    "note",
    "action",
    "message",
    "queueArn",
];
/// Batches written at once.
const PARALLEL_BATCHES: usize = 8;

/// The file cannot be imported at all.
#[derive(Debug, thiserror::Error)]
pub enum CsvError {
    #[error("cannot read the CSV: {0}")]
    Read(#[from] csv::Error),
    #[error("the header has no `phoneNumber` column (columns: {})", COLUMNS.join(", "))]
    MissingPhoneNumberColumn,
    #[error("unknown column `{name}` in the header; the columns are: {}", COLUMNS.join(", "))]
    UnknownColumn { name: String },
    #[error("column `{0}` appears twice in the header")]
    DuplicateColumn(String),
}

/// Values applied to rows that leave a column empty.
#[derive(Debug, Clone, Default)]
pub struct ImportDefaults {
    pub reason: Option<String>,
    pub expires_at: Option<i64>,
}

/// A row that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub line: u64,
    pub value: String,
    pub why: String,
}

/// A row whose entry an earlier row already had; the later row wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicate {
    pub line: u64,
    pub earlier_line: u64,
    pub target: Target,
}

/// A valid row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub line: u64,
    pub target: Target,
    pub fields: EntryFields,
}

/// A file read and checked, before anything is written.
#[derive(Debug, Clone, Default)]
pub struct ParsedCsv {
    /// Data rows read (the header excluded).
    pub read: usize,
    /// Valid rows, one per entry.
    pub rows: Vec<Row>,
    pub rejected: Vec<Rejected>,
    pub duplicates: Vec<Duplicate>,
}

/// What an import did (or, dry, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub read: usize,
    pub valid: usize,
    pub rejected: usize,
    pub duplicates: usize,
    pub unchanged: usize,
    /// Entries written (or that would be, with `dry_run`).
    pub written: usize,
    pub dry_run: bool,
}

/// Reads and checks an import file.
pub fn parse_csv<R: Read>(
    input: R,
    normalizer: &Normalizer,
    defaults: &ImportDefaults,
) -> Result<ParsedCsv, CsvError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(input);
    let header: Vec<String> = reader.headers()?.iter().map(str::to_owned).collect();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (i, name) in header.iter().enumerate() {
        let known = COLUMNS
            .iter()
            .find(|c| *c == name)
            .ok_or_else(|| CsvError::UnknownColumn { name: name.clone() })?;
        if index.insert(known, i).is_some() {
            return Err(CsvError::DuplicateColumn(name.clone()));
        }
    }
    let phone_column = *index
        .get("phoneNumber")
        .ok_or(CsvError::MissingPhoneNumberColumn)?;

    let mut parsed = ParsedCsv::default();
    let mut seen: HashMap<Target, usize> = HashMap::new();
    for result in reader.records() {
        parsed.read += 1;
        let record = match result {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                parsed.rejected.push(Rejected {
                    line,
                    value: String::new(),
                    why: format!("unreadable row: {e}"),
                });
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let raw = record.get(phone_column).unwrap_or_default().to_owned();
        let row = if record.len() != header.len() {
            Err(format!(
                "has {} fields, the header has {}",
                record.len(),
                header.len()
            ))
        } else {
            let get = |column: &str| {
                index
                    .get(column)
                    .and_then(|&i| record.get(i))
                    .filter(|v| !v.is_empty())
            };
            parse_row(line, &raw, get, normalizer, defaults)
        };
        match row {
            Err(why) => parsed.rejected.push(Rejected {
                line,
                value: raw,
                why,
            }),
            Ok(row) => match seen.get(&row.target) {
                Some(&i) => {
                    let earlier = &mut parsed.rows[i];
                    parsed.duplicates.push(Duplicate {
                        line,
                        earlier_line: earlier.line,
                        target: row.target.clone(),
                    });
                    *earlier = row;
                }
                None => {
                    seen.insert(row.target.clone(), parsed.rows.len());
                    parsed.rows.push(row);
                }
            },
        }
    }
    Ok(parsed)
}

fn parse_row<'a>(
    line: u64,
    raw: &str,
    get: impl Fn(&str) -> Option<&'a str>,
    normalizer: &Normalizer,
    defaults: &ImportDefaults,
) -> Result<Row, String> {
    let kind: Kind = match get("kind") {
        None => Kind::Block,
        Some(k) => k
            .parse()
            .map_err(|e: crate::wire::UnknownName| format!("kind: {e}"))?,
    };
    if raw.is_empty() {
        return Err("phoneNumber is empty".into());
    }
    let target = parse_target(normalizer, kind, raw).map_err(|e| match e {
        AdminError::InvalidNumber { reason, .. } => format!("not a valid phone number: {reason}"),
        AdminError::NotANumber { .. } => "a withheld caller ID, not a number".into(),
        other => other.to_string(),
    })?;
    let expires_at = match get("expiresAt") {
        None => defaults.expires_at,
        Some(v) => Some(parse_absolute(v).map_err(|e| format!("expiresAt: {e}"))?),
    };
    let action = get("action")
        .map(str::parse::<BlockAction>)
        .transpose()
        .map_err(|e| format!("action: {e}"))?;
    let fields = EntryFields {
        reason: get("reason")
            .map(str::to_owned)
            .or_else(|| defaults.reason.clone()),
        expires_at,
        note: get("note").map(str::to_owned),
        action,
        message: get("message").map(str::to_owned),
        queue_arn: get("queueArn").map(str::to_owned),
    }
    .checked(kind)
    .map_err(|e| e.to_string())?;
    Ok(Row {
        line,
        target,
        fields,
    })
}

/// Writes entries as an import file; importing it back changes nothing.
pub fn write_csv<W: Write>(entries: &[Entry], output: W) -> Result<(), csv::Error> {
    let mut writer = csv::Writer::from_writer(output);
    writer.write_record(COLUMNS)?;
    for e in entries {
        writer.write_record([
            e.value.as_str(),
            e.kind.as_str(),
            e.reason.as_deref().unwrap_or_default(),
            &e.expires_at.map(rfc3339).unwrap_or_default(),
            e.note.as_deref().unwrap_or_default(),
            e.action.map(BlockAction::as_str).unwrap_or_default(),
            e.message.as_deref().unwrap_or_default(),
            e.queue_arn.as_deref().unwrap_or_default(),
        ])?;
    }
    writer.flush()?;
    Ok(())
}

impl Admin {
    /// Imports checked rows: reads what is stored for them, writes only the
    /// rows that change something, audit records before entries.
    /// `progress` is told how many rows were written so far.
    pub async fn import(
        &self,
        parsed: &ParsedCsv,
        source: &str,
        dry_run: bool,
        mut progress: impl FnMut(usize),
    ) -> Result<ImportSummary, AdminError> {
        let existing = self.existing_entries(&parsed.rows).await?;
        let now = now_epoch();
        let mut changes: Vec<(Kind, AuditRecord, Entry)> = Vec::new();
        for row in &parsed.rows {
            let before = existing.get(&row.target);
            if before.is_some_and(|b| row.fields.same_as(b)) {
                continue;
            }
            let entry = self.new_entry(&row.target, row.fields.clone(), now);
            let action = if before.is_some() {
                AuditAction::Replace
            } else {
                AuditAction::Add
            };
            let record = AuditRecord::new(
                row.target.audit_key(),
                action,
                self.actor(),
                entry.reason.as_deref(),
                format!("import {source}:{}", row.line),
                before.cloned(),
                Some(entry.clone()),
            );
            changes.push((row.target.kind, record, entry));
        }
        let mut summary = ImportSummary {
            read: parsed.read,
            valid: parsed.rows.len(),
            rejected: parsed.rejected.len(),
            duplicates: parsed.duplicates.len(),
            unchanged: parsed.rows.len() - changes.len(),
            written: 0,
            dry_run,
        };
        if dry_run {
            summary.written = changes.len();
            return Ok(summary);
        }
        for chunk in changes.chunks(WRITE_BATCH * PARALLEL_BATCHES) {
            let audits = chunk
                .iter()
                .map(|(_, record, _)| record.to_item())
                .collect();
            self.put_parallel(&self.tables().audit, audits).await?;
            for table in [&self.tables().blocklist, &self.tables().rules] {
                let entries: Vec<_> = chunk
                    .iter()
                    .filter(|(kind, _, _)| self.table_for(*kind) == table.as_str())
                    .map(|(_, _, entry)| item_from_entry(entry))
                    .collect();
                self.put_parallel(table, entries).await?;
            }
            summary.written += chunk.len();
            progress(summary.written);
        }
        if changes.iter().any(|(kind, _, _)| *kind != Kind::Block) {
            self.publish_if_rule(Kind::Prefix).await?;
        }
        Ok(summary)
    }

    async fn existing_entries(&self, rows: &[Row]) -> Result<HashMap<Target, Entry>, AdminError> {
        let mut existing = HashMap::new();
        let mut tasks = JoinSet::new();
        for table in [&self.tables().blocklist, &self.tables().rules] {
            let in_table: Vec<&Row> = rows
                .iter()
                .filter(|r| self.table_for(r.target.kind) == table.as_str())
                .collect();
            for chunk in in_table.chunks(GET_BATCH) {
                let keys = chunk
                    .iter()
                    .map(|r| {
                        HashMap::from([{
                            let (name, value) = self.key(&r.target);
                            (name.to_owned(), value)
                        }])
                    })
                    .collect();
                let (client, table) = (self.client().clone(), table.clone());
                tasks.spawn(async move { get_batch(&client, &table, keys).await });
                if tasks.len() >= PARALLEL_BATCHES {
                    collect_entries(&mut tasks, &mut existing, 1).await?;
                }
            }
        }
        collect_entries(&mut tasks, &mut existing, usize::MAX).await?;
        Ok(existing)
    }

    /// Writes `items` as batches, several at a time; returns once all are written.
    async fn put_parallel(
        &self,
        table: &str,
        items: Vec<HashMap<String, AttributeValue>>,
    ) -> Result<(), AdminError> {
        let mut tasks = JoinSet::new();
        let mut items = items.into_iter().peekable();
        while items.peek().is_some() {
            let batch: Vec<_> = items.by_ref().take(WRITE_BATCH).collect();
            let (client, table) = (self.client().clone(), table.to_owned());
            tasks.spawn(async move { put_batch(&client, &table, batch).await });
        }
        while let Some(done) = tasks.join_next().await {
            done.map_err(|e| AdminError::Request {
                table: table.to_owned(),
                message: format!("write task failed: {e}"),
            })??;
        }
        Ok(())
    }
}

type GetTasks = JoinSet<Result<Vec<HashMap<String, AttributeValue>>, AdminError>>;

async fn collect_entries(
    tasks: &mut GetTasks,
    into: &mut HashMap<Target, Entry>,
    at_most: usize,
) -> Result<(), AdminError> {
    let mut collected = 0;
    while collected < at_most {
        let Some(done) = tasks.join_next().await else {
            break;
        };
        let items = done.map_err(|e| AdminError::Request {
            table: String::new(),
            message: format!("read task failed: {e}"),
        })??;
        for item in &items {
            let entry = entry_from_item(item);
            let target = Target {
                kind: entry.kind,
                value: entry.value.clone(),
            };
            into.insert(target, entry);
        }
        collected += 1;
    }
    Ok(())
}
