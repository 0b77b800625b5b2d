// The camera filters shared by the list and the map: district, site kind, status, health and
// free text. Values live in the URL hash as the API's own query parameter names, so the hash
// can be handed to /api/cameras unchanged.

import { isOwnDistrict } from "./catalog.js";
import { debounce, h } from "./dom.js";
import { CAMERA_HEALTHS, CAMERA_STATUSES, SITE_KINDS } from "./format.js";

const SEARCH_DELAY_MS = 300;

const CHOICES = {
  site_kind: SITE_KINDS,
  status: CAMERA_STATUSES,
  health: CAMERA_HEALTHS,
};

/** The filters in a parsed hash query, dropping anything the API would reject. */
export function readFilters(query, keys) {
  const filters = {};
  for (const key of keys) {
    const value = (query[key] || "").trim();
    if (!value) continue;
    if (key === "district_id" && !/^\d+$/.test(value)) continue;
    if (CHOICES[key] && !CHOICES[key].some(([choice]) => choice === value)) continue;
    if (key === "q" && value.length > 100) continue;
    filters[key] = value;
  }
  return filters;
}

function select(id, name, allText, options, value, onInput) {
  return h(
    "select",
    { id, name, class: "select", "aria-label": allText, onchange: onInput },
    h("option", { value: "" }, allText),
    options.map(([optionValue, text]) =>
      h("option", { value: optionValue, selected: optionValue === value }, text),
    ),
  );
}

/**
 * Build the filter bar. `keys` picks which filters to show; `onChange(filters)` runs after
 * every change (search text after a short pause, Enter applies at once).
 */
export function createFilterBar({ districts, values, keys, onChange }) {
  const current = { ...values };
  const controls = [];

  function emit() {
    onChange({ ...current });
    clear.hidden = Object.keys(current).length === 0;
  }

  function setValue(key, value) {
    if (value) current[key] = value;
    else delete current[key];
  }

  for (const key of keys) {
    if (key === "district_id") {
      // Only districts this user has cameras in: a utility company needs no list of all five.
      const options = districts.filter(isOwnDistrict).map((d) => [String(d.id), d.name]);
      controls.push(
        select("filter-district", key, "All districts", options, current[key], (event) => {
          setValue(key, event.target.value);
          emit();
        }),
      );
    } else if (key === "q") {
      const applySearch = debounce(() => {
        setValue("q", search.value.trim());
        emit();
      }, SEARCH_DELAY_MS);
      const search = h("input", {
        id: "filter-q",
        name: "q",
        type: "search",
        class: "input search",
        placeholder: "Search code, name, address",
        "aria-label": "Search cameras",
        autocomplete: "off",
        spellcheck: "false",
        maxlength: 100,
        value: current.q || "",
        oninput: applySearch,
        onkeydown: (event) => {
          if (event.key === "Enter") {
            applySearch.cancel();
            setValue("q", search.value.trim());
            emit();
          }
        },
      });
      controls.push(h("div", { class: "search-wrap" }, search, h("kbd", { class: "search-hint" }, "/")));
    } else {
      const allText = { site_kind: "All site kinds", status: "Any status", health: "Any health" }[key];
      controls.push(
        select(`filter-${key.replace("_", "-")}`, key, allText, CHOICES[key], current[key], (event) => {
          setValue(key, event.target.value);
          emit();
        }),
      );
    }
  }

  const clear = h(
    "button",
    {
      type: "button",
      id: "filter-clear",
      class: "button button-ghost",
      hidden: Object.keys(current).length === 0,
      onclick: () => {
        for (const key of Object.keys(current)) delete current[key];
        for (const control of element.querySelectorAll("select, input")) control.value = "";
        emit();
      },
    },
    "Clear filters",
  );

  const element = h("form", { class: "filter-bar", role: "search", onsubmit: (e) => e.preventDefault() }, controls, clear);

  return {
    element,
    focusSearch() {
      element.querySelector("#filter-q")?.focus();
    },
  };
}

const LAST_LIST_KEY = "safecity.cameraList";

/** Remember the list's filters so "Back to cameras" on a detail page returns to them. */
export function rememberListHref(href) {
  sessionStorage.setItem(LAST_LIST_KEY, href);
}

export function rememberedListHref() {
  const href = sessionStorage.getItem(LAST_LIST_KEY) || "";
  return href.startsWith("#/cameras") ? href : "#/cameras";
}
