// @ts-check
// Figures: the crime records of the user's districts by month, quarter or year, each change
// with its absolute numbers; one period against another with the districts that got cameras
// compared with those that did not (difference-in-differences, a rate ratio and its 95%
// interval); and, always on the page, what such figures can and cannot show. The server does
// every sum (safecity/insights/statistics_service.py); this screen only draws them.

/** @import { ViewContext } from "../router.js" */

import { isQuiet, request } from "../api.js";
import { h, replaceChildren, s } from "../dom.js";
import { formatCount } from "../format.js";
import { segmentedFilter } from "../ops-ui.js";
import { mayReadFigures } from "../permissions.js";
import { replaceQuery } from "../router.js";
import * as session from "../session.js";
import { emptyState, errorState, loadingState } from "../states.js";

/**
 * @typedef {{ before: number, after: number, difference: number, percent: number | null, text: string }} Change
 * @typedef {{ label: string, start: string, end: string, count: number, previous: Change | null, year_ago: Change | null }} PeriodRow
 * @typedef {{ title: string, text: string }} Caveat
 * @typedef {object} Statistics
 * @property {string} period
 * @property {string | null} records_begin
 * @property {number} total
 * @property {number} public_places
 * @property {PeriodRow[]} periods
 * @property {Array<{ district_id: number, district: string, count: number }>} by_district
 * @property {Array<{ kind: string, count: number }>} by_kind
 * @property {Array<{ place_kind: string, public: boolean, count: number }>} by_place
 * @property {Caveat[]} caveats
 * @typedef {{ district_id: number, district: string, group: string | null, new_cameras: number, change: Change }} DistrictChange
 * @typedef {object} DiD
 * @property {number | null} irr
 * @property {number | null} ci_low
 * @property {number | null} ci_high
 * @property {boolean | null} significant
 * @property {string | null} reason
 * @property {string} text
 * @typedef {object} BeforeAfter
 * @property {{ label: string }} before
 * @property {{ label: string }} after
 * @property {Change} change
 * @property {string} groups_from
 * @property {DistrictChange[]} by_district
 * @property {{ districts: string[], change: Change | null }} treated
 * @property {{ districts: string[], change: Change | null }} control
 * @property {DiD} did
 * @property {string[]} notes
 */

/** @type {Array<[value: string, text: string]>} */
const PERIODS = [
  ["month", "Month"],
  ["quarter", "Quarter"],
  ["year", "Year"],
];
/** @type {Array<[value: string, text: string]>} */
const SOURCES = [
  ["register", "Register"],
  ["occ", "OCC incidents"],
  ["all", "Both"],
];
/** @type {Array<[value: string, text: string]>} */
const PLACES = [
  ["", "All places"],
  ["public", "Public places"],
  ["street", "Streets only"],
  ["public_place", "Other public places"],
  ["dwelling", "Dwellings"],
  ["other", "Elsewhere"],
];
/** @type {Array<[value: string, text: string]>} */
const KINDS = [
  ["", "All kinds"],
  ["theft", "Theft"],
  ["robbery", "Robbery"],
  ["assault", "Assault"],
  ["hooliganism", "Hooliganism"],
  ["vandalism", "Vandalism"],
  ["fraud", "Fraud"],
  ["drugs", "Drugs"],
  ["vehicle_theft", "Vehicle theft"],
  ["other", "Other"],
];
const PLACE_WORDS = new Map(PLACES);
const KIND_WORDS = new Map(KINDS);
const CHART_HEIGHT = 180;
const CHART_LEFT = 48;

/**
 * @param {string} id
 * @param {Array<[value: string, text: string]>} options
 * @param {string} value
 * @param {string} label
 */
function select(id, options, value, label) {
  return h(
    "select",
    { id, class: "select", "aria-label": label },
    options.map(([optionValue, text]) => h("option", { value: optionValue, selected: optionValue === value }, text)),
  );
}

/**
 * A change as a table cell: the words the server wrote (absolute numbers always with the
 * percentage), coloured by direction.
 * @param {Change | null} change
 * @param {string} missing  what to say where there is nothing to compare with
 */
function changeCell(change, missing) {
  if (!change) return h("td", { class: "muted" }, missing);
  const direction = change.difference < 0 ? "down" : change.difference > 0 ? "up" : "same";
  return h("td", { class: `figure-change change-${direction}` }, change.text);
}

