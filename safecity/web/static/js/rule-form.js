// @ts-check
// The fields of one analytics rule, as its kind has them (safecity/analytics/rules/
// definitions.py): name, on or off, its zone or line (drawn on the stage), classes, seconds,
// count, direction, tamper checks and sensitivity, and an optional weekly schedule. The form
// edits the rule object it is given in place; the editor saves the whole document. A field the
// server refused shows the server's words beneath it.

/** @import { Rule, WatchWindow } from "./api-types.js" */
/** @import { Choice } from "./format.js" */

import {
  DIRECTIONS,
  OBJECT_CLASSES,
  SENSITIVITIES,
  TAMPER_CHECKS,
  VEHICLE_CLASSES,
  WEEKDAYS,
  analyticsWord,
  hasZone,
} from "./analytics-words.js";
import { h } from "./dom.js";
import { serverWords } from "./format.js";

/**
 * A new rule of `kind` with the server's defaults (a zone left undrawn is the whole picture).
 * @param {string} kind
 * @param {string} name
 * @returns {Rule}
 */
export function newRule(kind, name) {
  /** @type {Rule} */
  const rule = { kind, name, enabled: true, schedule: [] };
  if (kind === "tamper") return { ...rule, checks: TAMPER_CHECKS.map(([value]) => value), sensitivity: "medium" };
  if (kind === "line_crossing") return { ...rule, direction: "any", classes: ["person"] };
  /** @type {Record<string, [classes: string[], seconds: number]>} */
  const defaults = {
    intrusion: [["person"], 0],
    loitering: [["person"], 60],
    crowd: [["person"], 10],
    vehicle_stopped: [[...VEHICLE_CLASSES].sort(), 60],
    object_left: [["bag"], 30],
  };
  const [classes, seconds] = defaults[kind] || [["person"], 0];
  return { ...rule, classes, seconds, ...(kind === "crowd" ? { count: 10 } : {}) };
}

/**
 * What the server says, without pydantic's "Value error, " and in the console's punctuation.
 * @param {string} message
 */
export function problemWords(message) {
  return serverWords(message.replace(/^Value error, /, ""));
}

/**
 * A field of the form: its label, control and the server's problems with it (`key` is the
 * API's field name: a 422's place).
 * @param {string} key
 * @param {string} text
 * @param {Node} control
 * @param {string[]} problems
 */
function field(key, text, control, problems) {
  return h(
    "div",
    { class: `field rule-field${problems.length ? " has-problem" : ""}`, dataset: { field: key } },
    h("span", { class: "field-label" }, text),
    control,
    problems.map((problem) => h("p", { class: "field-problem", role: "alert" }, problemWords(problem))),
  );
}

/**
 * Tick boxes for a list of values, kept in `values` (changed in place).
 * @param {string} id
 * @param {Choice[]} choices
 * @param {string[]} values
 * @param {() => void} onChange
 */
function ticks(id, choices, values, onChange) {
  return h(
    "div",
    { id, class: "tick-group" },
    choices.map(([value, text]) => {
      const box = h("input", { type: "checkbox", value, checked: values.includes(value) });
      box.addEventListener("change", () => {
        const at = values.indexOf(value);
        if (box.checked && at < 0) values.push(value);
        if (!box.checked && at >= 0) values.splice(at, 1);
        onChange();
      });
      return h("label", { class: "tick" }, box, text);
    }),
  );
}

/**
 * A number field: a number as typed, or the text itself when it is none (the server's 422
 * then says what it wants).
 * @param {string} id
 * @param {number | undefined} value
 * @param {{ min: number, step: number }} limits
 * @param {(value: number | string) => void} onInput
 */
function numberInput(id, value, { min, step }, onInput) {
  const input = h("input", { id, class: "input input-number", type: "number", min, step, value: value ?? "" });
  input.addEventListener("input", () => {
    const number = input.value.trim() === "" ? Number.NaN : Number(input.value);
    onInput(Number.isFinite(number) ? number : input.value);
  });
  return input;
}

/**
 * @param {string} id
 * @param {Choice[]} choices
 * @param {string | undefined} value
 * @param {(value: string) => void} onPick
 */
function select(id, choices, value, onPick) {
  const element = h("select", { id, class: "select" }, choices.map(([option, text]) => h("option", { value: option, selected: option === value }, text)));
  element.addEventListener("change", () => onPick(element.value));
  return element;
}

/**
 * "22:00" of "22:00:00": how a window's time is typed.
 * @param {string} time
 */
function hhmm(time) {
  return String(time || "").slice(0, 5);
}

/**
 * The weekly schedule: no window is always on; each window has its days and a from / to in
 * city time (a to before its from runs past midnight).
 * @param {Rule} rule
 * @param {string[]} problems
 * @param {() => void} onChange
 * @param {() => void} redraw
 */
function scheduleField(rule, problems, onChange, redraw) {
  const windows = (rule.schedule ||= []);
  const add = h("button", { id: "rule-window-add", type: "button", class: "button button-ghost button-small" }, "+ Time window");
  add.addEventListener("click", () => {
    windows.push({ days: WEEKDAYS.map(([day]) => day), start: "22:00", end: "06:00" });
    onChange();
    redraw();
  });
  const rows = windows.map((window, index) => windowRow(window, index, onChange, () => {
    windows.splice(index, 1);
    onChange();
    redraw();
  }));
  return field(
    "schedule",
    "When",
    h(
      "div",
      { id: "rule-schedule", class: "rule-schedule" },
      windows.length ? rows : h("p", { class: "muted rule-always" }, "Always on (no time windows)."),
      add,
    ),
    problems,
  );
}

/**
 * @param {WatchWindow} window
 * @param {number} index
 * @param {() => void} onChange
 * @param {() => void} onRemove
 */
