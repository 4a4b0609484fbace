//! Storage of blocklist entries: what the Lambda reads ([`BlocklistStore`]),
//! its DynamoDB implementation, the item format both tables share, and (for
//! tests and fuzzing) an in-memory store (`memory`, with the `memory-store` feature).

#[cfg(any(test, feature = "memory-store"))]
pub mod memory;

use std::collections::HashMap;
use std::future::Future;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::get_item::GetItemError;
use aws_sdk_dynamodb::types::AttributeValue;

use crate::entry::{BlockAction, Entry, EntryTable, Kind, Status};
use crate::phone::E164;
use crate::rules::RuleSet;
use crate::snapshot::{Item, MANIFEST_KEY, Manifest, SnapshotError, chunk_entries, chunk_key};

/// Attribute names of the table.
pub mod attr {
    pub const PHONE_NUMBER: &str = "phoneNumber";
    pub const REASON: &str = "reason";
    pub const CREATED_AT: &str = "createdAt";
    pub const CREATED_BY: &str = "createdBy";
    pub const EXPIRES_AT: &str = "expiresAt";
    pub const NOTE: &str = "note";
    /// Older name of `reason`, still read.
    pub const LEGACY_REASON: &str = "blockedReason";
    /// Older name of `createdAt`, still read.
    pub const LEGACY_DATE: &str = "blockedDate";
    pub const KIND: &str = "kind";
    pub const ACTION: &str = "action";
    pub const MESSAGE: &str = "message";
    pub const QUEUE_ARN: &str = "queueArn";
    pub const STATUS: &str = "status";
    pub const CONTACT_ID: &str = "contactId";
    pub const BLOCK_COUNT: &str = "blockCount";
    pub const LAST_BLOCKED_AT: &str = "lastBlockedAt";
    /// The entry's version: see [`crate::entry::Entry::version`].
    pub const VERSION: &str = "version";
    /// Partition key of the rules table: `<kind>#<value>`, e.g. `prefix#+1900`.
    pub const RULE_KEY: &str = "ruleKey";
}

/// The rules table's key for a rule: `prefix#+1900`, `allow#+14155550123`.
pub fn rule_key(kind: Kind, value: &str) -> String {
    format!("{}#{value}", kind.as_str())
}

/// The key attribute of the item holding the `kind` entry for `value`, and
/// its value: `phoneNumber` for exact blocks (the number) and reports
/// (`report#<number>`), `ruleKey` (`<kind>#<value>`) for rules.
pub fn item_key(kind: Kind, value: &str) -> (&'static str, String) {
    match kind {
        Kind::Block => (attr::PHONE_NUMBER, value.to_owned()),
        // Beside the blocks, under a key the Lambda never reads.
        Kind::Report => (attr::PHONE_NUMBER, rule_key(kind, value)),
        Kind::Prefix | Kind::Allow | Kind::AllowPrefix => (attr::RULE_KEY, rule_key(kind, value)),
    }
}

/// A lookup could not be answered.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("table `{table}` does not exist (create it, or set TABLE_NAME / RULES_TABLE_NAME)")]
    TableNotFound { table: String },
    #[error("DynamoDB request on `{table}` failed: {message}")]
    Request { table: String, message: String },
    #[error(
        "the published rules in `{table}` are unreadable ({source}); run `blocklist publish-rules`"
    )]
    UnreadableRules {
        table: String,
        source: SnapshotError,
    },
}

