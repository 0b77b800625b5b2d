// @ts-check
// KPIs: the programme's figures for a period, per district — clearance, video used, camera
// uptime and recording completeness, operator response P50/P90, incidents per district and
// flows of people and vehicles. Each card says what its figure measures (the server's words)
// and shows the counts behind every share. The period and district live in the hash.

/** @import { District } from "../api-types.js" */
/** @import { ViewContext } from "../router.js" */

import { isQuiet, request } from "../api.js";
import { loadDistricts } from "../catalog.js";
import { cityDay, dayStart, shiftDay, zoneLabel } from "../clock.js";
import { h, replaceChildren } from "../dom.js";
import { formatCount, formatDuration } from "../format.js";
import { mayReadKpis } from "../permissions.js";
import { replaceQuery } from "../router.js";
import * as session from "../session.js";
import { emptyState, errorState, loadingState } from "../states.js";

/**
 * @typedef {{ id: number | null, name: string }} DistrictRef
 * @typedef {{ registered: number, solved: number, rate: number | null }} Clearance
 * @typedef {Clearance & { district?: DistrictRef | null, kind?: string | null, period?: string | null }} ClearanceRow
 * @typedef {{ incidents: number, with_video: number, with_clips: number, with_exports: number, share: number | null }} VideoUse
 * @typedef {{ active_cameras: number, cameras_recorded: number, expected_seconds: number, recorded_seconds: number,
 *   completeness: number | null, expected_hours: number, hours_up: number, uptime: number | null }} Recording
 * @typedef {{ count: number, pending: number, p50_seconds: number | null, p90_seconds: number | null }} Step
 * @typedef {{ acknowledge: Step, dispatch: Step, accept: Step }} Response
 * @typedef {{ district: DistrictRef, people: number, vehicles: number, people_by_hour: number[], vehicles_by_hour: number[] }} FlowRow
 * @typedef {object} KpiReport
 * @property {string} since
 * @property {string} until
 * @property {string} time_zone
 * @property {{ definition: string, total: Clearance, by_district: ClearanceRow[], by_kind: ClearanceRow[], by_period: ClearanceRow[] }} clearance
 * @property {{ definition: string, total: VideoUse, by_district: Array<VideoUse & { district: DistrictRef }> }} video_use
 * @property {{ definition: string, total: Recording, by_district: Array<Recording & { district: DistrictRef }>, purged_segments: number }} recording
 * @property {{ definition: string, total: Response, by_district: Array<Response & { district: DistrictRef }> }} response
 * @property {{ definition: string, total: number, by_district: Array<{ district: DistrictRef, incidents: number, population: number | null, per_10k: number | null }> }} incidents
 * @property {{ definition: string, present: boolean, people: number, vehicles: number, by_district: FlowRow[] }} flows
 */

/** @type {Array<[key: string, text: string, days: number]>} */
const PRESETS = [
  ["30d", "30 days", 30],
  ["90d", "90 days", 90],
  ["365d", "12 months", 365],
];
const DAY_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

/** @param {number | null} value */
function percent(value) {
  return value === null ? "—" : `${(value * 100).toFixed(1)} %`;
}

/** @param {number | null} seconds */
function duration(seconds) {
  return seconds === null ? "—" : formatDuration(seconds);
}

/**
 * A bar as wide as `share` of its cell (0 … 1), for reading a column at a glance.
 * @param {number | null} share
 * @param {string} [tone]
 */
function bar(share, tone = "") {
  const width = share === null ? 0 : Math.max(0, Math.min(1, share)) * 100;
  const fill = h("span", { class: "kpi-bar-fill" });
  fill.style.width = `${width.toFixed(1)}%`; // through the CSSOM: the CSP refuses style attributes
  return h("span", { class: `kpi-bar ${tone}`, "aria-hidden": "true" }, fill);
}

/**
 * @param {string} id
 * @param {string} title
 * @param {string} definition
 * @param {Node} headline
 * @param {...Node | null} body
 */
