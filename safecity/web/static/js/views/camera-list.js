// @ts-check
// The camera registry as a table: filters, server-side paging (50 a page), click for details.
// Filters and the page live in the hash, so a reload or a pasted link shows the same rows.
// A tick box on each row picks cameras for the video wall, across pages and filters.

/** @import { Camera, Page } from "../api-types.js" */
/** @import { FilterKey } from "../filters.js" */
/** @import { ViewContext } from "../router.js" */

import { NetworkError, connection, isQuiet, request } from "../api.js";
import { loadDistricts } from "../catalog.js";
import { closest, h, replaceChildren } from "../dom.js";
import { cameraState, formatAgo, formatDateTime, formatRange, label, plural } from "../format.js";
import { createFilterBar, readFilters, rememberListHref } from "../filters.js";
import { hrefFor, navigate, replaceQuery } from "../router.js";
import { emptyState, errorState, loadingState } from "../states.js";
import { MAX_WALL, clearSelection, selectedCameras, toggleCamera } from "../wall-selection.js";

const PAGE_SIZE = 50;
/** @type {FilterKey[]} */
const FILTER_KEYS = ["district_id", "site_kind", "status", "health", "q"];
const COLUMNS = ["Code", "Name", "District", "Site", "Status", "Health", "Last seen"];

/** @param {string} status */
function statusBadge(status) {
  return h("span", { class: `badge status-${status}` }, label(status));
}

/** @param {Camera} camera */
function healthCell(camera) {
  return h(
    "span",
    { class: "health" },
    h("span", { class: `dot state-${cameraState(camera)}`, "aria-hidden": "true" }),
    label(camera.health),
  );
}

/**
 * @param {Camera} camera
 * @param {Set<number>} selected
 */
function pickCell(camera, selected) {
  return h(
    "td",
    { class: "cell-pick" },
    h("input", {
      type: "checkbox",
      class: "wall-pick",
      checked: selected.has(camera.id),
      "aria-label": `Show ${camera.code} on the video wall`,
      dataset: { cameraId: String(camera.id) },
    }),
  );
}

/**
 * @param {Camera} camera
 * @param {number} now
 * @param {Set<number>} selected
 */
function cameraRow(camera, now, selected) {
  const href = `#/cameras/${camera.id}`;
  return h(
    "tr",
    { class: "camera-row", dataset: { cameraId: String(camera.id) } },
    pickCell(camera, selected),
    h("td", { class: "cell-code mono" }, h("a", { href }, camera.code)),
    h("td", { class: "cell-name" }, camera.name, camera.address ? h("span", { class: "sub" }, camera.address) : null),
    h("td", { class: "cell-district" }, camera.district_name),
    h(
      "td",
      { class: "cell-site" },
      camera.site ? [camera.site.name, h("span", { class: "sub" }, label(camera.site.kind))] : h("span", { class: "muted" }, "—"),
    ),
    h("td", { class: "cell-status" }, statusBadge(camera.status)),
    h("td", { class: "cell-health" }, healthCell(camera)),
    h(
      "td",
      { class: "cell-seen", title: formatDateTime(camera.last_seen_at) },
      camera.last_seen_at ? formatAgo(camera.last_seen_at, now) : h("span", { class: "muted" }, "never"),
    ),
  );
}

/**
 * @param {HTMLElement} outlet
 * @param {ViewContext} context
 */
