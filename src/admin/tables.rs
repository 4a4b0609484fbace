//! Creating the blocklist and audit tables for local use (`blocklist init`).
//! In AWS, template.yaml creates them with their protections.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, CreateGlobalSecondaryIndexAction, GlobalSecondaryIndex,
    GlobalSecondaryIndexUpdate, IndexStatus, KeySchemaElement, KeyType, Projection, ProjectionType,
    ProvisionedThroughput, ScalarAttributeType, TableDescription, TableStatus,
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
    /// The table existed without the hit index: the index was added.
    IndexAdded,
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
    let created = create_entry_table(client, table, key).await?;
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
/// existing table is left as it is. Tests and benchmarks use it too.
pub async fn create_table(
    client: &Client,
    table: &str,
    keys: &[&str],
) -> Result<TableInit, AdminError> {
    if table_description(client, table).await?.is_some() {
        return Ok(TableInit::AlreadyExists);
    }
    create(client, table, keys, false).await
}

/// Creates a table of entries keyed by `key` with the hit index
/// ([`store::HIT_INDEX`]), or adds the index to an existing table that
/// lacks it (a table made before it existed), waiting until it is ACTIVE.
pub async fn create_entry_table(
    client: &Client,
    table: &str,
    key: &str,
) -> Result<TableInit, AdminError> {
    let Some(existing) = table_description(client, table).await? else {
        return create(client, table, &[key], true).await;
    };
    let has_index = existing
        .global_secondary_indexes()
        .iter()
        .any(|i| i.index_name() == Some(store::HIT_INDEX));
    if has_index {
        return Ok(TableInit::AlreadyExists);
    }
    client
        .update_table()
        .table_name(table)
        .set_attribute_definitions(Some(hit_index_attributes(table)?))
        .global_secondary_index_updates(
            GlobalSecondaryIndexUpdate::builder()
                .create(
                    CreateGlobalSecondaryIndexAction::builder()
                        .index_name(store::HIT_INDEX)
                        .set_key_schema(Some(hit_index_keys(table)?))
                        .projection(all_attributes())
                        .set_provisioned_throughput(index_throughput(&existing))
                        .build()
                        .map_err(|e| request_error(table, e))?,
                )
                .build(),
        )
        .send()
        .await
        .map_err(|e| AdminError::from_sdk(table, e))?;
    wait_until_active(client, table).await?;
    // dynalite accepts the request and adds nothing: say so, not "added".
    let added = table_description(client, table).await?.is_some_and(|t| {
        t.global_secondary_indexes()
            .iter()
            .any(|i| i.index_name() == Some(store::HIT_INDEX))
    });
    if !added {
        return Err(request_error(
            table,
            "the server accepted the new index but did not add it (dynalite cannot add an index to a table): make the table anew with `blocklist init`",
        ));
    }
    Ok(TableInit::IndexAdded)
}

/// The throughput a new index of `table` needs: none for an on-demand
/// table (DynamoDB refuses one), the table's own for a provisioned one
/// (DynamoDB requires one).
fn index_throughput(table: &TableDescription) -> Option<ProvisionedThroughput> {
    let on_demand = table.billing_mode_summary().and_then(|b| b.billing_mode())
        == Some(&BillingMode::PayPerRequest);
    if on_demand {
        return None;
    }
    let capacity = table.provisioned_throughput();
    let units = |n: Option<i64>| n.filter(|n| *n > 0).unwrap_or(1);
    ProvisionedThroughput::builder()
        .read_capacity_units(units(capacity.and_then(|c| c.read_capacity_units())))
        .write_capacity_units(units(capacity.and_then(|c| c.write_capacity_units())))
        .build()
        .ok()
}

/// `table`'s description, or none if there is no such table.
async fn table_description(
    client: &Client,
    table: &str,
) -> Result<Option<TableDescription>, AdminError> {
    match client.describe_table().table_name(table).send().await {
        Ok(out) => Ok(out.table),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            Ok(None)
        }
        Err(e) => Err(AdminError::from_sdk(table, e)),
    }
}

/// Creates `table` (keys as [`create_table`]'s), with the hit index if
/// `hit_index`, and waits until it is ACTIVE.
async fn create(
    client: &Client,
    table: &str,
    keys: &[&str],
    hit_index: bool,
) -> Result<TableInit, AdminError> {
    let mut attributes = Vec::new();
    let mut schema = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let key_type = if i == 0 {
            KeyType::Hash
        } else {
            KeyType::Range
        };
        attributes.push(string_attribute(table, key)?);
        schema.push(key_element(table, key, key_type)?);
    }
    let mut request = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .set_key_schema(Some(schema));
    if hit_index {
        attributes.extend(hit_index_attributes(table)?);
        request = request.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(store::HIT_INDEX)
                .set_key_schema(Some(hit_index_keys(table)?))
                .projection(all_attributes())
                .build()
                .map_err(|e| request_error(table, e))?,
        );
    }
    match request
        .set_attribute_definitions(Some(attributes))
        .send()
        .await
    {
        Ok(_) => {}
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_in_use_exception()) =>
        {
            return Ok(TableInit::AlreadyExists);
        }
        Err(e) => return Err(AdminError::from_sdk(table, e)),
    }
    wait_until_active(client, table).await?;
    Ok(TableInit::Created)
}

/// Waits (up to 60 s) until `table` and each of its indexes is ACTIVE.
async fn wait_until_active(client: &Client, table: &str) -> Result<(), AdminError> {
    for _ in 0..600 {
        let active = table_description(client, table).await?.is_some_and(|t| {
            t.table_status == Some(TableStatus::Active)
                && t.global_secondary_indexes()
                    .iter()
                    .all(|i| i.index_status == Some(IndexStatus::Active))
        });
        if active {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    Err(AdminError::Request {
        table: table.to_owned(),
        message: "the table (or its index) did not become ACTIVE within 60 s".into(),
    })
}

/// The hit index's key attributes, for a table's attribute definitions.
fn hit_index_attributes(table: &str) -> Result<Vec<AttributeDefinition>, AdminError> {
    [store::attr::HIT_PARTITION, store::attr::LAST_BLOCKED_AT]
        .into_iter()
        .map(|name| string_attribute(table, name))
        .collect()
}

/// The hit index's key schema: one partition, the last block's time.
fn hit_index_keys(table: &str) -> Result<Vec<KeySchemaElement>, AdminError> {
    Ok(vec![
        key_element(table, store::attr::HIT_PARTITION, KeyType::Hash)?,
        key_element(table, store::attr::LAST_BLOCKED_AT, KeyType::Range)?,
    ])
}

/// The whole item in the index: a page of it is a page of entries, with no
/// second read per entry.
fn all_attributes() -> Projection {
    Projection::builder()
        .projection_type(ProjectionType::All)
        .build()
}

fn string_attribute(table: &str, name: &str) -> Result<AttributeDefinition, AdminError> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .map_err(|e| request_error(table, e))
}

fn key_element(table: &str, name: &str, key_type: KeyType) -> Result<KeySchemaElement, AdminError> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(key_type)
        .build()
        .map_err(|e| request_error(table, e))
}

/// A request that could not be built (a builder's missing field).
fn request_error(table: &str, e: impl std::fmt::Display) -> AdminError {
    AdminError::Request {
        table: table.to_owned(),
        message: e.to_string(),
    }
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
