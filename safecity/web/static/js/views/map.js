// @ts-check
// The city map: districts from their stored outlines, every camera the user may see as a dot
// coloured by state, with the same filters as the list. Refreshes itself every 30 s so a wall
// screen never shows a stale picture of the city. Over the cameras, open incidents and new
// alerts, kept live by the ops feed.

/** @import { CameraPoint, District } from "../api-types.js" */
/** @import { Child } from "../dom.js" */
/** @import { FilterKey, Filters } from "../filters.js" */
/** @import { ViewContext } from "../router.js" */

import { NetworkError, connection, isQuiet, request } from "../api.js";
import { isOwnDistrict, loadDistricts } from "../catalog.js";
import { createCityMap } from "../city-map.js";
import { h, replaceChildren } from "../dom.js";
import { CAMERA_STATES, cameraState, formatCount, formatTime, plural } from "../format.js";
import { createFilterBar, readFilters } from "../filters.js";
import { navigate, replaceQuery } from "../router.js";
import { errorState, loadingState } from "../states.js";
import { opsOverlay } from "../map-ops.js";

/** @type {FilterKey[]} */
const FILTER_KEYS = ["district_id", "site_kind", "status", "health", "q"];
const REFRESH_MS = 30_000;

/**
 * How many of `points` are in each of CAMERA_STATES.
 * @param {CameraPoint[]} points
 * @returns {Record<string, number>}
 */
function countStates(points) {
  const counts = Object.fromEntries(CAMERA_STATES.map(([state]) => [state, 0]));
  for (const point of points) counts[cameraState(point)] += 1;
  return counts;
}

/** @param {CameraPoint[]} points */
function legend(points) {
  const counts = countStates(points);
  /**
   * @param {Child} marker
   * @param {string} text
   * @param {number | null} count
   * @param {string} [state]
   */
  const item = (marker, text, count, state) =>
    h(
      "li",
      { class: "legend-item", dataset: state ? { state } : {} },
      marker,
      h("span", { class: "legend-label" }, text),
      count === null ? null : h("span", { class: "legend-count" }, formatCount(count)),
    );
  return h(
    "section",
    { id: "map-legend", class: "side-section", "aria-labelledby": "legend-title" },
    h("h2", { id: "legend-title", class: "panel-title" }, "Camera state"),
    h(
      "ul",
      { class: "legend-list" },
      CAMERA_STATES.map(([state, text]) =>
        item(h("span", { class: `dot state-${state}`, "aria-hidden": "true" }), text, counts[state], state),
      ),
    ),
    h(
      "ul",
      { class: "legend-list legend-areas" },
      item(h("span", { class: "swatch swatch-district" }), "District you work in", null),
      item(h("span", { class: "swatch swatch-out" }), "Outside your access", null),
    ),
  );
}

/** @param {Record<string, number>} states */
function stateBar(states) {
  return h(
    "span",
    { class: "state-bar", "aria-hidden": "true" },
    CAMERA_STATES.filter(([state]) => states[state] > 0).map(([state]) => {
      const part = h("span", { class: `state-bar-part state-${state}` });
      part.style.flexGrow = String(states[state]); // CSSOM, allowed by the CSP
      return part;
    }),
  );
}

/**
 * @param {District[]} districts
 * @param {CameraPoint[]} points
 * @param {(districtId: number) => void} onPick
 */
function districtList(districts, points, onPick) {
  /** @type {Map<number, Record<string, number>>} */
  const byDistrict = new Map();
  for (const point of points) {
    const states = byDistrict.get(point.district_id) || countStates([]);
    states[cameraState(point)] += 1;
    byDistrict.set(point.district_id, states);
  }
  return h(
    "section",
    { class: "side-section", "aria-labelledby": "districts-title" },
    h("h2", { id: "districts-title", class: "panel-title" }, "Districts"),
    h(
      "ul",
      { id: "district-list", class: "district-list" },
      districts.filter(isOwnDistrict).map((district) => {
        const states = byDistrict.get(district.id) || countStates([]);
        const shown = Object.values(states).reduce((a, b) => a + b, 0);
        return h(
          "li",
          {},
          h(
            "button",
            {
              type: "button",
              class: shown ? "district-row" : "district-row district-row-empty",
              title: `Zoom to ${district.name}`,
              dataset: { districtId: String(district.id) },
              onclick: () => onPick(district.id),
            },
            h("span", { class: "district-row-name" }, district.name),
            h("span", { class: "district-row-count" }, formatCount(shown)),
            stateBar(states),
            states.offline ? h("span", { class: "district-row-alert" }, `${states.offline} offline`) : null,
          ),
        );
      }),
    ),
  );
}

