// The supervisor console in a real browser, used as a person would: by
// labels and roles, with the keyboard where a person would use it.
//
// Needs: a dynalite endpoint (DYNALITE_ENDPOINT; scripts/test.sh starts one
// and exports it), the debug `blocklist` and `report` binaries (cargo build
// --bin blocklist --bin report), chromium at CHROMIUM (default
// /usr/bin/chromium). MOTO_ENDPOINT, when set, answers STS: the identity the
// audit trail records beside the actor.
// CONSOLE_SCREENSHOTS=DIR also saves the main pages there (docs/screenshots).
//
// Exits 1 on the first failed check, with what was expected.
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const targetDir = process.env.CARGO_TARGET_DIR || path.join(root, 'target');
const bin = (name) => path.join(targetDir, 'debug', name);
const endpoint = process.env.DYNALITE_ENDPOINT;
if (!endpoint) {
  console.error('DYNALITE_ENDPOINT is not set: run through scripts/test.sh, or `eval "$(scripts/local-dynamodb.sh env)"` after starting dynalite');
  process.exit(2);
}
const shots = process.env.CONSOLE_SCREENSHOTS;

const table = `console-${process.pid}-${Date.now()}`;
const tables = {
  TABLE_NAME: table,
  RULES_TABLE_NAME: `${table}-rules`,
  AUDIT_TABLE_NAME: `${table}-audit`,
  COUNTERS_TABLE_NAME: `${table}-counters`,
};
// The CLI, the console and the report function all see the same local
// tables, dummy credentials and nothing of the caller's AWS set-up.
const env = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  AWS_ENDPOINT_URL_DYNAMODB: endpoint,
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
  AWS_EC2_METADATA_DISABLED: 'true',
  BLOCKLIST_ACTOR: 'supervisor@test',
  LOOKUP_TIMEOUT_MS: '5000',
  ...tables,
};
if (process.env.MOTO_ENDPOINT) env.AWS_ENDPOINT_URL_STS = process.env.MOTO_ENDPOINT;

function blocklist(...args) {
  return execFileSync(bin('blocklist'), args, { env, encoding: 'utf8' });
}

function blocklistJson(...args) {
  return JSON.parse(blocklist(...args, '--output', 'json'));
}

// An agent reports `number` through the report function, as the
// "Report caller" flow does.
function report(number, dir) {
  const event = JSON.parse(readFileSync(path.join(root, 'events/report-caller.json'), 'utf8'));
  event.Details.ContactData.CustomerEndpoint.Address = number;
  event.Details.ContactData.ContactId = `contact-${number.slice(-4)}`;
  const file = path.join(dir, `report-${number}.json`);
  writeFileSync(file, JSON.stringify(event));
  // Its JSON log lines (stderr) are the function's, not this test's.
  const out = execFileSync(bin('report'), ['--event', file], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  assert.match(out, /"reportStatus":"pending"/, `report of ${number}: ${out}`);
}

// A call from `number` through the Lambda itself (bootstrap --event): its
// hit counter records the block, putting the entry in the last-block index.
function call(number, dir) {
  const event = JSON.parse(readFileSync(path.join(root, 'events/blocked-call.json'), 'utf8'));
  event.Details.ContactData.CustomerEndpoint.Address = number;
  const file = path.join(dir, `call-${number}.json`);
  writeFileSync(file, JSON.stringify(event));
  const out = execFileSync(bin('bootstrap'), ['--event', file], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  assert.match(out, /"isBlocked":"true"/, `the call from ${number} is blocked: ${out}`);
}

// The console error of the one request the test fails itself (the
// import's, answered 503 by the test: applyStopsAtAFailedRequest).
const FAILED_ON_PURPOSE = /^Failed to load resource: the server responded with a status of 503/;

// Starts `blocklist serve`; resolves to the process and the URL on its first line.
function serve(...args) {
  const child = spawn(bin('blocklist'), ['serve', ...args], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (url) => resolve({ child, url }));
    child.once('exit', (code) => reject(new Error(`blocklist serve exited (${code}) before printing its address`)));
  });
}

