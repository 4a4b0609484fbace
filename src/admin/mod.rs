//! Admin operations on the blocklist, each change with its audit record:
//! what the `blocklist` CLI (and the report function) do, without argument
//! parsing and output.
//!
//! Every operation reads what is stored, plans the change with a pure
//! function of [`plan`], and writes it through an [`AdminStore`]: the
//! DynamoDB tables in production, `store::memory::MemoryStore` (the `memory-store` feature) in
//! unit tests.
//!
//! The write protocol ([`write`]): a change first claims the entry's next
//! version by appending its audit record (only one writer can claim a
//! version), then writes the entry only if it is still at the version read.
//! So no entry ever changes without its record, two writers never both
//! record a change to the same version, and a change that did not happen
//! (lost claim, entry changed meanwhile, writer stopped) is marked by an
//! `abort` record. The trail is append-only: records are never overwritten
//! or deleted. See [`audit`] for the ids and [`audit::replay`].

pub mod audit;
pub mod batch;
pub mod fields;
pub mod import;
pub mod plan;
pub mod publish;
pub mod reports;
pub mod store;
pub mod tables;
pub mod write;

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

use crate::entry::{Entry, EntryTable, Kind};
use crate::phone::Normalizer;
use crate::store::{StoreError, sdk_error};
use crate::when::{TimeError, now_epoch, rfc3339};
use audit::{AuditRecord, Author};
pub use fields::{ActionProblem, EntryFields, Target, TargetError, parse_target};
use store::{AdminStore, DynamoAdminStore};

/// An admin operation failed; the message says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error("{} {} already exists (reason: {}, since {}{}); use --replace to overwrite it",
        .entry.kind, .entry.value,
        .entry.reason.as_deref().unwrap_or("none"),
        .entry.created_at.as_deref().unwrap_or("unknown"),
        .entry.expires_at.map(|e| format!(", expires {}", rfc3339(e))).unwrap_or_default())]
    AlreadyExists { entry: Box<Entry> },
    #[error("there is no {kind} entry for {value}")]
    NotFound { kind: Kind, value: String },
    #[error(
        "the change was saved, but publishing the rules for the Lambda failed: {0}; run `blocklist publish-rules`"
    )]
    Unpublished(Box<AdminError>),
    #[error("{value} has no pending report (see `blocklist pending`)")]
    NotPending { value: String },
    #[error(
        "there is no monitoring {kind} entry for {value} (`blocklist list` shows each entry's mode)"
    )]
    NotMonitoring { kind: Kind, value: String },
    #[error("{value} was changed by someone else while this command ran; run it again")]
    Conflict { value: String },
    #[error("the expiry {} is already in the past", rfc3339(*.0))]
    ExpiryInPast(i64),
    #[error(transparent)]
    InvalidAction(#[from] ActionProblem),
    #[error(transparent)]
    Time(#[from] TimeError),
    #[error(
        "table `{table}` does not exist: run `blocklist init` (local) or deploy template.yaml, or pass --table/--rules-table/--audit-table"
    )]
    TableNotFound { table: String },
    #[error(
        "table `{table}` has no `byLastBlock` index, which the list in last-block order reads: run `blocklist init` against it (it adds the index to an existing table), or update the stack (README: Upgrading)"
    )]
    NoHitIndex { table: String },
    #[error("DynamoDB request on `{table}` failed: {message}")]
    Request { table: String, message: String },
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for AdminError {
    fn from(err: StoreError) -> AdminError {
        match err {
            StoreError::TableNotFound { table } => AdminError::TableNotFound { table },
            StoreError::Request { table, message } => AdminError::Request { table, message },
            StoreError::UnreadableRules { .. } => AdminError::Store(err),
        }
    }
}

