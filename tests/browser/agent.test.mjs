// Browser tests of the agent workspace app (console/agent/, the committed
// bundle), as an agent uses it: Debian's chromium driven by playwright-core,
// the app framed by a stand-in workspace on another origin
// (agent-stand-in.js: what it fakes is written at its top), and the app's
// API (/api/agent/*) answered by a small in-memory server in this file. That
// server is the contract the Rust console (`blocklist serve`) implements:
// the same routes, bodies, statuses and headers (README: Agent workspace app).
//
// Run: scripts/browser-tests.sh (npm ci here, then node --test).
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const agentDir = join(here, "..", "..", "console", "agent");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const TOKEN = "test-token-3f9c";
const CONTACT = "0b7ba3e1-5c2d-4a8e-9f10-2a3b4c5d6e7f";

// The API's state: callers by number, and every report received.
const api = { callers: new Map(), reports: [], lookups: [] };

const CATEGORIES = ["spam", "robocall", "fraud", "abusive", "other"];
const E164 = /^\+[1-9][0-9]{1,14}$/;

function send(res, status, body, headers = {}) {
  res.writeHead(status, { "Content-Type": "application/json", "Cache-Control": "no-store", ...headers });
  res.end(JSON.stringify(body));
}

function authorized(req) {
  return req.headers.authorization === `Bearer ${TOKEN}`;
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

// The report body must be exactly {number, contactId, category, note}.
function badReport(body) {
  if (body === null || typeof body !== "object" || Array.isArray(body)) return "the body is not a JSON object";
  const keys = Object.keys(body).sort().join(",");
  if (keys !== "category,contactId,note,number") return `fields ${keys}, not category,contactId,note,number`;
  if (typeof body.number !== "string" || !E164.test(body.number)) return "number is not E.164";
  if (typeof body.contactId !== "string" || body.contactId === "") return "contactId is empty";
  if (!CATEGORIES.includes(body.category)) return "unknown category";
  if (typeof body.note !== "string" || [...body.note].length > 500) return "note over 500 characters";
  return null;
}

let hostOrigin;

async function appServer(req, res) {
  const url = new URL(req.url, "http://app");
  if (url.pathname.startsWith("/api/")) {
    if (!authorized(req)) return send(res, 401, { error: "missing or wrong token" }, { "WWW-Authenticate": "Bearer" });
    if (req.method === "GET" && url.pathname === "/api/agent/caller") {
      const number = url.searchParams.get("number") || "";
      api.lookups.push(number);
      if (!E164.test(number)) return send(res, 400, { error: "number is not E.164" });
      const known = api.callers.get(number) || { status: "clear", reports: 0, since: null };
      return send(res, 200, { number, ...known });
    }
    if (req.method === "POST" && url.pathname === "/api/agent/report") {
      if (!(req.headers["content-type"] || "").startsWith("application/json")) {
        return send(res, 415, { error: "expected application/json" });
      }
      let body;
      try {
        body = JSON.parse(await readBody(req));
      } catch {
        return send(res, 400, { error: "the body is not JSON" });
      }
      const why = badReport(body);
      if (why) return send(res, 400, { error: why });
      api.reports.push(body);
      const known = api.callers.get(body.number);
      const status = known?.status === "blocked" ? "alreadyBlocked" : known?.status === "pending" ? "alreadyPending" : "pending";
      if (status === "pending") api.callers.set(body.number, { status: "pending", reports: 1, since: "2026-12-01T00:00:00Z" });
      return send(res, 200, { status });
    }
    return send(res, 404, { error: "no such route" });
  }
  const files = { "/agent/": "index.html", "/agent/index.html": "index.html", "/agent/agent.js": "agent.js", "/agent/agent.css": "agent.css" };
  const file = files[url.pathname];
  if (!file || req.method !== "GET") return send(res, 404, { error: "not found" });
  const types = { html: "text/html; charset=utf-8", js: "text/javascript; charset=utf-8", css: "text/css; charset=utf-8" };
  res.writeHead(200, {
    "Content-Type": types[file.split(".").pop()],
    // The CSP the console serves the page with; frame-ancestors names the
    // workspace's origin (here the stand-in's, another port).
    "Content-Security-Policy": `default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; frame-ancestors ${hostOrigin}; base-uri 'none'; form-action 'none'`,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
  });
  res.end(await readFile(join(agentDir, file)));
}

const HOST_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>stand-in workspace</title></head>
<body><iframe id="app" title="Caller check" width="600" height="600"></iframe>
<script src="/agent-stand-in.js"></script></body></html>`;

async function hostServer(req, res) {
  const url = new URL(req.url, "http://host");
  if (url.pathname === "/host.html") {
    res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
    return res.end(HOST_PAGE);
  }
  if (url.pathname === "/agent-stand-in.js") {
    res.writeHead(200, { "Content-Type": "text/javascript; charset=utf-8" });
    return res.end(await readFile(join(here, "agent-stand-in.js")));
  }
  res.writeHead(404);
  res.end();
}

function listen(handler) {
  const server = http.createServer((req, res) => {
    handler(req, res).catch((e) => {
      res.writeHead(500);
      res.end(String(e));
    });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

let browser, app, host, appOrigin;

before(async () => {
  app = await listen(appServer);
  host = await listen(hostServer);
  appOrigin = `http://127.0.0.1:${app.address().port}`;
  hostOrigin = `http://127.0.0.1:${host.address().port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
});

after(async () => {
  await browser?.close();
  app?.close();
  host?.close();
});

beforeEach(() => {
  api.callers = new Map([
    ["+14155550101", { status: "blocked", reports: 2, since: "2026-11-02T10:00:00Z" }],
    ["+14155550102", { status: "pending", reports: 1, since: "2026-11-30T09:00:00Z" }],
    ["+14155550103", { status: "reported", reports: 3, since: "2026-10-01T08:00:00Z" }],
  ]);
  api.reports = [];
  api.lookups = [];
});

// Opens the stand-in workspace framing the app for one contact. Returns the
// page, the app's frame (a Frame, for evaluate) and a locator root in it.
async function open(t, { number, channel, phoneError, token = TOKEN } = {}) {
  const context = await browser.newContext();
  t.after(() => context.close());
  const page = await context.newPage();
  const problems = [];
  page.on("console", (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text());
  });
  page.on("pageerror", (e) => problems.push(`uncaught: ${e.message}`));
  t.after(() => assert.deepEqual(problems, [], "no CSP violation and no uncaught error"));
  const q = new URLSearchParams({ app: `${appOrigin}/agent/#token=${encodeURIComponent(token)}`, contactId: CONTACT });
  if (number !== undefined) q.set("number", number);
  if (channel) q.set("channel", channel);
  if (phoneError) q.set("phoneError", phoneError);
  await page.goto(`${hostOrigin}/host.html?${q}`);
  const ui = page.frameLocator("#app");
  await ui.locator("#status:not([data-state='busy'])").waitFor({ timeout: 10_000 });
  const frame = page.frames().find((f) => f.url().startsWith(appOrigin));
  return { page, ui, frame };
}

