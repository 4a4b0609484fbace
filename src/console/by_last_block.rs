//! The entries list in last-block order, across the whole list: first the
//! entries that have blocked a call, newest block first, read from the hit
//! index of both tables ([`crate::store::HIT_INDEX`]) and merged; then the
//! entries that never blocked one, in scan order. A page reads only as far
//! as it needs, like the list in scan order, so the order costs the same
//! at a million entries as at a hundred.
//!
//! The order is of the index as it is read: an entry that blocks again
//! while someone pages moves to the top (a page already passed), and the
//! index is eventually consistent, so a block of a moment ago may not be
//! in it yet.

use std::collections::VecDeque;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures_util::future::try_join_all;
use serde::{Deserialize, Serialize};

use super::api::{ApiError, Cursor, ListPage, MAX_SCAN_BATCH, list_page_in};
use crate::admin::AdminError;
use crate::admin::store::{AdminStore, HitKey, ScanScope};
use crate::entry::{Entry, EntryTable};

/// How far one table's part of the hit index has been read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum HitPosition {
    /// Not read yet: from the newest block.
    Start,
    /// Read up to and including this item.
    After(HitKey),
    /// Read to its end (or not read at all: a `kind` of the other table).
    Done,
}

/// Where a page in last-block order starts while it is in the hit index:
/// how far each table's part of the index has been merged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HitCursor {
    #[serde(rename = "b")]
    pub blocklist: HitPosition,
    #[serde(rename = "r")]
    pub rules: HitPosition,
}

impl HitCursor {
    /// The first page: both tables' parts from the newest block, or with
    /// `only`, that table's alone.
    pub fn start(only: Option<EntryTable>) -> HitCursor {
        let from = |table| match only {
            Some(t) if t != table => HitPosition::Done,
            _ => HitPosition::Start,
        };
        HitCursor {
            blocklist: from(EntryTable::Blocklist),
            rules: from(EntryTable::Rules),
        }
    }

    fn position(&mut self, table: EntryTable) -> &mut HitPosition {
        match table {
            EntryTable::Blocklist => &mut self.blocklist,
            EntryTable::Rules => &mut self.rules,
        }
    }

    fn is_done(&self) -> bool {
        self.blocklist == HitPosition::Done && self.rules == HitPosition::Done
    }
}

/// Where a page of the list in last-block order starts: in the hit index,
/// or past it, in the scan of the entries that never blocked a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LastBlockCursor {
    Hits(HitCursor),
    Rest(Cursor),
}

/// What a [`LastBlockCursor::Hits`] is sent as, before base64.
const HITS_TAG: &str = "h:";

impl LastBlockCursor {
    /// The opaque string the page gets (base64, as the scan's cursor).
    pub fn encode(&self) -> Result<String, ApiError> {
        match self {
            LastBlockCursor::Hits(hits) => {
                let json = serde_json::to_string(hits)
                    .map_err(|e| ApiError::BadRequest(format!("a cursor failed to encode: {e}")))?;
                Ok(URL_SAFE_NO_PAD.encode(format!("{HITS_TAG}{json}")))
            }
            LastBlockCursor::Rest(rest) => Ok(rest.encode()),
        }
    }

    /// Reads what [`LastBlockCursor::encode`] made.
    pub fn decode(cursor: &str) -> Result<LastBlockCursor, ApiError> {
        let plain = URL_SAFE_NO_PAD
            .decode(cursor)
            .ok()
            .and_then(|b| String::from_utf8(b).ok());
        match plain.as_deref().and_then(|p| p.strip_prefix(HITS_TAG)) {
            Some(json) => serde_json::from_str(json)
                .map(LastBlockCursor::Hits)
                .map_err(|_| ApiError::Cursor(cursor.chars().take(100).collect())),
            None => Cursor::decode(cursor).map(LastBlockCursor::Rest),
        }
    }
}

/// One page in last-block order, as [`last_block_page`] read it.
#[derive(Debug, Clone, Default)]
pub struct LastBlockPage {
    /// The entries that passed the filter, in last-block order.
    pub entries: Vec<Entry>,
    /// Where the next page starts; none at the end of the list.
    pub next: Option<LastBlockCursor>,
    /// How many items were read.
    pub read: usize,
}

/// Reads on from `from` until `size` entries pass `keep`, the list ends, or
/// `max_read` items were read: the hit index first (newest block first,
/// both tables merged), then, once it is read to its end, the entries
/// outside it (with `only`, that table's alone).
pub async fn last_block_page<S: AdminStore>(
    store: &S,
    from: LastBlockCursor,
    only: Option<EntryTable>,
    size: usize,
    max_read: usize,
    keep: impl Fn(&Entry) -> bool,
) -> Result<LastBlockPage, AdminError> {
    let (mut page, rest_from) = match from {
        LastBlockCursor::Rest(cursor) => (LastBlockPage::default(), cursor),
        LastBlockCursor::Hits(hits) => {
            let page = merge_hits(store, hits, size, max_read, &keep).await?;
            match &page.next {
                Some(LastBlockCursor::Hits(h)) if h.is_done() => {
                    let start = Cursor {
                        table: only.unwrap_or(EntryTable::Blocklist),
                        after: None,
                    };
                    (page, start)
                }
                _ => return Ok(page),
            }
        }
    };
    if page.entries.len() >= size || page.read >= max_read {
        page.next = Some(LastBlockCursor::Rest(rest_from));
        return Ok(page);
    }
    let rest: ListPage = list_page_in(
        store,
        rest_from,
        only,
        ScanScope::OutsideHitIndex,
        size - page.entries.len(),
        max_read - page.read,
        keep,
    )
    .await?;
    page.entries.extend(rest.entries);
    page.read += rest.read;
    page.next = rest.next.map(LastBlockCursor::Rest);
    Ok(page)
}

