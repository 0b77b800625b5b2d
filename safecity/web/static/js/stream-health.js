// @ts-check
// The health of a camera's stream as the video node last measured it (`stream` in the camera
// detail, from the camera_streams table): a status in plain words with what to do about it,
// and the figures an engineer asks for on the phone: frame rate, bitrate, picture, last packet,
// reconnects, recording gaps. Refreshed every 5 s while the tab is visible.

/** @import { AnalyticsFigures, Camera, StreamHealth } from "./api-types.js" */
/** @import { Child } from "./dom.js" */

import { ApiError, isQuiet, request } from "./api.js";
import { zoneChanges } from "./clock.js";
import { h, replaceChildren } from "./dom.js";
import { formatAgo, formatBitrate, formatCount, formatDateTime } from "./format.js";

export const HEALTH_EVERY_MS = 5000;
/** The node reports every 2 s; no report for this long means the report itself is old news. */
const STALE_AFTER_MS = 30_000;

/**
 * status → [label, tone, meaning when the server gave no detail, what to do]. See docs/video.md.
 * @type {Record<string, [label: string, tone: string, meaning: string, advice: string | null]>}
 */
const STATUSES = {
  connecting: ["Connecting", "warn", "first attempt, or between attempts", "SafeCity keeps trying."],
  online: ["Online", "good", "video is arriving", null],
  stalled: ["Stalled", "warn", "connected, but no video arrives", "Check the camera and its uplink."],
  unreachable: ["Unreachable", "bad", "the camera does not answer", "Is the camera powered? Is its network up?"],
  unauthorized: [
    "Unauthorized",
    "bad",
    "the camera refused the user or password",
    "Fix the user or password in the registry's stream URL.",
  ],
  not_found: ["Not found", "bad", "the camera has no stream at that address", "Fix the path in the stream URL."],
  corrupt: [
    "Corrupt",
    "bad",
    "the stream sends data that is not valid video",
    "Check the camera's firmware and encoder settings.",
  ],
  unsupported: [
    "Unsupported",
    "bad",
    "the stream has no H.264 or H.265 video",
    "Set the camera to H.264 or H.265: SafeCity records without transcoding.",
  ],
  offline: ["Offline", "bad", "the stream ended or broke; reconnecting", "Usually passes by itself."],
  stopped: ["Stopped", "idle", "this server does not ingest the camera", null],
};

/** @type {Record<string, string>} */
const CODECS = { h264: "H.264", hevc: "H.265", h265: "H.265" };

/** @param {string} status */
function describe(status) {
  const [label, tone, meaning, advice] = STATUSES[status] || [status, "idle", "", null];
  return { label, tone, meaning, advice };
}

/**
 * An element whose text is "N s ago" for `iso`, kept current by the panel's ticker.
 * @param {string | null} iso
 */
function ago(iso) {
  if (!iso) return h("span", { class: "muted" }, "never");
  return h("time", { datetime: iso, title: formatDateTime(iso), dataset: { ago: iso } }, formatAgo(iso));
}

/**
 * @param {string} key
 * @param {string} name
 * @param {Child} value
 */
function row(key, name, value) {
  return [h("dt", {}, name), h("dd", { dataset: { field: key } }, value)];
}

/** @param {StreamHealth} stream */
function picture(stream) {
  const size = stream.width && stream.height ? `${stream.width} × ${stream.height}` : null;
  const codec = stream.codec ? CODECS[stream.codec] || stream.codec.toUpperCase() : null;
  return [size, codec].filter(Boolean).join(" · ") || h("span", { class: "muted" }, "—");
}

/**
 * @param {StreamHealth} stream
 * @param {number} value
 * @param {string} text
 */
function measured(stream, value, text) {
  // Figures of a stream that is not flowing are the last ones measured: say so by fading them.
  return stream.status === "online" ? text : h("span", { class: "muted" }, value ? text : "—");
}

/** @param {StreamHealth} stream */
function headline(stream) {
  const { label, tone, meaning, advice } = describe(stream.status);
  return h(
    "div",
    { class: "health-headline" },
    h("span", { id: "stream-status", class: `badge stream-badge tone-${tone}`, dataset: { status: stream.status } }, label),
    h("span", { id: "stream-detail", class: "stream-detail" }, stream.detail || meaning),
    advice && stream.status !== "online" ? h("p", { class: "stream-advice muted" }, advice) : null,
  );
}

/** @param {StreamHealth} stream */
function figures(stream) {
  const since = stream.connected_since
    ? [formatDateTime(stream.connected_since), " ", h("span", { class: "muted" }, "(", ago(stream.connected_since), ")")]
    : h("span", { class: "muted" }, "not connected");
  return h(
    "dl",
    { class: "fields health-fields" },
    row("fps", "Frame rate", measured(stream, stream.fps, `${stream.fps.toFixed(1)} fps`)),
    row("bitrate", "Bitrate", measured(stream, stream.bitrate_kbps, formatBitrate(stream.bitrate_kbps))),
    row("picture", "Picture", picture(stream)),
    row("last_packet", "Last packet", ago(stream.last_packet_at)),
    row("connected_since", "Connected", since),
    row("reconnects", "Reconnects", formatCount(stream.reconnects)),
    row("gaps", "Recording gaps", formatCount(stream.gaps)),
    row(
      "recording",
      "Recording",
      h("span", { class: `rec-state ${stream.recording ? "rec-on" : "rec-off"}` }, stream.recording ? "On" : "Off"),
    ),
  );
}

