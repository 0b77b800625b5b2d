// @ts-check
// One incident: what it is, where it stands and what may happen next (the lifecycle's buttons
// for this user's role), its SOP checklist, notes, the timeline of everything done with who
// and when, its cameras (one click to live and recorded video) and the alerts it came from,
// with what the video analytics saw when they raised them (the snapshot, and the recording).
// The page follows the incident live: a change made anywhere redraws it.

/** @import { Alert, AnalyticsEvent, IncidentDetail, IncidentEvent, PoliceUnit } from "../api-types.js" */
/** @import { Names } from "../ops-data.js" */
/** @import { Transition } from "../ops-words.js" */
/** @import { ViewContext } from "../router.js" */

import { analyticsWord, formatConfidence } from "../analytics-words.js";
import { NetworkError, connection, isQuiet, request, statusOf } from "../api.js";
import { h, replaceChildren } from "../dom.js";
import { formatAgo, formatDateTime, formatDuration } from "../format.js";
import { attachmentsPanel, clipsPanel, mayUseMaterials } from "../incident-materials.js";
import { cameraFacts, emptyNames, loadNames } from "../ops-data.js";
import { subscribeWhile } from "../ops-feed.js";
import { cameraAt, opsBadge, panel, priorityChip, reasonForm } from "../ops-ui.js";
import { priorityWord, sourceWord, statusWord, transitionsFrom } from "../ops-words.js";
import { isDutyOfficer, isOcc, mayMakeTransition, mayWatchLive, mayWatchRecordings, mayWriteNotes } from "../permissions.js";
import * as session from "../session.js";
import { emptyState, errorState, errorText, loadingState } from "../states.js";
import { thumbnail } from "../thumbnails.js";

/** @type {Array<[field: "opened_at" | "dispatched_at" | "accepted_at" | "on_scene_at" | "resolved_at" | "closed_at", text: string]>} */
const TIMES = [
  ["opened_at", "Opened"],
  ["dispatched_at", "Dispatched"],
  ["accepted_at", "Accepted"],
  ["on_scene_at", "On scene"],
  ["resolved_at", "Resolved"],
  ["closed_at", "Closed"],
];

/**
 * What a timeline entry says: its headline, and the text under it (if any).
 * @param {IncidentEvent} event
 * @param {Names} names
 * @returns {[what: string, text: string | null]}
 */
function eventWords(event, names) {
  const unit = (/** @type {number | undefined} */ id) => (id ? names.unit.get(id) || `unit ${id}` : "a unit");
  if (event.kind === "note") return ["Note", event.text];
  if (event.kind === "sop_step") {
    const step = Number(event.details.step) + 1;
    const done = event.details.state === "done";
    return [`Step ${step} ${done ? "done" : "skipped"}`, done ? null : event.text];
  }
  if (!event.from_status) {
    const alerts = event.details.alert_ids?.length;
    return ["Opened", alerts ? `from ${alerts} ${alerts === 1 ? "alert" : "alerts"}` : "by hand"];
  }
  switch (event.details.transition) {
    case "dispatch":
      return [`Dispatched to ${unit(event.details.police_unit_id)}`, event.details.fallback ? "the fallback unit: no unit covers the location" : null];
    case "reject":
      return [`Rejected by ${unit(event.details.police_unit_id)}`, event.text];
    default:
      return [statusWord(event.to_status || ""), event.text];
  }
}

/**
 * The stored analytics event that raised an alert, if it was one (`details.event_id`).
 * @param {Alert} alert
 */
function eventIdOf(alert) {
  const id = alert.details?.event_id;
  return typeof id === "number" && Number.isInteger(id) ? id : null;
}

/**
 * Whether an action answered with the incident itself (a transition does, a note does not).
 * @param {unknown} answer
 * @returns {answer is IncidentDetail}
 */
function isDetail(answer) {
  return typeof answer === "object" && answer !== null && "events" in answer;
}

/**
 * @param {HTMLElement} outlet
 * @param {ViewContext} context
 */
