//! The published rules: a compact copy of every prefix rule and allow entry
//! that the Lambda reads with GetItem only, so its role needs no Scan.
//!
//! In the rules table, next to the rules themselves:
//! - `snapshot#manifest`: `version` (unique, sortable) and `chunks` (count);
//! - `snapshot#<version>#<i>`: `data`, a JSON array of rules, each item kept
//!   under DynamoDB's 400 KB item limit.
//!
//! The CLI publishes a new version after every rule change: chunks first,
//! then the manifest, then it deletes the old version's chunks. A reader
//! that reads the manifest and then its chunks never mixes two versions.

use serde::{Deserialize, Serialize};

use crate::entry::{BlockAction, Entry, Kind};

/// Key prefix of every snapshot item; rule keys never start with it.
pub const SNAPSHOT_PREFIX: &str = "snapshot#";
/// Key of the manifest item.
pub const MANIFEST_KEY: &str = "snapshot#manifest";
/// Largest `data` string per chunk item (DynamoDB items are at most 400 KB).
pub const MAX_CHUNK_BYTES: usize = 300_000;

/// The key of chunk `index` of `version`.
pub fn chunk_key(version: &str, index: usize) -> String {
    format!("{SNAPSHOT_PREFIX}{version}#{index}")
}

/// One rule as published: short field names keep chunks small.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Published {
    k: String,
    v: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    r: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    c: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    e: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    a: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    m: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    q: Option<String>,
}

/// A snapshot chunk could not be read.
#[derive(Debug, thiserror::Error)]
#[error("the published rules are unreadable ({0}); run `blocklist publish-rules`")]
pub struct SnapshotError(String);

/// Encodes rules (entries of the rule kinds; others are skipped) as chunks
/// of at most [`MAX_CHUNK_BYTES`] each. Always at least one chunk.
pub fn encode(entries: &[Entry]) -> Vec<String> {
    let mut chunks = Vec::new();
    let mut current: Vec<String> = Vec::new();
    let mut size = 2;
    for e in entries.iter().filter(|e| e.kind != Kind::Block) {
        let published = Published {
            k: e.kind.as_str().to_owned(),
            v: e.value.clone(),
            r: e.reason.clone(),
            c: e.created_at.clone(),
            e: e.expires_at,
            a: e.action.map(|a| a.as_str().to_owned()),
            m: e.message.clone(),
            q: e.queue_arn.clone(),
        };
        // Serializing a plain struct of strings and numbers cannot fail.
        let json = serde_json::to_string(&published).unwrap_or_default();
        if size + json.len() + 1 > MAX_CHUNK_BYTES && !current.is_empty() {
            chunks.push(format!("[{}]", current.join(",")));
            current.clear();
            size = 2;
        }
        size += json.len() + 1;
        current.push(json);
    }
    chunks.push(format!("[{}]", current.join(",")));
    chunks
}

/// Decodes one chunk back into rule entries.
pub fn decode(chunk: &str) -> Result<Vec<Entry>, SnapshotError> {
    let published: Vec<Published> =
        serde_json::from_str(chunk).map_err(|e| SnapshotError(e.to_string()))?;
    published
        .into_iter()
        .map(|p| {
            let kind: Kind =
                p.k.parse()
                    .map_err(|e: crate::wire::UnknownName| SnapshotError(e.to_string()))?;
            Ok(Entry {
                kind,
                value: p.v,
                reason: p.r,
                created_at: p.c,
                expires_at: p.e,
                action: p.a.and_then(|a| a.parse::<BlockAction>().ok()),
                message: p.m,
                queue_arn: p.q,
                ..Entry::default()
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(kind: Kind, value: &str, reason: &str) -> Entry {
        Entry {
            kind,
            value: value.into(),
            reason: Some(reason.into()),
            expires_at: Some(1_900_000_000),
            action: (kind == Kind::Prefix).then_some(BlockAction::Message),
            message: (kind == Kind::Prefix).then(|| "no premium calls".to_owned()),
            ..Entry::default()
        }
    }

    #[test]
    fn round_trips_and_skips_exact_blocks() {
        let entries = vec![
            rule(Kind::Prefix, "+1900", "premium"),
            rule(Kind::Allow, "+14155550100", "test line"),
            rule(Kind::Block, "+14155550123", "not a rule"),
            rule(Kind::AllowPrefix, "+4420", "office"),
        ];
        let chunks = encode(&entries);
        assert_eq!(chunks.len(), 1);
        let back: Vec<Entry> = chunks.iter().flat_map(|c| decode(c).unwrap()).collect();
        let want: Vec<Entry> = entries
            .into_iter()
            .filter(|e| e.kind != Kind::Block)
            .collect();
        assert_eq!(back, want);
    }

    #[test]
    fn large_sets_split_into_chunks_under_the_item_limit() {
        let entries: Vec<Entry> = (0..20_000)
            .map(|i| {
                rule(
                    Kind::Prefix,
                    &format!("+44{:06}", i),
                    "a reason long enough to matter",
                )
            })
            .collect();
        let chunks = encode(&entries);
        assert!(chunks.len() > 1);
        assert!(chunks.iter().all(|c| c.len() <= MAX_CHUNK_BYTES));
        let back: usize = chunks.iter().map(|c| decode(c).unwrap().len()).sum();
        assert_eq!(back, 20_000);
    }

    #[test]
    fn nothing_published_is_one_empty_chunk() {
        assert_eq!(encode(&[]), ["[]"]);
        assert_eq!(decode("[]").unwrap(), vec![]);
        assert!(decode("not json").is_err());
    }
}
