//! Creating the blocklist and audit tables for local use (`blocklist init`).
//! In AWS, template.yaml creates them with their protections.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, TableStatus,
    TimeToLiveSpecification,
};

use super::AdminError;
use crate::entry::EntryTable;
use crate::{admin::audit, store};

/// What `init` did to one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TableInit {
    Created,
    AlreadyExists,
}

/// What `init` did to the blocklist table's TTL setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TtlInit {
    Enabled,
    AlreadyEnabled,
    /// The server has no TTL support (dynalite); expiry is still enforced
    /// on read by the Lambda, just not cleaned up.
    Unsupported(String),
}

/// Creates the blocklist table (key `phoneNumber`) with TTL on `expiresAt`.
pub async fn init_blocklist_table(
    client: &Client,
    table: &str,
) -> Result<(TableInit, TtlInit), AdminError> {
    init_entry_table(client, table, EntryTable::Blocklist).await
}

/// Creates the rules table (key `ruleKey`) with TTL on `expiresAt`.
pub async fn init_rules_table(
    client: &Client,
    table: &str,
) -> Result<(TableInit, TtlInit), AdminError> {
    init_entry_table(client, table, EntryTable::Rules).await
}

/// Creates the counters table (partition key `counterKey`) with TTL on
/// `expiresAt`: one item per number and rate-limit window.
pub async fn init_counters_table(
    client: &Client,
    table: &str,
) -> Result<(TableInit, TtlInit), AdminError> {
    let created = create_table(client, table, &[store::attr::COUNTER_KEY]).await?;
    let ttl = enable_ttl(client, table).await;
    Ok((created, ttl))
}

/// Creates a table holding entries of `which` (keyed as its entries are)
/// with TTL on `expiresAt`.
pub async fn init_entry_table(
    client: &Client,
    table: &str,
    which: EntryTable,
) -> Result<(TableInit, TtlInit), AdminError> {
    let key = match which {
        EntryTable::Blocklist => store::attr::PHONE_NUMBER,
        EntryTable::Rules => store::attr::RULE_KEY,
    };
    let created = create_table(client, table, &[key]).await?;
    let ttl = enable_ttl(client, table).await;
    Ok((created, ttl))
}

/// Creates the audit table (keys `phoneNumber`, `auditId`).
pub async fn init_audit_table(client: &Client, table: &str) -> Result<TableInit, AdminError> {
    create_table(
        client,
        table,
        &[audit::attr::PHONE_NUMBER, audit::attr::AUDIT_ID],
    )
    .await
}

/// Creates `table` with String keys, on demand: `keys[0]` the partition
/// key, `keys[1]` (if given) the sort key; waits until it is ACTIVE. An
/// existing table is left as it is. The one table-creating function: tests
/// and benchmarks use it too.
pub async fn create_table(
    client: &Client,
    table: &str,
    keys: &[&str],
) -> Result<TableInit, AdminError> {
    let request_error = |e: String| AdminError::Request {
        table: table.to_owned(),
        message: e,
    };
    match client.describe_table().table_name(table).send().await {
        Ok(_) => return Ok(TableInit::AlreadyExists),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) => {}
        Err(e) => return Err(AdminError::from_sdk(table, e)),
    }
    let mut request = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest);
    for (i, key) in keys.iter().enumerate() {
        let key_type = if i == 0 {
            KeyType::Hash
        } else {
            KeyType::Range
        };
        request = request
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(*key)
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .map_err(|e| request_error(e.to_string()))?,
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name(*key)
                    .key_type(key_type)
                    .build()
                    .map_err(|e| request_error(e.to_string()))?,
            );
    }
    match request.send().await {
        Ok(_) => {}
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_in_use_exception()) =>
        {
            return Ok(TableInit::AlreadyExists);
        }
        Err(e) => return Err(AdminError::from_sdk(table, e)),
    }
    for _ in 0..600 {
        let out = client
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(|e| AdminError::from_sdk(table, e))?;
        if out.table.and_then(|t| t.table_status) == Some(TableStatus::Active) {
            return Ok(TableInit::Created);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    Err(request_error(
        "the table did not become ACTIVE within 60 s".into(),
    ))
}

async fn enable_ttl(client: &Client, table: &str) -> TtlInit {
    if let Ok(out) = client
        .describe_time_to_live()
        .table_name(table)
        .send()
        .await
    {
        let enabled = out
            .time_to_live_description
            .and_then(|d| d.attribute_name)
            .is_some_and(|a| a == store::attr::EXPIRES_AT);
        if enabled {
            return TtlInit::AlreadyEnabled;
        }
    }
    let spec = match TimeToLiveSpecification::builder()
        .attribute_name(store::attr::EXPIRES_AT)
        .enabled(true)
        .build()
    {
        Ok(spec) => spec,
        Err(e) => return TtlInit::Unsupported(e.to_string()),
    };
    match client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(spec)
        .send()
        .await
    {
        Ok(_) => TtlInit::Enabled,
        Err(e) => TtlInit::Unsupported(
            e.code()
                .map_or_else(|| DisplayErrorContext(&e).to_string(), str::to_owned),
        ),
    }
}
