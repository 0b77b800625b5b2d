// @ts-check
// A pair of From / To inputs in the city's time, for a clip, an evidence package or a hold.
// Plain text in the console's one format, "2026-11-27 14:03:12" (24 h): the browser's date-time
// control would show the browser's locale (11/27/2026, 2:03:12 PM) next to every other time on
// screen in the city's. Values are read as city wall time (clock.js) and checked before sending.

import { fromInputValue, toInputValue } from "./clock.js";
import { h } from "./dom.js";

const LONGEST_MS = 24 * 3600 * 1000;

/**
 * @param {string} id
 * @param {string} name
 */
function input(id, name) {
  const element = h("input", {
    id,
    class: "input input-datetime",
    type: "text",
    inputmode: "numeric",
    autocomplete: "off",
    spellcheck: "false",
    placeholder: "YYYY-MM-DD HH:MM:SS",
    required: true,
  });
  return { element, field: h("label", { class: "field", for: id }, h("span", { class: "field-label" }, name), element) };
}

/**
 * From / To inputs with ids `${prefix}-from` and `${prefix}-to`.
 * @param {string} prefix
 */
export function rangeFields(prefix) {
  const from = input(`${prefix}-from`, "From");
  const to = input(`${prefix}-to`, "To");
  return {
    element: h("div", { class: "range-fields" }, from.field, to.field),
    /**
     * Fill both inputs.
     * @param {Date} start
     * @param {Date} end
     */
    set(start, end) {
      from.element.value = toInputValue(start);
      to.element.value = toInputValue(end);
    },
    /**
     * {start, end} as Dates; or null, once `onProblem` heard what is wrong with what was typed,
     * in words for the person who typed it.
     * @param {(problem: string) => void} onProblem
     * @returns {{ start: Date, end: Date } | null}
     */
    read(onProblem) {
      const start = fromInputValue(from.element.value);
      const end = fromInputValue(to.element.value);
      if (!start || !end) onProblem("Give From and To as date and time, like 2026-11-27 14:03:00.");
      else if (end <= start) onProblem("To must come after From.");
      else if (end.getTime() - start.getTime() > LONGEST_MS) onProblem("At most 24 hours at a time: split the range.");
      else return { start, end };
      return null;
    },
  };
}
