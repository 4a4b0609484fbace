//! Everything the CLI prints: results (entries, answers, audit records,
//! summaries) to stdout as a table, JSON or CSV, and status lines for people
//! to stderr. Commands print only through a [`Printer`].

use std::io::{self, Write};
use std::path::Path;

use serde_json::{Value, json};

use super::args::OutputFormat;
use crate::admin::Added;
use crate::admin::audit::AuditRecord;
use crate::admin::import::{ImportSummary, ParsedCsv, Rejected, csv_cell};
use crate::admin::tables::{TableInit, TtlInit};
use crate::answer::Answer;
use crate::embedded_flow::MAX_CONDITIONS_PER_COMPARE;
use crate::entry::{Entry, Status};
use crate::when::rfc3339;

/// Where a command prints: results to `out` in `format`, status to `err`.
pub struct Printer<'a> {
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
    pub format: OutputFormat,
}

impl<'a> Printer<'a> {
    pub fn new(out: &'a mut dyn Write, err: &'a mut dyn Write, format: OutputFormat) -> Self {
        Printer { out, err, format }
    }

    /// Entries, in the chosen format.
    pub fn entries(&mut self, list: &[Entry], now: i64) -> io::Result<()> {
        entries(self.out, self.format, list, now)
    }

    /// The Lambda's answer and the stored entry (`check`).
    pub fn check(&mut self, answer: &Answer, entry: Option<&Entry>, now: i64) -> io::Result<()> {
        check(self.out, self.format, answer, entry, now)
    }

    /// Audit records (`history`).
    pub fn history(&mut self, records: &[AuditRecord]) -> io::Result<()> {
        history(self.out, self.format, records)
    }

    /// What `add` / `allow` stored, and what it replaced.
    pub fn added(&mut self, added: &Added, now: i64) -> io::Result<()> {
        if let Some(old) = &added.replaced {
            writeln!(
                self.err,
                "replaced the earlier entry (reason: {})",
                old.reason.as_deref().unwrap_or("none")
            )?;
        }
        self.entries(std::slice::from_ref(&added.entry), now)
    }

    /// What `remove` / `unallow` removed.
    pub fn removed(&mut self, entry: &Entry, now: i64) -> io::Result<()> {
        writeln!(self.err, "removed {} {}", entry.kind, entry.value)?;
        self.entries(std::slice::from_ref(entry), now)
    }

    /// The report `approve` made a block.
    pub fn approved(&mut self, entry: &Entry, now: i64) -> io::Result<()> {
        writeln!(self.err, "approved: {} now blocks", entry.value)?;
        self.entries(std::slice::from_ref(entry), now)
    }

    /// The monitoring entry `promote` made block.
    pub fn promoted(&mut self, entry: &Entry, now: i64) -> io::Result<()> {
        writeln!(
            self.err,
            "promoted: {} {} now blocks",
            entry.kind, entry.value
        )?;
        self.entries(std::slice::from_ref(entry), now)
    }

    /// The report `reject` removed.
    pub fn rejected(&mut self, entry: &Entry, now: i64) -> io::Result<()> {
        writeln!(self.err, "rejected the report of {}", entry.value)?;
        self.entries(std::slice::from_ref(entry), now)
    }

    /// What `init` did to one table (and to its TTL, for entry tables).
    pub fn table_init(
        &mut self,
        table: &str,
        created: &TableInit,
        ttl: Option<&TtlInit>,
    ) -> io::Result<()> {
        let said = match created {
            TableInit::Created => "created",
            TableInit::AlreadyExists => "already exists, left as it is",
            TableInit::IndexAdded => "already exists; added its last-block index (byLastBlock)",
        };
        writeln!(self.out, "table {table}: {said}")?;
        match ttl {
            None => Ok(()),
            Some(TtlInit::Enabled) => writeln!(self.out, "  TTL on expiresAt: enabled"),
            Some(TtlInit::AlreadyEnabled) => {
                writeln!(self.out, "  TTL on expiresAt: already enabled")
            }
            Some(TtlInit::Unsupported(why)) => writeln!(
                self.out,
                "  TTL on expiresAt: not supported by this server ({why}); expired entries still stop blocking, they are just not deleted"
            ),
        }
    }