export function mount(outlet, { query, signal }) {
  let filters = readFilters(query, FILTER_KEYS);
  let offset = Math.max(0, Number.parseInt(query.offset || "", 10) || 0);
  /** @type {AbortController | null} */
  let loadController = null;

  const count = h("span", { id: "camera-count", class: "result-count", "aria-live": "polite" });
  const body = h("tbody");
  const table = h(
    "table",
    { id: "camera-table", class: "data-table" },
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        h("th", { scope: "col", class: "cell-pick", title: "Pick cameras for the video wall" }, "Wall"),
        COLUMNS.map((name) => h("th", { scope: "col" }, name)),
      ),
    ),
    body,
  );
  const tableHost = h("div", { class: "table-wrap" }, loadingState("Loading cameras…"));
  const range = h("span", { id: "pager-range", class: "pager-range" });
  const pageInfo = h("span", { id: "pager-page", class: "muted" });
  const prev = h("button", { id: "pager-prev", type: "button", class: "button", onclick: () => go(offset - PAGE_SIZE) }, "‹ Previous");
  const next = h("button", { id: "pager-next", type: "button", class: "button", onclick: () => go(offset + PAGE_SIZE) }, "Next ›");
  const filterHost = h("div", { class: "filter-host" });
  const pickedCount = h("span", { id: "wall-picked", class: "wall-picked" });
  const openWall = h("a", { id: "open-wall", class: "button button-primary" }, "Open on video wall");
  const clearPicked = h("button", { id: "clear-wall", type: "button", class: "button button-ghost" }, "Clear");
  const wallBar = h("div", { class: "wall-bar", role: "status" }, pickedCount, openWall, clearPicked);
  const page = h(
    "section",
    { class: "page page-cameras", "aria-labelledby": "cameras-title" },
    h("div", { class: "toolbar" }, h("h1", { id: "cameras-title", class: "page-title" }, "Cameras"), filterHost, wallBar, count),
    tableHost,
    h("footer", { class: "pager" }, range, h("span", { class: "pager-spacer" }), pageInfo, prev, next),
  );
  outlet.replaceChildren(page);

  function syncHash() {
    /** @type {Record<string, string | number>} */
    const shown = { ...filters };
    if (offset) shown.offset = offset;
    replaceQuery("/cameras", shown);
    rememberListHref(hrefFor("/cameras", shown));
  }

  /** @param {number} newOffset */
  function go(newOffset) {
    offset = Math.max(0, newOffset);
    syncHash();
    load();
    tableHost.scrollTop = 0;
  }

  async function load() {
    loadController?.abort();
    const mine = new AbortController();
    loadController = mine;
    const requestSignal = AbortSignal.any([signal, mine.signal]);
    page.setAttribute("aria-busy", "true");
    try {
      /** @type {Page<Camera> & { offset: number }} */
      const result = await request("/api/cameras", {
        query: { ...filters, limit: PAGE_SIZE, offset },
        signal: requestSignal,
      });
      // Past the end (rows removed, or an old link): show the last page instead of nothing.
      if (result.items.length === 0 && result.total > 0 && offset > 0) {
        go(Math.floor((result.total - 1) / PAGE_SIZE) * PAGE_SIZE);
        return;
      }
      render(result);
    } catch (error) {
      if (isQuiet(error)) return;
      // With rows on screen, a lost connection is the banner's news: keep the rows readable.
      if (error instanceof NetworkError && body.children.length) return;
      replaceChildren(tableHost, errorState(error, load));
    } finally {
      page.removeAttribute("aria-busy");
    }
  }

  function showPicked() {
    const ids = selectedCameras();
    wallBar.hidden = ids.length === 0;
    pickedCount.textContent = `${ids.length} of ${MAX_WALL} picked`;
    openWall.href = hrefFor("/wall", { cameras: ids.join(",") });
    const full = ids.length >= MAX_WALL;
    for (const box of wallPicks()) {
      box.disabled = full && !box.checked;
      box.title = box.disabled ? `A wall shows at most ${MAX_WALL} cameras` : "";
    }
  }

  clearPicked.addEventListener("click", () => {
    clearSelection();
    for (const box of wallPicks()) box.checked = false;
    showPicked();
  });
  showPicked();

  /** The tick boxes of the rows shown. */
  function wallPicks() {
    return [...body.querySelectorAll("input.wall-pick")].filter((box) => box instanceof HTMLInputElement);
  }

  /** @param {Page<Camera> & { offset: number }} result */
  function render(result) {
    const now = Date.now();
    const selected = new Set(selectedCameras());
    body.replaceChildren(...result.items.map((camera) => cameraRow(camera, now, selected)));
    showPicked();
    if (result.items.length) {
      replaceChildren(tableHost, table);
    } else {
      replaceChildren(
        tableHost,
        emptyState(
          Object.keys(filters).length ? "No cameras match these filters." : "No cameras you may see yet.",
        ),
      );
    }
    count.textContent = plural(result.total, "camera");
    range.textContent = formatRange(result.offset, result.items.length, result.total);
    const pages = Math.max(1, Math.ceil(result.total / PAGE_SIZE));
    pageInfo.textContent = `Page ${Math.floor(result.offset / PAGE_SIZE) + 1} of ${pages}`;
    prev.disabled = result.offset === 0;
    next.disabled = result.offset + result.items.length >= result.total;
  }

  body.addEventListener("change", (event) => {
    const box = closest(event, "input.wall-pick");
    if (!(box instanceof HTMLInputElement)) return;
    if (!toggleCamera(Number(box.dataset.cameraId), box.checked)) box.checked = false;
    showPicked();
  });

  body.addEventListener("click", (event) => {
    if (closest(event, "a, .cell-pick") || window.getSelection()?.toString()) return;
    const row = closest(event, ".camera-row");
    if (row instanceof HTMLElement) navigate(`/cameras/${row.dataset.cameraId}`);
  });

  /** @type {ReturnType<typeof createFilterBar> | null} */
  let filterBar = null;
  /** @param {KeyboardEvent} event */
  const onKey = (event) => {
    const typing = closest(event, "input, select, textarea");
    if (event.key === "/" && !typing) {
      event.preventDefault();
      filterBar?.focusSearch();
    }
  };
  document.addEventListener("keydown", onKey);

  loadDistricts()
    .catch(() => []) // the list still works without the district choices
    .then((districts) => {
      if (signal.aborted) return;
      filterBar = createFilterBar({
        districts,
        values: filters,
        keys: FILTER_KEYS,
        onChange: (changed) => {
          filters = changed;
          offset = 0;
          syncHash();
          load();
        },
      });
      filterHost.replaceChildren(filterBar.element);
    });
  // Whatever was asked for while the server was away is fetched once it answers again.
  connection.addEventListener("restored", load);
  syncHash();
  load();

  return () => {
    loadController?.abort();
    document.removeEventListener("keydown", onKey);
    connection.removeEventListener("restored", load);
  };
}
