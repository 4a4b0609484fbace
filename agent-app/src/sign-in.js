// The agent app's own sign-in, inside the agent workspace.
//
// The workspace loads the app's registered URL (no token in it), and an
// identity provider's login page refuses to be framed, so the app signs in
// through a popup (the workspace's default sandbox for third-party apps has
// allow-popups): on the agent's click it opens the provider's login (the
// console's /config.json `loginUrl`) with a fresh random `state`; the
// provider returns to the console's root page with the token and that state
// in the fragment (the implicit flow), and that page, seeing a state that
// marks an agent-app sign-in and a window that opened it, posts the token to
// its opener for this origin only and closes (console/app.js, `handOff`).
//
// The answer is taken only from this origin, only from the popup this app
// opened, and only with the state it made for that popup; anything else is
// ignored and said so. The token is kept in memory only: no cookie, no
// storage, so a framed page's partitioned storage does not matter, and a
// reload signs in again.

// The message the console's page posts; the same name is in console/app.js.
export const SIGN_IN_MESSAGE = "connect-blocklist-agent-sign-in";
// A state the console's page recognises as an agent-app sign-in
// (console/app.js checks /^agent-app\.[0-9a-f]{32}$/).
const STATE_PREFIX = "agent-app.";
// A JWT (or the local console's hex token): nothing that could break the
// Authorization header, and not absurdly long.
const TOKEN_SHAPE = /^[A-Za-z0-9._~+/=-]{1,16384}$/;
// How often the app looks whether the agent closed the popup.
const WATCH_MS = 500;

// 16 random bytes as hex: the state of one sign-in.
function newState() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return STATE_PREFIX + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// The login URL with `state` added to its query. Appended as text so the
// rest of the query stays byte for byte as configured (a provider compares
// redirect_uri exactly); only https, or http on this machine for tests.
function loginWithState(loginUrl, state) {
  const url = new URL(loginUrl, window.location.href);
  const local = url.protocol === "http:" && (url.hostname === "127.0.0.1" || url.hostname === "localhost");
  if (url.protocol !== "https:" && !local) {
    throw new Error(`The console's login URL is not https: ${url.origin}`);
  }
  url.hash = "";
  url.search = url.search ? `${url.search}&state=${state}` : `?state=${state}`;
  return url.href;
}

// The console's page settings (/config.json, open like the page); `{}` if
// they cannot be had, which reads as "no sign-in here".
async function pageConfig() {
  try {
    const response = await fetch("/config.json", { credentials: "omit", cache: "no-store" });
    const config = response.ok ? await response.json() : {};
    return config && typeof config === "object" ? config : {};
  } catch {
    return {};
  }
}

// Sets up the sign-in part of the page: #signin holds the Sign in button,
// #signin-status (a polite live region, outside it so that it stays
// visible) says what happened. `onToken(token)` is called once per
// accepted sign-in. Returns `offer(why)`, which shows the button (or, with
// no login URL, how to get a token) and says why a sign-in is needed.
export function signInPanel({ el, onToken }) {
  const panel = el("signin");
  const button = el("signin-button");
  const status = el("signin-status");
  let config = null;
  // The sign-in under way: the popup and the state made for it.
  let pending = null;
  let signedIn = false;
  let watch = null;

  const tell = (text) => {
    status.textContent = text;
  };

  function stopWatching() {
    if (watch !== null) clearInterval(watch);
    watch = null;
  }

  function open() {
    if (pending && !pending.popup.closed) pending.popup.close();
    stopWatching();
    const state = newState();
    let url;
    try {
      url = loginWithState(config.loginUrl, state);
    } catch (error) {
      tell(error.message);
      return;
    }
    // Not noopener: the console's page needs this window as its opener.
    // Unnamed: each contact's app instance signs in with a window of its
    // own, never one another instance is waiting on.
    const popup = window.open(url, "_blank", "popup,width=480,height=640");
    if (!popup) {
      pending = null;
      tell("The browser blocked the sign-in window: allow pop-ups for the agent workspace and press Sign in again.");
      return;
    }
    pending = { popup, state };
    tell("Signing in in the new window…");
    watch = setInterval(() => {
      if (pending && pending.popup.closed) {
        pending = null;
        stopWatching();
        tell("The sign-in window closed and no sign-in was accepted: you are still signed out.");
      }
    }, WATCH_MS);
  }

  function receive(event) {
    const data = event.data;
    if (!data || typeof data !== "object" || data.type !== SIGN_IN_MESSAGE) return;
    const ours =
      pending !== null &&
      event.origin === window.location.origin &&
      event.source === pending.popup &&
      typeof data.state === "string" &&
      data.state === pending.state;
    if (!ours) {
      const still = signedIn ? "" : ", you are still signed out";
      tell(`A sign-in answer was ignored (not from this app's sign-in window, or not its sign-in): nothing was accepted${still}.`);
      return;
    }
    const { popup } = pending;
    pending = null;
    stopWatching();
    if (!popup.closed) popup.close();
    const token = typeof data.token === "string" ? data.token : "";
    if (!TOKEN_SHAPE.test(token)) {
      const why = typeof data.error === "string" && data.error !== "" ? data.error : "no token came back";
      tell(`The sign-in did not succeed (${why}): you are still signed out.`);
      return;
    }
    panel.hidden = true;
    signedIn = true;
    tell("Signed in.");
    onToken(token);
  }

  button.addEventListener("click", open);
  window.addEventListener("message", receive);

  return async function offer(why) {
    signedIn = false;
    if (config === null) config = await pageConfig();
    if (typeof config.loginUrl === "string" && config.loginUrl !== "") {
      panel.hidden = false;
      tell(`${why} Press Sign in: the login opens in a new window.`);
    } else {
      // `blocklist serve` has no identity provider: its printed address
      // carries the token, and the agent app takes the same one.
      panel.hidden = true;
      tell(`${why} This console has no sign-in: open this page as /agent/#token=<the token in the address \`blocklist serve\` printed>.`);
    }
  };
}