/**
 * "12.5 fps", or a dash for a figure the node did not send.
 * @param {number | undefined} value
 */
function rate(value) {
  return value === undefined ? "—" : `${value.toFixed(1)} fps`;
}

/**
 * "3.2 %" of 0.032: a share (0..1) in per cent, one decimal under 10 %.
 * @param {number | undefined} value
 */
function percent(value) {
  if (value === undefined) return "—";
  const shown = value * 100;
  return `${shown < 10 ? shown.toFixed(1) : Math.round(shown)} %`;
}

/**
 * What the camera's video analytics measured: how much it decodes and looks at, what it has
 * to drop when the node falls behind, and what the detector costs.
 * @param {StreamHealth} stream
 * @param {AnalyticsFigures} figures
 */
function analyticsFigures(stream, figures) {
  const skipped = figures.skipped_fps ?? 0;
  const detector =
    figures.detector_ms === undefined
      ? "—"
      : [`${figures.detector_ms.toFixed(1)} ms a call`, figures.detector_share !== undefined ? h("span", { class: "muted" }, ` · on ${percent(figures.detector_share)} of frames`) : null];
  return h(
    "div",
    { id: "analytics-figures", class: "analytics-figures" },
    h("h3", { class: "group-title" }, "Video analytics"),
    h(
      "dl",
      { class: "fields health-fields" },
      row("decode_fps", "Decoded", measured(stream, figures.decode_fps ?? 0, rate(figures.decode_fps))),
      row("analysed_fps", "Analysed", measured(stream, figures.analysed_fps ?? 0, rate(figures.analysed_fps))),
      row(
        "skipped_fps",
        "Skipped",
        h("span", { class: skipped > 0 ? "figure-warn" : "", title: "Frames dropped because the node fell behind" }, rate(figures.skipped_fps)),
      ),
      row("detector_ms", "Detector", detector),
      row("motion_share", "Motion", figures.motion_share === undefined ? "—" : `${percent(figures.motion_share)} of the picture`),
      figures.regions !== undefined ? row("regions", "Regions", `${figures.regions.toFixed(1)} a frame`) : null,
    ),
  );
}

/** @param {StreamHealth | null} stream */
function body(stream) {
  if (!stream) {
    return h(
      "div",
      { id: "stream-none", class: "health-none" },
      h("strong", {}, "No stream data"),
      h("span", { class: "muted" }, "SafeCity has never received this camera's stream: it is not ingested by a video node."),
    );
  }
  return [headline(stream), figures(stream), stream.analytics ? analyticsFigures(stream, stream.analytics) : null];
}

/**
 * "Reported 2 s ago", turning amber when the node has gone quiet.
 * @param {StreamHealth | null} stream
 * @param {boolean} failed
 */
function reportedNote(stream, failed) {
  if (failed) return h("span", { class: "health-note stale" }, "Not updated: cannot reach the server");
  if (!stream) return h("span", { class: "health-note muted" }, "");
  const stale = Date.now() - new Date(stream.updated_at).getTime() > STALE_AFTER_MS;
  return h(
    "span",
    { class: `health-note ${stale ? "stale" : "muted"}`, title: "When the video node last reported" },
    stale ? "Last report " : "Reported ",
    ago(stream.updated_at),
  );
}

/**
 * The stream health panel of `camera`, refreshing itself from /api/cameras/{id} every 5 s while
 * the tab is visible, until `signal` aborts.
 * @param {Camera} camera
 * @param {AbortSignal} signal
 */
export function streamHealthPanel(camera, signal) {
  const content = h("div", { id: "stream-health", class: "health-body" });
  const note = h("span", {});
  const panel = h(
    "section",
    { class: "panel health-panel", "aria-labelledby": "health-title" },
    h("div", { class: "panel-head" }, h("h2", { id: "health-title", class: "panel-title" }, "Stream health"), note),
    content,
  );
  let stream = camera.stream ?? null;
  let timer = 0;
  let busy = false;

  function render(failed = false) {
    replaceChildren(content, body(stream));
    note.replaceChildren(reportedNote(stream, failed));
  }

  function tickAgo() {
    for (const element of panel.querySelectorAll("[data-ago]")) {
      if (element instanceof HTMLElement) element.textContent = formatAgo(element.dataset.ago);
    }
  }

  async function refresh() {
    timer = 0;
    if (busy || signal.aborted || document.visibilityState !== "visible") return;
    busy = true;
    try {
      /** @type {Camera} */
      const fresh = await request(`/api/cameras/${camera.id}`, { signal });
      stream = fresh.stream ?? null;
      render();
    } catch (error) {
      if (isQuiet(error) || (error instanceof ApiError && error.status === 404)) return;
      render(true);
    } finally {
      busy = false;
    }
    if (!signal.aborted) timer = setTimeout(refresh, HEALTH_EVERY_MS);
  }

  function onVisibility() {
    if (document.visibilityState === "visible" && !timer && !busy) refresh();
  }

  const redraw = () => render();
  const ticker = setInterval(tickAgo, 1000);
  document.addEventListener("visibilitychange", onVisibility);
  zoneChanges.addEventListener("change", redraw);
  signal.addEventListener("abort", () => {
    clearTimeout(timer);
    clearInterval(ticker);
    document.removeEventListener("visibilitychange", onVisibility);
    zoneChanges.removeEventListener("change", redraw);
  });
  render();
  timer = setTimeout(refresh, HEALTH_EVERY_MS);
  return panel;
}
