// @ts-check
// Counts of city life on the camera page: people and vehicles the camera's analytics counted,
// per 15 minutes or per hour over the last 24 hours, or per hour over the last 7 days. Drawn
// here as small SVG bar charts (one per kind, on one time axis); hovering reads a bin's
// numbers out, and a table shows them all for whoever needs the figures themselves.

/** @import { Camera, Counts } from "./api-types.js" */

import { VEHICLE_CLASSES } from "./analytics-words.js";
import { isQuiet, request } from "./api.js";
import { cityParts } from "./clock.js";
import { h, replaceChildren, s } from "./dom.js";
import { formatCount, formatDateTime } from "./format.js";
import { segmentedFilter } from "./ops-ui.js";
import { emptyState, errorState, loadingState } from "./states.js";

const HOUR_MS = 3600_000;
const NARROWEST = 480; // the chart is drawn in the CSS pixels it has, never narrower than this
const LEFT = 44;
const RIGHT = 8;
const BAND = 84; // one series' chart height
const GAP = 40; // above each series: its title
const AXIS = 22; // the time labels under the last chart
const WEEKDAY = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/**
 * A period the panel offers: its key, words, how far back, and the API's bin.
 * @type {Array<[key: string, text: string, hours: number, bin: string]>}
 */
const PERIODS = [
  ["24h-15m", "24 h · 15 min", 24, "15m"],
  ["24h-1h", "24 h · hourly", 24, "1h"],
  ["7d-1h", "7 days · hourly", 24 * 7, "1h"],
];

/**
 * What the chart shows: each kind of road user, and the object classes it adds up.
 * @type {Array<[key: string, text: string, classes: string[]]>}
 */
const KINDS = [
  ["people", "People", ["person"]],
  ["vehicles", "Vehicles", VEHICLE_CLASSES],
  ["bicycles", "Bicycles", ["bicycle"]],
];

/**
 * One kind's counts per bin.
 * @typedef {{ key: string, text: string, counts: number[], total: number }} Line
 */

/** @param {number} n */
function pad(n) {
  return String(n).padStart(2, "0");
}

/**
 * The smallest 1, 2 or 5 × 10ⁿ at or above `value` (a scale's top that reads well).
 * @param {number} value
 */
