//! What an admin types, checked before anything is read or written: the
//! target of a command ([`parse_target`]) and the fields of an entry
//! ([`EntryFields::checked`]). Pure: no I/O.

use std::collections::BTreeMap;

use crate::answer::MAX_ANSWER_TEXT_CHARS;
use crate::entry::{BlockAction, Entry, Kind, Mode, Status};
use crate::phone::{CallerId, InvalidReason, Normalizer, compact_prefix};
use crate::rules::is_prefix;
use crate::store::item_key;

/// The text given for a number or prefix cannot be one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("`{input}` is not a valid phone number: {reason}")]
    InvalidNumber {
        input: String,
        reason: InvalidReason,
    },
    #[error("`{input}` is a withheld or missing caller ID, not a number that can be listed")]
    NotANumber { input: String },
    #[error(
        "`{input}` is not a prefix: write `+` and the leading digits in international form, e.g. +1900 or +4470"
    )]
    InvalidPrefix { input: String },
}

impl TargetError {
    /// The same error about `shown` instead of the input: for a log, where
    /// the input is masked (see `config::LogNumbers::show`).
    pub fn showing(&self, shown: &str) -> TargetError {
        let input = shown.to_owned();
        match self {
            TargetError::InvalidNumber { reason, .. } => TargetError::InvalidNumber {
                input,
                reason: reason.clone(),
            },
            TargetError::NotANumber { .. } => TargetError::NotANumber { input },
            TargetError::InvalidPrefix { .. } => TargetError::InvalidPrefix { input },
        }
    }
}

/// What an entry is about: its kind and its number or prefix.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Target {
    pub kind: Kind,
    /// E.164 number, or prefix for prefix kinds.
    pub value: String,
}

impl Target {
    /// The target `entry` is stored under.
    pub fn of(entry: &Entry) -> Target {
        Target {
            kind: entry.kind,
            value: entry.value.clone(),
        }
    }

    /// The same number or prefix as an entry of `kind`.
    pub fn as_kind(&self, kind: Kind) -> Target {
        Target {
            kind,
            value: self.value.clone(),
        }
    }

    /// The audit table's partition key for this target: the key of its
    /// item (the number for exact blocks, as before rules existed;
    /// `<kind>#<value>` otherwise).
    pub fn audit_key(&self) -> String {
        item_key(self.kind, &self.value).1
    }
}

/// Reads `input` as a number (normalized exactly as the Lambda does) or,
/// for prefix kinds, as a prefix (`+1 900` reads as `+1900`).
pub fn parse_target(
    normalizer: &Normalizer,
    kind: Kind,
    input: &str,
) -> Result<Target, TargetError> {
    if kind.is_prefix() {
        let compact = compact_prefix(input);
        return if is_prefix(&compact) {
            Ok(Target {
                kind,
                value: compact,
            })
        } else {
            Err(TargetError::InvalidPrefix {
                input: input.to_owned(),
            })
        };
    }
    match normalizer.classify(Some(input)) {
        CallerId::Valid(number) => Ok(Target {
            kind,
            value: number.to_string(),
        }),
        CallerId::Invalid(reason) => Err(TargetError::InvalidNumber {
            input: input.to_owned(),
            reason,
        }),
        CallerId::Anonymous | CallerId::Missing => Err(TargetError::NotANumber {
            input: input.to_owned(),
        }),
    }
}

/// Reads `input` as a line (a dialled number an entry is scoped to): a
/// number, normalized exactly as the Lambda reads `SystemEndpoint.Address`.
pub fn parse_line(normalizer: &Normalizer, input: &str) -> Result<String, TargetError> {
    parse_target(normalizer, Kind::Block, input).map(|t| t.value)
}

