//! The console's API handlers: each reads its input, calls [`Admin`] (or
//! the checker, as `blocklist check` does) and answers JSON. Failures are
//! `{"error": message}` with a status that says whose fault it was.

use std::str::FromStr;

use axum::Json;
use axum::extract::Query;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Session;
use crate::admin::audit::AuditRecord;
use crate::admin::{Admin, AdminError};
use crate::cli::args::{ActionArgs, EntryArgs};
use crate::cli::output::{entry_json, explain};
use crate::cli::{CliError, check_number, entry_fields_at, idle_since, with_action};
use crate::entry::{BlockAction, Entry, Kind, Mode, Status};
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
    #[error("the request could not be read: {0}")]
    BadRequest(String),
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
            | ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
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
    /// `value` (kind, then number; the default) or `lastBlocked` (latest first).
    pub sort: String,
    pub page: Option<usize>,
    pub page_size: Option<usize>,
}

impl ListQuery {
    /// The page asked for, from 1.
    fn number(&self) -> usize {
        self.page.unwrap_or(1).max(1)
    }

    /// Entries per page, within 1 to [`MAX_PAGE_SIZE`].
    fn size(&self) -> usize {
        self.page_size
            .unwrap_or(DEFAULT_PAGE_SIZE)
            .clamp(1, MAX_PAGE_SIZE)
    }
}

/// `GET /api/entries`: one page of the entries that pass the filters. The
/// whole of both tables is scanned and filtered here: fine for the
/// thousands of entries a team keeps; an index would serve millions.
pub async fn entries(s: Session, q: Result<Query<ListQuery>, QueryRejection>) -> Answer {
    let Query(q) = q?;
    let now = now_epoch();
    let all = s.admin.list(true).await?;
    let (page, total) = select(all, &q, now)?;
    let size = q.size();
    let views: Vec<Value> = page.iter().map(|e| entry_view(e, now)).collect();
    Ok(Json(json!({
        "entries": views,
        "total": total,
        "page": q.number(),
        "pageSize": size,
        "pages": total.div_ceil(size).max(1),
    })))
}

/// The page of `all` that `q` asks for, and how many passed its filters.
pub fn select(all: Vec<Entry>, q: &ListQuery, now: i64) -> Result<(Vec<Entry>, usize), ApiError> {
    let kind = optional::<Kind>(&q.kind, "block, prefix, allow, allowPrefix or report")?;
    let action = optional::<BlockAction>(&q.action, "disconnect, message or queue")?;
    let mode = optional::<Mode>(&q.mode, "block or monitor")?;
    let cutoff = match q.not_hit_since.trim() {
        "" => None,
        age => Some(now - parse_duration(age).map_err(AdminError::from)?),
    };
    let status = q.status.as_str();
    if !["", "active", "pending", "expired", "all"].contains(&status) {
        return Err(ApiError::Filter(
            status.to_owned(),
            "active, pending, expired or all",
        ));
    }
    let mut kept: Vec<Entry> = all
        .into_iter()
        .filter(|e| kind.is_none_or(|k| e.kind == k))
        .filter(|e| action.is_none_or(|a| e.kind.blocks() && e.block_action() == a))
        .filter(|e| mode.is_none_or(|m| e.kind.blocks() && e.mode == m))
        .filter(|e| has_status(e, status, now))
        .filter(|e| cutoff.is_none_or(|c| idle_since(e, c)))
        .collect();
    match q.sort.as_str() {
        "" | "value" => {}
        // Latest block first; entries that never blocked last, by value.
        "lastBlocked" => kept.sort_by(|a, b| b.last_blocked_at.cmp(&a.last_blocked_at)),
        other => return Err(ApiError::Filter(other.to_owned(), "value or lastBlocked")),
    }
    let total = kept.len();
    let skip = (q.number() - 1).saturating_mul(q.size());
    Ok((kept.into_iter().skip(skip).take(q.size()).collect(), total))
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
    use super::*;

    fn entry(kind: Kind, value: &str) -> Entry {
        Entry {
            kind,
            value: value.into(),
            created_at: Some("2026-01-01T00:00:00Z".into()),
            ..Entry::default()
        }
    }

    fn values(q: &ListQuery, all: &[Entry], now: i64) -> Vec<String> {
        let (page, _) = select(all.to_vec(), q, now).unwrap();
        page.into_iter().map(|e| e.value).collect()
    }

    fn query(f: impl FnOnce(&mut ListQuery)) -> ListQuery {
        let mut q = ListQuery::default();
        f(&mut q);
        q
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
        assert_eq!(of(|_| {}), ["+2", "+3", "+4", "+5"], "not expired");
        assert_eq!(of(|q| q.status = "expired".into()), ["+1"]);
        assert_eq!(of(|q| q.status = "pending".into()), ["+2"]);
        assert_eq!(of(|q| q.status = "active".into()), ["+3", "+4", "+5"]);
        // An allow entry takes no action: a filter on one leaves it out.
        assert_eq!(of(|q| q.action = "disconnect".into()), ["+4"]);
        assert_eq!(of(|q| q.action = "queue".into()), ["+3"]);
        // 2027-01-10 is 5 days before `now`: +4 blocked within 30 days.
        assert_eq!(of(|q| q.not_hit_since = "30d".into()), ["+2", "+3"]);
        assert_eq!(
            of(|q| q.sort = "lastBlocked".into()),
            ["+4", "+3", "+2", "+5"]
        );
        let page2 = query(|q| {
            q.page = Some(2);
            q.page_size = Some(3);
        });
        assert_eq!(select(all.to_vec(), &page2, now).unwrap().1, 4);
        assert_eq!(values(&page2, &all, now), ["+5"]);
    }
}
