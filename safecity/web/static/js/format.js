// @ts-check
// How values read on screen: numbers, times, and the words for statuses and site kinds.
// The value lists mirror the enums in safecity/city/models.py. Times are the city's wall time
// (see clock.js), whatever zone the browser is in.

/** @import { CameraPoint } from "./api-types.js" */

import { formatCityDateTime, formatCityTime } from "./clock.js";

/**
 * A value as the API writes it, and its words on screen.
 * @typedef {[value: string, text: string]} Choice
 */

/** @type {Choice[]} */
export const CAMERA_STATUSES = [
  ["active", "Active"],
  ["maintenance", "Maintenance"],
  ["planned", "Planned"],
  ["decommissioned", "Decommissioned"],
];

/** @type {Choice[]} */
export const CAMERA_HEALTHS = [
  ["online", "Online"],
  ["offline", "Offline"],
  ["unknown", "Unknown"],
];

/** @type {Choice[]} */
export const SITE_KINDS = [
  ["park", "Park"],
  ["school", "School"],
  ["yard", "Yard"],
  ["utility_facility", "Utility facility"],
  ["transport_hub", "Transport hub"],
  ["market", "Market"],
  ["street", "Street"],
  ["square", "Square"],
  ["hospital", "Hospital"],
  ["other", "Other"],
];

/**
 * One word for what an operator should read from a camera at a glance, used for map dots and
 * the legend. Status is what people decided (maintenance, planned…), health is what the stream
 * said; a camera under maintenance is amber whatever its stream does.
 * @type {Choice[]}
 */
export const CAMERA_STATES = [
  ["online", "Online"],
  ["offline", "Offline"],
  ["unknown", "No data"],
  ["maintenance", "Maintenance"],
  ["inactive", "Planned / decommissioned"],
];

/**
 * The one word of CAMERA_STATES for a camera.
 * @param {Pick<CameraPoint, "status" | "health">} camera
 */
export function cameraState(camera) {
  if (camera.status === "maintenance") return "maintenance";
  if (camera.status === "planned" || camera.status === "decommissioned") return "inactive";
  return camera.health;
}

const labels = new Map([...CAMERA_STATUSES, ...CAMERA_HEALTHS, ...SITE_KINDS]);

/** @param {string} value */
export function label(value) {
  return labels.get(value) ?? value;
}

const numbers = new Intl.NumberFormat("en");

/** @param {number} n */
export function formatCount(n) {
  return numbers.format(n);
}

/**
 * "1 camera", "1,103 cameras": a count and its noun, which takes an "s" unless it is one.
 * @param {number} count
 * @param {string} word
 */
export function plural(count, word) {
  return `${formatCount(count)} ${word}${count === 1 ? "" : "s"}`;
}

/**
 * "1–50 of 1,103" for a page of a server-side list.
 * @param {number} offset
 * @param {number} shown
 * @param {number} total
 */
export function formatRange(offset, shown, total) {
  if (total === 0) return "No cameras";
  return `${formatCount(offset + 1)}–${formatCount(offset + shown)} of ${formatCount(total)}`;
}

/**
 * City time as an operator writes it in a log: 2025-11-26 23:31:05 (24 h, no locale surprises).
 * @param {Date | string | null | undefined} value
 */
export function formatDateTime(value) {
  if (!value) return "—";
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) return "—";
  return formatCityDateTime(date);
}

/** @param {Date} date */
export function formatTime(date) {
  return formatCityTime(date);
}

/**
 * "2026-11-27 14:03:10 – 14:18:12", or both dates in full when the span crosses midnight.
 * @param {Date | string} start
 * @param {Date | string} end
 */
export function formatSpan(start, end) {
  const from = formatDateTime(start);
  const to = formatDateTime(end);
  return from.slice(0, 10) === to.slice(0, 10) ? `${from} – ${to.slice(11)}` : `${from} – ${to}`;
}

/**
 * "12 s ago", "5 min ago", "3 h ago", "4 d ago"; the exact time goes in a tooltip.
 * @param {string | null | undefined} value
 * @param {number} [now]
 */
export function formatAgo(value, now = Date.now()) {
  if (!value) return "never";
  const seconds = Math.max(0, Math.round((now - new Date(value).getTime()) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.floor(hours / 24)} d ago`;
}

/**
 * "6 h 12 min", "4 min 30 s", "12 s": a length of time, to the unit that matters.
 * @param {number} seconds
 */
export function formatDuration(seconds) {
  const total = Math.max(0, Math.round(seconds));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const rest = total % 60;
  if (hours) return minutes ? `${hours} h ${minutes} min` : `${hours} h`;
  if (minutes) return rest ? `${minutes} min ${rest} s` : `${minutes} min`;
  return `${rest} s`;
}

const BYTE_UNITS = ["bytes", "KB", "MB", "GB", "TB"];

/**
 * "1.8 GB": sizes in powers of 1,000, as disks are sold and as the API counts.
 * @param {number} bytes
 */
export function formatBytes(bytes) {
  let value = Number(bytes) || 0;
  let unit = 0;
  while (value >= 1000 && unit < BYTE_UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return unit === 0 ? `${formatCount(value)} bytes` : `${value.toFixed(value < 10 ? 1 : 0)} ${BYTE_UNITS[unit]}`;
}

/**
 * "4.1 Mbit/s", "850 kbit/s".
 * @param {number} kbps
 */
export function formatBitrate(kbps) {
  if (kbps >= 1000) return `${(kbps / 1000).toFixed(1)} Mbit/s`;
  return `${Math.round(kbps)} kbit/s`;
}

const MOMENT_IN_TEXT = /\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})/g;

/**
 * A server's message for the screen: its moments (UTC in the API's words) in city time, a
 * capital and a full stop. "no recording between 2026-11-26 04:20:00+00:00 and …" →
 * "No recording between 2026-11-26 09:20:00 and …." for a city at UTC+5.
 * @param {string | null | undefined} text
 */
export function serverWords(text) {
  const trimmed = String(text || "")
    .trim()
    .replace(MOMENT_IN_TEXT, (moment) => formatDateTime(moment.replace(" ", "T")));
  if (!trimmed) return "";
  const first = trimmed[0].toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}

/** @param {number} value */
export function formatCoordinate(value) {
  return Number(value).toFixed(6);
}

/**
 * Hide the password of a stream URL (rtsp://user:secret@host → rtsp://user:••••@host): the
 * console is often on a wall screen, and a URL is copied into tickets.
 * @param {string} url
 */
export function maskCredentials(url) {
  if (!url) return url;
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]+):[^@/]*@/i, "$1:••••@");
}
