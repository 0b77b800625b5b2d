// @ts-check
// The city drawn as SVG from stored geometry: district outlines, their labels and the camera
// points, with wheel zoom and drag pan done by moving the viewBox.
//
// Why SVG and not <canvas>: 1,100 circles in one <g> are on screen in ~55 ms even in software-
// rendered headless Chromium (a canvas: ~20 ms), and that happens once per 30 s refresh, not
// per frame. In return SVG gives hit testing, hover, focus and stable DOM hooks for tests, which
// a canvas would need a spatial index for. The map records its timings in data-*-ms.
// Dots and labels keep their on-screen size while zooming through CSS variables (--px: user
// units per screen pixel): a zoom step changes two custom properties, not 1,100 attributes.

/** @import { CameraPoint, District } from "./api-types.js" */
/** @import { Box, Projection } from "./geo.js" */

import { isOwnDistrict } from "./catalog.js";
import { attachGestures, zoomButtons } from "./map-gestures.js";
import { closest, h, s } from "./dom.js";
import { cameraState, label } from "./format.js";
import {
  WORLD_WIDTH,
  boundsOfGeometries,
  extendBounds,
  isEmptyBounds,
  labelPoint,
  makeProjection,
  pathData,
} from "./geo.js";

const MIN_WIDTH = WORLD_WIDTH / 80;
const MAX_WIDTH = WORLD_WIDTH * 2;
const PAD = 0.08;

// Problems are drawn last so an offline camera is never hidden under a healthy neighbour.
/** @type {Record<string, number>} */
const DRAW_ORDER = { inactive: 0, unknown: 1, online: 2, maintenance: 3, offline: 4 };

/**
 * An open incident or a new alert over the cameras.
 * @typedef {object} OpsMarker
 * @property {"incident" | "alert"} kind
 * @property {number} id
 * @property {number | null} lat
 * @property {number | null} lon
 * @property {number} priority
 * @property {string} title
 * @property {string} detail
 * @property {string} href  the console's path to open on a click
 * @property {boolean} fresh  pulses while new
 */

/** @typedef {ReturnType<typeof createCityMap>} CityMap */

/**
 * A map of the city: `element` to show, then `setDistricts` before anything else.
 * @param {object} options
 * @param {string} options.id  of the <svg>
 * @param {boolean} [options.interactive]  zoom, pan and clicks (the mini map: none)
 * @param {boolean} [options.labels]  the districts' names and counts
 * @param {(cameraId: number) => void} [options.onCameraClick]
 * @param {(districtId: number) => void} [options.onDistrictClick]
 * @param {(marker: OpsMarker) => void} [options.onOpsClick]
 * @param {(lon: number, lat: number) => void} [options.onPointClick]  a click anywhere picks
 *   that point (a camera request's place); nothing else on the map then hears clicks
 */
