// The blocklist console's page. Plain JavaScript, no build step.
//
// Every value from the server is written with textContent (or as an
// attribute through the DOM), never as markup: a reason can come from an
// agent's report, and must show as the text it is.
'use strict';

// The token arrives in the fragment, which the browser never sends to a
// server; it is kept in memory and sent on each API call. `blocklist serve`
// puts its per-run token there (#token=); deployed, the identity provider's
// sign-in returns there (#id_token=... or #access_token=..., the implicit
// flow), and API Gateway verifies the token on each call.
const FRAGMENT = new URLSearchParams(location.hash.slice(1));
// The agent workspace app signs in through a popup to the same login, with
// a state of its own making (agent-app/src/sign-in.js); the provider
// returns here with that state. Such a return is the agent app's: this page
// hands the token to the app (`handOff`) and does not sign itself in.
const AGENT_SIGN_IN = /^agent-app\.[0-9a-f]{32}$/.test(FRAGMENT.get('state') || '');
const TOKEN = AGENT_SIGN_IN ? ''
  : FRAGMENT.get('token') || FRAGMENT.get('id_token') || FRAGMENT.get('access_token') || '';
// A signed-in token is taken out of the address bar (and so of the
// history); a reload signs in again, silently while the provider's
// session lasts. The local token stays: a reload has no other way to it.
if (AGENT_SIGN_IN || (!FRAGMENT.get('token') && TOKEN)) history.replaceState(null, '', location.pathname);

const $ = (id) => document.getElementById(id);

// An element with attributes and children (strings become text nodes).
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) {
    node.append(child instanceof Node ? child : document.createTextNode(String(child ?? '')));
  }
  return node;
}

function say(message) {
  $('alert').textContent = '';
  $('status').textContent = message;
}

function fail(message) {
  $('status').textContent = '';
  $('alert').textContent = message;
}

// Calls the API with the token; resolves to the JSON body, or rejects with
// the server's error message.
// A string body is sent as it is (a CSV file), anything else as JSON.
async function api(path, params, body) {
  const response = await call(path, params, body);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(data.error || 'the console answered ' + response.status);
    error.data = data;
    error.status = response.status;
    throw error;
  }
  return data;
}

// The request itself, with the token; `api` reads its JSON.
function call(path, params, body) {
  const query = params ? '?' + new URLSearchParams(params) : '';
  const init = { headers: { Authorization: 'Bearer ' + TOKEN } };
  if (body !== undefined) {
    init.method = 'POST';
    const text = typeof body === 'string';
    init.headers['Content-Type'] = text ? 'text/csv; charset=utf-8' : 'application/json';
    init.body = text ? body : JSON.stringify(body);
  }
  return fetch('/api/' + path + query, init);
}

// ---- pages ---------------------------------------------------------------

const PAGES = ['entries', 'detail', 'edit', 'test', 'pending', 'overview', 'transfer', 'agent'];

function show(page) {
  for (const name of PAGES) $('page-' + name).hidden = name !== page;
  for (const button of document.querySelectorAll('nav [data-page]')) {
    if (button.dataset.page === page) button.setAttribute('aria-current', 'page');
    else button.removeAttribute('aria-current');
  }
  const heading = $('page-' + page).querySelector('h2');
  heading.tabIndex = -1;
  heading.focus();
}

// ---- live normalization --------------------------------------------------

// Shows, under an input, the number as the Lambda reads it, as one types.
function liveNormalize(input, kindSelect, output) {
  let pending = 0;
  const update = async () => {
    const value = input.value.trim();
    const ticket = ++pending;
    if (!value) { output.textContent = ''; return; }
    try {
      const n = await api('normalize', { input: value, kind: kindSelect.value });
      if (ticket !== pending) return;
      output.textContent = n.valid
        ? 'Reads as ' + n.value + (n.country ? ' (' + n.country + ')' : '')
        : 'Refused: ' + n.error;
    } catch (e) {
      if (ticket === pending) output.textContent = e.message;
    }
  };
  input.addEventListener('input', update);
  kindSelect.addEventListener('change', update);
}

// ---- entries -------------------------------------------------------------

