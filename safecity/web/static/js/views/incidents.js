// The incident list, updated live from the ops feed. For the OCC it is every incident; for a
// police duty officer it is their unit's queue (the server cuts it so), with the unit's
// actions (accept, reject, arrived, resolve) as big buttons on each row.

import { NetworkError, connection, isQuiet, request } from "../api.js";
import { loadDistricts } from "../catalog.js";
import { h, replaceChildren } from "../dom.js";
import { formatAgo, formatCount, formatDateTime, formatTime } from "../format.js";
import { loadIncidentTypes, loadPoliceUnits, pagedLoader } from "../ops-data.js";
import { subscribeWhile } from "../ops-feed.js";
import { opsBadge, priorityChip, reasonForm, segmentedFilter } from "../ops-ui.js";
import { INCIDENT_STATUSES, OPEN_INCIDENT_STATUSES, byUrgency, transitionsFrom } from "../ops-words.js";
import { isDutyOfficer, mayMakeTransition, mayReadIncidents } from "../permissions.js";
import { navigate, replaceQuery } from "../router.js";
import * as session from "../session.js";
import { emptyState, errorState, errorText, loadingState } from "../states.js";

const PAGE_SIZE = 200;
const FRESH_MS = 6000;
const AGE_TICK_MS = 15_000;

const VIEWS = [["open", "Open", OPEN_INCIDENT_STATUSES], ...INCIDENT_STATUSES.map(([key, text]) => [key, text, [key]]), ["all", "All", null]];

function statusesOf(view) {
  return (VIEWS.find(([key]) => key === view) || VIEWS[0])[2];
}

/** Names for the ids in an incident row: types, districts and units, loaded once. */
async function loadNames() {
  const [types, districts, units] = await Promise.all([
    loadIncidentTypes().catch(() => []),
    loadDistricts().catch(() => []),
    loadPoliceUnits().catch(() => []),
  ]);
  return {
    type: new Map(types.map((t) => [t.code, t.name])),
    district: new Map(districts.map((d) => [d.id, d.name])),
    unit: new Map(units.map((u) => [u.id, u.name])),
  };
}