/// Reads the published rules through `get` (one rules-table item by key):
/// the manifest, then each of its chunks. Nothing published means no rules.
/// Both stores read through this, so they agree on the format.
pub async fn load_published<F, Fut>(table: &str, get: F) -> Result<RuleSet, StoreError>
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = Result<Option<Item>, StoreError>>,
{
    let unreadable = |source: SnapshotError| StoreError::UnreadableRules {
        table: table.to_owned(),
        source,
    };
    let Some(item) = get(MANIFEST_KEY.to_owned()).await? else {
        return Ok(RuleSet::default());
    };
    let manifest = Manifest::from_item(&item).map_err(unreadable)?;
    let mut entries = Vec::new();
    for index in 0..manifest.chunks {
        let chunk = get(chunk_key(&manifest.version, index))
            .await?
            .ok_or_else(|| {
                unreadable(SnapshotError(
                    "a chunk is missing: it was replaced while being read".to_owned(),
                ))
            })?;
        entries.extend(chunk_entries(&chunk).map_err(unreadable)?);
    }
    Ok(RuleSet::new(entries))
}

/// What the Lambda reads: one exact entry per call, and the rules now and then.
pub trait BlocklistStore: Send + Sync {
    /// The exact entry for `number`, if there is one (expired or not).
    fn get(&self, number: &E164) -> impl Future<Output = Result<Option<Entry>, StoreError>> + Send;

    /// Every prefix rule and allow entry, as last published (GetItem only:
    /// the manifest, then its chunks).
    fn load_rules(&self) -> impl Future<Output = Result<RuleSet, StoreError>> + Send;

    /// Counts a blocked call on the entry that blocked it (`blockCount`
    /// incremented atomically, `lastBlockedAt` set to `at`). Never creates
    /// an entry.
    fn record_hit(
        &self,
        kind: Kind,
        value: &str,
        at: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// The blocklist in DynamoDB: exact blocks keyed by `phoneNumber`, rules
/// keyed by `ruleKey` in their own table.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    rules_table: String,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>, rules_table: impl Into<String>) -> Self {
        DynamoStore {
            client,
            table: table.into(),
            rules_table: rules_table.into(),
        }
    }
}

impl BlocklistStore for DynamoStore {
    async fn get(&self, number: &E164) -> Result<Option<Entry>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(
                attr::PHONE_NUMBER,
                AttributeValue::S(number.as_str().to_owned()),
            )
            .send()
            .await
            .map_err(|e| get_error(&self.table, e))?;
        Ok(output.item.map(|item| entry_from_item(&item)))
    }

    async fn load_rules(&self) -> Result<RuleSet, StoreError> {
        load_published(&self.rules_table, |key| self.get_rules_item(key)).await
    }

    async fn record_hit(&self, kind: Kind, value: &str, at: &str) -> Result<(), StoreError> {
        let (key_name, key) = item_key(kind, value);
        let table = match kind.table() {
            EntryTable::Blocklist => &self.table,
            EntryTable::Rules => &self.rules_table,
        };
        self.client
            .update_item()
            .table_name(table)
            .key(key_name, AttributeValue::S(key))
            .update_expression("ADD #count :one SET #last = :at")
            .condition_expression("attribute_exists(#key)")
            .expression_attribute_names("#count", attr::BLOCK_COUNT)
            .expression_attribute_names("#last", attr::LAST_BLOCKED_AT)
            .expression_attribute_names("#key", key_name)
            .expression_attribute_values(":one", AttributeValue::N("1".to_owned()))
            .expression_attribute_values(":at", AttributeValue::S(at.to_owned()))
            .send()
            .await
            .map_err(|e| sdk_error(table, e))?;
        Ok(())
    }
}

impl DynamoStore {
    /// One item of the rules table by key (an eventually consistent GetItem).
    async fn get_rules_item(&self, key: String) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.rules_table)
            .key(attr::RULE_KEY, AttributeValue::S(key))
            .send()
            .await
            .map_err(|e| get_error(&self.rules_table, e))?;
        Ok(output.item)
    }
}

fn get_error(table: &str, err: SdkError<GetItemError>) -> StoreError {
    sdk_error(table, err)
}

