//! Publishing the rules for the Lambda (see [`crate::snapshot`]): after any
//! change to a prefix rule or allow entry, a new snapshot version is
//! written, then the manifest pointing at it, then the old version removed.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::audit::unique_suffix;
use super::{Admin, AdminError};
use crate::entry::Entry;
use crate::snapshot::{self, MANIFEST_KEY, SNAPSHOT_PREFIX, chunk_key};
use crate::store::{attr, entry_from_item};
use crate::when::now_rfc3339_millis;

/// Whether a rules-table item is part of the published snapshot rather than a rule.
pub fn is_snapshot_item(item: &HashMap<String, AttributeValue>) -> bool {
    matches!(item.get(attr::RULE_KEY), Some(AttributeValue::S(k)) if k.starts_with(SNAPSHOT_PREFIX))
}

/// Publishes that lose a race with another publish start over, after a
/// random pause that grows with each attempt.
const PUBLISH_ATTEMPTS: u32 = 20;

/// A manifest as read: its version and number of chunks.
type Manifest = (String, usize);

impl Admin {
    /// Publishes every rule in the rules table; returns how many.
    ///
    /// The manifest is read before the rules and replaced only if it is
    /// still that one, so a publish that raced another (and may have read
    /// the rules before the other's change) starts over instead of
    /// overwriting a newer snapshot with an older one.
    pub async fn publish_rules(&self) -> Result<usize, AdminError> {
        for attempt in 0..PUBLISH_ATTEMPTS {
            if attempt > 0 {
                let ceiling = 20u64 << attempt.min(5);
                let jitter = u64::from_str_radix(&unique_suffix()[..8], 16).unwrap_or(0) % ceiling;
                tokio::time::sleep(std::time::Duration::from_millis(ceiling / 2 + jitter)).await;
            }
            let old = self.manifest().await?;
            let rules = self.scan_rules().await?;
            let chunks = snapshot::encode(&rules);
            let version = format!("{}-{}", now_rfc3339_millis(), unique_suffix());
            for (index, data) in chunks.iter().enumerate() {
                self.put_rules_item(
                    chunk_key(&version, index),
                    HashMap::from([("data".to_owned(), AttributeValue::S(data.clone()))]),
                    None,
                )
                .await?;
            }
            let manifest = HashMap::from([
                ("version".to_owned(), AttributeValue::S(version.clone())),
                (
                    "chunks".to_owned(),
                    AttributeValue::N(chunks.len().to_string()),
                ),
                (
                    "count".to_owned(),
                    AttributeValue::N(rules.len().to_string()),
                ),
                (
                    "publishedBy".to_owned(),
                    AttributeValue::S(self.actor().to_owned()),
                ),
            ]);
            let replaced = self
                .put_rules_item(
                    MANIFEST_KEY.to_owned(),
                    manifest,
                    Some(old.as_ref().map(|(v, _)| v.as_str())),
                )
                .await?;
            // The chunks no manifest points to any more: the old version's,
            // or ours when another publish got in first. A reader that still
            // holds the old manifest fails its load and keeps its last rules.
            match (replaced, old) {
                (true, Some((old_version, count))) => {
                    self.delete_chunks(&old_version, count).await?
                }
                (true, None) => {}
                (false, _) => {
                    self.delete_chunks(&version, chunks.len()).await?;
                    continue;
                }
            }
            return Ok(rules.len());
        }
        Err(AdminError::Conflict {
            value: "the published rules".to_owned(),
        })
    }

    /// The current manifest (a consistent read).
    async fn manifest(&self) -> Result<Option<Manifest>, AdminError> {
        let table = &self.tables().rules;
        let item = self
            .client()
            .get_item()
            .table_name(table)
            .key(attr::RULE_KEY, AttributeValue::S(MANIFEST_KEY.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| AdminError::from_sdk(table, e))?
            .item;
        Ok(item.and_then(|m| {
            let version = match m.get("version") {
                Some(AttributeValue::S(v)) => v.clone(),
                _ => return None,
            };
            let chunks = match m.get("chunks") {
                Some(AttributeValue::N(n)) => n.parse().ok()?,
                _ => return None,
            };
            Some((version, chunks))
        }))
    }

    /// Puts an item of the rules table. With `expected`, only if the item's
    /// `version` is still that (`Some(None)`: only if there is no item);
    /// returns whether it was written.
    async fn put_rules_item(
        &self,
        key: String,
        mut item: HashMap<String, AttributeValue>,
        expected: Option<Option<&str>>,
    ) -> Result<bool, AdminError> {
        let table = &self.tables().rules;
        item.insert(attr::RULE_KEY.to_owned(), AttributeValue::S(key));
        let mut put = self
            .client()
            .put_item()
            .table_name(table)
            .set_item(Some(item));
        put = match expected {
            None => put,
            Some(None) => put.condition_expression("attribute_not_exists(ruleKey)"),
            Some(Some(version)) => put
                .condition_expression("version = :expected")
                .expression_attribute_values(":expected", AttributeValue::S(version.to_owned())),
        };
        match put.send().await {
            Ok(_) => Ok(true),
            Err(e) if super::is_conditional_failure(&e) => Ok(false),
            Err(e) => Err(AdminError::from_sdk(table, e)),
        }
    }

    async fn delete_chunks(&self, version: &str, count: usize) -> Result<(), AdminError> {
        let table = &self.tables().rules;
        for index in 0..count {
            self.client()
                .delete_item()
                .table_name(table)
                .key(attr::RULE_KEY, AttributeValue::S(chunk_key(version, index)))
                .send()
                .await
                .map_err(|e| AdminError::from_sdk(table, e))?;
        }
        Ok(())
    }

    /// Every rule in the rules table (a paginated Scan), snapshot items left out.
    pub(crate) async fn scan_rules(&self) -> Result<Vec<Entry>, AdminError> {
        let table = &self.tables().rules;
        let mut rules = Vec::new();
        let mut pages = self
            .client()
            .scan()
            .table_name(table)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AdminError::from_sdk(table, e))?;
            rules.extend(
                page.items()
                    .iter()
                    .filter(|item| !is_snapshot_item(item))
                    .map(entry_from_item),
            );
        }
        Ok(rules)
    }
}
