//! BatchWriteItem and BatchGetItem with what DynamoDB leaves unprocessed
//! retried, with exponential backoff, until done or clearly stuck.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, PutRequest, WriteRequest};

use super::AdminError;

/// Items per BatchWriteItem request (DynamoDB's limit).
pub const WRITE_BATCH: usize = 25;
/// Keys per BatchGetItem request (DynamoDB's limit).
pub const GET_BATCH: usize = 100;
/// Retries of unprocessed items before giving up on a batch.
pub const MAX_RETRIES: u32 = 12;

type Item = HashMap<String, AttributeValue>;

fn backoff(attempt: u32) -> Duration {
    Duration::from_millis((25u64 << attempt.min(7)).min(2_000))
}

/// Puts up to [`WRITE_BATCH`] items, retrying unprocessed ones.
pub async fn put_batch(client: &Client, table: &str, items: Vec<Item>) -> Result<(), AdminError> {
    let mut pending: Vec<WriteRequest> = items
        .into_iter()
        .map(|item| {
            PutRequest::builder()
                .set_item(Some(item))
                .build()
                .map(|put| WriteRequest::builder().put_request(put).build())
                .map_err(|e| AdminError::Request {
                    table: table.to_owned(),
                    message: e.to_string(),
                })
        })
        .collect::<Result<_, _>>()?;
    let mut attempt = 0;
    while !pending.is_empty() {
        let out = client
            .batch_write_item()
            .request_items(table, std::mem::take(&mut pending))
            .send()
            .await
            .map_err(|e| AdminError::from_sdk(table, e))?;
        pending = out
            .unprocessed_items
            .and_then(|mut m| m.remove(table))
            .unwrap_or_default();
        if !pending.is_empty() {
            if attempt == MAX_RETRIES {
                return Err(AdminError::Request {
                    table: table.to_owned(),
                    message: format!(
                        "DynamoDB left {} items unprocessed after {MAX_RETRIES} retries (throttled?); nothing was skipped silently: re-run to finish",
                        pending.len()
                    ),
                });
            }
            tokio::time::sleep(backoff(attempt)).await;
            attempt += 1;
        }
    }
    Ok(())
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
