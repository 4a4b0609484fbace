//! The console's API handlers: each reads its input, calls [`Admin`] (or
//! the checker, as `blocklist check` does) and answers JSON. Failures are
//! `{"error": message}` with a status that says whose fault it was.

use std::str::FromStr;

use axum::Json;
use axum::extract::Query;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::{Value, json};

use super::Session;
use super::by_last_block::{HitCursor, LastBlockCursor, last_block_page};
use crate::admin::audit::AuditRecord;
use crate::admin::import::RowRangeError;
use crate::admin::store::{AdminStore, ScanScope};
use crate::admin::{Admin, AdminError};
use crate::cli::args::{ActionArgs, EntryArgs};
use crate::cli::output::{entry_json, explain};
use crate::cli::{CliError, check_number, entry_fields_at, idle_since, with_action};
use crate::entry::{BlockAction, Entry, EntryTable, Kind, Mode, Status};
use crate::phone::E164;
use crate::when::{now_epoch, parse_duration};

/// The most entries one page of `/api/entries` holds.
pub const MAX_PAGE_SIZE: usize = 200;
const DEFAULT_PAGE_SIZE: usize = 25;

/// A request failed; the message says what to fix.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Admin(#[from] AdminError),
    /// A field the CLI's own reading refused (an expiry, an action).
    #[error("{0}")]
    Field(String),
    #[error("a reason is required: say why, for the audit trail")]
    ReasonRequired,
    #[error(
        "`{0}` is not a kind of entry the console changes: block, prefix, allow or allowPrefix (reports come from agents: approve or reject them)"
    )]
    Kind(String),
    #[error("`{0}` is not a filter value here: {1}")]
    Filter(String, &'static str),
    #[error(
        "`{0}` is not a cursor of this list: start from the first page (no `cursor`), and pass each page's `next` as it is"
    )]
    Cursor(String),
    #[error("the request could not be read: {0}")]
    BadRequest(String),
    #[error(transparent)]
    Rows(#[from] RowRangeError),
    #[error("there is no {kind} entry for {value}, and no audit record of one")]
    NotFound { kind: Kind, value: String },
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Admin(e) => admin_status(e),
            ApiError::NotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::Field(_)
            | ApiError::ReasonRequired
            | ApiError::Kind(_)
            | ApiError::Filter(..)
            | ApiError::Cursor(_)
            | ApiError::BadRequest(_)
            | ApiError::Rows(_) => StatusCode::BAD_REQUEST,
        }
    }
}

/// Bad input 400, no such entry 404, someone else's change 409, DynamoDB 502.
fn admin_status(err: &AdminError) -> StatusCode {
    match err {
        AdminError::Target(_)
        | AdminError::InvalidAction(_)
        | AdminError::ExpiryInPast(_)
        | AdminError::Time(_) => StatusCode::BAD_REQUEST,
        AdminError::NotFound { .. }
        | AdminError::NotPending { .. }
        | AdminError::NotMonitoring { .. } => StatusCode::NOT_FOUND,
        AdminError::AlreadyExists { .. } | AdminError::Conflict { .. } => StatusCode::CONFLICT,
        AdminError::Unpublished(_)
        | AdminError::TableNotFound { .. }
        | AdminError::NoHitIndex { .. }
        | AdminError::Request { .. }
        | AdminError::Store(_) => StatusCode::BAD_GATEWAY,
    }
}

