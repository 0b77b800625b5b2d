// @ts-check
// The words of video analytics on screen: rule kinds, object classes, tamper checks, the days
// of a weekly schedule. The values mirror safecity/analytics/rules/definitions.py,
// safecity/analytics/objects.py and safecity/city/schedule.py.

/** @import { Choice } from "./format.js" */

/** @type {Choice[]} */
export const RULE_KINDS = [
  ["intrusion", "Zone intrusion"],
  ["line_crossing", "Line crossing"],
  ["loitering", "Loitering"],
  ["crowd", "Crowd"],
  ["vehicle_stopped", "Stopped vehicle"],
  ["object_left", "Object left behind"],
  ["tamper", "Camera tamper"],
];

const ZONE_KINDS = new Set(["intrusion", "loitering", "crowd", "vehicle_stopped", "object_left"]);

/**
 * Whether a rule of `kind` watches a zone (a line crossing watches a line, tamper the picture).
 * @param {string} kind
 */
export function hasZone(kind) {
  return ZONE_KINDS.has(kind);
}

/** @type {Choice[]} */
export const OBJECT_CLASSES = [
  ["person", "Person"],
  ["bicycle", "Bicycle"],
  ["car", "Car"],
  ["motorcycle", "Motorcycle"],
  ["bus", "Bus"],
  ["truck", "Truck"],
  ["bag", "Bag"],
];

/** What counts as a vehicle in the counts chart (VEHICLES in objects.py). */
export const VEHICLE_CLASSES = ["car", "motorcycle", "bus", "truck"];

/** @type {Choice[]} */
export const TAMPER_CHECKS = [
  ["covered", "Lens covered"],
  ["defocus", "Out of focus"],
  ["moved", "Camera moved"],
  ["frozen", "Picture frozen"],
  ["dark", "Too dark"],
];

/** @type {Choice[]} */
export const SENSITIVITIES = [
  ["low", "Low"],
  ["medium", "Medium"],
  ["high", "High"],
];

/** @type {Choice[]} */
export const DIRECTIONS = [
  ["any", "Either way"],
  ["forward", "Forward (arrow's way)"],
  ["backward", "Backward (against the arrow)"],
];

/** @type {Choice[]} */
export const WEEKDAYS = [
  ["mon", "Mon"],
  ["tue", "Tue"],
  ["wed", "Wed"],
  ["thu", "Thu"],
  ["fri", "Fri"],
  ["sat", "Sat"],
  ["sun", "Sun"],
];

const words = new Map([...RULE_KINDS, ...OBJECT_CLASSES, ...TAMPER_CHECKS]);

/**
 * The words for a rule kind, an object class or a tamper check.
 * @param {string | null | undefined} value
 */
export function analyticsWord(value) {
  if (!value) return "—";
  return words.get(value) ?? value.replace(/_/g, " ");
}

/**
 * "87 %": a detector's confidence (0..1) as people read it.
 * @param {number} confidence
 */
export function formatConfidence(confidence) {
  return `${Math.round(confidence * 100)} %`;
}
