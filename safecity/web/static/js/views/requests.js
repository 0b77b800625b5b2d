// @ts-check
// Camera requests: a board with a column per status (submitted, under review, approved,
// rejected, installed), filtered by district and urgency; a request's detail beside it with
// the programme office's decisions; and a form to ask for a camera by clicking the city map
// (or typing a point, or an address and a district). The server cuts the board to the
// caller's organization and area; the buttons offered mirror what it would allow.

/** @import { CameraRequest, CameraRequestPage, District } from "../api-types.js" */
/** @import { CityMap } from "../city-map.js" */
/** @import { ViewContext } from "../router.js" */

import { ApiError, isQuiet, request } from "../api.js";
import { loadDistricts } from "../catalog.js";
import { createCityMap } from "../city-map.js";
import { h, replaceChildren } from "../dom.js";
import { formatCoordinate, formatDateTime, plural } from "../format.js";
import { reasonForm } from "../ops-ui.js";
import { mayDecideRequests, mayReadRequests, maySubmitRequests } from "../permissions.js";
import { hrefFor, navigate } from "../router.js";
import * as session from "../session.js";
import { emptyState, errorState, errorText, loadingState } from "../states.js";

const URL = "/api/planning/requests";
const PATH = "/requests";

/** @type {Array<[status: CameraRequest["status"], text: string]>} */
export const REQUEST_STATUSES = [
  ["submitted", "Submitted"],
  ["under_review", "Under review"],
  ["approved", "Approved"],
  ["rejected", "Rejected"],
  ["installed", "Installed"],
];
/** @type {Array<[urgency: CameraRequest["urgency"], text: string]>} */
const URGENCIES = [
  ["urgent", "Urgent"],
  ["high", "High"],
  ["normal", "Normal"],
  ["low", "Low"],
];
const STATUS_WORD = new Map(REQUEST_STATUSES);
const URGENCY_WORD = new Map(URGENCIES);

/**
 * What the server said was wrong (the district outside your area, the camera in another
 * district), in its words where it gave some.
 * @param {unknown} error
 */
function serverSays(error) {
  return error instanceof ApiError && error.detail && error.status !== 404 ? error.detail : errorText(error);
}

/** @param {CameraRequest["status"]} status */
function statusBadge(status) {
  return h("span", { class: `badge request-status request-status-${status}`, dataset: { status } }, STATUS_WORD.get(status) || status);
}

/** @param {CameraRequest["urgency"]} urgency */
function urgencyChip(urgency) {
  return h("span", { class: `request-urgency urgency-${urgency}`, dataset: { urgency } }, URGENCY_WORD.get(urgency) || urgency);
}

/** @param {CameraRequest} item */
function placeText(item) {
  const point = item.latitude !== null && item.longitude !== null ? `${formatCoordinate(item.latitude)}, ${formatCoordinate(item.longitude)}` : null;
  return [item.address, point].filter(Boolean).join(" · ") || "—";
}

/**
 * @param {HTMLElement} outlet
 * @param {ViewContext} context
 */
