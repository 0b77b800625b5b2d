// @ts-check
// The OCC's alert feed: every alert in the operator's view, the most urgent and the latest
// first, updated live from the ops feed. An operator acknowledges alerts, ticks one or more
// and opens an incident from them, or clicks the camera to see it live and recorded. An alert
// the video analytics raised shows its snapshot; a click enlarges it.

/** @import { Alert, IncidentType } from "../api-types.js" */
/** @import { ListView } from "../ops-list.js" */
/** @import { ViewContext } from "../router.js" */

import { isQuiet, request } from "../api.js";
import { loadDistricts } from "../catalog.js";
import { h, replaceChildren } from "../dom.js";
import { formatCount, formatDateTime } from "../format.js";
import { cameraFacts, loadIncidentTypes } from "../ops-data.js";
import { ageCell, opsList } from "../ops-list.js";
import { beep, cameraAt, opsBadge, priorityChip } from "../ops-ui.js";
import { OPEN_ALERT_STATUSES, PRIORITIES, sourceWord } from "../ops-words.js";
import { isOcc } from "../permissions.js";
import { navigate } from "../router.js";
import * as session from "../session.js";
import { shiftPanel } from "../shift-panel.js";
import { emptyState, errorState, errorText, loadingState } from "../states.js";
import { thumbnail } from "../thumbnails.js";

const SOUND_KEY = "safecity.alertSound";

/** @type {ListView[]} */
const VIEWS = [
  ["open", "Open", OPEN_ALERT_STATUSES],
  ["new", "New", ["new"]],
  ["in_incident", "In incident", ["in_incident"]],
  ["all", "All", null],
];

function soundWanted() {
  try {
    return localStorage.getItem(SOUND_KEY) === "on";
  } catch {
    return false;
  }
}

/**
 * @param {Alert} alert
 * @param {Map<number, string>} districtNames
 */
function whereCell(alert, districtNames) {
  const district = alert.district_id ? districtNames.get(alert.district_id) || `District ${alert.district_id}` : null;
  if (!alert.camera_id) {
    const point =
      alert.latitude !== null && alert.longitude !== null
        ? `${alert.latitude.toFixed(5)}, ${alert.longitude.toFixed(5)}`
        : "No location";
    return h("td", { class: "cell-where" }, point, district ? h("span", { class: "sub" }, district) : null);
  }
  const link = h(
    "a",
    { href: cameraAt(alert.camera_id, alert.first_at), class: "camera-link mono", title: "Live video, and the recording from just before the alert" },
    `Camera ${alert.camera_id}`,
  );
  const sub = h("span", { class: "sub" }, district);
  cameraFacts(alert.camera_id)
    .then((camera) => {
      if (!camera) return;
      link.textContent = camera.code;
      sub.textContent = [camera.name, camera.site?.name, district].filter(Boolean).join(" · ");
    })
    .catch(() => {}); // the id stays; the link still works
  return h("td", { class: "cell-where" }, link, sub);
}

/**
 * @param {HTMLElement} outlet
 * @param {ViewContext} context
 */