impl AdminError {
    pub(crate) fn from_sdk<E, R>(table: &str, err: SdkError<E, R>) -> AdminError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        AdminError::from(sdk_error(table, err))
    }

    /// As [`AdminError::from_sdk`], for a Query of the hit index: a table
    /// without the index says so. DynamoDB calls that a validation error
    /// ("The table does not have the specified index"), moto a missing
    /// resource ("Invalid index"): either, when the message names an index.
    pub(crate) fn from_hit_index<E, R>(table: &str, err: SdkError<E, R>) -> AdminError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        let no_index = matches!(
            err.code(),
            Some("ValidationException" | "ResourceNotFoundException")
        ) && err.message().is_some_and(|m| m.contains("index"));
        if no_index {
            return AdminError::NoHitIndex {
                table: table.to_owned(),
            };
        }
        AdminError::from_sdk(table, err)
    }
}

/// The result of `add`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Added {
    pub entry: Entry,
    /// The entry this one replaced (`--replace`, or an expired one).
    pub replaced: Option<Entry>,
}

/// Table names the admin works on.
#[derive(Debug, Clone)]
pub struct Tables {
    /// Exact blocks (and pending reports).
    pub blocklist: String,
    /// Prefix rules and allow entries.
    pub rules: String,
    /// The audit trail.
    pub audit: String,
}

/// Admin access to the entries and their audit trail, through `S`.
#[derive(Debug, Clone)]
pub struct Admin<S = DynamoAdminStore> {
    store: S,
    author: Author,
    normalizer: Normalizer,
}

impl Admin<DynamoAdminStore> {
    /// An admin over the DynamoDB tables `tables`, recording `actor`.
    pub fn new(client: Client, tables: Tables, actor: &str, normalizer: Normalizer) -> Self {
        Admin::with_store(DynamoAdminStore::new(client, tables), actor, normalizer)
    }

    pub fn client(&self) -> &Client {
        self.store.client()
    }

    pub fn tables(&self) -> &Tables {
        self.store.tables()
    }
}

impl<S: AdminStore> Admin<S> {
    /// An admin over any store, recording `actor`.
    pub fn with_store(store: S, actor: &str, normalizer: Normalizer) -> Self {
        Admin {
            store,
            author: Author {
                actor: actor.to_owned(),
                identity: None,
            },
            normalizer,
        }
    }

    /// Records `identity` (the caller's AWS identity, an ARN) beside the
    /// self-described actor in every audit record.
    pub fn with_identity(mut self, identity: Option<String>) -> Self {
        self.author.identity = identity;
        self
    }

