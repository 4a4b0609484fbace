//! The admin side's storage seam: the few operations admin commands need
//! ([`AdminStore`]), their DynamoDB implementation ([`DynamoAdminStore`]),
//! and the conditions writes are made under. Admin logic above this trait
//! is unit-tested over `store::memory::MemoryStore` (the `memory-store` feature).

use std::collections::HashMap;
use std::future::Future;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};
use tokio::task::JoinSet;

use super::audit::{AuditRecord, TrailHead};
use super::batch::{GET_BATCH, get_batch};
use super::{AdminError, Tables, Target};
use crate::entry::{Entry, EntryTable, Stored};
use crate::snapshot::{Item, is_snapshot_item};
use crate::store::{
    HIT_INDEX, HIT_PARTITION, REMOVED, attr, item_from_entry, item_key, stored_from_item,
    tombstone_item, with_hit_record,
};
use crate::when::now_epoch;

/// Batches read or written at once by the bulk operations.
const PARALLEL_BATCHES: usize = 8;

/// What a conditional write of an entry expects to find stored: the entry
/// at the version it was read at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    /// No entry: nothing stored, or the tombstone of a change older than
    /// the one writing. A tombstone of that change or a later one refuses
    /// the write: the key was removed after the writer read it empty.
    Absent,
    /// An entry written before versions existed (no `version`).
    Unversioned,
    /// The entry at this version.
    Version(u64),
}

impl Precondition {
    /// The precondition that holds exactly while the entry is still `read`.
    pub fn of(read: Option<&Entry>) -> Precondition {
        match read.map(|e| e.version) {
            None => Precondition::Absent,
            Some(0) => Precondition::Unversioned,
            Some(v) => Precondition::Version(v),
        }
    }

    /// Whether `stored` meets it, for a write of version `writing`.
    pub fn holds_for(&self, stored: &Stored, writing: u64) -> bool {
        match (self, stored) {
            (Precondition::Absent, Stored::Absent) => true,
            (Precondition::Absent, Stored::Removed { version }) => *version < writing,
            (Precondition::Unversioned | Precondition::Version(_), Stored::Entry(entry)) => {
                Precondition::of(Some(entry)) == *self
            }
            (Precondition::Absent, Stored::Entry(_))
            | (
                Precondition::Unversioned | Precondition::Version(_),
                Stored::Absent | Stored::Removed { .. },
            ) => false,
        }
    }

    /// The DynamoDB condition that holds exactly when [`Self::holds_for`]
    /// does, on an item keyed by `key_name`: the expression, its names and
    /// its values.
    fn expression(&self, key_name: &str, writing: u64) -> Condition {
        let version = |v: u64| (":version".to_owned(), AttributeValue::N(v.to_string()));
        let removed = || (":removed".to_owned(), AttributeValue::S(REMOVED.to_owned()));
        match self {
            Precondition::Absent => Condition {
                expression: format!(
                    "attribute_not_exists({key_name}) OR (#status = :removed AND #version < :version)"
                ),
                names: HashMap::from([
                    ("#version".to_owned(), attr::VERSION.to_owned()),
                    ("#status".to_owned(), attr::STATUS.to_owned()),
                ]),
                values: Some(HashMap::from([version(writing), removed()])),
            },
            Precondition::Unversioned => Condition {
                expression: format!(
                    "attribute_exists({key_name}) AND attribute_not_exists(#version)"
                ),
                names: HashMap::from([("#version".to_owned(), attr::VERSION.to_owned())]),
                values: None,
            },
            // Never a tombstone's: a version is claimed by one change only,
            // but the condition says so rather than rely on it.
            Precondition::Version(v) => Condition {
                expression:
                    "#version = :version AND (attribute_not_exists(#status) OR #status <> :removed)"
                        .to_owned(),
                names: HashMap::from([
                    ("#version".to_owned(), attr::VERSION.to_owned()),
                    ("#status".to_owned(), attr::STATUS.to_owned()),
                ]),
                values: Some(HashMap::from([version(*v), removed()])),
            },
        }
    }
}