// The list is paged by cursor (the server reads a page at a time, in the
// tables' own order or, sorted by last block, newest block first across the
// whole list): the cursors of the pages shown so far, the current one last
// ('' is the first page), so Previous goes back; and the current page's
// `next`, for Next. A cursor belongs to its filters and order: the filters
// are read when they are applied, and paging keeps those.
let listCursors = [''];
let nextCursor = null;
let listFilters = {};

function filterParams() {
  const params = { ...listFilters };
  const cursor = listCursors[listCursors.length - 1];
  if (cursor) params.cursor = cursor;
  return params;
}

function applyFilters() {
  listFilters = Object.fromEntries(new FormData($('filters')));
  listCursors = [''];
  loadEntries();
}

async function loadEntries() {
  try {
    const data = await api('entries', filterParams());
    renderEntries(data);
  } catch (e) {
    fail(e.message);
  }
}

function renderEntries(data) {
  const rows = data.entries.map((e) => el('tr', {},
    el('td', {}, e.kind),
    el('td', {}, entryLink(e.kind, e.phoneNumber)),
    el('td', {}, e.status),
    el('td', {}, e.mode),
    el('td', {}, e.action),
    el('td', { class: 'reason' }, e.reason),
    el('td', {}, String(e.blockCount)),
    el('td', {}, e.lastBlockedAt),
    el('td', {}, e.expiresAt)));
  if (rows.length === 0) rows.push(el('tr', {}, el('td', { colspan: 9 }, 'No entries match.')));
  $('entries-body').replaceChildren(...rows);
  nextCursor = data.next;
  const number = listCursors.length;
  let info = 'Page ' + number + ': ' + data.entries.length + ' entries';
  if (data.moreMayMatch) {
    info += '; ' + data.read + ' read without filling the page, more may match: Next page reads on';
  } else if (!data.next) {
    info += ', the last page';
  }
  $('page-info').textContent = info;
  $('entries-caption').textContent = 'Entries, page ' + number + (listFilters.sort === 'lastBlocked'
    ? ' (most recent block first; then the entries that never blocked a call)'
    : ' (in the tables\' order; each page by kind, then number)');
  $('prev-page').disabled = number <= 1;
  $('next-page').disabled = !data.next;
}

// A button that opens an entry's detail.
function entryLink(kind, value) {
  const button = el('button', { type: 'button', class: 'link' }, value);
  button.addEventListener('click', () => openEntry(kind, value));
  return button;
}

// ---- detail --------------------------------------------------------------

let current = null; // { kind, value, entry }

const FIELD_LABELS = [
  ['kind', 'Kind'], ['phoneNumber', 'Number or prefix'], ['status', 'Status'],
  ['mode', 'Mode'], ['action', 'Action'], ['message', 'Message'], ['queueArn', 'Queue ARN'],
  ['reason', 'Reason'], ['note', 'Note'], ['lines', 'Lines'], ['expiresAt', 'Expires'],
  ['createdAt', 'Created'], ['createdBy', 'Created by'], ['blockCount', 'Hit count'],
  ['lastBlockedAt', 'Last block'], ['contactId', 'Reported during contact'], ['version', 'Version'],
];

function fieldList(entry) {
  const items = [];
  for (const [key, label] of FIELD_LABELS) {
    const value = entry[key];
    items.push(el('dt', {}, label), el('dd', {}, value === '' || value === undefined ? '—' : String(value)));
  }
  return items;
}

async function openEntry(kind, value) {
  try {
    const data = await api('entry', { kind, input: value });
    renderDetail(data);
    show('detail');
  } catch (e) {
    fail(e.message);
  }
}

function renderDetail(data) {
  current = { kind: data.kind, value: data.value, entry: data.entry };
  $('detail-title').textContent = data.kind + ' ' + data.value;
  $('detail-fields').replaceChildren(...(data.entry
    ? fieldList(data.entry)
    : [el('dt', {}, 'Stored'), el('dd', {}, 'no entry now (see its history)')]));
  const changeable = data.entry && data.kind !== 'report';
  $('detail-actions').hidden = !changeable;
  $('remove-form').hidden = !changeable;
  $('timeline').replaceChildren(...data.history.map(timelineItem));
  if (data.history.length === 0) $('timeline').append(el('li', {}, 'No audit records.'));
}

