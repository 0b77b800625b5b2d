// @ts-check
// The city's clock. Every time on screen is the city's wall time, whatever zone the browser
// is in: an OCC operator, a duty officer and a court read "14:03" the same way, and the
// server counts days in the city's zone (`timezone` in its settings).
//
// The zone comes from the server: its IANA name when /api/console gives one, otherwise the
// UTC offset learnt from a day of recordings (the server starts each day at the city's
// midnight). Until either is known, the browser's own zone is used.

/** Fires "change" when the city's zone becomes known, so times already on screen can be redrawn. */
export const zoneChanges = new EventTarget();

/**
 * A moment on the city's clock.
 * @typedef {{ year: number, month: number, day: number, hour: number, minute: number, second: number }} CityParts
 */

/** @type {string | null} */
let zone = null; // IANA name, e.g. "Asia/Almaty"
/** @type {number | null} */
let fixedOffsetMinutes = null; // learnt from a day's timeline when no name is known
/** @type {Intl.DateTimeFormat | null} */
let partsFormatter = null;

/**
 * @param {number} n
 * @param {number} [width]
 */
function pad(n, width = 2) {
  return String(n).padStart(width, "0");
}

/**
 * Use the city's IANA zone; an unknown name is ignored (the browser's zone stays).
 * @param {string | null | undefined} name
 */
export function setZone(name) {
  if (!name) return;
  try {
    partsFormatter = new Intl.DateTimeFormat("en-GB", {
      timeZone: name,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    zone = name;
    zoneChanges.dispatchEvent(new Event("change"));
  } catch {
    partsFormatter = null;
    zone = null;
  }
}

/**
 * Learn the city's UTC offset from a day the server cut: `startIso` is that day's midnight in
 * the city. Only used while the zone's name is unknown. Returns true when the offset changed.
 * @param {string} day
 * @param {string} startIso
 */
export function learnOffsetFromDay(day, startIso) {
  if (zone) return false;
  const [year, month, date] = day.split("-").map(Number);
  const offset = Math.round((Date.UTC(year, month - 1, date) - Date.parse(startIso)) / 60_000);
  if (!Number.isFinite(offset) || offset === fixedOffsetMinutes) return false;
  fixedOffsetMinutes = offset;
  zoneChanges.dispatchEvent(new Event("change"));
  return true;
}

/**
 * Minutes the city is ahead of UTC at `date`.
 * @param {Date} date
 * @returns {number}
 */
function offsetAt(date) {
  if (zone) {
    const p = cityParts(date);
    const wall = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
    return Math.round((wall - Math.floor(date.getTime() / 1000) * 1000) / 60_000);
  }
  if (fixedOffsetMinutes !== null) return fixedOffsetMinutes;
  return -date.getTimezoneOffset();
}

/**
 * {year, month, day, hour, minute, second} of `date` on the city's clock.
 * @param {Date} date
 * @returns {CityParts}
 */
export function cityParts(date) {
  if (partsFormatter) {
    /** @type {Record<string, number>} */
    const parts = {};
    for (const { type, value } of partsFormatter.formatToParts(date)) parts[type] = Number(value);
    const { year, month, day, hour, minute, second } = parts;
    return { year, month, day, hour, minute, second };
  }
  const shifted = new Date(date.getTime() + offsetAt(date) * 60_000);
  return {
    year: shifted.getUTCFullYear(),
    month: shifted.getUTCMonth() + 1,
    day: shifted.getUTCDate(),
    hour: shifted.getUTCHours(),
    minute: shifted.getUTCMinutes(),
    second: shifted.getUTCSeconds(),
  };
}

/**
 * The moment the city's clocks show the given wall time (seconds may be fractional).
 * @param {number} year
 * @param {number} month
 * @param {number} day
 * @param {number} [hour]
 * @param {number} [minute]
 * @param {number} [second]
 */
export function cityInstant(year, month, day, hour = 0, minute = 0, second = 0) {
  const wall = Date.UTC(year, month - 1, day, hour, minute, 0) + second * 1000;
  const guess = wall - offsetAt(new Date(wall)) * 60_000;
  return new Date(wall - offsetAt(new Date(guess)) * 60_000);
}

/**
 * "YYYY-MM-DD" of `date` in the city.
 * @param {Date} [date]
 */
export function cityDay(date = new Date()) {
  const p = cityParts(date);
  return `${p.year}-${pad(p.month)}-${pad(p.day)}`;
}

/**
 * The day before or after a "YYYY-MM-DD" (calendar arithmetic, no zone involved).
 * @param {string} day
 * @param {number} days
 */
export function shiftDay(day, days) {
  const [year, month, date] = day.split("-").map(Number);
  const moved = new Date(Date.UTC(year, month - 1, date + days));
  return moved.toISOString().slice(0, 10);
}

/**
 * City midnight starting a "YYYY-MM-DD".
 * @param {string} day
 */
export function dayStart(day) {
  const [year, month, date] = day.split("-").map(Number);
  return cityInstant(year, month, date);
}

/**
 * "2026-11-27 14:03:12" in the city.
 * @param {Date} date
 */
export function formatCityDateTime(date) {
  const p = cityParts(date);
  return `${p.year}-${pad(p.month)}-${pad(p.day)} ${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}`;
}

/**
 * "14:03:12" in the city.
 * @param {Date} date
 */
export function formatCityTime(date) {
  const p = cityParts(date);
  return `${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}`;
}

/**
 * How a date-time input shows `date`: "2026-11-27 14:03:12", city time.
 * @param {Date} date
 */
export function toInputValue(date) {
  return formatCityDateTime(date);
}

/**
 * The moment a typed city time means: "2026-11-27 14:03:12", "2026-11-27 14:03" or with a "T"
 * (ISO); null when it is not a real date and time.
 * @param {string | null | undefined} value
 */
export function fromInputValue(value) {
  const found = /^(\d{4})-(\d{1,2})-(\d{1,2})[T ](\d{1,2}):(\d{2})(?::(\d{2})(\.\d+)?)?$/.exec(String(value || "").trim());
  if (!found) return null;
  const [year, month, day, hour, minute] = found.slice(1, 6).map(Number);
  const second = Number(found[6] || 0) + Number(found[7] || 0);
  const check = new Date(Date.UTC(year, month - 1, day));
  if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day || hour > 23 || minute > 59 || second >= 60) return null;
  return cityInstant(year, month, day, hour, minute, second);
}

/** How the zone is named on screen: "Asia/Almaty", or "UTC+05:00" when only the offset is known. */
export function zoneLabel() {
  if (zone) return zone;
  const offset = fixedOffsetMinutes ?? -new Date().getTimezoneOffset();
  const sign = offset < 0 ? "−" : "+";
  const minutes = Math.abs(offset);
  return `UTC${sign}${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}`;
}
