//! Publishing the rules for the Lambda (see [`crate::snapshot`]): after any
//! change to a prefix rule or allow entry, a new snapshot version is
//! written, then the manifest pointing at it, then the old version removed.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::audit::unique_suffix;
use super::{Admin, AdminError};
use crate::entry::BlockEntry;
use crate::snapshot::{self, MANIFEST_KEY, SNAPSHOT_PREFIX, chunk_key};
use crate::store::{attr, entry_from_item};
use crate::when::now_rfc3339_millis;

/// Whether a rules-table item is part of the published snapshot rather than a rule.
pub fn is_snapshot_item(item: &HashMap<String, AttributeValue>) -> bool {
    matches!(item.get(attr::RULE_KEY), Some(AttributeValue::S(k)) if k.starts_with(SNAPSHOT_PREFIX))
}

impl Admin {
    /// Publishes every rule in the rules table; returns how many.
    pub async fn publish_rules(&self) -> Result<usize, AdminError> {
        let table = self.tables().rules.clone();
        let rules = self.scan_rules().await?;
        let chunks = snapshot::encode(&rules);
        let version = format!("{}-{}", now_rfc3339_millis(), unique_suffix());
        let key = |k: String| AttributeValue::S(k);

        let old = self
            .client()
            .get_item()
            .table_name(&table)
            .key(attr::RULE_KEY, key(MANIFEST_KEY.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| AdminError::from_sdk(&table, e))?
            .item;
        for (index, data) in chunks.iter().enumerate() {
            self.client()
                .put_item()
                .table_name(&table)
                .item(attr::RULE_KEY, key(chunk_key(&version, index)))
                .item("data", AttributeValue::S(data.clone()))
                .send()
                .await
                .map_err(|e| AdminError::from_sdk(&table, e))?;
        }
        self.client()
            .put_item()
            .table_name(&table)
            .item(attr::RULE_KEY, key(MANIFEST_KEY.to_owned()))
            .item("version", AttributeValue::S(version))
            .item("chunks", AttributeValue::N(chunks.len().to_string()))
            .item("count", AttributeValue::N(rules.len().to_string()))
            .item("publishedBy", AttributeValue::S(self.actor().to_owned()))
            .send()
            .await
            .map_err(|e| AdminError::from_sdk(&table, e))?;

        // The old version's chunks; a reader that still holds the old
        // manifest fails its load and keeps its last good rules.
        let old_version = old.as_ref().and_then(|m| match m.get("version") {
            Some(AttributeValue::S(v)) => Some(v.clone()),
            _ => None,
        });
        let old_chunks = old.as_ref().and_then(|m| match m.get("chunks") {
            Some(AttributeValue::N(n)) => n.parse::<usize>().ok(),
            _ => None,
        });
        if let (Some(version), Some(count)) = (old_version, old_chunks) {
            for index in 0..count {
                self.client()
                    .delete_item()
                    .table_name(&table)
                    .key(attr::RULE_KEY, key(chunk_key(&version, index)))
                    .send()
                    .await
                    .map_err(|e| AdminError::from_sdk(&table, e))?;
            }
        }
        Ok(rules.len())
    }

    /// Every rule in the rules table (a paginated Scan), snapshot items left out.
    pub(crate) async fn scan_rules(&self) -> Result<Vec<BlockEntry>, AdminError> {
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
