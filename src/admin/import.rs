//! Bulk import and export as CSV: `phoneNumber` (required), `kind`
//! (`block`, `prefix`, `allow`, `allowPrefix`, `report`; absent means `block`),
//! `reason`, `expiresAt`, `note`, `action`, `message`, `queueArn`,
//! `status` (`pending` for kind `report`, an agent's report, which an
//! export keeps and an import restores as it was, not approved; `active`
//! for every other kind).
//!
//! An import normalizes each row as the Lambda would, reports every rejected
//! row with its line number, collapses duplicates (the later row wins),
//! skips rows that would change nothing, and writes the rest in batches:
//! each batch's audit records first, then its entries. A file the reader
//! cannot take apart into rows for sure (a quote that never closes) is
//! refused whole.

mod quotes;

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::ops::Range;

use super::audit::Author;
use super::fields::parse_line;
use super::plan::{self, Change};
use super::store::AdminStore;
use super::{ActionProblem, Admin, AdminError, EntryFields, Target, TargetError, parse_target};
use crate::entry::{BlockAction, Entry, Kind, Mode, Status};
use crate::limits::{ItemTooLarge, TooLong, check_change, check_fields};
use crate::phone::{InvalidReason, Normalizer};
use crate::when::{ExpiryInPast, TimeError, future_expiry, now_epoch, parse_absolute, rfc3339};
use crate::wire::UnknownName;
use quotes::QuoteWatch;

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
    "status",
    "mode",
    "lines",
    "reportedBy",
];

/// What separates the numbers of the `lines` column.
pub const LINES_SEPARATOR: char = ';';

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
    #[error(
        "rejected `{value}`: a quote opened on this line is never closed, so every later row would be read into one cell: close it (a quote inside a quoted cell is written \"\"); nothing in the file was used"
    )]
    UnclosedQuote { line: u64, value: String },
}

impl CsvError {
    /// The line the error is about, when it is about one.
    pub fn line(&self) -> Option<u64> {
        match self {
            CsvError::UnclosedQuote { line, .. } => Some(*line),
            CsvError::Read(_)
            | CsvError::MissingPhoneNumberColumn
            | CsvError::UnknownColumn { .. }
            | CsvError::DuplicateColumn(_) => None,
        }
    }
}

/// Values applied to rows that leave a column empty.
#[derive(Debug, Clone, Default)]
pub struct ImportDefaults {
    pub reason: Option<String>,
    pub expires_at: Option<i64>,
}

/// Why a row was not imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RowError {
    #[error("unreadable row: {0}")]
    Unreadable(String),
    #[error("has {fields} fields, the header has {header}")]
    FieldCount { fields: usize, header: usize },
    #[error("phoneNumber is empty")]
    EmptyNumber,
    #[error("kind: {0}")]
    Kind(UnknownName),
    #[error("not a valid phone number: {0}")]
    InvalidNumber(InvalidReason),
    #[error("a withheld caller ID, not a number")]
    NotANumber,
    #[error(transparent)]
    InvalidPrefix(TargetError),
    #[error("expiresAt: {0}")]
    Expiry(TimeError),
    #[error("expiresAt: {0}")]
    Expired(ExpiryInPast),
    #[error(transparent)]
    TooLong(TooLong),
    #[error(transparent)]
    TooLarge(ItemTooLarge),
    #[error("action: {0}")]
    UnknownAction(UnknownName),
    #[error("status: {0}")]
    UnknownStatus(UnknownName),
    #[error("status: only agent reports (kind report) are pending, not a {0} entry")]
    PendingNotReport(Kind),
    #[error("status: an agent's report (kind report) is always pending")]
    ActiveReport,
    #[error("mode: {0}")]
    UnknownMode(UnknownName),
    #[error("lines: {0} (separate numbers with `;`)")]
    Line(TargetError),
    #[error(
        "reportedBy: {0} (a JSON object of agent to epoch seconds, as export writes it: {{\"agent:alice\":1767225600}})"
    )]
    ReportedBy(String),
    #[error("reportedBy: only agent reports (kind report) have reporting agents, not a {0} entry")]
    ReportersNotReport(Kind),
    #[error(transparent)]
    Action(ActionProblem),
}