impl From<CliError> for ApiError {
    fn from(err: CliError) -> ApiError {
        match err {
            CliError::Admin(e) => ApiError::Admin(e),
            other => ApiError::Field(other.to_string()),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(err: JsonRejection) -> ApiError {
        ApiError::BadRequest(err.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(err: QueryRejection) -> ApiError {
        ApiError::BadRequest(err.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        error_response(self.status(), &self.to_string())
    }
}

/// `{"error": message}` with `status`.
pub fn error_response(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

type Answer = Result<Json<Value>, ApiError>;

/// An entry as the page shows it: every field `blocklist list --output
/// json` prints, and the report's contact and the entry's version.
pub(crate) fn entry_view(e: &Entry, now: i64) -> Value {
    let mut view = entry_json(e, now);
    view["contactId"] = e.contact_id.as_deref().unwrap_or_default().into();
    view["version"] = e.version.into();
    view
}

/// One audit record for the timeline: who, when, what, why, before, after.
fn record_view(r: &AuditRecord) -> Value {
    let side = |e: &Option<Entry>| e.as_ref().map_or(Value::Null, |e| entry_view(e, i64::MIN));
    json!({
        "at": r.at,
        "action": r.action.as_str(),
        "key": r.key,
        "actor": r.actor,
        "identity": r.identity.as_deref().unwrap_or_default(),
        "reason": r.reason.as_deref().unwrap_or_default(),
        "source": r.source,
        "auditId": r.audit_id,
        "before": side(&r.before),
        "after": side(&r.after),
    })
}

/// A change's reason: required, and not only spaces.
pub(crate) fn required_reason(reason: Option<String>) -> Result<String, ApiError> {
    reason
        .filter(|r| !r.trim().is_empty())
        .ok_or(ApiError::ReasonRequired)
}

/// A kind the console changes (reports are only approved or rejected).
fn changeable_kind(kind: &str) -> Result<Kind, ApiError> {
    match Kind::from_str(kind) {
        Ok(Kind::Report) | Err(_) => Err(ApiError::Kind(kind.to_owned())),
        Ok(k) => Ok(k),
    }
}

/// An optional wire name (`""` is none), or a [`ApiError::Filter`] naming
/// what it may be.
fn optional<T: FromStr>(value: &str, expected: &'static str) -> Result<Option<T>, ApiError> {
    match value {
        "" => Ok(None),
        v => T::from_str(v)
            .map(Some)
            .map_err(|_| ApiError::Filter(v.to_owned(), expected)),
    }
}

#[derive(Debug, Deserialize)]
pub struct NormalizeQuery {
    input: String,
    #[serde(default)]
    kind: String,
}

/// `GET /api/normalize?input=&kind=`: the number (or prefix) as the Lambda
/// reads it and its country, or why it is refused. Reads nothing stored.
pub async fn normalize(s: Session, q: Result<Query<NormalizeQuery>, QueryRejection>) -> Answer {
    let Query(q) = q?;
    let kind = optional::<Kind>(&q.kind, "block, prefix, allow, allowPrefix or report")?;
    Ok(Json(
        match s.admin.target(kind.unwrap_or_default(), &q.input) {
            Ok(t) => {
                let region = E164::from_canonical(&t.value).and_then(|n| n.region());
                let country = if t.kind.is_prefix() { None } else { region };
                json!({ "valid": true, "value": t.value, "country": country })
            }
            Err(e) => json!({ "valid": false, "error": e.to_string() }),
        },
    ))
}

/// `GET /api/whoami`: who changes are recorded as, with which role, and
/// on which tables.
pub async fn whoami(s: Session) -> Json<Value> {
    let tables = s.admin.tables();
    Json(json!({
        "actor": s.admin.actor(),
        "role": s.role.as_str(),
        "identity": s.admin.author().identity.as_deref().unwrap_or_default(),
        "tables": { "blocklist": tables.blocklist, "rules": tables.rules, "audit": tables.audit },
    }))
}

/// The filters, sort and page of `GET /api/entries`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ListQuery {
    pub kind: String,
    /// `active`, `pending`, `expired`, `all`; none: all but expired ones.
    pub status: String,
    pub action: String,
    pub mode: String,
    /// An age (90d, 12h): only blocks idle that long, as `list --not-hit-since`.
    pub not_hit_since: String,
    /// How the page's entries are ordered: `value` (kind, then number; the
    /// default) or `lastBlocked` (latest first). Within the page only.
    pub sort: String,
    /// Where the page starts: a previous page's `next`; none, the first.
    pub cursor: String,
    /// Page numbers are gone (a page number needs the whole table): any is
    /// refused with a message that says to follow `next`.
    pub page: Option<String>,
    pub page_size: Option<usize>,
}

impl ListQuery {
    /// Entries per page, within 1 to [`MAX_PAGE_SIZE`].
    fn size(&self) -> usize {
        self.page_size
            .unwrap_or(DEFAULT_PAGE_SIZE)
            .clamp(1, MAX_PAGE_SIZE)
    }
}

/// The most items one `GET /api/entries` reads (both tables together): a
/// filter that few entries pass answers a short page with a `next` rather
/// than read a million items in one request.
pub const MAX_READ_PER_REQUEST: usize = 5_000;
/// The most items one Scan (or Query) request of a list page asks for.
pub(crate) const MAX_SCAN_BATCH: usize = 1_000;

/// Where a page of the list starts: a table (the blocklist's is read first,
/// then the rules'), and the key of the item it starts after (none: the
/// table's start). Sent as an opaque string: base64 of `b:KEY` / `r:KEY`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub table: EntryTable,
    pub after: Option<String>,
}

impl Cursor {
    /// The start of the list.
    pub fn start() -> Cursor {
        Cursor {
            table: EntryTable::Blocklist,
            after: None,
        }
    }

    /// The start of the table after `table`, if there is one.
    fn after_table(table: EntryTable) -> Option<Cursor> {
        (table == EntryTable::Blocklist).then_some(Cursor {
            table: EntryTable::Rules,
            after: None,
        })
    }

    /// The opaque string the page gets.
    pub fn encode(&self) -> String {
        let table = match self.table {
            EntryTable::Blocklist => "b",
            EntryTable::Rules => "r",
        };
        let plain = match &self.after {
            Some(key) => format!("{table}:{key}"),
            None => table.to_owned(),
        };
        URL_SAFE_NO_PAD.encode(plain)
    }

    /// Reads what [`Cursor::encode`] made, or says it is not a cursor.
    pub fn decode(cursor: &str) -> Result<Cursor, ApiError> {
        let bad = || ApiError::Cursor(cursor.chars().take(100).collect());
        let plain = URL_SAFE_NO_PAD
            .decode(cursor)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(bad)?;
        let (table, after) = match plain.split_once(':') {
            Some((t, key)) if !key.is_empty() => (t, Some(key.to_owned())),
            Some(_) => return Err(bad()),
            None => (plain.as_str(), None),
        };
        let table = match table {
            "b" => EntryTable::Blocklist,
            "r" => EntryTable::Rules,
            _ => return Err(bad()),
        };
        Ok(Cursor { table, after })
    }
}

/// One page of the list, as [`list_page`] read it.
#[derive(Debug, Clone, Default)]
pub struct ListPage {
    /// The entries that passed the filter, in scan order.
    pub entries: Vec<Entry>,
    /// Where the next page starts; none when both tables were read to the end.
    pub next: Option<Cursor>,
    /// How many items were read (passing the filter or not).
    pub read: usize,
}

/// Reads on from `from`, a Scan page at a time, until `size` entries pass
/// `keep`, the tables end (with `only`, that table alone is read), or
/// `max_read` items were read. Never reads the whole table for one page:
/// the first Scan asks for `size` items, each next for twice as many (to
/// [`MAX_SCAN_BATCH`]), and never past `max_read`.
pub async fn list_page<S: AdminStore>(
    store: &S,
    from: Cursor,
    only: Option<EntryTable>,
    size: usize,
    max_read: usize,
    keep: impl Fn(&Entry) -> bool,
) -> Result<ListPage, AdminError> {
    list_page_in(store, from, only, ScanScope::All, size, max_read, keep).await
}

/// As [`list_page`], reading only the entries in `scope`.
pub async fn list_page_in<S: AdminStore>(
    store: &S,
    from: Cursor,
    only: Option<EntryTable>,
    scope: ScanScope,
    size: usize,
    max_read: usize,
    keep: impl Fn(&Entry) -> bool,
) -> Result<ListPage, AdminError> {
    let mut page = ListPage {
        next: Some(from),
        ..ListPage::default()
    };
    let mut batch = size.max(1);
    while let Some(at) = page.next.clone() {
        if page.entries.len() >= size || page.read >= max_read {
            break;
        }
        let limit = batch.min(max_read - page.read);
        let scanned = store
            .scan_page(at.table, at.after.as_deref(), limit, scope)
            .await?;
        page.read += scanned.read;
        let mut filled_at = None;
        for (key, entry) in scanned.entries {
            if keep(&entry) {
                page.entries.push(entry);
                if page.entries.len() == size {
                    filled_at = Some(key);
                    break;
                }
            }
        }
        page.next = match (filled_at, scanned.last) {
            // Full before the end of what was read: the rest is read again.
            (Some(key), _) | (None, Some(key)) => Some(Cursor {
                table: at.table,
                after: Some(key),
            }),
            (None, None) if only.is_some() => None,
            (None, None) => Cursor::after_table(at.table),
        };
        batch = (batch * 2).min(MAX_SCAN_BATCH);
    }
    Ok(page)
}

/// The list's filters, read from a [`ListQuery`].
struct Filter {
    kind: Option<Kind>,
    action: Option<BlockAction>,
    mode: Option<Mode>,
    cutoff: Option<i64>,
    status: String,
}

impl Filter {
    fn new(q: &ListQuery, now: i64) -> Result<Filter, ApiError> {
        let status = q.status.as_str();
        if !["", "active", "pending", "expired", "all"].contains(&status) {
            return Err(ApiError::Filter(
                status.to_owned(),
                "active, pending, expired or all",
            ));
        }
        Ok(Filter {
            kind: optional::<Kind>(&q.kind, "block, prefix, allow, allowPrefix or report")?,
            action: optional::<BlockAction>(&q.action, "disconnect, message or queue")?,
            mode: optional::<Mode>(&q.mode, "block or monitor")?,
            cutoff: match q.not_hit_since.trim() {
                "" => None,
                age => Some(now - parse_duration(age).map_err(AdminError::from)?),
            },
            status: status.to_owned(),
        })
    }

    fn keeps(&self, e: &Entry, now: i64) -> bool {
        self.kind.is_none_or(|k| e.kind == k)
            && self
                .action
                .is_none_or(|a| e.kind.blocks() && e.block_action() == a)
            && self.mode.is_none_or(|m| e.kind.blocks() && e.mode == m)
            && has_status(e, &self.status, now)
            && self.cutoff.is_none_or(|c| idle_since(e, c))
    }
}

/// The list's orders (`sort=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Order {
    /// `value` (the default): the tables' own order, each page by kind,
    /// then number.
    Value,
    /// `lastBlocked`: the most recent block first, across the whole list
    /// (the hit index), then the entries that never blocked.
    LastBlock,
}

impl Order {
    fn of(sort: &str) -> Result<Order, ApiError> {
        match sort {
            "" | "value" => Ok(Order::Value),
            "lastBlocked" => Ok(Order::LastBlock),
            other => Err(ApiError::Filter(other.to_owned(), "value or lastBlocked")),
        }
    }

    /// Orders one page: by kind and number, then, in last-block order, by
    /// the last block, latest first (stable: never blocked last, by value).
    fn sort_page(self, entries: &mut [Entry]) {
        entries.sort_by(|a, b| (a.kind, &a.value).cmp(&(b.kind, &b.value)));
        match self {
            Order::Value => {}
            Order::LastBlock => entries.sort_by(|a, b| b.last_blocked_at.cmp(&a.last_blocked_at)),
        }
    }
}

/// One page of the list, whichever the order: its entries, the encoded
/// cursor of the next, and how many items it read.
struct Listed {
    entries: Vec<Entry>,
    next: Option<String>,
    read: usize,
}

/// `GET /api/entries?cursor=&pageSize=&sort=&...`: one page of the entries
/// that pass the filters, and the cursor of the next. A page reads (with a
/// `kind`, only that kind's table) from its cursor on, only until it is full
/// (or [`MAX_READ_PER_REQUEST`] items were read: then it may be short, with
/// a `next`, and `moreMayMatch`): in the tables' own order, or, sorted by
/// last block, the hit index newest first and then the rest
/// ([`super::by_last_block`]).
pub async fn entries(s: Session, q: Result<Query<ListQuery>, QueryRejection>) -> Answer {
    let Query(q) = q?;
    if let Some(page) = &q.page {
        return Err(ApiError::BadRequest(format!(
            "`page={page}`: the list has no page numbers; follow each page's `next` (as `cursor=`)"
        )));
    }
    let now = now_epoch();
    let filter = Filter::new(&q, now)?;
    let order = Order::of(&q.sort)?;
    let size = q.size();
    let keep = |e: &Entry| filter.keeps(e, now);
    // A kind is in one table: the other is not read.
    let only = filter.kind.map(Kind::table);
    let store = s.admin.store();
    let mut page = match order {
        Order::Value => {
            let from = match q.cursor.as_str() {
                "" => Cursor {
                    table: only.unwrap_or(EntryTable::Blocklist),
                    after: None,
                },
                c => Cursor::decode(c)?,
            };
            let page = list_page(store, from, only, size, MAX_READ_PER_REQUEST, keep).await?;
            let next = page.next.as_ref().map(Cursor::encode);
            Listed {
                entries: page.entries,
                next,
                read: page.read,
            }
        }
        Order::LastBlock => {
            let from = match q.cursor.as_str() {
                "" => LastBlockCursor::Hits(HitCursor::start(only)),
                c => LastBlockCursor::decode(c)?,
            };
            let page = last_block_page(store, from, only, size, MAX_READ_PER_REQUEST, keep).await?;
            let next = page
                .next
                .as_ref()
                .map(LastBlockCursor::encode)
                .transpose()?;
            Listed {
                entries: page.entries,
                next,
                read: page.read,
            }
        }
    };
    order.sort_page(&mut page.entries);
    let views: Vec<Value> = page.entries.iter().map(|e| entry_view(e, now)).collect();
    let short = page.entries.len() < size;
    Ok(Json(json!({
        "entries": views,
        "pageSize": size,
        "next": page.next,
        "read": page.read,
        // Short, yet not at the end: the read bound stopped it.
        "moreMayMatch": short && page.next.is_some(),
    })))
}

/// Whether `e` has the list's `status` (`""`: anything not expired).
fn has_status(e: &Entry, status: &str, now: i64) -> bool {
    let pending = e.status == Status::Pending;
    let expired = e.is_expired_at(now);
    match status {
        "active" => !pending && !expired,
        "pending" => pending && !expired,
        "expired" => expired,
        "all" => true,
        _ => !expired,
    }
}

#[derive(Debug, Deserialize)]
pub struct EntryQuery {
    #[serde(default)]
    kind: String,
    input: String,
}

/// `GET /api/entry?kind=&input=`: one entry (a single GetItem, not a scan)
/// and its audit trail; for a number's block, its report's trail too.
pub async fn entry(s: Session, q: Result<Query<EntryQuery>, QueryRejection>) -> Answer {
    let Query(q) = q?;
    let kind = optional::<Kind>(&q.kind, "block, prefix, allow, allowPrefix or report")?;
    let target = s.admin.target(kind.unwrap_or_default(), &q.input)?;
    let stored = s.admin.get(&target).await?;
    let mut trails = vec![target.clone()];
    if target.kind == Kind::Block {
        trails.push(target.as_kind(Kind::Report));
    }
    let history = s.admin.history(&trails).await?;
    if stored.is_none() && history.is_empty() {
        return Err(ApiError::NotFound {
            kind: target.kind,
            value: target.value,
        });
    }
    let now = now_epoch();
    Ok(Json(json!({
        "kind": target.kind.as_str(),
        "value": target.value,
        "entry": stored.map(|e| entry_view(&e, now)),
        "history": history.iter().map(record_view).collect::<Vec<_>>(),
    })))
}

/// The add / edit form: what `blocklist add` (or `allow`) takes.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EntryForm {
    kind: String,
    number: String,
    reason: Option<String>,
    #[serde(default)]
    expires: Option<String>,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    queue_arn: Option<String>,
    #[serde(default)]
    mode: Option<String>,
    #[serde(default)]
    lines: Vec<String>,
    /// Overwrite an existing entry (the edit form).
    #[serde(default)]
    replace: bool,
}

/// `POST /api/entries`: adds (or with `replace`, replaces) an entry.
pub async fn add(s: Session, body: Result<Json<EntryForm>, JsonRejection>) -> Answer {
    let Json(form) = body?;
    let reason = required_reason(form.reason)?;
    let kind = changeable_kind(&form.kind)?;
    let target = s.admin.target(kind, &form.number)?;
    let blank = |v: Option<String>| v.filter(|t| !t.trim().is_empty());
    let now = now_epoch();
    let entry = EntryArgs {
        reason: Some(reason),
        expires: blank(form.expires),
        note: form.note,
        lines: form
            .lines
            .into_iter()
            .filter(|l| !l.trim().is_empty())
            .collect(),
    };
    let action = ActionArgs {
        action: blank(form.action),
        message: form.message,
        queue_arn: form.queue_arn,
    };
    let mut fields = with_action(entry_fields_at(s.admin.normalizer(), now, entry)?, action)?;
    if let Some(mode) =
        optional::<Mode>(form.mode.as_deref().unwrap_or_default(), "block or monitor")?
    {
        fields.mode = mode;
    }
    let added = s.admin.add(&target, fields, form.replace).await?;
    Ok(Json(json!({
        "entry": entry_view(&added.entry, now),
        "replaced": added.replaced.map(|e| entry_view(&e, now)),
    })))
}

/// The remove form.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoveForm {
    kind: String,
    number: String,
    reason: Option<String>,
}

/// `POST /api/remove`: removes an entry, as `blocklist remove` / `unallow`.
pub async fn remove(s: Session, body: Result<Json<RemoveForm>, JsonRejection>) -> Answer {
    let Json(form) = body?;
    let reason = required_reason(form.reason)?;
    let target = s.admin.target(changeable_kind(&form.kind)?, &form.number)?;
    let removed = s.admin.remove(&target, Some(&reason)).await?;
    Ok(Json(
        json!({ "removed": entry_view(&removed, now_epoch()) }),
    ))
}

#[derive(Debug, Deserialize)]
pub struct CheckQuery {
    number: String,
    #[serde(default)]
    line: String,
}

/// `GET /api/check?number=&line=`: the Lambda's exact answer for a call
/// from `number` now, and the rule that decided, as `blocklist check`.
pub async fn check(s: Session, q: Result<Query<CheckQuery>, QueryRejection>) -> Answer {
    let Query(q) = q?;
    let line = Some(q.line.as_str()).filter(|l| !l.trim().is_empty());
    let now = now_epoch();
    let checked = check_number(&s.admin, &s.state.check_config, &q.number, line, now).await?;
    Ok(Json(json!({
        "answer": checked.answer,
        "explanation": explain(&checked.answer),
        "entry": checked.entry.map(|e| entry_view(&e, now)),
    })))
}

/// `GET /api/pending`: reports waiting for an admin, oldest first.
pub async fn pending(s: Session) -> Answer {
    let now = now_epoch();
    let pending = s.admin.pending().await?;
    let views: Vec<Value> = pending.iter().map(|e| entry_view(e, now)).collect();
    Ok(Json(json!({ "entries": views })))
}

/// Approve or reject: one number, or several selected at once.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecideForm {
    numbers: Vec<String>,
    reason: Option<String>,
}