function describe(entry) {
  if (!entry) return 'none';
  const parts = [entry.kind + ' ' + entry.phoneNumber];
  if (entry.reason) parts.push('reason: ' + entry.reason);
  if (entry.mode) parts.push('mode: ' + entry.mode);
  if (entry.action) parts.push('action: ' + entry.action);
  if (entry.expiresAt) parts.push('expires ' + entry.expiresAt);
  if (entry.lines && entry.lines !== 'all') parts.push('lines: ' + entry.lines);
  return parts.join('; ');
}

function timelineItem(r) {
  const who = r.identity ? r.actor + ' (' + r.identity + ')' : r.actor;
  return el('li', {},
    el('p', { class: 'when' }, el('strong', {}, r.action), ' ', el('time', {}, r.at), ' by ', who),
    el('dl', { class: 'fields small' },
      el('dt', {}, 'Reason'), el('dd', { class: 'reason' }, r.reason || '—'),
      el('dt', {}, 'Source'), el('dd', {}, r.source),
      el('dt', {}, 'Before'), el('dd', {}, describe(r.before)),
      el('dt', {}, 'After'), el('dd', {}, describe(r.after))));
}

async function removeCurrent(event) {
  event.preventDefault();
  const reason = $('remove-reason').value;
  if (!reason.trim()) { fail('A reason is required: say why, for the audit trail.'); return; }
  try {
    await api('remove', undefined, { kind: current.kind, number: current.value, reason });
    $('remove-reason').value = '';
    say('Removed ' + current.kind + ' ' + current.value + '.');
    await openEntry(current.kind, current.value);
  } catch (e) {
    fail(e.message);
  }
}

// ---- add / edit ----------------------------------------------------------

function blocks(kind) { return kind === 'block' || kind === 'prefix'; }

function syncEntryForm() {
  const shown = blocks($('entry-kind').value);
  for (const node of document.querySelectorAll('#entry-form .blocks')) node.hidden = !shown;
}

function startAdd() {
  $('entry-form').reset();
  $('edit-title').textContent = 'Add entry';
  $('entry-normalized').textContent = '';
  syncEntryForm();
  show('edit');
}

function startEdit() {
  const e = current.entry;
  const form = $('entry-form');
  form.reset();
  $('edit-title').textContent = 'Edit ' + current.kind + ' ' + current.value;
  $('entry-kind').value = current.kind;
  $('entry-number').value = current.value;
  $('entry-expires').value = e.expiresAt;
  $('entry-mode').value = e.mode || 'block';
  $('entry-action').value = e.action || 'disconnect';
  $('entry-message').value = e.message;
  $('entry-queue').value = e.queueArn;
  $('entry-lines').value = e.lines === 'all' ? '' : e.lines.split(' ').join(', ');
  $('entry-note').value = e.note;
  $('entry-replace').checked = true;
  // The reason is asked afresh: it is this change's reason, for the trail.
  $('entry-reason').value = '';
  syncEntryForm();
  show('edit');
}

async function saveEntry(event) {
  event.preventDefault();
  const f = Object.fromEntries(new FormData($('entry-form')));
  if (!f.reason.trim()) { fail('A reason is required: say why, for the audit trail.'); return; }
  const body = {
    kind: f.kind, number: f.number, reason: f.reason, expires: f.expires, note: f.note,
    lines: f.lines.split(',').map((l) => l.trim()).filter(Boolean),
    replace: f.replace === 'on',
  };
  if (blocks(f.kind)) Object.assign(body, { mode: f.mode, action: f.action, message: f.message, queueArn: f.queueArn });
  try {
    const data = await api('entries', undefined, body);
    say('Saved ' + data.entry.kind + ' ' + data.entry.phoneNumber + '.');
    await openEntry(data.entry.kind, data.entry.phoneNumber);
  } catch (e) {
    fail(e.message);
  }
}

// ---- test a number -------------------------------------------------------

