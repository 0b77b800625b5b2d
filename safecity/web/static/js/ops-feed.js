// @ts-check
// The OCC's live feed: one EventSource on /api/ops/feed for the whole page, shared by every
// screen. The server pushes `alert` and `incident` (the same JSON as the REST lists),
// `alert_gone` / `incident_gone` ({id}: no longer yours, say an incident handed to another
// unit), `escalation`, `resync` when the client must refetch its lists (it fell too far
// behind), and `signed_out` when the session ended.
// Screens subscribe by event name; `resync` handlers also run whenever the stream (re)opens,
// because whatever happened while it was down was not pushed.
//
// EventSource reconnects by itself (with Last-Event-ID) after a dropped connection. It gives up
// for good on an HTTP error (a restarting server's 502, a 404 before an upgrade): then this
// module opens a new one after a growing pause.

/** @import { Alert, Incident } from "./api-types.js" */

import { request } from "./api.js";
import { h } from "./dom.js";
import * as session from "./session.js";

const FEED_URL = "/api/ops/feed";
/**
 * The feed's events and what each carries.
 * @typedef {object} FeedEvents
 * @property {Alert} alert
 * @property {Incident} incident
 * @property {{ id: number }} alert_gone
 * @property {{ id: number }} incident_gone
 * @property {unknown} escalation
 * @property {null} resync
 */
/** @typedef {keyof FeedEvents} FeedEvent */
/** @typedef {"off" | "connecting" | "live" | "reconnecting"} FeedState */

/** @type {FeedEvent[]} */
const EVENTS = ["alert", "incident", "alert_gone", "incident_gone", "escalation", "resync"];
const RETRY_MS = [2_000, 5_000, 10_000, 30_000];

/**
 * Each event's handlers. `subscribe` and `dispatch` keep a handler and its event's payload
 * matched; the map itself cannot say so, hence `any`.
 * @type {Map<FeedEvent, Set<(payload: any) => void>>}
 */
const handlers = new Map();
/** @type {EventSource | null} */
let source = null;
let retryTimer = 0;
let failures = 0;
/** @type {FeedState} */
let state = "off";
const label = h("span", { class: "feed-label" });
const indicator = h(
  "span",
  { id: "feed-state", class: "feed-state", role: "status", dataset: { state } },
  h("span", { class: "feed-dot", "aria-hidden": "true" }),
  label,
);

/** @type {Record<FeedState, [text: string, title: string]>} */
const WORDS = {
  off: ["", ""],
  connecting: ["Connecting…", "Opening the live feed of alerts and incidents"],
  live: ["Live", "Alerts and incidents arrive as they happen"],
  reconnecting: ["Reconnecting…", "The live feed dropped; lists may be behind until it is back"],
};

/** @param {FeedState} next */
function setState(next) {
  state = next;
  indicator.dataset.state = next;
  const [text, title] = WORDS[next];
  label.textContent = text;
  indicator.title = title;
  indicator.hidden = next === "off";
}

/**
 * @template {FeedEvent} E
 * @param {E} name
 * @param {FeedEvents[E]} payload
 */
function dispatch(name, payload) {
  for (const handler of handlers.get(name) || []) {
    try {
      handler(payload);
    } catch (error) {
      // One screen's bug must not stop the others from hearing the event.
      console.error(`ops feed: a ${name} handler failed`, error);
    }
  }
}

function open() {
  clearTimeout(retryTimer);
  source?.close();
  setState(state === "live" || failures ? "reconnecting" : "connecting");
  const current = new EventSource(FEED_URL, { withCredentials: true });
  source = current;
  current.addEventListener("open", () => {
    if (source !== current) return;
    failures = 0;
    setState("live");
    dispatch("resync", null);
  });
  current.addEventListener("error", () => {
    if (source !== current) return;
    if (current.readyState === EventSource.CLOSED) {
      // The browser gave up (an HTTP error): try again ourselves, more slowly each time.
      const pause = RETRY_MS[Math.min(failures, RETRY_MS.length - 1)];
      failures += 1;
      setState("reconnecting");
      retryTimer = setTimeout(open, pause);
    } else {
      setState("reconnecting");
    }
  });
  current.addEventListener("signed_out", () => {
    close();
    // Any call answers 401 now, and the console's 401 handling takes the user to sign-in.
    request("/api/auth/me").catch(() => {});
  });
  for (const name of EVENTS) {
    current.addEventListener(name, (event) => {
      if (source !== current) return;
      let payload = null;
      try {
        payload = event.data ? JSON.parse(event.data) : null;
      } catch {
        return; // not ours to guess at
      }
      dispatch(name, payload);
    });
  }
}

function close() {
  clearTimeout(retryTimer);
  source?.close();
  source = null;
  failures = 0;
  setState("off");
}

/**
 * Call `handler(payload)` for every `eventName` the feed delivers ("alert", "incident",
 * "escalation", or "resync" with a null payload). Returns the function that stops it.
 * @template {FeedEvent} E
 * @param {E} eventName
 * @param {(payload: FeedEvents[E]) => void} handler
 */
export function subscribe(eventName, handler) {
  let set = handlers.get(eventName);
  if (!set) handlers.set(eventName, (set = new Set()));
  set.add(handler);
  return () => {
    handlers.get(eventName)?.delete(handler);
  };
}

/**
 * Subscribe for as long as `signal` (a screen's) has not aborted.
 * @template {FeedEvent} E
 * @param {AbortSignal} signal
 * @param {E} eventName
 * @param {(payload: FeedEvents[E]) => void} handler
 */
export function subscribeWhile(signal, eventName, handler) {
  const stop = subscribe(eventName, handler);
  signal.addEventListener("abort", stop, { once: true });
  return stop;
}

/** The header's "Live / Reconnecting…" indicator (one element, kept up to date). */
export function feedIndicator() {
  return indicator;
}

export function feedState() {
  return state;
}

// The feed is for signed-in users only and follows the session: a new user, a new stream
// (the server cuts what it sends to the scope of the cookie the stream was opened with).
session.onChange((user) => {
  if (user) open();
  else close();
});
setState("off");
