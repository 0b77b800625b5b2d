// @ts-check
// A live list of alerts or incidents, the two lists the OCC works from: a table in the
// server's order (the most urgent first, then the latest), a filter of views, "Load more" for
// the next page, and the ops feed's changes applied as they come (`alert` / `incident`, their
// `_gone`, `resync`). A change redraws only its own row and highlights it when the screen says
// it is news; every other <tr> stays as it is, so a tick box or a half-typed reason survives.
// The screens say what a row shows and what counts as news; this module keeps the list.

/** @import { Alert, Incident } from "./api-types.js" */
/** @import { Child } from "./dom.js" */

import { NetworkError, connection } from "./api.js";
import { h, replaceChildren } from "./dom.js";
import { formatAgo, formatTime } from "./format.js";
import { pagedLoader } from "./ops-data.js";
import { subscribeWhile } from "./ops-feed.js";
import { segmentedFilter } from "./ops-ui.js";
import { byUrgency } from "./ops-words.js";
import { replaceQuery } from "./router.js";
import { emptyState, errorState, loadingState } from "./states.js";

const PAGE_SIZE = 200;
const FRESH_MS = 6000;
const AGE_TICK_MS = 15_000;

/**
 * One choice of the list's filter: its key (in the URL), its words, and the statuses it shows
 * (null: every status).
 * @typedef {[key: string, text: string, statuses: string[] | null]} ListView
 */

/**
 * What a screen says about its list.
 * @template {Alert | Incident} T
 * @typedef {object} OpsListOptions
 * @property {"alert" | "incident"} kind  names the API path (/api/alerts), the feed's events
 *   (alert, alert_gone) and the elements' ids (alert-table, alerts-title, …)
 * @property {string} title
 * @property {string} pageClass
 * @property {ListView[]} views  the first one is shown when the URL asks for none
 * @property {string | undefined} view  the view the URL asks for
 * @property {string} viewParam  the URL's query parameter for a view other than the first
 * @property {Child[]} columns  the head's cells: a string becomes a column header
 * @property {string} [tableClass]
 * @property {(item: T, now: number) => HTMLTableRowElement} row
 * @property {(item: T) => string} timeOf  the moment that orders items of the same priority
 * @property {(item: T, before: T) => boolean} isNews  whether a change should catch the eye
 *   (a new item always does)
 * @property {(item: T) => boolean} [keeps]  whether an item of the view's statuses stays
 * @property {(item: T) => void} [onNews]  after a row caught the eye
 * @property {(items: Map<number, T>) => string} countText
 * @property {(view: string) => string} emptyText
 * @property {() => void} [onDraw]  after the rows are in order
 * @property {() => void} [onView]  when the operator picks another view
 * @property {Child[]} [tools]  in the toolbar, after the filter
 * @property {Child[]} [status]  in the toolbar, before the counts
 * @property {(main: HTMLElement[]) => Child} [layout]  places the table (default: as it is)
 * @property {Promise<unknown>} ready  the first page loads once this settles (the names the
 *   rows show); it must not reject
 * @property {AbortSignal} signal  the screen's: the list stops with it
 */

/**
 * The cell saying how long ago `at` was, kept current by the list.
 * @param {string} at
 * @param {number} now
 * @param {string} title
 */
export function ageCell(at, now, title) {
  return h("td", { class: "cell-seen", title }, h("span", { class: "age", dataset: { at } }, formatAgo(at, now)));
}

/**
 * A live list of `kind`. Returns the page to show, the table's body (for events on rows),
 * the items shown, `upsert(item)` for an answer the screen got itself, and `tell(text)` for a
 * line in the toolbar.
 * @template {Alert | Incident} T
 * @param {OpsListOptions<T>} options
 */
