// @ts-check
// Legal holds on a camera: stretches of its recordings that retention may not delete until
// released. Evidence exports place one by themselves; the OCC and the police place more by hand
// (an incident, a request from an investigator). Only city-wide roles release them, saying why
// in a second step: a released hold lets retention delete what may be evidence.

/** @import { Camera, Hold, User } from "./api-types.js" */

import { ApiError, isQuiet, request } from "./api.js";
import { h } from "./dom.js";
import { formatDateTime, formatSpan, serverWords } from "./format.js";
import { mayPlaceHolds, mayReleaseHolds } from "./permissions.js";
import { rangeFields } from "./range-fields.js";
import { emptyState, errorText } from "./states.js";

/** @type {Record<string, string>} */
const KINDS = { evidence: "Evidence", incident: "Incident", manual: "Manual" };

/**
 * @param {unknown} error
 * @param {string} verb
 */
function holdError(error, verb) {
  if (error instanceof ApiError && [409, 422].includes(error.status)) return `Not ${verb}: ${serverWords(error.detail)}`;
  return errorText(error);
}

/** @param {Hold} hold */
function holdState(hold) {
  if (hold.active) return h("span", { class: "badge hold-active" }, "Active");
  return h("span", { class: "badge hold-released", title: `Released ${formatDateTime(hold.released_at)}` }, "Released");
}

/** @param {Hold} hold */
function holdLines(hold) {
  const placed = hold.placed_by ? `Placed by ${hold.placed_by}` : "Placed by SafeCity";
  const why = hold.release_reason ? `: ${hold.release_reason}` : "";
  const released = hold.active ? "" : ` · released by ${hold.released_by || "SafeCity"} ${formatDateTime(hold.released_at)}${why}`;
  return [
    h(
      "div",
      { class: "hold-line" },
      holdState(hold),
      h("span", { class: "hold-kind" }, KINDS[hold.kind] || hold.kind),
      h("span", { class: "hold-range" }, formatSpan(hold.start, hold.end)),
    ),
    h("div", { class: "hold-reason" }, hold.reason, hold.reference ? h("span", { class: "muted" }, ` · ${hold.reference}`) : null),
    h("div", { class: "hold-meta muted" }, `${placed} ${formatDateTime(hold.placed_at)}${released}`),
  ];
}

/**
 * The holds panel of `camera` for `user`. Returns {element, setRange(start, end), reload()}.
 * @param {Camera} camera
 * @param {User} user
 * @param {{ signal: AbortSignal }} options
 */
