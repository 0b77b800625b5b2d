// @ts-check
// How alerts and incidents read on screen: priorities, statuses, sources, and the lifecycle's
// transitions as buttons. The values mirror safecity/ops/models.py and safecity/ops/lifecycle.py.

/** @import { Choice } from "./format.js" */

/**
 * An edge of the incident lifecycle, as a button: who makes it (`occ` or the assigned
 * `unit`), its name and verb, and whether it needs a reason.
 * @typedef {object} Transition
 * @property {string} from
 * @property {string} to
 * @property {string} name
 * @property {string} verb
 * @property {"occ" | "unit"} actor
 * @property {boolean} [reason]
 */

/** @type {Array<[priority: number, text: string]>} */
export const PRIORITIES = [
  [1, "P1 · critical"],
  [2, "P2 · high"],
  [3, "P3 · medium"],
  [4, "P4 · low"],
];

/** @type {Choice[]} */
export const ALERT_STATUSES = [
  ["new", "New"],
  ["acknowledged", "Acknowledged"],
  ["in_incident", "In incident"],
  ["dismissed", "Dismissed"],
];

/** @type {Choice[]} */
export const ALERT_SOURCES = [
  ["manual", "Operator"],
  ["camera_health", "Camera health"],
  ["analytics", "Analytics"],
  ["external", "External system"],
];

/** @type {Choice[]} */
export const INCIDENT_STATUSES = [
  ["new", "New"],
  ["dispatched", "Dispatched"],
  ["accepted", "Accepted"],
  ["on_scene", "On scene"],
  ["resolved", "Resolved"],
  ["closed", "Closed"],
];

export const OPEN_INCIDENT_STATUSES = ["new", "dispatched", "accepted", "on_scene", "resolved"];
export const OPEN_ALERT_STATUSES = ["new", "acknowledged"];

/**
 * The lifecycle's edges: who makes each (`occ` or the assigned `unit`), and its words.
 * @type {Transition[]}
 */
const TRANSITIONS = [
  { from: "new", to: "dispatched", name: "dispatch", verb: "Dispatch", actor: "occ" },
  { from: "dispatched", to: "accepted", name: "accept", verb: "Accept", actor: "unit" },
  { from: "dispatched", to: "new", name: "reject", verb: "Reject", actor: "unit", reason: true },
  { from: "accepted", to: "on_scene", name: "arrive", verb: "Arrived on scene", actor: "unit" },
  { from: "accepted", to: "resolved", name: "resolve", verb: "Resolve", actor: "unit" },
  { from: "on_scene", to: "resolved", name: "resolve", verb: "Resolve", actor: "unit" },
  { from: "resolved", to: "closed", name: "close", verb: "Close", actor: "occ" },
];

const words = new Map([...ALERT_STATUSES, ...INCIDENT_STATUSES, ...ALERT_SOURCES]);

/** @param {string} value */
export function statusWord(value) {
  return words.get(value) ?? value;
}

/** @param {string} value */
export function sourceWord(value) {
  return new Map(ALERT_SOURCES).get(value) ?? value;
}

/** @param {number} priority */
export function priorityWord(priority) {
  return new Map(PRIORITIES).get(priority) ?? `P${priority}`;
}

/**
 * The transitions an incident in `status` offers, given the statuses the server allows next.
 * @param {string} status
 * @param {string[]} allowed
 */
export function transitionsFrom(status, allowed) {
  return TRANSITIONS.filter((t) => t.from === status && allowed.includes(t.to));
}

/**
 * Alerts and incidents in the server's order: the most urgent first, then the latest.
 * @template {{ id: number, priority: number }} T
 * @param {(item: T) => string} timeOf
 * @returns {(a: T, b: T) => number}
 */
export function byUrgency(timeOf) {
  return (a, b) => a.priority - b.priority || Date.parse(timeOf(b)) - Date.parse(timeOf(a)) || b.id - a.id;
}