async function testNumber(event) {
  event.preventDefault();
  const f = Object.fromEntries(new FormData($('test-form')));
  try {
    const data = await api('check', { number: f.number, line: f.line });
    $('test-verdict').textContent = data.explanation;
    const items = [];
    for (const [key, value] of Object.entries(data.answer)) items.push(el('dt', {}, key), el('dd', {}, value));
    $('test-answer').replaceChildren(...items);
    say('Tested ' + f.number + '.');
  } catch (e) {
    fail(e.message);
  }
}

// ---- pending reports -----------------------------------------------------

async function loadPending() {
  try {
    const data = await api('pending');
    const rows = data.entries.map(pendingRow);
    if (rows.length === 0) rows.push(el('tr', {}, el('td', { colspan: 7 }, 'No reports wait.')));
    $('pending-body').replaceChildren(...rows);
    $('pending-caption').textContent = 'Reports waiting for a supervisor: ' + data.entries.length;
    $('select-all').checked = false;
  } catch (e) {
    fail(e.message);
  }
}

function pendingRow(e) {
  const number = e.phoneNumber;
  const approve = el('button', { type: 'button', 'aria-label': 'Approve ' + number }, 'Approve');
  const reject = el('button', { type: 'button', class: 'danger', 'aria-label': 'Reject ' + number }, 'Reject');
  approve.addEventListener('click', () => decide('approve', [number]));
  reject.addEventListener('click', () => decide('reject', [number]));
  return el('tr', {},
    el('td', {}, el('input', { type: 'checkbox', class: 'pick', value: number, 'aria-label': 'Select ' + number })),
    el('td', {}, entryLink('report', number)),
    el('td', {}, e.createdAt),
    el('td', {}, reporters(e)),
    el('td', { class: 'reason' }, e.reason),
    el('td', {}, e.contactId),
    el('td', {}, approve, ' ', reject));
}

// Every agent who reported the number (a report made before reports kept
// their agents names its maker only).
function reporters(e) {
  const agents = Object.keys(e.reportedBy || {});
  return agents.length > 0 ? agents.join(', ') : e.createdBy;
}

function selectedReports() {
  return [...document.querySelectorAll('#pending-body .pick:checked')].map((box) => box.value);
}

async function decide(verb, numbers) {
  const reason = $('pending-reason').value;
  if (!reason.trim()) { fail('A reason is required: say why, for the audit trail.'); $('pending-reason').focus(); return; }
  if (numbers.length === 0) { fail('Select at least one report.'); return; }
  let done = null;
  try {
    await api(verb, undefined, { numbers, reason });
    const verbed = verb === 'approve' ? 'Approved' : 'Rejected';
    done = verbed + ' ' + numbers.length + (numbers.length === 1 ? ' report: ' + numbers[0] : ' reports') + '.';
  } catch (e) {
    fail(e.message);
  }
  // Said once the table shows what is left: a box ticked in a table that
  // is then redrawn would be lost, and the message would speak of rows
  // still on screen.
  await loadPending();
  if (done) say(done);
}

// ---- overview --------------------------------------------------------------

async function loadOverview() {
  try {
    const o = await api('overview');
    const rows = Object.entries(o.byKind).map(([kind, c]) => el('tr', {},
      el('th', { scope: 'row' }, kind),
      el('td', {}, String(c.active)),
      el('td', {}, String(c.monitoring)),
      el('td', {}, String(c.pending)),
      el('td', {}, String(c.expired))));
    $('overview-kinds').replaceChildren(...rows);
    $('overview-recent').textContent = o.blockedRecently + ' entries blocked calls in the last 7 days; '
      + 'they have blocked ' + o.recentEntriesBlocks + ' calls in all (hit counts are totals, not per day).';
    $('overview-stale').textContent = o.stale + ' blocks in force have not blocked a call, nor been made, in 90 days'
      + (o.stale > 0 ? '; the oldest:' : '.');
    $('overview-stalest').replaceChildren(...o.stalest.map((e) =>
      el('li', {}, entryLink(e.kind, e.value), ' (' + e.kind + '), last active ' + (e.lastActive || 'unknown'))));
  } catch (e) {
    fail(e.message);
  }
}

// ---- import and export ---------------------------------------------------

// The file the last dry run checked: { name, text, total (rows after the
// header), firstLine (the line its first row starts on) }. Apply sends this
// very text, so it writes what the dry run showed.
let checkedFile = null;