function windowRow(window, index, onChange, onRemove) {
  /** @param {"start" | "end"} key */
  const time = (key) => {
    const input = h("input", {
      class: "input input-time",
      type: "text",
      inputmode: "numeric",
      placeholder: "HH:MM",
      maxlength: 8,
      value: hhmm(window[key]),
      "aria-label": key === "start" ? "From (city time)" : "To (city time)",
      dataset: { part: key },
    });
    input.addEventListener("input", () => {
      window[key] = input.value.trim();
      onChange();
    });
    return input;
  };
  return h(
    "div",
    { class: "rule-window", dataset: { window: String(index) } },
    ticks(`rule-window-${index}-days`, WEEKDAYS, window.days, onChange),
    h("div", { class: "rule-window-times" }, time("start"), h("span", { class: "muted" }, "to"), time("end")),
    h("button", { type: "button", class: "button button-ghost button-small", "aria-label": "Remove this time window", onclick: onRemove }, "Remove"),
  );
}

/**
 * The form of `rule`. `problems` maps a field ("zone", "classes", "" for the rule as a whole)
 * to the server's messages about it. `onChange()` hears every edit; `onDraw()` asks for its
 * zone or line to be drawn; `onWhole()` sets its zone back to the whole picture; `onDelete()`
 * removes it; `redraw()` draws the form again (a window added or removed).
 * @param {Rule} rule
 * @param {object} options
 * @param {Map<string, string[]>} options.problems
 * @param {() => void} options.onChange
 * @param {() => void} options.onDraw
 * @param {() => void} options.onWhole
 * @param {() => void} options.onDelete
 * @param {() => void} options.redraw
 */
export function ruleForm(rule, { problems, onChange, onDraw, onWhole, onDelete, redraw }) {
  const about = (/** @type {string} */ key) => problems.get(key) || [];
  const name = h("input", { id: "rule-name", class: "input", type: "text", maxlength: 100, value: rule.name, autocomplete: "off" });
  name.addEventListener("input", () => {
    rule.name = name.value;
    onChange();
  });
  const enabled = h("input", { id: "rule-enabled", type: "checkbox", checked: rule.enabled !== false });
  enabled.addEventListener("change", () => {
    rule.enabled = enabled.checked;
    onChange();
  });
  /** @type {Node[]} */
  const fields = [
    field("name", "Name (shown on the alert)", name, about("name")),
    field("enabled", "State", h("label", { class: "tick" }, enabled, "Enabled"), about("enabled")),
  ];

  if (hasZone(rule.kind)) {
    const shape = rule.zone ? `Drawn: ${rule.zone.length} corners` : "The whole picture";
    fields.push(
      field(
        "zone",
        "Zone",
        h(
          "div",
          { class: "rule-geometry" },
          h("span", { id: "rule-zone-state" }, shape),
          h("button", { id: "rule-draw", type: "button", class: "button button-small", onclick: onDraw }, rule.zone ? "Draw again" : "Draw zone"),
          rule.zone ? h("button", { id: "rule-whole", type: "button", class: "button button-ghost button-small", onclick: onWhole }, "Whole picture") : null,
        ),
        about("zone"),
      ),
    );
  }
  if (rule.kind === "line_crossing") {
    fields.push(
      field(
        "line",
        "Line",
        h(
          "div",
          { class: "rule-geometry" },
          h("span", { id: "rule-line-state" }, rule.line ? "Drawn from A to B" : "Not drawn yet"),
          h("button", { id: "rule-draw", type: "button", class: "button button-small", onclick: onDraw }, rule.line ? "Draw again" : "Draw line"),
        ),
        about("line"),
      ),
      field(
        "direction",
        "Crossing",
        select("rule-direction", DIRECTIONS, rule.direction, (value) => {
          rule.direction = value;
          onChange();
        }),
        about("direction"),
      ),
    );
  }
  if (rule.classes) {
    fields.push(field("classes", "Objects", ticks("rule-classes", OBJECT_CLASSES, rule.classes, onChange), about("classes")));
  }
  if (rule.count !== undefined) {
    fields.push(
      field(
        "count",
        "At least (objects in the zone)",
        numberInput("rule-count", rule.count, { min: 2, step: 1 }, (value) => {
          rule.count = /** @type {number} */ (value);
          onChange();
        }),
        about("count"),
      ),
    );
  }
  if (rule.seconds !== undefined) {
    const words = rule.kind === "intrusion" ? "Inside for (seconds; 0: at once)" : "For (seconds)";
    fields.push(
      field(
        "seconds",
        words,
        numberInput("rule-seconds", rule.seconds, { min: 0, step: 1 }, (value) => {
          rule.seconds = /** @type {number} */ (value);
          onChange();
        }),
        about("seconds"),
      ),
    );
  }
  if (rule.checks) {
    fields.push(
      field("checks", "Checks", ticks("rule-checks", TAMPER_CHECKS, rule.checks, onChange), about("checks")),
      field(
        "sensitivity",
        "Sensitivity",
        select("rule-sensitivity", SENSITIVITIES, rule.sensitivity, (value) => {
          rule.sensitivity = value;
          onChange();
        }),
        about("sensitivity"),
      ),
    );
  }
  fields.push(scheduleField(rule, about("schedule"), onChange, redraw));

  return h(
    "div",
    { id: "rule-form", class: "rule-form", dataset: { kind: rule.kind } },
    h(
      "div",
      { class: "rule-form-head" },
      h("strong", {}, analyticsWord(rule.kind)),
      h("button", { id: "rule-delete", type: "button", class: "button button-danger button-small", onclick: onDelete }, "Delete rule"),
    ),
    about("").map((problem) => h("p", { class: "field-problem", role: "alert" }, problemWords(problem))),
    fields,
  );
}