/// A condition expression with its attribute names and values (each names
/// only what its expression uses: DynamoDB refuses unused ones).
struct Condition {
    expression: String,
    names: HashMap<String, String>,
    values: Option<HashMap<String, AttributeValue>>,
}

/// What a conditional put of a rules-table item expects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemPrecondition {
    /// Nothing: the put always happens.
    None,
    /// No item under the key.
    Absent,
    /// The item's `version` attribute is this.
    Version(String),
}

/// Whether a conditional write happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    Written,
    /// The precondition did not hold: someone else changed the item.
    Conflict,
}

/// What one [`AdminStore::scan_page`] or [`AdminStore::blocked_page`]
/// read, each entry with where it is (`K`: its item's key value for a
/// scan, a [`HitKey`] in the hit index).
#[derive(Debug, Clone, PartialEq)]
pub struct Page<K> {
    /// The entries read, in the read's order.
    pub entries: Vec<(K, Entry)>,
    /// How many items were read, snapshot items and tombstones included.
    pub read: usize,
    /// Where the next page starts (the last key read, `LastEvaluatedKey`);
    /// none once the table (or index) has been read to its end.
    pub last: Option<K>,
}

impl<K> Default for Page<K> {
    fn default() -> Self {
        Page {
            entries: Vec::new(),
            read: 0,
            last: None,
        }
    }
}

/// A page of a scan: entries by their item's key value.
pub type ScanPage = Page<String>;

/// Where an entry is in the hit index ([`crate::store::HIT_INDEX`]): when
/// it last blocked, and its item's key value (which orders equal times).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct HitKey {
    pub at: String,
    pub key: String,
}

/// Which items of a table a scan returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanScope {
    /// Every entry.
    All,
    /// Only the entries the hit index does not hold: those that never
    /// blocked a call, and those that last blocked before the index was
    /// added (their hit counter had not set its partition attribute yet).
    OutsideHitIndex,
}

/// The storage operations admin commands make. Each is one DynamoDB
/// request, or a bulk one split into batches.
pub trait AdminStore: Send + Sync {
    /// What is stored for `target`: the entry, expired or not, or a
    /// remove's tombstone (a consistent read).
    fn entry(&self, target: &Target) -> impl Future<Output = Result<Stored, AdminError>> + Send;

    /// The stored entries of `targets` (consistent reads); targets with no
    /// entry (or a tombstone) are left out.
    fn entries(
        &self,
        targets: &[Target],
    ) -> impl Future<Output = Result<Vec<Entry>, AdminError>> + Send;

    /// Every entry in `table` (snapshot items and tombstones left out), in
    /// no order.
    fn scan(
        &self,
        table: EntryTable,
    ) -> impl Future<Output = Result<Vec<Entry>, AdminError>> + Send;

    /// One page of a scan of `table`: at most `limit` items read (DynamoDB
    /// Scan `Limit`), from just after the item keyed `after` (its key
    /// attribute's value: `ExclusiveStartKey`), or from the start. Snapshot
    /// items and tombstones are read (and counted) but not returned, nor
    /// are entries outside `scope`.
    fn scan_page(
        &self,
        table: EntryTable,
        after: Option<&str>,
        limit: usize,
        scope: ScanScope,
    ) -> impl Future<Output = Result<ScanPage, AdminError>> + Send;

    /// One page of `table`'s hit index, the most recent block first: at
    /// most `limit` items, from just after `after`, or from the newest.
    /// Eventually consistent (a global secondary index is): a call blocked
    /// a moment ago may not be in it yet.
    fn blocked_page(
        &self,
        table: EntryTable,
        after: Option<&HitKey>,
        limit: usize,
    ) -> impl Future<Output = Result<Page<HitKey>, AdminError>> + Send;

    /// Puts `after`, the change of `version` (or, with `None`, that
    /// change's tombstone for `target`) if what is stored meets `expected`.
    fn write_entry(
        &self,
        target: &Target,
        version: u64,
        after: Option<&Entry>,
        expected: &Precondition,
    ) -> impl Future<Output = Result<WriteOutcome, AdminError>> + Send;

    /// Appends an audit record unless one with its id exists: never
    /// overwrites ([`WriteOutcome::Conflict`] then).
    fn append_record(
        &self,
        record: &AuditRecord,
    ) -> impl Future<Output = Result<WriteOutcome, AdminError>> + Send;

