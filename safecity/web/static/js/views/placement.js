// @ts-check
// Placement: where a budget of new cameras covers the most weighted crime. The city map shows
// what the cameras already watch (their ranges), the demand cells coloured by who covers them,
// the sites the optimiser chose (numbered) and the open requests; beside it, coverage before
// and after for the optimised plan and for the requests' own plan (the queue's first N).
// The plan is POST /api/planning/placement; its inputs live in the hash, so a reload or a
// shared link plans the same.

/** @import { District } from "../api-types.js" */
/** @import { ViewContext } from "../router.js" */

import { isQuiet, request } from "../api.js";
import { loadDistricts } from "../catalog.js";
import { createCityMap } from "../city-map.js";
import { h, replaceChildren, s } from "../dom.js";
import { formatCount, label, plural } from "../format.js";
import { replaceQuery } from "../router.js";
import * as session from "../session.js";
import { errorState, errorText, loadingState } from "../states.js";

/**
 * @typedef {object} CoverageFigure
 * @property {number} weight
 * @property {number} share
 * @property {number} records
 * @property {number} added_weight
 * @property {number} added_records
 *
 * @typedef {object} ChosenSite
 * @property {number} lat
 * @property {number} lon
 * @property {number} district_id
 * @property {string} district
 * @property {number | null} request_id
 * @property {number} new_weight
 * @property {number} new_records
 * @property {Array<{ id: number, number: string, distance_m: number }>} answers
 *
 * @typedef {object} QueuedRequest
 * @property {number} id
 * @property {string} number
 * @property {number} lat
 * @property {number} lon
 * @property {string} district
 * @property {string} urgency
 * @property {string} submitted_at
 * @property {number} rank
 * @property {boolean} in_requests_plan
 * @property {boolean} answered
 * @property {number} new_weight
 * @property {number} new_records
 *
 * @typedef {"existing" | "both" | "optimised" | "requests" | "open"} DemandState
 * @typedef {{ lat: number, lon: number, weight: number, records: number, state: DemandState }} DemandPoint
 *
 * @typedef {object} PlacementAnswer
 * @property {{ budget: number, radius_m: number, grid_m: number }} query
 * @property {number} unplaced_records
 * @property {{ total_weight: number, total_records: number, before: CoverageFigure,
 *   optimised: CoverageFigure, requests: CoverageFigure, ratio: number | null }} coverage
 * @property {ChosenSite[]} sites
 * @property {QueuedRequest[]} requests
 * @property {Array<{ lat: number, lon: number }>} cameras
 * @property {DemandPoint[]} demand
 * @property {{ status: string, candidates: number, grid_candidates: number,
 *   request_candidates: number, model_sites: number, demand_points: number,
 *   model_demand: number, build_s: number, solve_s: number, total_s: number }} solver
 */

/**
 * The form's values, as the hash keeps them.
 * @typedef {{ budget: string, radius_m: string, grid_m: string, period: string, public_only: string, district_id: string }} Inputs
 */

/** @type {Inputs} */
const DEFAULTS = { budget: "10", radius_m: "100", grid_m: "100", period: "365", public_only: "1", district_id: "" };
/** @type {Array<[value: string, text: string]>} */
const PERIODS = [
  ["90", "Last 3 months"],
  ["365", "Last 12 months"],
  ["all", "All records"],
];
/** @type {Array<[state: DemandState, text: string]>} */
const DEMAND_STATES = [
  ["existing", "Watched by existing cameras"],
  ["both", "Newly covered by both plans"],
  ["optimised", "Newly covered by the chosen sites"],
  ["requests", "Newly covered by the requests' plan"],
  ["open", "Covered by neither"],
];
const DAY_MS = 86_400_000;

/**
 * Map units per metre at latitude `lat`: the map projects degrees, a camera's range is metres.
 * @param {(lon: number, lat: number) => [number, number]} project
 * @param {number} lat
 * @param {number} lon
 */
