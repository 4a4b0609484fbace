//! The blocklist in memory, for unit tests and fuzzing (the `memory-store`
//! feature; always in this crate's tests). One value implements both
//! [`BlocklistStore`] (the Lambda's reads) and [`AdminStore`] (the admin's
//! writes) over shared state, so a test can change entries through
//! [`crate::admin::Admin`] and see what [`crate::checker::Checker`] answers.
//! Rules are read from the published snapshot, as in DynamoDB; faults can be
//! injected per operation. Model: aws-samples/serverless-rust-demo's
//! `store/memory.rs`.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use super::{BlocklistStore, StoreError, counter_key, load_published};
use crate::admin::AdminError;
use crate::admin::audit::{AuditRecord, TrailHead};
use crate::admin::fields::Target;
use crate::admin::store::{
    AdminStore, HitKey, ItemPrecondition, Page, Precondition, ScanPage, ScanScope, WriteOutcome,
};
use crate::entry::{Entry, EntryTable, Kind, Stored};
use crate::phone::E164;
use crate::rules::RuleSet;
use crate::snapshot::Item;
use crate::store::{attr, item_key};

/// What an operation does instead of answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fault {
    /// It answers (the default).
    #[default]
    None,
    /// It fails at once, as DynamoDB's InternalServerError would.
    Fail,
    /// It never answers: only a deadline ends it.
    Hang,
}

/// The faults to inject, per operation.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// The Lambda's exact lookup of a number ending in one of these suffixes.
    pub lookups_ending: Vec<(String, Fault)>,
    /// Loading the published rules.
    pub rules: Fault,
    /// Counting a blocked call.
    pub hits: Fault,
    /// Counting a call for the rate limit.
    pub counts: Fault,
    /// Every admin read and write.
    pub admin: Fault,
}

#[derive(Debug, Default)]
struct State {
    /// What both tables store (entries and tombstones), by kind and value.
    entries: BTreeMap<(Kind, String), Stored>,
    /// The audit table, by key then audit id.
    audit: BTreeMap<(String, String), AuditRecord>,
    /// The rules table's snapshot items, by `ruleKey`.
    rules_items: HashMap<String, Item>,
    /// How many times the rules were loaded (or tried).
    rules_loads: usize,
    /// The counters table: calls by counter key.
    counters: HashMap<String, u64>,
}

