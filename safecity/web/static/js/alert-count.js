// @ts-check
// The number of new (unacknowledged) alerts on the "Alerts" link in the header, kept current
// by the live feed on every screen, so an operator watching the wall still sees one arrive.

/** @import { Alert } from "./api-types.js" */

import { isQuiet, request } from "./api.js";
import { h } from "./dom.js";
import { subscribe } from "./ops-feed.js";
import { isOcc } from "./permissions.js";
import * as session from "./session.js";

const LIMIT = 500; // the API's largest page; more than that reads "500+"

const fresh = new Set();
let capped = false;
/** @type {AbortController | null} */
let loading = null;
const badge = h("span", { id: "alerts-badge", class: "nav-badge", hidden: true, "aria-label": "new alerts" });

function show() {
  const count = fresh.size;
  badge.textContent = capped ? `${LIMIT}+` : String(count);
  badge.hidden = count === 0;
  badge.title = `${badge.textContent} new ${count === 1 ? "alert" : "alerts"}`;
}

async function refresh() {
  if (!isOcc(session.user())) return;
  loading?.abort();
  const controller = new AbortController();
  loading = controller;
  try {
    /** @type {Alert[]} */
    const alerts = await request("/api/alerts", {
      query: { status: "new", limit: LIMIT },
      signal: controller.signal,
    });
    fresh.clear();
    for (const alert of alerts) fresh.add(alert.id);
    capped = alerts.length >= LIMIT;
    show();
  } catch (error) {
    if (!isQuiet(error)) badge.title = "Could not count the new alerts";
  }
}

subscribe("alert", (alert) => {
  if (!isOcc(session.user())) return;
  if (alert.status === "new") fresh.add(alert.id);
  else fresh.delete(alert.id);
  show();
});
subscribe("alert_gone", ({ id }) => {
  if (fresh.delete(id)) show();
});
subscribe("resync", refresh);

session.onChange((user) => {
  fresh.clear();
  capped = false;
  show();
  if (isOcc(user)) refresh();
});

/** The badge element for the header's "Alerts" link. */
export function alertsBadge() {
  return badge;
}