function niceTop(value) {
  if (value <= 1) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

/**
 * The kinds' counts (bicycles only when there were any; people and vehicles always).
 * @param {Counts} counts
 * @returns {Line[]}
 */
function linesOf(counts) {
  const camera = counts.series.filter((series) => series.scope === "camera");
  return KINDS.map(([key, text, classes]) => {
    const sums = counts.bins.map((_, index) =>
      camera.filter((series) => classes.includes(series.object_class)).reduce((sum, series) => sum + (series.counts[index] || 0), 0),
    );
    return { key, text, counts: sums, total: sums.reduce((a, b) => a + b, 0) };
  }).filter((line) => line.key !== "bicycles" || line.total > 0);
}

/**
 * "14:00–14:15" or, with the day, "2026-11-27 14:00–15:00".
 * @param {number} start
 * @param {number} end
 * @param {boolean} withDay
 */
function binText(start, end, withDay) {
  const from = formatDateTime(new Date(start)).slice(0, 16);
  const to = cityParts(new Date(end));
  return `${withDay ? from : from.slice(11)}–${pad(to.hour)}:${pad(to.minute)}`;
}

/**
 * The time labels of the axis: [bin index, text] at every 3rd hour, or each city midnight.
 * @param {number[]} starts
 * @param {boolean} week
 * @returns {Array<[number, string]>}
 */
function ticks(starts, week) {
  /** @type {Array<[number, string]>} */
  const found = [];
  starts.forEach((start, index) => {
    const p = cityParts(new Date(start));
    if (p.minute !== 0) return;
    if (week && p.hour === 0) {
      const weekday = WEEKDAY[new Date(Date.UTC(p.year, p.month - 1, p.day)).getUTCDay()];
      found.push([index, `${weekday} ${p.day}`]);
    } else if (!week && p.hour % 3 === 0) {
      found.push([index, `${pad(p.hour)}:00`]);
    }
  });
  return found;
}

/**
 * The SVG, `width` CSS pixels wide (so its words keep their size): one bar chart per line, on a
 * shared time axis. `onHover(index)` hears the bin under the pointer (null when it leaves).
 * @param {Line[]} lines
 * @param {number[]} starts
 * @param {boolean} week
 * @param {number} width
 * @param {(index: number | null) => void} onHover
 */
function chart(lines, starts, week, width, onHover) {
  const bins = starts.length;
  const step = (width - LEFT - RIGHT) / bins;
  const barWidth = Math.max(1, step * (bins > 100 ? 0.9 : 0.75));
  const height = lines.length * (BAND + GAP) + AXIS;
  const highlight = s("rect", { class: "count-hover", x: 0, y: 0, width: step, height: height - AXIS, hidden: true });
  /** @type {SVGElement[]} */
  const children = [highlight];
  lines.forEach((line, row) => {
    const top = row * (BAND + GAP) + GAP;
    const max = niceTop(Math.max(...line.counts));
    const y = (/** @type {number} */ value) => top + BAND - (value / max) * BAND;
    children.push(
      s("text", { class: "count-title", x: LEFT, y: top - 14 }, `${line.text} · ${formatCount(line.total)} in all`),
      s("line", { class: "count-grid", x1: LEFT, x2: width - RIGHT, y1: y(max), y2: y(max) }),
      s("line", { class: "count-grid", x1: LEFT, x2: width - RIGHT, y1: y(max / 2), y2: y(max / 2) }),
      s("line", { class: "count-base", x1: LEFT, x2: width - RIGHT, y1: y(0), y2: y(0) }),
      s("text", { class: "count-scale", x: LEFT - 6, y: y(max) + 4 }, formatCount(max)),
      s("text", { class: "count-scale", x: LEFT - 6, y: y(max / 2) + 4 }, formatCount(max / 2)),
      s("text", { class: "count-scale", x: LEFT - 6, y: y(0) + 4 }, "0"),
    );
    line.counts.forEach((count, index) => {
      if (!count) return;
      children.push(
        s(
          "rect",
          {
            class: `count-bar bar-${line.key}`,
            x: LEFT + index * step + (step - barWidth) / 2,
            y: y(count),
            width: barWidth,
            height: Math.max(1, y(0) - y(count)),
            dataset: { series: line.key, bin: String(index), count: String(count) },
          },
          s("title", {}, `${formatCount(count)} ${line.text.toLowerCase()}`),
        ),
      );
    });
  });
  for (const [index, text] of ticks(starts, week)) {
    const x = LEFT + index * step;
    children.push(
      s("line", { class: "count-tick", x1: x, x2: x, y1: height - AXIS, y2: height - AXIS + 4 }),
      s("text", { class: "count-axis", x, y: height - 6 }, text),
    );
  }
  const svg = s(
    "svg",
    { id: "counts-chart", class: "counts-chart", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": lines.map((line) => `${line.text}: ${line.total}`).join(", ") },
    children,
  );
  svg.addEventListener("mousemove", (event) => {
    const toChart = svg.getScreenCTM()?.inverse();
    if (!toChart) return;
    const { x } = new DOMPoint(event.clientX, event.clientY).matrixTransform(toChart);
    const index = Math.floor((x - LEFT) / step);
    if (index < 0 || index >= bins) {
      highlight.setAttribute("hidden", "");
      onHover(null);
      return;
    }
    highlight.removeAttribute("hidden");
    highlight.setAttribute("x", String(LEFT + index * step));
    onHover(index);
  });
  svg.addEventListener("mouseleave", () => {
    highlight.setAttribute("hidden", "");
    onHover(null);
  });
  return svg;
}

/**
 * @param {Line[]} lines
 * @param {number[]} starts
 * @param {number} end
 * @param {boolean} week
 */
function table(lines, starts, end, week) {
  const edge = (/** @type {number} */ index) => (index + 1 < starts.length ? starts[index + 1] : end);
  return h(
    "div",
    { class: "counts-table-wrap" },
    h(
      "table",
      { id: "counts-table", class: "data-table compact-table" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Time"), lines.map((line) => h("th", { scope: "col", class: "num" }, line.text)))),
      h(
        "tbody",
        {},
        h("tr", { class: "counts-total" }, h("th", { scope: "row" }, "All"), lines.map((line) => h("td", { class: "num" }, formatCount(line.total)))),
        starts.map((start, index) =>
          h(
            "tr",
            { dataset: { bin: String(index) } },
            h("td", { class: "mono" }, binText(start, edge(index), week || index === 0)),
            lines.map((line) => h("td", { class: "num" }, formatCount(line.counts[index]))),
          ),
        ),
      ),
    ),
  );
}

/**
 * The counts panel of `camera`. A camera the analytics does not watch (and that counted
 * nothing) says so instead of drawing empty charts.
 * @param {Camera} camera
 * @param {AbortSignal} signal
 * @param {{ eventsLink: boolean }} options  whether to link to the search of its events
 */
export function countsPanel(camera, signal, { eventsLink }) {
  let period = PERIODS[0];
  let asTable = false;
  /** @type {AbortController | null} */
  let loading = null;
  /** @type {(() => void) | null} draws the chart again at the width the panel now has */
  let redraw = null;
  let drawnWidth = 0;
  const body = h("div", { id: "counts-body", class: "counts-body" }, loadingState("Loading counts…"));
  const readout = h("span", { id: "counts-readout", class: "counts-readout muted", "aria-live": "polite" });
  const tableButton = h("button", { id: "counts-as-table", type: "button", class: "button button-ghost button-small", "aria-pressed": "false" }, "Table");
  tableButton.addEventListener("click", () => {
    asTable = !asTable;
    tableButton.setAttribute("aria-pressed", String(asTable));
    load();
  });
  const periods = segmentedFilter({
    id: "counts-period",
    label: "Period",
    options: PERIODS.map(([key, text]) => [key, text]),
    value: period[0],
    onPick: (key) => {
      period = PERIODS.find(([each]) => each === key) || PERIODS[0];
      load();
    },
  });

  async function load() {
    loading?.abort();
    const mine = new AbortController();
    loading = mine;
    const [, , hours, bin] = period;
    const until = new Date();
    const since = new Date(until.getTime() - hours * HOUR_MS);
    body.setAttribute("aria-busy", "true");
    try {
      /** @type {Counts} */
      const counts = await request(`/api/cameras/${camera.id}/analytics/counts`, {
        query: { since: since.toISOString(), until: until.toISOString(), bin },
        signal: AbortSignal.any([signal, mine.signal]),
      });
      show(counts, hours > 24);
    } catch (error) {
      if (!isQuiet(error)) replaceChildren(body, errorState(error, load));
    } finally {
      if (loading === mine) body.removeAttribute("aria-busy");
    }
  }

  /**
   * @param {Counts} counts
   * @param {boolean} week
   */
  function show(counts, week) {
    const lines = linesOf(counts);
    const starts = counts.bins.map((bin) => Date.parse(bin));
    const end = Date.parse(counts.end);
    readout.textContent = "";
    redraw = null;
    if (!lines.some((line) => line.total > 0)) {
      body.dataset.state = "empty";
      replaceChildren(
        body,
        camera.stream?.analytics
          ? emptyState("Nothing counted in this period.")
          : emptyState("Not analysed: the video analytics does not watch this camera, so nothing is counted."),
      );
      return;
    }
    body.dataset.state = "shown";
    if (asTable) {
      replaceChildren(body, table(lines, starts, end, week));
      return;
    }
    const edge = (/** @type {number} */ index) => (index + 1 < starts.length ? starts[index + 1] : end);
    redraw = () => {
      drawnWidth = Math.max(NARROWEST, body.clientWidth - 28);
      replaceChildren(
        body,
        chart(lines, starts, week, drawnWidth, (index) => {
          readout.textContent =
            index === null
              ? ""
              : `${binText(starts[index], edge(index), true)}: ${lines.map((line) => `${formatCount(line.counts[index])} ${line.text.toLowerCase()}`).join(", ")}`;
        }),
        h(
          "ul",
          { class: "counts-legend" },
          lines.map((line) => h("li", {}, h("span", { class: `count-swatch bar-${line.key}`, "aria-hidden": "true" }), line.text)),
        ),
      );
    };
    redraw();
  }

  const resized = new ResizeObserver(() => {
    if (redraw && !asTable && Math.abs(Math.max(NARROWEST, body.clientWidth - 28) - drawnWidth) > 8) redraw();
  });
  resized.observe(body);
  signal.addEventListener("abort", () => resized.disconnect());

  load();
  return h(
    "section",
    { id: "counts-panel", class: "panel counts-panel", "aria-labelledby": "counts-title" },
    h(
      "div",
      { class: "panel-head" },
      h("h2", { id: "counts-title", class: "panel-title" }, "Counts of city life"),
      readout,
      h(
        "div",
        { class: "counts-tools" },
        periods,
        tableButton,
        eventsLink ? h("a", { id: "camera-events", class: "button button-ghost button-small", href: `#/events?camera_id=${camera.id}` }, "Events of this camera") : null,
      ),
    ),
    body,
  );
}