function card(id, title, definition, headline, ...body) {
  return h(
    "section",
    { id, class: "panel kpi-card", "aria-labelledby": `${id}-title` },
    h("div", { class: "panel-head" }, h("h2", { id: `${id}-title`, class: "panel-title" }, title)),
    h("div", { class: "kpi-body" }, headline, body, h("p", { class: "kpi-definition" }, definition)),
  );
}

/**
 * @param {string} figure
 * @param {string} words
 */
function headline(figure, words) {
  return h("p", { class: "kpi-headline" }, h("strong", { class: "kpi-figure" }, figure), h("span", { class: "muted" }, words));
}

/**
 * @param {string[]} heads
 * @param {Array<Array<Node | string>>} rows
 */
function table(heads, rows) {
  return h(
    "table",
    { class: "data-table kpi-table" },
    h("thead", {}, h("tr", {}, heads.map((head) => h("th", { scope: "col" }, head)))),
    h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((cell) => h("td", {}, cell))))),
  );
}

/**
 * A share with its bar and its counts: "60.0 % ▮▮▮▯ 3 / 5".
 * @param {number | null} share
 * @param {number} part
 * @param {number} whole
 */
function shareCell(share, part, whole) {
  return h("span", { class: "kpi-share" }, h("span", { class: "kpi-percent" }, percent(share)), bar(share), h("span", { class: "muted" }, `${formatCount(part)} / ${formatCount(whole)}`));
}

/**
 * Twenty-four small bars, one per hour of the city's day.
 * @param {number[]} values
 * @param {string} label
 * @param {string} tone
 */
function hourBars(values, label, tone) {
  const most = Math.max(1, ...values);
  return h(
    "span",
    { class: `kpi-hours ${tone}`, role: "img", "aria-label": label },
    values.map((value, hour) => {
      const column = h("span", { class: "kpi-hour", title: `${String(hour).padStart(2, "0")}:00 ${formatCount(value)}` });
      column.style.height = `${((value / most) * 100).toFixed(1)}%`;
      return column;
    }),
  );
}

/** @param {KpiReport} report */
function clearanceCard(report) {
  const { definition, total, by_district, by_kind, by_period } = report.clearance;
  return card(
    "kpi-clearance",
    "Clearance rate",
    definition,
    headline(percent(total.rate), `${formatCount(total.solved)} of ${formatCount(total.registered)} crimes solved`),
    table(
      ["District", "Solved / registered"],
      by_district.map((row) => [row.district?.name || "—", shareCell(row.rate, row.solved, row.registered)]),
    ),
    h(
      "div",
      { class: "kpi-columns" },
      table(
        ["Kind", "Solved / registered"],
        by_kind.map((row) => [row.kind || "—", shareCell(row.rate, row.solved, row.registered)]),
      ),
      table(
        ["Period", "Solved / registered"],
        by_period.map((row) => [row.period || "—", shareCell(row.rate, row.solved, row.registered)]),
      ),
    ),
  );
}

/** @param {KpiReport} report */
function videoCard(report) {
  const { definition, total, by_district } = report.video_use;
  return card(
    "kpi-video",
    "Incidents with recorded video",
    definition,
    headline(percent(total.share), `${formatCount(total.with_video)} of ${formatCount(total.incidents)} incidents`),
    table(
      ["District", "With video", "Clips", "Exports"],
      by_district.map((row) => [row.district.name, shareCell(row.share, row.with_video, row.incidents), formatCount(row.with_clips), formatCount(row.with_exports)]),
    ),
  );
}

