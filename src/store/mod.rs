//! Storage of blocklist entries: what the Lambda reads ([`BlocklistStore`]),
//! its DynamoDB implementation, the item format both tables share, and (for
//! tests and fuzzing) an in-memory store (`memory`, with the `memory-store` feature).

#[cfg(any(test, feature = "memory-store"))]
pub mod memory;

use std::collections::{BTreeMap, HashMap};
use std::future::Future;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::get_item::GetItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};

use crate::config::{Config, DEFAULT_COUNTERS_TABLE_NAME};
use crate::entry::{BlockAction, Entry, EntryTable, Kind, Mode, Status, Stored, TOMBSTONE_SECONDS};
use crate::logging::capped;
use crate::phone::{E164, mask};
use crate::rules::RuleSet;
use crate::snapshot::{Item, MANIFEST_KEY, Manifest, SnapshotError, chunk_entries, chunk_key};
use crate::when::parse_absolute;

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
    /// `monitor` for an entry that only watches; absent for one that blocks.
    pub const MODE: &str = "mode";
    /// The dialled numbers an entry applies to (a string set); absent for all.
    pub const LINES: &str = "lines";
    /// A report's agents and when each last reported it: a map of epoch seconds.
    pub const REPORTED_BY: &str = "reportedBy";
    /// Partition key of the counters table: `<number>#<window start>`.
    pub const COUNTER_KEY: &str = "counterKey";
    /// A counter's calls in its window.
    pub const CALLS: &str = "calls";
    /// Partition key of the rules table: `<kind>#<value>`, e.g. `prefix#+1900`.
    pub const RULE_KEY: &str = "ruleKey";
    /// Partition key of [`super::HIT_INDEX`]: [`super::HIT_PARTITION`] on
    /// every item that has blocked a call, absent on the others.
    pub const HIT_PARTITION: &str = "hitPartition";
}

/// The sparse global secondary index of both entry tables that holds the
/// entries that have blocked a call, by `lastBlockedAt`: the console's
/// "most recently blocked" list reads it newest first, a page at a time,
/// instead of reading (and sorting) the whole table. Only the Lambda's hit
/// counter puts items in it (it sets [`attr::HIT_PARTITION`]); a remove's
/// tombstone, written whole, leaves it.
pub const HIT_INDEX: &str = "byLastBlock";
/// The one value of [`attr::HIT_PARTITION`]. One partition, so one Query
/// reads the index in `lastBlockedAt` order; it takes a write per blocked
/// call, far under the 1,000 writes a second a partition takes.
pub const HIT_PARTITION: &str = "hit";

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

    /// Counts one call from `number` in the rate-limit window starting at
    /// `window_start` (epoch seconds), atomically, and returns the window's
    /// count with it. The counter expires (TTL) at `expires_at`.
    fn count_call(
        &self,
        number: &E164,
        window_start: i64,
        expires_at: i64,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
}

/// The counters table's key for one number's calls in one window.
pub fn counter_key(number: &E164, window_start: i64) -> String {
    format!("{number}#{window_start}")
}

/// The blocklist in DynamoDB: exact blocks keyed by `phoneNumber`, rules
/// keyed by `ruleKey` in their own table.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    rules_table: String,
    counters_table: String,
}

impl DynamoStore {
    /// Over `table` and `rules_table`, counting calls (when the rate limit
    /// is on) in the default counters table.
    pub fn new(client: Client, table: impl Into<String>, rules_table: impl Into<String>) -> Self {
        DynamoStore {
            client,
            table: table.into(),
            rules_table: rules_table.into(),
            counters_table: DEFAULT_COUNTERS_TABLE_NAME.to_owned(),
        }
    }

