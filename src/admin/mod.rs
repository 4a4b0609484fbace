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
pub mod tables;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;

use crate::entry::BlockEntry;
use crate::phone::{CallerId, E164, InvalidReason, Normalizer};
use crate::store::{attr, entry_from_item, item_from_entry};
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
    #[error("{} is already blocked (reason: {}, since {}{}); use --replace to overwrite it",
        .entry.phone_number,
        .entry.reason.as_deref().unwrap_or("none"),
        .entry.created_at.as_deref().unwrap_or("unknown"),
        .entry.expires_at.map(|e| format!(", expires {}", rfc3339(e))).unwrap_or_default())]
    AlreadyBlocked { entry: Box<BlockEntry> },
    #[error("{number} is not in the blocklist")]
    NotFound { number: String },
    #[error("{number} was changed by someone else while this command ran; run it again")]
    Conflict { number: String },
    #[error("the expiry {} is already in the past", rfc3339(*.0))]
    ExpiryInPast(i64),
    #[error(transparent)]
    Time(#[from] TimeError),
    #[error(
        "table `{table}` does not exist: run `blocklist init` (local) or deploy template.yaml, or pass --table/--audit-table"
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
        if err.code() == Some("ResourceNotFoundException") {
            return AdminError::TableNotFound {
                table: table.to_owned(),
            };
        }
        AdminError::Request {
            table: table.to_owned(),
            message: DisplayErrorContext(&err).to_string(),
        }
    }
}

/// The user-supplied parts of an entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntryFields {
    pub reason: Option<String>,
    pub expires_at: Option<i64>,
    pub note: Option<String>,
}

/// The result of `add`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Added {
    pub entry: BlockEntry,
    /// The entry this one replaced (`--replace`, or an expired one).
    pub replaced: Option<BlockEntry>,
}

/// Admin access to one blocklist table and its audit table.
#[derive(Debug, Clone)]
pub struct Admin {
    client: Client,
    table: String,
    audit_table: String,
    actor: String,
    normalizer: Normalizer,
}

impl Admin {
    pub fn new(
        client: Client,
        table: &str,
        audit_table: &str,
        actor: &str,
        normalizer: Normalizer,
    ) -> Self {
        Admin {
            client,
            table: table.to_owned(),
            audit_table: audit_table.to_owned(),
            actor: actor.to_owned(),
            normalizer,
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    pub fn audit_table(&self) -> &str {
        &self.audit_table
    }

    pub fn actor(&self) -> &str {
        &self.actor
    }

    pub fn normalizer(&self) -> &Normalizer {
        &self.normalizer
    }

    /// Normalizes a number exactly as the Lambda does, refusing anything
    /// that is not a valid number.
    pub fn normalize(&self, input: &str) -> Result<E164, AdminError> {
        match self.normalizer.classify(Some(input)) {
            CallerId::Valid(number) => Ok(number),
            CallerId::Invalid(reason) => Err(AdminError::InvalidNumber {
                input: input.to_owned(),
                reason,
            }),
            CallerId::Anonymous | CallerId::Missing => Err(AdminError::NotANumber {
                input: input.to_owned(),
            }),
        }
    }

    /// The stored entry for `number`, expired or not (a consistent read).
    pub async fn get(&self, number: &E164) -> Result<Option<BlockEntry>, AdminError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(attr::PHONE_NUMBER, AttributeValue::S(number.to_string()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| AdminError::from_sdk(&self.table, e))?;
        Ok(out.item.as_ref().map(entry_from_item))
    }

    /// Blocks `input`. An active entry is only overwritten with `replace`;
    /// an expired one is replaced.
    pub async fn add(
        &self,
        input: &str,
        fields: EntryFields,
        replace: bool,
    ) -> Result<Added, AdminError> {
        let number = self.normalize(input)?;
        let now = now_epoch();
        if let Some(expires) = fields.expires_at.filter(|e| *e <= now) {
            return Err(AdminError::ExpiryInPast(expires));
        }
        let existing = self.get(&number).await?;
        if let Some(entry) = existing
            .as_ref()
            .filter(|e| e.is_active_at(now) && !replace)
        {
            return Err(AdminError::AlreadyBlocked {
                entry: Box::new(entry.clone()),
            });
        }
        let entry = self.new_entry(&number, fields, now);
        let action = if existing.is_some() {
            AuditAction::Replace
        } else {
            AuditAction::Add
        };
        let record = AuditRecord::new(
            action,
            &self.actor,
            entry.reason.as_deref(),
            "cli".to_owned(),
            existing.clone(),
            Some(entry.clone()),
        );
        self.put_audit(&record).await?;

        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item_from_entry(&entry)));
        put = match existing.as_ref().and_then(|e| e.created_at.clone()) {
            None if existing.is_none() => {
                put.condition_expression("attribute_not_exists(phoneNumber)")
            }
            None => put.condition_expression(
                "attribute_exists(phoneNumber) AND attribute_not_exists(createdAt)",
            ),
            Some(created) => put
                .condition_expression("createdAt = :created")
                .expression_attribute_values(":created", AttributeValue::S(created)),
        };
        match put.send().await {
            Ok(_) => Ok(Added {
                entry,
                replaced: existing,
            }),
            Err(e) if is_conditional_failure(&e) => {
                self.put_audit(
                    &record.aborted(&self.actor, "the entry was changed by someone else"),
                )
                .await?;
                Err(AdminError::Conflict {
                    number: number.to_string(),
                })
            }
            Err(e) => Err(AdminError::from_sdk(&self.table, e)),
        }
    }