    /// The same admin recording `author` instead: the deployed console
    /// acts for each request's verified token, not for one process owner.
    pub fn with_author(mut self, author: Author) -> Self {
        self.author = author;
        self
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    pub fn actor(&self) -> &str {
        &self.author.actor
    }

    pub fn author(&self) -> &Author {
        &self.author
    }

    pub fn normalizer(&self) -> &Normalizer {
        &self.normalizer
    }

    /// Reads `input` as the value of a `kind` entry: see [`parse_target`].
    pub fn target(&self, kind: Kind, input: &str) -> Result<Target, AdminError> {
        Ok(parse_target(&self.normalizer, kind, input)?)
    }

    /// The stored entry for `target`, expired or not (a consistent read;
    /// a removed entry's tombstone is none).
    pub async fn get(&self, target: &Target) -> Result<Option<Entry>, AdminError> {
        Ok(self.store.entry(target).await?.into_entry())
    }

    /// Adds an entry. An active one is only overwritten with `replace`; an
    /// expired or pending one is replaced.
    pub async fn add(
        &self,
        target: &Target,
        fields: EntryFields,
        replace: bool,
    ) -> Result<Added, AdminError> {
        // The time the command was given: an expiry of `1s` is checked
        // against it, not against the time the read came back.
        let now = now_epoch();
        let change = self
            .change(target, |stored| {
                plan::add(target, fields, replace, stored, self.actor(), now).map(Some)
            })
            .await?;
        self.publish_if_rules([target.kind]).await?;
        let (replaced, entry) = change.map(|c| (c.before, c.after)).unwrap_or_default();
        Ok(Added {
            // `plan::add` always stores an entry.
            entry: entry.unwrap_or_default(),
            replaced,
        })
    }

    /// Removes the entry for `target`, returning it.
    pub async fn remove(&self, target: &Target, reason: Option<&str>) -> Result<Entry, AdminError> {
        let change = self
            .change(target, |stored| {
                plan::remove(target, reason, stored).map(Some)
            })
            .await?;
        self.publish_if_rules([target.kind]).await?;
        // `plan::remove` always has the entry it removes.
        Ok(change.and_then(|c| c.before).unwrap_or_default())
    }

    /// Makes the monitoring entry for `target` block, returning it as stored.
    pub async fn promote(
        &self,
        target: &Target,
        reason: Option<&str>,
    ) -> Result<Entry, AdminError> {
        let change = self
            .change(target, |stored| {
                plan::promote(target, reason, stored).map(Some)
            })
            .await?;
        self.publish_if_rules([target.kind]).await?;
        // `plan::promote` always has the entry it stores.
        Ok(change.and_then(|c| c.after).unwrap_or_default())
    }

    /// Republishes the rules after changes to entries of `kinds`, if any
    /// of them is a rule (exact blocks need no publish).
    pub(crate) async fn publish_if_rules(
        &self,
        kinds: impl IntoIterator<Item = Kind>,
    ) -> Result<(), AdminError> {
        let rules_changed = kinds.into_iter().any(|k| k.table() == EntryTable::Rules);
        if !rules_changed {
            return Ok(());
        }
        self.publish_rules()
            .await
            .map(|_| ())
            .map_err(|e| AdminError::Unpublished(Box::new(e)))
    }

    /// Every entry of both tables, sorted by kind then value; expired ones
    /// only with `include_expired`.
    pub async fn list(&self, include_expired: bool) -> Result<Vec<Entry>, AdminError> {
        let now = now_epoch();
        let mut entries = Vec::new();
        for table in EntryTable::ALL {
            entries.extend(
                self.store
                    .scan(table)
                    .await?
                    .into_iter()
                    .filter(|e| include_expired || !e.is_expired_at(now)),
            );
        }
        entries.sort_by(|a, b| (a.kind, &a.value).cmp(&(b.kind, &b.value)));
        Ok(entries)
    }

    /// The audit records of `targets`, newest first: by time across the
    /// targets' trails, by id (version) within one.
    pub async fn history(&self, targets: &[Target]) -> Result<Vec<AuditRecord>, AdminError> {
        let mut records = Vec::new();
        for target in targets {
            records.extend(self.store.audit_records(&target.audit_key()).await?);
        }
        records.sort_by(|a, b| (&b.at, &b.audit_id).cmp(&(&a.at, &a.audit_id)));
        Ok(records)
    }

    /// The stored entries of `targets`, by target.
    pub(crate) async fn existing(
        &self,
        targets: &[Target],
    ) -> Result<HashMap<Target, Entry>, AdminError> {
        let found = self.store.entries(targets).await?;
        Ok(found.into_iter().map(|e| (Target::of(&e), e)).collect())
    }
}

/// What the admin module's unit tests share.
#[cfg(test)]
pub(crate) mod test_support {
    use super::*;
    use crate::store::memory::MemoryStore;

    /// An admin over `store`, recording `actor`.
    pub fn admin(store: &MemoryStore, actor: &str) -> Admin<MemoryStore> {
        Admin::with_store(store.clone(), actor, Normalizer::default())
    }