/**
 * @param {HTMLElement} outlet
 * @param {ViewContext} context
 */
export function mount(outlet, { query, signal }) {
  let filters = readFilters(query, FILTER_KEYS);
  /** @type {District[]} */
  let districts = [];
  let refreshTimer = 0;
  /** @type {AbortController | null} */
  let loadController = null;

  const count = h("span", { id: "map-count", class: "result-count", "aria-live": "polite" });
  const updated = h("span", { id: "map-updated", class: "muted updated" });
  const filterHost = h("div", { class: "filter-host" });
  const stage = h("div", { class: "map-stage" }, loadingState("Loading the city…"));
  const side = h("aside", { class: "map-side", "aria-label": "Map summary" });
  outlet.replaceChildren(
    h(
      "section",
      { class: "page page-map", "aria-labelledby": "map-title" },
      h("div", { class: "toolbar" }, h("h1", { id: "map-title", class: "page-title" }, "Map"), filterHost, count, updated),
      h("div", { class: "map-layout" }, stage, side),
    ),
  );

  const map = createCityMap({
    id: "city-map",
    onCameraClick: (id) => navigate(`/cameras/${id}`),
    onDistrictClick: (id) => map.focusDistrict(districts, id),
    onOpsClick: (marker) => navigate(marker.href),
  });
  const ops = opsOverlay(map, { signal });

  async function loadPoints() {
    loadController?.abort();
    loadController = new AbortController();
    /** @type {CameraPoint[]} */
    const points = await request("/api/map/cameras", {
      query: filters,
      signal: AbortSignal.any([signal, loadController.signal]),
    });
    const timings = await map.setCameras(points);
    count.textContent = plural(points.length, "camera");
    updated.textContent = `Updated ${formatTime(new Date())}`;
    replaceChildren(
      side,
      ops.element,
      legend(points),
      districtList(districts, points, (id) => map.focusDistrict(districts, id)),
      h(
        "p",
        { class: "panel-hint muted" },
        "Click a district to zoom to it. Wheel or + / − zoom, drag or arrow keys pan, 0 shows everything.",
      ),
      h(
        "p",
        { id: "map-render-time", class: "render-note" },
        `${formatCount(points.length)} dots: built in ${timings.build.toFixed(0)} ms, on screen in ${timings.paint.toFixed(0)} ms`,
      ),
    );
  }

  function scheduleRefresh() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(async () => {
      // A hidden tab (another screen in front) does not need fresh dots; catch up on return.
      if (document.visibilityState === "visible") {
        try {
          await loadPoints();
        } catch (error) {
          if (!isQuiet(error)) updated.textContent = "Update failed — retrying";
        }
      }
      if (!signal.aborted) scheduleRefresh();
    }, REFRESH_MS);
  }

  /** @param {Filters} changed */
  async function onFilters(changed) {
    const districtChanged = changed.district_id !== filters.district_id;
    filters = changed;
    replaceQuery("/map", filters);
    if (districtChanged) map.focusDistrict(districts, filters.district_id ? Number(filters.district_id) : null);
    try {
      await loadPoints();
    } catch (error) {
      // A lost connection is the banner's news; the last dots stay on screen meanwhile.
      if (!isQuiet(error) && !(error instanceof NetworkError)) replaceChildren(side, errorState(error));
    }
  }

  async function start() {
    replaceChildren(stage, loadingState("Loading the city…"));
    try {
      districts = await loadDistricts();
      if (signal.aborted) return;
      const focus = filters.district_id ? Number(filters.district_id) : null;
      replaceChildren(stage, map.element);
      map.setDistricts(districts, { focus, selected: focus });
      ops.start();
      const bar = createFilterBar({ districts, values: filters, keys: FILTER_KEYS, onChange: onFilters });
      filterHost.replaceChildren(bar.element);
      await loadPoints();
      scheduleRefresh();
    } catch (error) {
      if (!isQuiet(error)) replaceChildren(stage, errorState(error, start));
    }
  }

  const catchUp = () => (districts.length ? loadPoints().catch(() => {}) : start());
  connection.addEventListener("restored", catchUp);
  start();

  return () => {
    connection.removeEventListener("restored", catchUp);
    clearTimeout(refreshTimer);
    loadController?.abort();
    map.destroy();
  };
}
