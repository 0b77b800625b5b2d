// @ts-check
// The video wall: live video of up to 16 cameras in a 1, 2 × 2, 3 × 3 or 4 × 4 grid. The
// cameras are the ones ticked in the camera list (#/wall?cameras=12,57) or all of a site's
// (#/wall?site=5), cut to the grid; the toolbar says how many did not fit.
//
// Each tile is its own live player on its own WebSocket; the server runs one muxer per camera
// however many consoles watch it, so a wall costs the server a queue per tile, not a transcode.

/** @import { Camera, Page, Site } from "../api-types.js" */
/** @import { ViewContext } from "../router.js" */

import { isAbort, isQuiet, request, statusOf } from "../api.js";
import { h, replaceChildren } from "../dom.js";
import { formatCount, plural } from "../format.js";
import { createLivePlayer } from "../live.js";
import { navigate, replaceQuery } from "../router.js";
import { emptyState, errorState, loadingState } from "../states.js";
import { MAX_WALL } from "../wall-selection.js";

const GRIDS = [1, 4, 9, 16];
const LAST_WALL_KEY = "safecity.lastWall";

/**
 * What the wall shows: picked cameras or a site's, in a grid of a size, or as many as fit.
 * @typedef {{ cameras?: number[], site?: number, grid?: number }} Wall
 */

/**
 * The cameras found for a wall: the first ones, how many there are in all, and the site's
 * name (null: picked cameras).
 * @typedef {{ cameras: Array<Pick<Camera, "id" | "code" | "name">>, total: number, source: string | null }} Found
 */

/**
 * The wall the hash asks for: {cameras: [ids]} or {site: id}, and a grid size if given.
 * @param {Record<string, string | undefined>} query
 */
function readWall(query) {
  /** @type {Wall} */
  const wall = {};
  if (/^\d+$/.test(query.site || "")) wall.site = Number(query.site);
  else if (query.cameras) {
    const ids = query.cameras.split(",").filter((part) => /^\d+$/.test(part)).map(Number);
    wall.cameras = [...new Set(ids)].slice(0, 64);
  }
  const grid = Number(query.grid);
  if (GRIDS.includes(grid)) wall.grid = grid;
  return wall;
}

/**
 * @param {Wall} wall
 * @returns {Record<string, string>}
 */
function queryFor(wall) {
  /** @type {Record<string, string>} */
  const query = {};
  if (wall.site) query.site = String(wall.site);
  if (wall.cameras?.length) query.cameras = wall.cameras.join(",");
  if (wall.grid) query.grid = String(wall.grid);
  return query;
}

/**
 * The smallest grid that holds `count` cameras (the largest when none does).
 * @param {number} count
 */
function gridFor(count) {
  return GRIDS.find((size) => size >= count) || MAX_WALL;
}

/**
 * @param {number} siteId
 * @param {number} limit
 * @param {AbortSignal} signal
 * @returns {Promise<Found>}
 */
async function loadSiteCameras(siteId, limit, signal) {
  /** @type {[Site, Page<Camera>]} */
  const [site, page] = await Promise.all([
    request(`/api/sites/${siteId}`, { signal }),
    request("/api/cameras", { query: { site_id: siteId, limit }, signal }),
  ]);
  return { cameras: page.items, total: page.total, source: site.name };
}

/**
 * @param {number[]} ids
 * @param {number} limit
 * @param {AbortSignal} signal
 * @returns {Promise<Found>}
 */
async function loadChosenCameras(ids, limit, signal) {
  // A camera that is gone or out of scope still gets its tile: the player says "No access".
  const cameras = await Promise.all(
    ids.slice(0, limit).map((id) =>
      request(`/api/cameras/${id}`, { signal }).catch((error) => {
        if (isAbort(error)) throw error;
        return { id, code: `#${id}`, name: "" };
      }),
    ),
  );
  return { cameras, total: ids.length, source: null };
}

/**
 * @param {HTMLElement} outlet
 * @param {ViewContext} context
 */
