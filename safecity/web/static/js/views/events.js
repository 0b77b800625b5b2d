// @ts-check
// Forensic search: the events the video analytics raised on the cameras this user may see,
// newest first, narrowed by time, camera, site, district, kind, object class and rule. Each
// shows its best snapshot (for the roles that may see pictures), and one click opens the
// camera's recording at the moment it began. The filters live in the hash, so a link or a
// reload shows the same search.

/** @import { AnalyticsEvent, Camera, District, Page, Site } from "../api-types.js" */
/** @import { Query } from "../api.js" */
/** @import { ViewContext } from "../router.js" */

import { OBJECT_CLASSES, RULE_KINDS, analyticsWord, formatConfidence } from "../analytics-words.js";
import { ApiError, NetworkError, isQuiet, request } from "../api.js";
import { isOwnDistrict, loadDistricts } from "../catalog.js";
import { fromInputValue, toInputValue, zoneLabel } from "../clock.js";
import { debounce, h, replaceChildren } from "../dom.js";
import { formatDateTime, formatTime } from "../format.js";
import { cameraFacts, pagedLoader } from "../ops-data.js";
import { cameraAt, segmentedFilter } from "../ops-ui.js";
import { mayWatchLive, mayWatchRecordings, maySearchEvents } from "../permissions.js";
import { replaceQuery } from "../router.js";
import * as session from "../session.js";
import { emptyState, errorState, errorText, loadingState } from "../states.js";
import { thumbnail } from "../thumbnails.js";

const PAGE_SIZE = 48;
const CAMERA_HINTS = 20;
const HOUR_MS = 3600_000;
/** @type {Array<[key: string, text: string, hours: number]>} */
const PRESETS = [
  ["1h", "Last hour", 1],
  ["24h", "24 h", 24],
  ["7d", "7 days", 24 * 7],
];
/** @type {Array<[value: string, text: string]>} */
const LAYOUTS = [
  ["grid", "Grid"],
  ["list", "List"],
];

/**
 * What is searched for, by the API's parameter names (moments as ISO text).
 * @typedef {object} Search
 * @property {string} [since]
 * @property {string} [until]
 * @property {string} [camera_id]
 * @property {string} [site_id]
 * @property {string} [district_id]
 * @property {string} [kind]
 * @property {string} [object_class]
 * @property {string} [rule]
 */

/** @type {Array<keyof Search>} */
const SEARCH_KEYS = ["since", "until", "camera_id", "site_id", "district_id", "kind", "object_class", "rule"];

/**
 * The search a hash asks for; without a time range, the last 24 hours.
 * @param {Record<string, string | undefined>} query
 * @returns {Search}
 */
function searchFrom(query) {
  /** @type {Search} */
  const search = {};
  for (const key of SEARCH_KEYS) {
    const value = (query[key] || "").trim();
    if (!value) continue;
    if (key.endsWith("_id") && !/^\d+$/.test(value)) continue;
    if ((key === "since" || key === "until") && Number.isNaN(Date.parse(value.replace(" ", "+")))) continue;
    search[key] = key === "since" || key === "until" ? value.replace(" ", "+") : value;
  }
  if (!search.since && !search.until) search.since = new Date(Date.now() - 24 * HOUR_MS).toISOString();
  return search;
}

/**
 * @param {string} id
 * @param {string} text
 * @param {HTMLElement} control
 */
function field(id, text, control) {
  return h("label", { class: "field", for: id }, h("span", { class: "field-label" }, text), control);
}

/**
 * @param {string} id
 * @param {string} allText
 * @param {Array<[value: string, text: string]>} options
 * @param {string | undefined} value
 */
function select(id, allText, options, value) {
  return h(
    "select",
    { id, class: "select" },
    h("option", { value: "" }, allText),
    options.map(([optionValue, text]) => h("option", { value: optionValue, selected: optionValue === value }, text)),
  );
}

/**
 * @param {string} id
 * @param {string} placeholder
 */
function timeInput(id, placeholder) {
  return h("input", {
    id,
    class: "input input-datetime",
    type: "text",
    inputmode: "numeric",
    autocomplete: "off",
    spellcheck: "false",
    placeholder,
  });
}

/**
 * @param {HTMLElement} outlet
 * @param {ViewContext} context
 */
