// The dashboard's one way to the server: the public HTTP API, with the access token in the Authorization header.
// Tokens live in this tab's sessionStorage (gone when the tab closes), never in a URL: streams are read with fetch,
// which sends the header too, so even /logs/stream needs no ?access_token=.

const KEY = "xalorra.session";
let state = load();
let refreshing = null;
const listeners = new Set();

function load() {
  try { return JSON.parse(sessionStorage.getItem(KEY) || "null"); } catch { return null; }
}

function save(next) {
  state = next;
  if (next) sessionStorage.setItem(KEY, JSON.stringify(next));
  else sessionStorage.removeItem(KEY);
  for (const f of listeners) f(state);
}

/** The signed-in user ({username, role, tenant, ...}) or null. */
export function currentUser() { return state ? state.user : null; }

/** Whether the signed-in user is an admin (the server refuses the others anyway). */
export function isAdmin() { return !!state && state.user && state.user.role === "admin"; }

/** Calls `f(state)` when the session starts or ends. */
export function onSession(f) { listeners.add(f); }

/** An API failure: the error envelope's code and message. */
export class ApiError extends Error {
  constructor(status, code, message, details, retryAfter) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || [];
    /** Seconds until the rate limit lets the next call through (429), when the server says. */
    this.retryAfter = retryAfter;
  }
}

function query(params) {
  if (!params) return "";
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v != null && v !== "") q.set(k, String(v));
  const s = q.toString();
  return s ? "?" + s : "";
}

/** A path from segments, each percent-encoded: `path("models", name)` → `/models/a%2Fb`. */
export function path(...parts) { return "/" + parts.map((p) => encodeURIComponent(p)).join("/"); }

function send(method, url, body, { signal, contentType, accept } = {}) {
  const headers = { Accept: accept || "application/json" };
  if (state) headers.Authorization = "Bearer " + state.access;
  let payload;
  if (body !== undefined) {
    payload = typeof body === "string" ? body : JSON.stringify(body);
    headers["Content-Type"] = contentType || "application/json";
  }
  return fetch(url, { method, headers, body: payload, signal, cache: "no-store", credentials: "omit" });
}

async function failure(res) {
  let json = null;
  try { json = await res.json(); } catch { /* not JSON */ }
  const e = json && json.error;
  const message = e ? (e.details && e.details.length
    ? `${e.message}: ${e.details.map((d) => `${d.field}: ${d.message}`).join("; ")}` : e.message) : `HTTP ${res.status}`;
  const retryAfter = (e && e.retry_after) || Number(res.headers.get("Retry-After")) || undefined;
  return new ApiError(res.status, e && e.code, message, e && e.details, retryAfter);
}

/** Sends a request, renewing the access token once with the refresh token when it has expired. */
async function exchange(method, url, body, options) {
  let res = await send(method, url, body, options);
  if (res.status === 401 && state && state.refresh && await renew()) res = await send(method, url, body, options);
  if (res.status === 401 && state) save(null);
  return res;
}

/** Swaps the refresh token for a new pair (one request at a time); false when the session is over. */
function renew() {
  if (!refreshing) {
    const old = state;
    refreshing = fetch("/users/refresh", {
      method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ refresh_token: old.refresh }), cache: "no-store", credentials: "omit",
    }).then(async (res) => {
      if (!res.ok) return false;
      const pair = (await res.json()).data;
      save({ ...old, access: pair.access_token, refresh: pair.refresh_token });
      return true;
    }).catch(() => false).finally(() => { refreshing = null; });
  }
  return refreshing;
}

/** A JSON call: the parsed answer (null for 204), or an ApiError. */
export async function call(method, url, { body, params, contentType, signal } = {}) {
  const res = await exchange(method, url + query(params), body, { contentType, signal });
  if (!res.ok) throw await failure(res);
  if (res.status === 204) return null;
  return res.json();
}

export const get = (url, params) => call("GET", url, { params });

/** A text answer (an export). */
export async function text(url) {
  const res = await exchange("GET", url, undefined, {});
  if (!res.ok) throw await failure(res);
  return res.text();
}

/**
 * Reads Server-Sent Events from `url` (GET, or POST with `body`), calling onEvent({id, event, data}) for each,
 * until the stream ends or `signal` aborts it.
 */
export async function events(method, url, { params, body, signal, onEvent }) {
  const res = await exchange(method, url + query(params), body, { signal, accept: "text/event-stream" });
  if (!res.ok) throw await failure(res);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = { id: null, event: "message", data: [] };
      for (const line of block.split("\n")) {
        if (!line || line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const name = colon < 0 ? line : line.slice(0, colon);
        const v = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (name === "data") event.data.push(v);
        else if (name === "id") event.id = v;
        else if (name === "event") event.event = v;
      }
      if (event.data.length) onEvent({ ...event, data: event.data.join("\n") });
    }
  }
}

/** Signs in: the session holds the token pair and the user. */
export async function signIn(username, password) {
  const res = await fetch("/users/login", {
    method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ username, password }), cache: "no-store", credentials: "omit",
  });
  if (!res.ok) throw await failure(res);
  const data = (await res.json()).data;
  save({ access: data.access_token, refresh: data.refresh_token, user: data.user });
}

/** Signs out: revokes the refresh token on the server, then forgets the session. */
export async function signOut() {
  const old = state;
  if (old) {
    try { await send("POST", "/users/logout", { refresh_token: old.refresh }); } catch { /* forgotten anyway */ }
  }
  save(null);
}