/// `POST /api/approve`: each number's pending report blocks from now on.
pub async fn approve(s: Session, body: Result<Json<DecideForm>, JsonRejection>) -> Response {
    match decision(body) {
        Ok((numbers, reason)) => decide(&s.admin, &numbers, &reason, true).await,
        Err(e) => e.into_response(),
    }
}

/// `POST /api/reject`: each number's pending report is removed.
pub async fn reject(s: Session, body: Result<Json<DecideForm>, JsonRejection>) -> Response {
    match decision(body) {
        Ok((numbers, reason)) => decide(&s.admin, &numbers, &reason, false).await,
        Err(e) => e.into_response(),
    }
}

/// The numbers and the reason of an approve or reject: at least one
/// number, and a reason.
fn decision(
    body: Result<Json<DecideForm>, JsonRejection>,
) -> Result<(Vec<String>, String), ApiError> {
    let Json(form) = body?;
    let reason = required_reason(form.reason)?;
    if form.numbers.is_empty() {
        return Err(ApiError::BadRequest("select at least one report".into()));
    }
    Ok((form.numbers, reason))
}

/// Approves (or rejects) each number in turn, each on its own: one that
/// fails (decided meanwhile by someone else) stops none of the others.
/// 200 when all were decided; else the first failure's status, with every
/// number's result.
async fn decide(admin: &Admin, numbers: &[String], reason: &str, approve: bool) -> Response {
    let mut results = Vec::new();
    let mut first_failure: Option<ApiError> = None;
    for number in numbers {
        match decide_one(admin, number, reason, approve).await {
            Ok(entry) => results.push(json!({ "number": number, "ok": true, "entry": entry })),
            Err(e) => {
                results.push(json!({ "number": number, "ok": false, "error": e.to_string() }));
                first_failure.get_or_insert(e);
            }
        }
    }
    let Some(e) = first_failure else {
        return Json(json!({ "results": results })).into_response();
    };
    let failed = results.iter().filter(|r| r["ok"] == false).count();
    let message = format!("{failed} of {} failed; the first: {e}", numbers.len());
    (
        e.status(),
        Json(json!({ "error": message, "results": results })),
    )
        .into_response()
}