    /// Removes the entry for `input`, returning it.
    pub async fn remove(
        &self,
        input: &str,
        reason: Option<&str>,
    ) -> Result<BlockEntry, AdminError> {
        let number = self.normalize(input)?;
        let existing = self
            .get(&number)
            .await?
            .ok_or_else(|| AdminError::NotFound {
                number: number.to_string(),
            })?;
        let record = AuditRecord::new(
            AuditAction::Remove,
            &self.actor,
            reason,
            "cli".to_owned(),
            Some(existing.clone()),
            None,
        );
        self.put_audit(&record).await?;
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(attr::PHONE_NUMBER, AttributeValue::S(number.to_string()))
            .condition_expression("attribute_exists(phoneNumber)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(existing),
            Err(e) if is_conditional_failure(&e) => {
                self.put_audit(
                    &record.aborted(&self.actor, "the entry was removed by someone else"),
                )
                .await?;
                Err(AdminError::NotFound {
                    number: number.to_string(),
                })
            }
            Err(e) => Err(AdminError::from_sdk(&self.table, e)),
        }
    }

    /// Every entry (a paginated Scan), sorted by number; expired ones only
    /// with `include_expired`.
    pub async fn list(&self, include_expired: bool) -> Result<Vec<BlockEntry>, AdminError> {
        let now = now_epoch();
        let mut entries = Vec::new();
        let mut pages = self
            .client
            .scan()
            .table_name(&self.table)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AdminError::from_sdk(&self.table, e))?;
            entries.extend(
                page.items()
                    .iter()
                    .map(entry_from_item)
                    .filter(|e| include_expired || e.is_active_at(now)),
            );
        }
        entries.sort_by(|a, b| a.phone_number.cmp(&b.phone_number));
        Ok(entries)
    }

    /// The audit records for `input`, newest first.
    pub async fn history(&self, input: &str) -> Result<Vec<AuditRecord>, AdminError> {
        let number = self.normalize(input)?;
        let mut records = Vec::new();
        let mut pages = self
            .client
            .query()
            .table_name(&self.audit_table)
            .key_condition_expression("phoneNumber = :n")
            .expression_attribute_values(":n", AttributeValue::S(number.to_string()))
            .scan_index_forward(false)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AdminError::from_sdk(&self.audit_table, e))?;
            records.extend(page.items().iter().filter_map(AuditRecord::from_item));
        }
        Ok(records)
    }

    fn new_entry(&self, number: &E164, fields: EntryFields, now: i64) -> BlockEntry {
        BlockEntry {
            phone_number: number.to_string(),
            reason: fields.reason.filter(|r| !r.is_empty()),
            created_at: Some(rfc3339(now)),
            created_by: Some(self.actor.clone()),
            expires_at: fields.expires_at,
            note: fields.note.filter(|n| !n.is_empty()),
        }
    }

    async fn put_audit(&self, record: &AuditRecord) -> Result<(), AdminError> {
        self.client
            .put_item()
            .table_name(&self.audit_table)
            .set_item(Some(record.to_item()))
            .send()
            .await
            .map_err(|e| AdminError::from_sdk(&self.audit_table, e))?;
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