/** @param {KpiReport} report */
function recordingCard(report) {
  const { definition, total, by_district, purged_segments } = report.recording;
  return card(
    "kpi-recording",
    "Camera uptime and recording completeness",
    definition,
    headline(
      percent(total.completeness),
      `of the expected recording is there · uptime ${percent(total.uptime)} · ${formatCount(total.cameras_recorded)} of ${formatCount(total.active_cameras)} active cameras recorded`,
    ),
    table(
      ["District", "Cameras recorded", "Completeness", "Uptime (hours up)"],
      by_district.map((row) => [
        row.district.name,
        `${formatCount(row.cameras_recorded)} / ${formatCount(row.active_cameras)}`,
        h("span", { class: "kpi-share" }, h("span", { class: "kpi-percent" }, percent(row.completeness)), bar(row.completeness, "kpi-bar-ok"), h("span", { class: "muted" }, `${formatDuration(row.recorded_seconds)} recorded`)),
        shareCell(row.uptime, row.hours_up, row.expected_hours),
      ]),
    ),
    purged_segments ? h("p", { class: "kpi-note" }, `Retention deleted ${formatCount(purged_segments)} segments of this period: the figures are lower by them.`) : null,
  );
}

/** @param {Step} step */
function stepCell(step) {
  return h(
    "span",
    { class: "kpi-step" },
    h("span", {}, `P50 ${duration(step.p50_seconds)}`),
    h("span", {}, `P90 ${duration(step.p90_seconds)}`),
    h("span", { class: "muted" }, `${formatCount(step.count)} done${step.pending ? ` · ${formatCount(step.pending)} pending` : ""}`),
  );
}

/** @param {KpiReport} report */
function responseCard(report) {
  const { definition, total, by_district } = report.response;
  return card(
    "kpi-response",
    "Operator response",
    definition,
    headline(duration(total.acknowledge.p50_seconds), `median alert → acknowledged · dispatch P50 ${duration(total.dispatch.p50_seconds)} · accept P50 ${duration(total.accept.p50_seconds)}`),
    table(
      ["District", "Alert → acknowledged", "Opened → dispatched", "Dispatched → accepted"],
      [
        ...by_district.map((row) => [row.district.name, stepCell(row.acknowledge), stepCell(row.dispatch), stepCell(row.accept)]),
        [h("strong", {}, "All"), stepCell(total.acknowledge), stepCell(total.dispatch), stepCell(total.accept)],
      ],
    ),
  );
}

/** @param {KpiReport} report */
function incidentsCard(report) {
  const { definition, total, by_district } = report.incidents;
  const most = Math.max(1, ...by_district.map((row) => row.incidents));
  return card(
    "kpi-incidents",
    "Incidents per district",
    definition,
    headline(formatCount(total), total === 1 ? "incident opened" : "incidents opened"),
    table(
      ["District", "Incidents", "Per 10,000 residents"],
      by_district.map((row) => [
        row.district.name,
        h("span", { class: "kpi-share" }, h("span", { class: "kpi-percent" }, formatCount(row.incidents)), bar(row.incidents / most)),
        row.per_10k === null ? "—" : row.per_10k.toFixed(2),
      ]),
    ),
  );
}

/** @param {KpiReport} report */
function flowsCard(report) {
  const { definition, present, people, vehicles, by_district } = report.flows;
  if (!present) {
    return card("kpi-flows", "Flows of people and vehicles", definition, headline("No counts", "the video analytics counted nothing in this period"));
  }
  return card(
    "kpi-flows",
    "Flows of people and vehicles",
    definition,
    headline(formatCount(people), `people · ${formatCount(vehicles)} vehicles counted`),
    table(
      ["District", "People", "by hour (0–23)", "Vehicles", "by hour (0–23)"],
      by_district.map((row) => [
        row.district.name,
        formatCount(row.people),
        hourBars(row.people_by_hour, `People in ${row.district.name} by hour`, "kpi-people"),
        formatCount(row.vehicles),
        hourBars(row.vehicles_by_hour, `Vehicles in ${row.district.name} by hour`, "kpi-vehicles"),
      ]),
    ),
  );
}

/**
 * @param {HTMLElement} outlet
 * @param {ViewContext} context
 */