/// A row that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub line: u64,
    pub value: String,
    pub why: RowError,
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
    /// The line each row read starts on, in file order (`read` of them):
    /// where [`ParsedCsv::rows_in`] cuts the file.
    pub row_lines: Vec<u64>,
}

/// A range of rows [`ParsedCsv::rows_in`] cannot take from the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "rows {from} to {to} are not a range of this file's {read} rows (numbered from 0, `to` not included, at most {read}): ask for rows the file has, and send the file its dry run checked"
)]
pub struct RowRangeError {
    pub from: usize,
    pub to: usize,
    pub read: usize,
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
    /// Rows not written because another writer changed their entry
    /// meanwhile (the import can simply be run again).
    pub conflicts: usize,
    pub dry_run: bool,
}

/// The header's columns: where each known column is.
struct Header {
    index: HashMap<&'static str, usize>,
    len: usize,
}

impl Header {
    /// Reads the header row; every column must be known and appear once,
    /// and `phoneNumber` must be there.
    fn read<R: Read>(reader: &mut csv::Reader<R>) -> Result<Header, CsvError> {
        let names = reader.headers()?;
        let mut index = HashMap::new();
        for (i, name) in names.iter().enumerate() {
            let known =
                COLUMNS
                    .iter()
                    .find(|c| **c == name)
                    .ok_or_else(|| CsvError::UnknownColumn {
                        name: name.to_owned(),
                    })?;
            if index.insert(*known, i).is_some() {
                return Err(CsvError::DuplicateColumn(name.to_owned()));
            }
        }
        if !index.contains_key("phoneNumber") {
            return Err(CsvError::MissingPhoneNumberColumn);
        }
        Ok(Header {
            index,
            len: names.len(),
        })
    }

    /// The non-empty value of `column` in `record`.
    fn get<'r>(&self, record: &'r csv::StringRecord, column: &str) -> Option<&'r str> {
        self.index
            .get(column)
            .and_then(|&i| record.get(i))
            .map(cell_value)
            .filter(|v| !v.is_empty())
    }
}

/// First characters that make a spreadsheet run a cell as a formula
/// (OWASP, "CSV Injection"). `+` is also why a spreadsheet turns
/// `+14155550123` into the number 14155550123.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];
/// Put before such a cell, it makes a spreadsheet show the rest as text.
const TEXT_MARK: char = '\'';

/// Whether [`csv_cell`] marks `text`: it starts a formula, or with the
/// mark itself (so that reading back is exact: `'=x` is written `''=x`).
fn needs_mark(text: &str) -> bool {
    text.starts_with(FORMULA_STARTS) || text.starts_with(TEXT_MARK)
}

/// A value as a CSV cell the CLI writes (`export`, `--output csv`): with a
/// `'` before it when a spreadsheet would run it as a formula or read it as
/// a number. An import reads the value back exactly ([`cell_value`]).
pub fn csv_cell(value: &str) -> Cow<'_, str> {
    if needs_mark(value) {
        Cow::Owned(format!("{TEXT_MARK}{value}"))
    } else {
        Cow::Borrowed(value)
    }
}

/// The value of a cell: exactly one `'` that [`csv_cell`] put before a
/// value is taken off; any other cell is the value as it is.
fn cell_value(cell: &str) -> &str {
    match cell.strip_prefix(TEXT_MARK) {
        Some(value) if needs_mark(value) => value,
        _ => cell,
    }
}

/// Reads and checks an import file: every row is checked before anything
/// is written, each rejected row named with its line. A quote that never
/// closes refuses the whole file: the rows after it cannot be told apart.
pub fn parse_csv<R: Read>(
    input: R,
    normalizer: &Normalizer,
    defaults: &ImportDefaults,
) -> Result<ParsedCsv, CsvError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(QuoteWatch::new(input));
    let header = Header::read(&mut reader)?;
    let mut parsed = ParsedCsv::default();
    let mut seen: HashMap<Target, usize> = HashMap::new();
    // The last row's number: the row an unclosed quote opened in.
    let mut last_value = String::new();
    for result in reader.records() {
        parsed.read += 1;
        let record = match result {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                parsed.row_lines.push(line);
                parsed.rejected.push(Rejected {
                    line,
                    value: String::new(),
                    why: RowError::Unreadable(e.to_string()),
                });
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        parsed.row_lines.push(line);
        last_value = shown(header.get(&record, "phoneNumber").unwrap_or_default());
        match parse_row(line, &header, &record, normalizer, defaults) {
            Err(why) => parsed.rejected.push(Rejected {
                line,
                value: last_value.clone(),
                why,
            }),
            Ok(row) => parsed.add(row, &mut seen),
        }
    }
    match reader.get_ref().unclosed_quote() {
        Some(line) => Err(CsvError::UnclosedQuote {
            line,
            value: last_value,
        }),
        None => Ok(parsed),
    }
}