/// Approves or rejects the report of one number.
async fn decide_one(
    admin: &Admin,
    number: &str,
    reason: &str,
    approve: bool,
) -> Result<Value, ApiError> {
    let target = admin.target(Kind::Block, number)?;
    let entry = if approve {
        admin.approve(&target, Some(reason)).await?
    } else {
        admin.reject(&target, Some(reason)).await?
    };
    Ok(entry_view(&entry, now_epoch()))
}

/// Any other path under `/api`.
pub async fn not_found() -> Response {
    error_response(StatusCode::NOT_FOUND, "no such API call")
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeSet, HashMap};

    use super::*;
    use crate::admin::fields::Target;
    use crate::admin::store::{ItemPrecondition, Precondition};
    use crate::store::attr;
    use crate::store::memory::MemoryStore;

    fn entry(kind: Kind, value: &str) -> Entry {
        Entry {
            kind,
            value: value.into(),
            created_at: Some("2026-01-01T00:00:00Z".into()),
            ..Entry::default()
        }
    }

    fn query(f: impl FnOnce(&mut ListQuery)) -> ListQuery {
        let mut q = ListQuery::default();
        f(&mut q);
        q
    }

    /// The values of `all` that `q` keeps, in the order its sort gives.
    fn values(q: &ListQuery, all: &[Entry], now: i64) -> Vec<String> {
        let filter = Filter::new(q, now).unwrap();
        let mut kept: Vec<Entry> = all
            .iter()
            .filter(|e| filter.keeps(e, now))
            .cloned()
            .collect();
        Order::of(&q.sort).unwrap().sort_page(&mut kept);
        kept.into_iter().map(|e| e.value).collect()
    }

    #[test]
    fn filters_by_status_action_and_idleness_and_sorts_by_last_block() {
        let now = 1_800_000_000;
        let expired = Entry {
            expires_at: Some(now - 1),
            ..entry(Kind::Block, "+1")
        };
        let pending = Entry {
            status: Status::Pending,
            ..entry(Kind::Report, "+2")
        };
        let queued = Entry {
            action: Some(BlockAction::Queue),
            last_blocked_at: Some("2026-06-01T00:00:00Z".into()),
            ..entry(Kind::Block, "+3")
        };
        let recent = Entry {
            last_blocked_at: Some("2027-01-10T00:00:00Z".into()),
            ..entry(Kind::Prefix, "+4")
        };
        let all = [expired, pending, queued, recent, entry(Kind::Allow, "+5")];
        let of = |f: fn(&mut ListQuery)| values(&query(f), &all, now);
        assert_eq!(of(|_| {}), ["+3", "+4", "+5", "+2"], "not expired");
        assert_eq!(of(|q| q.status = "expired".into()), ["+1"]);
        assert_eq!(of(|q| q.status = "pending".into()), ["+2"]);
        assert_eq!(of(|q| q.status = "active".into()), ["+3", "+4", "+5"]);
        // An allow entry takes no action: a filter on one leaves it out.
        assert_eq!(of(|q| q.action = "disconnect".into()), ["+4"]);
        assert_eq!(of(|q| q.action = "queue".into()), ["+3"]);
        // 2027-01-10 is 5 days before `now`: +4 blocked within 30 days.
        assert_eq!(of(|q| q.not_hit_since = "30d".into()), ["+3", "+2"]);
        assert_eq!(
            of(|q| q.sort = "lastBlocked".into()),
            ["+4", "+3", "+5", "+2"]
        );
        for bad in [
            query(|q| q.status = "gone".into()),
            query(|q| q.kind = "blocks".into()),
            query(|q| q.not_hit_since = "soon".into()),
        ] {
            assert!(Filter::new(&bad, now).is_err(), "{bad:?}");
        }
        assert!(Order::of("random").is_err());
    }

    /// 40 blocks (every 5th pending report instead), 15 rules of three
    /// kinds, a tombstone in each table and the rules' snapshot item.
    async fn store() -> (MemoryStore, BTreeSet<(Kind, String)>) {
        let store = MemoryStore::new();
        let mut all = BTreeSet::new();
        for n in 0..40 {
            let value = format!("+1415555{n:04}");
            let e = if n % 5 == 0 {
                Entry {
                    status: Status::Pending,
                    ..entry(Kind::Report, &value)
                }
            } else {
                entry(Kind::Block, &value)
            };
            all.insert((e.kind, e.value.clone()));
            store.insert(e);
        }
        for n in 0..15 {
            let kind = [Kind::Prefix, Kind::Allow, Kind::AllowPrefix][n % 3];
            let e = entry(kind, &format!("+1900{n:03}"));
            all.insert((e.kind, e.value.clone()));
            store.insert(e);
        }
        for (kind, value) in [(Kind::Block, "+14155559999"), (Kind::Prefix, "+1800")] {
            let gone = Entry {
                version: 1,
                ..entry(kind, value)
            };
            store.insert(gone.clone());
            let target = Target {
                kind,
                value: value.into(),
            };
            let removed = store
                .write_entry(&target, 2, None, &Precondition::of(Some(&gone)))
                .await
                .unwrap();
            assert_eq!(removed, crate::admin::store::WriteOutcome::Written);
        }
        let snapshot = HashMap::from([(
            attr::RULE_KEY.to_owned(),
            aws_sdk_dynamodb::types::AttributeValue::S(format!(
                "{}0",
                crate::snapshot::SNAPSHOT_PREFIX
            )),
        )]);
        store
            .put_rules_item(snapshot, &ItemPrecondition::None)
            .await
            .unwrap();
        (store, all)
    }

    /// Every page from the start, following `next` (through its string).
    async fn walk(
        store: &MemoryStore,
        size: usize,
        max_read: usize,
        keep: impl Fn(&Entry) -> bool,
    ) -> (Vec<ListPage>, Vec<(Kind, String)>) {
        let mut pages = Vec::new();
        let mut seen = Vec::new();
        let mut at = Some(Cursor::start());
        while let Some(from) = at {
            let page = list_page(store, from, None, size, max_read, &keep)
                .await
                .unwrap();
            assert!(page.entries.len() <= size);
            seen.extend(page.entries.iter().map(|e| (e.kind, e.value.clone())));
            at = page
                .next
                .as_ref()
                .map(|c| Cursor::decode(&c.encode()).unwrap());
            pages.push(page);
            assert!(pages.len() < 1000, "the walk ends");
        }
        (pages, seen)
    }

    #[tokio::test]
    async fn pages_cover_every_entry_exactly_once_across_both_tables() {
        let (store, all) = store().await;
        for size in [1, 7, 25, 55, 200] {
            let (pages, seen) = walk(&store, size, MAX_READ_PER_REQUEST, |_| true).await;
            assert_eq!(seen.len(), all.len(), "page size {size}: no entry twice");
            assert_eq!(seen.iter().cloned().collect::<BTreeSet<_>>(), all);
            // Full pages but the last few (the tables' ends).
            let full = pages.iter().filter(|p| p.entries.len() == size).count();
            assert_eq!(full, all.len() / size, "page size {size}");
            // Blocks and reports come first, then the rules.
            let first_rule = seen
                .iter()
                .position(|(k, _)| k.table() == EntryTable::Rules);
            assert_eq!(first_rule, Some(32 + 8));
        }
    }

    #[tokio::test]
    async fn a_filter_fills_the_page_by_reading_on() {
        let (store, all) = store().await;
        let is_report = |e: &Entry| e.kind == Kind::Report;
        let (pages, seen) = walk(&store, 3, MAX_READ_PER_REQUEST, is_report).await;
        let reports: BTreeSet<_> = all
            .iter()
            .filter(|(k, _)| *k == Kind::Report)
            .cloned()
            .collect();
        assert_eq!(seen.len(), 8);
        assert_eq!(seen.into_iter().collect::<BTreeSet<_>>(), reports);
        // 3 + 3 + 2, the last page ending with the tables (through the
        // rules table, where none match).
        let sizes: Vec<usize> = pages.iter().map(|p| p.entries.len()).collect();
        assert_eq!(sizes, [3, 3, 2]);
        assert!(pages[2].next.is_none());
        // With `only` (a kind's table), the other table is not read.
        let rules = Cursor {
            table: EntryTable::Rules,
            after: None,
        };
        let is_prefix = |e: &Entry| e.kind == Kind::Prefix;
        let page = list_page(&store, rules, Some(EntryTable::Rules), 25, 1000, is_prefix)
            .await
            .unwrap();
        assert_eq!((page.entries.len(), page.read), (5, 17));
        assert!(page.next.is_none());
    }

    #[tokio::test]
    async fn one_request_reads_at_most_the_bound_and_says_where_to_go_on() {
        let (store, _) = store().await;
        // Nothing matches: each request reads 10 items and stops.
        let (pages, seen) = walk(&store, 25, 10, |_| false).await;
        assert!(seen.is_empty());
        assert!(pages.iter().all(|p| p.read <= 10 && p.entries.is_empty()));
        // 41 + 17 items (the tombstones and the snapshot item included).
        let read: usize = pages.iter().map(|p| p.read).sum();
        assert_eq!(read, 41 + 17);
        assert!(pages.len() >= 6);
        assert!(pages[..pages.len() - 1].iter().all(|p| p.next.is_some()));
        // An unfiltered first page reads just what it shows.
        let first = list_page(&store, Cursor::start(), None, 5, 1000, |_| true)
            .await
            .unwrap();
        assert_eq!((first.entries.len(), first.read), (5, 5));
    }

    #[test]
    fn a_cursor_is_opaque_and_checked() {
        for c in [
            Cursor::start(),
            Cursor {
                table: EntryTable::Rules,
                after: None,
            },
            Cursor {
                table: EntryTable::Blocklist,
                after: Some("report#+14155550100".into()),
            },
        ] {
            let sent = c.encode();
            assert!(
                sent.chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || "-_".contains(ch))
            );
            assert_eq!(Cursor::decode(&sent).unwrap(), c);
        }
        for bad in ["!!", "eA", "Yjo", "not a cursor"] {
            let err = Cursor::decode(bad).unwrap_err();
            assert_eq!(err.status(), StatusCode::BAD_REQUEST);
            assert!(err.to_string().contains(bad), "{err}");
        }
    }
}
