// @ts-check
// The cameras an operator ticked in the camera list for the video wall. Kept for the tab
// (sessionStorage) so it survives paging, filtering and a reload, and is not shared between
// two consoles open side by side.

const KEY = "safecity.wallSelection";

/** The largest wall: 4 × 4. */
export const MAX_WALL = 16;

/** @returns {number[]} */
export function selectedCameras() {
  try {
    const ids = JSON.parse(sessionStorage.getItem(KEY) || "[]");
    return Array.isArray(ids) ? ids.filter(Number.isInteger).slice(0, MAX_WALL) : [];
  } catch {
    return [];
  }
}

/** @param {number[]} ids */
function store(ids) {
  sessionStorage.setItem(KEY, JSON.stringify(ids));
}

/**
 * Tick or untick a camera; false when the wall is already full.
 * @param {number} id
 * @param {boolean} selected
 */
export function toggleCamera(id, selected) {
  const ids = selectedCameras().filter((other) => other !== id);
  if (selected) {
    if (ids.length >= MAX_WALL) return false;
    ids.push(id);
  }
  store(ids);
  return true;
}

export function clearSelection() {
  store([]);
}
