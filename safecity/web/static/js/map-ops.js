// @ts-check
// The map's operations overlay: open incidents and new alerts as markers over the cameras,
// kept live by the ops feed, with a side-panel summary. Incidents for every role that reads
// them; alerts for the OCC, who works them.

/** @import { Alert, Incident } from "./api-types.js" */
/** @import { CityMap, OpsMarker } from "./city-map.js" */

import { isQuiet, request } from "./api.js";
import { h, replaceChildren } from "./dom.js";
import { formatAgo, formatCount } from "./format.js";
import { subscribeWhile } from "./ops-feed.js";
import { OPEN_INCIDENT_STATUSES, statusWord } from "./ops-words.js";
import { isOcc, mayReadIncidents } from "./permissions.js";
import * as session from "./session.js";

const LIMIT = 500;
const FRESH_MS = 10_000;

/**
 * The overlay on `map` until `signal` aborts: `element` for the side panel, `start()` once the
 * map has its districts.
 * @param {Pick<CityMap, "setOpsMarkers">} map
 * @param {{ signal: AbortSignal }} options
 */
export function opsOverlay(map, { signal }) {
  const user = session.user();
  const showIncidents = mayReadIncidents(user);
  const showAlerts = isOcc(user);
  /** @type {Map<number, Incident>} */
  const incidents = new Map();
  /** @type {Map<number, Alert>} */
  const alerts = new Map();
  /** @type {Map<string, number>} */
  const fresh = new Map(); // "alert:3" → timer that ends its pulse
  let started = false;

  const incidentCount = h("span", { id: "map-incident-count", class: "legend-count" });
  const alertCount = h("span", { id: "map-alert-count", class: "legend-count" });
  const element = h(
    "section",
    { id: "map-ops", class: "side-section", "aria-labelledby": "map-ops-title", hidden: !showIncidents && !showAlerts },
    h("h2", { id: "map-ops-title", class: "panel-title" }, "Operations"),
    h(
      "ul",
      { class: "legend-list" },
      showIncidents
        ? h(
            "li",
            { class: "legend-item" },
            h("span", { class: "legend-ops incident-swatch", "aria-hidden": "true" }),
            h("a", { class: "legend-label", href: "#/incidents" }, "Open incidents"),
            incidentCount,
          )
        : null,
      showAlerts
        ? h(
            "li",
            { class: "legend-item" },
            h("span", { class: "legend-ops alert-swatch", "aria-hidden": "true" }),
            h("a", { class: "legend-label", href: "#/alerts" }, "New alerts"),
            alertCount,
          )
        : null,
    ),
  );

  function draw() {
    if (!started) return;
    /** @type {OpsMarker[]} */
    const markers = [];
    for (const incident of incidents.values()) {
      markers.push({
        kind: "incident",
        id: incident.id,
        lat: incident.latitude,
        lon: incident.longitude,
        priority: incident.priority,
        title: `Incident ${incident.number}`,
        detail: `${statusWord(incident.status)} · opened ${formatAgo(incident.opened_at)}${incident.summary ? ` · ${incident.summary}` : ""}`,
        href: `/incidents/${incident.id}`,
        fresh: fresh.has(`incident:${incident.id}`),
      });
    }
    for (const alert of alerts.values()) {
      markers.push({
        kind: "alert",
        id: alert.id,
        lat: alert.latitude,
        lon: alert.longitude,
        priority: alert.priority,
        title: alert.title,
        detail: `New alert${alert.count > 1 ? ` ×${alert.count}` : ""} · ${formatAgo(alert.last_at)}`,
        href: alert.camera_id ? `/cameras/${alert.camera_id}` : "/alerts",
        fresh: fresh.has(`alert:${alert.id}`),
      });
    }
    map.setOpsMarkers(markers);
    incidentCount.textContent = formatCount(incidents.size);
    alertCount.textContent = formatCount(alerts.size);
  }

  /** @param {string} key */
  function pulse(key) {
    clearTimeout(fresh.get(key));
    fresh.set(
      key,
      setTimeout(() => {
        fresh.delete(key);
        draw();
      }, FRESH_MS),
    );
  }

  async function load() {
    try {
      const [openIncidents, newAlerts] = await Promise.all([
        showIncidents ? request("/api/incidents", { query: { status: OPEN_INCIDENT_STATUSES, limit: LIMIT }, signal }) : [],
        showAlerts ? request("/api/alerts", { query: { status: "new", limit: LIMIT }, signal }) : [],
      ]);
      incidents.clear();
      alerts.clear();
      for (const incident of openIncidents) incidents.set(incident.id, incident);
      for (const alert of newAlerts) alerts.set(alert.id, alert);
      draw();
    } catch (error) {
      if (!isQuiet(error)) element.title = "Could not load incidents and alerts";
    }
  }

  if (showIncidents) {
    subscribeWhile(signal, "incident", (incident) => {
      if (OPEN_INCIDENT_STATUSES.includes(incident.status)) {
        if (!incidents.has(incident.id)) pulse(`incident:${incident.id}`);
        incidents.set(incident.id, incident);
      } else incidents.delete(incident.id);
      draw();
    });
    subscribeWhile(signal, "incident_gone", ({ id }) => {
      if (incidents.delete(id)) draw();
    });
  }
  if (showAlerts) {
    subscribeWhile(signal, "alert", (alert) => {
      if (alert.status === "new") {
        pulse(`alert:${alert.id}`);
        alerts.set(alert.id, alert);
      } else alerts.delete(alert.id);
      draw();
    });
    subscribeWhile(signal, "alert_gone", ({ id }) => {
      if (alerts.delete(id)) draw();
    });
  }
  subscribeWhile(signal, "resync", () => {
    if (started) load();
  });
  signal.addEventListener("abort", () => {
    for (const timer of fresh.values()) clearTimeout(timer);
  });

  return {
    element,
    /** Draw once the map has its districts (markers need the projection). */
    start() {
      if (started || (!showIncidents && !showAlerts)) return;
      started = true;
      replaceChildren(incidentCount, "…");
      load();
    },
  };
}
