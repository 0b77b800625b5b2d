// @ts-check
// Keeps a camera's live snapshot fresh: a new JPEG every couple of seconds while the page is
// on screen, nothing while the tab is hidden (an OCC console stays open for a whole shift).
//
// The picture is fetched, not set as <img src>: only fetch tells "no live picture" (503) from
// "session expired" (401) from "server unreachable", and each needs a different word on screen.

import { ApiError, isAbort, requestBlob } from "./api.js";

/**
 * What the refresher tells: a state, with the moment of a live picture or the error.
 * @typedef {["live", Date] | ["no-picture"] | ["offline"] | ["gone"] | ["error", ApiError]} SnapshotNews
 */

export const SNAPSHOT_EVERY_MS = 2000;

/**
 * Start refreshing `img` with the snapshot of `cameraId` until `signal` aborts.
 * `onState(state, detail)` hears "live" (with the Date of the picture), "no-picture", "offline"
 * (server unreachable), "gone" (camera no longer visible) and "error" (with the ApiError).
 * @param {number} cameraId
 * @param {object} options
 * @param {HTMLImageElement} options.img
 * @param {(...news: SnapshotNews) => void} options.onState
 * @param {AbortSignal} options.signal
 * @param {number} [options.everyMs]
 */
export function startSnapshots(cameraId, { img, onState, signal, everyMs = SNAPSHOT_EVERY_MS }) {
  /** @type {string | null} */
  let objectUrl = null;
  let timer = 0;
  let frames = 0;
  let inFlight = false;

  /** @param {Blob} blob */
  function show(blob) {
    const previous = objectUrl;
    objectUrl = URL.createObjectURL(blob);
    img.src = objectUrl;
    frames += 1;
    img.dataset.frame = String(frames);
    if (previous) URL.revokeObjectURL(previous);
  }

  async function tick() {
    timer = 0;
    if (signal.aborted || inFlight) return;
    if (document.visibilityState !== "visible") return; // resumed by visibilitychange
    inFlight = true;
    try {
      const blob = await requestBlob(`/api/cameras/${cameraId}/snapshot.jpg`, { signal });
      show(blob);
      onState("live", new Date());
    } catch (error) {
      if (isAbort(error)) return;
      if (error instanceof ApiError && error.status === 503) onState("no-picture");
      else if (error instanceof ApiError && (error.status === 404 || error.status === 401)) {
        onState("gone");
        return; // nothing more to fetch for this camera
      } else if (error instanceof ApiError) onState("error", error);
      else onState("offline");
    } finally {
      inFlight = false;
    }
    if (!signal.aborted) timer = setTimeout(tick, everyMs);
  }

  function onVisibility() {
    if (document.visibilityState === "visible" && !timer && !inFlight) tick();
  }

  document.addEventListener("visibilitychange", onVisibility);
  signal.addEventListener("abort", () => {
    clearTimeout(timer);
    document.removeEventListener("visibilitychange", onVisibility);
    if (objectUrl) URL.revokeObjectURL(objectUrl);
  });
  tick();
}