export function mount(outlet, { query, signal }) {
  if (!mayReadKpis(session.signedIn())) {
    outlet.replaceChildren(h("section", { class: "page" }, emptyState("The city's KPIs are not part of your role.")));
    return;
  }
  const today = cityDay();
  let from = DAY_PATTERN.test(query.from || "") ? String(query.from) : shiftDay(today, -30);
  let to = DAY_PATTERN.test(query.to || "") ? String(query.to) : today;
  let districtId = /^\d+$/.test(query.district_id || "") ? String(query.district_id) : "";

  const fromInput = h("input", { id: "kpi-from", class: "input input-day", type: "text", inputmode: "numeric", placeholder: "YYYY-MM-DD", autocomplete: "off", value: from });
  const toInput = h("input", { id: "kpi-to", class: "input input-day", type: "text", inputmode: "numeric", placeholder: "YYYY-MM-DD", autocomplete: "off", value: to });
  const district = h("select", { id: "kpi-district", class: "select" }, h("option", { value: "" }, "All my districts"));
  const message = h("p", { id: "kpi-message", class: "form-message form-error", role: "alert" });
  const results = h("div", { id: "kpi-results", class: "kpi-grid" }, loadingState("Computing the KPIs…"));
  const presets = PRESETS.map(([key, text, days]) =>
    h(
      "button",
      {
        type: "button",
        class: "button button-ghost button-small",
        dataset: { preset: key },
        onclick: () => {
          fromInput.value = shiftDay(today, -days);
          toInput.value = today;
          submit();
        },
      },
      text,
    ),
  );
  const form = h(
    "form",
    { id: "kpi-form", class: "events-form kpi-form", onsubmit: (event) => (event.preventDefault(), submit()) },
    h(
      "div",
      { class: "events-time" },
      h("label", { class: "field", for: "kpi-from" }, h("span", { class: "field-label" }, "From (day)"), fromInput),
      h("label", { class: "field", for: "kpi-to" }, h("span", { class: "field-label" }, "To (day, included)"), toInput),
      h("div", { class: "events-presets", role: "group", "aria-label": "Period" }, presets),
      h("label", { class: "field", for: "kpi-district" }, h("span", { class: "field-label" }, "District"), district),
      h("button", { id: "kpi-show", type: "submit", class: "button button-primary" }, "Show"),
      h("span", { class: "muted events-zone" }, `City days (${zoneLabel()})`),
    ),
    message,
  );
  outlet.replaceChildren(
    h(
      "section",
      { class: "page page-kpis", "aria-labelledby": "kpi-title" },
      h("div", { class: "toolbar" }, h("h1", { id: "kpi-title", class: "page-title" }, "KPIs"), h("span", { class: "muted" }, "The programme's figures for a period, in the districts you see")),
      form,
      h("div", { class: "kpi-scroll" }, results),
    ),
  );

  loadDistricts()
    .then((/** @type {District[]} */ districts) => {
      for (const one of districts.filter((d) => d.in_scope).sort((a, b) => a.name.localeCompare(b.name))) {
        district.append(h("option", { value: String(one.id), selected: String(one.id) === districtId }, one.name));
      }
    })
    .catch(() => {});

  function submit() {
    const start = fromInput.value.trim();
    const end = toInput.value.trim();
    if (!DAY_PATTERN.test(start) || !DAY_PATTERN.test(end)) {
      message.textContent = "Give From and To as days, like 2026-03-01.";
      return;
    }
    if (end < start) {
      message.textContent = "To must not come before From.";
      return;
    }
    message.textContent = "";
    from = start;
    to = end;
    districtId = district.value;
    replaceQuery("/kpis", { from, to, ...(districtId ? { district_id: districtId } : {}) });
    load();
  }

  async function load() {
    replaceChildren(results, loadingState("Computing the KPIs…"));
    /** @type {Record<string, string>} */
    const params = { since: dayStart(from).toISOString(), until: dayStart(shiftDay(to, 1)).toISOString() };
    if (districtId) params.district_id = districtId;
    try {
      /** @type {KpiReport} */
      const report = await request("/api/insights/kpis", { query: params, signal });
      replaceChildren(results, clearanceCard(report), videoCard(report), recordingCard(report), responseCard(report), incidentsCard(report), flowsCard(report));
      results.dataset.state = "shown";
    } catch (error) {
      if (isQuiet(error)) return;
      replaceChildren(results, errorState(error, load));
    }
  }

  load();
}
