//! Storage of blocklist entries: a small trait, and its DynamoDB implementation.

use std::collections::HashMap;
use std::future::Future;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::get_item::GetItemError;
use aws_sdk_dynamodb::types::AttributeValue;

use crate::entry::BlockEntry;
use crate::phone::E164;

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
}

/// A lookup could not be answered.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("table `{table}` does not exist (create it, or set TABLE_NAME)")]
    TableNotFound { table: String },
    #[error("DynamoDB request on `{table}` failed: {message}")]
    Request { table: String, message: String },
}

/// Read access to blocklist entries: what the Lambda's hot path needs.
pub trait BlocklistStore: Send + Sync {
    /// The entry for `number`, if there is one (expired or not).
    fn get(
        &self,
        number: &E164,
    ) -> impl Future<Output = Result<Option<BlockEntry>, StoreError>> + Send;
}

/// The blocklist in a DynamoDB table keyed by `phoneNumber`.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoStore {
            client,
            table: table.into(),
        }
    }

    /// The table this store reads.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The SDK client, for callers that need more than the trait.
    pub fn client(&self) -> &Client {
        &self.client
    }
}

impl BlocklistStore for DynamoStore {
    async fn get(&self, number: &E164) -> Result<Option<BlockEntry>, StoreError> {
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
}

fn get_error(table: &str, err: SdkError<GetItemError>) -> StoreError {
    if let SdkError::ServiceError(service) = &err
        && service.err().is_resource_not_found_exception()
    {
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
pub fn entry_from_item(item: &HashMap<String, AttributeValue>) -> BlockEntry {
    let s = |name: &str| match item.get(name) {
        Some(AttributeValue::S(v)) => Some(v.clone()),
        Some(AttributeValue::N(v)) => Some(v.clone()),
        _ => None,
    };
    let expires_at = match item.get(attr::EXPIRES_AT) {
        Some(AttributeValue::N(v) | AttributeValue::S(v)) => parse_epoch(v),
        _ => None,
    };
    BlockEntry {
        phone_number: s(attr::PHONE_NUMBER).unwrap_or_default(),
        reason: s(attr::REASON).or_else(|| s(attr::LEGACY_REASON)),
        created_at: s(attr::CREATED_AT).or_else(|| s(attr::LEGACY_DATE)),
        created_by: s(attr::CREATED_BY),
        expires_at,
        note: s(attr::NOTE),
    }
}

/// Writes an entry as an item with the current attribute names.
pub fn item_from_entry(entry: &BlockEntry) -> HashMap<String, AttributeValue> {
    let mut item = HashMap::new();
    item.insert(
        attr::PHONE_NUMBER.to_owned(),
        AttributeValue::S(entry.phone_number.clone()),
    );
    let mut put = |name: &str, value: &Option<String>| {
        if let Some(v) = value.as_ref().filter(|v| !v.is_empty()) {
            item.insert(name.to_owned(), AttributeValue::S(v.clone()));
        }
    };
    put(attr::REASON, &entry.reason);
    put(attr::CREATED_AT, &entry.created_at);
    put(attr::CREATED_BY, &entry.created_by);
    put(attr::NOTE, &entry.note);
    if let Some(expires) = entry.expires_at {
        item.insert(
            attr::EXPIRES_AT.to_owned(),
            AttributeValue::N(expires.to_string()),
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