/// An entry's action is missing what it needs, or does not apply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActionProblem {
    #[error("{0} entries take no action: they never block")]
    TakesNoAction(Kind),
    #[error("{0} entries cannot be monitored: they never block; only block and prefix entries can")]
    MonitorNeverBlocks(Kind),
    // Said of the field, not of one interface's way to give it: the CLI,
    // a CSV import and the console all show these.
    #[error(
        "agent reports apply to every line: give the lines when approving or adding the block (--line on the command line)"
    )]
    ReportWithLines,
    #[error(
        "action `message` needs the message to play: fill in Message (the CSV's `message` column, --message on the command line)"
    )]
    MessageWithoutText,
    #[error(
        "action `queue` needs the queue's ARN: fill in Queue ARN (the CSV's `queueArn` column, --queue-arn on the command line)"
    )]
    QueueWithoutArn,
    #[error(
        "`{0}` is not an Amazon Connect queue ARN (arn:aws:connect:REGION:ACCOUNT:instance/ID/queue/ID)"
    )]
    NotAQueueArn(String),
    /// The answer carries at most [`MAX_ANSWER_TEXT_CHARS`] of it; more would
    /// be cut there, without a word, after being accepted here.
    #[error(
        "the {field} is {chars} characters long; the Lambda's answer carries at most {max}: shorten it",
        max = MAX_ANSWER_TEXT_CHARS
    )]
    TooLong { field: &'static str, chars: usize },
}

/// The user-supplied parts of an entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntryFields {
    pub reason: Option<String>,
    pub expires_at: Option<i64>,
    pub note: Option<String>,
    /// `None` means the default, disconnect.
    pub action: Option<BlockAction>,
    pub message: Option<String>,
    pub queue_arn: Option<String>,
    /// Active, or (an agent's report restored from an export) pending.
    pub status: Status,
    /// Blocks, or only watches (block kinds only).
    pub mode: Mode,
    /// The dialled numbers (E.164) the entry applies to; empty for all.
    pub lines: Vec<String>,
    /// A report's agents and when each last reported it (reports restored
    /// from an export).
    pub reported_by: BTreeMap<String, i64>,
}

fn blank(s: &Option<String>) -> bool {
    s.as_deref().is_none_or(|v| v.trim().is_empty())
}

/// Refuses text the answer would cut: a message played cut short, or a
/// queue ARN cut into one that does not exist. (A reason is not refused:
/// the stored entry and its audit record keep it whole, reports and
/// approvals write it too, and the answer's `blockedReason` is a label for
/// contact search, documented as cut to this length.)
fn fits_the_answer(field: &'static str, text: &Option<String>) -> Result<(), ActionProblem> {
    let chars = text.as_deref().map_or(0, |t| t.chars().count());
    if chars > MAX_ANSWER_TEXT_CHARS {
        Err(ActionProblem::TooLong { field, chars })
    } else {
        Ok(())
    }
}

impl EntryFields {
    /// Checks that the action has what it needs and applies to the kind,
    /// then stores the fields canonically: `disconnect` as no action, text
    /// the action does not use dropped, blank text as none.
    pub fn checked(self, kind: Kind) -> Result<EntryFields, ActionProblem> {
        self.check_action(kind)?;
        if self.mode == Mode::Monitor && !kind.blocks() {
            return Err(ActionProblem::MonitorNeverBlocks(kind));
        }
        if kind == Kind::Report && !self.lines.is_empty() {
            return Err(ActionProblem::ReportWithLines);
        }
        Ok(self.canonical())
    }

    fn check_action(&self, kind: Kind) -> Result<(), ActionProblem> {
        let Some(action) = self.action else {
            return Ok(());
        };
        if !kind.blocks() {
            return Err(ActionProblem::TakesNoAction(kind));
        }
        match action {
            BlockAction::Disconnect => Ok(()),
            BlockAction::Message if blank(&self.message) => Err(ActionProblem::MessageWithoutText),
            BlockAction::Message => fits_the_answer("message", &self.message),
            BlockAction::Queue if blank(&self.queue_arn) => Err(ActionProblem::QueueWithoutArn),
            BlockAction::Queue => {
                fits_the_answer("queue ARN", &self.queue_arn)?;
                let arn = self.queue_arn.as_deref().unwrap_or_default();
                let looks_right = arn.starts_with("arn:aws")
                    && arn.contains(":connect:")
                    && arn.contains("/queue/");
                if looks_right {
                    Ok(())
                } else {
                    Err(ActionProblem::NotAQueueArn(arn.to_owned()))
                }
            }
        }
    }