const text = (ui, sel) => ui.locator(sel).textContent();

test("a blocked caller is shown as blocked, with the number the workspace gave", async (t) => {
  const { page, ui } = await open(t, { number: "+14155550101" });
  assert.equal(await ui.locator("#status").getAttribute("data-state"), "blocked");
  assert.match(await text(ui, "#status"), /^Blocked/);
  assert.equal(await text(ui, "#number"), "+14155550101");
  assert.match(await text(ui, "#details"), /2 reports, since 2026-11-02T10:00:00Z/);
  assert.deepEqual(api.lookups, ["+14155550101"]);
  // The app asked the workspace for this contact's number, through the SDK.
  const upstream = await page.evaluate(() => window.standIn.upstream.filter((m) => m.type === "request").map((m) => [m.namespace, m.command, m.data]));
  assert.deepEqual(upstream, [
    ["aws.connect.contact", "contact/getChannelType", { contactId: CONTACT }],
    ["aws.connect.voice", "voice/getInitialCustomerPhoneNumber", { contactId: CONTACT }],
  ]);
  const completed = await page.evaluate(() => window.standIn.upstream.some((m) => m.type === "appLifecycleHandlerCompleted" && m.stage === "create"));
  assert.ok(completed, "onCreate settled and the SDK told the workspace");
});

