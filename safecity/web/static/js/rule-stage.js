// @ts-check
// The picture the analytics rules are drawn on: the camera's live snapshot with an SVG over
// it, in the picture's proportions. It shows the zones, lines and privacy masks of a rules
// document, and draws new ones: a polygon point by point (a click adds a point; a double
// click, Enter or a click on the first point closes it), a line in two clicks. Escape cancels
// the drawing, Backspace takes back the last point. Everything is kept in picture shares
// (0..1 from the top left), as the API stores it, whatever size the picture is shown at.
//
// A line's arrow shows which way `forward` is: from the left side of A→B to its right side,
// as seen on the screen (safecity/analytics/rules/geometry.py, LineWatch).

/** @import { Rule, SharePoint } from "./api-types.js" */

import { hasZone } from "./analytics-words.js";
import { ApiError, isAbort, requestBlob } from "./api.js";
import { h, replaceChildren, s } from "./dom.js";

const WIDTH = 1000; // the SVG's units across; its height follows the picture's proportions
const CLOSE_PX = 10; // a click this near the first point closes a polygon
const SAME_PX = 4; // a click this near the last point adds none (the second click of a double)
const ARROW = 56;

/**
 * What is drawn: the rules (the selected one stands out, those the server refused are red),
 * the masks, the site's rules (faint, not for editing). `selected` and `flagged` hold keys:
 * "rule:<index>", "mask:<index>".
 * @typedef {object} Scene
 * @property {Rule[]} rules
 * @property {SharePoint[][]} masks
 * @property {Rule[]} siteRules
 * @property {string | null} selected
 * @property {Set<string>} flagged
 */

/** @typedef {"polygon" | "line"} Shape */

/**
 * @param {number} value
 */
function share(value) {
  return Math.round(Math.min(1, Math.max(0, value)) * 10_000) / 10_000;
}

/**
 * The stage of a camera's rules. `onDrawn(points)` hears a finished drawing, `onCancel()` a
 * drawing given up, `onPick(key)` a click on a shape ("rule:2", "mask:0") while not drawing.
 * @param {object} options
 * @param {number} options.cameraId
 * @param {AbortSignal} options.signal
 * @param {(points: SharePoint[]) => void} options.onDrawn
 * @param {() => void} options.onCancel
 * @param {(key: string) => void} options.onPick
 */