/// The blocklist, rules and audit tables in memory. Clones share the
/// tables and the faults; [`MemoryStore::with_faults`] shares only the tables.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
    faults: Arc<Mutex<Faults>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        MemoryStore::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stores `entry` as it is, with no checks and no audit record: for
    /// setting up odd shapes an admin could not write.
    pub fn insert(&self, entry: Entry) {
        let key = (entry.kind, entry.value.clone());
        self.state()
            .entries
            .insert(key, Stored::Entry(Box::new(entry)));
    }

    /// Every stored entry (tombstones left out), by kind then value.
    pub fn entries(&self) -> Vec<Entry> {
        self.state()
            .entries
            .values()
            .filter_map(|s| s.entry().cloned())
            .collect()
    }

    /// Every audit record, by key then time.
    pub fn audit(&self) -> Vec<AuditRecord> {
        self.state().audit.values().cloned().collect()
    }

    /// How many times [`BlocklistStore::load_rules`] was called.
    pub fn rules_loads(&self) -> usize {
        self.state().rules_loads
    }

    /// Replaces the faults to inject (for this store and its clones).
    pub fn set_faults(&self, faults: Faults) {
        *self.faults.lock().unwrap_or_else(|p| p.into_inner()) = faults;
    }

    /// A store over the same tables with faults of its own.
    pub fn with_faults(&self, faults: Faults) -> MemoryStore {
        MemoryStore {
            state: Arc::clone(&self.state),
            faults: Arc::new(Mutex::new(faults)),
        }
    }

    fn fault(&self, pick: impl Fn(&Faults) -> Fault) -> Fault {
        pick(&self.faults.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// What is stored under `kind` `value`, tombstones included.
    fn get_stored(&self, kind: Kind, value: &str) -> Stored {
        self.state()
            .entries
            .get(&(kind, value.to_owned()))
            .cloned()
            .unwrap_or_default()
    }

    /// The entry stored under `kind` `value`, if any (a tombstone is none).
    fn get_entry(&self, kind: Kind, value: &str) -> Option<Entry> {
        self.get_stored(kind, value).into_entry()
    }

    /// Fails or hangs an admin operation as the faults say. Each operation
    /// first yields, as a request to DynamoDB would, so that concurrent
    /// writers interleave between operations as they do for real.
    async fn admin_op(&self) -> Result<(), AdminError> {
        tokio::task::yield_now().await;
        match self.fault(|f| f.admin) {
            Fault::None => Ok(()),
            Fault::Fail => Err(AdminError::Request {
                table: "memory".to_owned(),
                message: "InternalServerError (injected)".to_owned(),
            }),
            Fault::Hang => std::future::pending().await,
        }
    }
}

/// Fails or hangs a Lambda read as `fault` says.
async fn read_op(fault: Fault, what: &str) -> Result<(), StoreError> {
    match fault {
        Fault::None => Ok(()),
        Fault::Fail => Err(StoreError::Request {
            table: "memory".to_owned(),
            message: format!("{what}: InternalServerError (injected)"),
        }),
        Fault::Hang => std::future::pending().await,
    }
}

impl BlocklistStore for MemoryStore {
    async fn get(&self, number: &E164) -> Result<Option<Entry>, StoreError> {
        let n = number.as_str();
        let fault = self.fault(|f| {
            f.lookups_ending
                .iter()
                .find(|(suffix, _)| n.ends_with(suffix.as_str()))
                .map_or(Fault::None, |(_, fault)| *fault)
        });
        read_op(fault, "GetItem").await?;
        Ok(self.get_entry(Kind::Block, n))
    }

    async fn load_rules(&self) -> Result<RuleSet, StoreError> {
        self.state().rules_loads += 1;
        read_op(self.fault(|f| f.rules), "rules").await?;
        load_published("memory", |key| {
            let item = self.state().rules_items.get(&key).cloned();
            async move { Ok(item) }
        })
        .await
    }

    async fn record_hit(&self, kind: Kind, value: &str, at: &str) -> Result<(), StoreError> {
        read_op(self.fault(|f| f.hits), "UpdateItem").await?;
        let mut state = self.state();
        // As the conditional UpdateItem: never creates an entry, and never
        // counts on a tombstone.
        let entry = match state.entries.get_mut(&(kind, value.to_owned())) {
            Some(Stored::Entry(entry)) => Some(entry),
            Some(Stored::Absent | Stored::Removed { .. }) | None => None,
        }
        .ok_or_else(|| StoreError::Request {
            table: "memory".to_owned(),
            message: "ConditionalCheckFailedException".to_owned(),
        })?;
        entry.block_count = Some(entry.block_count.unwrap_or(0) + 1);
        entry.last_blocked_at = Some(at.to_owned());
        Ok(())
    }

    async fn count_call(
        &self,
        number: &E164,
        window_start: i64,
        _expires_at: i64,
    ) -> Result<u64, StoreError> {
        read_op(self.fault(|f| f.counts), "UpdateItem").await?;
        let mut state = self.state();
        let calls = state
            .counters
            .entry(counter_key(number, window_start))
            .or_default();
        *calls += 1;
        Ok(*calls)
    }
}

impl AdminStore for MemoryStore {
    async fn entry(&self, target: &Target) -> Result<Stored, AdminError> {
        self.admin_op().await?;
        Ok(self.get_stored(target.kind, &target.value))
    }

    async fn entries(&self, targets: &[Target]) -> Result<Vec<Entry>, AdminError> {
        self.admin_op().await?;
        Ok(targets
            .iter()
            .filter_map(|t| self.get_entry(t.kind, &t.value))
            .collect())
    }

    async fn scan(&self, table: EntryTable) -> Result<Vec<Entry>, AdminError> {
        self.admin_op().await?;
        let state = self.state();
        Ok(state
            .entries
            .values()
            .filter_map(Stored::entry)
            .filter(|e| e.kind.table() == table)
            .cloned()
            .collect())
    }

    async fn scan_page(
        &self,
        table: EntryTable,
        after: Option<&str>,
        limit: usize,
        scope: ScanScope,
    ) -> Result<ScanPage, AdminError> {
        self.admin_op().await?;
        let state = self.state();
        // Items in key order (DynamoDB's is by the key's hash: an order
        // just as arbitrary to the reader), the snapshot items among them.
        let mut items: Vec<(String, Option<&Entry>)> = state
            .entries
            .iter()
            .filter(|((kind, _), _)| kind.table() == table)
            .map(|((kind, value), stored)| (item_key(*kind, value).1, stored.entry()))
            .collect();
        if table == EntryTable::Rules {
            items.extend(state.rules_items.keys().map(|k| (k.clone(), None)));
        }
        items.sort_by(|a, b| a.0.cmp(&b.0));
        items.retain(|(key, _)| after.is_none_or(|a| key.as_str() > a));
        let mut page = page_of(items, limit);
        // As the Scan's filter: read (and counted), not returned.
        match scope {
            ScanScope::All => {}
            ScanScope::OutsideHitIndex => page.entries.retain(|(_, e)| e.last_blocked_at.is_none()),
        }
        Ok(page)
    }

    async fn blocked_page(
        &self,
        table: EntryTable,
        after: Option<&HitKey>,
        limit: usize,
    ) -> Result<Page<HitKey>, AdminError> {
        self.admin_op().await?;
        let state = self.state();
        // The index holds what has blocked (a hit sets `last_blocked_at`;
        // writes drop it, as a Put of the whole item does), newest first.
        let mut items: Vec<(HitKey, Option<&Entry>)> = state
            .entries
            .iter()
            .filter(|((kind, _), _)| kind.table() == table)
            .filter_map(|((kind, value), stored)| {
                let entry = stored.entry()?;
                let at = entry.last_blocked_at.clone()?;
                Some((
                    HitKey {
                        at,
                        key: item_key(*kind, value).1,
                    },
                    Some(entry),
                ))
            })
            .collect();
        items.sort_by(|a, b| b.0.cmp(&a.0));
        items.retain(|(key, _)| after.is_none_or(|a| key < a));
        Ok(page_of(items, limit))
    }

    async fn write_entry(
        &self,
        target: &Target,
        version: u64,
        after: Option<&Entry>,
        expected: &Precondition,
    ) -> Result<WriteOutcome, AdminError> {
        self.admin_op().await?;
        let mut state = self.state();
        let key = (target.kind, target.value.clone());
        let current = state.entries.get(&key).cloned().unwrap_or_default();
        if !expected.holds_for(&current, version) {
            return Ok(WriteOutcome::Conflict);
        }
        // As DynamoDB's Put of the whole item: what the write carries, the
        // hit record the change kept included.
        let after = after.cloned();
        state
            .entries
            .insert(key, Stored::after_change(after.as_ref(), version));
        Ok(WriteOutcome::Written)
    }

    async fn append_record(&self, record: &AuditRecord) -> Result<WriteOutcome, AdminError> {
        self.admin_op().await?;
        // Stored as DynamoDB would: through its item (hit counts dropped).
        let Some(record) = AuditRecord::from_item(&record.to_item()) else {
            return Err(AdminError::Request {
                table: "memory".to_owned(),
                message: "an audit record that does not read back".to_owned(),
            });
        };
        let key = (record.key.clone(), record.audit_id.clone());
        let mut state = self.state();
        if state.audit.contains_key(&key) {
            return Ok(WriteOutcome::Conflict);
        }
        state.audit.insert(key, record);
        Ok(WriteOutcome::Written)
    }

    async fn trail_head(&self, key: &str) -> Result<TrailHead, AdminError> {
        self.admin_op().await?;
        let state = self.state();
        let mut head = TrailHead::default();
        let newest_first = state
            .audit
            .range((key.to_owned(), "v".to_owned())..)
            .take_while(|((k, _), _)| k == key)
            .map(|(_, r)| r.clone())
            .collect::<Vec<_>>();
        for record in newest_first.into_iter().rev() {
            if head.push(record) {
                break;
            }
        }
        Ok(head)
    }

    async fn audit_records(&self, key: &str) -> Result<Vec<AuditRecord>, AdminError> {
        self.admin_op().await?;
        let state = self.state();
        Ok(state
            .audit
            .values()
            .filter(|r| r.key == key)
            .cloned()
            .collect())
    }

    async fn rules_item(&self, key: &str) -> Result<Option<Item>, AdminError> {
        self.admin_op().await?;
        Ok(self.state().rules_items.get(key).cloned())
    }

    async fn put_rules_item(
        &self,
        item: Item,
        expected: &ItemPrecondition,
    ) -> Result<WriteOutcome, AdminError> {
        self.admin_op().await?;
        let Some(aws_sdk_dynamodb::types::AttributeValue::S(key)) = item.get(attr::RULE_KEY) else {
            return Err(AdminError::Request {
                table: "memory".to_owned(),
                message: format!("a rules-table item needs a string `{}`", attr::RULE_KEY),
            });
        };
        let key = key.clone();
        let mut state = self.state();
        let current = state.rules_items.get(&key);
        let holds = match expected {
            ItemPrecondition::None => true,
            ItemPrecondition::Absent => current.is_none(),
            ItemPrecondition::Version(v) => current.is_some_and(|c| {
                matches!(c.get("version"), Some(aws_sdk_dynamodb::types::AttributeValue::S(s)) if s == v)
            }),
        };
        if !holds {
            return Ok(WriteOutcome::Conflict);
        }
        state.rules_items.insert(key, item);
        Ok(WriteOutcome::Written)
    }

    async fn delete_rules_item(&self, key: &str) -> Result<(), AdminError> {
        self.admin_op().await?;
        self.state().rules_items.remove(key);
        Ok(())
    }
}

/// The first `limit` of `items` (at least one), in order, as a page: its
/// entries (items with none, such as snapshot items, are read but not
/// returned) and, when items remain, the last one read.
fn page_of<K: Clone>(items: Vec<(K, Option<&Entry>)>, limit: usize) -> Page<K> {
    let read = items.len().min(limit.max(1));
    let last = (items.len() > read).then(|| items[read - 1].0.clone());
    Page {
        entries: items
            .into_iter()
            .take(read)
            .filter_map(|(key, entry)| Some((key, entry?.clone())))
            .collect(),
        read,
        last,
    }
}
