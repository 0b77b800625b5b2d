// @ts-check
// The incident list, updated live from the ops feed. For the OCC it is every incident; for a
// police duty officer it is their unit's queue (the server cuts it so), with the unit's
// actions (accept, reject, arrived, resolve) as big buttons on each row.

/** @import { Incident } from "../api-types.js" */
/** @import { ListView } from "../ops-list.js" */
/** @import { ViewContext } from "../router.js" */

import { isQuiet, request } from "../api.js";
import { closest, h, replaceChildren } from "../dom.js";
import { formatDateTime, plural } from "../format.js";
import { emptyNames, loadNames } from "../ops-data.js";
import { ageCell, opsList } from "../ops-list.js";
import { opsBadge, priorityChip, reasonForm } from "../ops-ui.js";
import { INCIDENT_STATUSES, OPEN_INCIDENT_STATUSES, transitionsFrom } from "../ops-words.js";
import { isDutyOfficer, mayMakeTransition, mayReadIncidents } from "../permissions.js";
import { navigate } from "../router.js";
import * as session from "../session.js";
import { emptyState, errorText } from "../states.js";

/** @type {ListView[]} */
const VIEWS = [["open", "Open", OPEN_INCIDENT_STATUSES], ...INCIDENT_STATUSES.map(([key, text]) => /** @type {ListView} */ ([key, text, [key]])), ["all", "All", null]];

/**
 * @param {HTMLElement} outlet
 * @param {ViewContext} context
 */
export function mount(outlet, { query, signal }) {
  const user = session.user();
  if (!mayReadIncidents(user)) {
    outlet.replaceChildren(h("section", { class: "page" }, emptyState("Your role has no incidents to see.")));
    return;
  }
  const officer = isDutyOfficer(user);
  let names = emptyNames();

  const columns = ["Priority", "Number", "Type", "Status", "District", "Unit", "Opened", "Summary"];
  if (officer) columns.push("Your action");
  /** @type {ReturnType<typeof opsList<Incident>>} */
  const list = opsList({
    kind: "incident",
    title: officer ? "My queue" : "Incidents",
    pageClass: `page page-incidents${officer ? " page-queue" : ""}`,
    views: VIEWS,
    view: query.status,
    viewParam: "status",
    columns,
    tableClass: officer ? "queue-table" : "",
    row,
    timeOf: (incident) => incident.opened_at,
    isNews: (incident, before) => before.status !== incident.status,
    // An officer's rejection answers with the incident back at the OCC: out of their queue.
    keeps: (incident) => !(officer && !incident.police_unit_id),
    countText: (incidents) => plural(incidents.size, "incident"),
    emptyText: () => (officer ? "Nothing in your unit's queue." : "No incidents here."),
    ready: loadNames().then((loaded) => {
      names = loaded;
    }),
    signal,
  });
  outlet.replaceChildren(list.page);

  /**
   * @param {Incident} incident
   * @param {string} to
   * @param {string} [reason]
   */
  async function transition(incident, to, reason) {
    const done = await request(`/api/incidents/${incident.id}/transitions`, {
      method: "POST",
      signal,
      body: reason ? { to, reason } : { to },
    });
    list.upsert(done);
  }

  /** @param {Incident} incident */
  function actionsCell(incident) {
    const cell = h("td", { class: "cell-actions queue-actions" });
    const offered = transitionsFrom(incident.status, incident.allowed).filter((t) => mayMakeTransition(user, t));
    const buttons = offered.map((t) => {
      const button = h(
        "button",
        {
          type: "button",
          class: `button button-big ${t.reason ? "button-danger" : "button-primary"}`,
          dataset: { transition: t.name },
        },
        t.verb,
      );
      button.addEventListener("click", async (event) => {
        event.stopPropagation();
        if (t.reason) {
          replaceChildren(
            cell,
            reasonForm({
              prompt: `Why ${t.name} ${incident.number}?`,
              confirmText: t.verb,
              danger: true,
              onConfirm: (reason) => transition(incident, t.to, reason),
              onCancel: () => replaceChildren(cell, buttons),
            }),
          );
          return;
        }
        for (const other of buttons) other.disabled = true;
        try {
          await transition(incident, t.to);
        } catch (error) {
          if (isQuiet(error)) return;
          for (const other of buttons) other.disabled = false;
          button.title = errorText(error);
          list.tell(`${incident.number}: ${errorText(error)}`);
        }
      });
      return button;
    });
    replaceChildren(cell, buttons.length ? buttons : h("span", { class: "muted" }, "—"));
    cell.addEventListener("click", (event) => event.stopPropagation());
    return cell;
  }

  /**
   * @param {Incident} incident
   * @param {number} now
   */
  function row(incident, now) {
    const unit = incident.police_unit_id ? names.unit.get(incident.police_unit_id) || `Unit ${incident.police_unit_id}` : null;
    return h(
      "tr",
      { class: "incident-row", dataset: { incidentId: String(incident.id), status: incident.status } },
      h("td", { class: "cell-priority" }, priorityChip(incident.priority)),
      h("td", { class: "cell-code mono" }, h("a", { href: `#/incidents/${incident.id}` }, incident.number)),
      h("td", { class: "cell-type" }, names.type.get(incident.type_code) || incident.type_code),
      h("td", { class: "cell-status" }, opsBadge("incident", incident.status)),
      h("td", { class: "cell-district" }, incident.district_id ? names.district.get(incident.district_id) || `District ${incident.district_id}` : h("span", { class: "muted" }, "—")),
      h("td", { class: "cell-unit" }, unit || h("span", { class: "muted" }, "not dispatched")),
      ageCell(incident.opened_at, now, formatDateTime(incident.opened_at)),
      h("td", { class: "cell-summary" }, incident.summary || h("span", { class: "muted" }, "—")),
      officer ? actionsCell(incident) : null,
    );
  }

  list.body.addEventListener("click", (event) => {
    if (closest(event, "a, button, form") || window.getSelection()?.toString()) return;
    const tr = closest(event, ".incident-row");
    if (tr instanceof HTMLElement) navigate(`/incidents/${tr.dataset.incidentId}`);
  });
}