export function mount(outlet, { query, signal }) {
  const user = session.user();
  if (!mayReadIncidents(user)) {
    outlet.replaceChildren(h("section", { class: "page" }, emptyState("Your role has no incidents to see.")));
    return undefined;
  }
  const officer = isDutyOfficer(user);
  const title = officer ? "My queue" : "Incidents";
  let view = VIEWS.some(([key]) => key === query.status) ? query.status : "open";
  const incidents = new Map();
  const rows = new Map();
  const freshTimers = new Map();
  let names = { type: new Map(), district: new Map(), unit: new Map() };

  const count = h("span", { id: "incident-count", class: "result-count", "aria-live": "polite" });
  const updated = h("span", { id: "incidents-updated", class: "muted updated" });
  const body = h("tbody", { id: "incident-rows" });
  const columns = ["Priority", "Number", "Type", "Status", "District", "Unit", "Opened", "Summary"];
  if (officer) columns.push("Your action");
  const table = h(
    "table",
    { id: "incident-table", class: `data-table ops-table${officer ? " queue-table" : ""}` },
    h("thead", {}, h("tr", {}, columns.map((name) => h("th", { scope: "col" }, name)))),
    body,
  );
  const tableHost = h("div", { class: "table-wrap" }, loadingState(`Loading ${title.toLowerCase()}…`));
  const moreButton = h("button", { id: "incidents-more", type: "button", class: "button", onclick: () => load({ append: true }) }, "Load more");
  const more = h("footer", { class: "pager", hidden: true }, h("span", { class: "pager-spacer" }), moreButton);
  const page = h(
    "section",
    { class: `page page-incidents${officer ? " page-queue" : ""}`, "aria-labelledby": "incidents-title" },
    h(
      "div",
      { class: "toolbar" },
      h("h1", { id: "incidents-title", class: "page-title" }, title),
      segmentedFilter({
        id: "incident-view",
        label: "Which incidents",
        options: VIEWS.map(([key, text]) => [key, text]),
        value: view,
        onPick: (picked) => {
          view = picked;
          replaceQuery("/incidents", view === "open" ? {} : { status: view });
          load();
        },
      }),
      h("div", { class: "header-spacer" }),
      count,
      updated,
    ),
    tableHost,
    more,
  );
  outlet.replaceChildren(page);

  function matches(incident) {
    const statuses = statusesOf(view);
    return !statuses || statuses.includes(incident.status);
  }

  async function transition(incident, to, reason) {
    const done = await request(`/api/incidents/${incident.id}/transitions`, {
      method: "POST",
      signal,
      body: reason ? { to, reason } : { to },
    });
    upsert(done);
  }

  function actionsCell(incident) {
    const cell = h("td", { class: "cell-actions queue-actions" });
    const offered = transitionsFrom(incident.status, incident.allowed).filter((t) => mayMakeTransition(user, t));
    const buttons = offered.map((t) =>
      h(
        "button",
        {
          type: "button",
          class: `button button-big ${t.reason ? "button-danger" : "button-primary"}`,
          dataset: { transition: t.name },
          onclick: async (event) => {
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
            const button = event.currentTarget;
            for (const other of buttons) other.disabled = true;
            try {
              await transition(incident, t.to);
            } catch (error) {
              if (isQuiet(error)) return;
              for (const other of buttons) other.disabled = false;
              button.title = errorText(error);
              updated.textContent = `${incident.number}: ${errorText(error)}`;
            }
          },
        },
        t.verb,
      ),
    );
    replaceChildren(cell, buttons.length ? buttons : h("span", { class: "muted" }, "—"));
    cell.addEventListener("click", (event) => event.stopPropagation());
    return cell;
  }

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
      h("td", { class: "cell-seen", title: formatDateTime(incident.opened_at) }, h("span", { class: "age", dataset: { at: incident.opened_at } }, formatAgo(incident.opened_at, now))),
      h("td", { class: "cell-summary" }, incident.summary || h("span", { class: "muted" }, "—")),
      officer ? actionsCell(incident) : null,
    );
  }

  function draw() {
    const now = Date.now();
    const ordered = [...incidents.values()].sort(byUrgency((incident) => incident.opened_at));
    for (const incident of ordered) if (!rows.has(incident.id)) rows.set(incident.id, row(incident, now));
    for (const [id, tr] of rows) {
      if (!incidents.has(id)) {
        tr.remove();
        rows.delete(id);
      }
    }
    ordered.forEach((incident, index) => {
      const tr = rows.get(incident.id);
      if (body.children[index] !== tr) body.insertBefore(tr, body.children[index] || null);
    });
    count.textContent = `${formatCount(incidents.size)} ${incidents.size === 1 ? "incident" : "incidents"}`;
    if (incidents.size) {
      if (tableHost.firstChild !== table) replaceChildren(tableHost, table);
    } else {
      replaceChildren(tableHost, emptyState(officer ? "Nothing in your unit's queue." : "No incidents here."));
    }
  }

  function markFresh(id) {
    const tr = rows.get(id);
    if (!tr) return;
    clearTimeout(freshTimers.get(id));
    tr.classList.add("row-fresh");
    freshTimers.set(
      id,
      setTimeout(() => {
        rows.get(id)?.classList.remove("row-fresh");
        freshTimers.delete(id);
      }, FRESH_MS),
    );
  }

  function upsert(incident) {
    const before = incidents.get(incident.id);
    rows.get(incident.id)?.remove();
    rows.delete(incident.id);
    // An officer's rejection answers with the incident back at the OCC: out of their queue.
    const kept = matches(incident) && !(officer && !incident.police_unit_id);
    if (kept) incidents.set(incident.id, incident);
    else incidents.delete(incident.id);
    draw();
    if (!before || before.status !== incident.status) markFresh(incident.id);
  }

  function forget({ id }) {
    if (!incidents.delete(id)) return;
    draw();
  }

  const load = pagedLoader("/api/incidents", {
    signal,
    busy: page,
    more,
    query: () => ({ status: statusesOf(view) || undefined, limit: PAGE_SIZE }),
    onPage(items, { append }) {
      if (!append) {
        incidents.clear();
        rows.clear();
        body.replaceChildren();
      }
      for (const incident of items) incidents.set(incident.id, incident);
      draw();
      updated.textContent = `Updated ${formatTime(new Date())}`;
    },
    onError(error) {
      if (error instanceof NetworkError && incidents.size) return;
      replaceChildren(tableHost, errorState(error, () => load()));
    },
  });

  body.addEventListener("click", (event) => {
    if (event.target.closest("a, button, form") || window.getSelection()?.toString()) return;
    const tr = event.target.closest(".incident-row");
    if (tr) navigate(`/incidents/${tr.dataset.incidentId}`);
  });

  const ageTimer = setInterval(() => {
    const now = Date.now();
    for (const age of body.querySelectorAll(".age")) age.textContent = formatAgo(age.dataset.at, now);
  }, AGE_TICK_MS);

  // The feed sends only what this user's list would show (an officer: their unit's queue),
  // and `incident_gone` when one leaves it (rejected, handed to another unit).
  subscribeWhile(signal, "incident", upsert);
  subscribeWhile(signal, "incident_gone", forget);
  subscribeWhile(signal, "resync", () => load());
  const onRestored = () => load();
  connection.addEventListener("restored", onRestored);

  loadNames()
    .then((loaded) => {
      names = loaded;
    })
    .finally(() => {
      if (!signal.aborted) load();
    });

  return () => {
    clearInterval(ageTimer);
    for (const timer of freshTimers.values()) clearTimeout(timer);
    connection.removeEventListener("restored", onRestored);
  };
}