    /// Over the tables `config` names.
    pub fn for_config(client: Client, config: &Config) -> Self {
        DynamoStore {
            counters_table: config.counters_table_name.clone(),
            ..DynamoStore::new(client, &config.table_name, &config.rules_table_name)
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
        Ok(output
            .item
            .and_then(|item| stored_from_item(&item).into_entry()))
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
            // The partition attribute puts the entry in the hit index.
            .update_expression("ADD #count :one SET #last = :at, #part = :part")
            // Never creates an item, and never counts on a remove's
            // tombstone (the entry was removed after this call read it).
            .condition_expression(
                "attribute_exists(#key) AND (attribute_not_exists(#status) OR #status <> :removed)",
            )
            .expression_attribute_names("#count", attr::BLOCK_COUNT)
            .expression_attribute_names("#last", attr::LAST_BLOCKED_AT)
            .expression_attribute_names("#part", attr::HIT_PARTITION)
            .expression_attribute_names("#key", key_name)
            .expression_attribute_names("#status", attr::STATUS)
            .expression_attribute_values(":one", AttributeValue::N("1".to_owned()))
            .expression_attribute_values(":part", AttributeValue::S(HIT_PARTITION.to_owned()))
            .expression_attribute_values(":removed", AttributeValue::S(REMOVED.to_owned()))
            .expression_attribute_values(":at", AttributeValue::S(at.to_owned()))
            .send()
            .await
            .map_err(|e| sdk_error(table, e))?;
        Ok(())
    }

    async fn count_call(
        &self,
        number: &E164,
        window_start: i64,
        expires_at: i64,
    ) -> Result<u64, StoreError> {
        let table = &self.counters_table;
        let output = self
            .client
            .update_item()
            .table_name(table)
            .key(
                attr::COUNTER_KEY,
                AttributeValue::S(counter_key(number, window_start)),
            )
            .update_expression("ADD #calls :one SET #expires = if_not_exists(#expires, :expires)")
            .expression_attribute_names("#calls", attr::CALLS)
            .expression_attribute_names("#expires", attr::EXPIRES_AT)
            .expression_attribute_values(":one", AttributeValue::N("1".to_owned()))
            .expression_attribute_values(":expires", AttributeValue::N(expires_at.to_string()))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|e| sdk_error(table, e))?;
        match output.attributes.as_ref().and_then(|a| a.get(attr::CALLS)) {
            Some(AttributeValue::N(n)) => n.parse().map_err(|_| StoreError::Request {
                table: table.clone(),
                message: format!("the call count `{n}` is not a whole number"),
            }),
            _ => Err(StoreError::Request {
                table: table.clone(),
                message: "UpdateItem returned no call count".to_owned(),
            }),
        }
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

/// What a request that timed out says: the SDK's own text ("timeout error")
/// names neither the cause nor the fix.
pub const NO_ANSWER: &str = "DynamoDB did not answer in time: check that the endpoint and region are right and reachable (--endpoint-url or AWS_ENDPOINT_URL_DYNAMODB, --region or AWS_REGION); the CLI waits --timeout seconds (BLOCKLIST_TIMEOUT)";

/// A DynamoDB error on `table` as a [`StoreError`], telling a missing table
/// and a server that did not answer apart from other failures.
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
    let timed_out = match &err {
        SdkError::TimeoutError(_) => true,
        SdkError::DispatchFailure(failure) => failure.is_timeout(),
        _ => false,
    };
    let message = if timed_out {
        NO_ANSWER.to_owned()
    } else {
        DisplayErrorContext(&err).to_string()
    };
    StoreError::Request {
        table: table.to_owned(),
        message,
    }
}

/// The `status` of a remove's tombstone ([`Stored::Removed`]).
pub const REMOVED: &str = "removed";

/// Reads an item as the write protocol sees it: a remove's tombstone (its
/// version), or an entry ([`entry_from_item`]). Every reader goes through
/// here, so that a tombstone is never read as an entry (whose unknown
/// `status` would read as active).
pub fn stored_from_item(item: &HashMap<String, AttributeValue>) -> Stored {
    match item.get(attr::STATUS) {
        Some(AttributeValue::S(status)) if status == REMOVED => Stored::Removed {
            version: match item.get(attr::VERSION) {
                Some(AttributeValue::N(v)) => v.parse().unwrap_or_default(),
                _ => 0,
            },
        },
        _ => Stored::Entry(Box::new(entry_from_item(item))),
    }
}

/// The tombstone a remove of `kind` `value` at `version` leaves, written at
/// `now` (epoch seconds): the key, `status` `removed`, the version, and an
/// `expiresAt` [`TOMBSTONE_SECONDS`] later for the tables' TTL.
pub fn tombstone_item(kind: Kind, value: &str, version: u64, now: i64) -> Item {
    let (key_name, key) = item_key(kind, value);
    let mut item = HashMap::from([
        (key_name.to_owned(), AttributeValue::S(key)),
        (
            attr::STATUS.to_owned(),
            AttributeValue::S(REMOVED.to_owned()),
        ),
        (
            attr::VERSION.to_owned(),
            AttributeValue::N(version.to_string()),
        ),
        (
            attr::EXPIRES_AT.to_owned(),
            AttributeValue::N((now + TOMBSTONE_SECONDS).to_string()),
        ),
    ]);
    if kind != Kind::Block {
        item.insert(
            attr::KIND.to_owned(),
            AttributeValue::S(kind.as_str().to_owned()),
        );
    }
    item
}

/// Reads an item, accepting the older attribute names, and `expiresAt` as
/// epoch seconds (a number, or a numeric string) or as an ISO 8601 date or
/// datetime. What cannot be read (an attribute of the wrong type, a value
/// that does not parse) is left out and logged as one warning, the number
/// masked: left out silently, an unreadable `expiresAt` would mean "never
/// expires" and an unreadable `kind` "block", with nobody told.
pub fn entry_from_item(item: &HashMap<String, AttributeValue>) -> Entry {
    let mut r = ItemReader {
        item,
        problems: Vec::new(),
    };
    let status_text = r.text(attr::STATUS);
    let kind: Kind = r.parsed(attr::KIND, |k| k.parse().ok()).unwrap_or_default();
    let key = r.text(attr::PHONE_NUMBER).unwrap_or_default();
    // A report's key is `report#<number>` (see `item_key`); no other kind
    // prefixes its `phoneNumber`, so the Lambda's reads allocate nothing here.
    let number = match kind {
        Kind::Report => key
            .strip_prefix(kind.as_str())
            .and_then(|k| k.strip_prefix('#')),
        Kind::Block | Kind::Prefix | Kind::Allow | Kind::AllowPrefix => None,
    };
    let value = match number.map(str::to_owned) {
        Some(number) => number,
        None => key,
    };
    let entry = Entry {
        kind,
        value,
        reason: r.text(attr::REASON).or_else(|| r.text(attr::LEGACY_REASON)),
        created_at: r
            .text(attr::CREATED_AT)
            .or_else(|| r.text(attr::LEGACY_DATE)),
        created_by: r.text(attr::CREATED_BY),
        expires_at: r.parsed(attr::EXPIRES_AT, parse_expiry),
        note: r.text(attr::NOTE),
        action: r.parsed(attr::ACTION, |a| a.parse().ok()),
        message: r.text(attr::MESSAGE),
        queue_arn: r.text(attr::QUEUE_ARN),
        status: r.status(status_text),
        contact_id: r.text(attr::CONTACT_ID),
        block_count: r.parsed(attr::BLOCK_COUNT, |n| n.parse().ok()),
        last_blocked_at: r.text(attr::LAST_BLOCKED_AT),
        version: r
            .parsed(attr::VERSION, |v| v.parse().ok())
            .unwrap_or_default(),
        mode: r.parsed(attr::MODE, |m| m.parse().ok()).unwrap_or_default(),
        lines: r.text_set(attr::LINES),
        reported_by: r.epoch_map(attr::REPORTED_BY),
    };
    if !r.problems.is_empty() {
        tracing::warn!(
            phone_number = %mask(&entry.value),
            kind = entry.kind.as_str(),
            problems = %r.problems.join("; "),
            "stored entry read without the attributes it could not read: rewrite it (blocklist add --replace)"
        );
    }
    entry
}

/// Reads one item's attributes, noting each it cannot read.
struct ItemReader<'a> {
    item: &'a HashMap<String, AttributeValue>,
    /// `attribute: what is wrong with it`, for the warning.
    problems: Vec<String>,
}