/** @param {number} value */
function niceTop(value) {
  if (value <= 1) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

/**
 * Bars of the count per period, labelled below (every label when they fit).
 * @param {PeriodRow[]} rows
 */
function periodChart(rows) {
  const width = Math.max(480, rows.length * 40 + CHART_LEFT + 8);
  const step = (width - CHART_LEFT - 8) / Math.max(rows.length, 1);
  const top = niceTop(Math.max(1, ...rows.map((row) => row.count)));
  const y = (/** @type {number} */ value) => 12 + CHART_HEIGHT - (value / top) * CHART_HEIGHT;
  const every = Math.ceil(rows.length / Math.floor((width - CHART_LEFT) / 64));
  /** @type {SVGElement[]} */
  const children = [
    s("line", { class: "count-grid", x1: CHART_LEFT, x2: width - 8, y1: y(top), y2: y(top) }),
    s("line", { class: "count-grid", x1: CHART_LEFT, x2: width - 8, y1: y(top / 2), y2: y(top / 2) }),
    s("line", { class: "count-base", x1: CHART_LEFT, x2: width - 8, y1: y(0), y2: y(0) }),
    s("text", { class: "count-scale", x: CHART_LEFT - 6, y: y(top) + 4 }, formatCount(top)),
    s("text", { class: "count-scale", x: CHART_LEFT - 6, y: y(top / 2) + 4 }, formatCount(top / 2)),
    s("text", { class: "count-scale", x: CHART_LEFT - 6, y: y(0) + 4 }, "0"),
  ];
  rows.forEach((row, index) => {
    const x = CHART_LEFT + index * step;
    children.push(
      s(
        "rect",
        { class: "figure-bar", x: x + step * 0.15, y: y(row.count), width: step * 0.7, height: Math.max(row.count ? 1 : 0, y(0) - y(row.count)), dataset: { period: row.label, count: String(row.count) } },
        s("title", {}, `${row.label}: ${formatCount(row.count)}`),
      ),
    );
    if (index % every === 0) children.push(s("text", { class: "count-axis", x: x + step / 2, y: CHART_HEIGHT + 30 }, row.label));
  });
  return s(
    "svg",
    { id: "figures-chart", class: "figures-chart", width, height: CHART_HEIGHT + 38, viewBox: `0 0 ${width} ${CHART_HEIGHT + 38}`, role: "img", "aria-label": rows.map((row) => `${row.label}: ${row.count}`).join(", ") },
    children,
  );
}

/**
 * @param {Statistics} statistics
 */
function periodTable(statistics) {
  const word = statistics.period;
  return h(
    "table",
    { id: "figures-periods-table", class: "data-table compact-table" },
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        h("th", { scope: "col" }, word[0].toUpperCase() + word.slice(1)),
        h("th", { scope: "col", class: "num" }, "Crimes"),
        h("th", { scope: "col" }, `Against the ${word} before`),
        h("th", { scope: "col" }, "Against a year before"),
      ),
    ),
    h(
      "tbody",
      {},
      statistics.periods.map((row) =>
        h(
          "tr",
          { dataset: { period: row.label } },
          h("th", { scope: "row", class: "mono" }, row.label),
          h("td", { class: "num" }, formatCount(row.count)),
          changeCell(row.previous, "no records before"),
          changeCell(row.year_ago, "no records a year before"),
        ),
      ),
    ),
  );
}

/**
 * @param {string} id
 * @param {string} title
 * @param {Array<[name: string, count: number]>} rows
 */
function countTable(id, title, rows) {
  return h(
    "table",
    { id, class: "data-table compact-table" },
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, title), h("th", { scope: "col", class: "num" }, "Crimes"))),
    h(
      "tbody",
      {},
      rows.map(([name, count]) => h("tr", {}, h("td", {}, name), h("td", { class: "num" }, formatCount(count)))),
    ),
  );
}

/**
 * @param {string} id
 * @param {string} title
 * @param {...(Node | string | null)} content
 */
function section(id, title, ...content) {
  return h(
    "section",
    { id, class: "panel figures-panel", "aria-labelledby": `${id}-title` },
    h("div", { class: "panel-head" }, h("h2", { id: `${id}-title`, class: "panel-title" }, title)),
    h("div", { class: "panel-body" }, content),
  );
}

/**
 * The difference-in-differences in words and numbers.
 * @param {BeforeAfter} result
 */
function didBox(result) {
  const did = result.did;
  const figure =
    did.irr === null
      ? "—"
      : did.ci_low === null || did.ci_high === null
        ? did.irr.toFixed(2)
        : `${did.irr.toFixed(2)} (95% CI ${did.ci_low.toFixed(2)}–${did.ci_high.toFixed(2)})`;
  const group = (/** @type {string} */ name, /** @type {{ districts: string[], change: Change | null }} */ part) =>
    h(
      "div",
      { class: "did-group", dataset: { group: name } },
      h("span", { class: "did-group-name" }, `${name === "treated" ? "Got new cameras" : "Control (no new cameras)"}: ${part.districts.join(", ") || "none"}`),
      h("span", { class: "did-group-change" }, part.change ? part.change.text : "—"),
    );
  return h(
    "div",
    { id: "figures-did", class: "did-box", dataset: { significant: String(did.significant) } },
    group("treated", result.treated),
    group("control", result.control),
    h("div", { class: "did-ratio" }, h("span", { class: "muted" }, "Incidence rate ratio "), h("strong", { id: "figures-irr" }, figure)),
    h("p", { id: "figures-did-text", class: "did-text" }, did.text),
    result.notes.map((note) => h("p", { class: "muted did-note" }, note)),
  );
}