/// A DynamoDB error on `table` as a [`StoreError`], telling a missing table
/// apart from other failures.
pub fn sdk_error<E, R>(table: &str, err: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    if err.code() == Some("ResourceNotFoundException") {
        return StoreError::TableNotFound {
            table: table.to_owned(),
        };
    }
    StoreError::Request {
        table: table.to_owned(),
        message: DisplayErrorContext(&err).to_string(),
    }
}

/// Reads an item, accepting the older attribute names and `expiresAt`
/// stored as a number or a numeric string.
pub fn entry_from_item(item: &HashMap<String, AttributeValue>) -> Entry {
    let s = |name: &str| match item.get(name) {
        Some(AttributeValue::S(v)) => Some(v.clone()),
        Some(AttributeValue::N(v)) => Some(v.clone()),
        _ => None,
    };
    let expires_at = match item.get(attr::EXPIRES_AT) {
        Some(AttributeValue::N(v) | AttributeValue::S(v)) => parse_epoch(v),
        _ => None,
    };
    let kind: Kind = s(attr::KIND)
        .and_then(|k| k.parse().ok())
        .unwrap_or_default();
    let key = s(attr::PHONE_NUMBER).unwrap_or_default();
    // A report's key is `report#<number>` (see `item_key`).
    let value = match key.strip_prefix(&format!("{kind}#")) {
        Some(number) => number.to_owned(),
        None => key,
    };
    Entry {
        kind,
        value,
        reason: s(attr::REASON).or_else(|| s(attr::LEGACY_REASON)),
        created_at: s(attr::CREATED_AT).or_else(|| s(attr::LEGACY_DATE)),
        created_by: s(attr::CREATED_BY),
        expires_at,
        note: s(attr::NOTE),
        action: s(attr::ACTION).and_then(|a| a.parse().ok()),
        message: s(attr::MESSAGE),
        queue_arn: s(attr::QUEUE_ARN),
        // Exactly `pending` waits for an admin; anything else (or no status
        // at all, as in entries made before reports existed) is in force.
        status: match s(attr::STATUS) {
            Some(v) if v == Status::Pending.as_str() => Status::Pending,
            _ => Status::Active,
        },
        contact_id: s(attr::CONTACT_ID),
        block_count: s(attr::BLOCK_COUNT).and_then(|n| n.parse().ok()),
        last_blocked_at: s(attr::LAST_BLOCKED_AT),
        version: s(attr::VERSION)
            .and_then(|v| v.parse().ok())
            .unwrap_or_default(),
    }
}

/// Writes an entry as an item with the current attribute names; rules get
/// their `ruleKey` and `kind`. Hit counts are the Lambda's and not written.
pub fn item_from_entry(entry: &Entry) -> HashMap<String, AttributeValue> {
    let mut item = HashMap::new();
    item.insert(
        attr::PHONE_NUMBER.to_owned(),
        AttributeValue::S(entry.value.clone()),
    );
    // Exact blocks keep the items they had before kinds existed.
    if entry.kind != Kind::Block {
        let (key_name, key) = item_key(entry.kind, &entry.value);
        item.insert(key_name.to_owned(), AttributeValue::S(key));
        item.insert(
            attr::KIND.to_owned(),
            AttributeValue::S(entry.kind.as_str().to_owned()),
        );
    }
    if entry.status == Status::Pending {
        item.insert(
            attr::STATUS.to_owned(),
            AttributeValue::S(Status::Pending.as_str().to_owned()),
        );
    }
    if let Some(action) = entry.action.filter(|a| *a != BlockAction::Disconnect) {
        item.insert(
            attr::ACTION.to_owned(),
            AttributeValue::S(action.as_str().to_owned()),
        );
    }
    let mut put = |name: &str, value: &Option<String>| {
        if let Some(v) = value.as_ref().filter(|v| !v.is_empty()) {
            item.insert(name.to_owned(), AttributeValue::S(v.clone()));
        }
    };
    put(attr::REASON, &entry.reason);
    put(attr::CREATED_AT, &entry.created_at);
    put(attr::CREATED_BY, &entry.created_by);
    put(attr::NOTE, &entry.note);
    put(attr::MESSAGE, &entry.message);
    put(attr::QUEUE_ARN, &entry.queue_arn);
    put(attr::CONTACT_ID, &entry.contact_id);
    if let Some(expires) = entry.expires_at {
        item.insert(
            attr::EXPIRES_AT.to_owned(),
            AttributeValue::N(expires.to_string()),
        );
    }
    if entry.version > 0 {
        item.insert(
            attr::VERSION.to_owned(),
            AttributeValue::N(entry.version.to_string()),
        );
    }
    item
}