    /// Each rejected row of an import file, with its line and why.
    pub fn rejected_rows(&mut self, file: &str, rejected: &[Rejected]) -> io::Result<()> {
        for r in rejected {
            writeln!(
                self.err,
                "{file}:{}: rejected `{}`: {}",
                r.line, r.value, r.why
            )?;
        }
        Ok(())
    }

    /// Each row that repeats an earlier one's entry.
    pub fn duplicate_rows(&mut self, file: &str, parsed: &ParsedCsv) -> io::Result<()> {
        for d in &parsed.duplicates {
            writeln!(
                self.err,
                "{file}:{}: {} {} repeats line {}; the later row is used",
                d.line, d.target.kind, d.target.value, d.earlier_line
            )?;
        }
        Ok(())
    }

    /// What an import did (or, dry, would do).
    pub fn import_summary(&mut self, s: &ImportSummary) -> io::Result<()> {
        import_summary(self.out, self.format, s)
    }

    /// Where `export` wrote.
    pub fn exported(&mut self, count: usize, path: &Path) -> io::Result<()> {
        writeln!(self.err, "exported {count} entries to {}", path.display())
    }

    /// What `publish-rules` published.
    pub fn published(&mut self, count: usize, table: &str) -> io::Result<()> {
        writeln!(self.out, "published {count} rules from {table}")
    }

    /// Where `serve` listens: the address to open (with its token) as the
    /// first line on stdout, flushed at once for a script that waits on it.
    pub fn console_started(&mut self, url: &str, loopback: bool) -> io::Result<()> {
        writeln!(self.out, "{url}")?;
        self.out.flush()?;
        writeln!(
            self.err,
            "blocklist console: open the address above (it holds this run's token); Ctrl-C stops it"
        )?;
        if !loopback {
            writeln!(
                self.err,
                "warning: listening beyond this machine over plain HTTP: anyone on the path can read the token"
            )?;
        }
        Ok(())
    }

    /// What `render-flow` wrote.
    /// Monitoring entries `render-flow` left out of the flow.
    pub fn monitors_left_out(&mut self, count: usize) -> io::Result<()> {
        if count == 0 {
            return Ok(());
        }
        writeln!(
            self.err,
            "left out {count} monitoring entries: they never block, and a flow cannot count what they would"
        )
    }

    pub fn flow_written(&mut self, path: &Path, numbers: usize, content: &str) -> io::Result<()> {
        writeln!(
            self.err,
            "wrote {}: {numbers} numbers in {} Compare blocks, {} characters",
            path.display(),
            numbers.div_ceil(MAX_CONDITIONS_PER_COMPARE),
            content.chars().count()
        )
    }
}

fn import_summary(out: &mut dyn Write, format: OutputFormat, s: &ImportSummary) -> io::Result<()> {
    let written_label = if s.dry_run { "wouldWrite" } else { "written" };
    let fields = [
        ("read", s.read),
        ("valid", s.valid),
        ("rejected", s.rejected),
        ("duplicates", s.duplicates),
        ("unchanged", s.unchanged),
        (written_label, s.written),
        ("conflicts", s.conflicts),
    ];
    match format {
        OutputFormat::Json => {
            let row: serde_json::Map<String, Value> = fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).into()))
                .collect();
            writeln!(out, "{}", Value::Object(row))
        }
        OutputFormat::Csv => {
            let names: Vec<&str> = fields.iter().map(|(k, _)| *k).collect();
            let values: Vec<String> = fields.iter().map(|(_, v)| v.to_string()).collect();
            writeln!(out, "{}\n{}", names.join(","), values.join(","))
        }
        OutputFormat::Table => {
            let dry = if s.dry_run {
                " (dry run: nothing written)"
            } else {
                ""
            };
            let conflicts = if s.conflicts > 0 {
                format!(
                    ", not written (changed by someone else meanwhile) {}",
                    s.conflicts
                )
            } else {
                String::new()
            };
            writeln!(
                out,
                "read {}, valid {}, rejected {}, duplicates {}, unchanged {}, {} {}{conflicts}{dry}",
                s.read,
                s.valid,
                s.rejected,
                s.duplicates,
                s.unchanged,
                if s.dry_run { "would write" } else { "written" },
                s.written
            )
        }
    }
}

