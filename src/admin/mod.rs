//! Admin operations on the blocklist, each change with its audit record:
//! what the `blocklist` CLI does, without its argument parsing and output.
//!
//! Ordering rule: an audit record is written (and acknowledged) before the
//! entry it describes changes, so no entry ever changes without its record.
//! A run killed between the two leaves a record whose change did not happen;
//! re-running the same command or import completes the change (with a fresh
//! record). The trail is append-only: a change refused after its record was
//! written (someone else changed the entry in between) gets an `abort` record.

pub mod audit;
pub mod batch;
pub mod import;
pub mod publish;
pub mod reports;
pub mod tables;

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;

use crate::entry::{BlockAction, Entry, Kind, Status};
use crate::phone::{CallerId, InvalidReason, Normalizer};
use crate::rules::is_prefix;
use crate::store::{StoreError, attr, entry_from_item, item_from_entry, rule_key, sdk_error};
use crate::when::{TimeError, now_epoch, rfc3339};
use audit::{AuditAction, AuditRecord};

/// An admin operation failed; the message says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
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
    #[error("{value} was changed by someone else while this command ran; run it again")]
    Conflict { value: String },
    #[error("the expiry {} is already in the past", rfc3339(*.0))]
    ExpiryInPast(i64),
    #[error("{0}")]
    InvalidAction(String),
    #[error(transparent)]
    Time(#[from] TimeError),
    #[error(
        "table `{table}` does not exist: run `blocklist init` (local) or deploy template.yaml, or pass --table/--rules-table/--audit-table"
    )]
    TableNotFound { table: String },
    #[error("DynamoDB request on `{table}` failed: {message}")]
    Request { table: String, message: String },
}

impl AdminError {
    fn from_sdk<E, R>(table: &str, err: SdkError<E, R>) -> AdminError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        match sdk_error(table, err) {
            StoreError::TableNotFound { table } => AdminError::TableNotFound { table },
            StoreError::Request { table, message } => AdminError::Request { table, message },
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
    /// The audit table's partition key for this target: the number for
    /// exact blocks (as before rules existed), `<kind>#<value>` otherwise.
    pub fn audit_key(&self) -> String {
        match self.kind {
            Kind::Block => self.value.clone(),
            kind => rule_key(kind, &self.value),
        }
    }
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
}

impl EntryFields {
    /// Checks that the action has what it needs and applies to the kind;
    /// `disconnect` is stored as no action.
    pub fn checked(mut self, kind: Kind) -> Result<EntryFields, AdminError> {
        let blank = |s: &Option<String>| s.as_deref().is_none_or(|v| v.trim().is_empty());
        match self.action {
            Some(_) if kind.is_allow() => {
                return Err(AdminError::InvalidAction(
                    "allow entries take no action: they never block".into(),
                ));
            }
            Some(BlockAction::Message) if blank(&self.message) => {
                return Err(AdminError::InvalidAction(
                    "action `message` needs --message TEXT".into(),
                ));
            }
            Some(BlockAction::Queue) if blank(&self.queue_arn) => {
                return Err(AdminError::InvalidAction(
                    "action `queue` needs --queue-arn ARN".into(),
                ));
            }
            Some(BlockAction::Queue) => {
                let arn = self.queue_arn.as_deref().unwrap_or_default();
                if !(arn.starts_with("arn:aws")
                    && arn.contains(":connect:")
                    && arn.contains("/queue/"))
                {
                    return Err(AdminError::InvalidAction(format!(
                        "`{arn}` is not an Amazon Connect queue ARN (arn:aws:connect:REGION:ACCOUNT:instance/ID/queue/ID)"
                    )));
                }
            }
            _ => {}
        }
        if self.action == Some(BlockAction::Disconnect) {
            self.action = None;
        }
        if self.action != Some(BlockAction::Message) {
            self.message = None;
        }
        if self.action != Some(BlockAction::Queue) {
            self.queue_arn = None;
        }
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
        Ok(self)
    }

    /// Whether `entry` already has these fields (creation and hit counts aside).
    pub fn same_as(&self, entry: &Entry) -> bool {
        entry.status == Status::Active
            && entry.reason == self.reason
            && entry.expires_at == self.expires_at
            && entry.note == self.note
            && entry.action.filter(|a| *a != BlockAction::Disconnect) == self.action
            && entry.message == self.message
            && entry.queue_arn == self.queue_arn
    }
}

/// The result of `add`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Added {
    pub entry: Entry,
    /// The entry this one replaced (`--replace`, or an expired one).
    pub replaced: Option<Entry>,
}