/// One table's part of the hit index as the merge reads it: what was read
/// and not yet taken, and whether the index holds more after it.
struct HitStream {
    table: EntryTable,
    buffered: VecDeque<(HitKey, Entry)>,
    more: bool,
}

/// Reads the next Query page of each part that has nothing buffered but
/// more in the index, the two tables' at once (they are independent: a
/// page that needs both waits for one round trip, not two), sharing the
/// `budget` of items left to read (at least one each). Answers how many
/// items were read; each request counts at least one, so the read bound
/// always ends the merge.
async fn refill<S: AdminStore>(
    store: &S,
    streams: &mut [HitStream],
    at: &mut HitCursor,
    batch: usize,
    budget: usize,
) -> Result<usize, AdminError> {
    let mut wanted = Vec::new();
    for (i, stream) in streams.iter().enumerate() {
        if stream.buffered.is_empty() && stream.more {
            let after = match at.position(stream.table) {
                HitPosition::After(key) => Some(key.clone()),
                HitPosition::Start | HitPosition::Done => None,
            };
            wanted.push((i, stream.table, after));
        }
    }
    if wanted.is_empty() {
        return Ok(0);
    }
    let limit = batch.min(budget / wanted.len()).max(1);
    let pages = try_join_all(
        wanted
            .iter()
            .map(|(_, table, after)| store.blocked_page(*table, after.as_ref(), limit)),
    )
    .await?;
    let mut read = 0;
    for ((i, table, _), got) in wanted.into_iter().zip(pages) {
        read += got.read.max(1);
        let stream = &mut streams[i];
        stream.buffered.extend(got.entries);
        stream.more = got.last.is_some();
        if stream.buffered.is_empty() {
            // Nothing returned: past `last` (or the end) is where to go on.
            *at.position(table) = match got.last {
                Some(last) => HitPosition::After(last),
                None => HitPosition::Done,
            };
        }
    }
    Ok(read)
}