export function createCityMap({ id, interactive = true, labels = true, onCameraClick, onDistrictClick, onOpsClick, onPointClick }) {
  const svg = s("svg", {
    id,
    class: "city-map",
    role: "img",
    "aria-label": "City map of districts and cameras",
    preserveAspectRatio: "xMidYMid meet",
    tabindex: interactive ? 0 : null,
  });
  const districtLayer = s("g", { class: "district-layer" });
  const cameraLayer = s("g", { class: "camera-layer" });
  const labelLayer = s("g", { class: "label-layer" });
  const opsLayer = s("g", { class: "ops-layer" });
  const markerLayer = s("g", { class: "marker-layer" });
  svg.append(districtLayer, cameraLayer, labelLayer, opsLayer, markerLayer);

  const tooltip = h("div", { class: "map-tooltip", role: "tooltip", hidden: true });
  const frame = h("div", { class: "map-frame" }, svg, tooltip);

  /** @type {Projection | null} */
  let projection = null;
  /** @type {Box | null} */
  let home = null; // the viewBox that shows the whole city (or the mini map's district)
  const view = { cx: 0, cy: 0, width: WORLD_WIDTH };
  let size = { width: 0, height: 0 };
  /** @type {Map<string, { point: CameraPoint, state: string }>} */
  const cameraNames = new Map();
  /** @type {Map<string, OpsMarker>} */
  const opsMarkers = new Map(); // "incident:12" → the marker as given

  function applyView() {
    if (!size.width || !size.height) return;
    const height = (view.width * size.height) / size.width;
    svg.setAttribute(
      "viewBox",
      `${view.cx - view.width / 2} ${view.cy - height / 2} ${view.width} ${height}`,
    );
    const zoom = home ? home.width / view.width : 1;
    // Dots grow a little as the operator zooms into a street, but stay dots.
    const dotPx = Math.min(7, Math.max(3, 3 + 1.3 * Math.log2(Math.max(zoom, 1))));
    // Changing these restyles every dot (~25 ms for 1,100 in software rendering) while a new
    // viewBox alone costs ~4 ms: a pan, which leaves them as they are, must not touch them.
    setVariable("--px", (view.width / size.width).toPrecision(6));
    setVariable("--dot-px", dotPx.toFixed(2));
    svg.dataset.zoom = zoom.toFixed(2);
  }

  /** @type {Map<string, string>} */
  const variables = new Map();
  /**
   * @param {string} name
   * @param {string} value
   */
  function setVariable(name, value) {
    if (variables.get(name) === value) return;
    variables.set(name, value);
    svg.style.setProperty(name, value);
  }

  /** The projection of the districts drawn: what is put on them needs it. */
  function drawnProjection() {
    if (!projection) throw new Error("the map has no districts yet: setDistricts comes first");
    return projection;
  }

  /** @param {Box} box */
  function fitBox(box) {
    // Fit the box with padding, whatever the frame's aspect ratio.
    const aspect = size.width && size.height ? size.width / size.height : 1.6;
    const width = Math.max(box.width, box.height * aspect) * (1 + 2 * PAD);
    view.cx = box.x + box.width / 2;
    view.cy = box.y + box.height / 2;
    view.width = Math.min(MAX_WIDTH, Math.max(MIN_WIDTH, width));
    applyView();
  }

  function resetView() {
    if (home) fitBox(home);
  }

  const resizeObserver = new ResizeObserver(([entry]) => {
    const { width, height } = entry.contentRect;
    if (!width || !height) return;
    const first = !size.width;
    size = { width, height };
    if (first && home) fitBox(home);
    else applyView();
  });
  resizeObserver.observe(frame);

  /**
   * Draw the districts. `focus` (a district id) zooms the home view onto that district.
   * @param {District[]} districts
   * @param {{ focus?: number | null, selected?: number | null }} [options]
   */
  function setDistricts(districts, { focus = null, selected = null } = {}) {
    const bounds = boundsOfGeometries(districts.map((d) => d.geometry));
    if (isEmptyBounds(bounds)) extendBounds(bounds, 0, 0);
    const projected = makeProjection(bounds);
    projection = projected;
    const paths = document.createDocumentFragment();
    const labelNodes = document.createDocumentFragment();
    for (const district of districts) {
      const active = isOwnDistrict(district);
      const classes = ["district"];
      if (!active) classes.push("out-of-scope");
      if (district.id === selected) classes.push("selected");
      paths.append(
        s(
          "path",
          {
            class: classes.join(" "),
            d: pathData(district.geometry, projected),
            "fill-rule": "evenodd",
            dataset: { districtId: String(district.id) },
          },
          s("title", {}, district.name),
        ),
      );
      const point = labels && labelPoint(district.geometry);
      if (point) {
        const [x, y] = projected.project(point[0], point[1]);
        labelNodes.append(
          s(
            "text",
            {
              class: `district-label${active ? "" : " out-of-scope"}`,
              x: x.toFixed(1),
              y: y.toFixed(1),
              dataset: { districtId: String(district.id) },
            },
            s("tspan", { class: "district-name", x: x.toFixed(1) }, district.name),
            // Outside the user's access there is nothing of theirs to count.
            active
              ? s(
                  "tspan",
                  { class: "district-count", x: x.toFixed(1), dy: "1.3em" },
                  `${district.camera_count} ${district.camera_count === 1 ? "camera" : "cameras"}`,
                )
              : null,
          ),
        );
      }
    }
    districtLayer.replaceChildren(paths);
    labelLayer.replaceChildren(labelNodes);
    // Open on the user's own part of the city: a district akimat or a utility company does
    // not need the whole city on screen, yet keeps it around for orientation.
    const focused = districts.find((d) => d.id === focus);
    const own = districts.filter(isOwnDistrict);
    let homeBounds = bounds;
    if (focused) homeBounds = boundsOfGeometries([focused.geometry]);
    else if (own.length && own.length < districts.length) {
      homeBounds = boundsOfGeometries(own.map((d) => d.geometry));
    }
    home = projected.box(homeBounds);
    if (size.width) fitBox(home);
  }

  /**
   * Zoom to a district (or back to the whole city with null).
   * @param {District[]} districts
   * @param {number | null} districtId
   */
  function focusDistrict(districts, districtId) {
    const district = districts.find((d) => d.id === districtId);
    if (!projection) return;
    if (district) fitBox(projection.box(boundsOfGeometries([district.geometry])));
    else resetView();
    for (const path of districtLayer.querySelectorAll("path")) {
      path.classList.toggle("selected", Number(path.dataset.districtId) === districtId);
    }
  }

  /**
   * Draw the camera points; resolves with timings in ms: `build` (create and attach the
   * elements), `layout` (style and layout, forced at once), `paint` (until the frame with the
   * dots is on screen, measured after the next animation frame). Everything is built in a
   * fragment and attached in one go: one style and layout pass, not one per dot.
   * @param {CameraPoint[]} points
   * @returns {Promise<{ build: number, layout: number, paint: number }>}
   */
  function setCameras(points) {
    const projection = drawnProjection();
    const started = performance.now();
    cameraNames.clear();
    const sorted = points
      .map((point) => ({ point, state: cameraState(point) }))
      .sort((a, b) => DRAW_ORDER[a.state] - DRAW_ORDER[b.state]);
    const group = document.createDocumentFragment();
    for (const { point, state } of sorted) {
      const [x, y] = projection.project(point.lon, point.lat);
      cameraNames.set(String(point.id), { point, state });
      group.append(
        s("circle", {
          class: `camera-dot state-${state}`,
          cx: x.toFixed(2),
          cy: y.toFixed(2),
          r: 3,
          dataset: { cameraId: String(point.id), state },
        }),
      );
    }
    cameraLayer.replaceChildren(group);
    const built = performance.now();
    cameraLayer.getBBox(); // forces style and layout now, so they can be timed apart
    const laidOut = performance.now();
    return new Promise((resolve) => {
      // rAF runs just before the frame is painted; a task queued from it runs just after.
      requestAnimationFrame(() =>
        setTimeout(() => {
          const timings = {
            build: built - started,
            layout: laidOut - built,
            paint: performance.now() - started,
          };
          svg.dataset.buildMs = timings.build.toFixed(1);
          svg.dataset.layoutMs = timings.layout.toFixed(1);
          svg.dataset.renderMs = timings.paint.toFixed(1);
          resolve(timings);
        }),
      );
    });
  }

  /**
   * A highlighted marker (the mini map's camera), at lon/lat.
   * @param {number} lon
   * @param {number} lat
   */
  function setMarker(lon, lat) {
    const [x, y] = drawnProjection().project(lon, lat);
    markerLayer.replaceChildren(
      s("circle", { class: "camera-marker-halo", cx: x.toFixed(2), cy: y.toFixed(2) }),
      s("circle", { class: "camera-marker", cx: x.toFixed(2), cy: y.toFixed(2) }),
    );
  }

  /**
   * Open incidents and alerts over the cameras: `markers` are {kind: "incident" | "alert",
   * id, lat, lon, priority, title, detail}. Incidents are drawn above alerts, the most urgent
   * last (on top); an alert pulses while it is new.
   * @param {OpsMarker[]} markers
   */
  function setOpsMarkers(markers) {
    if (!projection) return;
    opsMarkers.clear();
    const group = document.createDocumentFragment();
    const order = (/** @type {OpsMarker} */ m) => (m.kind === "incident" ? 10 : 0) - m.priority;
    for (const marker of [...markers].sort((a, b) => order(a) - order(b))) {
      if (marker.lat === null || marker.lon === null || marker.lat === undefined) continue;
      const [x, y] = projection.project(marker.lon, marker.lat);
      const key = `${marker.kind}:${marker.id}`;
      opsMarkers.set(key, marker);
      const classes = [`ops-marker`, `${marker.kind}-marker`, `priority-${marker.priority}`];
      if (marker.fresh) classes.push("fresh");
      group.append(
        s(
          "g",
          { class: classes.join(" "), dataset: { key, [`${marker.kind}Id`]: String(marker.id) } },
          s("circle", { class: "ops-halo", cx: x.toFixed(2), cy: y.toFixed(2) }),
          s("circle", { class: "ops-core", cx: x.toFixed(2), cy: y.toFixed(2) }),
        ),
      );
    }
    opsLayer.replaceChildren(group);
  }

  /**
   * A layer of a screen's own over the districts and under the cameras (coverage, planned
   * sites), stacked in the order asked for; `project` places things on it.
   * @param {string} className
   */
  function addLayer(className) {
    const layer = s("g", { class: className });
    svg.insertBefore(layer, cameraLayer);
    return layer;
  }

  /**
   * Where lon/lat lies on the map drawn (setDistricts first).
   * @param {number} lon
   * @param {number} lat
   */
  function project(lon, lat) {
    return drawnProjection().project(lon, lat);
  }

  // --- view changes, called by the gestures ---------------------------------------------------

  /**
   * @param {number} clientX
   * @param {number} clientY
   */
  function toUser(clientX, clientY) {
    const rect = svg.getBoundingClientRect();
    const height = (view.width * size.height) / size.width;
    return [
      view.cx - view.width / 2 + ((clientX - rect.left) / rect.width) * view.width,
      view.cy - height / 2 + ((clientY - rect.top) / rect.height) * height,
    ];
  }

  /**
   * Zoom by `factor` (<1 zooms in) keeping the point under the cursor where it is.
   * @param {number} factor
   * @param {number} [clientX]
   * @param {number} [clientY]
   */
  function zoomAt(factor, clientX, clientY) {
    const width = Math.min(MAX_WIDTH, Math.max(MIN_WIDTH, view.width * factor));
    const applied = width / view.width;
    if (clientX !== undefined && clientY !== undefined) {
      const [ux, uy] = toUser(clientX, clientY);
      view.cx = ux - (ux - view.cx) * applied;
      view.cy = uy - (uy - view.cy) * applied;
    }
    view.width = width;
    applyView();
  }

  /**
   * @param {number} dxPixels
   * @param {number} dyPixels
   */
  function panBy(dxPixels, dyPixels) {
    const px = view.width / size.width;
    view.cx -= dxPixels * px;
    view.cy -= dyPixels * px;
    applyView();
  }

  /**
   * @param {SVGElement} target
   * @param {MouseEvent} event
   */
  function showOpsTooltip(target, event) {
    const marker = opsMarkers.get(target.dataset.key || "");
    if (!marker) return;
    tooltip.replaceChildren(
      h("span", { class: `tooltip-priority priority-${marker.priority}` }, `P${marker.priority}`),
      h("strong", {}, marker.title),
      h("span", { class: "tooltip-state" }, marker.detail),
    );
    tooltip.hidden = false;
    moveTooltip(event);
  }

  /**
   * @param {SVGElement} target
   * @param {MouseEvent} event
   */
  function showTooltip(target, event) {
    const entry = cameraNames.get(target.dataset.cameraId || "");
    if (!entry) return;
    tooltip.replaceChildren(
      h("span", { class: `tooltip-dot state-${entry.state}` }),
      h("strong", { class: "mono" }, entry.point.code),
      " ",
      entry.point.name,
      h("span", { class: "tooltip-state" }, `${label(entry.point.status)} · ${label(entry.point.health)}`),
    );
    tooltip.hidden = false;
    moveTooltip(event);
  }

  /** @param {MouseEvent} event */
  function moveTooltip(event) {
    const rect = frame.getBoundingClientRect();
    const x = Math.min(event.clientX - rect.left + 14, rect.width - tooltip.offsetWidth - 8);
    const y = event.clientY - rect.top + 16;
    tooltip.style.transform = `translate(${Math.max(4, x)}px, ${y}px)`;
  }

  let detachGestures = () => {};
  let hovering = false;

  /** @param {PointerEvent} event */
  function onCameraOver(event) {
    const dot = closest(event, ".camera-dot");
    if (dot instanceof SVGElement && !svg.classList.contains("dragging")) {
      hovering = true;
      showTooltip(dot, event);
    }
  }

  /** @param {PointerEvent} event */
  function onCameraOut(event) {
    if (closest(event, ".camera-dot, .ops-marker")) {
      hovering = false;
      tooltip.hidden = true;
    }
  }

  /** @param {PointerEvent} event */
  function onOpsOver(event) {
    const marker = closest(event, ".ops-marker");
    if (marker instanceof SVGElement && !svg.classList.contains("dragging")) {
      hovering = true;
      showOpsTooltip(marker, event);
    }
  }

  /** @param {PointerEvent} event */
  function onPointerMove(event) {
    if (hovering) moveTooltip(event);
  }

  if (interactive) {
    const controls = { zoomAt, panBy, resetView };
    const detach = attachGestures(svg, {
      map: controls,
      onDrag: (dragging) => {
        if (dragging) tooltip.hidden = true;
      },
      onTap: (event) => {
        if (onPointClick && projection) {
          const [x, y] = toUser(event.clientX, event.clientY);
          onPointClick(...projection.unproject(x, y));
          return;
        }
        const ops = closest(event, ".ops-marker");
        if (ops instanceof SVGElement) {
          const marker = opsMarkers.get(ops.dataset.key || "");
          if (marker) onOpsClick?.(marker);
          return;
        }
        const dot = closest(event, ".camera-dot");
        if (dot instanceof SVGElement) {
          onCameraClick?.(Number(dot.dataset.cameraId));
          return;
        }
        const district = closest(event, ".district");
        if (district instanceof SVGElement) onDistrictClick?.(Number(district.dataset.districtId));
      },
    });
    cameraLayer.addEventListener("pointerover", onCameraOver);
    cameraLayer.addEventListener("pointerout", onCameraOut);
    opsLayer.addEventListener("pointerover", onOpsOver);
    opsLayer.addEventListener("pointerout", onCameraOut);
    svg.addEventListener("pointermove", onPointerMove);
    detachGestures = () => {
      detach();
      cameraLayer.removeEventListener("pointerover", onCameraOver);
      cameraLayer.removeEventListener("pointerout", onCameraOut);
      opsLayer.removeEventListener("pointerover", onOpsOver);
      opsLayer.removeEventListener("pointerout", onCameraOut);
      svg.removeEventListener("pointermove", onPointerMove);
    };
    frame.append(zoomButtons(controls));
  }

  function destroy() {
    resizeObserver.disconnect();
    detachGestures();
  }

  return {
    element: frame,
    svg,
    setDistricts,
    setCameras,
    setMarker,
    setOpsMarkers,
    addLayer,
    project,
    focusDistrict,
    resetView,
    destroy,
  };
}