export function mount(outlet, { query, signal }) {
  let wall = readWall(query);
  if (!wall.site && !wall.cameras) {
    // The navigation link opens the wall the operator had last.
    const last = readWall(Object.fromEntries(new URLSearchParams(localStorage.getItem(LAST_WALL_KEY) || "")));
    if (last.site || last.cameras) {
      wall = last;
      replaceQuery("/wall", queryFor(wall));
    }
  }
  if (wall.site || wall.cameras) localStorage.setItem(LAST_WALL_KEY, new URLSearchParams(queryFor(wall)).toString());

  const wanted = wall.site ? null : wall.cameras?.length || 0;
  const grid = wall.grid || (wanted === null ? null : gridFor(wanted));
  const note = h("span", { id: "wall-note", class: "wall-note", "aria-live": "polite" });
  const siteSelect = h(
    "select",
    { id: "wall-site", class: "select", "aria-label": "Show a site's cameras" },
    h("option", { value: "" }, wall.cameras ? "Picked cameras" : "Choose a site…"),
  );
  siteSelect.addEventListener("change", () => {
    if (siteSelect.value) navigate("/wall", queryFor({ site: Number(siteSelect.value), grid: wall.grid }));
  });
  const gridButtons = h(
    "div",
    { class: "segmented", role: "group", "aria-label": "Grid" },
    GRIDS.map((size) => {
      const side = Math.sqrt(size);
      const button = h(
        "button",
        {
          type: "button",
          id: `wall-grid-${size}`,
          class: "segment",
          title: `${side} × ${side}`,
          "aria-pressed": String(size === grid),
        },
        size === 1 ? "1" : `${side}×${side}`,
      );
      button.addEventListener("click", () => navigate("/wall", queryFor({ ...wall, grid: size }), { replace: true }));
      return button;
    }),
  );
  const stage = h("div", { class: "wall-stage" }, loadingState("Loading cameras…"));
  outlet.replaceChildren(
    h(
      "section",
      { class: "page page-wall", "aria-labelledby": "wall-title" },
      h(
        "div",
        { class: "toolbar" },
        h("h1", { id: "wall-title", class: "page-title" }, "Video wall"),
        siteSelect,
        gridButtons,
        note,
        h("span", { class: "pager-spacer" }),
        h("a", { id: "wall-choose", class: "button button-ghost", href: "#/cameras" }, "Choose cameras…"),
      ),
      stage,
    ),
  );

  request("/api/sites", { query: { limit: 1000 }, signal })
    .then((/** @type {Page<Site>} */ page) => {
      const options = page.items
        .filter((site) => site.camera_count > 0)
        .map((site) => h("option", { value: String(site.id), selected: site.id === wall.site }, `${site.name} (${site.camera_count})`));
      siteSelect.append(...options);
    })
    .catch(() => {}); // the wall still works without the site list

  /**
   * @param {number} size
   * @param {Found["cameras"]} cameras
   */
  function showGrid(size, cameras) {
    const tiles = [];
    for (let slot = 0; slot < size; slot += 1) {
      const camera = cameras[slot];
      if (!camera) {
        tiles.push(h("div", { class: "wall-tile wall-empty" }, h("span", { class: "muted" }, "Empty slot")));
        continue;
      }
      const label = camera.name ? `${camera.code} · ${camera.name}` : camera.code;
      const player = createLivePlayer({ cameraId: camera.id, label, href: `#/cameras/${camera.id}`, signal });
      tiles.push(h("div", { class: "wall-tile", dataset: { cameraId: String(camera.id) } }, player.element));
    }
    const gridElement = h("div", { id: "wall-grid", class: "wall-grid", dataset: { grid: String(size) } }, tiles);
    gridElement.style.setProperty("--wall-side", String(Math.sqrt(size)));
    replaceChildren(stage, gridElement);
  }

  async function load() {
    const { site, cameras = [] } = wall;
    if (!site && !cameras.length) {
      note.textContent = "";
      replaceChildren(
        stage,
        emptyState(
          "No cameras on the wall yet. Tick cameras in the camera list, or choose a site above.",
          h("a", { class: "button button-primary", href: "#/cameras" }, "Open the camera list"),
        ),
      );
      return;
    }
    try {
      // A site's size is known only once asked, so its grid is chosen after the first answer.
      let size = grid || MAX_WALL;
      let found = site ? await loadSiteCameras(site, size, signal) : await loadChosenCameras(cameras, size, signal);
      if (!grid) {
        size = gridFor(found.total);
        found = { ...found, cameras: found.cameras.slice(0, size) };
        for (const button of gridButtons.children) button.setAttribute("aria-pressed", String(button.id === `wall-grid-${size}`));
      }
      if (signal.aborted) return;
      const shown = found.cameras.length;
      const leftOut = found.total - shown;
      const what = found.source ? `${plural(found.total, "camera")} at ${found.source}` : plural(found.total, "camera");
      note.textContent = leftOut > 0 ? `${formatCount(shown)} of ${what} shown · ${formatCount(leftOut)} left out: choose a larger grid` : what;
      note.classList.toggle("wall-note-warning", leftOut > 0);
      if (found.total === 0) {
        replaceChildren(stage, emptyState(`${found.source || "This site"} has no cameras you may see.`));
        return;
      }
      showGrid(size, found.cameras);
    } catch (error) {
      if (isQuiet(error)) return;
      replaceChildren(stage, errorState(error, statusOf(error) === 404 ? null : load));
    }
  }

  load();
}
