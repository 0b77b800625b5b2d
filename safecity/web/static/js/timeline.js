// A day of one camera's recordings as a bar: recorded ranges, the gaps between them (hatched
// red), the part of today still to come, hour ticks, the window being played and a playhead.
// Hover says what time is under the pointer; a click (or Enter at the keyboard cursor) picks
// that moment. Positions are set through the CSSOM, which the CSP allows (no style attributes).

import { h } from "./dom.js";
import { cityParts, formatCityTime } from "./clock.js";

const KEY_STEPS_MS = {
  ArrowLeft: -60_000,
  ArrowRight: 60_000,
  PageUp: -3_600_000,
  PageDown: 3_600_000,
};

function pad(n) {
  return String(n).padStart(2, "0");
}

function ms(value) {
  return value instanceof Date ? value.getTime() : Date.parse(value);
}

/**
 * The timeline bar. `onPick(date)` hears a click or Enter. Call `show(timeline)` with the API's
 * day timeline, `setWindow(start, end)` and `setPlayhead(date)` as playback goes on.
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

  let day = null; // {start, end, now, ranges, gaps} in ms
  let cursorAt = null;

  function fraction(at) {
    return Math.min(1, Math.max(0, (at - day.start) / (day.end - day.start)));
  }

  function place(node, from, to) {
    node.style.left = `${fraction(from) * 100}%`;
    node.style.width = `${Math.max(0, fraction(to) - fraction(from)) * 100}%`;
  }

  function block(kind, from, to, extra = {}) {
    const node = h("div", { class: `tl-${kind}`, ...extra });
    place(node, from, to);
    return node;
  }

  function hourTicks() {
    const nodes = [h("span", { class: "tl-tick tl-tick-edge" }, formatCityTime(new Date(day.start)).slice(0, 5))];
    for (let at = day.start + 3_600_000; at < day.end; at += 3_600_000) {
      const hour = cityParts(new Date(at)).hour;
      const line = h("div", { class: "tl-hour" });
      line.style.left = `${fraction(at) * 100}%`;
      layer.append(line);
      const tick = h("span", { class: `tl-tick${hour % 3 ? " tl-tick-minor" : ""}` }, `${pad(hour)}:00`);
      tick.style.left = `${fraction(at) * 100}%`;
      nodes.push(tick);
    }
    ticks.replaceChildren(...nodes);
  }

  /** What the bar holds at `at`: "recorded", "gap", "future" or "none". */
  function stateAt(at) {
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

  function describe(at) {
    return `${formatCityTime(new Date(at))} · ${STATE_WORDS[stateAt(at)]}`;
  }

  function timeAt(clientX) {
    const box = bar.getBoundingClientRect();
    const share = Math.min(1, Math.max(0, (clientX - box.left) / box.width));
    return Math.round(day.start + share * (day.end - day.start));
  }

  function showTooltip(at) {
    tooltip.textContent = describe(at);
    tooltip.hidden = false;
    const width = bar.clientWidth;
    const x = fraction(at) * width;
    tooltip.style.left = `${Math.min(Math.max(x, 60), width - 60)}px`;
  }

  function moveCursor(at) {
    cursorAt = Math.min(day.end - 1000, Math.max(day.start, at));
    cursor.hidden = false;
    cursor.style.left = `${fraction(cursorAt) * 100}%`;
    bar.setAttribute("aria-valuenow", String(Math.round((cursorAt - day.start) / 1000)));
    bar.setAttribute("aria-valuetext", describe(cursorAt));
    showTooltip(cursorAt);
  }

  bar.addEventListener("mousemove", (event) => {
    if (!day) return;
    const at = timeAt(event.clientX);
    cursor.hidden = false;
    cursor.style.left = `${fraction(at) * 100}%`;
    showTooltip(at);
  });
  function keyboardFocused() {
    return document.activeElement === bar && bar.matches(":focus-visible");
  }

  function hidePointer() {
    cursor.hidden = true;
    tooltip.hidden = true;
  }

  bar.addEventListener("mouseleave", () => {
    if (keyboardFocused() && cursorAt !== null) moveCursor(cursorAt);
    else hidePointer();
  });
  bar.addEventListener("click", (event) => {
    if (!day) return;
    const at = timeAt(event.clientX);
    cursorAt = at;
    onPick(new Date(at));
  });
  bar.addEventListener("focus", () => {
    if (day && keyboardFocused()) moveCursor(cursorAt ?? day.ranges[0]?.start ?? day.start);
  });
  bar.addEventListener("blur", hidePointer);
  bar.addEventListener("keydown", (event) => {
    if (!day) return;
    const base = cursorAt ?? day.start;
    let step = KEY_STEPS_MS[event.key];
    if (step !== undefined) {
      if (event.shiftKey && Math.abs(step) === 60_000) step *= 10;
      moveCursor(base + step);
    } else if (event.key === "Home") moveCursor(day.start);
    else if (event.key === "End") moveCursor(Math.min(day.end, day.now));
    else if (event.key === "Enter" || event.key === " ") onPick(new Date(base));
    else return;
    event.preventDefault();
  });

  return {
    element,
    /** Draw a day: the API's timeline (ranges and gaps), with "now" for what is still to come. */
    show(timeline, now = new Date()) {
      day = {
        start: ms(timeline.start),
        end: ms(timeline.end),
        now: now.getTime(),
        ranges: timeline.ranges.map((r) => ({ start: ms(r.start), end: ms(r.end) })),
        gaps: timeline.gaps.map((g) => ({ start: ms(g.start), end: ms(g.end) })),
        writing: timeline.recording_since ? { start: ms(timeline.recording_since), end: now.getTime() } : null,
      };
      bar.setAttribute("aria-valuemax", String(Math.round((day.end - day.start) / 1000)));
      layer.replaceChildren();
      if (day.now < day.end) layer.append(block("future", Math.max(day.now, day.start), day.end));
      for (const gap of day.gaps) layer.append(block("gap", gap.start, gap.end));
      for (const range of day.ranges) layer.append(block("range", range.start, range.end));
      if (day.writing) layer.append(block("writing", day.writing.start, Math.min(day.writing.end, day.end)));
      hourTicks();
      if (cursorAt !== null && (cursorAt < day.start || cursorAt >= day.end)) cursorAt = null;
    },
    /** Mark the stretch being played (Dates), or hide the mark with null. */
    setWindow(start, end) {
      window_.hidden = !start || !day;
      if (!window_.hidden) place(window_, start.getTime(), end.getTime());
    },
    /** Where playback is now (a Date), or null. */
    setPlayhead(at) {
      const inside = at && day && at.getTime() >= day.start && at.getTime() <= day.end;
      playhead.hidden = !inside;
      if (inside) playhead.style.left = `${fraction(at.getTime()) * 100}%`;
    },
    /** The recorded range holding `at`, else the first one after it (ms), else null. */
    rangeFor(at) {
      if (!day) return null;
      const t = at.getTime();
      return day.ranges.find((r) => t >= r.start && t < r.end) || day.ranges.find((r) => r.start > t) || null;
    },
    /** The recorded range after the one ending at `end` (ms), or null. */
    nextRange(end) {
      return day?.ranges.find((r) => r.start >= end) || null;
    },
  };
}
