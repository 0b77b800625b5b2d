// @ts-check
// The one place the console talks to the server. Every call goes through `request`, so a
// lost session (401) and a lost connection are noticed in the same way on every screen.

/**
 * One problem of a 422 as the API lists it: where (the body's path, as `loc`) and what.
 * @typedef {{ loc?: Array<string | number>, msg: string }} Problem
 */

/**
 * The server answered with an HTTP error: `status`, and its `detail` in words; a 422's
 * `problems` one by one, for a form that shows each beside its field.
 */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} detail
   * @param {Response} response
   * @param {Problem[]} [problems]
   */
  constructor(status, detail, response, problems = []) {
    super(detail || `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.detail = detail;
    this.response = response;
    this.problems = problems;
  }
}

/** The server could not be reached at all. */
export class NetworkError extends Error {
  /** @param {unknown} cause */
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

/** @type {() => void} */
let unauthorizedHandler = () => {};

/**
 * Called whenever the server says the session is gone (expired, signed out elsewhere).
 * @param {() => void} handler
 */
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

/**
 * A query's values: a list repeats the parameter; undefined, null and "" leave it out.
 * @typedef {Record<string, string | number | boolean | null | undefined | Array<string | number>>} Query
 */

/**
 * @param {string} path
 * @param {Query | undefined} query
 */
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

/**
 * One problem of a 422 as a person reads it: the field it is about, then what is wrong.
 * @param {Problem} item
 */
function problemText(item) {
  const field = (item.loc || []).filter((part) => !["body", "query", "path"].includes(String(part))).join(".");
  return field ? `${field}: ${item.msg}` : item.msg;
}

/**
 * The answer's detail in words, and a 422's problems as listed.
 * @param {Response} response
 * @returns {Promise<{ text: string, problems: Problem[] }>}
 */
async function detailOf(response) {
  try {
    const body = await response.json();
    if (typeof body.detail === "string") return { text: body.detail, problems: [] };
    if (Array.isArray(body.detail)) return { text: body.detail.map(problemText).join("; "), problems: body.detail };
  } catch {
    // not JSON: fall back to the status line
  }
  return { text: response.statusText, problems: [] };
}

/**
 * @typedef {object} RequestOptions
 * @property {string} [method]
 * @property {Query} [query]
 * @property {unknown} [body]  JSON, or FormData as it is
 * @property {AbortSignal} [signal]
 * @property {boolean} [quietUnauthorized]  a 401 is the caller's business, not a lost session
 * @property {Record<string, string>} [headers]
 */

/**
 * Call the API. Resolves to the parsed JSON, as the API describes it (api-types.js), or null
 * for 204; `requestBlob` and `requestResponse` answer the body as a Blob, and the Response
 * itself when its headers matter. All three reject with ApiError for HTTP errors,
 * NetworkError when the server cannot be reached, and the browser's AbortError when `signal`
 * aborts (views abort when the operator leaves).
 * @param {string} path
 * @param {RequestOptions} [options]
 * @returns {Promise<any>}
 */
export async function request(path, options = {}) {
  const response = await send(path, options, false);
  if (response.status === 204) return null;
  return response.json();
}

/**
 * The answer's body as a Blob (a snapshot, a clip).
 * @param {string} path
 * @param {RequestOptions} [options]
 */
export async function requestBlob(path, options = {}) {
  return (await send(path, options, true)).blob();
}

/**
 * The Response itself, for its headers (a page's cursor, a clip's start).
 * @param {string} path
 * @param {RequestOptions} [options]
 */
export function requestResponse(path, options = {}) {
  return send(path, options, true);
}

/**
 * @param {string} path
 * @param {RequestOptions} options
 * @param {boolean} fresh  bypass the browser's cache (a body read other than as JSON)
 * @returns {Promise<Response>}
 */
async function send(path, options, fresh) {
  const { method = "GET", query, body, signal, quietUnauthorized = false, headers = {} } = options;
  /** @type {RequestInit & { headers: Record<string, string> }} */
  const init = { method, signal, credentials: "same-origin", headers: { ...headers } };
  if (body instanceof FormData) {
    init.body = body; // the browser writes the multipart Content-Type with its boundary
  } else if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  if (fresh) init.cache = "no-store";
  let response;
  try {
    response = await fetch(urlFor(path, query), init);
  } catch (error) {
    if (isAbort(error)) throw error;
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
  if (!response.ok) {
    const { text, problems } = await detailOf(response);
    throw new ApiError(response.status, text, response, problems);
  }
  return response;
}

/**
 * Errors a view need not show: the operator navigated away, or the session ended (the
 * router is already on its way to the sign-in page).
 * @param {unknown} error
 */
export function isQuiet(error) {
  return isAbort(error) || (error instanceof ApiError && error.status === 401);
}

/**
 * Whether `error` is the browser's answer to an aborted signal.
 * @param {unknown} error
 */
export function isAbort(error) {
  return error instanceof DOMException && error.name === "AbortError";
}

/**
 * The HTTP status of a failed call, or null when it did not get one (a lost connection).
 * @param {unknown} error
 */
export function statusOf(error) {
  return error instanceof ApiError ? error.status : null;
}
