// @ts-check
// A camera's recordings: pick a day (the city's), see what was recorded on a 24-hour timeline
// with the gaps, click a moment to play it, download a clip of any range.
//
// A click plays /api/cameras/{id}/clip.mp4 for a window from that moment (up to 15 minutes,
// never past the end of that recorded range), and the next window follows by itself. A clip
// starts on the keyframe at or before the asked time, so its first byte is fetched first
// (Range: bytes=0-0): the X-Clip-Start header says where its time 0 is, which turns the
// video's currentTime back into the moment it was recorded.

/** @import { Camera, RecordingDay } from "./api-types.js" */
/** @import { Child } from "./dom.js" */
/** @import { MsRange } from "./timeline.js" */

import { ApiError, isQuiet, request, requestResponse } from "./api.js";
import { cityDay, formatCityDateTime, formatCityTime, learnOffsetFromDay, shiftDay, zoneLabel } from "./clock.js";
import { h, replaceChildren } from "./dom.js";
import { formatDateTime, formatDuration, plural, serverWords } from "./format.js";
import { rangeFields } from "./range-fields.js";
import { errorText } from "./states.js";
import { createTimeline } from "./timeline.js";

const WINDOW_MS = 15 * 60_000; // a click plays this much, at most
const MIN_WINDOW_MS = 10_000; // a click at the very end of a range plays its last seconds
const REFRESH_TODAY_MS = 60_000; // today's timeline grows while the camera records

/**
 * @param {number} cameraId
 * @param {Date} start
 * @param {Date} end
 * @param {boolean} [download]
 */
function clipUrl(cameraId, start, end, download = false) {
  const query = new URLSearchParams({ start: start.toISOString(), end: end.toISOString() });
  if (download) query.set("download", "1");
  return `/api/cameras/${cameraId}/clip.mp4?${query}`;
}

/**
 * The clip's actual range, from the headers of its first byte (the body is not read).
 * @param {string} url
 * @param {AbortSignal} signal
 */
async function probeClip(url, signal) {
  const response = await requestResponse(url, { headers: { Range: "bytes=0-0" }, signal });
  response.body?.cancel().catch(() => {});
  const start = new Date(response.headers.get("X-Clip-Start") || NaN);
  return { start: Number.isNaN(start.getTime()) ? null : start };
}

/** @param {unknown} error */
function clipError(error) {
  if (error instanceof ApiError && [404, 416, 422].includes(error.status)) return serverWords(error.detail);
  return errorText(error);
}

/** @param {RecordingDay} timeline */
function summaryText(timeline) {
  if (!timeline.ranges.length) return "Nothing recorded on this day";
  return `${formatDuration(timeline.recorded_seconds)} recorded, ${plural(timeline.gaps.length, "gap")}`;
}

/**
 * @param {string} id
 * @param {string} text
 * @param {string} title
 */
function dayButton(id, text, title) {
  return h("button", { id, type: "button", class: "button button-small", title, "aria-label": title }, text);
}

/**
 * The recordings panel. `onWindow(start, end)` hears every window that starts playing, so the
 * evidence and hold forms can offer the same range. `at` (a Date) opens its day and plays from it.
 * @param {Camera} camera
 * @param {object} options
 * @param {AbortSignal} options.signal
 * @param {(start: Date, end: Date) => void} [options.onWindow]
 * @param {Date | null} [options.at]
 */