export function mount(outlet, { params, signal }) {
  const id = Number(params.id);
  const user = session.signedIn();
  const officer = isDutyOfficer(user);
  let names = emptyNames();
  /** @type {IncidentDetail | null} */
  let detail = null;
  /** @type {AbortController | null} */
  let loadController = null;

  const back = h("a", { class: "crumb", href: "#/incidents" }, officer ? "‹ My queue" : "‹ Incidents");
  const head = h("div", { class: "incident-head" });
  const actions = h("div", { id: "incident-actions", class: `incident-actions${officer ? " incident-actions-big" : ""}` });
  const message = h("p", { id: "incident-message", class: "form-message form-error", role: "alert" });
  const summary = h("div", { id: "incident-summary-text", class: "incident-summary" });
  const timeline = h("ol", { id: "incident-timeline", class: "timeline-list" });
  const sop = h("ol", { id: "incident-sop", class: "sop-list" });
  const cameras = h("ul", { id: "incident-cameras", class: "link-list" });
  const alertList = h("ul", { id: "incident-alerts", class: "link-list" });
  const sightings = h("ul", { id: "incident-sightings", class: "sighting-list" });
  const sightingsPanel = panel("incident-analytics", "What the analytics saw", sightings);
  sightingsPanel.hidden = true;
  /** @type {Map<number, Promise<AnalyticsEvent | null>>} an event once per page: it does not change */
  const analyticsEvents = new Map();
  const times = h("dl", { id: "incident-times", class: "fields times" });
  const noteForm = mayWriteNotes(user) ? notesForm() : null;
  const materials = mayUseMaterials(user)
    ? [
        attachmentsPanel({ incidentId: id, user, signal }),
        clipsPanel({
          incidentId: id,
          user,
          signal,
          cameraName: (cameraId) =>
            cameraFacts(cameraId)
              .then((camera) => camera && `${camera.code} · ${camera.name}`)
              .catch(() => null),
        }),
      ]
    : [];
  const body = h(
    "div",
    { class: "incident-grid" },
    h(
      "div",
      { class: "incident-column" },
      panel("incident-summary", "Summary", summary),
      sightingsPanel,
      panel("incident-history", "Timeline", noteForm, timeline),
      materials.map((material) => material.element),
    ),
    h(
      "div",
      { class: "incident-column" },
      panel("incident-procedure", "Procedure", sop),
      panel("incident-video", "Cameras", cameras),
      panel("incident-alerts-panel", "Alerts", alertList),
      panel("incident-times-panel", "Times", times),
    ),
  );
  const content = h("div", { class: "incident-body" }, loadingState("Loading the incident…"));
  const page = h(
    "section",
    { class: "page page-incident", "aria-labelledby": "incident-number" },
    h("nav", { class: "breadcrumb" }, back),
    content,
  );
  outlet.replaceChildren(page);

  function notesForm() {
    const input = h("textarea", { id: "note-text", class: "input textarea", rows: 2, maxlength: 5000, placeholder: "Add a note for the timeline…", "aria-label": "Note" });
    const submit = h("button", { id: "note-submit", type: "submit", class: "button", disabled: true }, "Add note");
    const noteMessage = h("p", { class: "form-message form-error", role: "alert" });
    const form = h("form", { id: "note-form", class: "note-form" }, input, h("div", { class: "form-actions" }, submit, noteMessage));
    input.addEventListener("input", () => {
      submit.disabled = !input.value.trim();
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      submit.disabled = true;
      noteMessage.textContent = "";
      try {
        await request(`/api/incidents/${id}/notes`, { method: "POST", signal, body: { text: input.value.trim() } });
        input.value = "";
        await load();
      } catch (error) {
        if (isQuiet(error)) return;
        noteMessage.textContent = errorText(error);
        submit.disabled = false;
      }
    });
    return form;
  }

  /**
   * Run an action; on success show the incident as the server returns it or reload it.
   * @param {() => Promise<IncidentDetail | unknown>} run
   */
  async function act(run) {
    message.textContent = "";
    try {
      const answer = await run();
      if (isDetail(answer)) render(answer);
      else await load();
    } catch (error) {
      if (isQuiet(error)) return;
      message.textContent = errorText(error);
      throw error;
    }
  }

  /**
   * @param {string} to
   * @param {{ reason?: string, police_unit_id?: number }} [extra]
   */
  function transition(to, extra = {}) {
    return act(() => request(`/api/incidents/${id}/transitions`, { method: "POST", signal, body: { to, ...extra } }));
  }

  /**
   * @param {Transition} t
   * @param {PoliceUnit | undefined} routed  the unit the incident's district routes to
   */
  function dispatchForm(t, routed) {
    const select = h(
      "select",
      { id: "dispatch-unit", class: "select", "aria-label": "Police unit" },
      h("option", { value: "" }, routed ? `Route: ${routed.name}` : "Route by location"),
      names.units.map((unit) => h("option", { value: String(unit.id) }, unit.is_fallback ? `${unit.name} (fallback)` : unit.name)),
    );
    const button = h("button", { id: "transition-dispatch", type: "submit", class: "button button-primary button-big", dataset: { transition: "dispatch" } }, t.verb);
    const form = h("form", { class: "dispatch-form" }, button, select);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      button.disabled = true;
      try {
        await transition(t.to, select.value ? { police_unit_id: Number(select.value) } : {});
      } catch {
        button.disabled = false;
      }
    });
    return form;
  }

  /** @param {IncidentDetail} incident */
  function renderActions(incident) {
    const offered = transitionsFrom(incident.status, incident.allowed).filter((t) => mayMakeTransition(user, t));
    if (!offered.length) {
      const unit = (incident.police_unit_id !== null && names.unit.get(incident.police_unit_id)) || "the police unit";
      let why = "Nothing for your role to do now.";
      if (!incident.allowed.length) why = "Closed: nothing left to do.";
      else if (incident.status === "dispatched") why = `Waiting for ${unit} to accept.`;
      else if (["accepted", "on_scene"].includes(incident.status)) why = `With ${unit}: waiting for them to resolve it.`;
      else if (incident.status === "resolved") why = "Resolved: the OCC closes it.";
      replaceChildren(actions, h("span", { id: "incident-waiting", class: "muted" }, why));
      return;
    }
    const routed = names.units.find((unit) => incident.district_id && unit.district_ids.includes(incident.district_id));
    const controls = offered.map((t) => {
      if (t.name === "dispatch") return dispatchForm(t, routed);
      const button = h(
        "button",
        {
          id: `transition-${t.name}`,
          type: "button",
          class: `button button-big ${t.reason ? "button-danger" : "button-primary"}`,
          dataset: { transition: t.name },
        },
        t.verb,
      );
      button.addEventListener("click", async () => {
        if (t.reason) {
          replaceChildren(
            actions,
            reasonForm({
              prompt: `Why ${t.name}? The OCC reads this.`,
              confirmText: t.verb,
              danger: true,
              onConfirm: (reason) => transition(t.to, { reason }),
              onCancel: redrawActions,
            }),
          );
          return;
        }
        for (const other of actions.querySelectorAll("button")) other.disabled = true;
        try {
          await transition(t.to);
        } catch {
          redrawActions();
        }
      });
      return button;
    });
    replaceChildren(actions, controls);
  }

  /** The actions again for the incident as last shown (after a cancel or a failure). */
  function redrawActions() {
    if (detail) renderActions(detail);
  }

  /** @param {IncidentDetail} incident */
  function renderSop(incident) {
    const occ = isOcc(user) && incident.status !== "closed";
    sop.replaceChildren(
      ...incident.sop.map((step) => {
        const item = h("li", { class: `sop-step sop-${step.state}`, dataset: { step: String(step.index), state: step.state } });
        /**
         * @param {"done" | "skipped"} state
         * @param {string} [reason]
         */
        const mark = (state, reason) =>
          act(() => request(`/api/incidents/${id}/sop/${step.index}`, { method: "POST", signal, body: reason ? { state, reason } : { state } }));
        const controls = h("div", { class: "sop-controls" });
        const showControls = () =>
          replaceChildren(
            controls,
            step.state !== "done"
              ? h("button", { type: "button", class: "button button-small sop-done", onclick: () => mark("done").catch(() => {}) }, "Done")
              : null,
            step.state === "pending"
              ? h(
                  "button",
                  {
                    type: "button",
                    class: "button button-small button-ghost sop-skip",
                    onclick: () =>
                      replaceChildren(
                        controls,
                        reasonForm({ prompt: "Why skip this step?", confirmText: "Skip step", onConfirm: (reason) => mark("skipped", reason), onCancel: showControls }),
                      ),
                  },
                  "Skip…",
                )
              : null,
          );
        if (occ) showControls();
        const state =
          step.state === "pending"
            ? null
            : h(
                "span",
                { class: "sop-mark" },
                `${step.state === "done" ? "Done" : "Skipped"} by ${step.by} at ${formatDateTime(step.at)}`,
                step.reason ? ` — ${step.reason}` : "",
              );
        item.append(h("span", { class: "sop-box", "aria-hidden": "true" }), h("div", { class: "sop-text" }, h("span", { class: "sop-words" }, step.text), state), controls);
        return item;
      }),
    );
  }

  /** @param {IncidentDetail} incident */
  function renderTimeline(incident) {
    timeline.replaceChildren(
      ...[...incident.events].reverse().map((event) => {
        const [what, text] = eventWords(event, names);
        return h(
          "li",
          { class: `timeline-item kind-${event.kind}`, dataset: { kind: event.kind, to: event.to_status || "" } },
          h("time", { class: "timeline-time mono", dateTime: event.at }, formatDateTime(event.at)),
          h("span", { class: "timeline-actor" }, event.actor),
          h("span", { class: "timeline-what" }, what),
          text ? h("p", { class: "timeline-text" }, text) : null,
        );
      }),
    );
  }

  /** @param {IncidentDetail} incident */
  function renderCameras(incident) {
    if (!incident.camera_ids.length) {
      replaceChildren(cameras, h("li", { class: "muted" }, "No camera linked."));
      return;
    }
    replaceChildren(
      cameras,
      incident.camera_ids.map((cameraId) => {
        const name = h("span", { class: "link-sub" });
        const code = h("a", { href: cameraAt(cameraId, incident.opened_at), class: "mono camera-link", title: "Live video, and the recording from just before the incident" }, `Camera ${cameraId}`);
        cameraFacts(cameraId)
          .then((camera) => {
            if (!camera) return;
            code.textContent = camera.code;
            name.textContent = [camera.name, camera.address].filter(Boolean).join(" · ");
          })
          .catch(() => {});
        return h(
          "li",
          { dataset: { cameraId: String(cameraId) } },
          code,
          name,
          h("a", { class: "button button-small", href: cameraAt(cameraId, incident.opened_at) }, "▶ Live and recordings"),
        );
      }),
    );
  }

  /** @param {IncidentDetail} incident */
  async function renderAlerts(incident) {
    if (!incident.alert_ids.length) {
      replaceChildren(alertList, h("li", { class: "muted" }, "Opened by hand, not from alerts."));
      return;
    }
    replaceChildren(alertList, incident.alert_ids.map((alertId) => h("li", { dataset: { alertId: String(alertId) } }, `Alert ${alertId}`)));
    try {
      /** @type {Alert[]} */
      const linked = await request("/api/alerts", { query: { id: incident.alert_ids.slice(0, 500), limit: 500 }, signal });
      const byId = new Map(linked.map((alert) => [alert.id, alert]));
      for (const item of alertList.querySelectorAll("li")) {
        const alert = byId.get(Number(item.dataset.alertId));
        if (!alert) continue;
        replaceChildren(
          item,
          alert.thumbnail_url ? thumbnail(alert.thumbnail_url, { caption: alert.title }) : null,
          h(
            "div",
            { class: "alert-words" },
            priorityChip(alert.priority),
            " ",
            alert.title,
            alert.count > 1 ? h("span", { class: "repeat-count" }, ` ×${alert.count}`) : null,
            h("span", { class: "link-sub" }, `${sourceWord(alert.source)} · first ${formatDateTime(alert.first_at)} · last ${formatAgo(alert.last_at)}`),
          ),
        );
        item.classList.toggle("with-thumb", Boolean(alert.thumbnail_url));
      }
      renderSightings(incident.alert_ids.map((alertId) => byId.get(alertId)).filter((alert) => alert !== undefined));
    } catch (error) {
      if (!isQuiet(error)) alertList.title = errorText(error);
    }
  }

  /**
   * The stored event `id`, or null when it is gone or not within this user's access.
   * @param {number} eventId
   */
  function analyticsEvent(eventId) {
    let found = analyticsEvents.get(eventId);
    if (!found) {
      found = request(`/api/analytics/events/${eventId}`, { signal }).catch((error) => {
        if (statusOf(error) === 404 || statusOf(error) === 403) return null;
        analyticsEvents.delete(eventId);
        throw error;
      });
      analyticsEvents.set(eventId, found);
    }
    return found;
  }

  /**
   * What the analytics saw for the alerts that it raised: each event's snapshot, what and
   * when, and one click to the camera's recording from the moment it began.
   * @param {Alert[]} alerts
   */
  async function renderSightings(alerts) {
    const ids = alerts.map(eventIdOf).filter((id) => id !== null);
    if (!ids.length) {
      sightingsPanel.hidden = true;
      return;
    }
    const found = (await Promise.all(ids.map((eventId) => analyticsEvent(eventId).catch(() => null)))).filter((event) => event !== null);
    if (signal.aborted) return;
    sightingsPanel.hidden = !found.length;
    const pictures = mayWatchLive(user);
    const recordings = mayWatchRecordings(user);
    replaceChildren(
      sightings,
      found.map((event) => {
        const caption = `${analyticsWord(event.kind)} · ${event.rule_name} · ${event.camera_code} · ${formatDateTime(event.at)}`;
        return h(
          "li",
          { class: "sighting", dataset: { eventId: String(event.id) } },
          thumbnail(event.snapshot_url, {
            caption,
            missing: pictures ? "No snapshot kept for this event" : "Pictures are not part of your role",
            className: "thumb thumb-card",
          }),
          h(
            "div",
            { class: "sighting-facts" },
            h(
              "div",
              { class: "event-top" },
              h("span", { class: "event-kind" }, analyticsWord(event.kind)),
              event.object_class ? h("span", { class: "event-class" }, analyticsWord(event.object_class)) : null,
              h("span", { class: "event-confidence", title: "How sure the detector was" }, formatConfidence(event.confidence)),
            ),
            h("div", { class: "event-rule" }, event.rule_name),
            h("time", { class: "mono", dateTime: event.at }, formatDateTime(event.at)),
            h("a", { class: "mono camera-link", href: `#/cameras/${event.camera_id}` }, event.camera_code),
            recordings
              ? h(
                  "a",
                  {
                    class: "button button-small sighting-play",
                    href: cameraAt(event.camera_id, event.clip_start, 0),
                    title: `The camera's recording from ${formatDateTime(event.clip_start)}`,
                  },
                  "▶ Recording of the moment",
                )
              : null,
          ),
        );
      }),
    );
  }

  /** @param {IncidentDetail} incident */
  function renderTimes(incident) {
    const opened = Date.parse(incident.opened_at);
    replaceChildren(
      times,
      TIMES.map(([key, text]) => {
        const at = incident[key];
        const since = at && key !== "opened_at" ? ` (+${formatDuration((Date.parse(at) - opened) / 1000)})` : "";
        return [h("dt", {}, text), h("dd", { dataset: { field: key } }, at ? `${formatDateTime(at)}${since}` : h("span", { class: "muted" }, "—"))];
      }),
    );
  }

  /** @param {IncidentDetail} incident */
  function render(incident) {
    detail = incident;
    const type = names.type.get(incident.type_code) || incident.type_code;
    const unit = incident.police_unit_id ? names.unit.get(incident.police_unit_id) || `Unit ${incident.police_unit_id}` : "Not dispatched";
    const district = incident.district_id ? names.district.get(incident.district_id) || `District ${incident.district_id}` : "Outside every district";
    document.title = document.title.replace(/^[^·]*/, `${incident.number} `);
    replaceChildren(
      head,
      h(
        "div",
        { class: "incident-title" },
        h("h1", { id: "incident-number", class: "page-title mono" }, incident.number),
        h("span", { id: "incident-type", class: "incident-type" }, type),
        h("span", { id: "incident-priority", title: priorityWord(incident.priority) }, priorityChip(incident.priority)),
        h("span", { id: "incident-status" }, opsBadge("incident", incident.status)),
      ),
      h(
        "div",
        { class: "head-meta muted" },
        h("span", { id: "incident-district" }, district),
        " · ",
        h("span", { id: "incident-unit" }, unit),
        " · ",
        `opened by ${incident.opened_by} ${formatAgo(incident.opened_at)}`,
      ),
    );
    replaceChildren(summary, incident.summary ? h("p", { class: "summary-text" }, incident.summary) : h("p", { class: "muted" }, "No summary."));
    renderActions(incident);
    renderSop(incident);
    renderTimeline(incident);
    renderCameras(incident);
    renderAlerts(incident);
    renderTimes(incident);
    for (const material of materials) material.update(incident);
    if (content.firstChild !== head) {
      replaceChildren(content, head, h("div", { class: "action-bar" }, actions, message), body);
    }
  }

  async function load() {
    loadController?.abort();
    const mine = new AbortController();
    loadController = mine;
    try {
      const incident = await request(`/api/incidents/${id}`, { signal: AbortSignal.any([signal, mine.signal]) });
      render(incident);
    } catch (error) {
      if (isQuiet(error)) return;
      if (error instanceof NetworkError && detail) return;
      replaceChildren(content, errorState(error, load));
    }
  }

  subscribeWhile(signal, "incident", (incident) => {
    if (incident.id === id) load();
  });
  subscribeWhile(signal, "incident_gone", (gone) => {
    if (gone.id !== id) return;
    detail = null;
    replaceChildren(content, emptyState(officer ? "This incident has left your unit's queue." : "This incident is no longer within your access."));
  });
  subscribeWhile(signal, "resync", () => load());
  const onRestored = () => load();
  connection.addEventListener("restored", onRestored);

  loadNames().then((loaded) => {
    names = loaded;
    if (!signal.aborted) load();
  });

  return () => {
    loadController?.abort();
    connection.removeEventListener("restored", onRestored);
  };
}