export function mount(outlet, { query, signal }) {
  const user = session.signedIn();
  if (!maySearchEvents(user)) {
    outlet.replaceChildren(h("section", { class: "page" }, emptyState("Searching analytics events is not part of your role.")));
    return;
  }
  const pictures = mayWatchLive(user);
  const recordings = mayWatchRecordings(user);
  let search = searchFrom(query);
  // Without pictures a grid is rows of placeholders: a list reads better.
  let layout = query.layout === "list" || query.layout === "grid" ? query.layout : pictures ? "grid" : "list";
  /** @type {AnalyticsEvent[]} */
  let found = [];
  /** @type {Map<number, string>} */
  let districtNames = new Map();
  /** @type {Map<string, number>} a camera's code (upper case) → its id, as hints and answers told */
  const cameraIds = new Map();

  const since = timeInput("events-since", "YYYY-MM-DD HH:MM");
  const until = timeInput("events-until", "now");
  const presets = PRESETS.map(([key, text, hours]) =>
    h(
      "button",
      {
        type: "button",
        class: "button button-ghost button-small",
        dataset: { preset: key },
        onclick: () => {
          since.value = toInputValue(new Date(Date.now() - hours * HOUR_MS));
          until.value = "";
          submit();
        },
      },
      text,
    ),
  );
  const cameraHints = h("datalist", { id: "events-camera-hints" });
  const camera = h("input", {
    id: "events-camera",
    class: "input",
    type: "search",
    list: "events-camera-hints",
    placeholder: "Code or name",
    autocomplete: "off",
    spellcheck: "false",
    maxlength: 100,
  });
  const site = select("events-site", "All sites", [], undefined);
  const district = select("events-district", "All districts", [], undefined);
  const kind = select("events-kind", "All kinds", RULE_KINDS, search.kind);
  const objectClass = select("events-class", "All classes", OBJECT_CLASSES, search.object_class);
  const rule = h("input", { id: "events-rule", class: "input", type: "search", placeholder: "Rule name", maxlength: 100, autocomplete: "off" });
  rule.value = search.rule || "";
  const message = h("p", { id: "events-message", class: "form-message form-error", role: "alert" });
  const form = h(
    "form",
    { id: "events-form", class: "events-form", role: "search" },
    h(
      "div",
      { class: "events-time" },
      field("events-since", "From", since),
      field("events-until", "To", until),
      h("div", { class: "events-presets", role: "group", "aria-label": "Time range" }, presets),
      h("span", { class: "muted events-zone" }, `City time (${zoneLabel()})`),
    ),
    h(
      "div",
      { class: "events-filters" },
      field("events-camera", "Camera", camera),
      cameraHints,
      field("events-site", "Site", site),
      field("events-district", "District", district),
      field("events-kind", "Kind", kind),
      field("events-class", "Object", objectClass),
      field("events-rule", "Rule", rule),
      h(
        "div",
        { class: "form-actions events-actions" },
        h("button", { id: "events-search", type: "submit", class: "button button-primary" }, "Search"),
        h("button", { id: "events-clear", type: "button", class: "button button-ghost", onclick: clear }, "Clear"),
      ),
    ),
    message,
  );

  const count = h("span", { id: "event-count", class: "result-count", "aria-live": "polite" });
  const results = h("div", { id: "event-results", class: "events-results" }, loadingState("Searching…"));
  const moreButton = h("button", { id: "events-more", type: "button", class: "button", onclick: () => load({ append: true }) }, "Load more");
  const more = h("footer", { class: "pager", hidden: true }, h("span", { class: "pager-spacer" }), moreButton, h("span", { class: "pager-spacer" }));
  const page = h(
    "section",
    { class: "page page-events", "aria-labelledby": "events-title" },
    h(
      "div",
      { class: "toolbar" },
      h("h1", { id: "events-title", class: "page-title" }, "Events"),
      h("span", { class: "muted" }, pictures ? "What the video analytics raised" : "What the video analytics raised (pictures are not part of your role)"),
      h("div", { class: "header-spacer" }),
      segmentedFilter({
        id: "events-layout",
        label: "Show as",
        options: LAYOUTS,
        value: layout,
        onPick: (picked) => {
          layout = picked;
          remember();
          draw();
        },
      }),
      count,
    ),
    form,
    h("div", { class: "events-scroll" }, results, more),
  );
  outlet.replaceChildren(page);

  function showSearch() {
    since.value = search.since ? toInputValue(new Date(search.since)) : "";
    until.value = search.until ? toInputValue(new Date(search.until)) : "";
    kind.value = search.kind || "";
    objectClass.value = search.object_class || "";
    rule.value = search.rule || "";
    site.value = search.site_id || "";
    district.value = search.district_id || "";
    camera.value = "";
    if (search.camera_id) {
      const id = Number(search.camera_id);
      camera.value = `#${id}`;
      cameraFacts(id)
        .then((facts) => {
          if (!facts) return;
          cameraIds.set(facts.code.toUpperCase(), facts.id);
          if (search.camera_id === String(facts.id)) camera.value = facts.code;
        })
        .catch(() => {});
    }
  }

  function remember() {
    replaceQuery("/events", { ...search, layout });
  }

  /** @type {(how?: { append?: boolean }) => Promise<void>} */
  const load = pagedLoader("/api/analytics/events", {
    signal,
    busy: page,
    more,
    query: () => /** @type {Query} */ ({ ...search, limit: PAGE_SIZE }),
    onPage(/** @type {AnalyticsEvent[]} */ events, { append }) {
      found = append ? [...found, ...events] : events;
      draw();
    },
    onError(error) {
      if (error instanceof NetworkError && found.length) return; // the banner says it
      replaceChildren(results, errorState(error, () => load()));
      count.textContent = "";
    },
  });

  /** The camera the Camera field names: its id, "" for none; throws the problem in words. */
  async function chosenCamera() {
    const text = camera.value.trim();
    if (!text) return "";
    if (/^#\d+$/.test(text)) return text.slice(1);
    const known = cameraIds.get(text.toUpperCase());
    if (known) return String(known);
    /** @type {Page<Camera>} */
    const answer = await request("/api/cameras", { query: { q: text, limit: 5 }, signal });
    const exact = answer.items.find((item) => item.code.toUpperCase() === text.toUpperCase());
    const only = exact || (answer.items.length === 1 ? answer.items[0] : null);
    if (only) {
      cameraIds.set(only.code.toUpperCase(), only.id);
      camera.value = only.code;
      return String(only.id);
    }
    throw new Error(answer.items.length ? `Several cameras match "${text}": pick one from the list.` : `No camera of yours matches "${text}".`);
  }

  async function submit() {
    message.textContent = "";
    const from = since.value.trim() ? fromInputValue(since.value) : null;
    const to = until.value.trim() ? fromInputValue(until.value) : null;
    if ((since.value.trim() && !from) || (until.value.trim() && !to)) {
      message.textContent = "Give From and To as date and time, like 2026-11-27 14:03 (or leave To empty for now).";
      return;
    }
    if (from && to && to <= from) {
      message.textContent = "To must come after From.";
      return;
    }
    let cameraId = "";
    try {
      cameraId = await chosenCamera();
    } catch (error) {
      if (isQuiet(error)) return;
      message.textContent = error instanceof ApiError || error instanceof NetworkError ? errorText(error) : String(error instanceof Error ? error.message : error);
      return;
    }
    search = {
      since: from?.toISOString(),
      until: to?.toISOString(),
      camera_id: cameraId || undefined,
      site_id: site.value || undefined,
      district_id: district.value || undefined,
      kind: kind.value || undefined,
      object_class: objectClass.value || undefined,
      rule: rule.value.trim() || undefined,
    };
    remember();
    replaceChildren(results, loadingState("Searching…"));
    load();
  }

  function clear() {
    search = searchFrom({});
    showSearch();
    submit();
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit();
  });

  const suggest = debounce(async () => {
    const text = camera.value.trim();
    if (text.length < 2 || cameraIds.has(text.toUpperCase())) return;
    try {
      /** @type {Page<Camera>} */
      const answer = await request("/api/cameras", { query: { q: text, limit: CAMERA_HINTS }, signal });
      for (const item of answer.items) cameraIds.set(item.code.toUpperCase(), item.id);
      replaceChildren(
        cameraHints,
        answer.items.map((item) => h("option", { value: item.code }, item.name)),
      );
    } catch {
      // hints only: a search with the typed text still works
    }
  }, 250);
  camera.addEventListener("input", suggest);

  /** @param {AnalyticsEvent} event */
  function caption(event) {
    return `${analyticsWord(event.kind)} · ${event.rule_name} · ${event.camera_code} · ${formatDateTime(event.at)}`;
  }

  /** @param {AnalyticsEvent} event */
  function picture(event, className = "thumb") {
    return thumbnail(event.snapshot_url, {
      caption: caption(event),
      missing: pictures ? "No snapshot kept for this event" : "Pictures are not part of your role",
      className,
    });
  }

  /** @param {AnalyticsEvent} event */
  function playLink(event) {
    if (!recordings) return null;
    return h(
      "a",
      {
        class: "button button-small event-play",
        href: cameraAt(event.camera_id, event.clip_start, 0),
        title: `The camera's recording from ${formatDateTime(event.clip_start)}`,
      },
      "▶ Recording",
    );
  }

  /** @param {AnalyticsEvent} event */
  function cameraLink(event) {
    return h("a", { href: `#/cameras/${event.camera_id}`, class: "mono camera-link" }, event.camera_code);
  }

  /** @param {AnalyticsEvent} event */
  function card(event) {
    const district = districtNames.get(event.district_id);
    return h(
      "article",
      { class: "event-card", dataset: { eventId: String(event.id) } },
      picture(event, "thumb thumb-card"),
      h(
        "div",
        { class: "event-body" },
        h(
          "div",
          { class: "event-top" },
          h("span", { class: `event-kind kind-${event.kind}` }, analyticsWord(event.kind)),
          event.object_class ? h("span", { class: "event-class" }, analyticsWord(event.object_class)) : null,
          h("span", { class: "event-confidence", title: "How sure the detector was" }, formatConfidence(event.confidence)),
        ),
        h("div", { class: "event-rule", title: "Rule" }, event.rule_name),
        h("time", { class: "event-time mono", datetime: event.at }, formatDateTime(event.at)),
        h("div", { class: "event-camera" }, cameraLink(event), h("span", { class: "sub" }, [event.camera_name, district].filter(Boolean).join(" · "))),
        h("div", { class: "event-actions" }, playLink(event)),
      ),
    );
  }

  /** @param {AnalyticsEvent} event */
  function row(event) {
    return h(
      "tr",
      { class: "event-row", dataset: { eventId: String(event.id) } },
      h("td", { class: "cell-thumb" }, picture(event)),
      h("td", { class: "mono nowrap" }, h("time", { datetime: event.at }, formatDateTime(event.at))),
      h("td", { class: "cell-where" }, cameraLink(event), h("span", { class: "sub" }, event.camera_name)),
      h("td", { class: "event-rule" }, event.rule_name),
      h("td", {}, analyticsWord(event.kind)),
      h("td", {}, event.object_class ? analyticsWord(event.object_class) : h("span", { class: "muted" }, "—")),
      h("td", { class: "num" }, formatConfidence(event.confidence)),
      h("td", { class: "cell-actions" }, playLink(event)),
    );
  }

  function draw() {
    count.textContent = `${found.length} ${found.length === 1 ? "event" : "events"}${more.hidden ? "" : " so far"} · ${formatTime(new Date())}`;
    if (!found.length) {
      replaceChildren(results, emptyState("No events match: widen the time range or clear a filter."));
      return;
    }
    if (layout === "list") {
      replaceChildren(
        results,
        h(
          "table",
          { id: "event-table", class: "data-table ops-table" },
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              h("th", { scope: "col", class: "cell-thumb" }, h("span", { class: "visually-hidden" }, "Picture")),
              ["Time", "Camera", "Rule", "Kind", "Object"].map((text) => h("th", { scope: "col" }, text)),
              h("th", { scope: "col", class: "num" }, "Confidence"),
              h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Recording")),
            ),
          ),
          h("tbody", {}, found.map(row)),
        ),
      );
    } else {
      replaceChildren(results, h("div", { id: "event-grid", class: "event-grid" }, found.map(card)));
    }
  }

  /** @param {District[]} districts */
  function fillDistricts(districts) {
    districtNames = new Map(districts.map((d) => [d.id, d.name]));
    replaceChildren(
      district,
      h("option", { value: "" }, "All districts"),
      districts.filter(isOwnDistrict).map((d) => h("option", { value: String(d.id) }, d.name)),
    );
    district.value = search.district_id || "";
  }

  /** @param {Site[]} sites */
  function fillSites(sites) {
    replaceChildren(
      site,
      h("option", { value: "" }, "All sites"),
      sites.map((s) => h("option", { value: String(s.id) }, s.name)),
    );
    site.value = search.site_id || "";
  }

  showSearch();
  remember();
  Promise.all([
    loadDistricts().then(fillDistricts).catch(() => {}),
    request("/api/sites", { query: { limit: 1000 }, signal })
      .then((/** @type {Page<Site>} */ answer) => fillSites(answer.items))
      .catch(() => {}),
  ]).then(() => {
    if (!signal.aborted) load();
  });
}
