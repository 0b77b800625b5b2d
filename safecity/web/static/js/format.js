// How values read on screen: numbers, times, and the words for statuses and site kinds.
// The value lists mirror the enums in safecity/city/models.py.

export const CAMERA_STATUSES = [
  ["active", "Active"],
  ["maintenance", "Maintenance"],
  ["planned", "Planned"],
  ["decommissioned", "Decommissioned"],
];

export const CAMERA_HEALTHS = [
  ["online", "Online"],
  ["offline", "Offline"],
  ["unknown", "Unknown"],
];

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
 */
export const CAMERA_STATES = [
  ["online", "Online"],
  ["offline", "Offline"],
  ["unknown", "No data"],
  ["maintenance", "Maintenance"],
  ["inactive", "Planned / decommissioned"],
];

export function cameraState(camera) {
  if (camera.status === "maintenance") return "maintenance";
  if (camera.status === "planned" || camera.status === "decommissioned") return "inactive";
  return camera.health;
}

const labels = new Map([...CAMERA_STATUSES, ...CAMERA_HEALTHS, ...SITE_KINDS]);

export function label(value) {
  return labels.get(value) ?? value;
}

const numbers = new Intl.NumberFormat("en");

export function formatCount(n) {
  return numbers.format(n);
}

/** "1–50 of 1,103" for a page of a server-side list. */
export function formatRange(offset, shown, total) {
  if (total === 0) return "No cameras";
  return `${formatCount(offset + 1)}–${formatCount(offset + shown)} of ${formatCount(total)}`;
}

function pad(n) {
  return String(n).padStart(2, "0");
}

/** Local time as an operator writes it in a log: 2025-11-26 23:31:05 (24 h, no locale surprises). */
export function formatDateTime(value) {
  if (!value) return "—";
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) return "—";
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
  );
}

export function formatTime(date) {
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/** "12 s ago", "5 min ago", "3 h ago", "4 d ago"; the exact time goes in a tooltip. */
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

export function formatCoordinate(value) {
  return Number(value).toFixed(6);
}

/**
 * Hide the password of a stream URL (rtsp://user:secret@host → rtsp://user:••••@host): the
 * console is often on a wall screen, and a URL is copied into tickets.
 */
export function maskCredentials(url) {
  if (!url) return url;
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]+):[^@/]*@/i, "$1:••••@");
}
