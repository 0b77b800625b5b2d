// @ts-check
// The camera filters shared by the list and the map: district, site kind, status, health and
// free text. Values live in the URL hash as the API's own query parameter names, so the hash
// can be handed to /api/cameras unchanged.

/** @import { District } from "./api-types.js" */
/** @import { Choice } from "./format.js" */

import { isOwnDistrict } from "./catalog.js";
import { debounce, h } from "./dom.js";
import { CAMERA_HEALTHS, CAMERA_STATUSES, SITE_KINDS } from "./format.js";

const SEARCH_DELAY_MS = 300;

/**
 * @typedef {"site_kind" | "status" | "health"} ChoiceKey
 * @typedef {"district_id" | "q" | ChoiceKey} FilterKey
 * @typedef {Partial<Record<FilterKey, string>>} Filters  by the API's parameter names
 */

/** @type {Record<ChoiceKey, Choice[]>} */
const CHOICES = {
  site_kind: SITE_KINDS,
  status: CAMERA_STATUSES,
  health: CAMERA_HEALTHS,
};

/** @type {Record<ChoiceKey, string>} */
const ALL_TEXT = { site_kind: "All site kinds", status: "Any status", health: "Any health" };

/**
 * The filters in a parsed hash query, dropping anything the API would reject.
 * @param {Record<string, string | undefined>} query
 * @param {FilterKey[]} keys
 */
export function readFilters(query, keys) {
  /** @type {Filters} */
  const filters = {};
  for (const key of keys) {
    const value = (query[key] || "").trim();
    if (!value) continue;
    if (key === "district_id" && !/^\d+$/.test(value)) continue;
    if (key !== "district_id" && key !== "q" && !CHOICES[key].some(([choice]) => choice === value)) continue;
    if (key === "q" && value.length > 100) continue;
    filters[key] = value;
  }
  return filters;
}

/**
 * @param {string} id
 * @param {string} name
 * @param {string} allText
 * @param {Choice[]} options
 * @param {string | undefined} value
 * @param {(value: string) => void} onPick
 */
function select(id, name, allText, options, value, onPick) {
  const element = h(
    "select",
    { id, name, class: "select", "aria-label": allText },
    h("option", { value: "" }, allText),
    options.map(([optionValue, text]) =>
      h("option", { value: optionValue, selected: optionValue === value }, text),
    ),
  );
  element.addEventListener("change", () => onPick(element.value));
  return element;
}

/**
 * Build the filter bar. `keys` picks which filters to show; `onChange(filters)` runs after
 * every change (search text after a short pause, Enter applies at once).
 * @param {object} options
 * @param {District[]} options.districts
 * @param {Filters} options.values
 * @param {FilterKey[]} options.keys
 * @param {(filters: Filters) => void} options.onChange
 */
export function createFilterBar({ districts, values, keys, onChange }) {
  /** @type {Filters} */
  const current = { ...values };
  /** @type {HTMLElement[]} */
  const controls = [];

  function emit() {
    onChange({ ...current });
    clear.hidden = Object.keys(current).length === 0;
  }

  /**
   * @param {FilterKey} key
   * @param {string} value
   */
  function setValue(key, value) {
    if (value) current[key] = value;
    else delete current[key];
  }

  for (const key of keys) {
    if (key === "district_id") {
      // Only districts this user has cameras in: a utility company needs no list of all five.
      /** @type {Choice[]} */
      const options = districts.filter(isOwnDistrict).map((d) => [String(d.id), d.name]);
      controls.push(
        select("filter-district", key, "All districts", options, current[key], (value) => {
          setValue(key, value);
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
      controls.push(
        select(`filter-${key.replace("_", "-")}`, key, ALL_TEXT[key], CHOICES[key], current[key], (value) => {
          setValue(key, value);
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
        for (const key of keys) delete current[key];
        for (const control of element.querySelectorAll("select, input")) {
          if (control instanceof HTMLSelectElement || control instanceof HTMLInputElement) control.value = "";
        }
        emit();
      },
    },
    "Clear filters",
  );

  const element = h("form", { class: "filter-bar", role: "search", onsubmit: (e) => e.preventDefault() }, controls, clear);

  return {
    element,
    focusSearch() {
      const search = element.querySelector("#filter-q");
      if (search instanceof HTMLInputElement) search.focus();
    },
  };
}

const LAST_LIST_KEY = "safecity.cameraList";

/**
 * Remember the list's filters so "Back to cameras" on a detail page returns to them.
 * @param {string} href
 */
export function rememberListHref(href) {
  sessionStorage.setItem(LAST_LIST_KEY, href);
}

export function rememberedListHref() {
  const href = sessionStorage.getItem(LAST_LIST_KEY) || "";
  return href.startsWith("#/cameras") ? href : "#/cameras";
}
