// @ts-check
// Live video of one camera: the server's WebSocket of fragmented MP4 (one fragment per frame,
// remuxed, never transcoded) played with Media Source Extensions. No plugin, no player library.
//
// The player stays at the live edge: an operator needs what happens now, not a smooth picture
// from two seconds ago, so when the buffer runs ahead of the playhead it jumps forward. Old
// buffer is trimmed so a console left open all shift keeps its memory. A closed socket is
// retried with backoff; a hidden tab disconnects (no video is decoded for nobody).

import { request } from "./api.js";
import { h } from "./dom.js";

const MAX_LAG_S = 0.5; // further behind the newest frame than this: jump forward
const JUMP_TO_S = 0.1; // ...to this far behind it, so a late frame does not stall at once
const TRIM_AFTER_S = 30; // buffer older than this behind the playhead is removed...
const KEEP_S = 10; // ...down to this much
const RETRY_MS = [1000, 2000, 4000, 8000, 15000];
// Live, yet no frame for this long: the connection is dead without knowing it (a dropped
// network path can take minutes to close a socket). Reconnect rather than show a frozen
// picture under a "Live" badge.
const SILENT_MS = 5000;

/**
 * @typedef {"connecting" | "live" | "offline" | "unavailable" | "no-access" | "unsupported" | "paused" | "signed-out"} LiveState
 */

/** @type {Record<LiveState, [badge: string, note: string | null]>} */
const STATES = {
  connecting: ["Connecting…", null],
  live: ["Live", null],
  offline: ["Offline", "The camera is not sending video. Waiting for it to come back…"],
  unavailable: ["No live stream", "This server does not receive this camera's stream."],
  "no-access": ["No access", "Not found, or not within your access."],
  unsupported: ["Cannot play", "This browser cannot decode the camera's video."],
  paused: ["Paused", "Live video pauses while the console is hidden."],
  "signed-out": ["Signed out", "Sign in again to see live video."],
};

/** @typedef {ArrayBuffer | Uint8Array<ArrayBuffer>} Chunk  video bytes, as they came or joined */

/** The close codes of /api/cameras/{id}/live (see safecity/video/live_api.py). */
const CLOSE = { unauthorized: 4401, crossSite: 4403, notFound: 4404, noSource: 4503 };

/**
 * A live player for `cameraId` until `signal` aborts. `label` names the camera on the picture.
 * `onState(state)` hears "connecting", "live", "offline", "unavailable" (the server has no
 * stream of this camera), "no-access", "unsupported", "paused" and "signed-out".
 * Returns {element, video}.
 * @param {object} options
 * @param {number} options.cameraId
 * @param {string} options.label
 * @param {string} [options.href]  makes the name a link (the wall's tiles)
 * @param {AbortSignal} options.signal
 * @param {(state: LiveState) => void} [options.onState]
 */