/// Epoch seconds; a fractional part (`1767225600.5`) is dropped.
fn parse_epoch(v: &str) -> Option<i64> {
    let v = v.trim();
    let whole = v.split_once('.').map_or(v, |(whole, _)| whole);
    whole.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(kind: Kind, value: &str) -> Entry {
        Entry {
            kind,
            value: value.into(),
            reason: Some("why".into()),
            created_at: Some("2026-01-01T00:00:00Z".into()),
            created_by: Some("me".into()),
            expires_at: Some(1_900_000_000),
            note: Some("note".into()),
            action: Some(BlockAction::Queue),
            queue_arn: Some("arn:aws:connect:r:1:instance/i/queue/q".into()),
            status: Status::Pending,
            contact_id: Some("c".into()),
            version: 3,
            ..Entry::default()
        }
    }

    #[test]
    fn items_round_trip_for_every_kind_under_its_own_key() {
        for kind in Kind::ALL {
            let e = entry(*kind, "+1900");
            let item = item_from_entry(&e);
            let (key, value) = item_key(*kind, "+1900");
            assert_eq!(item.get(key), Some(&AttributeValue::S(value)), "{kind}");
            assert_eq!(entry_from_item(&item), e, "{kind}");
        }
        assert_eq!(
            item_key(Kind::Block, "+1"),
            (attr::PHONE_NUMBER, "+1".to_owned())
        );
        assert_eq!(
            item_key(Kind::AllowPrefix, "+1"),
            (attr::RULE_KEY, "allowPrefix#+1".to_owned())
        );
    }

    #[test]
    fn older_items_and_odd_values_still_read() {
        let item = HashMap::from([
            (
                attr::PHONE_NUMBER.to_owned(),
                AttributeValue::S("+14155550123".into()),
            ),
            (
                attr::LEGACY_REASON.to_owned(),
                AttributeValue::S("old reason".into()),
            ),
            (
                attr::LEGACY_DATE.to_owned(),
                AttributeValue::S("2020-01-01".into()),
            ),
            (
                attr::EXPIRES_AT.to_owned(),
                AttributeValue::S("1767225600.5".into()),
            ),
            (attr::STATUS.to_owned(), AttributeValue::S("PENDING".into())),
            (attr::BLOCK_COUNT.to_owned(), AttributeValue::N("7".into())),
        ]);
        let e = entry_from_item(&item);
        assert_eq!(e.kind, Kind::Block);
        assert_eq!(e.reason.as_deref(), Some("old reason"));
        assert_eq!(e.created_at.as_deref(), Some("2020-01-01"));
        assert_eq!(e.expires_at, Some(1_767_225_600));
        assert_eq!(e.status, Status::Active, "only exactly `pending` waits");
        assert_eq!(e.block_count, Some(7));
        assert!(
            !item_from_entry(&e).contains_key(attr::BLOCK_COUNT),
            "hit counts are the Lambda's"
        );
    }

    #[test]
    fn an_unreadable_snapshot_is_one_error_said_once() {
        let err = StoreError::UnreadableRules {
            table: "Rules".into(),
            source: SnapshotError("manifest without chunks".into()),
        };
        assert_eq!(
            err.to_string(),
            "the published rules in `Rules` are unreadable (manifest without chunks); run `blocklist publish-rules`"
        );
    }
}
