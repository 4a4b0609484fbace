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

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};

use crate::entry::{BlockAction, Entry, EntryTable, Kind, Mode};
use crate::store::attr;

/// A rules-table item as DynamoDB holds it.
pub type Item = HashMap<String, AttributeValue>;

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
    /// The mode, when not `block`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    o: Option<String>,
    /// The lines, when any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    l: Vec<String>,
}

/// Why the published rules could not be read. Says only what is wrong;
/// [`crate::store::StoreError::UnreadableRules`] names the table and the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SnapshotError(pub(crate) String);

/// The manifest item: which version is published, in how many chunks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// Unique and sortable: the publish time and a random suffix.
    pub version: String,
    /// How many chunk items the version has.
    pub chunks: usize,
    /// How many rules it holds.
    pub count: usize,
    /// Who published it.
    pub published_by: String,
}

impl Manifest {
    /// Reads the manifest item; `version` and `chunks` are required.
    pub fn from_item(item: &Item) -> Result<Manifest, SnapshotError> {
        let text = |name: &str| match item.get(name) {
            Some(AttributeValue::S(v) | AttributeValue::N(v)) => Some(v.clone()),
            _ => None,
        };
        let number = |name: &str| text(name).and_then(|n| n.parse::<usize>().ok());
        Ok(Manifest {
            version: text("version").ok_or_else(|| missing("manifest without version"))?,
            chunks: number("chunks").ok_or_else(|| missing("manifest without chunks"))?,
            count: number("count").unwrap_or_default(),
            published_by: text("publishedBy").unwrap_or_default(),
        })
    }

    /// The manifest as an item of the rules table (key included).
    pub fn to_item(&self) -> Item {
        HashMap::from([
            (attr::RULE_KEY.to_owned(), s(MANIFEST_KEY)),
            ("version".to_owned(), s(&self.version)),
            ("chunks".to_owned(), n(self.chunks)),
            ("count".to_owned(), n(self.count)),
            ("publishedBy".to_owned(), s(&self.published_by)),
        ])
    }
}

/// Chunk `index` of `version` as an item of the rules table (key included).
pub fn chunk_item(version: &str, index: usize, data: &str) -> Item {
    HashMap::from([
        (attr::RULE_KEY.to_owned(), s(&chunk_key(version, index))),
        ("data".to_owned(), s(data)),
    ])
}

/// The rules in a chunk item.
pub fn chunk_entries(item: &Item) -> Result<Vec<Entry>, SnapshotError> {
    match item.get("data") {
        Some(AttributeValue::S(data)) => decode(data),
        _ => Err(missing("chunk without data")),
    }
}

/// Whether a rules-table item is part of the published snapshot rather than a rule.
pub fn is_snapshot_item(item: &Item) -> bool {
    matches!(item.get(attr::RULE_KEY), Some(AttributeValue::S(k)) if k.starts_with(SNAPSHOT_PREFIX))
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

fn n(v: usize) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn missing(what: &str) -> SnapshotError {
    SnapshotError(what.to_owned())
}

/// Encodes rules (entries of the rule kinds; others are skipped) as chunks
/// of at most [`MAX_CHUNK_BYTES`] each. Always at least one chunk.
pub fn encode(entries: &[Entry]) -> Vec<String> {
    let mut chunks = Vec::new();
    let mut current: Vec<String> = Vec::new();
    let mut size = 2;
    for e in entries
        .iter()
        .filter(|e| e.kind.table() == EntryTable::Rules)
    {
        let published = Published {
            k: e.kind.as_str().to_owned(),
            v: e.value.clone(),
            r: e.reason.clone(),
            c: e.created_at.clone(),
            e: e.expires_at,
            a: e.action.map(|a| a.as_str().to_owned()),
            m: e.message.clone(),
            q: e.queue_arn.clone(),
            o: (e.mode != Mode::Block).then(|| e.mode.as_str().to_owned()),
            l: e.lines.clone(),
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
            let unknown = |e: crate::wire::UnknownName| SnapshotError(e.to_string());
            let kind: Kind = p.k.parse().map_err(unknown)?;
            // An unknown mode is refused, not read as `block`: a rule a
            // newer CLI published to watch must not start blocking here.
            let mode: Mode =
                p.o.as_deref()
                    .map_or(Ok(Mode::Block), str::parse)
                    .map_err(unknown)?;
            Ok(Entry {
                kind,
                value: p.v,
                reason: p.r,
                created_at: p.c,
                expires_at: p.e,
                action: p.a.and_then(|a| a.parse::<BlockAction>().ok()),
                message: p.m,
                queue_arn: p.q,
                mode,
                lines: p.l,
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
            mode: if kind == Kind::Prefix {
                Mode::Monitor
            } else {
                Mode::Block
            },
            lines: if kind == Kind::Allow {
                vec!["+18005550100".to_owned()]
            } else {
                Vec::new()
            },
            ..Entry::default()
        }
    }

    /// A mode this build does not know must not read as `block`.
    #[test]
    fn an_unknown_mode_is_refused() {
        let err = decode(r#"[{"k":"prefix","v":"+1900","o":"shadow"}]"#).unwrap_err();
        assert!(err.to_string().contains("`shadow` is not a mode"), "{err}");
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
    fn manifest_and_chunk_items_round_trip() {
        let manifest = Manifest {
            version: "2026-12-01T00:00:00.000Z-00ff".into(),
            chunks: 2,
            count: 7,
            published_by: "tests".into(),
        };
        assert_eq!(Manifest::from_item(&manifest.to_item()), Ok(manifest));
        let rules = vec![rule(Kind::Prefix, "+1900", "premium")];
        let item = chunk_item("v1", 0, &encode(&rules)[0]);
        assert!(is_snapshot_item(&item));
        assert_eq!(chunk_entries(&item), Ok(rules));
    }

    #[test]
    fn a_broken_manifest_or_chunk_says_what_is_missing() {
        let mut item = Manifest {
            version: "v".into(),
            chunks: 1,
            count: 1,
            published_by: String::new(),
        }
        .to_item();
        item.remove("chunks");
        let err = Manifest::from_item(&item).unwrap_err();
        assert_eq!(err.to_string(), "manifest without chunks");
        let err = chunk_entries(&HashMap::new()).unwrap_err();
        assert_eq!(err.to_string(), "chunk without data");
    }

    #[test]
    fn nothing_published_is_one_empty_chunk() {
        assert_eq!(encode(&[]), ["[]"]);
        assert_eq!(decode("[]").unwrap(), vec![]);
        assert!(decode("not json").is_err());
    }
}
