// @ts-check
// A day of one camera's recordings as a bar: recorded ranges, the gaps between them (hatched
// red), the part of today still to come, hour ticks, the window being played and a playhead.
// Hover says what time is under the pointer; a click (or Enter at the keyboard cursor) picks
// that moment. Positions are set through the CSSOM, which the CSP allows (no style attributes).

/** @import { RecordingDay } from "./api-types.js" */

import { cityParts, formatCityTime } from "./clock.js";
import { h } from "./dom.js";

/**
 * A stretch of time in ms since the epoch.
 * @typedef {{ start: number, end: number }} MsRange
 */

/**
 * The day shown, in ms: its bounds, now, what is recorded, the gaps, and the segment being
 * written (recorded, not yet playable).
 * @typedef {object} Day
 * @property {number} start
 * @property {number} end
 * @property {number} now
 * @property {MsRange[]} ranges
 * @property {MsRange[]} gaps
 * @property {MsRange | null} writing
 */

/** @type {Record<string, number>} */
const KEY_STEPS_MS = {
  ArrowLeft: -60_000,
  ArrowRight: 60_000,
  PageUp: -3_600_000,
  PageDown: 3_600_000,
};

/** @param {number} n */
function pad(n) {
  return String(n).padStart(2, "0");
}

/** @param {Date | string} value */
function ms(value) {
  return value instanceof Date ? value.getTime() : Date.parse(value);
}

/**
 * The timeline bar. `onPick(date)` hears a click or Enter. Call `show(timeline)` with the API's
 * day timeline, `setWindow(start, end)` and `setPlayhead(date)` as playback goes on.
 * @param {{ onPick: (at: Date) => void, label?: string }} options
 */