export function createStage({ cameraId, signal, onDrawn, onCancel, onPick }) {
  let height = (WIDTH * 9) / 16;
  /** @type {Scene} */
  let scene = { rules: [], masks: [], siteRules: [], selected: null, flagged: new Set() };
  /** @type {{ shape: Shape, points: SharePoint[], pointer: SharePoint | null, label: string } | null} */
  let drawing = null;
  /** @type {string | null} */
  let objectUrl = null;

  const img = h("img", { id: "rule-picture", class: "rule-picture", alt: "The camera's live picture", hidden: true });
  const svg = s("svg", { id: "rule-canvas", class: "rule-canvas", viewBox: `0 0 ${WIDTH} ${height}`, "aria-label": "Zones, lines and masks over the picture" });
  const pictureNote = h("div", { class: "rule-picture-note" }, h("span", { class: "spinner", "aria-hidden": "true" }), "Loading the live picture…");
  const banner = h("div", { id: "rule-drawing", class: "rule-drawing", role: "status", hidden: true });
  const box = h("div", { id: "rule-stage", class: "rule-stage" }, img, pictureNote, svg, banner);
  const refresh = h("button", { id: "rule-picture-refresh", type: "button", class: "button button-ghost button-small" }, "New picture");
  refresh.addEventListener("click", loadPicture);

  async function loadPicture() {
    refresh.disabled = true;
    try {
      const blob = await requestBlob(`/api/cameras/${cameraId}/snapshot.jpg`, { signal });
      if (objectUrl) URL.revokeObjectURL(objectUrl);
      objectUrl = URL.createObjectURL(blob);
      img.src = objectUrl;
      await img.decode().catch(() => {});
      if (img.naturalWidth && img.naturalHeight) {
        height = Math.round((WIDTH * img.naturalHeight) / img.naturalWidth);
        box.style.aspectRatio = `${img.naturalWidth} / ${img.naturalHeight}`;
        svg.setAttribute("viewBox", `0 0 ${WIDTH} ${height}`);
      }
      img.hidden = false;
      pictureNote.hidden = true;
      box.dataset.picture = "live";
      draw();
    } catch (error) {
      if (isAbort(error)) return;
      const why = error instanceof ApiError && error.status === 503 ? "No live picture right now" : "The live picture could not be loaded";
      pictureNote.replaceChildren(h("strong", {}, why), h("span", { class: "muted" }, "Zones can still be drawn; they keep their place in the picture."));
      pictureNote.hidden = false;
      box.dataset.picture = "none";
    } finally {
      refresh.disabled = false;
    }
  }

  /**
   * @param {SharePoint} point
   * @returns {[number, number]}
   */
  function at([x, y]) {
    return [x * WIDTH, y * height];
  }

  /** @param {SharePoint[]} points */
  function pointsText(points) {
    return points.map((point) => at(point).join(",")).join(" ");
  }

  /**
   * Where a pointer event is, in shares of the picture.
   * @param {MouseEvent} event
   * @returns {SharePoint}
   */
  function shareOf(event) {
    const rect = svg.getBoundingClientRect();
    return [share((event.clientX - rect.left) / rect.width), share((event.clientY - rect.top) / rect.height)];
  }

  /**
   * How far apart two points are on the screen, in CSS pixels.
   * @param {SharePoint} a
   * @param {SharePoint} b
   */
  function screenDistance(a, b) {
    const rect = svg.getBoundingClientRect();
    return Math.hypot((a[0] - b[0]) * rect.width, (a[1] - b[1]) * rect.height);
  }

  /**
   * A label in a dark pill, placed at a point of the picture.
   * @param {SharePoint} point
   * @param {string} text
   * @param {string} className
   */
  function label(point, text, className) {
    const [x, y] = at(point);
    return s("text", { class: `shape-label ${className}`, x: x + 8, y: Math.max(18, y - 8) }, text);
  }

  /**
   * The arrow(s) of a line's direction: `forward` points from the left side of A→B to its right.
   * @param {[SharePoint, SharePoint]} line
   * @param {string} direction
   * @param {string} className
   */
  function arrows(line, direction, className) {
    const [ax, ay] = at(line[0]);
    const [bx, by] = at(line[1]);
    const length = Math.hypot(bx - ax, by - ay) || 1;
    // The right side's normal, y pointing down the screen: (dx, dy) turned a quarter clockwise.
    const nx = -(by - ay) / length;
    const ny = (bx - ax) / length;
    const mx = (ax + bx) / 2;
    const my = (ay + by) / 2;
    /** @param {number} sign */
    const arrow = (sign) =>
      s("line", {
        class: `line-arrow ${className}`,
        x1: mx,
        y1: my,
        x2: mx + sign * nx * ARROW,
        y2: my + sign * ny * ARROW,
        "marker-end": "url(#rule-arrowhead)",
        dataset: { towards: sign > 0 ? "right" : "left" },
      });
    if (direction === "forward") return [arrow(1)];
    if (direction === "backward") return [arrow(-1)];
    return [arrow(1), arrow(-1)];
  }

  /**
   * The shapes of one rule, or nothing (a tamper rule has none; a zone left undrawn is the
   * whole picture, outlined only while selected).
   * @param {Rule} rule
   * @param {string} key
   * @param {boolean} selected
   * @param {boolean} site
   */
  function ruleShapes(rule, key, selected, site) {
    const states = [selected && "selected", rule.enabled === false && "disabled", scene.flagged.has(key) && "flagged"];
    const className = [site ? "shape-site" : "shape-rule", `kind-${rule.kind}`, ...states].filter(Boolean).join(" ");
    const pick = site ? {} : { dataset: { key }, onclick: () => !drawing && onPick(key) };
    if (rule.line) {
      const [a, b] = rule.line;
      const [ax, ay] = at(a);
      const [bx, by] = at(b);
      return s(
        "g",
        { class: `shape ${className}`, ...pick },
        s("line", { class: "line-hit", x1: ax, y1: ay, x2: bx, y2: by }),
        s("line", { class: "line-body", x1: ax, y1: ay, x2: bx, y2: by }),
        arrows(rule.line, rule.direction || "any", ""),
        s("circle", { class: "vertex", cx: ax, cy: ay, r: 5 }),
        s("circle", { class: "vertex", cx: bx, cy: by, r: 5 }),
        s("text", { class: "end-label", x: ax - 16, y: ay + 5 }, "A"),
        s("text", { class: "end-label", x: bx + 8, y: by + 5 }, "B"),
        label(a[1] < b[1] ? a : b, rule.name, ""),
      );
    }
    if (!hasZone(rule.kind)) return null; // a tamper rule, or a line not drawn yet
    if (!rule.zone) {
      if (!selected) return null;
      return s("rect", { class: `shape ${className} whole-picture`, x: 2, y: 2, width: WIDTH - 4, height: height - 4 });
    }
    const top = rule.zone.reduce((best, point) => (point[1] < best[1] ? point : best), rule.zone[0]);
    return s(
      "g",
      { class: `shape ${className}`, ...pick },
      s("polygon", { class: "zone-body", points: pointsText(rule.zone) }),
      selected ? rule.zone.map((point) => s("circle", { class: "vertex", cx: at(point)[0], cy: at(point)[1], r: 5 })) : null,
      label(top, site ? `${rule.name} (site)` : rule.name, ""),
    );
  }

  function drawingShapes() {
    if (!drawing) return null;
    const points = drawing.pointer ? [...drawing.points, drawing.pointer] : drawing.points;
    return s(
      "g",
      { class: "shape shape-drawing" },
      drawing.shape === "polygon" && points.length > 2 ? s("polygon", { class: "zone-body", points: pointsText(points) }) : null,
      points.length > 1 ? s("polyline", { class: "line-body", points: pointsText(points) }) : null,
      drawing.points.map((point, index) =>
        s("circle", { class: `vertex${index === 0 ? " first" : ""}`, cx: at(point)[0], cy: at(point)[1], r: index === 0 && drawing?.shape === "polygon" ? 8 : 5 }),
      ),
    );
  }

  function draw() {
    replaceChildren(
      svg,
      s(
        "defs",
        {},
        s(
          "marker",
          { id: "rule-arrowhead", viewBox: "0 0 10 10", refX: 6, refY: 5, markerWidth: 5, markerHeight: 5, orient: "auto-start-reverse" },
          s("path", { class: "arrowhead", d: "M 0 0 L 10 5 L 0 10 z" }),
        ),
      ),
      scene.masks.map((mask, index) =>
        s(
          "g",
          { class: `shape shape-mask${scene.selected === `mask:${index}` ? " selected" : ""}`, dataset: { key: `mask:${index}` }, onclick: () => !drawing && onPick(`mask:${index}`) },
          s("polygon", { class: "zone-body", points: pointsText(mask) }),
          label(mask[0], `Mask ${index + 1}`, "mask-label"),
        ),
      ),
      scene.siteRules.map((rule) => ruleShapes(rule, "", false, true)),
      scene.rules.map((rule, index) => ruleShapes(rule, `rule:${index}`, scene.selected === `rule:${index}`, false)),
      drawingShapes(),
    );
    svg.classList.toggle("is-drawing", drawing !== null);
  }

  /** @param {SharePoint[]} points */
  function finish(points) {
    drawing = null;
    banner.hidden = true;
    document.removeEventListener("keydown", onKey);
    draw();
    onDrawn(points);
  }

  function cancel() {
    if (!drawing) return;
    drawing = null;
    banner.hidden = true;
    document.removeEventListener("keydown", onKey);
    draw();
    onCancel();
  }

  /** @param {KeyboardEvent} event */
  function onKey(event) {
    if (!drawing) return;
    if (event.key === "Escape") {
      event.preventDefault();
      cancel();
    } else if (event.key === "Enter" && drawing.shape === "polygon" && drawing.points.length >= 3) {
      event.preventDefault();
      finish(drawing.points);
    } else if (event.key === "Backspace" && drawing.points.length && !(event.target instanceof HTMLInputElement)) {
      event.preventDefault();
      drawing.points.pop();
      draw();
    }
  }

  svg.addEventListener("click", (event) => {
    if (!drawing) return;
    const point = shareOf(event);
    const { points } = drawing;
    if (points.length && screenDistance(point, points[points.length - 1]) < SAME_PX) return;
    if (drawing.shape === "polygon" && points.length >= 3 && screenDistance(point, points[0]) < CLOSE_PX) {
      finish(points);
      return;
    }
    points.push(point);
    if (drawing.shape === "line" && points.length === 2) finish(points);
    else draw();
  });
  svg.addEventListener("dblclick", (event) => {
    if (!drawing || drawing.shape !== "polygon") return;
    event.preventDefault();
    if (drawing.points.length >= 3) finish(drawing.points);
  });
  svg.addEventListener("mousemove", (event) => {
    if (!drawing) return;
    drawing.pointer = shareOf(event);
    draw();
  });
  svg.addEventListener("mouseleave", () => {
    if (!drawing) return;
    drawing.pointer = null;
    draw();
  });

  signal.addEventListener("abort", () => {
    document.removeEventListener("keydown", onKey);
    if (objectUrl) URL.revokeObjectURL(objectUrl);
  });
  loadPicture();
  draw();

  return {
    element: box,
    refresh,
    /** @param {Scene} next */
    show(next) {
      scene = next;
      draw();
    },
    /**
     * Start drawing a polygon or a line for `what` (words for the banner).
     * @param {Shape} shape
     * @param {string} what
     */
    start(shape, what) {
      if (drawing) cancel();
      drawing = { shape, points: [], pointer: null, label: what };
      banner.textContent =
        shape === "polygon"
          ? `Drawing ${what}: click each corner; double-click, Enter or a click on the first corner closes it. Escape cancels.`
          : `Drawing ${what}: click A, then B. Forward is from the left of A→B to its right (the arrow). Escape cancels.`;
      banner.hidden = false;
      document.addEventListener("keydown", onKey);
      draw();
    },
    cancel,
    isDrawing: () => drawing !== null,
  };
}