export function opsList(options) {
  const { kind, views, signal } = options;
  const plural = `${kind}s`;
  let view = views.find(([key]) => key === options.view)?.[0] ?? views[0][0];
  /** @type {Map<number, T>} */
  const items = new Map();
  /** @type {Map<number, HTMLTableRowElement>} */
  const rows = new Map();
  /** @type {Map<number, number>} */
  const freshTimers = new Map();

  const count = h("span", { id: `${kind}-count`, class: "result-count", "aria-live": "polite" });
  const updated = h("span", { id: `${plural}-updated`, class: "muted updated" });
  const body = h("tbody", { id: `${kind}-rows` });
  const head = options.columns.map((column) => (typeof column === "string" ? h("th", { scope: "col" }, column) : column));
  const table = h(
    "table",
    { id: `${kind}-table`, class: `data-table ops-table${options.tableClass ? ` ${options.tableClass}` : ""}` },
    h("thead", {}, h("tr", {}, head)),
    body,
  );
  const tableHost = h("div", { class: "table-wrap" }, loadingState(`Loading ${options.title.toLowerCase()}…`));
  const moreButton = h("button", { id: `${plural}-more`, type: "button", class: "button", onclick: () => load({ append: true }) }, "Load more");
  const more = h("footer", { class: "pager", hidden: true }, h("span", { class: "pager-spacer" }), moreButton);
  const layout = options.layout || ((main) => main);
  const page = h(
    "section",
    { class: options.pageClass, "aria-labelledby": `${plural}-title` },
    h(
      "div",
      { class: "toolbar" },
      h("h1", { id: `${plural}-title`, class: "page-title" }, options.title),
      segmentedFilter({
        id: `${kind}-view`,
        label: `Which ${plural}`,
        options: views.map(([key, text]) => [key, text]),
        value: view,
        onPick: (picked) => {
          view = picked;
          replaceQuery(`/${plural}`, view === views[0][0] ? {} : { [options.viewParam]: view });
          options.onView?.();
          load();
        },
      }),
      options.tools || [],
      h("div", { class: "header-spacer" }),
      options.status || [],
      count,
      updated,
    ),
    layout([tableHost, more]),
  );

  function statuses() {
    return (views.find(([key]) => key === view) || views[0])[2];
  }

  /** @param {T} item */
  function shows(item) {
    const wanted = statuses();
    return (!wanted || wanted.includes(item.status)) && (options.keeps?.(item) ?? true);
  }

  /** @param {number} id */
  function markFresh(id) {
    const tr = rows.get(id);
    if (!tr) return;
    clearTimeout(freshTimers.get(id));
    tr.classList.add("row-fresh");
    freshTimers.set(
      id,
      setTimeout(() => {
        rows.get(id)?.classList.remove("row-fresh");
        freshTimers.delete(id);
      }, FRESH_MS),
    );
  }

  /** Put the rows in order, reusing every <tr> that did not change. */
  function draw() {
    const now = Date.now();
    const ordered = [...items.values()].sort(byUrgency(options.timeOf));
    const placed = ordered.map((item) => {
      let tr = rows.get(item.id);
      if (!tr) {
        tr = options.row(item, now);
        rows.set(item.id, tr);
      }
      return tr;
    });
    for (const [id, tr] of rows) {
      if (!items.has(id)) {
        tr.remove();
        rows.delete(id);
      }
    }
    placed.forEach((tr, index) => {
      if (body.children[index] !== tr) body.insertBefore(tr, body.children[index] || null);
    });
    options.onDraw?.();
    count.textContent = options.countText(items);
    if (items.size) {
      if (tableHost.firstChild !== table) replaceChildren(tableHost, table);
    } else {
      replaceChildren(tableHost, emptyState(options.emptyText(view)));
    }
  }

  /**
   * Show `item` as it now stands: redraw its row, or drop it when it left the view.
   * @param {T} item
   */
  function upsert(item) {
    const before = items.get(item.id);
    rows.get(item.id)?.remove();
    rows.delete(item.id);
    const kept = shows(item);
    if (kept) items.set(item.id, item);
    else items.delete(item.id);
    draw();
    if (kept && (!before || options.isNews(item, before))) {
      markFresh(item.id);
      options.onNews?.(item);
    }
  }

  /** @param {{ id: number }} gone */
  function forget({ id }) {
    if (items.delete(id)) draw();
  }

  /** @type {(options?: { append?: boolean }) => Promise<void>} */
  const load = pagedLoader(`/api/${plural}`, {
    signal,
    busy: page,
    more,
    query: () => ({ status: statuses() || undefined, limit: PAGE_SIZE }),
    onPage(/** @type {T[]} */ page, { append }) {
      if (!append) {
        items.clear();
        rows.clear();
        body.replaceChildren();
      }
      for (const item of page) items.set(item.id, item);
      draw();
      updated.textContent = `Updated ${formatTime(new Date())}`;
    },
    onError(error) {
      if (error instanceof NetworkError && items.size) return; // the banner says it
      replaceChildren(tableHost, errorState(error, () => load()));
    },
  });

  const ageTimer = setInterval(() => {
    const now = Date.now();
    for (const age of body.querySelectorAll(".age")) {
      if (age instanceof HTMLElement && age.dataset.at) age.textContent = formatAgo(age.dataset.at, now);
    }
  }, AGE_TICK_MS);

  // The feed sends only what this user's list would show (an officer: their unit's queue),
  // and `_gone` when an item leaves it (say an incident handed to another unit).
  subscribeWhile(signal, kind, (item) => upsert(/** @type {T} */ (item))); // of this list's kind
  subscribeWhile(signal, `${kind}_gone`, forget);
  subscribeWhile(signal, "resync", () => load());
  const onRestored = () => load();
  connection.addEventListener("restored", onRestored);
  signal.addEventListener("abort", () => {
    clearInterval(ageTimer);
    for (const timer of freshTimers.values()) clearTimeout(timer);
    connection.removeEventListener("restored", onRestored);
  });

  options.ready.then(() => {
    if (!signal.aborted) load();
  });

  return {
    page,
    body,
    items,
    upsert,
    /** @param {string} text */
    tell(text) {
      updated.textContent = text;
    },
  };
}