export function mount(outlet, { query, signal }) {
  const user = session.signedIn();
  if (!isOcc(user)) {
    outlet.replaceChildren(
      h("section", { class: "page" }, emptyState("The alert feed is for OCC operators. Your incidents are under the Incidents link.")),
    );
    return;
  }

  /** @type {Set<number>} */
  const selected = new Set();
  /** @type {Map<number, string>} */
  let districtNames = new Map();
  let sound = soundWanted();

  const soundButton = h("button", { id: "alert-sound", type: "button", class: "button button-ghost button-small" });
  const pickedText = h("span", { id: "alerts-picked", class: "wall-picked" });
  const openButton = h("button", { id: "open-incident", type: "button", class: "button button-primary" }, "Open incident…");
  const clearButton = h("button", { type: "button", class: "button button-ghost", onclick: () => clearSelection() }, "Clear");
  const pickBar = h("div", { class: "wall-bar", role: "status", hidden: true }, pickedText, openButton, clearButton);
  const formHost = h("div", { id: "incident-form-host", hidden: true });
  const side = h("aside", { class: "ops-side", "aria-label": "Opening an incident, the shift, escalations" }, formHost, shiftPanel({ user, signal }).element);

  /** @type {ReturnType<typeof opsList<Alert>>} */
  const list = opsList({
    kind: "alert",
    title: "Alerts",
    pageClass: "page page-alerts",
    views: VIEWS,
    view: query.view,
    viewParam: "view",
    columns: [
      h("th", { scope: "col", class: "cell-pick" }, h("span", { class: "visually-hidden" }, "Pick")),
      "Priority",
      h("th", { scope: "col", class: "cell-thumb" }, h("span", { class: "visually-hidden" }, "Picture")),
      "Alert", "Repeats", "Source", "Where", "Last", "Status", "",
    ],
    row,
    timeOf: (alert) => alert.last_at,
    // Raised again (a repeat folded in): the operator's eye should go there.
    isNews: (alert, before) => alert.count > before.count,
    onNews(alert) {
      if (sound && alert.status === "new") beep();
    },
    countText(alerts) {
      const fresh = [...alerts.values()].filter((alert) => alert.status === "new").length;
      return `${formatCount(alerts.size)} shown · ${formatCount(fresh)} new`;
    },
    emptyText: (view) => (view === "all" ? "No alerts in your part of the city." : "No alerts here: all quiet."),
    onDraw() {
      for (const id of [...selected]) {
        const alert = list.items.get(id);
        if (!alert || !selectable(alert)) selected.delete(id);
      }
      showPicked();
    },
    onView: () => clearSelection(),
    tools: [pickBar],
    status: [soundButton],
    layout: (main) => h("div", { class: "ops-layout" }, h("div", { class: "ops-main" }, main), side),
    ready: loadDistricts()
      .then((districts) => {
        districtNames = new Map(districts.map((d) => [d.id, d.name]));
      })
      .catch(() => {}), // rows show district ids instead
    signal,
  });
  outlet.replaceChildren(list.page);

  function showSound() {
    soundButton.textContent = sound ? "Sound on" : "Sound off";
    soundButton.setAttribute("aria-pressed", String(sound));
    soundButton.title = "Beep when a new alert arrives";
  }
  soundButton.addEventListener("click", () => {
    sound = !sound;
    try {
      localStorage.setItem(SOUND_KEY, sound ? "on" : "off");
    } catch {
      // private mode: the choice lasts for this screen only
    }
    if (sound) beep(); // also unlocks audio, which browsers allow only after a click
    showSound();
  });
  showSound();

  /** @param {Alert} alert */
  function selectable(alert) {
    return OPEN_ALERT_STATUSES.includes(alert.status) && !alert.incident_id;
  }

  /**
   * @param {Alert} alert
   * @param {number} now
   */
  function row(alert, now) {
    const pick = h("input", {
      type: "checkbox",
      class: "alert-pick",
      checked: selected.has(alert.id),
      disabled: !selectable(alert),
      "aria-label": `Pick alert ${alert.id} for an incident`,
    });
    pick.addEventListener("change", () => {
      if (pick.checked) selected.add(alert.id);
      else selected.delete(alert.id);
      showPicked();
    });
    const acknowledge =
      alert.status === "new" ? h("button", { type: "button", class: "button button-small ack-button" }, "Acknowledge") : null;
    acknowledge?.addEventListener("click", () => acknowledgeAlert(alert, acknowledge));
    const incidentLink = alert.incident_id
      ? h("a", { href: `#/incidents/${alert.incident_id}`, class: "incident-link" }, "Incident")
      : null;
    return h(
      "tr",
      { class: `alert-row priority-row-${alert.priority}`, dataset: { alertId: String(alert.id), status: alert.status } },
      h("td", { class: "cell-pick" }, pick),
      h("td", { class: "cell-priority" }, priorityChip(alert.priority)),
      h(
        "td",
        { class: "cell-thumb" },
        thumbnail(alert.thumbnail_url, {
          caption: `${alert.title} · ${formatDateTime(alert.first_at)}`,
          missing: alert.source === "analytics" ? "No snapshot kept" : "No picture: not raised by video analytics",
        }),
      ),
      h("td", { class: "cell-title" }, alert.title, h("span", { class: "sub mono" }, alert.kind)),
      h("td", { class: "cell-repeats num" }, alert.count > 1 ? h("span", { class: "repeat-count", title: `Raised ${alert.count} times` }, `×${alert.count}`) : ""),
      h("td", { class: "cell-source" }, sourceWord(alert.source)),
      whereCell(alert, districtNames),
      ageCell(alert.last_at, now, `First ${formatDateTime(alert.first_at)} · last ${formatDateTime(alert.last_at)}`),
      h("td", { class: "cell-status" }, opsBadge("alert", alert.status)),
      h("td", { class: "cell-actions" }, acknowledge, incidentLink),
    );
  }

  /**
   * @param {Alert} alert
   * @param {HTMLButtonElement} button
   */
  async function acknowledgeAlert(alert, button) {
    button.disabled = true;
    button.textContent = "Acknowledging…";
    try {
      list.upsert(await request(`/api/alerts/${alert.id}/acknowledge`, { method: "POST", signal }));
    } catch (error) {
      if (isQuiet(error)) return;
      button.disabled = false;
      button.textContent = "Acknowledge";
      button.title = errorText(error);
      list.tell(`Could not acknowledge alert ${alert.id}: ${errorText(error)}`);
    }
  }

  function showPicked() {
    pickBar.hidden = selected.size === 0;
    pickedText.textContent = `${selected.size} ${selected.size === 1 ? "alert" : "alerts"} picked`;
  }

  function clearSelection() {
    selected.clear();
    for (const box of list.body.querySelectorAll("input.alert-pick")) {
      if (box instanceof HTMLInputElement) box.checked = false;
    }
    showPicked();
    formHost.hidden = true;
  }

  openButton.addEventListener("click", async () => {
    formHost.hidden = false;
    replaceChildren(formHost, loadingState("Loading incident types…"));
    try {
      const types = await loadIncidentTypes();
      if (signal.aborted) return;
      replaceChildren(formHost, incidentForm(types));
    } catch (error) {
      if (!isQuiet(error)) replaceChildren(formHost, errorState(error));
    }
  });

  /** @param {IncidentType[]} types */
  function incidentForm(types) {
    const picked = [...selected].map((id) => list.items.get(id)).filter((alert) => alert !== undefined);
    const typeSelect = h(
      "select",
      { id: "incident-type", class: "select", required: true },
      types
        .filter((type) => type.active)
        .map((type) => h("option", { value: type.code, selected: type.code === "other" }, type.name)),
    );
    const prioritySelect = h(
      "select",
      { id: "incident-priority", class: "select" },
      PRIORITIES.map(([value, text]) => h("option", { value: String(value) }, text)),
    );
    const summary = h(
      "textarea",
      { id: "incident-summary", class: "input textarea", rows: 4, maxlength: 5000 },
    );
    summary.value = picked.map((alert) => alert.title).join("\n");
    const sop = h("ol", { id: "incident-sop-preview", class: "sop-preview" });
    const message = h("p", { class: "form-message form-error", role: "alert" });
    const submit = h("button", { id: "incident-submit", type: "submit", class: "button button-primary" }, "Open incident");

    function typeChanged() {
      const type = types.find((t) => t.code === typeSelect.value);
      if (!type) return; // no type to choose: the server refuses what is sent
      // The most urgent of the type's default and the alerts' own priorities.
      const urgent = Math.min(type.default_priority, ...picked.map((alert) => alert.priority));
      prioritySelect.value = String(urgent);
      sop.replaceChildren(...type.sop.map((step) => h("li", {}, step)));
    }
    typeSelect.addEventListener("change", typeChanged);
    typeChanged();

    const form = h(
      "form",
      { id: "incident-form", class: "panel ops-form" },
      h("div", { class: "panel-head" }, h("h2", { class: "panel-title" }, `Open incident from ${picked.length} ${picked.length === 1 ? "alert" : "alerts"}`)),
      h(
        "div",
        { class: "panel-body ops-form-body" },
        h("ul", { class: "picked-alerts" }, picked.map((alert) => h("li", {}, priorityChip(alert.priority), " ", alert.title))),
        h("label", { class: "field" }, h("span", { class: "field-label" }, "Type"), typeSelect),
        h("label", { class: "field" }, h("span", { class: "field-label" }, "Priority"), prioritySelect),
        h("label", { class: "field" }, h("span", { class: "field-label" }, "Summary"), summary),
        h("div", { class: "field" }, h("span", { class: "field-label" }, "Procedure for this type"), sop),
        h("div", { class: "form-actions" }, submit, h("button", { type: "button", class: "button button-ghost", onclick: () => (formHost.hidden = true) }, "Cancel"), message),
      ),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      submit.disabled = true;
      submit.textContent = "Opening…";
      message.textContent = "";
      try {
        const incident = await request("/api/incidents", {
          method: "POST",
          signal,
          body: {
            alert_ids: picked.map((alert) => alert.id),
            type_code: typeSelect.value,
            priority: Number(prioritySelect.value),
            summary: summary.value.trim() || null,
          },
        });
        navigate(`/incidents/${incident.id}`);
      } catch (error) {
        if (isQuiet(error)) return;
        message.textContent = errorText(error);
        submit.disabled = false;
        submit.textContent = "Open incident";
      }
    });
    return form;
  }
}
