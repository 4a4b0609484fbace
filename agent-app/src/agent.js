// The agent workspace app (issue 14): in Amazon Connect's agent workspace,
// per-contact scope, it shows whether the caller on the line is blocked,
// pending or reported before, and lets the agent report the caller.
//
// Written by hand, no framework: the page is small and runs under a strict
// CSP (no inline script or style), so everything is built with DOM calls and
// every value from the workspace or the API is rendered with textContent.
//
// The workspace side is the Amazon Connect SDK (npm @amazon-connect/*):
// AmazonConnectApp.init connects to the workspace that frames this page (a
// MessagePort handshake with window.parent); onCreate carries the contact
// id in context.scope ({type: "contact", contactId}) for per-contact apps.
// Two requests are made, and they are exactly what the template's
// Permissions grant: contact/getChannelType (Contact.Details.View) and
// voice/getInitialCustomerPhoneNumber (Contact.CustomerDetails.View).

import { AmazonConnectApp } from "@amazon-connect/app";
import { ContactClient } from "@amazon-connect/contact";
import { VoiceClient } from "@amazon-connect/voice";
import { signInPanel } from "./sign-in.js";

// The categories a report can carry; the server checks them too.
const CATEGORIES = ["spam", "robocall", "fraud", "abusive", "other"];
const NOTE_MAX = 500;

// A number the API can be asked about: E.164 as Connect's telephony gives
// it. Anything else (empty, "anonymous", a SIP URI...) is treated as a
// withheld number and never sent: the page reports only numbers it can show.
const E164 = /^\+[1-9][0-9]{1,14}$/;

// Channels that carry a caller's phone number (a queued callback calls the
// customer back on the number they left).
const CALL_CHANNELS = ["voice", "queue_callback"];

// The API's bearer token, read once from the page's address. The local
// console (`blocklist serve`) opens this page as /agent/#token=<token>; the
// fragment is never sent to a server. `id_token` or `access_token` when the
// page was given one the way the console's sign-in returns it. In the
// workspace the registered URL has none, and the agent signs in with the
// popup of sign-in.js.
function tokenInAddress() {
  const match = /(?:^#|&)(?:token|id_token|access_token)=([^&]*)/.exec(window.location.hash);
  return match ? decodeURIComponent(match[1]) : null;
}

const el = (id) => document.getElementById(id);

// The one status line, a polite live region (role="status"): screen
// readers announce each change without taking the focus.
function say(text, state) {
  const status = el("status");
  status.textContent = text;
  status.dataset.state = state;
}

// Errors go to their own assertive region (role="alert"), so an agent
// hears them at once; an empty string clears it.
function sayError(text) {
  el("error").textContent = text;
  el("error").hidden = text === "";
}

// An SDK error is a ConnectError ({errorKey, reason}) or a timeout record
// of the same shape; a fetch error is an Error; a refusal from our API has
// been turned into an Error with the server's message.
function describe(error) {
  if (error && typeof error === "object") {
    if (typeof error.reason === "string" && error.reason !== "") {
      return error.errorKey ? `${error.reason} (${error.errorKey})` : error.reason;
    }
    if (typeof error.message === "string" && error.message !== "") {
      return error.message;
    }
  }
  return String(error);
}

// The API needs a sign-in: no token yet, or the one held was refused (a 401:
// expired, or not the console's). `refusal` is the server's message, if any.
class SignedOut extends Error {
  constructor(message, refusal) {
    super(message);
    this.refusal = refusal;
  }
}

async function api(method, path, body) {
  const token = app.token;
  if (!token) {
    throw new SignedOut("Sign in to see the caller's status.", "");
  }
  const init = {
    method,
    headers: { Authorization: `Bearer ${token}`, Accept: "application/json" },
    // Same origin only: the token never goes anywhere else, and no cookies
    // are needed (credentials: "omit" keeps ambient ones out).
    credentials: "omit",
    cache: "no-store",
  };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    // Our console says `error`; API Gateway's authorizer says `message`.
    const said = data && (typeof data.error === "string" ? data.error : data.message);
    const refusal = `The blocklist refused (${response.status}): ${typeof said === "string" ? said : response.statusText}`;
    if (response.status === 401) {
      app.token = null;
      throw new SignedOut("Your sign-in has expired or was refused: sign in again.", refusal);
    }
    throw new Error(refusal);
  }
  if (data === null || typeof data !== "object") {
    throw new Error("The blocklist answered with something that is not JSON.");
  }
  return data;
}

const STATUS_TEXT = {
  blocked: "Blocked: this number is on the blocklist.",
  pending: "Pending: this number was reported and waits for review.",
  reported: "Reported before: earlier reports were reviewed.",
  clear: "Clear: this number is not on the blocklist.",
};

function showCaller(caller) {
  el("number").textContent = caller.number;
  const text = STATUS_TEXT[caller.status];
  if (!text) {
    throw new Error(`The blocklist gave an unknown status: ${String(caller.status)}`);
  }
  say(text, caller.status);
  const details = [];
  if (typeof caller.reports === "number" && caller.reports > 0) {
    details.push(caller.reports === 1 ? "1 report" : `${caller.reports} reports`);
  }
  if (typeof caller.since === "string" && caller.since !== "") {
    details.push(`since ${caller.since}`);
  }
  el("details").textContent = details.join(", ");
}