const COUNT = new Intl.NumberFormat('en-US');
const count = (n) => COUNT.format(n);

async function importFile(apply) {
  // One at a time: a second click while a file is applied would only
  // find its rows unchanged, but its counts would mix with this one's.
  if ($('import-form').hasAttribute('aria-busy')) return;
  const file = apply ? checkedFile : $('import-file').files[0];
  if (!file) { fail('Choose a CSV file first.'); $('import-file').focus(); return; }
  const reason = $('import-reason').value;
  if (apply && !reason.trim()) {
    fail('A reason is required: say why, for the audit trail.');
    $('import-reason').focus();
    return;
  }
  $('import-form').setAttribute('aria-busy', 'true');
  try {
    if (apply) await applyInParts(file, reason);
    else await dryRun(file, reason);
  } finally {
    $('import-form').removeAttribute('aria-busy');
  }
}

// The dry run: the whole file in one request, which writes nothing; an
// indeterminate progress bar while it runs.
async function dryRun(file, reason) {
  const progress = $('import-progress');
  progress.removeAttribute('value');
  progress.hidden = false;
  $('import-count').textContent = '';
  const text = await file.text();
  try {
    const result = await api('import', { name: file.name, reason, apply: 'false' }, text);
    showImport(result.summary, result.rejected);
    checkedFile = { name: file.name, text, total: result.rows.total, firstLine: result.rows.firstLine };
    $('import-apply').disabled = result.summary.written === 0;
  } catch (e) {
    fail(e.message);
  } finally {
    progress.hidden = true;
  }
}

// The apply, a part of the file a request (`importPartRows` rows, from
// /config.json), so the page can show rows done of rows total. Each request
// carries the whole file and names its rows (`from`, `to`): the server reads
// and checks all of it, so lines and duplicates are the whole file's, and
// writes the part's rows only. The parts' summaries add up to the file's.
async function applyInParts(file, reason) {
  const size = await importPartRows();
  const total = file.total;
  const done = { summary: emptySummary(), rejected: [] };
  const at = { from: 0, line: file.firstLine };
  $('import-apply').disabled = true;
  showProgress(0, total);
  say('Applying ' + file.name + ': ' + count(total) + ' rows, up to ' + count(size) + ' a request.');
  let quarters = 0; // quarters of the file announced so far
  while (at.from < total) {
    const to = Math.min(at.from + size, total);
    let result;
    try {
      result = await api('import', { name: file.name, reason, apply: 'true', from: at.from, to }, file.text);
      if (result.rows.total !== total) {
        throw new Error('the console read ' + count(result.rows.total) + ' rows in the file, the dry run '
          + count(total) + ': check the file again before applying it');
      }
    } catch (e) {
      stopped(e, file, at, to, done.summary);
      $('import-apply').disabled = false;
      return;
    }
    addSummary(done.summary, result.summary);
    done.rejected.push(...result.rejected);
    at.from = to;
    at.line = result.rows.nextLine;
    showProgress(to, total);
    // Polite, and once a quarter: a screen reader hears how far it has
    // got without an announcement per request (the bar holds the value).
    const quarter = Math.floor((4 * to) / total);
    if (quarter > quarters && to < total) {
      quarters = quarter;
      say(count(to) + ' of ' + count(total) + ' rows applied: ' + count(done.summary.written) + ' written so far.');
    }
  }
  showImport(done.summary, done.rejected);
  checkedFile = null;
  $('import-apply').disabled = true;
}

// How many rows the console applies a request; 1,000 if it does not say.
async function importPartRows() {
  const config = await fetch('/config.json').then((r) => r.json()).catch(() => ({}));
  return Number.isInteger(config.importPartRows) && config.importPartRows > 0 ? config.importPartRows : 1000;
}

// The bar (determinate: value of max) and the count beside it.
function showProgress(value, max) {
  const progress = $('import-progress');
  progress.max = Math.max(max, 1);
  progress.value = max === 0 ? 1 : value;
  progress.hidden = false;
  $('import-count').textContent = count(value) + ' of ' + count(max) + ' rows applied';
}

