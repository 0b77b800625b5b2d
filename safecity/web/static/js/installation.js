// What the server says about this installation (the city it serves), fetched once at start.

import { request } from "./api.js";
import { setZone } from "./clock.js";

let installation = { city_name: "", version: "" };

export async function load() {
  installation = await request("/api/console");
  // The city's time zone, when the server names it; otherwise clock.js learns the offset.
  setZone(installation.timezone);
}

export function cityName() {
  return installation.city_name;
}
