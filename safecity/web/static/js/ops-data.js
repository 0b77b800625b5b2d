// @ts-check
// Reference data the OCC screens share, loaded once per sign-in: incident types with their
// SOPs, police units, the names an incident's ids stand for, and the few facts about a camera
// an alert row shows. Plus reading a list that the server may hand out a page at a time.

/** @import { Camera, IncidentType, PoliceUnit } from "./api-types.js" */
/** @import { Query } from "./api.js" */

import { isQuiet, request, requestResponse, statusOf } from "./api.js";
import { loadDistricts } from "./catalog.js";
import { onChange } from "./session.js";

/**
 * The names an incident's ids stand for, and the units it may be dispatched to.
 * @typedef {object} Names
 * @property {Map<string, string>} type  incident type code → name
 * @property {Map<number, string>} district
 * @property {Map<number, string>} unit
 * @property {PoliceUnit[]} units
 */

/** @type {Promise<IncidentType[]> | null} */
let typesPromise = null;
/** @type {Promise<PoliceUnit[]> | null} */
let unitsPromise = null;
/** @type {Map<number, Promise<Camera | null>>} */
const cameras = new Map(); // or null when it cannot be seen

onChange(() => {
  typesPromise = null;
  unitsPromise = null;
  cameras.clear();
});

/**
 * @template T
 * @param {() => Promise<T>} load
 * @param {() => void} forget
 */
function cached(load, forget) {
  return load().catch((error) => {
    forget(); // let the next screen try again
    throw error;
  });
}

/** @returns {Promise<IncidentType[]>} */
export function loadIncidentTypes() {
  typesPromise ||= cached(
    () => request("/api/incident-types"),
    () => {
      typesPromise = null;
    },
  );
  return typesPromise;
}

/** @returns {Promise<PoliceUnit[]>} */
export function loadPoliceUnits() {
  unitsPromise ||= cached(
    () => request("/api/police-units"),
    () => {
      unitsPromise = null;
    },
  );
  return unitsPromise;
}

/**
 * Names for nothing yet: what a screen shows until `loadNames` answers.
 * @returns {Names}
 */
export function emptyNames() {
  return { type: new Map(), district: new Map(), unit: new Map(), units: [] };
}

/**
 * Names for the ids an incident holds (its type, district and police unit), and the units to
 * dispatch to. What cannot be loaded stays empty: the screen shows the ids instead.
 * @returns {Promise<Names>}
 */
export async function loadNames() {
  const [types, districts, units] = await Promise.all([
    loadIncidentTypes().catch(() => []),
    loadDistricts().catch(() => []),
    loadPoliceUnits().catch(() => []),
  ]);
  return {
    type: new Map(types.map((t) => [t.code, t.name])),
    district: new Map(districts.map((d) => [d.id, d.name])),
    unit: new Map(units.map((u) => [u.id, u.name])),
    units,
  };
}

/**
 * The camera's registry entry, or null when it is gone or outside this user's access.
 * @param {number} id
 * @returns {Promise<Camera | null>}
 */
export function cameraFacts(id) {
  let facts = cameras.get(id);
  if (!facts) {
    facts = request(`/api/cameras/${id}`).catch((error) => {
      if (statusOf(error) === 404 || statusOf(error) === 403) return null;
      cameras.delete(id);
      throw error;
    });
    cameras.set(id, facts);
  }
  return facts;
}

/** @param {Response} response */
function nextCursor(response) {
  const header = response.headers.get("X-Next-Cursor");
  if (header) return header;
  const link = response.headers.get("Link") || "";
  const next = /<([^>]+)>\s*;\s*rel="?next"?/.exec(link);
  if (!next) return null;
  return new URL(next[1], window.location.origin).searchParams.get("before");
}

/**
 * One page of a list endpoint: `{items, next}`, where `next` is the cursor for `?before=` when
 * the server says there is more (X-Next-Cursor or a Link rel="next"), else null.
 * @param {string} path
 * @param {{ query: Query, before: string | null, signal: AbortSignal }} options
 * @template T
 * @returns {Promise<{ items: T[], next: string | null }>}
 */
async function fetchPage(path, { query, before, signal }) {
  const response = await requestResponse(path, {
    query: { ...query, before: before ?? undefined },
    signal,
  });
  return { items: await response.json(), next: nextCursor(response) };
}

/**
 * A live list's pages: `load()` fetches the first page again, `load({ append: true })` the next.
 * `onPage(items, { append })` takes each page; `onError(error)` any failure but an abort. A new
 * load cancels the one still running; `busy` carries aria-busy while one runs and `more`
 * shows only while the server says more pages remain.
 * @template T  what the list holds
 * @param {string} path
 * @param {object} options
 * @param {AbortSignal} options.signal
 * @param {HTMLElement} options.busy
 * @param {HTMLElement} options.more
 * @param {() => Query} options.query
 * @param {(items: T[], how: { append: boolean }) => void} options.onPage
 * @param {(error: unknown) => void} options.onError
 * @returns {(how?: { append?: boolean }) => Promise<void>}
 */
export function pagedLoader(path, { signal, busy, more, query, onPage, onError }) {
  /** @type {AbortController | null} */
  let controller = null;
  /** @type {string | null} */
  let next = null;
  return async function load({ append = false } = {}) {
    controller?.abort();
    const mine = new AbortController();
    controller = mine;
    busy.setAttribute("aria-busy", "true");
    try {
      const result = await fetchPage(path, {
        query: query(),
        before: append ? next : null,
        signal: AbortSignal.any([signal, mine.signal]),
      });
      if (controller !== mine) return; // a newer load replaced this one: its answer is stale
      next = result.next;
      more.hidden = !next;
      onPage(result.items, { append });
    } catch (error) {
      if (controller === mine && !isQuiet(error)) onError(error);
    } finally {
      if (controller === mine) busy.removeAttribute("aria-busy");
    }
  };
}