function unitsPerMetre(project, lat, lon) {
  const phi = (lat * Math.PI) / 180;
  const metresPerDegree = 111_132.954 - 559.822 * Math.cos(2 * phi) + 1.175 * Math.cos(4 * phi);
  const [, y0] = project(lon, lat);
  const [, y1] = project(lon, lat + 1 / metresPerDegree);
  return Math.abs(y1 - y0);
}

/** @param {number} share */
function percent(share) {
  return `${(share * 100).toFixed(1)}%`;
}

/** @param {number} weight */
function weightBand(weight) {
  if (weight >= 6) return "3";
  if (weight >= 3) return "2";
  return "1";
}

/**
 * @param {Record<string, string | undefined>} query
 * @returns {Inputs}
 */
function inputsFrom(query) {
  /** @type {Inputs} */
  const inputs = { ...DEFAULTS };
  for (const key of /** @type {Array<keyof Inputs>} */ (Object.keys(DEFAULTS))) {
    const value = (query[key] || "").trim();
    if (value && /^[\w.]+$/.test(value)) inputs[key] = value;
  }
  return inputs;
}

/**
 * The API's query for the form's values.
 * @param {Inputs} inputs
 */
function queryFor(inputs) {
  /** @type {Record<string, unknown>} */
  const body = {
    budget: Number(inputs.budget),
    radius_m: Number(inputs.radius_m),
    grid_m: Number(inputs.grid_m),
    public_only: inputs.public_only === "1",
  };
  if (inputs.period !== "all") body.since = new Date(Date.now() - Number(inputs.period) * DAY_MS).toISOString();
  if (inputs.district_id) body.district_id = Number(inputs.district_id);
  return body;
}

/**
 * @param {string} id
 * @param {string} text
 * @param {HTMLElement} control
 */
function field(id, text, control) {
  control.id = id;
  return h("label", { class: "field placement-field", for: id }, h("span", { class: "field-label" }, text), control);
}

/**
 * One row of the before/after figures: a bar of the share covered, the added part lit.
 * @param {string} key
 * @param {string} text
 * @param {CoverageFigure} figure
 * @param {CoverageFigure} before
 */
function coverageRow(key, text, figure, before) {
  const bar = h("span", { class: "coverage-bar", "aria-hidden": "true" });
  const base = h("span", { class: "coverage-bar-base" });
  const added = h("span", { class: `coverage-bar-added coverage-${key}` });
  base.style.width = percent(before.share); // CSSOM, allowed by the CSP
  added.style.width = percent(Math.max(0, figure.share - before.share));
  bar.append(base, added);
  const gain = figure.share - before.share;
  return h(
    "li",
    { class: "coverage-row", dataset: { plan: key } },
    h("span", { class: "coverage-label" }, text),
    h("strong", { class: "coverage-share" }, percent(figure.share)),
    key === "before" ? h("span", { class: "coverage-gain muted" }, "") : h("span", { class: "coverage-gain" }, `+${(gain * 100).toFixed(1)} pts`),
    bar,
    h(
      "span",
      { class: "coverage-detail muted" },
      `${formatCount(figure.records)} records · weight ${formatCount(Math.round(figure.weight))}`,
    ),
  );
}

/** @param {PlacementAnswer} answer */
function figures(answer) {
  const { coverage, solver } = answer;
  const ratio =
    coverage.ratio === null
      ? "The requests' plan adds no coverage at all."
      : `The chosen sites add ${coverage.ratio.toFixed(1)}× the weight the requests' plan adds.`;
  const status = solver.status === "optimal" ? "optimal" : label(solver.status).toLowerCase();
  return h(
    "section",
    { id: "placement-figures", class: "side-section", "aria-labelledby": "placement-figures-title" },
    h("h2", { id: "placement-figures-title", class: "panel-title" }, "Weighted crime covered"),
    h(
      "ul",
      { class: "coverage-list" },
      coverageRow("before", "Existing cameras", coverage.before, coverage.before),
      coverageRow("optimised", `+ ${plural(answer.sites.length, "chosen site")}`, coverage.optimised, coverage.before),
      coverageRow(
        "requests",
        `+ requests' plan (${answer.requests.filter((r) => r.in_requests_plan).length})`,
        coverage.requests,
        coverage.before,
      ),
    ),
    h("p", { id: "placement-ratio", class: "placement-ratio" }, ratio),
    h(
      "p",
      { id: "placement-solver", class: "panel-hint muted" },
      `${formatCount(coverage.total_records)} records in ${formatCount(solver.demand_points)} cells; ` +
        `${formatCount(solver.candidates)} candidate sites (${formatCount(solver.request_candidates)} requested), ` +
        `${formatCount(solver.model_sites)} × ${formatCount(solver.model_demand)} in the model; ` +
        `${status} in ${solver.total_s.toFixed(1)} s.`,
      answer.unplaced_records
        ? ` ${plural(answer.unplaced_records, "record")} without a position not counted.`
        : null,
    ),
  );
}

