// @ts-check
// The OCC's shift beside the alert feed: who is on, joining and leaving, ending the shift with
// a handover note, confirming the handover received, and the SLA escalations nobody has
// acknowledged yet (pushed live by the feed). Operators and admins only, as the API.

/** @import { Escalation, Shift, User } from "./api-types.js" */

import { isQuiet, request } from "./api.js";
import { h, replaceChildren } from "./dom.js";
import { formatAgo, formatDateTime, formatDuration } from "./format.js";
import { subscribeWhile } from "./ops-feed.js";
import { panel, priorityChip } from "./ops-ui.js";
import { errorText, loadingState } from "./states.js";

/** @type {Record<string, string>} */
const STAGE_WORDS = {
  acknowledge: "not acknowledged",
  dispatch: "not dispatched",
  accept: "not accepted by the unit",
  arrive: "unit not on scene",
};

/**
 * The shift and escalation panels for `user` (an operator or admin), until `signal` aborts.
 * @param {{ user: User, signal: AbortSignal }} options
 */
export function shiftPanel({ user, signal }) {
  const shiftBody = h("div", { id: "shift-body", class: "shift-body" }, loadingState("Loading the shift…"));
  const escalationList = h("ul", { id: "escalation-list", class: "link-list" });
  const message = h("p", { class: "form-message form-error", role: "alert" });
  const element = h(
    "div",
    { class: "shift-panels" },
    panel("shift-panel", "Shift", shiftBody, message),
    panel("escalation-panel", "Escalations", escalationList),
  );

  /**
   * @param {string} path
   * @param {unknown} [body]
   */
  async function act(path, body) {
    message.textContent = "";
    try {
      await request(path, { method: "POST", body, signal });
      await loadShift();
    } catch (error) {
      if (!isQuiet(error)) message.textContent = errorText(error);
      throw error;
    }
  }

  /**
   * @param {string} id
   * @param {string} text
   * @param {() => Promise<void>} onclick
   * @param {string} [extra]  more classes
   */
  function button(id, text, onclick, extra = "") {
    return h("button", { id, type: "button", class: `button button-small ${extra}`, onclick: () => onclick().catch(() => {}) }, text);
  }

  /** @param {Shift} shift */
  function endForm(shift) {
    const note = h("textarea", { id: "handover-note", class: "input textarea", rows: 3, maxlength: 10000, placeholder: "What the next shift must know", "aria-label": "Handover note" });
    const submit = h("button", { id: "end-shift-submit", type: "submit", class: "button button-primary", disabled: true }, "End shift");
    const form = h(
      "form",
      { class: "reason-form" },
      h("label", { class: "field" }, h("span", { class: "field-label" }, "Handover note (open alerts and incidents are listed for you)"), note),
      h("div", { class: "form-actions" }, submit, h("button", { type: "button", class: "button button-ghost", onclick: () => loadShift() }, "Cancel")),
    );
    note.addEventListener("input", () => {
      submit.disabled = !note.value.trim();
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      submit.disabled = true;
      act(`/api/shifts/${shift.id}/end`, { note: note.value.trim() }).catch(() => {
        submit.disabled = false;
      });
    });
    return form;
  }

  /** @param {Shift | null} shift */
  function drawShift(shift) {
    if (!shift) {
      replaceChildren(shiftBody, h("p", { class: "muted" }, "No shift on."), button("start-shift", "Start shift", () => act("/api/shifts", {}), "button-primary"));
      return;
    }
    const present = shift.operators.filter((op) => !op.left_at);
    const here = present.some((op) => op.username === user.username);
    const received = shift.received_handover;
    replaceChildren(
      shiftBody,
      h(
        "p",
        { id: "shift-summary", class: "shift-summary" },
        `Since ${formatDateTime(shift.started_at)} (${formatDuration((Date.now() - Date.parse(shift.started_at)) / 1000)})`,
        h("span", { class: "sub" }, `Supervisor: ${shift.supervisor}`),
      ),
      h("ul", { id: "shift-operators", class: "chips" }, present.map((op) => h("li", { class: "chip" }, op.username))),
      received && !received.acknowledged_at
        ? h(
            "div",
            { id: "handover-received", class: "handover" },
            h("strong", {}, `Handover from ${received.written_by}, ${formatAgo(received.written_at)}`),
            h("p", { class: "summary-text" }, received.note),
            h("span", { class: "sub" }, `${received.open_alert_count} open alerts · ${received.open_incident_count} open incidents carried over`),
            button("acknowledge-handover", "Confirm handover read", () => act(`/api/handovers/${received.id}/acknowledge`)),
          )
        : null,
      h(
        "div",
        { class: "form-actions" },
        here
          ? button("leave-shift", "Leave shift", () => act(`/api/shifts/${shift.id}/leave`))
          : button("join-shift", "Join shift", () => act(`/api/shifts/${shift.id}/join`), "button-primary"),
        shift.supervisor === user.username || user.role === "admin"
          ? h("button", { id: "end-shift", type: "button", class: "button button-small button-ghost", onclick: () => replaceChildren(shiftBody, endForm(shift)) }, "End shift…")
          : null,
      ),
    );
  }

  async function loadShift() {
    try {
      drawShift(await request("/api/shifts/current", { signal }));
    } catch (error) {
      if (!isQuiet(error)) replaceChildren(shiftBody, h("p", { class: "form-error" }, errorText(error)));
    }
  }

  /** @param {Escalation} escalation */
  function escalationItem(escalation) {
    const what = escalation.incident_id
      ? h("a", { href: `#/incidents/${escalation.incident_id}`, class: "mono" }, escalation.number || `Incident ${escalation.incident_id}`)
      : h("a", { href: "#/alerts" }, `Alert ${escalation.alert_id}`);
    const acknowledge = h("button", { type: "button", class: "button button-small" }, "Acknowledge");
    acknowledge.addEventListener("click", async () => {
      acknowledge.disabled = true;
      try {
        await request(`/api/escalations/${escalation.id}/acknowledge`, { method: "POST", signal });
        await loadEscalations();
      } catch (error) {
        if (isQuiet(error)) return;
        acknowledge.disabled = false;
        acknowledge.title = errorText(error);
      }
    });
    return h(
      "li",
      { class: "escalation", dataset: { escalationId: String(escalation.id) } },
      priorityChip(escalation.priority),
      what,
      h("span", { class: "link-sub" }, `${STAGE_WORDS[escalation.stage] || escalation.stage} · ${formatAgo(escalation.escalated_at)} · to ${escalation.sent_to}`),
      acknowledge,
    );
  }

  async function loadEscalations() {
    try {
      /** @type {Escalation[]} */
      const open = await request("/api/escalations", { signal });
      replaceChildren(escalationList, open.length ? open.map(escalationItem) : h("li", { class: "muted" }, "None open."));
    } catch (error) {
      if (!isQuiet(error)) replaceChildren(escalationList, h("li", { class: "form-error" }, errorText(error)));
    }
  }

  subscribeWhile(signal, "escalation", loadEscalations);
  subscribeWhile(signal, "resync", () => {
    loadShift();
    loadEscalations();
  });
  loadShift();
  loadEscalations();
  return { element };
}