export function createLivePlayer({ cameraId, label, href, signal, onState = () => {} }) {
  const video = h("video", {
    class: "live-video",
    muted: true,
    autoplay: true,
    playsinline: true,
    disablepictureinpicture: true,
    "aria-label": `Live video of ${label}`,
  });
  video.muted = true; // the property, not just the attribute, is what autoplay checks
  const badge = h("span", { class: "live-badge" });
  const message = h("p", { class: "live-message", hidden: true });
  const name = href ? h("a", { class: "live-name", href }, label) : h("span", { class: "live-name" }, label);
  const element = h(
    "figure",
    { class: "live-player", dataset: { cameraId: String(cameraId) } },
    video,
    h("figcaption", { class: "live-caption" }, name, badge),
    message,
  );

  /** @type {WebSocket | null} */
  let socket = null;
  /** @type {{ append(data: Chunk): void, close(): void } | null} */
  let media = null;
  /** @type {LiveState | null} */
  let state = null;
  let attempt = 0;
  let retryTimer = 0;
  let lastDataAt = 0;

  /** @param {LiveState} next */
  function setState(next) {
    if (next === state) return;
    state = next;
    const [text, note] = STATES[next];
    element.dataset.state = next;
    badge.textContent = text;
    message.textContent = note || "";
    message.hidden = !note;
    onState(next);
  }

  function connect() {
    clearTimeout(retryTimer);
    if (signal.aborted || socket || document.visibilityState !== "visible") return;
    // Offline and unavailable stay on screen while retrying: the badge says what is known.
    if (state !== "offline" && state !== "unavailable") setState("connecting");
    const url = new URL(`/api/cameras/${cameraId}/live`, window.location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(url);
    ws.binaryType = "arraybuffer";
    ws.addEventListener("message", (event) => {
      lastDataAt = performance.now();
      if (typeof event.data !== "string") {
        media?.append(event.data);
        return;
      }
      const note = JSON.parse(event.data);
      if (note.type === "init") startMedia(note.codec);
      else if (note.type === "reset") stopMedia();
      else if (note.type === "offline") setState("offline");
      // "t" (frame timing, asked for by measuring tools only) needs nothing here.
    });
    ws.addEventListener("close", (event) => {
      if (socket !== ws) return; // closed on purpose
      socket = null;
      closed(event.code);
    });
    socket = ws;
  }

  function disconnect() {
    clearTimeout(retryTimer);
    const ws = socket;
    socket = null;
    ws?.close(1000);
    stopMedia();
  }

  function retryLater() {
    if (signal.aborted) return;
    retryTimer = setTimeout(connect, RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)]);
    attempt += 1;
  }

  /** @param {number} code */
  function closed(code) {
    if (signal.aborted) return;
    if (code === CLOSE.unauthorized) {
      stopMedia();
      setState("signed-out");
      // Any API call now answers 401, which takes the console to sign-in and back here.
      request("/api/auth/me").catch(() => {});
    } else if (code === CLOSE.notFound || code === CLOSE.crossSite) {
      stopMedia();
      setState("no-access");
    } else if (code === CLOSE.noSource) {
      stopMedia();
      setState("unavailable");
      retryLater();
    } else {
      // Dropped for falling behind (4408), a restarted server, a lost network: start again
      // from the live edge. The last picture stays, dimmed, until video flows again.
      if (state === "live") setState("connecting");
      retryLater();
    }
  }

  /** @param {string} codec */
  function startMedia(codec) {
    stopMedia();
    const type = `video/mp4; codecs="${codec}"`;
    if (!window.MediaSource?.isTypeSupported(type)) {
      setState("unsupported");
      const ws = socket;
      socket = null;
      ws?.close(1000);
      return;
    }
    media = openMedia(type, () => {
      // The picture moves: this connection works, so the next failure retries quickly.
      attempt = 0;
      setState("live");
    }, () => {
      // The browser could not decode what it was given: start over from a fresh keyframe.
      disconnect();
      setState("connecting");
      retryLater();
    });
  }

  function stopMedia() {
    media?.close();
    media = null;
  }

  /**
   * Play fragments of `type` in the video; `onPlaying` when the picture moves, `onFailure` when
   * the browser cannot decode what it was given.
   * @param {string} type
   * @param {() => void} onPlaying
   * @param {() => void} onFailure
   */
  function openMedia(type, onPlaying, onFailure) {
    const source = new MediaSource();
    const url = URL.createObjectURL(source);
    /** @type {Chunk[]} */
    const pending = [];
    /** @type {SourceBuffer | null} */
    let buffer = null;
    let started = false;
    let done = false;

    video.src = url;
    source.addEventListener(
      "sourceopen",
      () => {
        URL.revokeObjectURL(url);
        if (done) return;
        try {
          buffer = source.addSourceBuffer(type);
        } catch {
          onFailure();
          return;
        }
        buffer.mode = "segments";
        buffer.addEventListener("updateend", pump);
        pump();
      },
      { once: true },
    );

    /** @param {SourceBuffer} buffer */
    function newestFrameEnd(buffer) {
      const ranges = buffer.buffered;
      return ranges.length ? ranges.end(ranges.length - 1) : null;
    }

    /** @param {SourceBuffer} buffer */
    function keepUp(buffer) {
      const end = newestFrameEnd(buffer);
      if (end === null) return;
      if (!started) {
        // Whoever joins mid-GOP gets it from its keyframe: show its newest frame, not its first.
        started = true;
        video.currentTime = Math.max(buffer.buffered.start(buffer.buffered.length - 1), end - JUMP_TO_S);
        video.play().catch(() => {});
        return;
      }
      if (end - video.currentTime > MAX_LAG_S) video.currentTime = end - JUMP_TO_S;
    }

    /** @param {SourceBuffer} buffer */
    function trim(buffer) {
      const ranges = buffer.buffered;
      if (!ranges.length || video.currentTime - ranges.start(0) < TRIM_AFTER_S) return false;
      buffer.remove(0, video.currentTime - KEEP_S);
      return true;
    }

    function pump() {
      const open = buffer;
      if (done || !open || open.updating) return;
      if (trim(open)) return; // updateend comes back here
      keepUp(open);
      if (!pending.length) return;
      const chunk = pending.length === 1 ? pending[0] : concat(pending);
      pending.length = 0;
      try {
        open.appendBuffer(chunk);
      } catch (error) {
        if (error instanceof DOMException && error.name === "QuotaExceededError" && video.currentTime > 1) {
          pending.unshift(chunk);
          open.remove(0, video.currentTime - 1);
        } else {
          onFailure();
        }
      }
    }

    function onError() {
      if (!done) onFailure();
    }

    function onPlayingEvent() {
      if (!done) onPlaying();
    }

    video.addEventListener("error", onError);
    video.addEventListener("playing", onPlayingEvent);
    video.addEventListener("timeupdate", pump);

    return {
      /** @param {Chunk} data */
      append(data) {
        if (done) return;
        pending.push(data);
        pump();
      },
      close() {
        done = true;
        video.removeEventListener("error", onError);
        video.removeEventListener("playing", onPlayingEvent);
        video.removeEventListener("timeupdate", pump);
        // Keep the last picture on screen (dimmed by its state) rather than a black box.
      },
    };
  }

  function onVisibility() {
    if (document.visibilityState === "visible") {
      attempt = 0;
      connect();
    } else {
      disconnect();
      setState("paused");
    }
  }

  function checkSilence() {
    if (state === "live" && socket && performance.now() - lastDataAt > SILENT_MS) {
      disconnect();
      setState("connecting");
      connect();
    }
  }

  const watchdog = setInterval(checkSilence, 1000);
  document.addEventListener("visibilitychange", onVisibility);
  signal.addEventListener("abort", () => {
    clearInterval(watchdog);
    document.removeEventListener("visibilitychange", onVisibility);
    disconnect();
    video.removeAttribute("src");
    video.load(); // let go of the MediaSource
  });
  setState("connecting");
  connect();
  return { element, video };
}

/**
 * @param {Chunk[]} buffers
 * @returns {Chunk}
 */
function concat(buffers) {
  const total = buffers.reduce((sum, part) => sum + part.byteLength, 0);
  const joined = new Uint8Array(total);
  let offset = 0;
  for (const part of buffers) {
    joined.set(new Uint8Array(part), offset);
    offset += part.byteLength;
  }
  return joined;
}