/** @param {PlacementAnswer} answer */
function siteList(answer) {
  return h(
    "section",
    { class: "side-section", "aria-labelledby": "placement-sites-title" },
    h("h2", { id: "placement-sites-title", class: "panel-title" }, "Chosen sites"),
    answer.sites.length
      ? h(
          "ol",
          { id: "placement-sites", class: "placement-list" },
          answer.sites.map((site, index) =>
            h(
              "li",
              { class: "placement-item", dataset: { site: String(index + 1) } },
              h("span", { class: "placement-number" }, String(index + 1)),
              h(
                "span",
                { class: "placement-what" },
                h("strong", {}, site.district),
                h(
                  "span",
                  { class: "muted" },
                  ` · ${plural(site.new_records, "new record")} · weight ${site.new_weight.toFixed(1)}`,
                ),
                site.answers.length
                  ? h("span", { class: "placement-answers" }, `answers ${site.answers.map((a) => a.number).join(", ")}`)
                  : null,
              ),
            ),
          ),
        )
      : h("p", { class: "muted" }, "No site would cover any crime not yet watched."),
  );
}

/** @param {PlacementAnswer} answer */
function requestList(answer) {
  const queued = answer.requests.filter((r) => r.in_requests_plan);
  return h(
    "section",
    { class: "side-section", "aria-labelledby": "placement-requests-title" },
    h("h2", { id: "placement-requests-title", class: "panel-title" }, "Requests' plan"),
    queued.length
      ? h(
          "ol",
          { id: "placement-requests", class: "placement-list" },
          queued.map((r) =>
            h(
              "li",
              { class: "placement-item", dataset: { request: r.number } },
              h("span", { class: `placement-urgency urgency-${r.urgency}` }, label(r.urgency)),
              h(
                "span",
                { class: "placement-what" },
                h("strong", { class: "mono" }, r.number),
                h("span", { class: "muted" }, ` · ${r.district} · ${plural(r.new_records, "new record")}`),
                r.answered ? h("span", { class: "placement-answers" }, "also answered by a chosen site") : null,
              ),
            ),
          ),
        )
      : h("p", { class: "muted" }, "No open requests with a map point."),
    answer.requests.length > queued.length
      ? h("p", { class: "panel-hint muted" }, `${answer.requests.length - queued.length} more open requests wait behind them.`)
      : null,
  );
}

function legend() {
  /**
   * @param {string} marker
   * @param {string} text
   */
  const item = (marker, text) =>
    h("li", { class: "legend-item" }, h("span", { class: `legend-mark ${marker}`, "aria-hidden": "true" }), h("span", { class: "legend-label" }, text));
  return h(
    "section",
    { class: "side-section", "aria-labelledby": "placement-legend-title" },
    h("h2", { id: "placement-legend-title", class: "panel-title" }, "On the map"),
    h(
      "ul",
      { class: "legend-list" },
      item("mark-range", "An existing camera's range"),
      item("mark-site", "A chosen site and its range"),
      item("mark-request", "An open request (ringed: in the requests' plan)"),
      DEMAND_STATES.map(([state, text]) => item(`mark-demand demand-${state}`, text)),
    ),
  );
}

