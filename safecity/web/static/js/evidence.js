// @ts-check
// Evidence export from the camera page: a range and a reason in, a signed package out (the
// clip, a manifest, its Ed25519 signature), plus the camera's past exports. The server pins the
// exported recordings with a legal hold and logs who exported what and why (docs/evidence.md).

/** @import { Camera, EvidenceRecord, Page } from "./api-types.js" */
/** @import { Child } from "./dom.js" */

import { ApiError, isQuiet, request } from "./api.js";
import { h } from "./dom.js";
import { formatBytes, formatCount, formatDateTime, formatSpan, serverWords } from "./format.js";
import { rangeFields } from "./range-fields.js";
import { emptyState, errorText } from "./states.js";

const MAX_REASON_CHARS = 2000; // MAX_REASON_CHARS in safecity/video/evidence.py
const LIST_LIMIT = 20;

/** @param {unknown} error */
function exportError(error) {
  if (error instanceof ApiError && error.status === 422) return `Not exported: ${serverWords(error.detail)}`;
  if (error instanceof ApiError && error.status === 403) return "Your role may not export evidence.";
  if (error instanceof ApiError && error.status === 503) return serverWords(error.detail);
  return errorText(error);
}

/**
 * @param {EvidenceRecord} record
 * @param {string} text
 */
function downloadLink(record, text) {
  return h("a", { class: "download-link", href: record.download_url, download: "" }, text);
}

/** @param {EvidenceRecord} record */
function resultCard(record) {
  /**
   * @param {string} key
   * @param {string} name
   * @param {Child} value
   */
  const fact = (key, name, value) => [h("dt", {}, name), h("dd", { dataset: { field: key } }, value)];
  return [
    h(
      "div",
      { class: "result-head" },
      h("strong", {}, "Evidence package created"),
      h(
        "a",
        { id: "evidence-download", class: "button button-primary button-small", href: record.download_url, download: "" },
        `Download package (${formatBytes(record.bytes)})`,
      ),
    ),
    h(
      "dl",
      { class: "fields result-fields" },
      fact("package", "Package", h("span", { class: "mono" }, record.package_id)),
      fact("range", "Exported", formatSpan(record.starts_at, record.ends_at)),
      fact("clip", "Clip", formatBytes(record.clip_bytes)),
      fact("fingerprint", "Key fingerprint", h("code", { id: "evidence-fingerprint", class: "hash" }, record.key_fingerprint)),
      fact("manifest", "Manifest SHA-256", h("code", { class: "hash" }, record.manifest_sha256)),
      fact("hold", "Legal hold", record.hold_id ? `#${record.hold_id} keeps the source recordings` : "—"),
    ),
  ];
}

/** @param {EvidenceRecord} record */
function exportRow(record) {
  return h(
    "tr",
    { class: "evidence-row", dataset: { packageId: record.package_id } },
    h("td", { class: "nowrap" }, formatDateTime(record.exported_at)),
    h("td", { class: "nowrap" }, formatSpan(record.starts_at, record.ends_at)),
    h("td", {}, record.exported_by),
    h("td", { class: "cell-reason" }, record.reason),
    h("td", { class: "nowrap num" }, formatBytes(record.bytes)),
    h("td", {}, downloadLink(record, "Download")),
  );
}

/** @param {Page<EvidenceRecord>} page */
function exportTable(page) {
  if (!page.items.length) return emptyState("No evidence has been exported from this camera yet.");
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "data-table compact-table" },
      h(
        "thead",
        {},
        h("tr", {}, ["Exported", "Range", "By", "Reason", "Size", ""].map((name) => h("th", { scope: "col" }, name))),
      ),
      h("tbody", {}, page.items.map(exportRow)),
    ),
  );
}

/**
 * The evidence panel of `camera`. Returns {element, setRange(start, end)}; `onExported(record)`
 * hears each new package (the holds list shows the hold it placed).
 * @param {Camera} camera
 * @param {{ signal: AbortSignal, onExported?: (record: EvidenceRecord) => void }} options
 */
export function evidencePanel(camera, { signal, onExported = () => {} }) {
  const range = rangeFields("evidence");
  const reason = h("textarea", {
    id: "evidence-reason",
    class: "input textarea",
    rows: "2",
    maxlength: String(MAX_REASON_CHARS),
    required: true,
    placeholder: "Case or request number, and what the video is for",
  });
  const submit = h("button", { id: "evidence-submit", type: "submit", class: "button button-primary" }, "Export evidence package");
  const message = h("p", { id: "evidence-message", class: "form-message", role: "status" });
  const result = h("div", { id: "evidence-result", class: "result-card", hidden: true });
  const count = h("span", { id: "evidence-count", class: "muted" });
  const list = h("div", { id: "evidence-list", class: "evidence-list" });
  const form = h(
    "form",
    { id: "evidence-form", class: "range-form", novalidate: true },
    range.element,
    h("label", { class: "field", for: "evidence-reason" }, h("span", { class: "field-label" }, "Reason (required)"), reason),
    h("div", { class: "form-actions" }, submit, message),
    h("p", { class: "form-hint muted" }, "From and To follow the recording you play. The package is signed, its range is kept from deletion, and the export is logged with your name and reason."),
  );

  /** @param {string} text */
  function fail(text) {
    message.textContent = text;
    message.classList.add("form-error");
  }

  /** @param {string} text */
  function tell(text) {
    message.textContent = text;
    message.classList.remove("form-error");
  }

  async function loadList() {
    try {
      /** @type {Page<EvidenceRecord>} */
      const page = await request("/api/evidence", { query: { camera_id: camera.id, limit: LIST_LIMIT }, signal });
      count.textContent = page.total ? `${formatCount(page.total)} exported${page.total > LIST_LIMIT ? `, latest ${LIST_LIMIT} shown` : ""}` : "";
      list.replaceChildren(exportTable(page));
    } catch (error) {
      if (!isQuiet(error)) list.replaceChildren(h("p", { class: "form-error" }, `Cannot load past exports: ${errorText(error)}`));
    }
  }

  async function exportPackage() {
    const asked = range.read(fail);
    if (!asked) return;
    const why = reason.value.trim();
    if (!why) {
      fail("Give a reason: the case or request number and what the video is for.");
      reason.focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = "Exporting…";
    tell("Cutting, checking and signing the package…");
    try {
      /** @type {EvidenceRecord} */
      const record = await request(`/api/cameras/${camera.id}/evidence`, {
        method: "POST",
        body: { start: asked.start.toISOString(), end: asked.end.toISOString(), reason: why },
        signal,
      });
      tell("");
      result.replaceChildren(...resultCard(record));
      result.hidden = false;
      reason.value = "";
      loadList();
      onExported(record);
    } catch (error) {
      if (!isQuiet(error)) fail(exportError(error));
    } finally {
      submit.disabled = false;
      submit.textContent = "Export evidence package";
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    exportPackage();
  });

  const element = h(
    "section",
    { id: "evidence", class: "panel evidence-panel", "aria-labelledby": "evidence-title" },
    h(
      "div",
      { class: "panel-head" },
      h("h2", { id: "evidence-title", class: "panel-title" }, "Evidence export"),
      h("span", { class: "muted" }, "Signed package for investigations and court"),
    ),
    h("div", { class: "panel-body" }, form, result),
    h("div", { class: "panel-subhead" }, h("h3", { class: "group-title" }, "Exports of this camera"), count),
    list,
  );
  loadList();
  return { element, setRange: range.set };
}
