// Placeholders a screen shows instead of data: loading, empty, and failed (with a retry).

import { NetworkError } from "./api.js";
import { h } from "./dom.js";

export function loadingState(text = "Loading…") {
  return h("div", { class: "state state-loading", role: "status" }, h("span", { class: "spinner", "aria-hidden": "true" }), text);
}

export function emptyState(text, action) {
  return h("div", { class: "state state-empty" }, h("p", {}, text), action || null);
}

export function errorText(error) {
  if (error instanceof NetworkError) return "Cannot reach the SafeCity server.";
  if (error?.status === 404) return "Not found, or not within your access.";
  if (error?.status === 403) return "Your role may not see this.";
  if (error?.status) return `The server answered ${error.status}: ${error.detail}`;
  return `Something went wrong: ${error?.message || error}`;
}

export function errorState(error, retry) {
  return h(
    "div",
    { class: "state state-error", role: "alert" },
    h("p", {}, errorText(error)),
    retry ? h("button", { type: "button", class: "button", onclick: retry }, "Try again") : null,
  );
}
