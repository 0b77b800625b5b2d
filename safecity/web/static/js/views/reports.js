// @ts-check
// Reports: a city's or a district's figures for a period (crime with its changes, the camera
// fleet, incidents; charts and a map) as a PDF or an HTML file, made by the server
// (GET /api/insights/report) for the districts this user may see, and downloaded.

/** @import { District } from "../api-types.js" */
/** @import { ViewContext } from "../router.js" */

import { isQuiet, requestResponse } from "../api.js";
import { loadDistricts } from "../catalog.js";
import { h } from "../dom.js";
import { mayMakeReports } from "../permissions.js";
import * as session from "../session.js";
import { emptyState, errorText } from "../states.js";

const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const YEARS_BACK = 6;

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
 * @param {Array<[value: string, text: string]>} options
 * @param {string} value
 */
function select(id, options, value) {
  return h(
    "select",
    { id, class: "select" },
    options.map(([optionValue, text]) => h("option", { value: optionValue, selected: optionValue === value }, text)),
  );
}

/**
 * The file's name from Content-Disposition, or a plain one.
 * @param {Response} response
 * @param {string} fallback
 */
function fileName(response, fallback) {
  const header = response.headers.get("content-disposition") || "";
  const found = /filename="([^"]+)"/.exec(header);
  return found ? found[1] : fallback;
}

/**
 * @param {HTMLElement} outlet
 * @param {ViewContext} context
 */
export function mount(outlet, { signal }) {
  if (!mayMakeReports(session.signedIn())) {
    outlet.replaceChildren(h("section", { class: "page" }, emptyState("Reports are for analysts, administrators and akimats.")));
    return;
  }
  const today = new Date();
  // The last whole quarter: the one a report is usually asked for.
  const lastQuarterIndex = today.getFullYear() * 4 + Math.floor(today.getMonth() / 3) - 1;
  const years = Array.from({ length: YEARS_BACK }, (_, index) => String(today.getFullYear() - index));
  const kind = select("report-kind", [["quarter", "Quarter"], ["month", "Month"], ["year", "Year"]], "quarter");
  const year = select("report-year", years.map((y) => [y, y]), String(Math.floor(lastQuarterIndex / 4)));
  const quarter = select("report-quarter", [1, 2, 3, 4].map((q) => [String(q), `Q${q}`]), String((lastQuarterIndex % 4) + 1));
  const month = select("report-month", MONTHS.map((name, index) => [String(index + 1).padStart(2, "0"), name]), String(today.getMonth() + 1).padStart(2, "0"));
  const district = select("report-district", [["", "Loading districts…"]], "");
  const pdf = h("input", { id: "report-format-pdf", type: "radio", name: "report-format", value: "pdf", checked: true });
  const html = h("input", { id: "report-format-html", type: "radio", name: "report-format", value: "html" });
  const quarterField = field("report-quarter", "Quarter", quarter);
  const monthField = field("report-month", "Month", month);
  const submit = h("button", { id: "report-download", type: "submit", class: "button button-primary" }, "Download report");
  const message = h("p", { id: "report-message", class: "form-message", role: "status" });

  function period() {
    if (kind.value === "year") return year.value;
    if (kind.value === "month") return `${year.value}-${month.value}`;
    return `${year.value}-Q${quarter.value}`;
  }

  function showPeriodFields() {
    quarterField.hidden = kind.value !== "quarter";
    monthField.hidden = kind.value !== "month";
  }
  kind.addEventListener("change", showPeriodFields);
  showPeriodFields();

  loadDistricts()
    .then((districts) => {
      if (signal.aborted) return;
      /** @type {District[]} */
      const mine = districts.filter((d) => d.in_scope);
      const whole = mine.length === districts.length ? "Whole city" : "All my districts";
      district.replaceChildren(h("option", { value: "" }, whole), ...mine.map((d) => h("option", { value: String(d.id) }, d.name)));
    })
    .catch((error) => {
      if (isQuiet(error)) return;
      message.className = "form-message form-error";
      message.textContent = `Districts could not be loaded: ${errorText(error)}`;
    });

  /** @param {SubmitEvent} event */
  async function download(event) {
    event.preventDefault();
    const format = html.checked ? "html" : "pdf";
    submit.disabled = true;
    message.className = "form-message";
    message.textContent = `Making the ${format.toUpperCase()} report for ${period()}…`;
    try {
      const response = await requestResponse("/api/insights/report", {
        query: { period: period(), district_id: district.value, format },
        signal,
      });
      const name = fileName(response, `safecity-report-${period()}.${format}`);
      const url = URL.createObjectURL(await response.blob());
      h("a", { href: url, download: name }).click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      message.textContent = `Downloaded ${name}.`;
    } catch (error) {
      if (isQuiet(error)) return;
      message.className = "form-message form-error";
      message.textContent = errorText(error);
    } finally {
      submit.disabled = false;
    }
  }

  outlet.replaceChildren(
    h(
      "section",
      { class: "page page-reports" },
      h("div", { class: "toolbar" }, h("h1", { id: "reports-title", class: "page-title" }, "Reports")),
      h(
        "div",
        { class: "reports-body" },
        h(
          "form",
          { id: "report-form", class: "reports-form", onsubmit: download },
          h("h2", { class: "reports-heading" }, "Safety report for a period"),
          h(
            "p",
            { class: "muted" },
            "Registered crime by district, kind and place against the period before and the same period a year earlier, " +
              "the camera fleet and the OCC's incidents, with charts and a map. A4, ready to print or send.",
          ),
          h("div", { class: "reports-row" }, field("report-kind", "Period", kind), field("report-year", "Year", year), quarterField, monthField),
          h("div", { class: "reports-row" }, field("report-district", "Area", district)),
          h(
            "fieldset",
            { class: "reports-format" },
            h("legend", { class: "field-label" }, "Format"),
            h("label", { for: "report-format-pdf" }, pdf, " PDF"),
            h("label", { for: "report-format-html" }, html, " HTML page"),
          ),
          h("div", { class: "form-actions" }, submit),
          message,
        ),
      ),
    ),
  );
}