async function main() {
  const dir = mkdtempSync(path.join(tmpdir(), 'console-test-'));
  blocklist('init');
  for (const n of ['+14155550177', '+14155550178', '+14155550179', '+14155550180']) report(n, dir);

  // 3 rows a request: the import's apply goes in several (importAndExport).
  const { child, url } = await serve('--import-rows-per-request', '3');
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox'],
  });
  try {
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/#token=[0-9a-f]{64}$/, 'the first stdout line is the URL with its token');
    const page = await browser.newPage({ viewport: { width: 1366, height: 800 } });
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error' && !FAILED_ON_PURPOSE.test(m.text())) errors.push(m.text()); });
    await page.goto(url);
    await checks(page, url);
    assert.deepEqual(errors, [], 'no script errors, failed loads or CSP violations on the page');
    await withoutTheToken(browser, url);
    await anAgentTokenCannotAdd(browser);
    console.log('console browser test: all checks passed');
  } finally {
    await browser.close();
    child.kill();
  }
}

// An agent's token (`blocklist serve --role agent`): the page shows the
// agent's page only, and the API refuses an entry added anyway (a request
// made by hand with the token, as a curious agent would): 403, nothing
// written.
async function anAgentTokenCannotAdd(browser) {
  const { child, url } = await serve('--role', 'agent');
  try {
    const page = await browser.newPage();
    await page.goto(url);
    await page.getByRole('region', { name: 'Report a caller' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Add entry' }).isVisible(), false, 'no Add entry for an agent');
    const token = new URL(url).hash.replace('#token=', '');
    const answer = await page.evaluate(async (token) => {
      const response = await fetch('/api/entries', {
        method: 'POST',
        headers: { Authorization: 'Bearer ' + token, 'Content-Type': 'application/json' },
        body: JSON.stringify({ kind: 'block', number: '+14155550199', reason: 'by an agent' }),
      });
      return { status: response.status, body: await response.json() };
    }, token);
    assert.equal(answer.status, 403, JSON.stringify(answer));
    assert.match(answer.body.error, /supervisor/, 'the refusal names the role needed');
    assert.equal(blocklistJson('check', '+14155550199').answer.isBlocked, 'false', 'nothing was added');
    await page.close();
  } finally {
    child.kill();
  }
}

async function checks(page, url) {
  await addThroughTheForm(page);
  await listed(page);
  await refusesWithoutTokenOrFromAnotherSite(url);
  await testANumber(page);
  await editThenRemove(page);
  await pendingReports(page);
  await reportACaller(page);
  await overview(page);
  await sortedByLastBlock(page);
  await importAndExport(page);
}

// Sorted by last block, across the whole list: two blocks, each blocking a
// call through the Lambda a second apart (hit times are whole seconds).
// The later block comes first, then the earlier, ahead of the entries that
// never blocked a call, whatever the tables' own order.
async function sortedByLastBlock(page) {
  const dir = mkdtempSync(path.join(tmpdir(), 'console-calls-'));
  const [earlier, later] = ['+14155550172', '+14155550171'];
  for (const n of [earlier, later]) blocklist('add', n, '--reason', 'called to be sorted');
  // More entries than a page of 10, so there is a page 2.
  for (let n = 160; n < 170; n++) blocklist('add', `+14155550${n}`, '--reason', 'never called');
  call(earlier, dir);
  await new Promise((r) => setTimeout(r, 1100));
  call(later, dir);
  await page.getByRole('button', { name: 'Entries' }).click();
  const list = page.getByRole('region', { name: 'Entries' });
  await list.getByLabel('Status').selectOption('all');
  await list.getByLabel('Sort by').selectOption('lastBlocked');
  await list.getByLabel('Per page').selectOption('10');
  await list.getByRole('button', { name: 'Apply' }).click();
  const table = list.getByRole('table', { name: /most recent block first/ });
  const rows = table.locator('tbody tr');
  await expectText(rows.nth(0), later);
  await expectText(rows.nth(1), earlier);
  const blocks = blocklistJson('list').filter((e) => Number(e.blockCount) > 0);
  assert.deepEqual(blocks.map((e) => e.phoneNumber).sort(), [later, earlier].sort(), 'only these two blocked a call');
  await shot(page, 'entries-by-last-block');
  // Then the rest, never blocked: an empty "Last block" cell (the 8th).
  const count = await rows.count();
  assert.ok(count > 2, `more entries than the two: ${count}`);
  for (let i = 0; i < count; i++) {
    const lastBlock = (await rows.nth(i).locator('td').nth(7).innerText()).trim();
    assert.equal(lastBlock === '', i >= 2, `row ${i}: last block "${lastBlock}"`);
  }
  // Next goes on in the same order (the cursor keeps the sort), whatever
  // the form says now.
  await list.getByLabel('Sort by').selectOption('value');
  await list.getByRole('button', { name: 'Next page' }).click();
  await expectText(list.locator('#page-info'), 'Page 2');
  await expectText(table, 'most recent block first');
}

// The agent's page (the local token's holder may use it too): the
// caller's status, then a report with a category and a note.
async function reportACaller(page) {
  await page.getByRole('button', { name: 'Report a caller' }).click();
  const region = page.getByRole('region', { name: 'Report a caller' });
  await region.getByLabel('Caller number').fill('+1 415 555 0181');
  await region.getByRole('button', { name: 'Check status' }).click();
  await expectText(region.locator('#agent-verdict'), '+14155550181: clear');
  await region.getByLabel('Category').selectOption('fraud');
  await region.getByLabel('Note (optional)').fill('asked for a PIN');
  await region.getByRole('button', { name: 'Report', exact: true }).click();
  await expectText(page.getByRole('status'), 'Reported +14155550181: pending.');
  await expectText(region.locator('#agent-verdict'), '+14155550181: pending, reported by 1 agent');
  const pending = JSON.stringify(blocklistJson('pending'));
  assert.match(pending, /fraud: asked for a PIN/, `the report waits with its reason: ${pending}`);
}

// Import a file with a bad row: the dry run names the line and writes
// nothing. The apply goes 3 rows a request (`serve --import-rows-per-request
// 3`): a request that fails stops it, saying how far it got and from which
// line; applying again finishes, the rows already written unchanged (not
// written twice); the bar ends full and the count names the rows. Each row
// is audited as from the file with its true line: after a quoted cell over
// two lines, and for two rows of one entry in different parts (the later
// one wins, the earlier is not written). The export downloads what
// `blocklist export` writes.
async function importAndExport(page) {
  await page.getByRole('button', { name: 'Import and export' }).click();
  const region = page.getByRole('region', { name: 'Import and export' });
  const csv = 'phoneNumber,kind,reason\n'
    + '+14155550190,block,imported spam\n' // line 2 (parts: rows 1-3, lines 2-4)
    + 'not a number,block,x\n' // 3
    + '+1900555,prefix,\n' // 4
    + '+14155550191,block,"two\nlines"\n' // 5 and 6 (rows 4-6, lines 5-8)
    + '+14155550192,block,first\n' // 7
    + '+14155550193,block,\n' // 8
    + '(415) 555-0192,block,second\n'; // 9 (row 7)
  await region.getByLabel('CSV file').setInputFiles({ name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await region.getByRole('button', { name: 'Check the file (dry run)' }).click();
  await expectText(page.getByRole('status'), 'Read 7 rows: would write 5');
  const rejected = region.getByRole('table', { name: 'Rejected lines: not written' });
  await expectText(rejected, '3\tnot a number\tnot a valid phone number');
  assert.equal(blocklistJson('check', '+14155550190').answer.isBlocked, 'false', 'a dry run writes nothing');

  const apply = region.getByRole('button', { name: 'Apply: write the valid rows' });
  await apply.click();
  await expectText(page.getByRole('alert'), 'A reason is required');
  await region.getByLabel(/^Reason for rows that give none/).fill('quarterly list');
  await applyStopsAtAFailedRequest(page, region);

  await recordAnnouncements(page);
  await apply.click();
  await expectText(page.getByRole('status'), 'Read 7 rows: wrote 3, 2 unchanged, 1 rejected.');
  const bar = await region.locator('#import-progress').evaluate((p) => ({ value: p.value, max: p.max, hidden: p.hidden }));
  assert.deepEqual(bar, { value: 7, max: 7, hidden: false }, 'the bar ends full');
  await expectText(region.locator('#import-count'), '7 of 7 rows applied');
  assert.deepEqual(await page.evaluate(() => window.__heard), {
    count: ['0 of 7 rows applied', '3 of 7 rows applied', '6 of 7 rows applied', '7 of 7 rows applied'],
    status: ['Applying bad.csv: 7 rows, up to 3 a request.', '3 of 7 rows applied: 0 written so far.',
      '6 of 7 rows applied: 2 written so far.', 'Read 7 rows: wrote 3, 2 unchanged, 1 rejected.'],
  }, 'a count per request; the polite status at the start, about each quarter, and at the end');
  await expectText(rejected, '3\tnot a number\tnot a valid phone number');
  await shot(page, 'import');
  importedAsFromTheFile();

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    region.getByRole('button', { name: 'Download every entry as CSV' }).click(),
  ]);
  const exported = readFileSync(await download.path(), 'utf8');
  assert.equal(exported, blocklist('export'), 'the download is what `blocklist export` writes');
}

// The second request of the apply (rows 4 to 6) answers 503, as the
// console does when DynamoDB fails: the page stops, names the line to go
// on from and what was written before it, and leaves Apply on.
async function applyStopsAtAFailedRequest(page, region) {
  const second = (url) => url.pathname === '/api/import' && url.searchParams.get('from') === '3';
  await page.route(second, (route) => route.fulfill({
    status: 503, contentType: 'application/json', body: JSON.stringify({ error: 'DynamoDB did not answer (the test)' }),
  }));
  await region.getByRole('button', { name: 'Apply: write the valid rows' }).click();
  const alert = page.getByRole('alert');
  await expectText(alert, 'Stopped at line 5 (row 4 of 7): DynamoDB did not answer (the test).');
  await expectText(alert, 'Before it, 3 rows were applied: 2 written, 0 unchanged, 1 rejected.');
  await expectText(alert, 'Rows 4 to 6 (from line 5) may be partly written');
  await expectText(region.locator('#import-count'), '3 of 7 rows applied');
  assert.equal(await region.locator('#import-progress').evaluate((p) => p.value), 3);
  assert.equal(blocklistJson('check', '+14155550190').answer.isBlocked, 'true', 'the first part landed');
  assert.equal(blocklistJson('check', '+14155550191').answer.isBlocked, 'false', 'the second did not');
  await page.unroute(second);
}

// Keeps every text the count beside the bar and the polite status take
// from now on (window.__heard), to check what a screen reader is told.
async function recordAnnouncements(page) {
  await page.evaluate(() => {
    const heard = { count: [], status: [] };
    window.__heard = heard;
    for (const [id, list] of [['import-count', heard.count], ['status', heard.status]]) {
      new MutationObserver((changes) => {
        for (const c of changes) for (const n of c.addedNodes) if (n.textContent) list.push(n.textContent);
      }).observe(document.getElementById(id), { childList: true });
    }
  });
}

// Every row landed once, audited as from the console's file with the line
// it starts on.
function importedAsFromTheFile() {
  const one = (args, source, reason) => {
    const history = blocklistJson('history', ...args);
    assert.equal(history.length, 1, `one record for ${args}: ${JSON.stringify(history)}`);
    assert.equal(history[0].source, source, `${args}: audited with the file and its line`);
    assert.equal(history[0].reason, reason);
  };
  one(['+14155550190'], 'import console bad.csv:2', 'imported spam');
  one(['+1900555', '--prefix'], 'import console bad.csv:4', 'quarterly list');
  one(['+14155550191'], 'import console bad.csv:5', 'two\nlines');
  one(['+14155550192'], 'import console bad.csv:9', 'second');
  one(['+14155550193'], 'import console bad.csv:8', 'quarterly list');
  const listed = blocklistJson('list').map((e) => e.phoneNumber);
  for (const n of ['+14155550190', '+1900555', '+14155550191', '+14155550192', '+14155550193']) {
    assert.ok(listed.includes(n), `${n} in blocklist list: ${listed}`);
  }
}

// The overview counts what `blocklist list` lists: the active blocks, and
// no report left waiting.
async function overview(page) {
  await page.getByRole('button', { name: 'Overview' }).click();
  const region = page.getByRole('region', { name: 'Overview' });
  const listed = blocklistJson('list');
  const active = listed.filter((e) => e.kind === 'block' && e.status === 'active').length;
  assert.ok(active >= 4, `the approved reports and the added block: ${active}`);
  const row = region.getByRole('row', { name: /^block/ });
  await expectText(row, `block\t${active}\t0\t0\t0`);
  await expectText(region, 'blocks in force have not blocked a call');
  await shot(page, 'overview');
}

// Edit replaces the entry (a new reason, asked afresh); remove takes it
// away; each is one more record at the top of the timeline.
async function editThenRemove(page) {
  const add = { kind: 'prefix', number: '+1 900', reason: 'premium-rate range' };
  await page.getByRole('button', { name: 'Add entry' }).click();
  const form = page.getByRole('region', { name: 'Add entry' });
  await form.getByLabel('Kind').selectOption(add.kind);
  await form.getByLabel('Number or prefix').fill(add.number);
  await expectText(form.locator('#entry-normalized'), 'Reads as +1900');
  await form.getByLabel('Mode').selectOption('monitor');
  await form.getByLabel('Reason').fill(add.reason);
  await form.getByRole('button', { name: 'Save' }).click();
  const detail = page.getByRole('region', { name: 'prefix +1900' });
  await expectText(detail.locator('#detail-fields'), 'monitor');

  await detail.getByRole('button', { name: 'Edit this entry' }).click();
  const edit = page.getByRole('region', { name: 'Edit prefix +1900' });
  assert.equal(await edit.getByLabel('Reason').inputValue(), '', 'an edit asks its own reason');
  assert.equal(await edit.getByLabel('Replace an existing entry').isChecked(), true);
  await edit.getByLabel('Mode').selectOption('block');
  await edit.getByLabel('Reason').fill('only premium-rate calls seen');
  await edit.getByLabel('Reason').press('Enter');
  const timeline = detail.getByRole('list', { name: 'Audit history' }).getByRole('listitem');
  await expectText(timeline.first(), 'replace');
  await expectText(timeline.first(), 'only premium-rate calls seen');
  await expectText(detail.locator('#detail-fields'), 'block');
  // The Lambda's answer follows the published rules at once.
  const checked = blocklistJson('check', '+19005550100');
  assert.equal(checked.answer.matchType, 'prefix', JSON.stringify(checked));

  await detail.getByLabel('Reason').fill('number range reassigned');
  await detail.getByRole('button', { name: 'Remove' }).click();
  await expectText(page.getByRole('status'), 'Removed prefix +1900.');
  await expectText(timeline.first(), 'remove');
  await expectText(timeline.first(), 'number range reassigned');
  await expectText(detail.locator('#detail-fields'), 'no entry now');
  assert.equal(blocklistJson('check', '+19005550100').answer.isBlocked, 'false');
}

// The page opened without its fragment: it says what to do, and its own
// API calls are refused.
async function withoutTheToken(browser, url) {
  const page = await browser.newPage();
  await page.goto(url.replace(/#.*/, ''));
  await expectText(page.getByRole('alert'), 'No token: open the address `blocklist serve` printed');
  const status = await page.evaluate(async () => (await fetch('/api/entries')).status);
  assert.equal(status, 401, 'an API call without the token is refused');
  await page.close();
}

const HOSTILE = '<img src=x onerror=window.__pwned=1>';

async function addThroughTheForm(page) {
  await page.getByRole('button', { name: 'Add entry' }).click();
  const form = page.getByRole('region', { name: 'Add entry' });
  await form.getByLabel('Kind').selectOption('block');
  await form.getByLabel('Number or prefix').fill('(415) 555-0123');
  await expectText(form.locator('#entry-normalized'), 'Reads as +14155550123 (US)');
  // Saving with no reason is refused (by the page; the API refuses it too,
  // see refusesWithoutTokenOrFromAnotherSite).
  await form.getByLabel('Reason').fill('   ');
  await form.getByLabel('Reason').press('Enter');
  await expectText(page.getByRole('alert'), 'A reason is required');
  await form.getByLabel('Reason').fill(HOSTILE);
  await form.getByLabel('Action').selectOption('message');
  await form.getByLabel('Message').fill('This number is blocked.');
  await form.getByLabel('Message').press('Enter');

  const detail = page.getByRole('region', { name: 'block +14155550123' });
  await detail.waitFor();
  await expectText(page.getByRole('status'), 'Saved block +14155550123.');
  // The hostile reason is text on the page, and ran nothing.
  await expectText(detail.locator('#detail-fields'), HOSTILE);
  assert.equal(await page.evaluate(() => window.__pwned), undefined, 'the reason ran no script');
  assert.equal(await detail.locator('#detail-fields img').count(), 0, 'the reason made no element');
  // Its audit record, in the timeline: who, what, why.
  const record = detail.getByRole('list', { name: 'Audit history' }).getByRole('listitem').first();
  await expectText(record, 'add');
  await expectText(record, 'by supervisor@test');
  await expectText(record, HOSTILE);
  await expectText(record, 'action: message');
  await shot(page, 'detail');
}

async function listed(page) {
  await page.getByRole('button', { name: 'Entries' }).click();
  const list = page.getByRole('region', { name: 'Entries' });
  await list.getByLabel('Kind').first().waitFor();
  await list.getByLabel('Status').selectOption('active');
  await list.getByRole('button', { name: 'Apply' }).click();
  const row = list.getByRole('row', { name: /\+14155550123/ });
  await expectText(row, 'message');
  await expectText(row, HOSTILE);
  // A number search, typed in a national format, opens the entry.
  const search = list.getByRole('form', { name: 'Find a number' });
  await search.getByLabel('Number or prefix').fill('415.555.0123');
  await expectText(search.locator('#search-normalized'), 'Reads as +14155550123 (US)');
  await shot(page, 'entries');
  await search.getByLabel('Number or prefix').press('Enter');
  await page.getByRole('region', { name: 'block +14155550123' }).waitFor();
}

async function refusesWithoutTokenOrFromAnotherSite(url) {
  const origin = new URL(url).origin;
  const token = new URL(url).hash.replace('#token=', '');
  const wrong = await fetch(`${origin}/api/entries`, { headers: { Authorization: 'Bearer ' + 'f'.repeat(64) } });
  assert.equal(wrong.status, 401, 'a wrong token is refused');
  const foreign = await fetch(`${origin}/api/entries`, {
    headers: { Authorization: `Bearer ${token}`, Origin: 'http://evil.example' },
  });
  assert.equal(foreign.status, 403, 'a request from another site is refused, token or not');
  const blank = await fetch(`${origin}/api/entries`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ kind: 'block', number: '+14155550124', reason: ' ' }),
  });
  assert.equal(blank.status, 400, 'the API refuses a change without a reason');
  assert.match((await blank.json()).error, /reason is required/);
  const page0 = await fetch(`${origin}/`);
  assert.equal(page0.headers.get('content-security-policy'),
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
}

async function testANumber(page) {
  await page.getByRole('button', { name: 'Test a number' }).click();
  const region = page.getByRole('region', { name: 'Test a number' });
  await region.getByLabel('Caller number').fill('+1 415 555 0123');
  await region.getByLabel('Caller number').press('Enter');
  await expectText(region.locator('#test-verdict'), 'Blocked: the number has an active entry (+14155550123).');
  await expectText(region.locator('#test-answer'), 'isBlocked');
  const answer = await region.locator('#test-answer').innerText();
  assert.match(answer, /isBlocked\s+true/);
  assert.match(answer, /blockAction\s+message/);
  // The same answer `blocklist check` gives.
  const cli = blocklistJson('check', '+14155550123');
  assert.equal(cli.answer.isBlocked, 'true');
  assert.equal(cli.answer.blockMessage, 'This number is blocked.');
  await shot(page, 'test');
}

async function pendingReports(page) {
  await page.getByRole('button', { name: 'Pending reports' }).click();
  const region = page.getByRole('region', { name: 'Pending reports' });
  await expectText(region.getByRole('table'), '+14155550180');
  await shot(page, 'pending');
  const reason = region.getByLabel('Reason for the decision');
  // One at a time: approve one, reject another.
  await reason.fill('confirmed spam');
  await region.getByRole('button', { name: 'Approve +14155550177' }).click();
  await expectText(page.getByRole('status'), 'Approved 1 report: +14155550177.');
  await region.getByRole('button', { name: 'Reject +14155550178' }).click();
  await expectText(page.getByRole('status'), 'Rejected 1 report: +14155550178.');
  // In bulk: the two left, by their checkboxes (the keyboard: space).
  await region.getByRole('checkbox', { name: 'Select +14155550179' }).check();
  await region.getByRole('checkbox', { name: 'Select +14155550180' }).focus();
  await page.keyboard.press('Space');
  await region.getByRole('button', { name: 'Approve selected' }).click();
  await expectText(page.getByRole('status'), 'Approved 2 reports.');
  await expectText(region.getByRole('table'), 'No reports wait.');

  for (const n of ['+14155550177', '+14155550179', '+14155550180']) {
    const checked = blocklistJson('check', n);
    assert.equal(checked.answer.isBlocked, 'true', `${n} approved in the console blocks: ${JSON.stringify(checked)}`);
  }
  const rejected = blocklistJson('check', '+14155550178');
  assert.equal(rejected.answer.isBlocked, 'false', 'the rejected report does not block');
  assert.deepEqual(blocklistJson('pending'), [], 'no report waits');
  const history = blocklistJson('history', '+14155550178');
  assert.equal(history[0].action, 'reject');
  assert.equal(history[0].reason, 'confirmed spam');
  assert.equal(history[0].actor, 'supervisor@test');
}

// Waits (up to 5 s) for `locator` to contain `text`.
async function expectText(locator, text) {
  const deadline = Date.now() + 5000;
  let seen = '';
  while (Date.now() < deadline) {
    seen = await locator.innerText().catch((e) => `<${e.message}>`);
    if (seen.includes(text)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`expected ${JSON.stringify(text)} in ${locator}; it reads:\n${seen}`);
}

async function shot(page, name) {
  if (!shots) return;
  mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
}

main().catch((e) => {
  console.error(`console browser test failed: ${e.stack || e}`);
  process.exit(1);
});