/// Reads `input` as a number (normalized exactly as the Lambda does) or,
/// for prefix kinds, as a prefix (`+1 900` reads as `+1900`).
pub fn parse_target(
    normalizer: &Normalizer,
    kind: Kind,
    input: &str,
) -> Result<Target, AdminError> {
    if kind.is_prefix() {
        let compact: String = input
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '.'))
            .collect();
        return if is_prefix(&compact) {
            Ok(Target {
                kind,
                value: compact,
            })
        } else {
            Err(AdminError::InvalidPrefix {
                input: input.to_owned(),
            })
        };
    }
    match normalizer.classify(Some(input)) {
        CallerId::Valid(number) => Ok(Target {
            kind,
            value: number.to_string(),
        }),
        CallerId::Invalid(reason) => Err(AdminError::InvalidNumber {
            input: input.to_owned(),
            reason,
        }),
        CallerId::Anonymous | CallerId::Missing => Err(AdminError::NotANumber {
            input: input.to_owned(),
        }),
    }
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

/// Admin access to the blocklist, rules and audit tables.
#[derive(Debug, Clone)]
pub struct Admin {
    client: Client,
    tables: Tables,
    actor: String,
    normalizer: Normalizer,
}

impl Admin {
    pub fn new(client: Client, tables: Tables, actor: &str, normalizer: Normalizer) -> Self {
        Admin {
            client,
            tables,
            actor: actor.to_owned(),
            normalizer,
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn tables(&self) -> &Tables {
        &self.tables
    }

    pub fn actor(&self) -> &str {
        &self.actor
    }

    pub fn normalizer(&self) -> &Normalizer {
        &self.normalizer
    }

    /// The table holding entries of `kind`.
    pub fn table_for(&self, kind: Kind) -> &str {
        match kind {
            Kind::Block => &self.tables.blocklist,
            _ => &self.tables.rules,
        }
    }

    /// Reads `input` as the value of a `kind` entry: see [`parse_target`].
    pub fn target(&self, kind: Kind, input: &str) -> Result<Target, AdminError> {
        parse_target(&self.normalizer, kind, input)
    }

    /// The key attribute and value of `target`'s item.
    pub fn key(&self, target: &Target) -> (&'static str, AttributeValue) {
        match target.kind {
            Kind::Block => (attr::PHONE_NUMBER, AttributeValue::S(target.value.clone())),
            kind => (
                attr::RULE_KEY,
                AttributeValue::S(rule_key(kind, &target.value)),
            ),
        }
    }

    /// The stored entry for `target`, expired or not (a consistent read).
    pub async fn get(&self, target: &Target) -> Result<Option<Entry>, AdminError> {
        let table = self.table_for(target.kind);
        let (key, value) = self.key(target);
        let out = self
            .client
            .get_item()
            .table_name(table)
            .key(key, value)
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| AdminError::from_sdk(table, e))?;
        Ok(out.item.as_ref().map(entry_from_item))
    }

    /// Adds an entry. An active one is only overwritten with `replace`; an
    /// expired or pending one is replaced.
    pub async fn add(
        &self,
        target: &Target,
        fields: EntryFields,
        replace: bool,
    ) -> Result<Added, AdminError> {
        let fields = fields.checked(target.kind)?;
        let now = now_epoch();
        if let Some(expires) = fields.expires_at.filter(|e| *e <= now) {
            return Err(AdminError::ExpiryInPast(expires));
        }
        let existing = self.get(target).await?;
        if let Some(entry) = existing
            .as_ref()
            .filter(|e| e.is_active_at(now) && !replace)
        {
            return Err(AdminError::AlreadyExists {
                entry: Box::new(entry.clone()),
            });
        }
        let entry = self.new_entry(target, fields, now);
        let action = if existing.is_some() {
            AuditAction::Replace
        } else {
            AuditAction::Add
        };
        let reason = entry.reason.clone();
        let replaced = self
            .write(
                target,
                action,
                reason.as_deref(),
                "cli",
                existing,
                Some(entry.clone()),
            )
            .await?;
        self.publish_if_rule(target.kind).await?;
        Ok(Added { entry, replaced })
    }

    /// Removes the entry for `target`, returning it.
    pub async fn remove(&self, target: &Target, reason: Option<&str>) -> Result<Entry, AdminError> {
        let existing = self
            .get(target)
            .await?
            .ok_or_else(|| AdminError::NotFound {
                kind: target.kind,
                value: target.value.clone(),
            })?;
        let removed = self
            .write(
                target,
                AuditAction::Remove,
                reason,
                "cli",
                Some(existing),
                None,
            )
            .await?
            .ok_or_else(|| AdminError::NotFound {
                kind: target.kind,
                value: target.value.clone(),
            })?;
        self.publish_if_rule(target.kind).await?;
        Ok(removed)
    }

    /// Republishes the rules after a change to one (exact blocks need not).
    pub(crate) async fn publish_if_rule(&self, kind: Kind) -> Result<(), AdminError> {
        if kind == Kind::Block {
            return Ok(());
        }
        self.publish_rules()
            .await
            .map(|_| ())
            .map_err(|e| AdminError::Unpublished(Box::new(e)))
    }

    /// Writes one change: its audit record, then the entry, conditional on
    /// the entry still being `before`. Returns `before`.
    pub(crate) async fn write(
        &self,
        target: &Target,
        action: AuditAction,
        reason: Option<&str>,
        source: &str,
        before: Option<Entry>,
        after: Option<Entry>,
    ) -> Result<Option<Entry>, AdminError> {
        let record = AuditRecord::new(
            target.audit_key(),
            action,
            &self.actor,
            reason,
            source.to_owned(),
            before.clone(),
            after.clone(),
        );
        self.put_audit(&record).await?;
        let table = self.table_for(target.kind);
        let (key_name, key) = self.key(target);
        // The entry must still be as read: identified by its creation time.
        let (condition, values) = match before.as_ref().map(|b| b.created_at.clone()) {
            None => (format!("attribute_not_exists({key_name})"), HashMap::new()),
            Some(None) => (
                format!("attribute_exists({key_name}) AND attribute_not_exists(createdAt)"),
                HashMap::new(),
            ),
            Some(Some(created)) => (
                "createdAt = :created".to_owned(),
                HashMap::from([(":created".to_owned(), AttributeValue::S(created))]),
            ),
        };
        let values = (!values.is_empty()).then_some(values);
        let result = match &after {
            Some(entry) => self
                .client
                .put_item()
                .table_name(table)
                .set_item(Some(item_from_entry(entry)))
                .condition_expression(condition)
                .set_expression_attribute_values(values)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| (is_conditional_failure(&e), AdminError::from_sdk(table, e))),
            None => self
                .client
                .delete_item()
                .table_name(table)
                .key(key_name, key)
                .condition_expression(condition)
                .set_expression_attribute_values(values)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| (is_conditional_failure(&e), AdminError::from_sdk(table, e))),
        };
        match result {
            Ok(()) => Ok(before),
            Err((true, _)) => {
                self.put_audit(
                    &record.aborted(&self.actor, "the entry was changed by someone else"),
                )
                .await?;
                Err(AdminError::Conflict {
                    value: target.value.clone(),
                })
            }
            Err((false, e)) => Err(e),
        }
    }

    /// Every entry of both tables (paginated Scans), sorted by kind then
    /// value; expired ones only with `include_expired`.
    pub async fn list(&self, include_expired: bool) -> Result<Vec<Entry>, AdminError> {
        let now = now_epoch();
        let mut entries = Vec::new();
        for table in [&self.tables.blocklist, &self.tables.rules] {
            let mut pages = self.client.scan().table_name(table).into_paginator().send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| AdminError::from_sdk(table, e))?;
                entries.extend(
                    page.items()
                        .iter()
                        .filter(|item| !publish::is_snapshot_item(item))
                        .map(entry_from_item)
                        .filter(|e| include_expired || !e.is_expired_at(now)),
                );
            }
        }
        entries.sort_by(|a, b| (a.kind, &a.value).cmp(&(b.kind, &b.value)));
        Ok(entries)
    }

    /// The audit records of `targets`, newest first.
    pub async fn history(&self, targets: &[Target]) -> Result<Vec<AuditRecord>, AdminError> {
        let table = &self.tables.audit;
        let mut records = Vec::new();
        for target in targets {
            let mut pages = self
                .client
                .query()
                .table_name(table)
                .key_condition_expression("phoneNumber = :n")
                .expression_attribute_values(":n", AttributeValue::S(target.audit_key()))
                .scan_index_forward(false)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| AdminError::from_sdk(table, e))?;
                records.extend(page.items().iter().filter_map(AuditRecord::from_item));
            }
        }
        records.sort_by(|a, b| b.audit_id.cmp(&a.audit_id));
        Ok(records)
    }

    /// A new entry for `target` made now by this admin.
    pub fn new_entry(&self, target: &Target, fields: EntryFields, now: i64) -> Entry {
        Entry {
            kind: target.kind,
            value: target.value.clone(),
            reason: fields.reason,
            created_at: Some(rfc3339(now)),
            created_by: Some(self.actor.clone()),
            expires_at: fields.expires_at,
            note: fields.note,
            action: fields.action,
            message: fields.message,
            queue_arn: fields.queue_arn,
            ..Entry::default()
        }
    }

    async fn put_audit(&self, record: &AuditRecord) -> Result<(), AdminError> {
        self.client
            .put_item()
            .table_name(&self.tables.audit)
            .set_item(Some(record.to_item()))
            .send()
            .await
            .map_err(|e| AdminError::from_sdk(&self.tables.audit, e))?;
        Ok(())
    }
}

fn is_conditional_failure<E, R>(err: &SdkError<E, R>) -> bool
where
    E: ProvideErrorMetadata,
{
    err.as_service_error()
        .and_then(ProvideErrorMetadata::code)
        .is_some_and(|c| c == "ConditionalCheckFailedException")
}