/// An entry as `--output json` prints it (and the console shows it).
pub(crate) fn entry_json(e: &Entry, now: i64) -> Value {
    let status = if e.status == Status::Pending {
        "pending"
    } else if e.is_expired_at(now) {
        "expired"
    } else {
        "active"
    };
    json!({
        "kind": e.kind.as_str(),
        "phoneNumber": e.value,
        "reason": e.reason.as_deref().unwrap_or_default(),
        "createdAt": e.created_at.as_deref().unwrap_or_default(),
        "createdBy": e.created_by.as_deref().unwrap_or_default(),
        "expiresAt": e.expires_at.map(rfc3339).unwrap_or_default(),
        "note": e.note.as_deref().unwrap_or_default(),
        "action": if e.kind.blocks() { e.block_action().as_str() } else { "" },
        "mode": if e.kind.blocks() { e.mode.as_str() } else { "" },
        "lines": if e.lines.is_empty() { "all".to_owned() } else { e.lines.join(" ") },
        "message": e.message.as_deref().unwrap_or_default(),
        "queueArn": e.queue_arn.as_deref().unwrap_or_default(),
        "status": status,
        "blockCount": e.block_count.unwrap_or(0),
        "lastBlockedAt": e.last_blocked_at.as_deref().unwrap_or_default(),
        // A report's agents, each with the time of their latest report.
        "reportedBy": e
            .reported_by
            .iter()
            .map(|(agent, at)| (agent.clone(), Value::String(rfc3339(*at))))
            .collect::<serde_json::Map<String, Value>>(),
    })
}

const ENTRY_COLUMNS: &[&str] = &[
    "kind",
    "phoneNumber",
    "reason",
    "createdAt",
    "createdBy",
    "expiresAt",
    "action",
    "mode",
    "lines",
    "status",
    "blockCount",
    "lastBlockedAt",
    "note",
];

/// Prints entries.
pub fn entries(
    out: &mut dyn Write,
    format: OutputFormat,
    entries: &[Entry],
    now: i64,
) -> io::Result<()> {
    let rows: Vec<Value> = entries.iter().map(|e| entry_json(e, now)).collect();
    objects(out, format, ENTRY_COLUMNS, &rows)
}

/// Prints the Lambda's answer and the stored entry.
pub fn check(
    out: &mut dyn Write,
    format: OutputFormat,
    answer: &Answer,
    entry: Option<&Entry>,
    now: i64,
) -> io::Result<()> {
    let answer_json = serde_json::to_value(answer).map_err(io::Error::other)?;
    match format {
        OutputFormat::Json => {
            let doc = json!({"answer": answer_json, "entry": entry.map(|e| entry_json(e, now))});
            writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&doc).map_err(io::Error::other)?
            )
        }
        OutputFormat::Csv => {
            let keys = answer_keys(&answer_json);
            objects(out, format, &keys, std::slice::from_ref(&answer_json))
        }
        OutputFormat::Table => {
            writeln!(out, "Lambda answer for a call from this number now:")?;
            if let Value::Object(map) = &answer_json {
                let width = map.keys().map(String::len).max().unwrap_or(0);
                for (k, v) in map {
                    writeln!(out, "  {k:<width$}  {}", v.as_str().unwrap_or_default())?;
                }
            }
            writeln!(out, "{}", explain(answer))?;
            match entry {
                Some(e) => {
                    writeln!(out, "\nStored entry:")?;
                    entries(out, format, std::slice::from_ref(e), now)
                }
                None => writeln!(out, "\nNo stored entry."),
            }
        }
    }
}

