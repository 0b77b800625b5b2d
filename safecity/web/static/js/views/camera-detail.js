// @ts-check
// One camera: its live video (or, where this server has no live stream of it, its snapshot),
// the health of its stream, its recordings with evidence export and legal holds (for the roles
// that may see them), the people and vehicles its analytics counted, its analytics rules (for
// administrators), where it stands in its district, and everything the registry knows.

/** @import { Camera, District, User } from "../api-types.js" */
/** @import { Child } from "../dom.js" */
/** @import { ViewContext } from "../router.js" */

import { ApiError, isQuiet, request, requestBlob, statusOf } from "../api.js";
import { loadDistricts } from "../catalog.js";
import { createCityMap } from "../city-map.js";
import { countsPanel } from "../counts-chart.js";
import { h, replaceChildren } from "../dom.js";
import {
  cameraState,
  formatAgo,
  formatCoordinate,
  formatDateTime,
  formatTime,
  label,
  maskCredentials,
} from "../format.js";
import { evidencePanel } from "../evidence.js";
import { rememberedListHref } from "../filters.js";
import { holdsPanel } from "../holds.js";
import { createLivePlayer } from "../live.js";
import {
  mayEditRules,
  mayExportEvidence,
  mayReadHolds,
  maySearchEvents,
  mayWatchLive,
  mayWatchRecordings,
} from "../permissions.js";
import { recordingsPanel } from "../recordings.js";
import { ruleEditor } from "../rule-editor.js";
import * as session from "../session.js";
import { startSnapshots } from "../snapshot.js";
import { errorState, loadingState } from "../states.js";
import { streamHealthPanel } from "../stream-health.js";

/**
 * @param {string} key
 * @param {string} name
 * @param {Child} value  "—" when empty
 */
function field(key, name, value) {
  const shown = value === null || value === undefined || value === "" ? h("span", { class: "muted" }, "—") : value;
  return [h("dt", {}, name), h("dd", { dataset: { field: key } }, shown)];
}

/**
 * @param {string} title
 * @param {Child[]} fields
 */
function fieldGroup(title, fields) {
  return h("section", { class: "field-group" }, h("h3", { class: "group-title" }, title), h("dl", { class: "fields" }, fields));
}

/** @param {Camera} camera */
function registry(camera) {
  const site = camera.site
    ? [camera.site.name, " ", h("span", { class: "sub-inline" }, `${label(camera.site.kind)} · ${camera.site.code}`)]
    : null;
  return h(
    "div",
    { class: "registry", id: "camera-fields" },
    fieldGroup("Identity", [
      field("code", "Code", h("span", { class: "mono" }, camera.code)),
      field("name", "Name", camera.name),
      field("address", "Address", camera.address),
    ]),
    fieldGroup("Location", [
      field("district", "District", camera.district_name),
      field("site", "Site", site),
      field(
        "position",
        "Position",
        h("span", { class: "mono" }, `${formatCoordinate(camera.latitude)}, ${formatCoordinate(camera.longitude)}`),
      ),
    ]),
    fieldGroup("State", [
      field("status", "Status", h("span", { class: `badge status-${camera.status}` }, label(camera.status))),
      field(
        "health",
        "Health",
        h("span", { class: "health" }, h("span", { class: `dot state-${cameraState(camera)}` }), label(camera.health)),
      ),
      field(
        "last_seen",
        "Last seen",
        camera.last_seen_at ? `${formatDateTime(camera.last_seen_at)} (${formatAgo(camera.last_seen_at)})` : "never",
      ),
    ]),
    fieldGroup("Hardware", [
      field("vendor", "Vendor", camera.vendor),
      field("model", "Model", camera.model),
      field("firmware", "Firmware", camera.firmware ? h("span", { class: "mono" }, camera.firmware) : null),
      field("installed", "Installed", camera.installed_at),
    ]),
  );
}

/** @param {Camera} camera */
function streamsPanel(camera) {
  const url = (/** @type {string | null | undefined} */ value) => (value ? h("code", { class: "url" }, maskCredentials(value)) : null);
  return h(
    "section",
    { class: "panel streams-panel", "aria-labelledby": "streams-title" },
    h(
      "div",
      { class: "panel-head" },
      h("h2", { id: "streams-title", class: "panel-title" }, "Streams"),
      h("span", { class: "muted" }, "Passwords hidden"),
    ),
    h(
      "dl",
      { class: "fields streams" },
      field("main_stream", "Main", url(camera.main_stream_url)),
      field("sub_stream", "Sub", url(camera.sub_stream_url)),
    ),
  );
}

/**
 * @param {Camera} camera
 * @param {AbortSignal} signal
 */
