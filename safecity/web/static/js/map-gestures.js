// @ts-check
// Mouse, touchpad and keyboard on the map: wheel zoom, drag pan, keys, and telling a click
// from the end of a drag. Knows nothing about what is drawn; it calls back into the map.

import { h } from "./dom.js";

/**
 * What the gestures ask of the map.
 * @typedef {object} MapControls
 * @property {(factor: number, clientX?: number, clientY?: number) => void} zoomAt  <1 zooms in,
 *   keeping the point under the pointer where it is
 * @property {(dxPixels: number, dyPixels: number) => void} panBy
 * @property {() => void} resetView
 */

const DRAG_THRESHOLD_PX = 4;
const KEY_PAN_PX = 60;
const KEY_ZOOM = 1.5;

/**
 * Attach the gestures to `svg`. `map` provides zoomAt(factor, clientX?, clientY?),
 * panBy(dxPixels, dyPixels) and resetView(); `onTap(event)` hears clicks that were not drags;
 * `onDrag(dragging)` hears a drag start and end. Returns a function that detaches everything.
 * @param {SVGSVGElement} svg
 * @param {object} options
 * @param {MapControls} options.map
 * @param {(event: MouseEvent) => void} options.onTap
 * @param {(dragging: boolean) => void} options.onDrag
 */
export function attachGestures(svg, { map, onTap, onDrag }) {
  /** @type {Array<() => void>} */
  const removers = [];
  /**
   * @template {keyof SVGElementEventMap} K
   * @param {K} type
   * @param {(event: SVGElementEventMap[K]) => void} handler
   * @param {AddEventListenerOptions} [options]
   */
  function listen(type, handler, options) {
    svg.addEventListener(type, handler, options);
    removers.push(() => svg.removeEventListener(type, handler, options));
  }

  // Touchpads send wheel events faster than frames are drawn: fold them into one zoom step per
  // animation frame, since every step restyles all the dots.
  /** @typedef {{ factor: number, x?: number, y?: number }} WheelStep */
  /** @type {WheelStep | null} */
  let wheel = null;
  listen(
    "wheel",
    (event) => {
      event.preventDefault();
      // Mouse wheels send ±100 per notch, touchpads many small deltas; exp() treats both alike.
      const delta = event.deltaMode === 1 ? event.deltaY * 33 : event.deltaY;
      if (!wheel) {
        /** @type {WheelStep} */
        const step = { factor: 1 };
        wheel = step;
        requestAnimationFrame(() => {
          map.zoomAt(step.factor, step.x, step.y);
          wheel = null;
        });
      }
      wheel.factor *= Math.exp(delta * 0.0015);
      wheel.x = event.clientX;
      wheel.y = event.clientY;
    },
    { passive: false },
  );

  /** @type {{ id: number, x: number, y: number, moved: boolean } | null} */
  let drag = null;
  let suppressClick = false;
  listen("pointerdown", (event) => {
    if (event.button === 0) drag = { id: event.pointerId, x: event.clientX, y: event.clientY, moved: false };
  });
  listen("pointermove", (event) => {
    if (!drag || drag.id !== event.pointerId) return;
    const dx = event.clientX - drag.x;
    const dy = event.clientY - drag.y;
    if (!drag.moved) {
      if (Math.hypot(dx, dy) < DRAG_THRESHOLD_PX) return;
      // Capture only once it is a drag: capturing on pointerdown would retarget the click of a
      // plain press to the <svg>, and a camera dot could never be clicked.
      drag.moved = true;
      svg.setPointerCapture(event.pointerId);
      svg.classList.add("dragging");
      onDrag?.(true);
    }
    drag.x = event.clientX;
    drag.y = event.clientY;
    map.panBy(dx, dy);
  });
  /** @param {PointerEvent} event */
  const endDrag = (event) => {
    if (!drag || drag.id !== event.pointerId) return;
    suppressClick = drag.moved;
    if (drag.moved) {
      svg.releasePointerCapture(event.pointerId);
      svg.classList.remove("dragging");
      onDrag?.(false);
    }
    drag = null;
  };
  listen("pointerup", endDrag);
  listen("pointercancel", endDrag);
  listen("click", (event) => {
    if (suppressClick) suppressClick = false;
    else onTap?.(event);
  });

  /** @type {Record<string, () => void>} */
  const keys = {
    "+": () => map.zoomAt(1 / KEY_ZOOM),
    "=": () => map.zoomAt(1 / KEY_ZOOM),
    "-": () => map.zoomAt(KEY_ZOOM),
    _: () => map.zoomAt(KEY_ZOOM),
    0: () => map.resetView(),
    ArrowLeft: () => map.panBy(KEY_PAN_PX, 0),
    ArrowRight: () => map.panBy(-KEY_PAN_PX, 0),
    ArrowUp: () => map.panBy(0, KEY_PAN_PX),
    ArrowDown: () => map.panBy(0, -KEY_PAN_PX),
  };
  listen("keydown", (event) => {
    const action = keys[event.key];
    if (action && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      action();
    }
  });

  return () => {
    for (const remove of removers) remove();
  };
}

/**
 * The +, − and ⤢ buttons in the map's corner.
 * @param {MapControls} map
 */
export function zoomButtons(map) {
  return h(
    "div",
    { class: "map-zoom", role: "group", "aria-label": "Zoom" },
    h("button", { type: "button", class: "zoom-in", title: "Zoom in (+)", onclick: () => map.zoomAt(1 / KEY_ZOOM) }, "+"),
    h("button", { type: "button", class: "zoom-out", title: "Zoom out (−)", onclick: () => map.zoomAt(KEY_ZOOM) }, "−"),
    h("button", { type: "button", class: "zoom-reset", title: "First view (0)", onclick: () => map.resetView() }, "⤢"),
  );
}