    /// The head of the trail under `key` (a consistent read of its newest
    /// versioned records, until the newest claim).
    fn trail_head(&self, key: &str) -> impl Future<Output = Result<TrailHead, AdminError>> + Send;

    /// The audit records stored under `key` ([`Target::audit_key`]).
    fn audit_records(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<Vec<AuditRecord>, AdminError>> + Send;

    /// One rules-table item by key (a consistent read): the snapshot's.
    fn rules_item(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<Option<Item>, AdminError>> + Send;

    /// Puts a rules-table item (its key attribute included) if `expected` holds.
    fn put_rules_item(
        &self,
        item: Item,
        expected: &ItemPrecondition,
    ) -> impl Future<Output = Result<WriteOutcome, AdminError>> + Send;

    /// Deletes a rules-table item.
    fn delete_rules_item(&self, key: &str) -> impl Future<Output = Result<(), AdminError>> + Send;
}

/// [`AdminStore`] over DynamoDB.
#[derive(Debug, Clone)]
pub struct DynamoAdminStore {
    client: Client,
    tables: Tables,
}

impl DynamoAdminStore {
    pub fn new(client: Client, tables: Tables) -> Self {
        DynamoAdminStore { client, tables }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn tables(&self) -> &Tables {
        &self.tables
    }

    fn table(&self, table: EntryTable) -> &str {
        match table {
            EntryTable::Blocklist => &self.tables.blocklist,
            EntryTable::Rules => &self.tables.rules,
        }
    }
}

/// The key attribute of `table`'s items.
fn key_name(table: EntryTable) -> &'static str {
    match table {
        EntryTable::Blocklist => attr::PHONE_NUMBER,
        EntryTable::Rules => attr::RULE_KEY,
    }
}

/// A string attribute of `item`.
fn text(item: &Item, name: &str) -> Option<String> {
    match item.get(name) {
        Some(AttributeValue::S(v)) => Some(v.clone()),
        _ => None,
    }
}

/// A request's `Limit`: at least 1 (DynamoDB refuses 0).
fn request_limit(limit: usize) -> i32 {
    i32::try_from(limit.max(1)).unwrap_or(i32::MAX)
}

/// The entries among `items`, each with its place (`key_of`): snapshot
/// items, tombstones and items without a place left out.
fn entries_of<K>(items: &[Item], key_of: impl Fn(&Item) -> Option<K>) -> Vec<(K, Entry)> {
    items
        .iter()
        .filter(|item| !is_snapshot_item(item))
        .filter_map(|item| Some((key_of(item)?, stored_from_item(item).into_entry()?)))
        .collect()
}

/// Waits for one task of `tasks`; a task that panicked is an error on `table`.
async fn join_one<T: 'static>(
    tasks: &mut JoinSet<Result<T, AdminError>>,
    table: &str,
) -> Result<Option<T>, AdminError> {
    match tasks.join_next().await {
        None => Ok(None),
        Some(done) => done
            .map_err(|e| AdminError::Request {
                table: table.to_owned(),
                message: format!("a batch task failed: {e}"),
            })?
            .map(Some),
    }
}

/// A conditional request's result: a failed condition is a
/// [`WriteOutcome::Conflict`], not an error.
fn conditional<T, E, R>(
    table: &str,
    result: Result<T, SdkError<E, R>>,
) -> Result<WriteOutcome, AdminError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match result {
        Ok(_) => Ok(WriteOutcome::Written),
        Err(e) if e.code() == Some("ConditionalCheckFailedException") => Ok(WriteOutcome::Conflict),
        Err(e) => Err(AdminError::from_sdk(table, e)),
    }
}

