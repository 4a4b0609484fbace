// Browser tests of the agent workspace app (console/agent/, the committed
// bundle), as an agent uses it: Debian's chromium driven by playwright-core,
// the app framed by a stand-in workspace on another origin
// (agent-stand-in.js: what it fakes is written at its top), and the app's
// API (/api/agent/*) answered by a small in-memory server in this file. That
// server is the contract the Rust console (`blocklist serve`) implements:
// the same routes, bodies, statuses and headers (README: Agent workspace app).
//
// The app's sign-in (agent-app/src/sign-in.js) is tested the same way: the
// in-memory server also serves the console's own page (console/index.html
// and app.js, committed, with the console's headers) and /config.json with a
// `loginUrl` pointing at a fake identity provider, another server in this
// file on its own port. Its login page returns to the console's root with
// `#id_token=<TOKEN>&state=<the state it was given>`, as Cognito's implicit
// flow does: TOKEN, the one token the in-memory API accepts, stands in for
// the JWT that API Gateway's authorizer checks when deployed.
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
const consoleDir = join(here, "..", "..", "console");
const agentDir = join(consoleDir, "agent");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const TOKEN = "test-token-3f9c";
const CONTACT = "0b7ba3e1-5c2d-4a8e-9f10-2a3b4c5d6e7f";

// The API's state: callers by number, and every report received; every
// request the app's server had (path and Authorization), and what its
// /config.json says.
const api = { callers: new Map(), reports: [], lookups: [], requests: [], loginUrl: null };
// What the fake identity provider returns: the token, and a state that
// replaces the one it was given (null: the one given).
const idp = { token: "", state: null };
// The console's Content-Security-Policy (src/console/mod.rs), which the
// agent page's only changes in frame-ancestors.
const CONSOLE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
const SIGN_IN_STATE = /^agent-app\.[0-9a-f]{32}$/;

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
  api.requests.push({ path: url.pathname, auth: req.headers.authorization || "" });
  if (url.pathname === "/config.json") return send(res, 200, { loginUrl: api.loginUrl });
  const consoleFiles = { "/": "index.html", "/app.js": "app.js", "/app.css": "app.css" };
  if (consoleFiles[url.pathname] && req.method === "GET") return consolePage(res, consoleFiles[url.pathname]);
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
  return agentPage(req, res, url);
}

const TYPES = { html: "text/html; charset=utf-8", js: "text/javascript; charset=utf-8", css: "text/css; charset=utf-8" };

// The console's own page, with the headers `blocklist serve` and the
// deployed console send it (tests/console.rs checks those): no frames, and
// no Cross-Origin-Opener-Policy, which would cut a sign-in popup from the
// agent app that opened it.
async function consolePage(res, file) {
  res.writeHead(200, {
    "Content-Type": TYPES[file.split(".").pop()],
    "Content-Security-Policy": CONSOLE_CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
  });
  res.end(await readFile(join(consoleDir, file)));
}

async function agentPage(req, res, url) {
  const files = { "/agent/": "index.html", "/agent/index.html": "index.html", "/agent/agent.js": "agent.js", "/agent/agent.css": "agent.css" };
  const file = files[url.pathname];
  if (!file || req.method !== "GET") return send(res, 404, { error: "not found" });
  res.writeHead(200, {
    "Content-Type": TYPES[file.split(".").pop()],
    // The CSP the console serves the page with; frame-ancestors names the
    // workspace's origin (here the stand-in's, another port).
    "Content-Security-Policy": CONSOLE_CSP.replace("frame-ancestors 'none'", `frame-ancestors ${hostOrigin}`),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
  });
  res.end(await readFile(join(agentDir, file)));
}

// The iframe has the sandbox the agent workspace gives third-party apps by
// default (admin guide, "Iframe permissions"); a popup opened from it
// inherits these flags.
const HOST_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>stand-in workspace</title></head>
<body><iframe id="app" title="Caller check" width="600" height="600"
  sandbox="allow-forms allow-popups allow-same-origin allow-scripts"></iframe>
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