fn answer_keys(v: &Value) -> Vec<&str> {
    v.as_object()
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

/// One sentence on which rule decided.
pub fn explain(answer: &Answer) -> String {
    use crate::answer::{LookupStatus, MatchType};
    let verdict = if answer.is_blocked {
        "Blocked"
    } else {
        "Allowed"
    };
    let why = match (answer.match_type, answer.lookup_status) {
        (MatchType::Exact, _) => {
            format!("the number has an active entry ({})", answer.matched_rule)
        }
        (MatchType::Prefix, _) => format!(
            "the number starts with the prefix rule {} (the longest that matches)",
            answer.matched_rule
        ),
        (MatchType::Allow, _) => format!(
            "the allow entry {} covers the number; allow entries win over every block",
            answer.matched_rule
        ),
        (MatchType::Anonymous, _) => {
            "the caller ID is withheld or missing and BLOCK_ANONYMOUS=true".to_owned()
        }
        (MatchType::Invalid, _) => {
            "the caller ID is not a valid number and INVALID_NUMBER_ACTION=block".to_owned()
        }
        (MatchType::FailClosed, status) => format!(
            "the lookup failed ({}) and FAIL_MODE=closed",
            status.as_str()
        ),
        (MatchType::RateLimited, _) => {
            "the number called more than RATE_LIMIT_CALLS times within RATE_LIMIT_WINDOW_SECONDS"
                .to_owned()
        }
        (MatchType::Monitor, _) => format!(
            "only the monitoring entry {} matches; it never blocks (`blocklist promote` makes it)",
            answer.matched_rule
        ),
        (MatchType::None, LookupStatus::Ok) => "no active entry for the number".to_owned(),
        (MatchType::None, LookupStatus::Skipped) => {
            "nothing to look up, and the policy allows such callers".to_owned()
        }
        (MatchType::None, status) => {
            format!("the lookup failed ({}) and FAIL_MODE=open", status.as_str())
        }
    };
    format!("{verdict}: {why}.")
}

/// Prints audit records.
pub fn history(
    out: &mut dyn Write,
    format: OutputFormat,
    records: &[AuditRecord],
) -> io::Result<()> {
    let describe = |e: &Option<Entry>| {
        e.as_ref().map_or_else(String::new, |e| {
            let mut s = e.reason.clone().unwrap_or_default();
            if let Some(x) = e.expires_at {
                s.push_str(&format!(" (expires {})", rfc3339(x)));
            }
            s
        })
    };
    let rows: Vec<Value> = records
        .iter()
        .map(|r| {
            json!({
                "at": r.at,
                "action": r.action.as_str(),
                "phoneNumber": r.key,
                "actor": r.actor,
                "identity": r.identity.as_deref().unwrap_or_default(),
                "reason": r.reason.as_deref().unwrap_or_default(),
                "source": r.source,
                "before": describe(&r.before),
                "after": describe(&r.after),
                "auditId": r.audit_id,
            })
        })
        .collect();
    let columns = [
        "at",
        "action",
        "phoneNumber",
        "actor",
        "identity",
        "reason",
        "source",
        "before",
        "after",
    ];
    if format == OutputFormat::Json {
        let full: Vec<Value> = records
            .iter()
            .zip(&rows)
            .map(|(r, row)| {
                let mut row = row.clone();
                row["before"] = r
                    .before
                    .as_ref()
                    .map_or(Value::Null, |e| entry_json(e, i64::MIN));
                row["after"] = r
                    .after
                    .as_ref()
                    .map_or(Value::Null, |e| entry_json(e, i64::MIN));
                if let Some(o) = row.as_object_mut() {
                    for side in ["before", "after"] {
                        if let Some(Value::Object(e)) = o.get_mut(side) {
                            e.remove("status");
                        }
                    }
                }
                row
            })
            .collect();
        return objects(out, format, &columns, &full);
    }
    objects(out, format, &columns, &rows)
}

/// Prints a list of flat objects in the chosen format.
fn objects(
    out: &mut dyn Write,
    format: OutputFormat,
    columns: &[&str],
    rows: &[Value],
) -> io::Result<()> {
    let cell = |row: &Value, c: &str| match &row[c] {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    match format {
        OutputFormat::Json => {
            writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(rows).map_err(io::Error::other)?
            )
        }
        OutputFormat::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(columns)?;
            for row in rows {
                w.write_record(columns.iter().map(|c| csv_cell(&cell(row, c)).into_owned()))?;
            }
            w.flush()
        }
        OutputFormat::Table => {
            if rows.is_empty() {
                return writeln!(out, "(none)");
            }
            let cells: Vec<Vec<String>> = rows
                .iter()
                .map(|r| columns.iter().map(|c| cell(r, c)).collect())
                .collect();
            let widths: Vec<usize> = (0..columns.len())
                .map(|i| {
                    cells
                        .iter()
                        .map(|r| r[i].chars().count())
                        .chain([columns[i].len()])
                        .max()
                        .unwrap_or(0)
                })
                .collect();
            let line = |values: Vec<&str>| {
                let padded: Vec<String> = values
                    .iter()
                    .zip(&widths)
                    .map(|(v, w)| format!("{v:<w$}"))
                    .collect();
                padded.join("  ").trim_end().to_owned()
            };
            writeln!(out, "{}", line(columns.to_vec()))?;
            for row in &cells {
                writeln!(out, "{}", line(row.iter().map(String::as_str).collect()))?;
            }
            Ok(())
        }
    }
}