// The state of this app instance: one contact for its whole life. The token
// is held here only (never stored): from the address, or from a sign-in.
const app = { contactId: null, number: null, destroyed: false, sending: false, token: null };

// Shows the sign-in (set up in start()) for what `error` says.
let offerSignIn = async () => {};

function signedOut(error) {
  say("Not signed in.", "signed-out");
  sayError(error.refusal);
  el("report").hidden = true;
  offerSignIn(error.message);
}

// A lookup or report failed: a sign-in is offered, anything else shown.
function failed(error, whatFailed) {
  if (error instanceof SignedOut) {
    signedOut(error);
    return;
  }
  if (whatFailed) say(whatFailed, "error");
  sayError(describe(error));
}

async function lookUp(provider, contactId) {
  say("Looking up the caller…", "busy");
  const channel = await new ContactClient(provider).getChannelType(contactId);
  if (app.destroyed) return;
  if (!channel || !CALL_CHANNELS.includes(channel.type)) {
    el("number").textContent = "—";
    say(`Not a call (${channel && channel.type ? channel.type : "unknown channel"}): nothing to look up.`, "not-a-call");
    return;
  }
  const raw = await new VoiceClient(provider).getInitialCustomerPhoneNumber(contactId);
  if (app.destroyed) return;
  const number = typeof raw === "string" ? raw.trim() : "";
  if (!E164.test(number)) {
    el("number").textContent = "Number withheld";
    say("Number withheld: there is nothing to look up or report.", "withheld");
    return;
  }
  app.number = number;
  el("number").textContent = number;
  await checkCaller();
}

// Asks the console about the caller on the line (again after a sign-in).
async function checkCaller() {
  const caller = await api("GET", `/api/agent/caller?number=${encodeURIComponent(app.number)}`);
  if (app.destroyed) return;
  showCaller(caller);
  el("report").hidden = false;
}

// A sign-in was accepted: use its token, and look up the caller if the
// lookup was waiting for it.
function signedIn(token) {
  app.token = token;
  sayError("");
  if (app.number && !app.destroyed) {
    say("Looking up the caller…", "busy");
    checkCaller().catch((error) => failed(error, "The caller could not be looked up."));
  }
}

function updateCount() {
  const note = el("note");
  el("note-count").textContent = `${note.value.length} / ${NOTE_MAX}`;
}

const REPORT_RESULT = {
  pending: "Reported: the number waits for review.",
  blocked: "Reported: the number is blocked from now on.",
  alreadyPending: "Already reported: the number already waits for review.",
  alreadyBlocked: "Already blocked: nothing more to do.",
};

async function submitReport(event) {
  event.preventDefault();
  if (app.sending || !app.number) return;
  const category = el("category").value;
  const note = el("note").value;
  if (!CATEGORIES.includes(category)) {
    sayError("Choose a category.");
    el("category").focus();
    return;
  }
  if (note.length > NOTE_MAX) {
    sayError(`The note is longer than ${NOTE_MAX} characters.`);
    el("note").focus();
    return;
  }
  sayError("");
  app.sending = true;
  el("send").disabled = true;
  try {
    const result = await api("POST", "/api/agent/report", {
      number: app.number,
      contactId: app.contactId,
      category,
      note,
    });
    const text = REPORT_RESULT[result.status];
    if (!text) {
      throw new Error(`The blocklist gave an unknown report status: ${String(result.status)}`);
    }
    say(text, result.status === "blocked" || result.status === "alreadyBlocked" ? "blocked" : "pending");
    // What was sent, shown back as text (never parsed as HTML).
    el("sent").textContent = note === "" ? `Sent: ${category}.` : `Sent: ${category}, "${note}"`;
    el("sent").hidden = false;
    el("report").hidden = true;
  } catch (error) {
    failed(error, null);
    el("send").disabled = false;
  } finally {
    app.sending = false;
  }
}

function start() {
  app.token = tokenInAddress();
  offerSignIn = signInPanel({ el, onToken: signedIn });
  el("note").maxLength = NOTE_MAX;
  el("note").addEventListener("input", updateCount);
  el("report").addEventListener("submit", submitReport);
  updateCount();
  say("Connecting to the agent workspace…", "busy");

  const { provider } = AmazonConnectApp.init({
    // onCreate must settle quickly: the workspace waits for it (the SDK
    // reports completion only after it resolves), and a rejection closes
    // the app as a fatal error. So the lookup runs on its own and shows its
    // failures on the page instead.
    onCreate: async (event) => {
      const { scope, contactScope } = event.context;
      const contactId =
        scope && scope.type === "contact" ? scope.contactId : contactScope ? contactScope.contactId : null;
      if (!contactId) {
        say("No contact: this app runs in a contact's tab of the agent workspace.", "no-contact");
        return;
      }
      app.contactId = contactId;
      lookUp(provider, contactId).catch((error) => failed(error, "The caller could not be looked up."));
    },
    onDestroy: async () => {
      app.destroyed = true;
    },
  });
  // Connection failures (no workspace around this page, a timeout) arrive
  // here rather than as a rejected promise.
  provider.onError((error) => {
    if (error && error.isFatal) {
      say("Not connected to the agent workspace.", "error");
    }
    sayError(describe(error));
  });
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", start);
} else {
  start();
}