/// Longest cell quoted in a message, in characters.
const SHOWN_CHARS: usize = 40;

/// A cell as a message quotes it: its first line, cut to [`SHOWN_CHARS`].
fn shown(cell: &str) -> String {
    let first = cell.lines().next().unwrap_or_default();
    let mut s: String = first.chars().take(SHOWN_CHARS).collect();
    if s.len() < cell.len() {
        s.push('…');
    }
    s
}

impl ParsedCsv {
    /// The part of the file in rows `rows` (0 is the first row after the
    /// header; the end is not included), as if the rest of the file were
    /// still read but not imported: its rows, its rejected rows, and the
    /// rows in it that replace an earlier row of the same entry. A row a
    /// later one replaced belongs to no part (as to no import: it is not
    /// written), and the replacing row keeps its own line and part. So the
    /// parts of a file, imported one after the other, import exactly what
    /// the whole file does, and their counts add up to the whole's.
    pub fn rows_in(&self, rows: Range<usize>) -> Result<ParsedCsv, RowRangeError> {
        let Range { start, end } = rows;
        if start > end || end > self.read {
            return Err(RowRangeError {
                from: start,
                to: end,
                read: self.read,
            });
        }
        // Rows are told apart by their first line: each row starts on a
        // line of its own (a row ends at a line break, or at the end of
        // the file), later rows on later lines.
        let first = self.row_line(start).unwrap_or(u64::MAX);
        let after = self.row_line(end).unwrap_or(u64::MAX);
        let inside = |line: u64| first <= line && line < after;
        Ok(ParsedCsv {
            read: end - start,
            rows: self
                .rows
                .iter()
                .filter(|r| inside(r.line))
                .cloned()
                .collect(),
            rejected: self
                .rejected
                .iter()
                .filter(|r| inside(r.line))
                .cloned()
                .collect(),
            duplicates: self
                .duplicates
                .iter()
                .filter(|d| inside(d.line))
                .cloned()
                .collect(),
            row_lines: self.row_lines[start..end].to_vec(),
        })
    }

    /// The line row `index` starts on (0 is the first row after the
    /// header); `None` past the last row.
    pub fn row_line(&self, index: usize) -> Option<u64> {
        self.row_lines.get(index).copied()
    }

    /// Adds a valid row; one for an entry an earlier row had replaces it
    /// (the later row wins) and is counted as a duplicate.
    fn add(&mut self, row: Row, seen: &mut HashMap<Target, usize>) {
        match seen.get(&row.target) {
            Some(&i) => {
                let earlier = &mut self.rows[i];
                self.duplicates.push(Duplicate {
                    line: row.line,
                    earlier_line: earlier.line,
                    target: row.target.clone(),
                });
                *earlier = row;
            }
            None => {
                seen.insert(row.target.clone(), self.rows.len());
                self.rows.push(row);
            }
        }
    }
}

/// A row's status: reports are pending, everything else active. A pending
/// rule would block once published (the snapshot has no status), and a
/// pending block is what reports were before they had their own kind.
fn row_status(kind: Kind, given: Option<&str>) -> Result<Status, RowError> {
    let given = given
        .map(str::parse::<Status>)
        .transpose()
        .map_err(RowError::UnknownStatus)?;
    match (kind, given) {
        (Kind::Report, None | Some(Status::Pending)) => Ok(Status::Pending),
        (Kind::Report, Some(Status::Active)) => Err(RowError::ActiveReport),
        (_, None | Some(Status::Active)) => Ok(Status::Active),
        (kind, Some(Status::Pending)) => Err(RowError::PendingNotReport(kind)),
    }
}

