// Mouse, touchpad and keyboard on the map: wheel zoom, drag pan, keys, and telling a click
// from the end of a drag. Knows nothing about what is drawn; it calls back into the map.

import { h } from "./dom.js";

const DRAG_THRESHOLD_PX = 4;
const KEY_PAN_PX = 60;
const KEY_ZOOM = 1.5;

/**
 * Attach the gestures to `svg`. `map` provides zoomAt(factor, clientX?, clientY?),
 * panBy(dxPixels, dyPixels) and resetView(); `onTap(event)` hears clicks that were not drags;
 * `onDrag(dragging)` hears a drag start and end. Returns a function that detaches everything.
 */
export function attachGestures(svg, { map, onTap, onDrag }) {
  const removers = [];
  function listen(type, handler, options) {
    svg.addEventListener(type, handler, options);
    removers.push(() => svg.removeEventListener(type, handler, options));
  }

  // Touchpads send wheel events faster than frames are drawn: fold them into one zoom step per
  // animation frame, since every step restyles all the dots.
  let wheel = null;
  listen(
    "wheel",
    (event) => {
      event.preventDefault();
      // Mouse wheels send ±100 per notch, touchpads many small deltas; exp() treats both alike.
      const delta = event.deltaMode === 1 ? event.deltaY * 33 : event.deltaY;
      if (!wheel) {
        wheel = { factor: 1 };
        requestAnimationFrame(() => {
          map.zoomAt(wheel.factor, wheel.x, wheel.y);
          wheel = null;
        });
      }
      wheel.factor *= Math.exp(delta * 0.0015);
      wheel.x = event.clientX;
      wheel.y = event.clientY;
    },
    { passive: false },
  );

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

/** The +, − and ⤢ buttons in the map's corner. */
export function zoomButtons(map) {
  return h(
    "div",
    { class: "map-zoom", role: "group", "aria-label": "Zoom" },
    h("button", { type: "button", class: "zoom-in", title: "Zoom in (+)", onclick: () => map.zoomAt(1 / KEY_ZOOM) }, "+"),
    h("button", { type: "button", class: "zoom-out", title: "Zoom out (−)", onclick: () => map.zoomAt(KEY_ZOOM) }, "−"),
    h("button", { type: "button", class: "zoom-reset", title: "First view (0)", onclick: () => map.resetView() }, "⤢"),
  );
}
