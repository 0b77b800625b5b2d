// @ts-check
// Placeholders a screen shows instead of data: loading, empty, and failed (with a retry).

import { ApiError, NetworkError } from "./api.js";
import { h } from "./dom.js";

/** @param {string} [text] */
export function loadingState(text = "Loading…") {
  return h("div", { class: "state state-loading", role: "status" }, h("span", { class: "spinner", "aria-hidden": "true" }), text);
}

/**
 * @param {string} text
 * @param {Node} [action]
 */
export function emptyState(text, action) {
  return h("div", { class: "state state-empty" }, h("p", {}, text), action || null);
}

/**
 * What went wrong, in words for the person at the console.
 * @param {unknown} error
 */
export function errorText(error) {
  if (error instanceof NetworkError) return "Cannot reach the SafeCity server.";
  if (error instanceof ApiError) {
    if (error.status === 404) return "Not found, or not within your access.";
    if (error.status === 403) return "Your role may not see this.";
    return `The server answered ${error.status}: ${error.detail}`;
  }
  return `Something went wrong: ${(error instanceof Error && error.message) || error}`;
}

/**
 * @param {unknown} error
 * @param {(() => void) | null} [retry]
 */
export function errorState(error, retry) {
  return h(
    "div",
    { class: "state state-error", role: "alert" },
    h("p", {}, errorText(error)),
    retry ? h("button", { type: "button", class: "button", onclick: retry }, "Try again") : null,
  );
}