// A request failed half-way: what was written, where the file was left,
// and what applying again does. A refusal (4xx) came before its part was
// written; with no answer or a server error, the part may be partly
// written, and applying again completes it.
function stopped(e, file, at, to, summary) {
  const where = at.line === null || at.line === undefined ? 'row ' + count(at.from + 1) : 'line ' + count(at.line);
  const refused = e.status >= 400 && e.status < 500;
  const part = refused
    ? 'Nothing from ' + where + ' on was written. '
    : 'Rows ' + count(at.from + 1) + ' to ' + count(to) + ' (from ' + where + ') may be partly written: no answer said. ';
  fail('Stopped at ' + where + ' (row ' + count(at.from + 1) + ' of ' + count(file.total) + '): ' + e.message + '. '
    + 'Before it, ' + count(at.from) + ' rows were applied: ' + count(summary.written) + ' written, '
    + count(summary.unchanged) + ' unchanged, ' + count(summary.rejected) + ' rejected. ' + part
    + 'Apply again to finish: it goes over the whole file, and rows already written count as unchanged, not written twice.');
}

function emptySummary() {
  return { read: 0, valid: 0, rejected: 0, duplicates: 0, unchanged: 0, written: 0, conflicts: 0, dryRun: false };
}

function addSummary(total, part) {
  for (const key of Object.keys(total)) if (key !== 'dryRun') total[key] += part[key];
}

function showImport(s, rejected) {
  const verb = s.dryRun ? 'would write' : 'wrote';
  say('Read ' + count(s.read) + ' rows: ' + verb + ' ' + count(s.written) + ', ' + count(s.unchanged) + ' unchanged, '
    + count(s.rejected) + ' rejected' + (s.conflicts ? ', ' + count(s.conflicts) + ' changed meanwhile (run it again)' : '') + '.');
  $('import-summary').textContent = s.dryRun
    ? 'Dry run: nothing was written. Apply writes the valid rows; the rejected ones below are not written.'
    : 'Applied: every row written has its audit record.';
  $('import-rejected').replaceChildren(...rejected.map((r) => el('tr', {},
    el('td', {}, String(r.line)), el('td', {}, r.value), el('td', {}, r.why))));
  $('import-rejected-table').hidden = rejected.length === 0;
}

async function exportFile() {
  try {
    const response = await call('export');
    if (!response.ok) throw new Error('the console answered ' + response.status);
    const url = URL.createObjectURL(await response.blob());
    const link = el('a', { href: url, download: 'blocklist-export.csv' });
    document.body.append(link);
    link.click();
    link.remove();
    URL.revokeObjectURL(url);
    say('Exported every entry that has not expired.');
  } catch (e) {
    fail(e.message);
  }
}

// ---- an agent's caller ---------------------------------------------------

async function callerStatus() {
  const number = $('agent-number').value;
  try {
    const data = await api('agent/caller', { number });
    const reports = data.reports ? ', reported by ' + data.reports + (data.reports === 1 ? ' agent' : ' agents') : '';
    const since = data.since ? ' since ' + data.since : '';
    $('agent-verdict').textContent = data.number + ': ' + data.status + reports + since;
  } catch (e) {
    fail(e.message);
  }
}

async function reportCaller(event) {
  event.preventDefault();
  const f = Object.fromEntries(new FormData($('agent-form')));
  try {
    const data = await api('agent/report', undefined, f);
    say('Reported ' + data.number + ': ' + data.status + '.');
    await callerStatus();
  } catch (e) {
    fail(e.message);
  }
}

// ---- wiring --------------------------------------------------------------

// Who the token is; an agent sees only their own page (the server refuses
// them the others anyway).
async function loadWho() {
  try {
    const who = await api('whoami');
    if (who.role === 'agent') {
      for (const button of document.querySelectorAll('nav [data-page]')) {
        button.parentElement.hidden = button.dataset.page !== 'agent';
      }
      show('agent');
    } else {
      applyFilters();
    }
    $('who').textContent = 'Changes are recorded as ' + who.actor
      + (who.identity ? ' (' + who.identity + ')' : '') + ' on ' + who.tables.blocklist
      + (who.role && who.role !== 'admin' ? ', as ' + who.role : '');
  } catch (e) {
    fail(e.message);
  }
}