export function recordingsPanel(camera, { signal, onWindow = () => {}, at = null }) {
  let day = at ? cityDay(at) : cityDay();
  let followToday = !at; // show the new day after midnight, unless another day was picked
  let startAt = at; // a link to a moment (an alert's) plays it once the day is loaded
  /** @type {{ start: Date, end: Date, clipStart: Date, range: MsRange } | null} */
  let playing = null;
  let loadCount = 0;
  let playCount = 0;
  let refreshTimer = 0;

  const dayInput = h("input", { id: "rec-day", class: "input input-date", type: "date", "aria-label": "Day to show" });
  const previous = dayButton("rec-prev", "‹", "Previous day");
  const next = dayButton("rec-next", "›", "Next day");
  const today = dayButton("rec-today", "Today", "Today in the city");
  const summary = h("span", { id: "rec-summary", class: "rec-summary", "aria-live": "polite" }, "Loading…");
  const kept = h("span", { id: "rec-kept", class: "muted rec-kept" });
  const zone = h("span", { id: "rec-zone", class: "muted rec-zone" });
  const timeline = createTimeline({ onPick: (at) => play(at), label: `Recordings of ${camera.code}` });

  const video = h("video", {
    id: "rec-video",
    class: "rec-video",
    controls: true,
    muted: true,
    playsinline: true,
    preload: "metadata",
    disablepictureinpicture: true,
    "aria-label": `Recorded video of ${camera.code}`,
  });
  video.muted = true; // recordings carry no sound; muted also lets play() start without a gesture
  const idle = h(
    "div",
    { id: "rec-idle", class: "rec-idle" },
    h("strong", {}, "Click the timeline to play"),
    h("span", { class: "muted" }, "Playback starts at the moment you pick. Arrow keys move along a focused timeline, Enter plays."),
  );
  const recordedAt = h("span", { id: "rec-time", class: "rec-time" }, "Nothing playing");
  const windowText = h("span", { id: "rec-window", class: "muted" });
  const note = h("div", { id: "rec-note", class: "rec-note", role: "status", hidden: true });

  const none = h(
    "div",
    { id: "rec-none", class: "rec-none", hidden: true },
    h("strong", {}, "No recordings of this camera are kept"),
    h("span", { class: "muted" }, "Nothing it sent has been recorded, or retention has removed it all. This page checks again every minute."),
  );
  const clipRange = rangeFields("clip");
  const downloadButton = h("button", { id: "clip-download", type: "button", class: "button" }, "Download clip");
  const clipMessage = h("p", { id: "clip-message", class: "form-message", role: "status" });

  const panel = h(
    "section",
    { id: "recordings", class: "panel recordings-panel", "aria-labelledby": "recordings-title" },
    h(
      "div",
      { class: "panel-head rec-head" },
      h("h2", { id: "recordings-title", class: "panel-title" }, "Recordings"),
      h("div", { class: "day-picker", role: "group", "aria-label": "Day" }, previous, dayInput, next, today),
      summary,
      kept,
      h("span", { class: "header-spacer" }),
      zone,
    ),
    none,
    h("div", { class: "rec-timeline" }, timeline.element, legend()),
    h(
      "div",
      { class: "rec-body" },
      h("div", { class: "rec-player" }, video, idle),
      h(
        "div",
        { class: "rec-side" },
        h("div", { class: "rec-now" }, recordedAt, windowText),
        note,
        h(
          "div",
          { class: "rec-clip" },
          h("h3", { class: "group-title" }, "Download a clip"),
          clipRange.element,
          h("div", { class: "form-actions" }, downloadButton, clipMessage),
          h("p", { class: "form-hint muted" }, "A plain MP4 for viewing. For court, export an evidence package: it is signed and logged."),
        ),
        keysHelp(),
      ),
    ),
  );

  function keysHelp() {
    const keys = [
      ["← →", "1 minute (with Shift: 10)"],
      ["PgUp PgDn", "1 hour"],
      ["Home End", "start of the day, now"],
      ["Enter", "play from the cursor"],
    ];
    return h(
      "div",
      { class: "rec-keys" },
      h("h3", { class: "group-title" }, "Timeline keys"),
      h("dl", { class: "fields keys-fields" }, keys.map(([key, what]) => [h("dt", {}, h("kbd", {}, key)), h("dd", {}, what)])),
    );
  }

  function legend() {
    const item = (/** @type {string} */ kind, /** @type {string} */ text) => h("span", { class: "tl-legend-item" }, h("span", { class: `tl-swatch tl-swatch-${kind}` }), text);
    return h("div", { class: "tl-legend", "aria-hidden": "true" }, item("range", "Recorded"), item("gap", "Gap"), item("future", "Not yet"));
  }

  /**
   * @param {string | null} text
   * @param {Child} [action]
   */
  function say(text, action = null) {
    replaceChildren(note, text, action);
    note.hidden = !text;
  }

  // --- the day -----------------------------------------------------------------------------

  function showDay() {
    const now = cityDay();
    dayInput.value = day;
    dayInput.max = now;
    next.disabled = day >= now;
    today.disabled = day === now;
    zone.textContent = `Times in ${zoneLabel()}`;
    panel.dataset.day = day;
  }

  /** @param {string} wanted  a day, YYYY-MM-DD */
  async function load(wanted) {
    const count = ++loadCount;
    day = wanted;
    showDay();
    clearTimeout(refreshTimer);
    try {
      /** @type {RecordingDay} */
      const answer = await request(`/api/cameras/${camera.id}/recordings`, { query: { day }, signal });
      if (count !== loadCount) return;
      // The server cut the day at the city's midnight: now the city's clock is known for sure.
      if (learnOffsetFromDay(day, answer.start) && followToday && cityDay() !== day) {
        load(cityDay());
        return;
      }
      showTimeline(answer);
      if (startAt) {
        const moment = startAt;
        startAt = null;
        play(moment);
      }
    } catch (error) {
      if (isQuiet(error) || count !== loadCount) return;
      if (error instanceof ApiError && error.status === 403) {
        panel.remove(); // this role may not watch recordings
        return;
      }
      summary.textContent = `Cannot load the recordings: ${errorText(error)}`;
    }
    scheduleRefresh();
  }

  /** @param {RecordingDay} answer */
  function showTimeline(answer) {
    showDay();
    timeline.show(answer);
    if (playing) timeline.setWindow(playing.start, playing.end);
    summary.textContent = summaryText(answer);
    kept.textContent = answer.first_recording ? `Archive from ${formatDateTime(answer.first_recording).slice(0, 16)}` : "";
    panel.dataset.ranges = String(answer.ranges.length);
    // A camera with nothing kept at all gets a line, not an empty day and an empty player.
    const nothingKept = !answer.first_recording && !playing;
    panel.classList.toggle("rec-nothing", nothingKept);
    none.hidden = !nothingKept;
  }

  function scheduleRefresh() {
    if (signal.aborted || day !== cityDay()) return;
    refreshTimer = setTimeout(() => {
      if (document.visibilityState !== "visible") scheduleRefresh();
      else load(followToday ? cityDay() : day);
    }, REFRESH_TODAY_MS);
  }

  /** @param {string} wanted */
  function pickDay(wanted) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(wanted)) return;
    followToday = wanted === cityDay();
    load(wanted);
  }

  previous.addEventListener("click", () => pickDay(shiftDay(day, -1)));
  next.addEventListener("click", () => pickDay(shiftDay(day, 1)));
  today.addEventListener("click", () => pickDay(cityDay()));
  dayInput.addEventListener("change", () => pickDay(dayInput.value));

  // --- playback ----------------------------------------------------------------------------

  /** @param {Date} at */
  function play(at) {
    const range = timeline.rangeFor(at);
    if (!range) {
      say(`Nothing recorded after ${formatCityTime(at)} on this day.`);
      return;
    }
    let start = Math.max(at.getTime(), range.start);
    const end = Math.min(range.end, start + WINDOW_MS);
    if (end - start < MIN_WINDOW_MS) start = Math.max(range.start, end - MIN_WINDOW_MS);
    const skipped = at.getTime() < range.start;
    const message = skipped
      ? `Nothing recorded at ${formatCityTime(at)}: playing from ${formatCityTime(new Date(range.start))}, where the recording resumes.`
      : null;
    openWindow(new Date(start), new Date(end), range, message);
  }

  /**
   * @param {Date} start
   * @param {Date} end
   * @param {MsRange} range  the recorded range it is in
   * @param {string | null} message
   */
  async function openWindow(start, end, range, message) {
    const count = ++playCount;
    const url = clipUrl(camera.id, start, end);
    playing = null; // until the new clip is at its first moment, the label waits too
    video.pause();
    say(message);
    recordedAt.textContent = "Loading…";
    const recorded = `${formatCityTime(new Date(range.start))} – ${formatCityTime(new Date(range.end))}`;
    windowText.textContent = `Window ${formatCityTime(start)} – ${formatCityTime(end)} · recording ${recorded}`;
    let clip;
    try {
      clip = await probeClip(url, signal);
    } catch (error) {
      if (isQuiet(error) || count !== playCount) return;
      recordedAt.textContent = "Nothing playing";
      windowText.textContent = "";
      say(`Cannot play: ${clipError(error)}`);
      return;
    }
    if (count !== playCount) return;
    idle.hidden = true;
    const clipStart = clip.start || start; // without the header: as asked, a GOP early at most
    video.addEventListener(
      "loadedmetadata",
      () => {
        if (count !== playCount) return;
        video.currentTime = Math.max(0, (start.getTime() - clipStart.getTime()) / 1000);
        playing = { start, end, clipStart, range };
        showRecordedAt(start);
        video.play().catch(() => {});
      },
      { once: true },
    );
    video.src = url;
    timeline.setWindow(start, end);
    clipRange.set(start, end);
    onWindow(start, end);
  }

  /** @param {Date} at */
  function showRecordedAt(at) {
    recordedAt.textContent = `Recorded ${formatCityDateTime(at)}`;
    recordedAt.dataset.at = at.toISOString();
    timeline.setPlayhead(at);
  }

  /** At the end of a window: the next one, or what comes after this recorded range. */
  async function onEnded() {
    if (!playing) return;
    const count = playCount;
    // The clip ends with the GOP holding the window's end: go on from what was last shown.
    const end = Math.max(playing.end.getTime(), playing.clipStart.getTime() + video.currentTime * 1000);
    if (day === cityDay()) await load(day); // today's recording may have grown meanwhile
    if (count !== playCount) return; // the operator picked another moment meanwhile
    const range = timeline.rangeFor(new Date(end));
    if (range && range.start <= end && end < range.end - 1000) {
      openWindow(new Date(end), new Date(Math.min(range.end, end + WINDOW_MS)), range, null);
      return;
    }
    const stopped = `The recording stops at ${formatCityTime(new Date(end))}.`;
    if (!range) {
      say(`${stopped} Nothing more on this day.`);
      return;
    }
    const resume = h("button", { id: "rec-resume", type: "button", class: "button button-small" }, `Play from ${formatCityTime(new Date(range.start))}`);
    resume.addEventListener("click", () => play(new Date(range.start)));
    say(`${stopped} `, resume);
  }

  video.addEventListener("timeupdate", () => {
    if (playing) showRecordedAt(new Date(playing.clipStart.getTime() + video.currentTime * 1000));
  });
  video.addEventListener("ended", onEnded);
  video.addEventListener("error", () => {
    if (playing && video.getAttribute("src")) say("This browser could not play the clip.");
  });

  // --- a clip to keep ----------------------------------------------------------------------

  async function download() {
    const range = clipRange.read((problem) => {
      clipMessage.textContent = problem;
    });
    if (!range) return;
    const url = clipUrl(camera.id, range.start, range.end, true);
    downloadButton.disabled = true;
    clipMessage.textContent = "Preparing…";
    try {
      await probeClip(url, signal); // a refusal is shown here, not as a page of JSON
      h("a", { href: url, download: "" }).click();
      clipMessage.textContent = `Downloading ${formatCityDateTime(range.start)} – ${formatCityTime(range.end)}.`;
    } catch (error) {
      if (!isQuiet(error)) clipMessage.textContent = clipError(error);
    } finally {
      downloadButton.disabled = false;
    }
  }

  downloadButton.addEventListener("click", download);

  signal.addEventListener("abort", () => {
    clearTimeout(refreshTimer);
    playing = null;
    video.removeAttribute("src");
    video.load();
  });
  load(day);
  return panel;
}
