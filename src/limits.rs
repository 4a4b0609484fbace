//! How much an entry may hold. DynamoDB refuses an item over 400 KB, and an
//! audit record holds its entry twice (before and after) beside the actor,
//! reason and source. So each free-text field of an entry has a bound
//! ([`TextField::max_chars`]) that keeps any entry, and its record, far below
//! the limit, and [`item_size`] measures an item as DynamoDB counts it: the
//! check made before anything is written ([`check_change`]), which also
//! catches what the bounds cannot (an entry stored by other means, a long
//! actor or file name).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::admin::EntryFields;
use crate::admin::audit::Author;
use crate::admin::plan::Change;
use crate::answer::MAX_ANSWER_TEXT_CHARS;
use crate::store::item_from_entry;

/// DynamoDB's largest item, attribute names included: 400 KB.
pub const MAX_ITEM_BYTES: usize = 400 * 1024;

/// A free-text field of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextField {
    Reason,
    Note,
    Message,
    QueueArn,
}

impl TextField {
    pub const ALL: [TextField; 4] = [
        TextField::Reason,
        TextField::Note,
        TextField::Message,
        TextField::QueueArn,
    ];

    /// Its name, as the files and the table spell it.
    pub fn name(self) -> &'static str {
        match self {
            TextField::Reason => "reason",
            TextField::Note => "note",
            TextField::Message => "message",
            TextField::QueueArn => "queueArn",
        }
    }

    /// The longest value, in characters. At 4 bytes a character (the most
    /// UTF-8 takes) all four together are under 30 KB, so an audit record
    /// holding two such entries stays under a sixth of the item limit.
    pub fn max_chars(self) -> usize {
        match self {
            // Room for a ticket reference and a sentence or two; the
            // answer to Connect carries the first 256 characters.
            TextField::Reason => 1_024,
            // The admins' own free text: the longest field.
            TextField::Note => 4_096,
            // Played to the caller: the answer carries no more than this,
            // so a longer message would be cut off mid-sentence.
            TextField::Message => MAX_ANSWER_TEXT_CHARS,
            // IAM's bound on an ARN.
            TextField::QueueArn => 2_048,
        }
    }
}

/// A text field is longer than its bound.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {chars} characters, at most {}: shorten it", .field.name(), .field.max_chars())]
pub struct TooLong {
    pub field: TextField,
    pub chars: usize,
}

/// Checks each text field of `fields` against its bound.
pub fn check_fields(fields: &EntryFields) -> Result<(), TooLong> {
    let text = [
        (TextField::Reason, &fields.reason),
        (TextField::Note, &fields.note),
        (TextField::Message, &fields.message),
        (TextField::QueueArn, &fields.queue_arn),
    ];
    for (field, value) in text {
        let chars = value.as_deref().map_or(0, |v| v.chars().count());
        if chars > field.max_chars() {
            return Err(TooLong { field, chars });
        }
    }
    Ok(())
}

/// Which item of a change is too large.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    /// The entry to store.
    Entry,
    /// Its audit record: the stored entry (before), the new one (after),
    /// actor, reason and source.
    AuditRecord,
}

/// An item of a change would be over DynamoDB's limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("its {} would be {bytes} bytes, over DynamoDB's item limit of {MAX_ITEM_BYTES} bytes: {}", .item.what(), .item.fix())]
pub struct ItemTooLarge {
    pub item: Item,
    pub bytes: usize,
}

impl Item {
    fn what(self) -> &'static str {
        match self {
            Item::Entry => "entry",
            Item::AuditRecord => "audit record (the stored entry and the new one)",
        }
    }

    fn fix(self) -> &'static str {
        match self {
            Item::Entry => "shorten its text",
            Item::AuditRecord => {
                "the stored entry is too large to record beside another: remove it first"
            }
        }
    }
}

/// Checks that `change`'s entry and its audit record (made by `author`)
/// each fit in one DynamoDB item.
pub fn check_change(change: &Change, author: &Author) -> Result<(), ItemTooLarge> {
    let entry = change
        .after
        .as_ref()
        .map_or(0, |e| item_size(&item_from_entry(e)));
    // Every claim id has the same length: the version does not change the size.
    let record = item_size(&change.record(author, 1).to_item());
    for (item, bytes) in [(Item::Entry, entry), (Item::AuditRecord, record)] {
        if bytes > MAX_ITEM_BYTES {
            return Err(ItemTooLarge { item, bytes });
        }
    }
    Ok(())
}

/// An item's size as DynamoDB counts it against the limit: each attribute's
/// name and value in UTF-8 bytes, numbers a byte per two digits plus one,
/// lists and maps 3 bytes plus a byte per element ("Item sizes and
/// formats", DynamoDB Developer Guide).
pub fn item_size(item: &HashMap<String, AttributeValue>) -> usize {
    item.iter()
        .map(|(name, value)| name.len() + value_size(value))
        .sum()
}