export function holdsPanel(camera, user, { signal }) {
  const list = h("ul", { id: "hold-list", class: "hold-list" });
  const count = h("span", { id: "hold-count", class: "muted" });
  const listMessage = h("p", { id: "hold-message", class: "form-message", role: "status" });
  const range = rangeFields("hold");
  const placing = mayPlaceHolds(user);

  /** @param {Hold} hold */
  function releaseControl(hold) {
    const control = h("div", { class: "hold-release" });
    const start = h("button", { type: "button", class: "button button-small", dataset: { holdId: String(hold.id) } }, "Release");
    const reason = h("input", { class: "input hold-release-reason", maxlength: "2000", required: true, placeholder: "Why the recordings may go" });
    const confirm = h("button", { type: "button", class: "button button-small button-danger" }, "Confirm release");
    const cancel = h("button", { type: "button", class: "button button-small" }, "Cancel");
    const closed = () => control.replaceChildren(start);
    start.addEventListener("click", () => {
      control.replaceChildren(reason, confirm, cancel);
      reason.focus();
    });
    cancel.addEventListener("click", closed);
    confirm.addEventListener("click", async () => {
      if (!reason.value.trim()) {
        listMessage.textContent = "Say why the hold is released: retention may then delete those recordings.";
        reason.focus();
        return;
      }
      confirm.disabled = true;
      try {
        await request(`/api/holds/${hold.id}/release`, { method: "POST", body: { reason: reason.value.trim() }, signal });
        listMessage.textContent = "Hold released: retention may delete those recordings when they are due.";
        reload();
      } catch (error) {
        if (!isQuiet(error)) listMessage.textContent = holdError(error, "released");
        confirm.disabled = false;
      }
    });
    closed();
    return control;
  }

  /** @param {Hold} hold */
  function holdItem(hold) {
    const action = hold.active && mayReleaseHolds(user) ? releaseControl(hold) : null;
    return h(
      "li",
      { class: `hold-item${hold.active ? "" : " hold-item-released"}`, dataset: { holdId: String(hold.id) } },
      h("div", { class: "hold-text" }, holdLines(hold)),
      action,
    );
  }

  async function reload() {
    try {
      /** @type {Hold[]} */
      const holds = await request(`/api/cameras/${camera.id}/holds`, { signal });
      const active = holds.filter((hold) => hold.active).length;
      count.textContent = holds.length ? `${active} active` : "";
      const empty = h("li", {}, emptyState("No holds on this camera's recordings."));
      list.replaceChildren(...(holds.length ? holds.map(holdItem) : [empty]));
      list.dataset.count = String(holds.length);
    } catch (error) {
      if (isQuiet(error)) return;
      if (error instanceof ApiError && error.status === 403) element.remove();
      else list.replaceChildren(h("li", { class: "form-error" }, `Cannot load the holds: ${errorText(error)}`));
    }
  }

  function placeForm() {
    const reason = h("input", { id: "hold-reason", class: "input", maxlength: "2000", required: true, placeholder: "Why these recordings must be kept" });
    const reference = h("input", { id: "hold-reference", class: "input", maxlength: "100", placeholder: "Incident or case number" });
    const submit = h("button", { id: "hold-submit", type: "submit", class: "button" }, "Place hold");
    const message = h("p", { id: "hold-form-message", class: "form-message", role: "status" });
    const form = h(
      "form",
      { id: "hold-form", class: "range-form", novalidate: true },
      range.element,
      h(
        "div",
        { class: "range-fields" },
        h("label", { class: "field", for: "hold-reason" }, h("span", { class: "field-label" }, "Reason (required)"), reason),
        h("label", { class: "field", for: "hold-reference" }, h("span", { class: "field-label" }, "Reference"), reference),
      ),
      h("div", { class: "form-actions" }, submit, message),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const asked = range.read((problem) => {
        message.textContent = problem;
      });
      if (!asked) return;
      if (!reason.value.trim()) {
        message.textContent = "Give a reason for the hold.";
        reason.focus();
        return;
      }
      submit.disabled = true;
      try {
        /** @type {{ start: string, end: string, reason: string, reference?: string }} */
        const body = { start: asked.start.toISOString(), end: asked.end.toISOString(), reason: reason.value.trim() };
        if (reference.value.trim()) body.reference = reference.value.trim();
        await request(`/api/cameras/${camera.id}/holds`, { method: "POST", body, signal });
        message.textContent = "Hold placed.";
        reason.value = "";
        reference.value = "";
        reload();
      } catch (error) {
        if (!isQuiet(error)) message.textContent = holdError(error, "placed");
      } finally {
        submit.disabled = false;
      }
    });
    return h("div", { class: "panel-body hold-place" }, h("h3", { class: "group-title" }, "Place a hold"), form);
  }

  const element = h(
    "section",
    { id: "holds", class: "panel holds-panel", "aria-labelledby": "holds-title" },
    h("div", { class: "panel-head" }, h("h2", { id: "holds-title", class: "panel-title" }, "Legal holds"), count),
    h("p", { class: "panel-note muted" }, "Held recordings are kept past retention until the hold is released."),
    list,
    listMessage,
    placing ? placeForm() : null,
  );
  reload();
  return { element, setRange: range.set, reload };
}