function snapshotView(camera, signal) {
  const img = h("img", { id: "camera-snapshot", class: "snapshot", alt: `Live picture of ${camera.code}`, hidden: true });
  const placeholder = h(
    "div",
    { id: "no-picture", class: "no-picture", hidden: true },
    h("span", { class: "no-picture-icon", "aria-hidden": "true" }),
    h("strong", {}, "No live picture"),
    h("span", { class: "muted" }, "The camera is not sending a stream to SafeCity right now. Retrying every 2 s."),
  );
  const waiting = h("div", { class: "no-picture" }, h("span", { class: "spinner" }), h("span", { class: "muted" }, "Connecting…"));
  const status = h("span", { id: "snapshot-status", class: "snapshot-status" }, "Connecting…");
  const box = h("div", { class: "snapshot-box" }, img, placeholder, waiting);

  startSnapshots(camera.id, {
    img,
    signal,
    onState: (...news) => {
      const [state, detail] = news; // a detail of the state's kind: `news` keeps them together
      waiting.remove();
      status.className = `snapshot-status snapshot-${state}`;
      if (state === "live") {
        img.hidden = false;
        placeholder.hidden = true;
        status.textContent = `Live · ${formatTime(detail)}`;
      } else if (state === "no-picture") {
        img.hidden = true;
        placeholder.hidden = false;
        status.textContent = "No live picture";
      } else if (state === "offline") {
        status.textContent = "Server unreachable — last picture kept";
      } else if (state === "gone") {
        img.hidden = true;
        status.textContent = "Not available";
      } else {
        status.textContent = `Snapshot failed (${detail.status})`;
      }
    },
  });

  return { title: "Live snapshot", status, box };
}

/**
 * Save the camera's current picture as a JPEG file, for a report or an incident.
 * @param {Camera} camera
 * @param {HTMLButtonElement} button
 */