export function mount(outlet, { query, signal }) {
  const user = session.user();
  if (!mayReadRequests(user)) {
    outlet.replaceChildren(h("section", { class: "page" }, emptyState("Your role has no camera requests to see.")));
    return;
  }
  const decider = mayDecideRequests(user);
  const filters = { district_id: query.district_id || "", urgency: query.urgency || "" };
  /** @type {District[]} */
  let districts = [];
  /** @type {CityMap[]} */
  let maps = [];

  const count = h("span", { id: "requests-count", class: "result-count" });
  const board = h("div", { id: "request-board", class: "request-board" }, loadingState("Loading requests…"));
  const side = h("aside", { id: "request-side", class: "request-side panel" });
  const districtSelect = h("select", { id: "requests-district", class: "select", "aria-label": "District" }, h("option", { value: "" }, "All districts"));
  const urgencySelect = h(
    "select",
    { id: "requests-urgency", class: "select", "aria-label": "Urgency" },
    h("option", { value: "" }, "Any urgency"),
    URGENCIES.map(([value, text]) => h("option", { value }, text)),
  );
  urgencySelect.value = filters.urgency;
  const exportLink = h("a", { id: "requests-export", class: "button button-ghost", download: "camera-requests.csv" }, "Export CSV");
  const newButton = maySubmitRequests(user)
    ? h("button", { id: "request-new", type: "button", class: "button button-primary", onclick: () => go({ new: "1" }) }, "New request")
    : null;

  outlet.replaceChildren(
    h(
      "section",
      { class: "page page-requests" },
      h(
        "div",
        { class: "toolbar" },
        h("h1", { class: "page-title" }, "Camera requests"),
        h("div", { class: "filter-bar" }, districtSelect, urgencySelect),
        count,
        h("div", { class: "header-spacer" }),
        exportLink,
        newButton,
      ),
      h("div", { class: "requests-layout" }, board, side),
    ),
  );

  /** @param {Record<string, string | undefined>} extra */
  function go(extra) {
    navigate(PATH, { ...filters, ...extra });
  }

  for (const [select, key] of /** @type {Array<[HTMLSelectElement, "district_id" | "urgency"]>} */ ([[districtSelect, "district_id"], [urgencySelect, "urgency"]])) {
    select.addEventListener("change", () => {
      filters[key] = select.value;
      go({ id: query.id, new: query.new });
    });
  }

  function dropMaps() {
    for (const map of maps) map.destroy();
    maps = [];
  }

  async function load() {
    const apiQuery = { district_id: filters.district_id, urgency: filters.urgency };
    exportLink.setAttribute("href", `${URL}/export.csv${hrefFor("", apiQuery).slice(1)}`);
    try {
      districts = await loadDistricts();
      if (districtSelect.options.length === 1) {
        districtSelect.append(...districts.filter((d) => d.in_scope).map((d) => h("option", { value: String(d.id) }, d.name)));
        districtSelect.value = filters.district_id;
      }
      /** @type {CameraRequestPage} */
      const page = await request(URL, { query: { ...apiQuery, limit: 500 }, signal });
      drawBoard(page);
      return page;
    } catch (error) {
      if (!isQuiet(error)) board.replaceChildren(errorState(error, load));
      return null;
    }
  }

  /** @param {CameraRequestPage} page */
  function drawBoard(page) {
    count.textContent = plural(page.total, "request");
    const columns = REQUEST_STATUSES.map(([status, text]) => {
      const items = page.items.filter((item) => item.status === status);
      return h(
        "section",
        { class: "board-column", dataset: { status }, "aria-label": text },
        h("h2", { class: "board-column-title" }, statusBadge(status), h("span", { class: "board-count" }, String(page.by_status[status] ?? items.length))),
        h("div", { class: "board-cards" }, items.length ? items.map(card) : h("p", { class: "muted board-empty" }, "None")),
      );
    });
    replaceChildren(board, columns);
  }

  /** @param {CameraRequest} item */
  function card(item) {
    const selected = String(item.id) === query.id;
    return h(
      "a",
      {
        class: `request-card${selected ? " selected" : ""}`,
        href: hrefFor(PATH, { ...filters, id: item.id }),
        dataset: { requestId: String(item.id), status: item.status },
        "aria-current": selected ? "true" : null,
      },
      h("div", { class: "request-card-head" }, h("span", { class: "mono request-number" }, item.number), urgencyChip(item.urgency)),
      h("div", { class: "request-card-where" }, item.district, " · ", item.organization),
      h("p", { class: "request-card-why" }, item.justification),
    );
  }

  // --- the side: one request, or the form ---------------------------------------------------

  /** @param {CameraRequest} item */
  function showDetail(item) {
    dropMaps();
    const mini = createCityMap({ id: "request-map", interactive: false, labels: false });
    maps.push(mini);
    /** @type {Array<[string, import("../dom.js").Child]>} */
    const facts = [
      ["Organization", item.organization],
      ["District", item.district],
      ["Place", placeText(item)],
      ["Site", item.site_name ? `${item.site_name} (${item.site_code})` : "—"],
      ["Submitted", [formatDateTime(item.submitted_at), item.submitted_by ? ` by ${item.submitted_by}` : ""]],
    ];
    if (item.decided_at) facts.push(["Decided", [formatDateTime(item.decided_at), item.decided_by ? ` by ${item.decided_by}` : ""]]);
    if (item.decision_reason) facts.push([item.status === "rejected" ? "Why rejected" : "Decision", item.decision_reason]);
    if (item.camera_id) facts.push(["Camera", [h("a", { href: `#/cameras/${item.camera_id}`, class: "mono" }, item.camera_code), ` installed ${formatDateTime(item.installed_at)}`]]);
    const actions = h("div", { id: "request-actions", class: "request-actions" });
    replaceChildren(
      side,
      h(
        "div",
        { id: "request-detail", class: "request-detail", dataset: { requestId: String(item.id), status: item.status } },
        h("div", { class: "panel-head" }, h("h2", { class: "request-title" }, h("span", { class: "mono" }, item.number), " ", statusBadge(item.status), " ", urgencyChip(item.urgency)), h("a", { class: "button button-ghost", href: hrefFor(PATH, filters), "aria-label": "Close" }, "×")),
        h("div", { class: "request-body" }, h("p", { class: "request-why" }, item.justification), h("dl", { class: "request-facts" }, facts.map(([term, value]) => [h("dt", {}, term), h("dd", {}, value)])), mini.element, actions),
      ),
    );
    if (districts.length) {
      mini.setDistricts(districts, { focus: item.district_id });
      if (item.latitude !== null && item.longitude !== null) mini.setMarker(item.longitude, item.latitude);
    }
    if (decider) drawActions(actions, item);
  }

  /**
   * The programme office's buttons for the moves the request allows now.
   * @param {HTMLElement} host
   * @param {CameraRequest} item
   */
  function drawActions(host, item) {
    /**
     * @param {string} move
     * @param {unknown} [body]
     */
    async function make(move, body) {
      const done = await request(`${URL}/${item.id}/${move}`, { method: "POST", body, signal });
      await load();
      showDetail(done);
    }
    const buttons = item.allowed.map((move) => {
      if (move === "review") return h("button", { type: "button", class: "button button-primary", dataset: { move }, onclick: () => run(() => make("review")) }, "Take under review");
      if (move === "approve") return h("button", { type: "button", class: "button button-primary", dataset: { move }, onclick: () => approveForm() }, "Approve");
      if (move === "reject") return h("button", { type: "button", class: "button button-danger", dataset: { move }, onclick: () => rejectForm() }, "Reject");
      return h("button", { type: "button", class: "button button-primary", dataset: { move }, onclick: () => installForm() }, "Mark installed");
    });
    const message = h("p", { class: "form-message form-error", role: "alert" });
    const reset = () => replaceChildren(host, buttons.length ? h("div", { class: "form-actions" }, buttons) : null, message);
    /** @param {() => Promise<unknown>} action */
    async function run(action) {
      for (const button of buttons) button.disabled = true;
      try {
        await action();
      } catch (error) {
        if (isQuiet(error)) return;
        message.textContent = serverSays(error);
        for (const button of buttons) button.disabled = false;
      }
    }
    function rejectForm() {
      replaceChildren(host, reasonForm({ prompt: `Why reject ${item.number}?`, confirmText: "Reject", danger: true, onConfirm: (reason) => make("reject", { reason }), onCancel: reset }));
    }
    /**
     * A one-field form: `label`, an input, `confirm`; `submit(value)` does the move.
     * @param {string} id
     * @param {string} label
     * @param {string} confirm
     * @param {boolean} required
     * @param {(value: string) => Promise<unknown>} submit
     */
    function oneField(id, label, confirm, required, submit) {
      const input = h("input", { id, class: "input", required, maxlength: 2000, "aria-label": label });
      const error = h("p", { class: "form-message form-error", role: "alert" });
      const form = h(
        "form",
        { class: "reason-form" },
        h("label", { class: "field" }, h("span", { class: "field-label" }, label), input),
        h("div", { class: "form-actions" }, h("button", { type: "submit", class: "button button-primary" }, confirm), h("button", { type: "button", class: "button button-ghost", onclick: reset }, "Cancel"), error),
      );
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        try {
          await submit(input.value.trim());
        } catch (problem) {
          if (!isQuiet(problem)) error.textContent = serverSays(problem);
        }
      });
      replaceChildren(host, form);
      queueMicrotask(() => input.focus());
    }
    const approveForm = () => oneField("approve-reason", "Why approve? (optional)", "Approve", false, (reason) => make("approve", reason ? { reason } : {}));
    const installForm = () => oneField("install-camera", "The camera put up for it (its code)", "Mark installed", true, (code) => make("install", { camera_code: code }));
    reset();
  }

  async function showForm() {
    dropMaps();
    const formMap = createCityMap({ id: "request-form-map", onPointClick: (lon, lat) => pick(lat, lon) });
    maps.push(formMap);
    const latitude = h("input", { id: "request-latitude", class: "input", inputmode: "decimal", "aria-label": "Latitude" });
    const longitude = h("input", { id: "request-longitude", class: "input", inputmode: "decimal", "aria-label": "Longitude" });
    const address = h("input", { id: "request-address", class: "input", maxlength: 300 });
    const district = h("select", { id: "request-district", class: "select" }, h("option", { value: "" }, "From the map point"), districts.filter((d) => d.in_scope).map((d) => h("option", { value: String(d.id) }, d.name)));
    const urgency = h("select", { id: "request-urgency", class: "select" }, URGENCIES.map(([value, text]) => h("option", { value, selected: value === "normal" }, text)));
    const justification = h("textarea", { id: "request-justification", class: "input textarea", rows: 4, maxlength: 4000, required: true });
    const organization = decider ? h("select", { id: "request-organization", class: "select", required: true }, h("option", { value: "" }, "Choose…")) : null;
    const message = h("p", { id: "request-form-message", class: "form-message form-error", role: "alert" });
    const submit = h("button", { id: "request-submit", type: "submit", class: "button button-primary" }, "Submit request");

    /**
     * @param {number} lat
     * @param {number} lon
     */
    function pick(lat, lon) {
      latitude.value = lat.toFixed(6);
      longitude.value = lon.toFixed(6);
      formMap.setMarker(lon, lat);
    }

    /**
     * @param {string} text
     * @param {...import("../dom.js").Child} field
     */
    const labelled = (text, ...field) => h("label", { class: "field" }, h("span", { class: "field-label" }, text), field);
    const form = h(
      "form",
      { id: "request-form", class: "request-form" },
      h("div", { class: "panel-head" }, h("h2", { class: "request-title" }, "New camera request"), h("a", { class: "button button-ghost", href: hrefFor(PATH, filters), "aria-label": "Close" }, "×")),
      h(
        "div",
        { class: "request-body" },
        organization ? labelled("Asking organization", organization) : null,
        h("p", { class: "muted form-hint" }, "Click the map where the camera should go, or type the point; without a point give the address and the district."),
        formMap.element,
        h("div", { class: "form-row" }, labelled("Latitude", latitude), labelled("Longitude", longitude)),
        h("div", { class: "form-row" }, labelled("Address", address), labelled("District", district)),
        labelled("Urgency", urgency),
        labelled("Why a camera is needed there", justification),
        h("div", { class: "form-actions" }, submit, message),
      ),
    );
    replaceChildren(side, form);
    formMap.setDistricts(districts);
    request("/api/map/cameras", { signal })
      .then((points) => formMap.setCameras(points))
      .catch(() => {}); // the cameras only help to see the gaps; the form works without them
    if (organization) {
      request("/api/admin/organizations", { query: { active: true }, signal })
        .then((/** @type {Array<{ id: number, name: string, kind: string }>} */ found) => {
          organization.append(...found.filter((o) => o.kind === "akimat" || o.kind === "police").map((o) => h("option", { value: String(o.id) }, o.name)));
        })
        .catch((error) => {
          if (!isQuiet(error)) message.textContent = errorText(error);
        });
    }
    for (const input of [latitude, longitude]) {
      input.addEventListener("change", () => {
        const lat = Number(latitude.value);
        const lon = Number(longitude.value);
        if (latitude.value && longitude.value && Number.isFinite(lat) && Number.isFinite(lon)) formMap.setMarker(lon, lat);
      });
    }
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      message.textContent = "";
      /** @type {Record<string, unknown>} */
      const body = { justification: justification.value.trim(), urgency: urgency.value };
      if (latitude.value.trim() || longitude.value.trim()) {
        body.latitude = Number(latitude.value);
        body.longitude = Number(longitude.value);
      }
      if (address.value.trim()) body.address = address.value.trim();
      if (district.value) body.district_id = Number(district.value);
      if (organization?.value) body.organization_id = Number(organization.value);
      submit.disabled = true;
      try {
        /** @type {CameraRequest} */
        const made = await request(URL, { method: "POST", body, signal });
        navigate(PATH, { ...filters, id: made.id });
      } catch (error) {
        if (isQuiet(error)) return;
        message.textContent = serverSays(error);
        submit.disabled = false;
      }
    });
  }

  async function start() {
    const page = await load();
    if (!page) return;
    if (query.new && maySubmitRequests(user)) {
      showForm();
    } else if (query.id) {
      const shown = page.items.find((item) => String(item.id) === query.id);
      try {
        showDetail(shown || (await request(`${URL}/${query.id}`, { signal })));
      } catch (error) {
        if (!isQuiet(error)) replaceChildren(side, errorState(error));
      }
    } else {
      replaceChildren(side, emptyState(maySubmitRequests(user) ? "Choose a request to see it, or ask for a new camera." : "Choose a request to see it."));
    }
  }

  start();
  return dropMaps;
}