test("a pending caller is shown as pending", async (t) => {
  const { ui } = await open(t, { number: "+14155550102" });
  assert.equal(await ui.locator("#status").getAttribute("data-state"), "pending");
  assert.match(await text(ui, "#status"), /^Pending/);
});

test("a caller reported before is shown as reported; an unknown one as clear", async (t) => {
  const reported = await open(t, { number: "+14155550103" });
  assert.equal(await reported.ui.locator("#status").getAttribute("data-state"), "reported");
  assert.match(await text(reported.ui, "#status"), /^Reported before/);
  const clear = await open(t, { number: "+14155550199" });
  assert.equal(await clear.ui.locator("#status").getAttribute("data-state"), "clear");
  assert.match(await text(clear.ui, "#status"), /^Clear/);
  assert.equal(await text(clear.ui, "#details"), "");
  assert.ok(await clear.ui.locator("#send").isVisible(), "a caller on the line can be reported");
});

test("the agent reports with the keyboard only: category, note, Report", async (t) => {
  const { page, ui } = await open(t, { number: "+14155550199" });
  await ui.locator("#category").focus();
  // Choose "fraud" (third option after the prompt) with the arrow keys.
  for (let i = 0; i < 3; i++) await page.keyboard.press("ArrowDown");
  assert.equal(await ui.locator("#category").inputValue(), "fraud");
  await page.keyboard.press("Tab");
  assert.equal(await ui.locator("#note").evaluate((n) => n === document.activeElement), true, "Tab reaches the note");
  const note = "Asked for card numbers, then threatened.";
  await page.keyboard.type(note);
  assert.equal(await text(ui, "#note-count"), `${note.length} / 500`);
  await page.keyboard.press("Tab");
  const button = ui.locator("#send");
  assert.equal(await button.evaluate((b) => b === document.activeElement), true, "Tab reaches Report");
  const outline = await button.evaluate((b) => getComputedStyle(b).outlineStyle);
  assert.notEqual(outline, "none", "the focused button shows its focus");
  await page.keyboard.press("Enter");
  await ui.locator("#sent").waitFor();
  assert.deepEqual(api.reports, [{ number: "+14155550199", contactId: CONTACT, category: "fraud", note }]);
  assert.equal(await ui.locator("#status").getAttribute("data-state"), "pending");
  assert.match(await text(ui, "#status"), /^Reported: the number waits for review/);
  assert.equal(await ui.locator("#report").isVisible(), false, "one report per contact");
});

test("a note with markup is sent as written and shown as text only", async (t) => {
  const { page, ui, frame } = await open(t, { number: "+14155550102" });
  const note = "<img src=x onerror=window.__pwned=1>";
  await ui.locator("#category").selectOption("abusive");
  await ui.locator("#note").fill(note);
  await ui.locator("#send").press("Enter");
  await ui.locator("#sent").waitFor();
  assert.deepEqual(api.reports, [{ number: "+14155550102", contactId: CONTACT, category: "abusive", note }]);
  assert.ok((await text(ui, "#sent")).includes(note), "the note is shown, as text");
  assert.equal(await ui.locator("img").count(), 0, "no element was made from it");
  await page.waitForTimeout(200);
  assert.equal(await frame.evaluate(() => window.__pwned), undefined);
  assert.match(await text(ui, "#status"), /^Already reported/);
});