async function saveSnapshot(camera, button) {
  const idle = button.textContent;
  button.disabled = true;
  try {
    const blob = await requestBlob(`/api/cameras/${camera.id}/snapshot.jpg`);
    const url = URL.createObjectURL(blob);
    const stamp = formatDateTime(new Date()).replace(/[-: ]/g, "").replace(/^(\d{8})/, "$1-");
    h("a", { href: url, download: `${camera.code}-${stamp}.jpg` }).click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (error) {
    if (isQuiet(error)) return;
    button.textContent = error instanceof ApiError && error.status === 503 ? "No picture now" : "Snapshot failed";
    await new Promise((resolve) => setTimeout(resolve, 2000));
  } finally {
    button.textContent = idle;
    button.disabled = false;
  }
}

/**
 * Live video when this server receives the camera's stream; otherwise (the server says it has
 * no stream of it) the snapshot refresher, which may still get pictures from elsewhere.
 * @param {Camera} camera
 * @param {User} user
 * @param {AbortSignal} signal
 */
function livePanel(camera, user, signal) {
  const title = h("h2", { id: "live-title", class: "panel-title" }, "Live");
  if (!mayWatchLive(user)) {
    return h(
      "section",
      { class: "panel live-panel", "aria-labelledby": "live-title" },
      h("div", { class: "panel-head" }, title),
      h("p", { id: "live-not-for-role", class: "muted panel-note" }, "Live video and snapshots are not part of your role; the camera's health and position are below."),
    );
  }
  const snapshotButton = h(
    "button",
    { id: "save-snapshot", type: "button", class: "button button-ghost button-small", title: "Save the current picture as a JPEG" },
    "Save snapshot",
  );
  snapshotButton.addEventListener("click", () => saveSnapshot(camera, snapshotButton));
  const head = h("div", { class: "panel-head" }, title, snapshotButton);
  const stopLive = new AbortController();
  const player = createLivePlayer({
    cameraId: camera.id,
    label: camera.code,
    signal: AbortSignal.any([signal, stopLive.signal]),
    onState(state) {
      if (state !== "unavailable") return;
      stopLive.abort();
      const snapshot = snapshotView(camera, signal);
      title.textContent = snapshot.title;
      head.replaceChildren(title, snapshot.status);
      panel.replaceChildren(head, snapshot.box);
    },
  });
  const panel = h(
    "section",
    { class: "panel live-panel", "aria-labelledby": "live-title" },
    head,
    h("div", { id: "camera-live", class: "snapshot-box" }, player.element),
  );
  return panel;
}

/**
 * @param {Camera} camera
 * @param {District[]} districts
 * @param {Array<() => void>} cleanups
 */
function miniMapPanel(camera, districts, cleanups) {
  const map = createCityMap({ id: "camera-minimap", interactive: true, labels: false });
  cleanups.push(map.destroy);
  map.setDistricts(districts, { focus: camera.district_id, selected: camera.district_id });
  map.setMarker(camera.longitude, camera.latitude);
  return h(
    "section",
    { class: "panel minimap-panel", "aria-labelledby": "minimap-title" },
    h("div", { class: "panel-head" }, h("h2", { id: "minimap-title", class: "panel-title" }, "Position"), h("span", { class: "muted" }, camera.district_name)),
    map.element,
  );
}

/**
 * Recordings, evidence and holds, as far as the signed-in role may see them: the window the
 * operator plays fills the evidence and hold forms. Returns the rows to show (maybe none).
 * @param {Camera} camera
 * @param {User} user
 * @param {AbortSignal} signal
 * @param {Date | null} at
 */
function videoArchive(camera, user, signal, at) {
  if (!mayWatchRecordings(user)) return [];
  const holds = mayReadHolds(user) ? holdsPanel(camera, user, { signal }) : null;
  const evidence = mayExportEvidence(user) ? evidencePanel(camera, { signal, onExported: () => holds?.reload() }) : null;
  const recordings = recordingsPanel(camera, {
    signal,
    at,
    onWindow(start, end) {
      evidence?.setRange(start, end);
      holds?.setRange(start, end);
    },
  });
  const rows = [recordings];
  if (evidence || holds) {
    rows.push(h("div", { class: "camera-grid" }, evidence?.element || h("div", {}), holds?.element || h("div", {})));
  }
  return rows;
}

/** @param {Camera} camera */
function registryPanel(camera) {
  return h(
    "section",
    { class: "panel registry-panel", "aria-labelledby": "registry-title" },
    h("div", { class: "panel-head" }, h("h2", { id: "registry-title", class: "panel-title" }, "Registry")),
    registry(camera),
  );
}

/**
 * @param {HTMLElement} outlet
 * @param {ViewContext} context
 */
export function mount(outlet, { params, query, signal }) {
  const cameraId = Number(params.id);
  const user = session.signedIn();
  // ?at=<ISO time>: open the recordings at that moment (a link from an alert or incident).
  // A "+" of a time zone offset typed into the address arrives as a space: put it back.
  const atText = (query.at || "").replace(" ", "+");
  const at = atText && !Number.isNaN(Date.parse(atText)) ? new Date(atText) : null;
  /** @type {Array<() => void>} */
  const cleanups = [];
  outlet.replaceChildren(h("section", { class: "page page-camera" }, loadingState("Loading camera…")));

  async function load() {
    try {
      /** @type {[Camera, District[]]} */
      const [camera, districts] = await Promise.all([
        request(`/api/cameras/${cameraId}`, { signal }),
        loadDistricts().catch(() => []),
      ]);
      if (signal.aborted) return;
      document.title = `${camera.code} · SafeCity`;
      const state = cameraState(camera);
      replaceChildren(
        outlet,
        h(
          "section",
          { class: "page page-camera", dataset: { cameraId: String(camera.id) } },
          h(
            "nav",
            { class: "breadcrumb", "aria-label": "Breadcrumb" },
            h("a", { id: "back-to-list", href: rememberedListHref() }, "‹ Cameras"),
            h("span", { class: "crumb-sep" }, "/"),
            h("span", {}, camera.district_name),
          ),
          h(
            "header",
            { class: "camera-head" },
            h("span", { class: `dot dot-large state-${state}`, "aria-hidden": "true" }),
            h("h1", { class: "camera-title" }, h("span", { id: "camera-code", class: "mono" }, camera.code), h("span", { id: "camera-name" }, camera.name)),
            h("span", { class: `badge status-${camera.status}` }, label(camera.status)),
            h("span", { class: "head-meta muted" }, camera.last_seen_at ? `Last seen ${formatAgo(camera.last_seen_at)}` : "Never seen"),
          ),
          h(
            "div",
            { class: "camera-grid" },
            h("div", { class: "camera-column" }, livePanel(camera, user, signal)),
            h("div", { class: "camera-column" }, streamHealthPanel(camera, signal), miniMapPanel(camera, districts, cleanups)),
          ),
          videoArchive(camera, user, signal, at),
          countsPanel(camera, signal, { eventsLink: maySearchEvents(user) }),
          mayEditRules(user) ? ruleEditor(camera, signal) : null,
          h(
            "div",
            { class: "camera-grid" },
            h("div", { class: "camera-column" }, streamsPanel(camera)),
            h("div", { class: "camera-column" }, registryPanel(camera)),
          ),
        ),
      );
    } catch (error) {
      if (isQuiet(error)) return;
      replaceChildren(
        outlet,
        h(
          "section",
          { class: "page page-camera" },
          h("nav", { class: "breadcrumb" }, h("a", { href: rememberedListHref() }, "‹ Cameras")),
          errorState(error, statusOf(error) === 404 ? null : load),
        ),
      );
    }
  }

  load();
  return () => {
    for (const cleanup of cleanups) cleanup();
  };
}