    fn canonical(mut self) -> EntryFields {
        if self.action == Some(BlockAction::Disconnect) {
            self.action = None;
        }
        if self.action != Some(BlockAction::Message) {
            self.message = None;
        }
        if self.action != Some(BlockAction::Queue) {
            self.queue_arn = None;
        }
        self.lines.sort();
        self.lines.dedup();
        for field in [
            &mut self.reason,
            &mut self.note,
            &mut self.message,
            &mut self.queue_arn,
        ] {
            if blank(field) {
                *field = None;
            }
        }
        self
    }

    /// Whether `entry` already has these fields (creation and hit counts aside).
    pub fn same_as(&self, entry: &Entry) -> bool {
        entry.status == self.status
            && entry.reason == self.reason
            && entry.expires_at == self.expires_at
            && entry.note == self.note
            && entry.action.filter(|a| *a != BlockAction::Disconnect) == self.action
            && entry.message == self.message
            && entry.queue_arn == self.queue_arn
            && entry.mode == self.mode
            && entry.lines == self.lines
            && entry.reported_by == self.reported_by
    }

    /// A new entry for `target` with these fields, made at `now` by `actor`.
    pub fn into_entry(self, target: &Target, actor: &str, now: &str) -> Entry {
        Entry {
            kind: target.kind,
            value: target.value.clone(),
            reason: self.reason,
            created_at: Some(now.to_owned()),
            created_by: Some(actor.to_owned()),
            expires_at: self.expires_at,
            note: self.note,
            action: self.action,
            message: self.message,
            queue_arn: self.queue_arn,
            status: self.status,
            mode: self.mode,
            lines: self.lines,
            reported_by: self.reported_by,
            ..Entry::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUEUE: &str = "arn:aws:connect:us-east-1:123456789012:instance/i/queue/q";

    fn fields(action: Option<BlockAction>, message: &str, queue: &str) -> EntryFields {
        EntryFields {
            reason: Some("  ".into()),
            note: Some("note".into()),
            action,
            message: Some(message.into()),
            queue_arn: Some(queue.into()),
            ..EntryFields::default()
        }
    }

    #[test]
    fn targets_are_normalized_numbers_or_compact_prefixes() {
        let n = Normalizer::default();
        let t = parse_target(&n, Kind::Block, "(415) 555-0123").unwrap();
        assert_eq!(t.value, "+14155550123");
        assert_eq!(t.audit_key(), "+14155550123");
        let t = parse_target(&n, Kind::Prefix, " +1 900 ").unwrap();
        assert_eq!(t.value, "+1900");
        assert_eq!(t.audit_key(), "prefix#+1900");
        assert!(matches!(
            parse_target(&n, Kind::Prefix, "1900"),
            Err(TargetError::InvalidPrefix { .. })
        ));
        assert!(matches!(
            parse_target(&n, Kind::Allow, "anonymous"),
            Err(TargetError::NotANumber { .. })
        ));
        assert!(matches!(
            parse_target(&n, Kind::Block, "+1 555"),
            Err(TargetError::InvalidNumber { .. })
        ));
    }

    /// Numbers pasted from spreadsheets and web pages, and a keypad spelling
    /// that is a real number, are read as the Lambda reads them. Failed
    /// before: each was refused.
    #[test]
    fn pasted_and_spelled_numbers_are_targets() {
        let n = Normalizer::default();
        for (kind, input, want) in [
            (Kind::Block, "7378742833", "+17378742833"),
            (
                Kind::Block,
                "\u{ff0b}1\u{a0}415\u{a0}555\u{a0}0123",
                "+14155550123",
            ),
            (Kind::Allow, "Tel:+1-415-555-0123;ext=7", "+14155550123"),
            (
                Kind::Prefix,
                "\u{ff0b}\u{ff11} \u{ff19}\u{ff10}\u{ff10}",
                "+1900",
            ),
        ] {
            assert_eq!(
                parse_target(&n, kind, input).unwrap().value,
                want,
                "{input:?}"
            );
        }
        assert!(matches!(
            parse_target(&n, Kind::Block, "+7378742833"),
            Err(TargetError::NotANumber { .. })
        ));
    }

    #[test]
    fn an_action_without_what_it_needs_is_refused() {
        let cases = [
            (
                Kind::Allow,
                fields(Some(BlockAction::Queue), "", QUEUE),
                ActionProblem::TakesNoAction(Kind::Allow),
            ),
            (
                Kind::Block,
                fields(Some(BlockAction::Message), " ", ""),
                ActionProblem::MessageWithoutText,
            ),
            (
                Kind::Prefix,
                fields(Some(BlockAction::Queue), "", ""),
                ActionProblem::QueueWithoutArn,
            ),
            (
                Kind::Block,
                fields(Some(BlockAction::Queue), "", "queue-7"),
                ActionProblem::NotAQueueArn("queue-7".into()),
            ),
        ];
        for (kind, f, want) in cases {
            assert_eq!(f.checked(kind), Err(want), "{kind}");
        }
    }

    /// The answer carries at most MAX_ANSWER_TEXT_CHARS of a message or a
    /// queue ARN: longer ones would be cut there (a message played cut
    /// short, a queue that does not exist), so they are refused here.
    #[test]
    fn text_the_answer_would_cut_is_refused() {
        let max = MAX_ANSWER_TEXT_CHARS;
        let fits = "é".repeat(max);
        assert!(
            fields(Some(BlockAction::Message), &fits, "")
                .checked(Kind::Block)
                .is_ok()
        );
        let long = "é".repeat(1_000);
        let err = fields(Some(BlockAction::Message), &long, "")
            .checked(Kind::Prefix)
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("1000 characters") && err.contains(&max.to_string()),
            "{err}"
        );
        let arn = format!("{QUEUE}{}", "q".repeat(max));
        let err = fields(Some(BlockAction::Queue), "", &arn)
            .checked(Kind::Block)
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(err.contains("characters"), "{err}");
    }

    #[test]
    fn only_blocking_kinds_are_monitored_and_lines_are_canonical() {
        let monitor = EntryFields {
            mode: Mode::Monitor,
            lines: vec![
                "+18005550101".into(),
                "+18005550100".into(),
                "+18005550101".into(),
            ],
            ..EntryFields::default()
        };
        let checked = monitor.clone().checked(Kind::Prefix).unwrap();
        assert_eq!(checked.lines, ["+18005550100", "+18005550101"]);
        for kind in [Kind::Allow, Kind::AllowPrefix] {
            assert_eq!(
                monitor.clone().checked(kind),
                Err(ActionProblem::MonitorNeverBlocks(kind))
            );
        }
        let report = EntryFields {
            lines: vec!["+18005550100".into()],
            ..EntryFields::default()
        };
        assert_eq!(
            report.checked(Kind::Report),
            Err(ActionProblem::ReportWithLines)
        );
        let n = Normalizer::default();
        assert_eq!(parse_line(&n, "(800) 555-0100").unwrap(), "+18005550100");
        assert!(parse_line(&n, "+1900").is_err());
    }

    #[test]
    fn checked_fields_are_canonical() {
        let f = fields(Some(BlockAction::Disconnect), "unused", QUEUE)
            .checked(Kind::Block)
            .unwrap();
        assert_eq!(f.action, None);
        assert_eq!((f.message, f.queue_arn, f.reason), (None, None, None));
        assert_eq!(f.note.as_deref(), Some("note"));
        let f = fields(Some(BlockAction::Queue), "unused", QUEUE)
            .checked(Kind::Block)
            .unwrap();
        assert_eq!((f.message, f.queue_arn.as_deref()), (None, Some(QUEUE)));
    }

    #[test]
    fn same_as_ignores_creation_and_hits_but_not_status() {
        let target = Target {
            kind: Kind::Block,
            value: "+14155550123".into(),
        };
        let f = EntryFields {
            reason: Some("spam".into()),
            ..EntryFields::default()
        };
        let mut stored = f
            .clone()
            .into_entry(&target, "someone", "2026-01-01T00:00:00Z");
        stored.block_count = Some(9);
        stored.action = Some(BlockAction::Disconnect);
        assert!(f.same_as(&stored));
        stored.status = Status::Pending;
        assert!(!f.same_as(&stored));
    }
}