// The fake identity provider: GET /login?...&redirect_uri=...&state=... is
// a login page whose one link returns to redirect_uri with the token and
// the state in the fragment, as the implicit flow does. (No script: the
// test follows the link as the agent would submit the form.)
async function idpServer(req, res) {
  const url = new URL(req.url, "http://idp");
  if (url.pathname !== "/login") {
    res.writeHead(404);
    return res.end();
  }
  const state = idp.state ?? url.searchParams.get("state") ?? "";
  const back = new URLSearchParams({ id_token: idp.token, token_type: "Bearer", expires_in: "3600", state });
  const href = `${url.searchParams.get("redirect_uri")}#${back}`.replace(/&/g, "&amp;").replace(/"/g, "&quot;");
  res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
  res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>fake login</title></head>
<body><a id="login" href="${href}">Sign in as agent</a></body></html>`);
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

let browser, app, host, idpHost, appOrigin, idpOrigin;

before(async () => {
  app = await listen(appServer);
  host = await listen(hostServer);
  appOrigin = `http://127.0.0.1:${app.address().port}`;
  hostOrigin = `http://127.0.0.1:${host.address().port}`;
  idpHost = await listen(idpServer);
  idpOrigin = `http://127.0.0.1:${idpHost.address().port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
});

after(async () => {
  await browser?.close();
  app?.close();
  host?.close();
  idpHost?.close();
});

beforeEach(() => {
  api.callers = new Map([
    ["+14155550101", { status: "blocked", reports: 2, since: "2026-11-02T10:00:00Z" }],
    ["+14155550102", { status: "pending", reports: 1, since: "2026-11-30T09:00:00Z" }],
    ["+14155550103", { status: "reported", reports: 3, since: "2026-10-01T08:00:00Z" }],
  ]);
  api.reports = [];
  api.lookups = [];
  api.requests = [];
  api.loginUrl = null;
  idp.token = TOKEN;
  idp.state = null;
});

// The login URL as the template builds Cognito's (client, implicit flow,
// scopes, the console's root as redirect_uri), at the fake provider.
function fakeLoginUrl() {
  return `${idpOrigin}/login?client_id=test-client&response_type=token&scope=openid+email+profile&redirect_uri=${encodeURIComponent(`${appOrigin}/`)}`;
}

// Collects CSP violations and uncaught errors of a page (a popup too).
function watchProblems(page, problems) {
  page.on("console", (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text());
  });
  page.on("pageerror", (e) => problems.push(`uncaught: ${e.message}`));
}

// Opens the stand-in workspace framing the app for one contact. Returns the
// page, the app's frame (a Frame, for evaluate) and a locator root in it.
// `loginUrl` is what /config.json gives (none: the local console's null).
async function open(t, { number, channel, phoneError, token = TOKEN, loginUrl = null } = {}) {
  api.loginUrl = loginUrl;
  const context = await browser.newContext();
  t.after(() => context.close());
  const page = await context.newPage();
  const problems = [];
  watchProblems(page, problems);
  // A sign-in popup's problems count too.
  context.on("page", (popup) => watchProblems(popup, problems));
  t.after(() => assert.deepEqual(problems, [], "no CSP violation and no uncaught error"));
  const q = new URLSearchParams({ app: `${appOrigin}/agent/#token=${encodeURIComponent(token)}`, contactId: CONTACT });
  if (number !== undefined) q.set("number", number);
  if (channel) q.set("channel", channel);
  if (phoneError) q.set("phoneError", phoneError);
  await page.goto(`${hostOrigin}/host.html?${q}`);
  const ui = page.frameLocator("#app");
  await ui.locator("#status:not([data-state='busy'])").waitFor({ timeout: 10_000 });
  const frame = page.frames().find((f) => f.url().startsWith(appOrigin));
  return { page, ui, frame, context };
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

test("an API 401 signs the app out; without a login URL it says how to get a token", async (t) => {
  const { ui } = await open(t, { number: "+14155550101", token: "wrong" });
  assert.equal(await ui.locator("#status").getAttribute("data-state"), "signed-out");
  assert.match(await text(ui, "#error"), /refused \(401\): missing or wrong token/);
  assert.equal(await ui.locator("#send").isVisible(), false);
  await ui.locator("#signin-status:not(:empty)").waitFor();
  assert.match(await text(ui, "#signin-status"), /^Your sign-in has expired or was refused.*no sign-in: open this page as \/agent\/#token=/);
  assert.equal(await ui.locator("#signin-button").isVisible(), false, "nothing to sign in with");
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

test("a page opened without a token and no login URL says how to get one, and asks the API nothing", async (t) => {
  const { ui } = await open(t, { number: "+14155550101", token: "" });
  assert.equal(await ui.locator("#status").getAttribute("data-state"), "signed-out");
  await ui.locator("#signin-status:not(:empty)").waitFor();
  assert.match(await text(ui, "#signin-status"), /no sign-in: open this page as \/agent\/#token=/);
  assert.equal(await ui.locator("#signin-button").isVisible(), false);
  assert.equal(await ui.locator("#error").isVisible(), false);
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

// ---- the app's sign-in: a popup to the identity provider ------------------

// Presses the app's Sign in button with the keyboard and returns the popup
// (at the fake provider's login page) and the state the app gave it.
async function startSignIn(page, ui, context) {
  const button = ui.getByRole("button", { name: "Sign in" });
  await button.waitFor();
  await button.focus();
  const popupOpened = context.waitForEvent("page");
  await page.keyboard.press("Enter");
  const popup = await popupOpened;
  await popup.waitForLoadState();
  const url = new URL(popup.url());
  assert.equal(url.origin, idpOrigin, "the popup opened the login URL");
  assert.equal(url.pathname, "/login");
  const state = url.searchParams.get("state");
  assert.match(state, SIGN_IN_STATE, "a fresh random state");
  // The configured query is kept as it was, the state added at its end.
  assert.equal(popup.url(), `${fakeLoginUrl()}&state=${state}`);
  return { popup, state };
}

// The app's own requests to the console's API (the console page's are
// /api/whoami and the like).
const consoleApiCalls = () => api.requests.filter((r) => r.path.startsWith("/api/") && !r.path.startsWith("/api/agent/"));

test("without a token the app signs in through a popup, and then shows the caller", async (t) => {
  const { page, ui, context } = await open(t, { number: "+14155550101", token: "", loginUrl: fakeLoginUrl() });
  assert.equal(await ui.locator("#status").getAttribute("data-state"), "signed-out");
  await ui.locator("#signin-status:not(:empty)").waitFor();
  assert.match(await text(ui, "#signin-status"), /^Sign in to see the caller's status\. Press Sign in/);
  assert.equal(await ui.locator("#signin-button").getAttribute("aria-describedby"), "signin-status");
  const outline = await ui.locator("#signin-button").evaluate((b) => {
    b.focus();
    return getComputedStyle(b).outlineStyle;
  });
  assert.notEqual(outline, "none", "the focused button shows its focus");
  assert.deepEqual(api.lookups, [], "nothing asked before the sign-in");

  const { popup, state } = await startSignIn(page, ui, context);
  assert.match(await text(ui, "#signin-status"), /^Signing in in the new window/);
  const closed = popup.waitForEvent("close");
  await popup.locator("#login").click();
  await closed;
  assert.ok(popup.isClosed(), "the console's page closed the popup after the hand-off");

  await ui.locator("#status[data-state='blocked']").waitFor();
  assert.equal(await text(ui, "#number"), "+14155550101");
  assert.equal(await text(ui, "#signin-status"), "Signed in.");
  assert.equal(await ui.locator("#signin-button").isVisible(), false);
  assert.deepEqual(api.lookups, ["+14155550101"]);
  const lookup = api.requests.find((r) => r.path === "/api/agent/caller");
  assert.equal(lookup.auth, `Bearer ${TOKEN}`, "the token from the sign-in, as a bearer token");
  // The popup loaded the console's page with the token, which handed it on
  // and did not sign in itself: no call of the console's own API.
  assert.ok(api.requests.some((r) => r.path === "/app.js"), "the console's page ran in the popup");
  assert.deepEqual(consoleApiCalls(), []);
  assert.ok(state);
});

test("an expired token (401) offers the sign-in again, and the new token is used", async (t) => {
  const { page, ui, context } = await open(t, { number: "+14155550102", token: "expired", loginUrl: fakeLoginUrl() });
  assert.equal(await ui.locator("#status").getAttribute("data-state"), "signed-out");
  assert.match(await text(ui, "#error"), /refused \(401\)/);
  await ui.locator("#signin-status:not(:empty)").waitFor();
  assert.match(await text(ui, "#signin-status"), /^Your sign-in has expired or was refused: sign in again\. Press Sign in/);
  const { popup } = await startSignIn(page, ui, context);
  const closed = popup.waitForEvent("close");
  await popup.locator("#login").click();
  await closed;
  await ui.locator("#status[data-state='pending']").waitFor();
  assert.equal(await ui.locator("#error").isVisible(), false, "the refusal is cleared");
  assert.deepEqual(api.lookups, ["+14155550102"], "looked up once the API took the token");
  assert.deepEqual(
    api.requests.filter((r) => r.path === "/api/agent/caller").map((r) => r.auth),
    ["Bearer expired", `Bearer ${TOKEN}`]
  );
});

test("a sign-in answer from another origin, another window or with a wrong state is ignored", async (t) => {
  const { page, ui, frame, context } = await open(t, { number: "+14155550101", token: "", loginUrl: fakeLoginUrl() });
  const { popup, state } = await startSignIn(page, ui, context);
  const answer = { type: "connect-blocklist-agent-sign-in", state, token: TOKEN, error: "" };
  const ignored = /^A sign-in answer was ignored .*nothing was accepted, you are still signed out\.$/;

  // From the popup itself, with the right state, but at the provider's
  // origin (the console's page is the only one that may answer).
  await popup.evaluate((m) => window.opener.postMessage(m, "*"), answer);
  await ui.locator("#signin-status", { hasText: "ignored" }).waitFor();
  assert.match(await text(ui, "#signin-status"), ignored);
  // From the workspace's origin (the stand-in framing the app).
  await frame.evaluate(() => {
    document.getElementById("signin-status").textContent = "";
  });
  await page.evaluate((m) => document.getElementById("app").contentWindow.postMessage(m, "*"), answer);
  await ui.locator("#signin-status", { hasText: "ignored" }).waitFor();
  // From the app's own origin and with the right state, but not from the
  // popup it opened.
  await frame.evaluate(() => {
    document.getElementById("signin-status").textContent = "";
  });
  await frame.evaluate((m) => window.postMessage(m, window.location.origin), answer);
  await ui.locator("#signin-status", { hasText: "ignored" }).waitFor();
  assert.equal(await ui.locator("#status").getAttribute("data-state"), "signed-out");
  assert.deepEqual(api.lookups, [], "no token was taken");

  // Through the console's page, from the popup, but with another state.
  await frame.evaluate(() => {
    document.getElementById("signin-status").textContent = "";
  });
  idp.state = "agent-app.00000000000000000000000000000000";
  await popup.reload();
  const closed = popup.waitForEvent("close");
  await popup.locator("#login").click();
  await closed;
  await ui.locator("#signin-status", { hasText: "still signed out" }).waitFor();
  assert.match(await text(ui, "#signin-status"), /nothing was accepted|no sign-in was accepted/);
  await page.waitForTimeout(700); // the app's check of the closed popup
  assert.match(await text(ui, "#signin-status"), /still signed out/);
  assert.equal(await ui.locator("#status").getAttribute("data-state"), "signed-out");
  assert.equal(await ui.locator("#signin-button").isVisible(), true, "the agent can try again");
  assert.deepEqual(api.lookups, [], "no token was taken");
  assert.deepEqual(consoleApiCalls(), [], "the console's page did not sign itself in either");
});

test("closing the sign-in window without signing in is said, and nothing is taken", async (t) => {
  const { page, ui, context } = await open(t, { number: "+14155550101", token: "", loginUrl: fakeLoginUrl() });
  const { popup } = await startSignIn(page, ui, context);
  await popup.close();
  await ui.locator("#signin-status", { hasText: "closed" }).waitFor();
  assert.match(await text(ui, "#signin-status"), /^The sign-in window closed and no sign-in was accepted: you are still signed out\.$/);
  assert.deepEqual(api.lookups, []);
});

test("the console's page hands an agent-app sign-in to no other origin, and keeps it for no one without an opener", async (t) => {
  const context = await browser.newContext();
  t.after(() => context.close());
  const page = await context.newPage();
  const problems = [];
  watchProblems(page, problems);
  await page.goto(`${appOrigin}/#id_token=${TOKEN}&state=agent-app.0123456789abcdef0123456789abcdef`);
  await page.locator("#alert:not(:empty)").waitFor();
  assert.match(await page.locator("#alert").textContent(), /^This sign-in was for the agent app, whose window is gone/);
  assert.equal(new URL(page.url()).hash, "", "the token is taken out of the address");
  assert.equal(await page.locator("main").isVisible(), false);
  assert.deepEqual(consoleApiCalls(), [], "and not used");
  // Opened by a window of another origin (here the provider's): the page
  // posts for its own origin only, so that window receives nothing.
  const stranger = await context.newPage();
  watchProblems(stranger, problems);
  await stranger.goto(`${idpOrigin}/login`);
  const handedOff = context.waitForEvent("page");
  await stranger.evaluate((url) => {
    window.received = [];
    window.addEventListener("message", (e) => window.received.push(e.data));
    window.open(url, "_blank", "popup");
  }, `${appOrigin}/#id_token=${TOKEN}&state=agent-app.0123456789abcdef0123456789abcdef`);
  const popup = await handedOff;
  if (!popup.isClosed()) await popup.waitForEvent("close");
  await stranger.waitForTimeout(200);
  assert.deepEqual(await stranger.evaluate(() => window.received), [], "no token for another origin");
  assert.deepEqual(consoleApiCalls(), []);
  // A sign-in of the console itself (no agent-app state) still signs it in.
  const other = await context.newPage();
  watchProblems(other, problems);
  const whoami = other.waitForResponse((r) => r.url().endsWith("/api/whoami"));
  await other.goto(`${appOrigin}/#id_token=${TOKEN}&state=other`);
  await whoami;
  assert.deepEqual(consoleApiCalls().map((r) => [r.path, r.auth]), [["/api/whoami", `Bearer ${TOKEN}`]]);
  assert.deepEqual(problems, []);
});
