// The one place the console talks to the server. Every call goes through `request`, so a
// lost session (401) and a lost connection are noticed in the same way on every screen.

export class ApiError extends Error {
  constructor(status, detail, response) {
    super(detail || `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.detail = detail;
    this.response = response;
  }
}

export class NetworkError extends Error {
  constructor(cause) {
    super("cannot reach the SafeCity server");
    this.name = "NetworkError";
    this.cause = cause;
  }
}

/** Fires "lost" and "restored" as the server stops and starts answering. */
export const connection = new EventTarget();

let connectionLost = false;
let probeTimer = 0;
const PROBE_EVERY_MS = 5000;

let unauthorizedHandler = () => {};

/** Called whenever the server says the session is gone (expired, signed out elsewhere). */
export function onUnauthorized(handler) {
  unauthorizedHandler = handler;
}

function markLost() {
  if (connectionLost) return;
  connectionLost = true;
  connection.dispatchEvent(new Event("lost"));
  // A screen with nothing to poll would otherwise keep the banner up forever.
  probeTimer = setInterval(async () => {
    try {
      await fetch("/api/health", { cache: "no-store" });
      markRestored();
    } catch {
      // still down; the next probe tries again
    }
  }, PROBE_EVERY_MS);
}

function markRestored() {
  if (!connectionLost) return;
  connectionLost = false;
  clearInterval(probeTimer);
  connection.dispatchEvent(new Event("restored"));
}

function urlFor(path, query) {
  const url = new URL(path, window.location.origin);
  for (const [key, value] of Object.entries(query || {})) {
    if (value === undefined || value === null || value === "") continue;
    // A list repeats the parameter (?status=new&status=acknowledged), as FastAPI reads it.
    if (Array.isArray(value)) for (const item of value) url.searchParams.append(key, String(item));
    else url.searchParams.set(key, String(value));
  }
  return url.pathname + url.search;
}

/** One problem of a 422 as a person reads it: the field it is about, then what is wrong. */
function problemText(item) {
  const field = (item.loc || []).filter((part) => !["body", "query", "path"].includes(part)).join(".");
  return field ? `${field}: ${item.msg}` : item.msg;
}

async function detailOf(response) {
  try {
    const body = await response.json();
    if (typeof body.detail === "string") return body.detail;
    if (Array.isArray(body.detail)) return body.detail.map(problemText).join("; ");
  } catch {
    // not JSON: fall back to the status line
  }
  return response.statusText;
}

/**
 * Call the API. Resolves to parsed JSON (or a Blob with `as: "blob"`, the Response itself with
 * `as: "response"` when its headers matter, or null for 204). `headers` are sent as given.
 * Rejects with ApiError for HTTP errors, NetworkError when the server cannot be reached,
 * and the browser's AbortError when `signal` aborts (views abort when the operator leaves).
 */
export async function request(path, options = {}) {
  const { method = "GET", query, body, signal, as = "json", quietUnauthorized = false, headers = {} } = options;
  const init = { method, signal, credentials: "same-origin", headers: { ...headers } };
  if (body instanceof FormData) {
    init.body = body; // the browser writes the multipart Content-Type with its boundary
  } else if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  if (as === "blob" || as === "response") init.cache = "no-store";
  let response;
  try {
    response = await fetch(urlFor(path, query), init);
  } catch (error) {
    if (error.name === "AbortError") throw error;
    markLost();
    throw new NetworkError(error);
  }
  // A gateway in front of the API answers 502/504 when the API process itself is down.
  if (response.status === 502 || response.status === 504) {
    markLost();
    throw new NetworkError(new Error(`HTTP ${response.status}`));
  }
  markRestored();
  if (response.status === 401 && !quietUnauthorized) unauthorizedHandler();
  if (!response.ok) throw new ApiError(response.status, await detailOf(response), response);
  if (as === "response") return response;
  if (response.status === 204) return null;
  return as === "blob" ? response.blob() : response.json();
}

/** Errors a view need not show: the operator navigated away, or the session ended (the
 * router is already on its way to the sign-in page). */
export function isQuiet(error) {
  return error?.name === "AbortError" || (error instanceof ApiError && error.status === 401);
}