impl AdminStore for DynamoAdminStore {
    async fn entry(&self, target: &Target) -> Result<Stored, AdminError> {
        let table = self.table(target.kind.table());
        let (key, value) = item_key(target.kind, &target.value);
        let out = self
            .client
            .get_item()
            .table_name(table)
            .key(key, AttributeValue::S(value))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| AdminError::from_sdk(table, e))?;
        Ok(out.item.as_ref().map(stored_from_item).unwrap_or_default())
    }

    async fn entries(&self, targets: &[Target]) -> Result<Vec<Entry>, AdminError> {
        let mut found = Vec::new();
        for table in EntryTable::ALL {
            let name = self.table(table);
            let keys: Vec<Item> = targets
                .iter()
                .filter(|t| t.kind.table() == table)
                .map(|t| {
                    let (key, value) = item_key(t.kind, &t.value);
                    HashMap::from([(key.to_owned(), AttributeValue::S(value))])
                })
                .collect();
            let mut tasks = JoinSet::new();
            for chunk in keys.chunks(GET_BATCH) {
                let (client, table, keys) = (self.client.clone(), name.to_owned(), chunk.to_vec());
                tasks.spawn(async move { get_batch(&client, &table, keys).await });
                if tasks.len() >= PARALLEL_BATCHES {
                    found.extend(join_one(&mut tasks, name).await?.into_iter().flatten());
                }
            }
            while let Some(items) = join_one(&mut tasks, name).await? {
                found.extend(items);
            }
        }
        Ok(found
            .iter()
            .filter_map(|item| stored_from_item(item).into_entry())
            .collect())
    }

    async fn scan(&self, table: EntryTable) -> Result<Vec<Entry>, AdminError> {
        let name = self.table(table);
        let mut entries = Vec::new();
        let mut pages = self.client.scan().table_name(name).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AdminError::from_sdk(name, e))?;
            entries.extend(
                page.items()
                    .iter()
                    .filter(|item| !is_snapshot_item(item))
                    .filter_map(|item| stored_from_item(item).into_entry()),
            );
        }
        Ok(entries)
    }

    async fn scan_page(
        &self,
        table: EntryTable,
        after: Option<&str>,
        limit: usize,
        scope: ScanScope,
    ) -> Result<ScanPage, AdminError> {
        let name = self.table(table);
        let key_name = key_name(table);
        let key_of = |item: &Item| text(item, key_name);
        let start =
            after.map(|k| HashMap::from([(key_name.to_owned(), AttributeValue::S(k.to_owned()))]));
        let request = self
            .client
            .scan()
            .table_name(name)
            .limit(request_limit(limit))
            .set_exclusive_start_key(start);
        let request = match scope {
            ScanScope::All => request,
            ScanScope::OutsideHitIndex => request
                .filter_expression("attribute_not_exists(#part)")
                .expression_attribute_names("#part", attr::HIT_PARTITION),
        };
        let out = request
            .send()
            .await
            .map_err(|e| AdminError::from_sdk(name, e))?;
        let items = out.items();
        Ok(ScanPage {
            entries: entries_of(items, key_of),
            // Read, not returned: a filter's misses count too.
            read: usize::try_from(out.scanned_count()).unwrap_or(items.len()),
            last: out.last_evaluated_key().and_then(key_of),
        })
    }

    async fn blocked_page(
        &self,
        table: EntryTable,
        after: Option<&HitKey>,
        limit: usize,
    ) -> Result<Page<HitKey>, AdminError> {
        let name = self.table(table);
        let key_name = key_name(table);
        let hit_key_of = |item: &Item| {
            Some(HitKey {
                at: text(item, attr::LAST_BLOCKED_AT)?,
                key: text(item, key_name)?,
            })
        };
        let start = after.map(|h| {
            HashMap::from([
                (
                    attr::HIT_PARTITION.to_owned(),
                    AttributeValue::S(HIT_PARTITION.to_owned()),
                ),
                (
                    attr::LAST_BLOCKED_AT.to_owned(),
                    AttributeValue::S(h.at.clone()),
                ),
                (key_name.to_owned(), AttributeValue::S(h.key.clone())),
            ])
        });
        let out = self
            .client
            .query()
            .table_name(name)
            .index_name(HIT_INDEX)
            .key_condition_expression("#part = :part")
            .expression_attribute_names("#part", attr::HIT_PARTITION)
            .expression_attribute_values(":part", AttributeValue::S(HIT_PARTITION.to_owned()))
            .scan_index_forward(false)
            .limit(request_limit(limit))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| AdminError::from_hit_index(name, e))?;
        let items = out.items();
        Ok(Page {
            entries: entries_of(items, hit_key_of),
            read: items.len(),
            last: out.last_evaluated_key().and_then(hit_key_of),
        })
    }

    async fn write_entry(
        &self,
        target: &Target,
        version: u64,
        after: Option<&Entry>,
        expected: &Precondition,
    ) -> Result<WriteOutcome, AdminError> {
        let table = self.table(target.kind.table());
        let (key_name, _) = item_key(target.kind, &target.value);
        let condition = expected.expression(key_name, version);
        // A remove puts its tombstone: nothing is ever deleted here.
        let item = match after {
            Some(entry) => with_hit_record(item_from_entry(entry), entry),
            None => tombstone_item(target.kind, &target.value, version, now_epoch()),
        };
        conditional(
            table,
            self.client
                .put_item()
                .table_name(table)
                .set_item(Some(item))
                .condition_expression(condition.expression)
                .set_expression_attribute_names(Some(condition.names))
                .set_expression_attribute_values(condition.values)
                .send()
                .await,
        )
    }

    async fn append_record(&self, record: &AuditRecord) -> Result<WriteOutcome, AdminError> {
        let table = &self.tables.audit;
        conditional(
            table,
            self.client
                .put_item()
                .table_name(table)
                .set_item(Some(record.to_item()))
                .condition_expression("attribute_not_exists(auditId)")
                .send()
                .await,
        )
    }

    async fn trail_head(&self, key: &str) -> Result<TrailHead, AdminError> {
        let table = &self.tables.audit;
        let mut head = TrailHead::default();
        // Newest first, versioned ids only (`v...`; older ids are times).
        let mut pages = self
            .client
            .query()
            .table_name(table)
            .key_condition_expression("phoneNumber = :n AND auditId >= :v")
            .expression_attribute_values(":n", AttributeValue::S(key.to_owned()))
            .expression_attribute_values(":v", AttributeValue::S("v".to_owned()))
            .scan_index_forward(false)
            .consistent_read(true)
            .limit(25)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AdminError::from_sdk(table, e))?;
            for record in page.items().iter().filter_map(AuditRecord::from_item) {
                if head.push(record) {
                    return Ok(head);
                }
            }
        }
        Ok(head)
    }

    async fn audit_records(&self, key: &str) -> Result<Vec<AuditRecord>, AdminError> {
        let table = &self.tables.audit;
        let mut records = Vec::new();
        let mut pages = self
            .client
            .query()
            .table_name(table)
            .key_condition_expression("phoneNumber = :n")
            .expression_attribute_values(":n", AttributeValue::S(key.to_owned()))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AdminError::from_sdk(table, e))?;
            records.extend(page.items().iter().filter_map(AuditRecord::from_item));
        }
        Ok(records)
    }

    async fn rules_item(&self, key: &str) -> Result<Option<Item>, AdminError> {
        let table = &self.tables.rules;
        Ok(self
            .client
            .get_item()
            .table_name(table)
            .key(attr::RULE_KEY, AttributeValue::S(key.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| AdminError::from_sdk(table, e))?
            .item)
    }

    async fn put_rules_item(
        &self,
        item: Item,
        expected: &ItemPrecondition,
    ) -> Result<WriteOutcome, AdminError> {
        let table = &self.tables.rules;
        let put = self
            .client
            .put_item()
            .table_name(table)
            .set_item(Some(item));
        let put = match expected {
            ItemPrecondition::None => put,
            ItemPrecondition::Absent => {
                put.condition_expression(format!("attribute_not_exists({})", attr::RULE_KEY))
            }
            ItemPrecondition::Version(version) => put
                .condition_expression("version = :expected")
                .expression_attribute_values(":expected", AttributeValue::S(version.clone())),
        };
        conditional(table, put.send().await)
    }

    async fn delete_rules_item(&self, key: &str) -> Result<(), AdminError> {
        let table = &self.tables.rules;
        self.client
            .delete_item()
            .table_name(table)
            .key(attr::RULE_KEY, AttributeValue::S(key.to_owned()))
            .send()
            .await
            .map_err(|e| AdminError::from_sdk(table, e))?;
        Ok(())
    }
}