impl ItemReader<'_> {
    /// A string attribute (a number reads as its digits); absent or NULL
    /// is none, any other type a problem.
    fn text(&mut self, name: &str) -> Option<String> {
        match self.item.get(name)? {
            AttributeValue::S(v) | AttributeValue::N(v) => Some(v.clone()),
            AttributeValue::Null(_) => None,
            other => {
                let found = attribute_type(other);
                self.problems
                    .push(format!("{name} is {found}, not a string or number"));
                None
            }
        }
    }

    /// A map of names to epoch seconds; absent is empty, any other type
    /// (or a value that is not a whole number) a problem.
    fn epoch_map(&mut self, name: &str) -> BTreeMap<String, i64> {
        let mut read = BTreeMap::new();
        match self.item.get(name) {
            None | Some(AttributeValue::Null(_)) => {}
            Some(AttributeValue::M(map)) => {
                for (key, value) in map {
                    match value.as_n().ok().and_then(|n| n.parse().ok()) {
                        Some(epoch) => {
                            read.insert(key.clone(), epoch);
                        }
                        None => self
                            .problems
                            .push(format!("{name}.{} is not epoch seconds", capped(key))),
                    }
                }
            }
            Some(other) => {
                let found = attribute_type(other);
                self.problems.push(format!("{name} is {found}, not a map"));
            }
        }
        read
    }

    /// A string set (or a list of strings), sorted; absent is empty, any
    /// other type a problem.
    fn text_set(&mut self, name: &str) -> Vec<String> {
        let mut values = match self.item.get(name) {
            None | Some(AttributeValue::Null(_)) => Vec::new(),
            Some(AttributeValue::Ss(values)) => values.clone(),
            Some(AttributeValue::L(list)) if list.iter().all(|v| v.as_s().is_ok()) => {
                list.iter().filter_map(|v| v.as_s().ok().cloned()).collect()
            }
            Some(other) => {
                let found = attribute_type(other);
                self.problems
                    .push(format!("{name} is {found}, not a set of strings"));
                Vec::new()
            }
        };
        values.sort();
        values
    }

    /// A string attribute read by `parse`; a value it refuses is a problem.
    fn parsed<T>(&mut self, name: &str, parse: impl FnOnce(&str) -> Option<T>) -> Option<T> {
        let text = self.text(name)?;
        let value = parse(&text);
        if value.is_none() {
            self.problems
                .push(format!("{name} `{}` cannot be read", capped(&text)));
        }
        value
    }

    /// Exactly `pending` waits for an admin; anything else (or no status at
    /// all, as in entries made before reports existed) is in force. A
    /// value other than `active` is a problem: `PENDING` blocks.
    fn status(&mut self, text: Option<String>) -> Status {
        match text.as_deref() {
            Some(v) if v == Status::Pending.as_str() => Status::Pending,
            None => Status::Active,
            Some(v) if v == Status::Active.as_str() => Status::Active,
            Some(v) => {
                self.problems.push(format!(
                    "{} `{}` is neither `active` nor `pending`: read as active",
                    attr::STATUS,
                    capped(v)
                ));
                Status::Active
            }
        }
    }
}