test("the note is limited to 500 characters, counted as typed", async (t) => {
  const { ui } = await open(t, { number: "+14155550199" });
  await ui.locator("#note").fill("x".repeat(520));
  assert.equal((await ui.locator("#note").inputValue()).length, 500);
  assert.equal(await text(ui, "#note-count"), "500 / 500");
});

test("a report without a category is not sent", async (t) => {
  const { ui } = await open(t, { number: "+14155550199" });
  await ui.locator("#send").click();
  assert.deepEqual(api.reports, []);
  assert.equal(await ui.locator("#category").evaluate((c) => c === document.activeElement), true);
});

test("a withheld number shows 'number withheld' and no Report button", async (t) => {
  for (const number of ["", "anonymous"]) {
    const { ui } = await open(t, { number });
    assert.equal(await ui.locator("#status").getAttribute("data-state"), "withheld", JSON.stringify(number));
    assert.equal(await text(ui, "#number"), "Number withheld");
    assert.equal(await ui.locator("#send").isVisible(), false);
  }
  assert.deepEqual(api.lookups, [], "nothing was looked up");
});

test("a chat contact shows 'not a call' and asks for no number", async (t) => {
  const { page, ui } = await open(t, { channel: "chat" });
  assert.equal(await ui.locator("#status").getAttribute("data-state"), "not-a-call");
  assert.match(await text(ui, "#status"), /^Not a call \(chat\)/);
  assert.equal(await ui.locator("#send").isVisible(), false);
  const commands = await page.evaluate(() => window.standIn.upstream.filter((m) => m.type === "request").map((m) => m.command));
  assert.deepEqual(commands, ["contact/getChannelType"]);
});

test("the workspace failing to give the number is shown, and nothing crashes", async (t) => {
  const { ui } = await open(t, { phoneError: "permissionDenied" });
  assert.equal(await ui.locator("#status").getAttribute("data-state"), "error");
  assert.match(await text(ui, "#error"), /could not give the phone number \(permissionDenied\)/);
  assert.equal(await ui.locator("#send").isVisible(), false);
});

test("an API 401 is shown as an error", async (t) => {
  const { ui } = await open(t, { number: "+14155550101", token: "wrong" });
  assert.equal(await ui.locator("#status").getAttribute("data-state"), "error");
  assert.match(await text(ui, "#error"), /refused \(401\): missing or wrong token/);
  assert.equal(await ui.locator("#send").isVisible(), false);
});

test("opened outside the workspace, the page says it is not connected", async (t) => {
  const context = await browser.newContext();
  t.after(() => context.close());
  const page = await context.newPage();
  await page.goto(`${appOrigin}/agent/#token=${TOKEN}`);
  // The SDK gives up after its connection timeout (5 s by default).
  await page.locator("#status[data-state='error']").waitFor({ timeout: 10_000 });
  assert.match(await page.locator("#status").textContent(), /^Not connected to the agent workspace/);
  assert.match(await page.locator("#error").textContent(), /failed to connect to workspace/);
  assert.deepEqual(api.lookups, []);
});

test("a page opened without a token says so and asks the API nothing", async (t) => {
  const { ui } = await open(t, { number: "+14155550101", token: "" });
  assert.equal(await ui.locator("#status").getAttribute("data-state"), "error");
  assert.match(await text(ui, "#error"), /Not signed in/);
  assert.deepEqual(api.lookups, []);
});

test("a report refused by the API shows the message and can be sent again", async (t) => {
  const { ui } = await open(t, { number: "+14155550199" });
  await ui.locator("#category").selectOption("spam");
  await ui.locator("#note").fill("first try");
  const saved = api.callers;
  // The server refuses this one (the note is checked server-side too).
  const realPush = api.reports.push;
  api.reports.push = () => {
    throw new Error("refused on purpose");
  };
  t.after(() => {
    api.reports.push = realPush;
    api.callers = saved;
  });
  await ui.locator("#send").click();
  await ui.locator("#error:not([hidden])").waitFor();
  assert.match(await text(ui, "#error"), /refused \(500\)/);
  assert.equal(await ui.locator("#send").isEnabled(), true);
});
