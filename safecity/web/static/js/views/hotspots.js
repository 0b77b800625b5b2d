// @ts-check
// Hotspots: where crime concentrates in the user's districts. The city map's outlines with,
// under them, kernel density as grey shading and Getis-Ord Gi* cells coloured by class
// (hot/cold at 99/95/90%, after the false-discovery-rate correction); beside them the legend,
// what was analysed, and the near-repeat (Knox) result in words. Filters: period, kind,
// public places only, cell size. The server does the statistics (/api/insights/hotspots and
// /near-repeat); the screen draws one SVG path per class and per shade, not one per cell.

/** @import { District, Geometry } from "../api-types.js" */
/** @import { ViewContext } from "../router.js" */

import { isQuiet, request } from "../api.js";
import { loadDistricts } from "../catalog.js";
import { createCityMap } from "../city-map.js";
import { h, replaceChildren, s } from "../dom.js";
import { formatCount } from "../format.js";
import { boundsOfGeometries, makeProjection, pathData } from "../geo.js";
import { replaceQuery } from "../router.js";
import { errorState, loadingState } from "../states.js";

/**
 * @typedef {"hot_99" | "hot_95" | "hot_90" | "not_significant" | "cold_90" | "cold_95" | "cold_99"} HotspotClass
 * @typedef {{ row: number, column: number, count: number, density: number, z: number, p: number, p_fdr: number, class: HotspotClass }} CellProperties
 * @typedef {{ type: "Feature", geometry: { type: "Polygon", coordinates: [number, number][][] }, properties: CellProperties }} CellFeature
 * @typedef {object} HotspotSummary
 * @property {number} records
 * @property {number} without_position
 * @property {number} cells
 * @property {number} cell_m
 * @property {number | null} bandwidth_m
 * @property {number} band_m
 * @property {Record<HotspotClass, number>} classes
 * @property {string} correction
 * @property {string[]} notes
 * @property {number} seconds
 * @typedef {{ type: "FeatureCollection", features: CellFeature[], summary: HotspotSummary }} HotspotMap
 * @typedef {{ records: number, observed: number, expected: number, ratio: number | null, p_value: number, significant: boolean, summary: string, distance_m: number, days: number }} NearRepeat
 */

/** @type {Array<[HotspotClass, string]>} */
const CLASSES = [
  ["hot_99", "Hot spot, 99% confidence"],
  ["hot_95", "Hot spot, 95%"],
  ["hot_90", "Hot spot, 90%"],
  ["cold_90", "Cold spot, 90%"],
  ["cold_95", "Cold spot, 95%"],
  ["cold_99", "Cold spot, 99%"],
];
const SHADES = 6; // density levels drawn as grey shading
/** @type {Array<[string, string]>} */
const PERIODS = [
  ["3", "Last 3 months"],
  ["6", "Last 6 months"],
  ["12", "Last 12 months"],
  ["24", "Last 2 years"],
  ["all", "All records"],
];
const KINDS = ["theft", "robbery", "assault", "hooliganism", "vandalism", "fraud", "drugs", "vehicle_theft", "other"];
const CELLS = ["150", "250", "500", "1000"];

/** @param {string} kind  "vehicle_theft" → "Vehicle theft" */
function kindText(kind) {
  return kind.charAt(0).toUpperCase() + kind.slice(1).replaceAll("_", " ");
}

/**
 * The filters from the hash, anything unknown dropped.
 * @param {Record<string, string | undefined>} query
 */
function readFilters(query) {
  return {
    period: PERIODS.some(([value]) => value === query.period) ? String(query.period) : "12",
    kind: KINDS.includes(query.kind || "") ? String(query.kind) : "",
    public_only: query.public_only === "true",
    cell_m: CELLS.includes(query.cell_m || "") ? String(query.cell_m) : "250",
  };
}

/** @typedef {ReturnType<typeof readFilters>} Filters */

/**
 * The API's query for the filters: the period ends now.
 * @param {Filters} filters
 */
function apiQuery(filters) {
  /** @type {Record<string, string | boolean>} */
  const query = { public_only: filters.public_only };
  if (filters.kind) query.kind = filters.kind;
  if (filters.period !== "all") {
    const since = new Date();
    since.setMonth(since.getMonth() - Number(filters.period));
    query.since = since.toISOString();
  }
  return query;
}