/// The DynamoDB type of an attribute value, as the console names it.
fn attribute_type(value: &AttributeValue) -> &'static str {
    match value {
        AttributeValue::S(_) => "S",
        AttributeValue::N(_) => "N",
        AttributeValue::B(_) => "B",
        AttributeValue::Bool(_) => "BOOL",
        AttributeValue::Null(_) => "NULL",
        AttributeValue::M(_) => "M",
        AttributeValue::L(_) => "L",
        AttributeValue::Ss(_) => "SS",
        AttributeValue::Ns(_) => "NS",
        AttributeValue::Bs(_) => "BS",
        _ => "of an unknown type",
    }
}

/// Writes an entry as an item with the current attribute names; rules get
/// their `ruleKey` and `kind`. Hit counts are the Lambda's and not written
/// (the audit trail's entries have none); a change's write adds the ones
/// the entry had with [`with_hit_record`].
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
    match entry.mode {
        Mode::Block => {}
        Mode::Monitor => {
            item.insert(
                attr::MODE.to_owned(),
                AttributeValue::S(Mode::Monitor.as_str().to_owned()),
            );
        }
    }
    if !entry.lines.is_empty() {
        item.insert(
            attr::LINES.to_owned(),
            AttributeValue::Ss(entry.lines.clone()),
        );
    }
    if !entry.reported_by.is_empty() {
        let agents = entry
            .reported_by
            .iter()
            .map(|(agent, at)| (agent.clone(), AttributeValue::N(at.to_string())))
            .collect();
        item.insert(attr::REPORTED_BY.to_owned(), AttributeValue::M(agents));
    }
    item
}