/**
 * @param {BeforeAfter} result
 */
function districtTable(result) {
  return h(
    "table",
    { id: "figures-districts-table", class: "data-table compact-table" },
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        h("th", { scope: "col" }, "District"),
        h("th", { scope: "col" }, "Group"),
        h("th", { scope: "col", class: "num" }, "New cameras"),
        h("th", { scope: "col", class: "num" }, result.before.label),
        h("th", { scope: "col", class: "num" }, result.after.label),
        h("th", { scope: "col" }, "Change"),
      ),
    ),
    h(
      "tbody",
      {},
      result.by_district.map((row) =>
        h(
          "tr",
          { dataset: { district: row.district } },
          h("td", {}, row.district),
          h("td", {}, row.group === "treated" ? "new cameras" : row.group === "control" ? "control" : "—"),
          h("td", { class: "num" }, formatCount(row.new_cameras)),
          h("td", { class: "num" }, formatCount(row.change.before)),
          h("td", { class: "num" }, formatCount(row.change.after)),
          changeCell(row.change, ""),
        ),
      ),
    ),
  );
}

/**
 * The periods one may compare: those whole, after the records begin and before today.
 * @param {Statistics} statistics
 */
function comparable(statistics) {
  const begin = statistics.records_begin ? Date.parse(statistics.records_begin) : -Infinity;
  const now = Date.now();
  return statistics.periods.filter((row) => Date.parse(row.start) >= begin && Date.parse(row.end) <= now).map((row) => row.label);
}

/**
 * @param {HTMLElement} outlet
 * @param {ViewContext} context
 */
