//! BatchGetItem with what DynamoDB leaves unprocessed retried, with
//! exponential backoff, until done or clearly stuck. (Writes are never
//! batched: each is conditional on the version it read, which
//! BatchWriteItem cannot express.)

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};

use super::AdminError;

/// Keys per BatchGetItem request (DynamoDB's limit).
pub const GET_BATCH: usize = 100;
/// Retries of unprocessed items before giving up on a batch.
pub const MAX_RETRIES: u32 = 12;

type Item = HashMap<String, AttributeValue>;

fn backoff(attempt: u32) -> Duration {
    Duration::from_millis((25u64 << attempt.min(7)).min(2_000))
}

/// Gets up to [`GET_BATCH`] items by key (consistent reads), retrying
/// unprocessed keys.
pub async fn get_batch(
    client: &Client,
    table: &str,
    keys: Vec<Item>,
) -> Result<Vec<Item>, AdminError> {
    let mut found = Vec::with_capacity(keys.len());
    let mut pending = Some(
        KeysAndAttributes::builder()
            .set_keys(Some(keys))
            .consistent_read(true)
            .build()
            .map_err(|e| AdminError::Request {
                table: table.to_owned(),
                message: e.to_string(),
            })?,
    );
    let mut attempt = 0;
    while let Some(request) = pending.take().filter(|r| !r.keys().is_empty()) {
        let out = client
            .batch_get_item()
            .request_items(table, request)
            .send()
            .await
            .map_err(|e| AdminError::from_sdk(table, e))?;
        if let Some(mut responses) = out.responses {
            found.extend(responses.remove(table).unwrap_or_default());
        }
        pending = out.unprocessed_keys.and_then(|mut m| m.remove(table));
        if pending.as_ref().is_some_and(|r| !r.keys().is_empty()) {
            if attempt == MAX_RETRIES {
                return Err(AdminError::Request {
                    table: table.to_owned(),
                    message: format!(
                        "DynamoDB left keys unprocessed after {MAX_RETRIES} retries (throttled?)"
                    ),
                });
            }
            tokio::time::sleep(backoff(attempt)).await;
            attempt += 1;
        }
    }
    Ok(found)
}
