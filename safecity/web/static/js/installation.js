// @ts-check
// What the server says about this installation (the city it serves, the software's version
// and licence), fetched once at start.

/** @import { Installation } from "./api-types.js" */

import { request } from "./api.js";
import { setZone } from "./clock.js";

/** @type {Installation} */
let installation = { city_name: "", timezone: "", version: "", license: "" };

export async function load() {
  installation = await request("/api/console");
  // The city's time zone, when the server names it; otherwise clock.js learns the offset.
  setZone(installation.timezone);
}

export function cityName() {
  return installation.city_name;
}

export function version() {
  return installation.version;
}

/** The licence SafeCity is distributed under, by its SPDX name ("Apache-2.0"). */
export function license() {
  return installation.license;
}