/// `item` with `entry`'s hit record, as the Lambda's hit counter leaves it
/// (`blockCount`; `lastBlockedAt` and `hitPartition`, which keep the entry in
/// [`HIT_INDEX`]): a change's write carries over the record of the entry
/// it read (see [`Entry::with_hits_of`]). [`item_from_entry`] leaves it out:
/// the audit trail records no hit counts.
pub fn with_hit_record(
    mut item: HashMap<String, AttributeValue>,
    entry: &Entry,
) -> HashMap<String, AttributeValue> {
    if let Some(count) = entry.block_count {
        item.insert(
            attr::BLOCK_COUNT.to_owned(),
            AttributeValue::N(count.to_string()),
        );
    }
    if let Some(at) = &entry.last_blocked_at {
        item.insert(
            attr::LAST_BLOCKED_AT.to_owned(),
            AttributeValue::S(at.clone()),
        );
        item.insert(
            attr::HIT_PARTITION.to_owned(),
            AttributeValue::S(HIT_PARTITION.to_owned()),
        );
    }
    item
}

/// An expiry as stored: epoch seconds (a fractional part, `1767225600.5`,
/// is dropped), or an ISO 8601 date or datetime as people write them.
fn parse_expiry(v: &str) -> Option<i64> {
    let v = v.trim();
    let whole = v.split_once('.').map_or(v, |(whole, _)| whole);
    whole.parse().ok().or_else(|| parse_absolute(v).ok())
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
            mode: Mode::Monitor,
            lines: vec!["+18005550100".into(), "+18005550101".into()],
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
    fn iso_expiries_read_as_dates_and_unreadable_values_as_none() {
        let item = |expires: AttributeValue| {
            HashMap::from([
                (
                    attr::PHONE_NUMBER.to_owned(),
                    AttributeValue::S("+14155550123".into()),
                ),
                (attr::EXPIRES_AT.to_owned(), expires),
                (attr::KIND.to_owned(), AttributeValue::Bool(true)),
            ])
        };
        let s = |v: &str| AttributeValue::S(v.into());
        for (stored, want) in [
            (s("2026-12-31T18:00:00Z"), Some(1_798_740_000)),
            (s("2026-12-31T18:00:00.250Z"), Some(1_798_740_000)),
            (s("2026-12-31"), Some(1_798_675_200)),
            (AttributeValue::N("1798740000".into()), Some(1_798_740_000)),
            (s("next tuesday"), None),
            (AttributeValue::Bool(true), None),
        ] {
            let e = entry_from_item(&item(stored.clone()));
            assert_eq!(e.expires_at, want, "{stored:?}");
            assert_eq!(e.kind, Kind::Block, "an unreadable kind reads as block");
        }
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

    /// A tombstone reads as the remove that left it, never as an entry
    /// (whose `status` `removed`, unknown to it, would read as active),
    /// and so the Lambda's lookup finds nothing there.
    #[test]
    fn a_tombstone_reads_as_its_remove_not_as_an_entry() {
        for kind in [Kind::Block, Kind::Report, Kind::Prefix, Kind::Allow] {
            let item = tombstone_item(kind, "+14155550123", 4, 1_000);
            assert_eq!(stored_from_item(&item), Stored::Removed { version: 4 });
            assert_eq!(
                item[attr::EXPIRES_AT],
                AttributeValue::N((1_000 + TOMBSTONE_SECONDS).to_string())
            );
            let (key_name, key) = item_key(kind, "+14155550123");
            assert_eq!(item[key_name], AttributeValue::S(key));
        }
        let live = item_from_entry(&entry(Kind::Block, "+14155550123"));
        assert!(matches!(stored_from_item(&live), Stored::Entry(_)));
    }
}