/// Merges the tables' parts of the hit index from `from`, newest block
/// first, until `size` entries pass `keep` or `max_read` items were read.
/// Each part is read a Query page at a time (`size` items, then twice as
/// many each time, to [`MAX_SCAN_BATCH`]); an item is taken only when the
/// other part's next item is known, so the merge is exact.
async fn merge_hits<S: AdminStore>(
    store: &S,
    from: HitCursor,
    size: usize,
    max_read: usize,
    keep: impl Fn(&Entry) -> bool,
) -> Result<LastBlockPage, AdminError> {
    let mut at = from;
    let mut streams: Vec<HitStream> = [EntryTable::Blocklist, EntryTable::Rules]
        .into_iter()
        .filter(|t| *at.position(*t) != HitPosition::Done)
        .map(|table| HitStream {
            table,
            buffered: VecDeque::new(),
            more: true,
        })
        .collect();
    let (mut entries, mut read, mut batch) = (Vec::new(), 0, size.max(1));
    while entries.len() < size {
        // Past the read bound, a part is still read, an item at a time,
        // until an item is taken (below): each page moves the cursor on.
        read += refill(
            store,
            &mut streams,
            &mut at,
            batch,
            max_read.saturating_sub(read),
        )
        .await?;
        batch = (batch * 2).min(MAX_SCAN_BATCH);
        // A part with nothing buffered but more to read holds the merge
        // back: its next item could be the newest.
        if streams.iter().any(|s| s.buffered.is_empty() && s.more) {
            continue;
        }
        let Some(newest) = streams
            .iter_mut()
            .filter(|s| !s.buffered.is_empty())
            .max_by(|a, b| a.buffered[0].0.cmp(&b.buffered[0].0))
        else {
            break;
        };
        let Some((key, entry)) = newest.buffered.pop_front() else {
            break;
        };
        *at.position(newest.table) = if newest.buffered.is_empty() && !newest.more {
            HitPosition::Done
        } else {
            HitPosition::After(key)
        };
        if keep(&entry) {
            entries.push(entry);
        }
        if read >= max_read && streams.iter().any(|s| s.buffered.is_empty() && s.more) {
            break;
        }
    }
    Ok(LastBlockPage {
        entries,
        next: Some(LastBlockCursor::Hits(at)),
        read,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::Kind;
    use crate::store::memory::MemoryStore;

    /// 30 exact blocks and 12 rules of three kinds; every third of each
    /// blocked at a time (some times shared, across the two tables).
    fn store() -> MemoryStore {
        let store = MemoryStore::new();
        let at = |n: usize| Some(format!("2026-11-{:02}T10:00:00Z", 1 + n % 9));
        for n in 0..30 {
            store.insert(Entry {
                kind: Kind::Block,
                value: format!("+1415555{n:04}"),
                last_blocked_at: if n % 3 == 0 { at(n) } else { None },
                ..Entry::default()
            });
        }
        for n in 0..12 {
            store.insert(Entry {
                kind: [Kind::Prefix, Kind::Allow, Kind::AllowPrefix][n % 3],
                value: format!("+1900{n:03}"),
                last_blocked_at: if n % 2 == 0 { at(n + 4) } else { None },
                ..Entry::default()
            });
        }
        store
    }

    /// Every page from the first, following `next` through its string.
    async fn walk(
        store: &MemoryStore,
        only: Option<EntryTable>,
        size: usize,
        max_read: usize,
        keep: impl Fn(&Entry) -> bool,
    ) -> Vec<Entry> {
        let mut seen = Vec::new();
        let mut at = Some(LastBlockCursor::Hits(HitCursor::start(only)));
        for _ in 0..1000 {
            let Some(from) = at else {
                return seen;
            };
            let page = last_block_page(store, from, only, size, max_read, &keep)
                .await
                .unwrap();
            assert!(page.entries.len() <= size);
            // Past the bound, at most one more item of each table's part.
            assert!(
                page.read <= max_read + 2,
                "read {} of {max_read}",
                page.read
            );
            seen.extend(page.entries);
            at = page
                .next
                .map(|c| LastBlockCursor::decode(&c.encode().unwrap()).unwrap());
        }
        panic!("the walk did not end");
    }

    /// The last blocks of `seen`, which must be newest first, then none.
    fn assert_in_last_block_order(seen: &[Entry]) {
        let times: Vec<_> = seen.iter().map(|e| e.last_blocked_at.clone()).collect();
        let mut sorted = times.clone();
        sorted.sort_by(|a, b| b.cmp(a));
        assert_eq!(times, sorted, "newest block first, never blocked last");
    }

    fn keys(entries: &[Entry]) -> Vec<(Kind, String)> {
        let mut keys: Vec<_> = entries.iter().map(|e| (e.kind, e.value.clone())).collect();
        keys.sort();
        keys
    }

    #[tokio::test]
    async fn pages_follow_the_last_block_across_both_tables_and_cover_every_entry_once() {
        let store = store();
        let all = keys(&store.entries());
        for (size, max_read) in [
            (1, 5000),
            (4, 5000),
            (7, 3),
            (25, 5000),
            (200, 5000),
            (5, 1),
        ] {
            let seen = walk(&store, None, size, max_read, |_| true).await;
            assert_in_last_block_order(&seen);
            assert_eq!(
                keys(&seen),
                all,
                "each entry once, size {size}, max_read {max_read}"
            );
        }
    }

    #[tokio::test]
    async fn a_filter_and_a_kind_keep_the_order_and_read_one_table() {
        let store = store();
        let prefixes = |e: &Entry| e.kind == Kind::Prefix;
        let seen = walk(&store, Some(EntryTable::Rules), 2, 5000, prefixes).await;
        assert_in_last_block_order(&seen);
        let expected: Vec<_> = store.entries().into_iter().filter(prefixes).collect();
        assert_eq!(keys(&seen), keys(&expected));
        assert!(seen.iter().any(|e| e.last_blocked_at.is_some()));
        assert!(seen.iter().any(|e| e.last_blocked_at.is_none()));
    }

    #[tokio::test]
    async fn a_page_reads_only_as_far_as_it_needs() {
        let store = store();
        let page = last_block_page(
            &store,
            LastBlockCursor::Hits(HitCursor::start(None)),
            None,
            3,
            5000,
            |_| true,
        )
        .await
        .unwrap();
        assert_eq!(page.entries.len(), 3);
        // One Query of each table's part, 3 items each.
        assert_eq!(page.read, 6);
        assert!(matches!(page.next, Some(LastBlockCursor::Hits(_))));
    }

    #[test]
    fn cursors_read_back_and_a_foreign_one_is_refused() {
        let hits = LastBlockCursor::Hits(HitCursor {
            blocklist: HitPosition::After(HitKey {
                at: "2026-11-01T10:00:00Z".into(),
                key: "+14155550000".into(),
            }),
            rules: HitPosition::Done,
        });
        let rest = LastBlockCursor::Rest(Cursor::start());
        for c in [hits, rest] {
            assert_eq!(LastBlockCursor::decode(&c.encode().unwrap()).unwrap(), c);
        }
        let forged = URL_SAFE_NO_PAD.encode("h:{\"b\":\"nowhere\"}");
        assert!(matches!(
            LastBlockCursor::decode(&forged),
            Err(ApiError::Cursor(_))
        ));
        assert!(LastBlockCursor::decode("%%%").is_err());
    }
}
