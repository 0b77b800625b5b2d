// @ts-check
// Reference data several screens need and that changes rarely within a shift: the districts
// (outlines, names, the camera counts this user may see). Loaded once per sign-in.

/** @import { District } from "./api-types.js" */

import { request } from "./api.js";
import { onChange } from "./session.js";

/** @type {Promise<District[]> | null} */
let districtsPromise = null;

onChange(() => {
  districtsPromise = null;
});

/** @returns {Promise<District[]>} */
export function loadDistricts() {
  if (!districtsPromise) {
    districtsPromise = request("/api/districts").catch((error) => {
      districtsPromise = null; // let the next screen try again
      throw error;
    });
  }
  return districtsPromise;
}

/**
 * Whether a district is part of this user's working area. A site-scoped user (a utility
 * company) is "in scope" of no district at all, yet has cameras in some: those count too.
 * @param {District} district
 */
export function isOwnDistrict(district) {
  return district.in_scope || district.camera_count > 0;
}