// Without a token: deployed, off to the sign-in page (/config.json names
// it); locally, there is none, and the printed address has the token.
async function signIn() {
  const config = await fetch('/config.json').then((r) => r.json()).catch(() => ({}));
  if (config.loginUrl) {
    say('Signing in...');
    location.assign(config.loginUrl);
    return;
  }
  fail('No token: open the address `blocklist serve` printed (it ends in #token=...).');
}

// In the agent app's sign-in popup: posts the token (or the provider's
// error) with the app's state to the window that opened this one, for this
// origin only (the app is served from it, at /agent/; a window of any other
// origin gets nothing), then closes. The app checks the origin, that this
// is its popup, and the state. Without an opener there is no one to hand
// it to, and the token is dropped.
function handOff() {
  for (const part of document.querySelectorAll('header nav, main')) part.hidden = true;
  const opener = window.opener;
  if (!opener || opener.closed) {
    fail('This sign-in was for the agent app, whose window is gone: close this window and sign in from the app again.');
    return;
  }
  opener.postMessage({
    type: 'connect-blocklist-agent-sign-in',
    state: FRAGMENT.get('state'),
    token: FRAGMENT.get('id_token') || FRAGMENT.get('access_token') || '',
    error: FRAGMENT.get('error_description') || FRAGMENT.get('error') || '',
  }, location.origin);
  say('Signed in for the agent app: this window closes (close it if it stays).');
  window.close();
}

function wire() {
  if (AGENT_SIGN_IN) {
    handOff();
    return;
  }
  // The skip link moves focus itself: following `#main` would replace the
  // token in the fragment, and a reload would then have none.
  document.querySelector('.skip').addEventListener('click', (e) => {
    e.preventDefault();
    $('main').focus();
  });
  if (!TOKEN) {
    signIn();
    return;
  }
  const pages = { entries: loadEntries, edit: startAdd, test: () => {}, pending: loadPending, overview: loadOverview, transfer: () => {}, agent: () => {} };
  for (const button of document.querySelectorAll('nav [data-page]')) {
    button.addEventListener('click', () => {
      const page = button.dataset.page;
      say(''); // a message about the last page would read as about this one
      if (page !== 'edit') show(page);
      pages[page]();
    });
  }
  liveNormalize($('search-number'), $('search-kind'), $('search-normalized'));
  liveNormalize($('entry-number'), $('entry-kind'), $('entry-normalized'));
  $('search').addEventListener('submit', (e) => {
    e.preventDefault();
    openEntry($('search-kind').value, $('search-number').value);
  });
  $('filters').addEventListener('submit', (e) => { e.preventDefault(); applyFilters(); });
  $('prev-page').addEventListener('click', () => {
    if (listCursors.length > 1) listCursors.pop();
    loadEntries();
  });
  $('next-page').addEventListener('click', () => {
    if (nextCursor) listCursors.push(nextCursor);
    loadEntries();
  });
  $('edit-entry').addEventListener('click', startEdit);
  $('remove-form').addEventListener('submit', removeCurrent);
  $('entry-kind').addEventListener('change', syncEntryForm);
  $('entry-form').addEventListener('submit', saveEntry);
  $('test-form').addEventListener('submit', testNumber);
  $('approve-selected').addEventListener('click', () => decide('approve', selectedReports()));
  $('reject-selected').addEventListener('click', () => decide('reject', selectedReports()));
  $('pending-form').addEventListener('submit', (e) => e.preventDefault());
  $('import-form').addEventListener('submit', (e) => { e.preventDefault(); importFile(false); });
  $('import-apply').addEventListener('click', () => importFile(true));
  $('import-file').addEventListener('change', () => {
    checkedFile = null;
    $('import-apply').disabled = true;
    $('import-progress').hidden = true;
    $('import-count').textContent = '';
  });
  $('export').addEventListener('click', exportFile);
  $('select-all').addEventListener('change', (e) => {
    for (const box of document.querySelectorAll('#pending-body .pick')) box.checked = e.target.checked;
  });
  $('agent-status').addEventListener('click', callerStatus);
  $('agent-form').addEventListener('submit', reportCaller);
  loadWho();
}

wire();
