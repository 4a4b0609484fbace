//! Publishing the rules for the Lambda (see [`crate::snapshot`]): after any
//! change to a prefix rule or allow entry, a new snapshot version is
//! written, then the manifest pointing at it, then the old version removed.

use std::time::Duration;

use aws_sdk_dynamodb::Client;

use super::audit::unique_u64;
use super::store::{AdminStore, ItemPrecondition, WriteOutcome};
use super::{Admin, AdminError, Tables};
use crate::entry::EntryTable;
use crate::phone::Normalizer;
use crate::snapshot::{self, MANIFEST_KEY, Manifest, chunk_item, chunk_key};
use crate::when::now_rfc3339_millis;

/// Publishes that lose a race with another publish start over, after a
/// random pause that grows with each attempt.
const PUBLISH_ATTEMPTS: u32 = 20;

/// The pause before publish attempt `attempt` (from 1): half of a ceiling
/// that doubles per attempt (up to 640 ms), plus a random part of it, so
/// racing publishers spread out.
fn retry_pause(attempt: u32) -> Duration {
    let ceiling = 20u64 << attempt.min(5);
    Duration::from_millis(ceiling / 2 + unique_u64() % ceiling)
}

/// Publishes the rules of the DynamoDB table `rules_table` as `actor`, with
/// no other table involved (publishing writes no audit record): for tests,
/// benchmarks and tools that fill a rules table by other means.
pub async fn publish_rules_table(
    client: &Client,
    rules_table: &str,
    actor: &str,
) -> Result<usize, AdminError> {
    let tables = Tables {
        blocklist: String::new(),
        rules: rules_table.to_owned(),
        audit: String::new(),
    };
    Admin::new(client.clone(), tables, actor, Normalizer::default())
        .publish_rules()
        .await
}

impl<S: AdminStore> Admin<S> {
    /// Publishes every rule in the rules table; returns how many.
    ///
    /// The manifest is read before the rules and replaced only if it is
    /// still that one, so a publish that raced another (and may have read
    /// the rules before the other's change) starts over instead of
    /// overwriting a newer snapshot with an older one.
    pub async fn publish_rules(&self) -> Result<usize, AdminError> {
        for attempt in 0..PUBLISH_ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(retry_pause(attempt)).await;
            }
            if let Some(count) = self.try_publish().await? {
                return Ok(count);
            }
        }
        Err(AdminError::Conflict {
            value: "the published rules".to_owned(),
        })
    }

    /// One publish attempt: the number of rules published, or `None` when
    /// another publish replaced the manifest first.
    async fn try_publish(&self) -> Result<Option<usize>, AdminError> {
        let old = self.manifest().await?;
        let rules = self.store().scan(EntryTable::Rules).await?;
        let chunks = snapshot::encode(&rules);
        let manifest = Manifest {
            version: format!("{}-{:016x}", now_rfc3339_millis(), unique_u64()),
            chunks: chunks.len(),
            count: rules.len(),
            published_by: self.actor().to_owned(),
        };
        for (index, data) in chunks.iter().enumerate() {
            let item = chunk_item(&manifest.version, index, data);
            self.store()
                .put_rules_item(item, &ItemPrecondition::None)
                .await?;
        }
        let expected = match &old {
            None => ItemPrecondition::Absent,
            Some(m) => ItemPrecondition::Version(m.version.clone()),
        };
        let outcome = self
            .store()
            .put_rules_item(manifest.to_item(), &expected)
            .await?;
        // The chunks no manifest points to any more: the old version's, or
        // ours when another publish got in first. A reader that still holds
        // the old manifest fails its load and keeps its last rules.
        match (outcome, old) {
            (WriteOutcome::Written, Some(old)) => self.delete_chunks(&old).await?,
            (WriteOutcome::Written, None) => {}
            (WriteOutcome::Conflict, _) => {
                self.delete_chunks(&manifest).await?;
                return Ok(None);
            }
        }
        Ok(Some(rules.len()))
    }

    /// The current manifest (a consistent read); an unreadable one counts as none.
    async fn manifest(&self) -> Result<Option<Manifest>, AdminError> {
        let item = self.store().rules_item(MANIFEST_KEY).await?;
        Ok(item.and_then(|m| Manifest::from_item(&m).ok()))
    }

    async fn delete_chunks(&self, manifest: &Manifest) -> Result<(), AdminError> {
        for index in 0..manifest.chunks {
            self.store()
                .delete_rules_item(&chunk_key(&manifest.version, index))
                .await?;
        }
        Ok(())
    }
}