export function mount(outlet, { query, signal }) {
  const user = session.signedIn();
  if (!mayReadFigures(user)) {
    outlet.replaceChildren(h("section", { class: "page" }, emptyState("Crime figures are not part of your role.")));
    return;
  }
  const state = {
    period: PERIODS.some(([value]) => value === query.period) ? String(query.period) : "quarter",
    place: PLACE_WORDS.has(query.place || "") ? query.place || "" : "",
    kind: KIND_WORDS.has(query.kind || "") ? query.kind || "" : "",
    before: query.before || "",
    after: query.after || "",
    // The police register by default: the published figures and the comparison come from it.
    source: SOURCES.some(([value]) => value === query.source) ? String(query.source) : "register",
  };
  const sourceSelect = select("figures-source", SOURCES, state.source, "Records counted");
  sourceSelect.addEventListener("change", () => {
    state.source = sourceSelect.value;
    load();
  });
  const placeSelect = select("figures-place", PLACES, state.place, "Place");
  const kindSelect = select("figures-kind", KINDS, state.kind, "Kind of crime");
  placeSelect.addEventListener("change", () => {
    state.place = placeSelect.value;
    load();
  });
  kindSelect.addEventListener("change", () => {
    state.kind = kindSelect.value;
    load();
  });
  const total = h("span", { id: "figures-total", class: "result-count", "aria-live": "polite" });
  const counts = h("div", { class: "figures-counts" }, loadingState("Counting…"));
  const breakdown = h("div", { class: "figures-breakdown" });
  const comparison = h("div", { class: "figures-comparison" });
  const caveats = h("div", { id: "figures-caveats-list", class: "figures-caveats" });
  const page = h(
    "section",
    { class: "page page-figures", "aria-labelledby": "figures-title" },
    h(
      "div",
      { class: "toolbar" },
      h("h1", { id: "figures-title", class: "page-title" }, "Figures"),
      h("span", { class: "muted" }, "Registered crime in your districts"),
      h("div", { class: "header-spacer" }),
      segmentedFilter({
        id: "figures-period",
        label: "Count by",
        options: PERIODS,
        value: state.period,
        onPick: (picked) => {
          state.period = picked;
          state.before = state.after = "";
          load();
        },
      }),
      sourceSelect,
      placeSelect,
      kindSelect,
      total,
    ),
    h(
      "div",
      { class: "figures-scroll" },
      section("figures-periods", "Counts by period", counts),
      section("figures-before-after", "Before and after, against a control", comparison),
      section("figures-caveats", "What these figures can and cannot show", caveats),
      section("figures-breakdown", "By district, kind and place", breakdown),
    ),
  );
  outlet.replaceChildren(page);

  /** @returns {Record<string, string>} */
  function filters() {
    /** @type {Record<string, string>} */
    const found = { period: state.period };
    if (state.place) found.place = state.place;
    if (state.kind) found.kind = state.kind;
    if (state.source !== "register") found.source = state.source;
    return found;
  }

  function remember() {
    replaceQuery("/figures", { ...filters(), before: state.before || undefined, after: state.after || undefined });
  }

  async function load() {
    remember();
    replaceChildren(counts, loadingState("Counting…"));
    try {
      /** @type {Statistics} */
      const statistics = await request("/api/insights/statistics", { query: filters(), signal });
      drawStatistics(statistics);
    } catch (error) {
      if (isQuiet(error)) return;
      replaceChildren(counts, errorState(error, load));
    }
  }

  /** @param {Statistics} statistics */
  function drawStatistics(statistics) {
    const placeWord = PLACE_WORDS.get(state.place) || "All places";
    total.textContent = `${formatCount(statistics.total)} crimes`;
    replaceChildren(
      caveats,
      statistics.caveats.map((caveat, index) =>
        h("article", { class: `caveat${index === 0 ? " caveat-first" : ""}` }, h("h3", { class: "caveat-title" }, caveat.title), h("p", {}, caveat.text)),
      ),
    );
    if (!statistics.periods.length) {
      replaceChildren(counts, emptyState("No crime records in your districts match."));
      replaceChildren(breakdown);
      replaceChildren(comparison, emptyState("Records are needed before periods can be compared."));
      return;
    }
    replaceChildren(
      counts,
      h("p", { class: "muted figures-what" }, `${placeWord}${state.place === "public" ? " (streets included)" : ""}, ${(KIND_WORDS.get(state.kind) || "all kinds").toLowerCase()}: ${formatCount(statistics.total)} crimes, ${formatCount(statistics.public_places)} of them in public places.`),
      h("div", { class: "figures-chart-wrap" }, periodChart(statistics.periods)),
      h("div", { class: "counts-table-wrap" }, periodTable(statistics)),
    );
    replaceChildren(
      breakdown,
      h(
        "div",
        { class: "figures-tables" },
        countTable("figures-by-district", "District", statistics.by_district.map((row) => [row.district, row.count])),
        countTable("figures-by-kind", "Kind", statistics.by_kind.map((row) => [KIND_WORDS.get(row.kind) || row.kind, row.count])),
        countTable("figures-by-place", "Place", statistics.by_place.map((row) => [PLACE_WORDS.get(row.place_kind) || row.place_kind, row.count])),
      ),
    );
    const labels = comparable(statistics);
    if (labels.length < 2) {
      replaceChildren(comparison, emptyState(`Two whole ${state.period}s of records are needed to compare.`));
      return;
    }
    if (!labels.includes(state.before)) state.before = labels[0];
    if (!labels.includes(state.after) || state.after <= state.before) state.after = labels[labels.length - 1];
    const options = labels.map((value) => /** @type {[string, string]} */ ([value, value]));
    const beforeSelect = select("figures-before", options, state.before, "Before");
    const afterSelect = select("figures-after", options, state.after, "After");
    const result = h("div", { class: "figures-result" }, loadingState("Comparing…"));
    const pick = () => {
      state.before = beforeSelect.value;
      state.after = afterSelect.value;
      remember();
      compare(result);
    };
    beforeSelect.addEventListener("change", pick);
    afterSelect.addEventListener("change", pick);
    replaceChildren(
      comparison,
      h("div", { class: "figures-pick" }, h("label", { class: "field-label" }, "Before ", beforeSelect), h("label", { class: "field-label" }, "After ", afterSelect)),
      result,
    );
    compare(result);
  }

  /** @param {HTMLElement} result */
  async function compare(result) {
    replaceChildren(result, loadingState("Comparing…"));
    try {
      /** @type {BeforeAfter} */
      const found = await request("/api/insights/before-after", { query: { ...filters(), before: state.before, after: state.after }, signal });
      replaceChildren(
        result,
        h(
          "div",
          { class: "figures-headline" },
          h("span", { class: "muted" }, `All your districts, ${found.before.label} → ${found.after.label}: `),
          h("strong", { id: "figures-change" }, `${formatCount(found.change.before)} → ${formatCount(found.change.after)}, ${found.change.text}`),
        ),
        h("p", { class: "figures-warning" }, "A drop alone does not show the cameras caused it: compare with the control below, and read the caveats."),
        didBox(found),
        h("div", { class: "counts-table-wrap" }, districtTable(found)),
      );
    } catch (error) {
      if (isQuiet(error)) return;
      replaceChildren(result, errorState(error, () => compare(result)));
    }
  }

  load();
}