    /// Entry fields with only a reason.
    pub fn reason(r: &str) -> EntryFields {
        EntryFields {
            reason: Some(r.into()),
            ..EntryFields::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::{admin, reason};
    use super::*;
    use crate::admin::audit::AuditAction;
    use crate::admin::plan::ReportPolicy;
    use crate::entry::Status;
    use crate::store::BlocklistStore;
    use crate::store::memory::{Fault, Faults, MemoryStore};

    fn actions(records: &[AuditRecord]) -> Vec<AuditAction> {
        records.iter().map(|r| r.action).collect()
    }

    #[tokio::test]
    async fn add_replace_remove_each_leave_one_audit_record_before_and_after() {
        let store = MemoryStore::new();
        let admin = admin(&store, "alice");
        let t = admin.target(Kind::Block, "(415) 555-0123").unwrap();
        let added = admin.add(&t, reason("spam"), false).await.unwrap();
        assert_eq!(added.replaced, None);
        let err = admin.add(&t, reason("again"), false).await.unwrap_err();
        assert!(matches!(err, AdminError::AlreadyExists { .. }), "{err}");
        let replaced = admin.add(&t, reason("fraud"), true).await.unwrap();
        assert_eq!(replaced.replaced.as_ref(), Some(&added.entry));
        let removed = admin.remove(&t, Some("resolved")).await.unwrap();
        assert_eq!(removed, replaced.entry);
        assert_eq!(store.entries(), vec![]);

        let history = admin.history(std::slice::from_ref(&t)).await.unwrap();
        assert_eq!(
            actions(&history),
            [AuditAction::Remove, AuditAction::Replace, AuditAction::Add]
        );
        // Each record's `before` is the previous record's `after`, and the
        // versions count up from 1.
        for pair in history.windows(2) {
            assert_eq!(pair[0].before, pair[1].after);
        }
        let ids: Vec<&str> = history.iter().map(|r| r.audit_id.as_str()).collect();
        assert_eq!(ids, ["v000000000003", "v000000000002", "v000000000001"]);
        assert_eq!(audit::replay(&history), Ok(None));
        assert!(
            history
                .iter()
                .all(|r| r.actor == "alice" && r.source == "cli")
        );
    }

    #[tokio::test]
    async fn a_rule_change_is_published_for_the_lambda() {
        let store = MemoryStore::new();
        let admin = admin(&store, "alice");
        let prefix = admin.target(Kind::Prefix, "+1 900").unwrap();
        admin.add(&prefix, reason("premium"), false).await.unwrap();
        let rules = store.load_rules().await.unwrap();
        assert_eq!(
            rules
                .block_prefix_for("+19005550100", None, 0)
                .map(|e| e.value.as_str()),
            Some("+1900")
        );
        admin.remove(&prefix, None).await.unwrap();
        let rules = store.load_rules().await.unwrap();
        assert_eq!(rules.counts(), (0, 0, 0));
        // Exact blocks are not part of the snapshot.
        let exact = admin.target(Kind::Block, "+14155550123").unwrap();
        admin.add(&exact, reason("spam"), false).await.unwrap();
        assert_eq!(store.load_rules().await.unwrap().counts(), (0, 0, 0));
    }

    #[tokio::test]
    async fn reports_wait_for_an_admin_and_approval_makes_them_block() {
        let store = MemoryStore::new();
        let agent = admin(&store, "agent:ann");
        let t = agent.target(Kind::Block, "+14155550177").unwrap();
        let outcome = agent
            .report(&t, Some("c-9"), None, &ReportPolicy::default())
            .await
            .unwrap();
        assert_eq!(outcome.status(), "pending");
        let again = agent
            .report(&t, Some("c-10"), None, &ReportPolicy::default())
            .await
            .unwrap();
        assert_eq!(again.status(), "alreadyPending");
        let supervisor = admin(&store, "sue");
        assert_eq!(supervisor.pending().await.unwrap().len(), 1);
        let approved = supervisor.approve(&t, Some("confirmed")).await.unwrap();
        assert_eq!(approved.status, Status::Active);
        let after = agent
            .report(&t, None, None, &ReportPolicy::default())
            .await
            .unwrap();
        assert_eq!(after.status(), "alreadyBlocked");
        let err = supervisor.reject(&t, None).await.unwrap_err();
        assert!(matches!(err, AdminError::NotPending { .. }), "{err}");
        // The report's own trail: reported, then closed by the approval;
        // the number's trail: the block the approval made.
        let report_t = t.as_kind(Kind::Report);
        let reports = supervisor
            .history(std::slice::from_ref(&report_t))
            .await
            .unwrap();
        assert_eq!(
            actions(&reports),
            [AuditAction::Approve, AuditAction::Report]
        );
        assert_eq!(reports[1].actor, "agent:ann");
        assert_eq!(reports[1].source, "report contact c-9");
        assert_eq!(reports[1].key, "report#+14155550177");
        let blocks = supervisor.history(&[t]).await.unwrap();
        assert_eq!(actions(&blocks), [AuditAction::Approve]);
        assert_eq!(
            blocks[0].after.as_ref().unwrap().contact_id.as_deref(),
            Some("c-9")
        );
        assert!(
            store.entries().iter().all(|e| e.kind != Kind::Report),
            "the report is closed"
        );
    }

    /// With auto-block on, the third distinct agent's report within the
    /// window blocks the number with the rule's expiry; an agent reporting
    /// again does not count twice; the trails say why. Reports that raced
    /// each other join one report rather than fail.
    #[tokio::test]
    async fn distinct_agents_reports_block_by_themselves() {
        use crate::admin::plan::AutoBlock;
        use crate::checker::Checker;
        let store = MemoryStore::new();
        let policy = ReportPolicy {
            block_now: false,
            auto_block: Some(AutoBlock {
                threshold: 3,
                window_seconds: 24 * 3600,
                expires_seconds: 30 * 86_400,
            }),
        };
        let t = admin(&store, "x")
            .target(Kind::Block, "+14155550177")
            .unwrap();
        let report = |agent: &str| {
            let (agent, t) = (admin(&store, agent), t.clone());
            async move { agent.report(&t, Some("c-1"), None, &policy).await.unwrap() }
        };
        assert_eq!(report("agent:ann").await.status(), "pending");
        assert_eq!(report("agent:ann").await.status(), "alreadyPending");
        assert_eq!(report("agent:bob").await.status(), "pending");
        assert_eq!(report("agent:bob").await.status(), "alreadyPending");
        let third = report("agent:cat").await;
        let reports::ReportOutcome::AutoBlocked(block) = &third else {
            panic!("the third agent blocks: {third:?}");
        };
        assert_eq!(third.status(), "blocked");
        let expires = block.expires_at.unwrap() - now_epoch();
        assert!(
            (30 * 86_400 - 5..=30 * 86_400).contains(&expires),
            "{expires}"
        );
        assert_eq!(report("agent:dan").await.status(), "alreadyBlocked");

        let config = crate::config::Config::from_lookup(|_| None).unwrap();
        let checker = Checker::new(store.clone(), &config);
        let checked = checker.check(Some("+14155550177"), None, now_epoch()).await;
        assert!(checked.answer.is_blocked);

        let history = admin(&store, "x")
            .history(std::slice::from_ref(&t))
            .await
            .unwrap();
        assert_eq!(actions(&history), [AuditAction::AutoBlock]);
        let why = history[0].reason.as_deref().unwrap();
        assert!(
            why.contains("3 agents") && why.contains("agent:ann, agent:bob, agent:cat"),
            "{why}"
        );
        assert_eq!(history[0].actor, "agent:cat");
        let report_t = t.as_kind(Kind::Report);
        let reports = admin(&store, "x").history(&[report_t]).await.unwrap();
        assert_eq!(
            actions(&reports),
            [
                AuditAction::AutoBlock,
                AuditAction::Report,
                AuditAction::Report,
                AuditAction::Report
            ]
        );
        assert!(
            store.entries().iter().all(|e| e.kind != Kind::Report),
            "closed"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn agents_reporting_at_once_join_one_report() {
        let store = MemoryStore::new();
        let t = admin(&store, "x")
            .target(Kind::Block, "+14155550178")
            .unwrap();
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..6 {
            let (agent, t) = (admin(&store, &format!("agent:{i}")), t.clone());
            tasks
                .spawn(async move { agent.report(&t, None, None, &ReportPolicy::default()).await });
        }
        while let Some(done) = tasks.join_next().await {
            assert_eq!(done.unwrap().unwrap().status(), "pending");
        }
        let reports = store.entries();
        assert_eq!(reports.len(), 1);
        assert_eq!(reports[0].reported_by.len(), 6, "{reports:?}");
    }

    #[tokio::test]
    async fn import_writes_each_row_with_its_record_and_is_idempotent() {
        let store = MemoryStore::new();
        let admin = admin(&store, "alice");
        let csv = "phoneNumber,kind,reason\n+14155550123,,spam\n+1900,prefix,premium\n+1 415 555 0100,allow,vip\nnope,,x\n";
        let parsed = import::parse_csv(
            csv.as_bytes(),
            admin.normalizer(),
            &import::ImportDefaults::default(),
        )
        .unwrap();
        assert_eq!(parsed.rejected.len(), 1);
        let mut seen = Vec::new();
        let summary = admin
            .import(&parsed, "f.csv", false, |n| seen.push(n))
            .await
            .unwrap();
        assert_eq!((summary.written, summary.unchanged), (3, 0));
        assert_eq!(seen, [1, 2, 3], "progress after each row written");
        assert_eq!(store.entries().len(), 3);
        assert_eq!(store.audit().len(), 3);
        assert_eq!(store.load_rules().await.unwrap().counts(), (1, 1, 0));
        let again = admin.import(&parsed, "f.csv", false, |_| {}).await.unwrap();
        assert_eq!((again.written, again.unchanged), (0, 3));
        assert_eq!(store.audit().len(), 3, "an unchanged row writes nothing");
        let dry = admin.import(&parsed, "f.csv", true, |_| {}).await.unwrap();
        assert!(dry.dry_run);
    }

    /// The console applies a file a part at a time: the parts, one after
    /// the other, write and audit exactly what the whole file does in one
    /// go (a pair of rows of one entry split across parts included), and
    /// their summaries add up to its summary.
    #[tokio::test]
    async fn a_file_imported_in_parts_writes_what_it_does_whole() {
        let csv = "phoneNumber,kind,reason\n+14155550123,,first\n+1900,prefix,premium\n\
                   nope,,x\n(415) 555-0123,,second\n+1 415 555 0100,allow,vip\n";
        let parse = |admin: &Admin<MemoryStore>| {
            let defaults = import::ImportDefaults::default();
            import::parse_csv(csv.as_bytes(), admin.normalizer(), &defaults).unwrap()
        };
        let (whole_store, parts_store) = (MemoryStore::new(), MemoryStore::new());
        let one = admin(&whole_store, "alice");
        let whole = one
            .import(&parse(&one), "f.csv", false, |_| {})
            .await
            .unwrap();
        let by_parts = admin(&parts_store, "alice");
        let parsed = parse(&by_parts);
        let mut sum = import::ImportSummary::default();
        for range in [0..2, 2..4, 4..5] {
            let part = parsed.rows_in(range).unwrap();
            let s = by_parts
                .import(&part, "f.csv", false, |_| {})
                .await
                .unwrap();
            sum.read += s.read;
            sum.valid += s.valid;
            sum.rejected += s.rejected;
            sum.duplicates += s.duplicates;
            sum.unchanged += s.unchanged;
            sum.written += s.written;
            sum.conflicts += s.conflicts;
        }
        assert_eq!(sum, whole);
        assert_eq!((whole.written, whole.duplicates, whole.rejected), (3, 1, 1));
        let entries = |store: &MemoryStore| -> Vec<_> {
            let e = store.entries();
            e.iter()
                .map(|e| (e.kind, e.value.clone(), e.reason.clone()))
                .collect()
        };
        assert_eq!(entries(&parts_store), entries(&whole_store));
        let records = |store: &MemoryStore| -> Vec<_> {
            let r = store.audit();
            r.iter()
                .map(|r| (r.key.clone(), r.action, r.source.clone(), r.reason.clone()))
                .collect()
        };
        assert_eq!(records(&parts_store), records(&whole_store));
        let sources: Vec<String> = records(&parts_store).into_iter().map(|r| r.2).collect();
        assert!(
            sources.contains(&"import f.csv:5".to_owned()),
            "{sources:?}"
        );
        assert!(
            !sources.contains(&"import f.csv:2".to_owned()),
            "{sources:?}"
        );
    }

    /// A part that fails half-way through the file: applying the whole
    /// file again writes the rest, and the rows the first parts wrote are
    /// unchanged (no second record for them).
    #[tokio::test]
    async fn applying_again_after_a_part_failed_writes_each_row_once() {
        let store = MemoryStore::new();
        let admin = admin(&store, "alice");
        let csv = "phoneNumber,reason\n+14155550101,a\n+14155550102,b\n+14155550103,c\n";
        let parsed = import::parse_csv(
            csv.as_bytes(),
            admin.normalizer(),
            &import::ImportDefaults::default(),
        )
        .unwrap();
        let first = parsed.rows_in(0..2).unwrap();
        admin.import(&first, "f.csv", false, |_| {}).await.unwrap();
        store.set_faults(Faults {
            admin: Fault::Fail,
            ..Faults::default()
        });
        let rest = parsed.rows_in(2..3).unwrap();
        assert!(admin.import(&rest, "f.csv", false, |_| {}).await.is_err());
        store.set_faults(Faults::default());
        let again = admin.import(&parsed, "f.csv", false, |_| {}).await.unwrap();
        assert_eq!((again.written, again.unchanged), (1, 2));
        assert_eq!(store.entries().len(), 3);
        assert_eq!(store.audit().len(), 3, "one record per row");
    }

    #[tokio::test]
    async fn a_failing_store_changes_nothing_and_says_so() {
        let store = MemoryStore::new();
        store.set_faults(Faults {
            admin: Fault::Fail,
            ..Faults::default()
        });
        let admin = admin(&store, "alice");
        let t = admin.target(Kind::Block, "+14155550123").unwrap();
        let err = admin.add(&t, reason("spam"), false).await.unwrap_err();
        assert!(err.to_string().contains("InternalServerError"), "{err}");
        assert!(store.entries().is_empty() && store.audit().is_empty());
    }

    /// Export → import into an empty store gives back every entry as it
    /// was: a pending report stays pending (a restore approves nothing).
    #[tokio::test]
    async fn a_restore_from_an_export_changes_no_entry() {
        let store = MemoryStore::new();
        let admin = admin(&store, "alice");
        let queue = "arn:aws:connect:us-east-1:123456789012:instance/i/queue/q";
        let fields = EntryFields {
            reason: Some("fraud".into()),
            expires_at: Some(4_102_444_800),
            note: Some("note".into()),
            action: Some(crate::entry::BlockAction::Queue),
            queue_arn: Some(queue.into()),
            ..EntryFields::default()
        };
        let t = admin.target(Kind::Block, "+14155550123").unwrap();
        admin.add(&t, fields, false).await.unwrap();
        let p = admin.target(Kind::Prefix, "+1900").unwrap();
        admin.add(&p, EntryFields::default(), false).await.unwrap();
        let reported = admin.target(Kind::Block, "+14155550177").unwrap();
        for agent in ["agent:ann", "agent:bob"] {
            Admin::with_store(store.clone(), agent, Normalizer::default())
                .report(&reported, Some("c-1"), None, &ReportPolicy::default())
                .await
                .unwrap();
        }

        let mut csv = Vec::new();
        import::write_csv(&admin.list(true).await.unwrap(), &mut csv).unwrap();
        let restored = MemoryStore::new();
        let restorer = Admin::with_store(restored.clone(), "bob", Normalizer::default());
        let parsed = import::parse_csv(
            csv.as_slice(),
            restorer.normalizer(),
            &import::ImportDefaults::default(),
        )
        .unwrap();
        assert!(parsed.rejected.is_empty(), "{:?}", parsed.rejected);
        restorer
            .import(&parsed, "backup.csv", false, |_| {})
            .await
            .unwrap();
        let what = |e: &Entry| {
            (
                e.kind,
                e.value.clone(),
                e.status,
                e.reason.clone(),
                e.expires_at,
                e.note.clone(),
                e.action,
                e.message.clone(),
                e.queue_arn.clone(),
                e.reported_by.clone(),
            )
        };
        let before: Vec<_> = store.entries().iter().map(what).collect();
        assert!(before.iter().any(|e| e.9.len() == 2), "two agents' report");
        let after: Vec<_> = restored.entries().iter().map(what).collect();
        assert_eq!(after, before);
        assert!(
            restorer.pending().await.unwrap().len() == 1,
            "the report still waits"
        );
        // And importing the export back into the original changes nothing.
        let again = admin
            .import(&parsed, "backup.csv", false, |_| {})
            .await
            .unwrap();
        assert_eq!((again.written, again.unchanged), (0, 3));
    }
}