/**
 * The cells as one MultiPolygon, to draw as one path.
 * @param {CellFeature[]} cells
 * @returns {Geometry}
 */
function multiPolygon(cells) {
  return { type: "MultiPolygon", coordinates: cells.map((cell) => cell.geometry.coordinates) };
}

/**
 * @param {string} id
 * @param {string} text
 * @param {HTMLElement} control
 */
function field(id, text, control) {
  return h("label", { class: "field", for: id }, h("span", { class: "field-label" }, text), control);
}

/**
 * @param {string} id
 * @param {Array<[string, string]>} options
 * @param {string} value
 */
function selectOf(id, options, value) {
  return h(
    "select",
    { id, class: "select" },
    options.map(([optionValue, text]) => h("option", { value: optionValue, selected: optionValue === value }, text)),
  );
}

/**
 * @param {HTMLElement} outlet
 * @param {ViewContext} context
 */
export function mount(outlet, { query, signal }) {
  let filters = readFilters(query);
  /** @type {District[]} */
  let districts = [];
  /** @type {AbortController | null} */
  let loadController = null;

  const period = selectOf("hotspots-period", PERIODS, filters.period);
  const kind = selectOf("hotspots-kind", [["", "All kinds"], ...KINDS.map((k) => /** @type {[string, string]} */ ([k, kindText(k)]))], filters.kind);
  const cell = selectOf("hotspots-cell", CELLS.map((m) => /** @type {[string, string]} */ ([m, `${m} m`])), filters.cell_m);
  const publicOnly = h("input", { id: "hotspots-public", type: "checkbox", checked: filters.public_only });
  const filterBar = h(
    "div",
    { class: "filter-bar hotspots-filters" },
    field("hotspots-period", "Period", period),
    field("hotspots-kind", "Kind", kind),
    field("hotspots-cell", "Cell", cell),
    h("label", { class: "hotspots-check", for: "hotspots-public" }, publicOnly, "Public places only"),
  );
  const status = h("span", { id: "hotspots-status", class: "result-count", "aria-live": "polite" });
  const stage = h("div", { class: "map-stage" }, loadingState("Loading the city…"));
  const side = h("aside", { id: "hotspots-side", class: "map-side", "aria-label": "Hotspot analysis" });
  outlet.replaceChildren(
    h(
      "section",
      { class: "page page-map page-hotspots", "aria-labelledby": "hotspots-title" },
      h("div", { class: "toolbar" }, h("h1", { id: "hotspots-title", class: "page-title" }, "Hotspots"), filterBar, status),
      h("div", { class: "map-layout" }, stage, side),
    ),
  );

  const map = createCityMap({ id: "hotspots-map", onDistrictClick: (id) => map.focusDistrict(districts, id) });
  // Under the districts (their fill is all but clear): the outlines and names stay on top.
  const shading = s("g", { id: "hotspots-density", class: "hotspot-density" });
  const cellsLayer = s("g", { id: "hotspots-cells", class: "hotspot-cells" });

  /** @param {HotspotMap} result */
  function draw(result) {
    // The same projection setDistricts made: the same bounds give the same numbers.
    const projection = makeProjection(boundsOfGeometries(districts.map((d) => d.geometry)));
    const top = Math.max(0, ...result.features.map((f) => f.properties.density));
    /** @type {CellFeature[][]} */
    const shades = Array.from({ length: SHADES }, () => []);
    for (const feature of result.features) {
      if (top <= 0 || feature.properties.density <= 0) continue;
      // Square-root steps: the city's many faint cells stay visible beside a few dense ones.
      const level = Math.min(SHADES - 1, Math.floor(Math.sqrt(feature.properties.density / top) * SHADES));
      shades[level].push(feature);
    }
    shading.replaceChildren(
      ...shades
        .map((cells, level) =>
          cells.length
            ? s("path", { class: `density-shade shade-${level}`, d: pathData(multiPolygon(cells), projection), dataset: { level: String(level), cells: String(cells.length) } })
            : null,
        )
        .filter((node) => node !== null),
    );
    cellsLayer.replaceChildren(
      ...CLASSES.map(([name, text]) => {
        const cells = result.features.filter((f) => f.properties.class === name);
        return cells.length
          ? s(
              "path",
              { class: `hotspot-class class-${name}`, d: pathData(multiPolygon(cells), projection), dataset: { class: name, cells: String(cells.length) } },
              s("title", {}, `${text}: ${plural(cells.length)}`),
            )
          : null;
      }).filter((node) => node !== null),
    );
  }

  /** @param {number} count */
  function plural(count) {
    return `${formatCount(count)} ${count === 1 ? "cell" : "cells"}`;
  }

  /**
   * @param {HotspotMap} result
   * @param {NearRepeat} nearRepeat
   */
  function describe(result, nearRepeat) {
    const summary = result.summary;
    status.textContent = `${formatCount(summary.records)} crimes mapped`;
    replaceChildren(
      side,
      h(
        "section",
        { id: "hotspots-legend", class: "side-section", "aria-labelledby": "hotspots-legend-title" },
        h("h2", { id: "hotspots-legend-title", class: "panel-title" }, "Getis-Ord Gi*"),
        h(
          "ul",
          { class: "legend-list" },
          CLASSES.map(([name, text]) =>
            h(
              "li",
              { class: "legend-item", dataset: { class: name } },
              h("span", { class: `swatch hotspot-swatch class-${name}`, "aria-hidden": "true" }),
              h("span", { class: "legend-label" }, text),
              h("span", { class: "legend-count" }, formatCount(summary.classes[name] || 0)),
            ),
          ),
        ),
        h(
          "ul",
          { class: "legend-list legend-areas" },
          h(
            "li",
            { class: "legend-item" },
            h("span", { class: "swatch hotspot-swatch density-ramp", "aria-hidden": "true" }),
            h("span", { class: "legend-label" }, "Kernel density (darker: more crimes nearby)"),
          ),
        ),
        h(
          "p",
          { class: "panel-hint muted" },
          `${plural(summary.cells)} of ${summary.cell_m} m; neighbours within ${Math.round(summary.band_m)} m; `,
          `density radius ${summary.bandwidth_m === null ? "—" : `${Math.round(summary.bandwidth_m)} m`}; ${summary.correction}.`,
        ),
      ),
      h(
        "section",
        { id: "hotspots-near-repeat", class: "side-section", "aria-labelledby": "hotspots-nr-title" },
        h("h2", { id: "hotspots-nr-title", class: "panel-title" }, "Near repeats (Knox test)"),
        h("p", { class: nearRepeat.significant ? "near-repeat-words near-repeat-found" : "near-repeat-words" }, nearRepeat.summary),
      ),
      h(
        "section",
        { id: "hotspots-notes", class: "side-section", "aria-labelledby": "hotspots-notes-title" },
        h("h2", { id: "hotspots-notes-title", class: "panel-title" }, "Reading the map"),
        summary.notes.map((note) => h("p", { class: "panel-hint" }, note)),
        h("p", { class: "render-note" }, `Analysed in ${summary.seconds.toFixed(2)} s.`),
      ),
    );
  }

  async function load() {
    loadController?.abort();
    loadController = new AbortController();
    const requestSignal = AbortSignal.any([signal, loadController.signal]);
    status.textContent = "Analysing…";
    const query = apiQuery(filters);
    try {
      const [result, nearRepeat] = await Promise.all([
        /** @type {Promise<HotspotMap>} */ (request("/api/insights/hotspots", { query: { ...query, cell_m: filters.cell_m }, signal: requestSignal })),
        /** @type {Promise<NearRepeat>} */ (request("/api/insights/near-repeat", { query, signal: requestSignal })),
      ]);
      draw(result);
      describe(result, nearRepeat);
    } catch (error) {
      if (isQuiet(error)) return;
      status.textContent = "";
      replaceChildren(side, errorState(error, load));
    }
  }

  function onChange() {
    filters = {
      period: period.value,
      kind: kind.value,
      public_only: publicOnly.checked,
      cell_m: cell.value,
    };
    replaceQuery("/hotspots", { ...filters, public_only: filters.public_only ? "true" : "" });
    load();
  }
  for (const control of [period, kind, cell, publicOnly]) control.addEventListener("change", onChange);

  async function start() {
    replaceChildren(stage, loadingState("Loading the city…"));
    try {
      districts = await loadDistricts();
      if (signal.aborted) return;
      replaceChildren(stage, map.element);
      map.setDistricts(districts);
      map.svg.querySelector(".district-layer")?.before(shading, cellsLayer);
      await load();
    } catch (error) {
      if (!isQuiet(error)) replaceChildren(stage, errorState(error, start));
    }
  }
  start();

  return () => {
    loadController?.abort();
    map.destroy();
  };
}
