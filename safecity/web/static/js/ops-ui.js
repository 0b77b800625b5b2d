// @ts-check
// Pieces the alert and incident screens share: the priority chip, status badges, a segmented
// filter, a titled panel, an inline "why?" form for the actions that need a reason, and a
// short beep.

/** @import { Child } from "./dom.js" */

import { h } from "./dom.js";
import { hrefFor } from "./router.js";
import { priorityWord, statusWord } from "./ops-words.js";

/** @param {number} priority */
export function priorityChip(priority) {
  return h("span", { class: `priority priority-${priority}`, title: priorityWord(priority) }, `P${priority}`);
}

/**
 * @param {"alert" | "incident"} kind
 * @param {string} status
 */
export function opsBadge(kind, status) {
  return h("span", { class: `badge ${kind}-status-${status}`, dataset: { status } }, statusWord(status));
}

/**
 * Buttons that pick one of `options` ([value, text]); `onPick(value)` on a click.
 * @param {object} filter
 * @param {string} filter.id
 * @param {string} filter.label
 * @param {Array<[value: string, text: string]>} filter.options
 * @param {string} filter.value
 * @param {(value: string) => void} filter.onPick
 */
export function segmentedFilter({ id, label, options, value, onPick }) {
  const buttons = options.map(([optionValue, text]) => {
    const button = h("button", { type: "button", class: "segment", "aria-pressed": String(optionValue === value), dataset: { value: optionValue } }, text);
    button.addEventListener("click", () => {
      for (const other of buttons) other.setAttribute("aria-pressed", String(other === button));
      onPick(optionValue);
    });
    return button;
  });
  return h("div", { id, class: "segmented", role: "group", "aria-label": label }, buttons);
}

/**
 * A panel of the OCC's screens: `id`, a heading saying `title`, then `content`.
 * @param {string} id
 * @param {string} title
 * @param {...Child} content
 */
export function panel(id, title, ...content) {
  return h(
    "section",
    { id, class: "panel ops-panel", "aria-labelledby": `${id}-title` },
    h("div", { class: "panel-head" }, h("h2", { id: `${id}-title`, class: "panel-title" }, title)),
    h("div", { class: "panel-body" }, content),
  );
}

/**
 * A small form asking why (rejecting a dispatch, skipping an SOP step): the reason is
 * required, so Confirm stays disabled until something is typed. `onConfirm(reason)` may
 * return a promise; its rejection is shown in the form and the form stays open.
 * @param {object} form
 * @param {string} form.prompt
 * @param {string} form.confirmText
 * @param {(reason: string) => unknown} form.onConfirm
 * @param {() => void} form.onCancel
 * @param {boolean} [form.danger]
 */
export function reasonForm({ prompt, confirmText, onConfirm, onCancel, danger = false }) {
  const input = h("textarea", { class: "input textarea reason-input", rows: 2, maxlength: 2000, required: true, "aria-label": prompt });
  const confirm = h("button", { type: "submit", class: `button ${danger ? "button-danger" : "button-primary"}`, disabled: true }, confirmText);
  const message = h("p", { class: "form-message form-error", role: "alert" });
  const form = h(
    "form",
    { class: "reason-form" },
    h("label", { class: "field" }, h("span", { class: "field-label" }, prompt), input),
    h("div", { class: "form-actions" }, confirm, h("button", { type: "button", class: "button button-ghost", onclick: onCancel }, "Cancel"), message),
  );
  input.addEventListener("input", () => {
    confirm.disabled = !input.value.trim();
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const reason = input.value.trim();
    if (!reason) return;
    confirm.disabled = true;
    message.textContent = "";
    try {
      await onConfirm(reason);
    } catch (error) {
      message.textContent = error instanceof Error ? error.message : String(error); // an ApiError's message is its detail
      confirm.disabled = false;
    }
  });
  queueMicrotask(() => input.focus());
  return form;
}

/** @type {AudioContext | null} */
let audio = null;

/** A short two-tone beep for a new alert (made here: the console loads no sound files). */
export function beep() {
  try {
    audio ||= new AudioContext();
    const now = audio.currentTime;
    for (const [offset, frequency] of [
      [0, 880],
      [0.16, 660],
    ]) {
      const tone = audio.createOscillator();
      const gain = audio.createGain();
      tone.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, now + offset);
      gain.gain.exponentialRampToValueAtTime(0.2, now + offset + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + offset + 0.14);
      tone.connect(gain).connect(audio.destination);
      tone.start(now + offset);
      tone.stop(now + offset + 0.15);
    }
  } catch {
    // no audio device: the highlight still shows the alert
  }
}

/** The camera page opened at a moment: live video, and its recording from `lead` seconds
 * before `when` (an alert's first sighting, an incident's opening).
 * @param {number} cameraId
 * @param {string} when
 * @param {number} [lead]
 */
export function cameraAt(cameraId, when, lead = 30) {
  const at = new Date(Date.parse(when) - lead * 1000);
  return hrefFor(`/cameras/${cameraId}`, { at: at.toISOString() });
}