export function createTimeline({ onPick, label = "Recordings of the day" }) {
  const layer = h("div", { class: "tl-layer" });
  const window_ = h("div", { class: "tl-window", hidden: true });
  const playhead = h("div", { class: "tl-playhead", hidden: true });
  const cursor = h("div", { class: "tl-cursor", hidden: true });
  const bar = h(
    "div",
    {
      id: "timeline",
      class: "tl-bar",
      tabindex: "0",
      role: "slider",
      "aria-label": `${label}: arrow keys move, Enter plays`,
      "aria-valuemin": "0",
    },
    layer,
    window_,
    playhead,
    cursor,
  );
  const ticks = h("div", { class: "tl-ticks", "aria-hidden": "true" });
  const tooltip = h("div", { id: "timeline-tooltip", class: "tl-tooltip", role: "tooltip", hidden: true });
  const element = h("div", { class: "timeline" }, bar, ticks, tooltip);

  /** @type {Day | null} */
  let day = null;
  /** @type {number | null} */
  let cursorAt = null;

  /**
   * Where `at` is along the bar, 0 to 1.
   * @param {Day} day
   * @param {number} at
   */
  function fraction(day, at) {
    return Math.min(1, Math.max(0, (at - day.start) / (day.end - day.start)));
  }

  /**
   * @param {Day} day
   * @param {HTMLElement} node
   * @param {number} from
   * @param {number} to
   */
  function place(day, node, from, to) {
    node.style.left = `${fraction(day, from) * 100}%`;
    node.style.width = `${Math.max(0, fraction(day, to) - fraction(day, from)) * 100}%`;
  }

  /**
   * @param {Day} day
   * @param {string} kind
   * @param {number} from
   * @param {number} to
   */
  function block(day, kind, from, to) {
    const node = h("div", { class: `tl-${kind}` });
    place(day, node, from, to);
    return node;
  }

  /** @param {Day} day */
  function hourTicks(day) {
    const nodes = [h("span", { class: "tl-tick tl-tick-edge" }, formatCityTime(new Date(day.start)).slice(0, 5))];
    for (let at = day.start + 3_600_000; at < day.end; at += 3_600_000) {
      const hour = cityParts(new Date(at)).hour;
      const line = h("div", { class: "tl-hour" });
      line.style.left = `${fraction(day, at) * 100}%`;
      layer.append(line);
      const tick = h("span", { class: `tl-tick${hour % 3 ? " tl-tick-minor" : ""}` }, `${pad(hour)}:00`);
      tick.style.left = `${fraction(day, at) * 100}%`;
      nodes.push(tick);
    }
    ticks.replaceChildren(...nodes);
  }

  /**
   * What the bar holds at `at`.
   * @param {Day} day
   * @param {number} at
   * @returns {keyof typeof STATE_WORDS}
   */
  function stateAt(day, at) {
    if (day.ranges.some((r) => at >= r.start && at < r.end)) return "recorded";
    if (at > day.now) return "future";
    if (day.writing && at >= day.writing.start && at <= day.writing.end) return "writing";
    if (day.gaps.some((g) => at >= g.start && at < g.end)) return "gap";
    return "none";
  }

  const STATE_WORDS = {
    recorded: "recorded",
    writing: "being recorded now (playable once its segment closes)",
    gap: "gap: nothing recorded",
    future: "not yet",
    none: "nothing recorded",
  };

  /**
   * @param {Day} day
   * @param {number} at
   */
  function describe(day, at) {
    return `${formatCityTime(new Date(at))} · ${STATE_WORDS[stateAt(day, at)]}`;
  }

  /**
   * @param {Day} day
   * @param {number} clientX
   */
  function timeAt(day, clientX) {
    const box = bar.getBoundingClientRect();
    const share = Math.min(1, Math.max(0, (clientX - box.left) / box.width));
    return Math.round(day.start + share * (day.end - day.start));
  }

  /**
   * @param {Day} day
   * @param {number} at
   */
  function showTooltip(day, at) {
    tooltip.textContent = describe(day, at);
    tooltip.hidden = false;
    const width = bar.clientWidth;
    const x = fraction(day, at) * width;
    tooltip.style.left = `${Math.min(Math.max(x, 60), width - 60)}px`;
  }

  /**
   * @param {Day} day
   * @param {number} at
   */
  function moveCursor(day, at) {
    const to = Math.min(day.end - 1000, Math.max(day.start, at));
    cursorAt = to;
    cursor.hidden = false;
    cursor.style.left = `${fraction(day, to) * 100}%`;
    bar.setAttribute("aria-valuenow", String(Math.round((to - day.start) / 1000)));
    bar.setAttribute("aria-valuetext", describe(day, to));
    showTooltip(day, to);
  }

  bar.addEventListener("mousemove", (event) => {
    if (!day) return;
    const at = timeAt(day, event.clientX);
    cursor.hidden = false;
    cursor.style.left = `${fraction(day, at) * 100}%`;
    showTooltip(day, at);
  });
  function keyboardFocused() {
    return document.activeElement === bar && bar.matches(":focus-visible");
  }

  function hidePointer() {
    cursor.hidden = true;
    tooltip.hidden = true;
  }

  bar.addEventListener("mouseleave", () => {
    if (day && keyboardFocused() && cursorAt !== null) moveCursor(day, cursorAt);
    else hidePointer();
  });
  bar.addEventListener("click", (event) => {
    if (!day) return;
    const at = timeAt(day, event.clientX);
    cursorAt = at;
    onPick(new Date(at));
  });
  bar.addEventListener("focus", () => {
    if (day && keyboardFocused()) moveCursor(day, cursorAt ?? day.ranges[0]?.start ?? day.start);
  });
  bar.addEventListener("blur", hidePointer);
  bar.addEventListener("keydown", (event) => {
    if (!day) return;
    const base = cursorAt ?? day.start;
    let step = KEY_STEPS_MS[event.key];
    if (step !== undefined) {
      if (event.shiftKey && Math.abs(step) === 60_000) step *= 10;
      moveCursor(day, base + step);
    } else if (event.key === "Home") moveCursor(day, day.start);
    else if (event.key === "End") moveCursor(day, Math.min(day.end, day.now));
    else if (event.key === "Enter" || event.key === " ") onPick(new Date(base));
    else return;
    event.preventDefault();
  });

  return {
    element,
    /**
     * Draw a day: the API's timeline (ranges and gaps), with "now" for what is still to come.
     * @param {RecordingDay} timeline
     * @param {Date} [now]
     */
    show(timeline, now = new Date()) {
      /** @type {Day} */
      const shown = {
        start: ms(timeline.start),
        end: ms(timeline.end),
        now: now.getTime(),
        ranges: timeline.ranges.map((r) => ({ start: ms(r.start), end: ms(r.end) })),
        gaps: timeline.gaps.map((g) => ({ start: ms(g.start), end: ms(g.end) })),
        writing: timeline.recording_since ? { start: ms(timeline.recording_since), end: now.getTime() } : null,
      };
      day = shown;
      bar.setAttribute("aria-valuemax", String(Math.round((shown.end - shown.start) / 1000)));
      layer.replaceChildren();
      if (shown.now < shown.end) layer.append(block(shown, "future", Math.max(shown.now, shown.start), shown.end));
      for (const gap of shown.gaps) layer.append(block(shown, "gap", gap.start, gap.end));
      for (const range of shown.ranges) layer.append(block(shown, "range", range.start, range.end));
      if (shown.writing) layer.append(block(shown, "writing", shown.writing.start, Math.min(shown.writing.end, shown.end)));
      hourTicks(shown);
      if (cursorAt !== null && (cursorAt < shown.start || cursorAt >= shown.end)) cursorAt = null;
    },
    /**
     * Mark the stretch being played.
     * @param {Date} start
     * @param {Date} end
     */
    setWindow(start, end) {
      window_.hidden = !day;
      if (day) place(day, window_, start.getTime(), end.getTime());
    },
    /**
     * Where playback is now.
     * @param {Date} at
     */
    setPlayhead(at) {
      const inside = day !== null && at.getTime() >= day.start && at.getTime() <= day.end;
      playhead.hidden = !inside;
      if (day && inside) playhead.style.left = `${fraction(day, at.getTime()) * 100}%`;
    },
    /**
     * The recorded range holding `at`, else the first one after it (ms), else null.
     * @param {Date} at
     * @returns {MsRange | null}
     */
    rangeFor(at) {
      if (!day) return null;
      const t = at.getTime();
      return day.ranges.find((r) => t >= r.start && t < r.end) || day.ranges.find((r) => r.start > t) || null;
    },
  };
}