fn value_size(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::S(s) => s.len(),
        AttributeValue::N(n) => number_size(n),
        AttributeValue::B(b) => b.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::Ss(v) => v.iter().map(String::len).sum(),
        AttributeValue::Ns(v) => v.iter().map(|n| number_size(n)).sum(),
        AttributeValue::Bs(v) => v.iter().map(|b| b.as_ref().len()).sum(),
        AttributeValue::L(v) => 3 + v.iter().map(|e| 1 + value_size(e)).sum::<usize>(),
        AttributeValue::M(m) => {
            3 + m
                .iter()
                .map(|(k, e)| 1 + k.len() + value_size(e))
                .sum::<usize>()
        }
        // A type this crate never writes: its debug text is longer than
        // its encoding, so the check errs on the safe side.
        other => format!("{other:?}").len(),
    }
}

/// Every digit counts (DynamoDB trims leading and trailing zeros first), so
/// this never under-counts.
fn number_size(n: &str) -> usize {
    n.bytes().filter(u8::is_ascii_digit).count().div_ceil(2) + 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::Target;
    use crate::admin::audit::AuditAction;
    use crate::entry::{Entry, Kind};

    #[test]
    fn sizes_are_counted_as_dynamodb_documents_them() {
        let s = |v: &str| AttributeValue::S(v.to_owned());
        // Names and values in UTF-8 bytes: "é" is two.
        let item = HashMap::from([("name".to_owned(), s("é"))]);
        assert_eq!(item_size(&item), 4 + 2);
        // 10 digits: 5 bytes, plus 1.
        let item = HashMap::from([("n".to_owned(), AttributeValue::N("1798740000".into()))]);
        assert_eq!(item_size(&item), 1 + 6);
        // A map: 3 bytes, plus per element 1 byte, its name and value.
        let inner = HashMap::from([("ab".to_owned(), s("xyz"))]);
        let item = HashMap::from([("m".to_owned(), AttributeValue::M(inner))]);
        assert_eq!(item_size(&item), 1 + 3 + (1 + 2 + 3));
        let item = HashMap::from([(
            "l".to_owned(),
            AttributeValue::L(vec![AttributeValue::Bool(true), s("ab")]),
        )]);
        assert_eq!(item_size(&item), 1 + 3 + (1 + 1) + (1 + 2));
    }

    /// Every text field at its bound, written with `c`.
    fn at_bounds(c: char) -> EntryFields {
        let full = |field: TextField| Some(c.to_string().repeat(field.max_chars()));
        EntryFields {
            reason: full(TextField::Reason),
            note: full(TextField::Note),
            message: full(TextField::Message),
            queue_arn: full(TextField::QueueArn),
            ..EntryFields::default()
        }
    }

    #[test]
    fn each_text_field_has_its_bound() {
        let bounds = TextField::ALL.map(|f| (f.name(), f.max_chars()));
        // As the README documents them.
        assert_eq!(
            bounds,
            [
                ("reason", 1_024),
                ("note", 4_096),
                ("message", 256),
                ("queueArn", 2_048)
            ]
        );
        assert_eq!(check_fields(&at_bounds('é')), Ok(()));
        let long_message = EntryFields {
            message: Some("m".repeat(257)),
            ..at_bounds('é')
        };
        let err = check_fields(&long_message).unwrap_err();
        assert_eq!(
            err.to_string(),
            "message: 257 characters, at most 256: shorten it"
        );
    }

    fn target() -> Target {
        Target {
            kind: Kind::Block,
            value: "+14155550123".into(),
        }
    }

    fn change(before: Option<Entry>, reason: &str) -> Change {
        let target = target();
        let fields = EntryFields {
            reason: Some(reason.into()),
            ..EntryFields::default()
        };
        Change {
            after: Some(fields.into_entry(&target, "me", "2026-01-01T00:00:00Z")),
            target,
            action: AuditAction::Replace,
            reason: Some(reason.into()),
            source: "import f.csv:2".into(),
            before,
        }
    }

    #[test]
    fn an_entry_at_every_bound_fits_with_its_record_and_a_huge_one_does_not() {
        // Four bytes a character: the most UTF-8 takes.
        let biggest = at_bounds('\u{10000}').into_entry(&target(), "me", "2026-01-01T00:00:00Z");
        let c = Change {
            before: Some(biggest.clone()),
            after: Some(biggest),
            ..change(None, "x")
        };
        assert_eq!(check_change(&c, &Author::default()), Ok(()));
        assert!(item_size(&c.record(&Author::default(), 1).to_item()) < MAX_ITEM_BYTES / 6);

        let huge = change(None, &"x".repeat(300_000));
        let err = check_change(&huge, &Author::default()).unwrap_err();
        assert_eq!(err.item, Item::AuditRecord, "the reason is in it twice");
        // An entry that fits alone, replaced by one at the reason's bound.
        let stored = change(None, &"y".repeat(408_000)).after;
        let err =
            check_change(&change(stored, &"r".repeat(1_024)), &Author::default()).unwrap_err();
        assert_eq!(err.item, Item::AuditRecord);
        assert!(err.to_string().contains("remove it first"), "{err}");
        let err =
            check_change(&change(None, &"x".repeat(410_000)), &Author::default()).unwrap_err();
        assert_eq!(err.item, Item::Entry);
    }
}