fn parse_row(
    line: u64,
    header: &Header,
    record: &csv::StringRecord,
    normalizer: &Normalizer,
    defaults: &ImportDefaults,
) -> Result<Row, RowError> {
    if record.len() != header.len {
        return Err(RowError::FieldCount {
            fields: record.len(),
            header: header.len,
        });
    }
    let get = |column: &str| header.get(record, column);
    let kind: Kind = match get("kind") {
        None => Kind::Block,
        Some(k) => k.parse().map_err(RowError::Kind)?,
    };
    let raw = get("phoneNumber").ok_or(RowError::EmptyNumber)?;
    let target = parse_target(normalizer, kind, raw).map_err(|e| match e {
        TargetError::InvalidNumber { reason, .. } => RowError::InvalidNumber(reason),
        TargetError::NotANumber { .. } => RowError::NotANumber,
        prefix @ TargetError::InvalidPrefix { .. } => RowError::InvalidPrefix(prefix),
    })?;
    let expires_at = match get("expiresAt") {
        None => defaults.expires_at,
        Some(v) => Some(parse_absolute(v).map_err(RowError::Expiry)?),
    };
    let action = get("action")
        .map(str::parse::<BlockAction>)
        .transpose()
        .map_err(RowError::UnknownAction)?;
    let status = row_status(kind, get("status"))?;
    let mode = get("mode")
        .map(str::parse::<Mode>)
        .transpose()
        .map_err(RowError::UnknownMode)?
        .unwrap_or_default();
    let lines = get("lines")
        .map(|cell| {
            cell.split(LINES_SEPARATOR)
                .filter(|l| !l.trim().is_empty())
                .map(|l| parse_line(normalizer, l))
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()
        .map_err(RowError::Line)?
        .unwrap_or_default();
    let reported_by = reporters(kind, get("reportedBy"))?;
    let given = EntryFields {
        reported_by,
        status,
        reason: get("reason")
            .map(str::to_owned)
            .or_else(|| defaults.reason.clone()),
        expires_at,
        note: get("note").map(str::to_owned),
        action,
        message: get("message").map(str::to_owned),
        queue_arn: get("queueArn").map(str::to_owned),
        mode,
        lines,
    };
    // Every cell given, even one the action does not use: the file is wrong.
    check_fields(&given).map_err(RowError::TooLong)?;
    let fields = given.checked(kind).map_err(RowError::Action)?;
    Ok(Row {
        line,
        target,
        fields,
    })
}

/// The `reportedBy` cell of a row: a report's agents, read as export
/// writes them ([`reported_by_cell`]).
fn reporters(kind: Kind, cell: Option<&str>) -> Result<BTreeMap<String, i64>, RowError> {
    let Some(cell) = cell else {
        return Ok(BTreeMap::new());
    };
    if kind != Kind::Report {
        return Err(RowError::ReportersNotReport(kind));
    }
    serde_json::from_str(cell).map_err(|e| RowError::ReportedBy(e.to_string()))
}

/// A report's agents as one cell: a JSON object of agent to epoch seconds
/// (agent names are free text: JSON quotes whatever they hold). Empty for
/// an entry without any.
fn reported_by_cell(entry: &Entry) -> String {
    if entry.reported_by.is_empty() {
        return String::new();
    }
    serde_json::to_string(&entry.reported_by).unwrap_or_default()
}

/// Writes entries as an import file; importing it back changes nothing.
/// Each cell goes through [`csv_cell`].
pub fn write_csv<W: Write>(entries: &[Entry], output: W) -> Result<(), csv::Error> {
    let mut writer = csv::Writer::from_writer(output);
    writer.write_record(COLUMNS)?;
    for e in entries {
        let expires = e.expires_at.map(rfc3339).unwrap_or_default();
        let lines = e.lines.join(&LINES_SEPARATOR.to_string());
        let reported_by = reported_by_cell(e);
        let cells: Vec<Cow<'_, str>> = [
            e.value.as_str(),
            e.kind.as_str(),
            e.reason.as_deref().unwrap_or_default(),
            &expires,
            e.note.as_deref().unwrap_or_default(),
            e.action.map(BlockAction::as_str).unwrap_or_default(),
            e.message.as_deref().unwrap_or_default(),
            e.queue_arn.as_deref().unwrap_or_default(),
            e.status.as_str(),
            if e.kind.blocks() { e.mode.as_str() } else { "" },
            &lines,
            &reported_by,
        ]
        .into_iter()
        .map(csv_cell)
        .collect();
        writer.write_record(cells.iter().map(|c| c.as_bytes()))?;
    }
    writer.flush()?;
    Ok(())
}

/// An import checked against what is stored, before anything is written.
#[derive(Debug, Clone)]
pub struct ImportPlan {
    /// The rows that change something, with their planned changes, in
    /// file order.
    rows: Vec<(Row, Change)>,
    /// The file, for the records' `source`.
    source: String,
    /// Rows refused once what is stored was known, by line.
    pub rejected: Vec<Rejected>,
    /// What the import does, but for `written`.
    summary: ImportSummary,
}

impl ImportPlan {
    pub(crate) fn rows(&self) -> &[(Row, Change)] {
        &self.rows
    }

    pub(crate) fn source(&self) -> &str {
        &self.source
    }

    pub(crate) fn summary(&self) -> &ImportSummary {
        &self.summary
    }
}

impl<S: AdminStore> Admin<S> {
    /// Imports checked rows: [`Admin::plan_import`], then
    /// [`Admin::write_import`].
    pub async fn import(
        &self,
        parsed: &ParsedCsv,
        source: &str,
        dry_run: bool,
        progress: impl FnMut(usize),
    ) -> Result<ImportSummary, AdminError> {
        let plan = self.plan_import(parsed, source).await?;
        self.write_import(&plan, dry_run, progress).await
    }

    /// Reads what is stored for the rows and plans one change per row that
    /// changes something; writes nothing. A row is refused here, with its
    /// line, when its expiry has passed or when its entry or audit record
    /// would not fit in a DynamoDB item (see [`planned`]).
    pub async fn plan_import(
        &self,
        parsed: &ParsedCsv,
        source: &str,
    ) -> Result<ImportPlan, AdminError> {
        let targets: Vec<Target> = parsed.rows.iter().map(|r| r.target.clone()).collect();
        let existing = self.existing(&targets).await?;
        let now = now_epoch();
        let (mut rows, mut rejected) = (Vec::new(), Vec::new());
        for row in &parsed.rows {
            match planned(row, &existing, source, self.author(), now) {
                Ok(Some(change)) => rows.push((row.clone(), change)),
                Ok(None) => {}
                Err(why) => rejected.push(Rejected {
                    line: row.line,
                    value: row.target.value.clone(),
                    why,
                }),
            }
        }
        let valid = parsed.rows.len() - rejected.len();
        let summary = ImportSummary {
            read: parsed.read,
            valid,
            rejected: parsed.rejected.len() + rejected.len(),
            duplicates: parsed.duplicates.len(),
            unchanged: valid - rows.len(),
            ..ImportSummary::default()
        };
        Ok(ImportPlan {
            rows,
            source: source.to_owned(),
            rejected,
            summary,
        })
    }
}

/// The change a valid row makes by `author` at `now`, if any, or why the
/// row is refused: an expiry that has passed (the rule `add` follows: an
/// import must not end an active block by backdating it), or an entry or
/// audit record over DynamoDB's item limit (the record holds the stored
/// entry too, so this is known only once it is read).
fn planned(
    row: &Row,
    existing: &HashMap<Target, Entry>,
    source: &str,
    author: &Author,
    now: i64,
) -> Result<Option<Change>, RowError> {
    if let Some(expires) = row.fields.expires_at {
        future_expiry(expires, now).map_err(RowError::Expired)?;
    }
    let change = plan::import_row(row, existing.get(&row.target), source, &author.actor, now);
    if let Some(change) = &change {
        check_change(change, author).map_err(RowError::TooLarge)?;
    }
    Ok(change)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ParsedCsv, CsvError> {
        let defaults = ImportDefaults {
            reason: Some("bulk".into()),
            expires_at: None,
        };
        parse_csv(text.as_bytes(), &Normalizer::default(), &defaults)
    }

    /// A report's agents come back as export wrote them; a cell that is
    /// not that, or agents on an entry that is not a report, name the line.
    #[test]
    fn reporting_agents_are_read_back_and_checked() {
        let parsed = parse(
            "phoneNumber,kind,status,reportedBy\n\
             +14155550123,report,pending,\"{\"\"agent:a, b\"\":1767225600}\"\n\
             +14155550124,report,pending,agent:a\n\
             +14155550125,block,,\"{\"\"agent:a\"\":1}\"\n",
        )
        .unwrap();
        assert_eq!(parsed.rows.len(), 1);
        assert_eq!(
            parsed.rows[0].fields.reported_by,
            BTreeMap::from([("agent:a, b".to_owned(), 1_767_225_600)])
        );
        let why: Vec<(u64, String)> = parsed
            .rejected
            .iter()
            .map(|r| (r.line, r.why.to_string()))
            .collect();
        assert_eq!(why[0].0, 3);
        assert!(why[0].1.starts_with("reportedBy: "), "{}", why[0].1);
        assert_eq!(
            why[1],
            (
                4,
                "reportedBy: only agent reports (kind report) have reporting agents, not a block entry".to_owned()
            )
        );
    }

    #[test]
    fn every_rejected_row_is_named_with_its_line_and_why() {
        let parsed = parse(
            "phoneNumber,kind,expiresAt,action\n\
             +14155550123,,,\n\
             ,,,\n\
             +14155550124,sometimes,,\n\
             +1 555,,,\n\
             anonymous,,,\n\
             +14155550125,,soon,\n\
             +14155550126,,,shout\n\
             +14155550127,allow,,queue\n\
             +14155550128,,\n",
        )
        .unwrap();
        assert_eq!(parsed.read, 9);
        assert_eq!(parsed.rows.len(), 1);
        assert_eq!(parsed.rows[0].fields.reason.as_deref(), Some("bulk"));
        let rejected: Vec<(u64, &str)> = parsed
            .rejected
            .iter()
            .map(|r| (r.line, r.value.as_str()))
            .collect();
        assert_eq!(
            rejected,
            [
                (3, ""),
                (4, "+14155550124"),
                (5, "+1 555"),
                (6, "anonymous"),
                (7, "+14155550125"),
                (8, "+14155550126"),
                (9, "+14155550127"),
                (10, "+14155550128"),
            ]
        );
        let why: Vec<String> = parsed.rejected.iter().map(|r| r.why.to_string()).collect();
        assert_eq!(why[0], "phoneNumber is empty");
        assert!(
            why[1].starts_with("kind: `sometimes` is not a kind"),
            "{}",
            why[1]
        );
        assert!(why[2].starts_with("not a valid phone number"), "{}", why[2]);
        assert_eq!(why[3], "a withheld caller ID, not a number");
        assert!(why[4].starts_with("expiresAt: "), "{}", why[4]);
        assert!(
            why[5].starts_with("action: `shout` is not an action"),
            "{}",
            why[5]
        );
        assert_eq!(why[6], "allow entries take no action: they never block");
        assert_eq!(why[7], "has 3 fields, the header has 4");
    }

    #[test]
    fn only_a_report_row_is_pending() {
        let parsed = parse(
            "phoneNumber,kind,status\n+14155550177,report,\n+1900,prefix,pending\n+14155550178,,maybe\n+14155550179,report,active\n",
        )
        .unwrap();
        assert_eq!(parsed.rows.len(), 1);
        assert_eq!(parsed.rows[0].fields.status, Status::Pending);
        assert_eq!(parsed.rows[0].target.kind, Kind::Report);
        let why: Vec<String> = parsed.rejected.iter().map(|r| r.why.to_string()).collect();
        assert_eq!(
            why,
            [
                "status: only agent reports (kind report) are pending, not a prefix entry",
                "status: `maybe` is not a status: use active or pending",
                "status: an agent's report (kind report) is always pending",
            ]
        );
    }

    #[test]
    fn a_later_row_for_the_same_entry_wins() {
        let parsed =
            parse("phoneNumber,reason\n(415) 555-0123,first\n+14155550123,second\n").unwrap();
        assert_eq!(parsed.rows.len(), 1);
        assert_eq!(parsed.rows[0].fields.reason.as_deref(), Some("second"));
        assert_eq!(parsed.rows[0].line, 3);
        let d = &parsed.duplicates[0];
        assert_eq!((d.line, d.earlier_line), (3, 2));
    }

    /// A file cut in two at every row, a pair of rows of the same entry
    /// and a quoted cell over two lines in it: the parts hold every row,
    /// rejection and duplicate of the whole, each once.
    #[test]
    fn the_parts_of_a_file_add_up_to_the_whole() {
        let whole = parse(
            "phoneNumber,reason\n\
             +14155550101,first\n\
             not a number,x\n\
             +14155550102,\"two\nlines\"\n\
             (415) 555-0101,second\n\
             +14155550103,\n",
        )
        .unwrap();
        assert_eq!(whole.row_lines, [2, 3, 4, 6, 7]);
        let lines = |rows: &[Row]| -> Vec<u64> {
            let mut l: Vec<u64> = rows.iter().map(|r| r.line).collect();
            l.sort_unstable();
            l
        };
        for cut in 0..=whole.read {
            let a = whole.rows_in(0..cut).unwrap();
            let b = whole.rows_in(cut..whole.read).unwrap();
            assert_eq!(a.read + b.read, whole.read, "cut at {cut}");
            assert_eq!(
                lines(&[a.rows.clone(), b.rows.clone()].concat()),
                lines(&whole.rows),
                "cut at {cut}"
            );
            assert_eq!([a.rejected, b.rejected].concat(), whole.rejected);
            assert_eq!([a.duplicates, b.duplicates].concat(), whole.duplicates);
        }
        // The pair split across two parts: the later row, with its own
        // line, in the second; the row it replaced in neither.
        let (a, b) = (whole.rows_in(0..3).unwrap(), whole.rows_in(3..5).unwrap());
        assert_eq!(lines(&a.rows), [4], "{:?}", a.rows);
        assert!(a.duplicates.is_empty());
        let later = &b.rows[0];
        assert_eq!(later.target.value, "+14155550101");
        assert_eq!(
            (later.line, later.fields.reason.as_deref()),
            (6, Some("second"))
        );
        let d = &b.duplicates[0];
        assert_eq!((d.line, d.earlier_line), (6, 2));
        assert_eq!((b.row_line(0), whole.row_line(5)), (Some(6), None));
    }

    #[test]
    fn a_range_of_rows_the_file_does_not_have_is_refused() {
        let whole = parse("phoneNumber\n+14155550101\n+14155550102\n").unwrap();
        assert_eq!(whole.rows_in(2..2).unwrap().read, 0, "empty, at the end");
        let err = whole.rows_in(1..3).unwrap_err();
        assert_eq!(
            err,
            RowRangeError {
                from: 1,
                to: 3,
                read: 2
            }
        );
        assert!(err.to_string().contains("this file's 2 rows"), "{err}");
        // `from` past `to` (a range clippy would call empty).
        let backwards = Range { start: 2, end: 1 };
        assert!(whole.rows_in(backwards).is_err());
    }

    #[test]
    fn a_header_it_cannot_use_refuses_the_whole_file() {
        assert!(matches!(
            parse("number\n+1\n"),
            Err(CsvError::UnknownColumn { .. })
        ));
        assert!(matches!(
            parse("phoneNumber,reason,reason\n"),
            Err(CsvError::DuplicateColumn(_))
        ));
        assert!(matches!(
            parse("reason\nx\n"),
            Err(CsvError::MissingPhoneNumberColumn)
        ));
    }

    #[test]
    fn an_unclosed_quote_refuses_the_file_at_the_line_it_opened() {
        let err = parse(
            "phoneNumber,reason\n+14155550101,spam\n+14155550102,\"fraud, said\n+14155550103,spam\n",
        )
        .unwrap_err();
        assert_eq!(err.line(), Some(3));
        assert!(
            err.to_string().starts_with(
                "rejected `+14155550102`: a quote opened on this line is never closed"
            ),
            "{err}"
        );
        // Quoted cells that close, over lines or with `""` inside, are fine.
        let parsed =
            parse("phoneNumber,reason\n+14155550101,\"two\nlines, \"\"quoted\"\"\"\n").unwrap();
        assert_eq!(
            parsed.rows[0].fields.reason.as_deref(),
            Some("two\nlines, \"quoted\"")
        );
    }

    #[test]
    fn a_message_quotes_a_long_cell_cut_short() {
        assert_eq!(shown("+14155550101"), "+14155550101");
        assert_eq!(shown(&"9".repeat(100)), format!("{}…", "9".repeat(40)));
        assert_eq!(shown("first\nsecond"), "first…");
    }

    #[test]
    fn a_text_field_over_its_bound_is_a_rejected_row() {
        let parsed = parse(&format!(
            "phoneNumber,reason,message\n+14155550101,{},\n+14155550102,ok,{}\n+14155550103,ok,\n",
            "r".repeat(1_025),
            "m".repeat(257)
        ))
        .unwrap();
        assert_eq!(parsed.rows.len(), 1);
        let rejected: Vec<(u64, String)> = parsed
            .rejected
            .iter()
            .map(|r| (r.line, r.why.to_string()))
            .collect();
        assert_eq!(
            rejected,
            [
                (
                    2,
                    "reason: 1025 characters, at most 1024: shorten it".into()
                ),
                // Even a message the row's action does not use.
                (3, "message: 257 characters, at most 256: shorten it".into()),
            ]
        );
    }

    fn row(line: u64, value: &str, fields: EntryFields) -> Row {
        Row {
            line,
            target: Target {
                kind: Kind::Block,
                value: value.into(),
            },
            fields,
        }
    }

    #[test]
    fn a_row_whose_expiry_has_passed_is_refused_as_add_refuses_it() {
        let now = 1_800_000_000;
        let expiring = |at| EntryFields {
            expires_at: Some(at),
            ..EntryFields::default()
        };
        let none = HashMap::new();
        let past = planned(
            &row(2, "+1", expiring(now)),
            &none,
            "f",
            &Author::default(),
            now,
        );
        assert_eq!(past, Err(RowError::Expired(ExpiryInPast(now))));
        let later = planned(
            &row(2, "+1", expiring(now + 1)),
            &none,
            "f",
            &Author::default(),
            now,
        );
        assert!(matches!(later, Ok(Some(_))), "{later:?}");
    }

    #[test]
    fn a_row_whose_audit_record_would_not_fit_is_refused() {
        let at_bound = EntryFields {
            reason: Some("r".repeat(1_024)),
            ..EntryFields::default()
        };
        let r = row(7, "+14155550101", at_bound);
        // It fits in an item alone; with the new entry in one record, not.
        let huge = EntryFields {
            reason: Some("y".repeat(408_000)),
            ..EntryFields::default()
        }
        .into_entry(&r.target, "other", "2026-01-01T00:00:00Z");
        let existing = HashMap::from([(r.target.clone(), huge)]);
        let refused = planned(&r, &existing, "f", &Author::default(), 0);
        assert!(
            matches!(&refused, Err(RowError::TooLarge(e)) if e.item == crate::limits::Item::AuditRecord),
            "{refused:?}"
        );
        assert_eq!(
            planned(&r, &HashMap::new(), "f", &Author::default(), 0).map(|c| c.is_some()),
            Ok(true)
        );
    }

    #[test]
    fn a_cell_a_spreadsheet_would_run_is_marked_and_read_back_exactly() {
        for (value, cell) in [
            ("=1+2", "'=1+2"),
            ("+14155550123", "'+14155550123"),
            ("-1", "'-1"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("'=x", "''=x"),
            ("'quoted'", "''quoted'"),
            ("a=b", "a=b"),
            ("plain", "plain"),
            ("", ""),
        ] {
            assert_eq!(csv_cell(value), cell, "{value:?}");
            assert_eq!(cell_value(cell), value, "{cell:?}");
        }
        // A `'` the export did not put there stays.
        assert_eq!(cell_value("'tis"), "'tis");
        assert_eq!(cell_value("'"), "'");
    }

    #[test]
    fn an_export_reads_back_as_the_same_rows() {
        let parsed = parse(
            "phoneNumber,kind,reason,expiresAt,note,action,message,queueArn\n\
             +14155550123,block,spam,2099-01-01,n,message,Goodbye,\n\
             +1900,prefix,=1+2,,@x,,,\n\
             +14155550100,allow,'-vip,,,,,\n",
        )
        .unwrap();
        let entries: Vec<Entry> = parsed
            .rows
            .iter()
            .map(|r| {
                r.fields
                    .clone()
                    .into_entry(&r.target, "x", "2026-01-01T00:00:00Z")
            })
            .collect();
        let mut csv = Vec::new();
        write_csv(&entries, &mut csv).unwrap();
        let back = parse(std::str::from_utf8(&csv).unwrap()).unwrap();
        assert_eq!(back.rows, parsed.rows);
    }
}
