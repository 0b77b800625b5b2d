// @ts-check
// From stored GeoJSON (WGS 84 lon/lat) to SVG coordinates, with no tiles and no map library.
// A city is small enough that an equirectangular projection scaled by cos(latitude) keeps
// shapes and distances right to well under a percent.

/** @import { Geometry } from "./api-types.js" */

/**
 * @typedef {[lon: number, lat: number]} LonLat
 * @typedef {LonLat[]} Ring
 * @typedef {Ring[]} Polygon  the outer ring, then its holes
 * @typedef {{ west: number, south: number, east: number, north: number }} Bounds
 * @typedef {{ x: number, y: number, width: number, height: number }} Box
 * @typedef {{ project(lon: number, lat: number): [x: number, y: number], unproject(x: number, y: number): [lon: number, lat: number], box(box: Bounds): Box }} Projection
 */

/**
 * The polygons of a Polygon or MultiPolygon, each a list of rings of [lon, lat].
 * @param {Geometry | null | undefined} geometry
 * @returns {Polygon[]}
 */
export function polygonsOf(geometry) {
  if (!geometry) return [];
  if (geometry.type === "Polygon") return [geometry.coordinates];
  if (geometry.type === "MultiPolygon") return geometry.coordinates;
  return [];
}

/** @returns {Bounds} */
export function emptyBounds() {
  return { west: Infinity, south: Infinity, east: -Infinity, north: -Infinity };
}

/**
 * @param {Bounds} bounds
 * @param {number} lon
 * @param {number} lat
 */
export function extendBounds(bounds, lon, lat) {
  bounds.west = Math.min(bounds.west, lon);
  bounds.east = Math.max(bounds.east, lon);
  bounds.south = Math.min(bounds.south, lat);
  bounds.north = Math.max(bounds.north, lat);
  return bounds;
}

/** @param {Geometry[]} geometries */
export function boundsOfGeometries(geometries) {
  const bounds = emptyBounds();
  for (const geometry of geometries) {
    for (const polygon of polygonsOf(geometry)) {
      for (const [lon, lat] of polygon[0] || []) extendBounds(bounds, lon, lat);
    }
  }
  return bounds;
}

/** @param {Bounds} bounds */
export function isEmptyBounds(bounds) {
  return !(bounds.west <= bounds.east && bounds.south <= bounds.north);
}

/** The width of the projected city in SVG user units; everything else is relative to it. */
export const WORLD_WIDTH = 1000;

/**
 * An equirectangular projection centred on `bounds`: x grows east, y grows south (SVG), and
 * the city spans WORLD_WIDTH units across.
 * @param {Bounds} bounds
 * @returns {Projection}
 */
export function makeProjection(bounds) {
  const lon0 = (bounds.west + bounds.east) / 2;
  const lat0 = (bounds.south + bounds.north) / 2;
  const k = Math.cos((lat0 * Math.PI) / 180);
  const span = Math.max((bounds.east - bounds.west) * k, bounds.north - bounds.south, 1e-6);
  const scale = WORLD_WIDTH / span;
  return {
    project(lon, lat) {
      return [(lon - lon0) * k * scale, -(lat - lat0) * scale];
    },
    /** The [lon, lat] of an SVG point: a click on the map. */
    unproject(x, y) {
      return [lon0 + x / (k * scale), lat0 - y / scale];
    },
    /** The SVG box {x, y, width, height} that holds `box` (lon/lat bounds). */
    box(box) {
      const [x0, y0] = this.project(box.west, box.north);
      const [x1, y1] = this.project(box.east, box.south);
      return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
    },
  };
}

/** @param {number} n */
function round(n) {
  return Math.round(n * 100) / 100;
}

/**
 * The SVG path "d" of a (Multi)Polygon; holes draw as holes with fill-rule evenodd.
 * @param {Geometry} geometry
 * @param {Projection} projection
 */
export function pathData(geometry, projection) {
  const parts = [];
  for (const polygon of polygonsOf(geometry)) {
    for (const ring of polygon) {
      ring.forEach(([lon, lat], index) => {
        const [x, y] = projection.project(lon, lat);
        parts.push(`${index === 0 ? "M" : "L"}${round(x)} ${round(y)}`);
      });
      parts.push("Z");
    }
  }
  return parts.join("");
}

/**
 * @param {Ring} ring
 * @returns {{ area: number, centroid: LonLat }}
 */
function ringAreaAndCentroid(ring) {
  let area = 0;
  let cx = 0;
  let cy = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [x0, y0] = ring[j];
    const [x1, y1] = ring[i];
    const cross = x0 * y1 - x1 * y0;
    area += cross;
    cx += (x0 + x1) * cross;
    cy += (y0 + y1) * cross;
  }
  area /= 2;
  if (area === 0) return { area: 0, centroid: ring[0] };
  return { area: Math.abs(area), centroid: [cx / (6 * area), cy / (6 * area)] };
}

/**
 * Where to put a district's label: the centroid of its largest outer ring, [lon, lat].
 * @param {Geometry} geometry
 */
export function labelPoint(geometry) {
  /** @type {{ area: number, centroid: LonLat } | null} */
  let best = null;
  for (const polygon of polygonsOf(geometry)) {
    if (!polygon[0] || polygon[0].length < 3) continue;
    const candidate = ringAreaAndCentroid(polygon[0]);
    if (!best || candidate.area > best.area) best = candidate;
  }
  return best ? best.centroid : null;
}