/**
 * @param {HTMLElement} outlet
 * @param {ViewContext} context
 */
export function mount(outlet, { query, signal }) {
  let inputs = inputsFrom(query);
  /** @type {District[]} */
  let districts = [];
  /** @type {AbortController | null} */
  let running = null;
  let ticker = 0;

  const user = session.signedIn();
  const budget = h("input", { class: "input input-narrow", type: "number", min: 1, max: 500, step: 1, value: inputs.budget, required: true });
  const radius = h("input", { class: "input input-narrow", type: "number", min: 10, max: 1000, step: 10, value: inputs.radius_m, required: true });
  const grid = h("input", { class: "input input-narrow", type: "number", min: 10, max: 5000, step: 10, value: inputs.grid_m, required: true });
  const period = h(
    "select",
    { class: "select" },
    PERIODS.map(([value, text]) => h("option", { value, selected: value === inputs.period }, text)),
  );
  const publicOnly = h("input", { type: "checkbox", checked: inputs.public_only === "1" });
  const district = h("select", { class: "select" }, h("option", { value: "" }, user.city_wide ? "Whole city" : "All my districts"));
  const run = h("button", { id: "placement-run", type: "submit", class: "button button-primary" }, "Plan");
  const form = h(
    "form",
    { id: "placement-form", class: "placement-form", onsubmit: onSubmit },
    field("placement-budget", "New cameras", budget),
    field("placement-radius", "Camera range, m", radius),
    field("placement-grid", "Grid spacing, m", grid),
    field("placement-period", "Crime records", period),
    field("placement-district", "Where", district),
    h("label", { class: "placement-check" }, publicOnly, " Public places only"),
    run,
  );
  const status = h("span", { id: "placement-status", class: "muted updated", role: "status", "aria-live": "polite" });
  const stage = h("div", { class: "map-stage" }, loadingState("Loading the city…"));
  const side = h("aside", { id: "placement-side", class: "map-side placement-side", "aria-label": "Placement figures" });
  outlet.replaceChildren(
    h(
      "section",
      { class: "page page-placement", "aria-labelledby": "placement-title" },
      h("div", { class: "toolbar" }, h("h1", { id: "placement-title", class: "page-title" }, "Placement"), form, status),
      h("div", { class: "map-layout placement-layout" }, stage, side),
    ),
  );

  const map = createCityMap({ id: "placement-map", onDistrictClick: (id) => map.focusDistrict(districts, id) });
  const rangeLayer = map.addLayer("placement-ranges");
  const demandLayer = map.addLayer("placement-demand");
  const requestLayer = map.addLayer("placement-requests");
  const siteLayer = map.addLayer("placement-sites");

  /** @param {PlacementAnswer} answer */
  function draw(answer) {
    const anchor = answer.cameras[0] || answer.demand[0] || answer.sites[0];
    const scale = anchor ? unitsPerMetre(map.project, anchor.lat, anchor.lon) : 0;
    const range = (answer.query.radius_m * scale).toFixed(3);
    const ranges = document.createDocumentFragment();
    for (const camera of answer.cameras) {
      const [x, y] = map.project(camera.lon, camera.lat);
      ranges.append(s("circle", { class: "camera-range", cx: x.toFixed(2), cy: y.toFixed(2), r: range }));
    }
    rangeLayer.replaceChildren(ranges);

    const cells = document.createDocumentFragment();
    // Open demand last, on top: it is what the plans are about.
    const order = { existing: 0, both: 1, optimised: 2, requests: 3, open: 4 };
    for (const point of [...answer.demand].sort((a, b) => order[a.state] - order[b.state])) {
      const [x, y] = map.project(point.lon, point.lat);
      cells.append(
        s("circle", {
          class: `demand-dot demand-${point.state} weight-${weightBand(point.weight)}`,
          cx: x.toFixed(2),
          cy: y.toFixed(2),
          dataset: { state: point.state },
        }),
      );
    }
    demandLayer.replaceChildren(cells);

    const requests = document.createDocumentFragment();
    for (const r of answer.requests) {
      const [x, y] = map.project(r.lon, r.lat);
      requests.append(
        s(
          "circle",
          {
            class: `request-mark${r.in_requests_plan ? " in-plan" : ""}${r.answered ? " answered" : ""}`,
            cx: x.toFixed(2),
            cy: y.toFixed(2),
            dataset: { request: r.number },
          },
          s("title", {}, `${r.number} · ${label(r.urgency)} · queue #${r.rank}${r.in_requests_plan ? " (in the requests' plan)" : ""}`),
        ),
      );
    }
    requestLayer.replaceChildren(requests);

    const sites = document.createDocumentFragment();
    answer.sites.forEach((site, index) => {
      const [x, y] = map.project(site.lon, site.lat);
      const cx = x.toFixed(2);
      const cy = y.toFixed(2);
      sites.append(
        s(
          "g",
          { class: "site-mark", dataset: { site: String(index + 1) } },
          s("circle", { class: "site-range", cx, cy, r: range }),
          s("circle", { class: "site-core", cx, cy }),
          s("text", { class: "site-number", x: cx, y: cy }, String(index + 1)),
          s("title", {}, `Site ${index + 1} · ${site.district} · ${plural(site.new_records, "new record")}`),
        ),
      );
    });
    siteLayer.replaceChildren(sites);
  }

  function readForm() {
    /** @type {Inputs} */
    const next = {
      budget: budget.value.trim(),
      radius_m: radius.value.trim(),
      grid_m: grid.value.trim(),
      period: period.value,
      public_only: publicOnly.checked ? "1" : "0",
      district_id: district.value,
    };
    return next;
  }

  /** @param {SubmitEvent} event */
  function onSubmit(event) {
    event.preventDefault();
    inputs = readForm();
    replaceQuery("/placement", inputs);
    plan();
  }

  async function plan() {
    running?.abort();
    const controller = new AbortController();
    running = controller;
    const started = performance.now();
    const what = `Choosing ${plural(Number(inputs.budget), "site")}…`;
    run.disabled = true;
    stage.classList.add("busy");
    status.replaceChildren(h("span", { class: "spinner", "aria-hidden": "true" }), ` ${what}`);
    status.dataset.state = "running";
    clearInterval(ticker);
    ticker = setInterval(() => {
      const seconds = ((performance.now() - started) / 1000).toFixed(0);
      status.replaceChildren(h("span", { class: "spinner", "aria-hidden": "true" }), ` ${what} ${seconds} s`);
    }, 500);
    try {
      /** @type {PlacementAnswer} */
      const answer = await request("/api/planning/placement", {
        method: "POST",
        body: queryFor(inputs),
        signal: AbortSignal.any([signal, controller.signal]),
      });
      draw(answer);
      replaceChildren(side, figures(answer), siteList(answer), requestList(answer), legend());
      status.textContent = `Planned in ${answer.solver.total_s.toFixed(1)} s`;
      status.dataset.state = "done";
    } catch (error) {
      if (isQuiet(error)) return;
      status.textContent = "";
      status.dataset.state = "failed";
      replaceChildren(side, h("div", { id: "placement-error", class: "state state-error", role: "alert" }, h("p", {}, errorText(error))));
    } finally {
      if (running === controller) {
        clearInterval(ticker);
        run.disabled = false;
        stage.classList.remove("busy");
      }
    }
  }

  async function start() {
    try {
      districts = await loadDistricts();
      if (signal.aborted) return;
      for (const d of districts.filter((one) => one.in_scope)) {
        district.append(h("option", { value: String(d.id), selected: String(d.id) === inputs.district_id }, d.name));
      }
      replaceChildren(stage, map.element);
      map.setDistricts(districts);
      await plan();
    } catch (error) {
      if (!isQuiet(error)) replaceChildren(stage, errorState(error, start));
    }
  }

  start();

  return () => {
    running?.abort();
    clearInterval(ticker);
    map.destroy();
  };
}
