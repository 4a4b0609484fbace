//! Bulk import and export as CSV (`phoneNumber,reason,expiresAt,note`).
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
use super::{Admin, AdminError, EntryFields};
use crate::entry::BlockEntry;
use crate::phone::{CallerId, E164, Normalizer};
use crate::store::{attr, entry_from_item, item_from_entry};
use crate::when::{now_epoch, parse_absolute, rfc3339};

/// The columns of import and export files, in export order.
pub const COLUMNS: &[&str] = &["phoneNumber", "reason", "expiresAt", "note"];
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

/// A row whose number an earlier row already had; the later row wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicate {
    pub line: u64,
    pub earlier_line: u64,
    pub number: String,
}

/// A valid row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub line: u64,
    pub number: E164,
    pub fields: EntryFields,
}

/// A file read and checked, before anything is written.
#[derive(Debug, Clone, Default)]
pub struct ParsedCsv {
    /// Data rows read (the header excluded).
    pub read: usize,
    /// Valid rows, one per number.
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
    let mut seen: HashMap<E164, usize> = HashMap::new();
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
        let get = |column: &str| {
            index
                .get(column)
                .and_then(|&i| record.get(i))
                .filter(|v| !v.is_empty())
        };
        let raw = record.get(phone_column).unwrap_or_default().to_owned();
        let reject = |why: String| Rejected {
            line,
            value: raw.clone(),
            why,
        };
        if record.len() != header.len() {
            parsed.rejected.push(reject(format!(
                "has {} fields, the header has {}",
                record.len(),
                header.len()
            )));
            continue;
        }
        let number = match normalizer.classify(Some(&raw)) {
            CallerId::Valid(n) => n,
            CallerId::Invalid(reason) => {
                parsed
                    .rejected
                    .push(reject(format!("not a valid phone number: {reason}")));
                continue;
            }
            CallerId::Anonymous | CallerId::Missing if raw.is_empty() => {
                parsed.rejected.push(reject("phoneNumber is empty".into()));
                continue;
            }
            CallerId::Anonymous | CallerId::Missing => {
                parsed
                    .rejected
                    .push(reject("a withheld caller ID, not a number".into()));
                continue;
            }
        };
        let expires_at = match get("expiresAt") {
            None => defaults.expires_at,
            Some(v) => match parse_absolute(v) {
                Ok(t) => Some(t),
                Err(e) => {
                    parsed.rejected.push(reject(format!("expiresAt: {e}")));
                    continue;
                }
            },
        };
        let fields = EntryFields {
            reason: get("reason")
                .map(str::to_owned)
                .or_else(|| defaults.reason.clone()),
            expires_at,
            note: get("note").map(str::to_owned),
        };
        match seen.get(&number) {
            Some(&i) => {
                let earlier = &mut parsed.rows[i];
                parsed.duplicates.push(Duplicate {
                    line,
                    earlier_line: earlier.line,
                    number: number.to_string(),
                });
                earlier.line = line;
                earlier.fields = fields;
            }
            None => {
                seen.insert(number.clone(), parsed.rows.len());
                parsed.rows.push(Row {
                    line,
                    number,
                    fields,
                });
            }
        }
    }
    Ok(parsed)
}

/// Writes entries as an import file; importing it back changes nothing.
pub fn write_csv<W: Write>(entries: &[BlockEntry], output: W) -> Result<(), csv::Error> {
    let mut writer = csv::Writer::from_writer(output);
    writer.write_record(COLUMNS)?;
    for e in entries {
        writer.write_record([
            e.phone_number.as_str(),
            e.reason.as_deref().unwrap_or_default(),
            &e.expires_at.map(rfc3339).unwrap_or_default(),
            e.note.as_deref().unwrap_or_default(),
        ])?;
    }
    writer.flush()?;
    Ok(())
}

fn same_fields(entry: &BlockEntry, fields: &EntryFields) -> bool {
    entry.reason == fields.reason
        && entry.expires_at == fields.expires_at
        && entry.note == fields.note
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
        let mut changes: Vec<(AuditRecord, BlockEntry)> = Vec::new();
        for row in &parsed.rows {
            let before = existing.get(row.number.as_str());
            if before.is_some_and(|b| same_fields(b, &row.fields)) {
                continue;
            }
            let entry = self.new_entry(&row.number, row.fields.clone(), now);
            let action = if before.is_some() {
                AuditAction::Replace
            } else {
                AuditAction::Add
            };
            let record = AuditRecord::new(
                action,
                self.actor(),
                entry.reason.as_deref(),
                format!("import {source}:{}", row.line),
                before.cloned(),
                Some(entry.clone()),
            );
            changes.push((record, entry));
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
            let audits = chunk.iter().map(|(record, _)| record.to_item()).collect();
            self.put_parallel(self.audit_table(), audits).await?;
            let entries = chunk
                .iter()
                .map(|(_, entry)| item_from_entry(entry))
                .collect();
            self.put_parallel(self.table(), entries).await?;
            summary.written += chunk.len();
            progress(summary.written);
        }
        Ok(summary)
    }

    async fn existing_entries(
        &self,
        rows: &[Row],
    ) -> Result<HashMap<String, BlockEntry>, AdminError> {
        let mut existing = HashMap::new();
        let mut tasks = JoinSet::new();
        for chunk in rows.chunks(GET_BATCH) {
            let keys = chunk
                .iter()
                .map(|r| {
                    HashMap::from([(
                        attr::PHONE_NUMBER.to_owned(),
                        AttributeValue::S(r.number.to_string()),
                    )])
                })
                .collect();
            let (client, table) = (self.client().clone(), self.table().to_owned());
            tasks.spawn(async move { get_batch(&client, &table, keys).await });
            if tasks.len() >= PARALLEL_BATCHES {
                collect_entries(&mut tasks, &mut existing, 1).await?;
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
    into: &mut HashMap<String, BlockEntry>,
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
            into.insert(entry.phone_number.clone(), entry);
        }
        collected += 1;
    }
    Ok(())
}
