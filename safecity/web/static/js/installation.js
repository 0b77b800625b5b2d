// What the server says about this installation (the city it serves), fetched once at start.

import { request } from "./api.js";

let installation = { city_name: "", version: "" };

export async function load() {
  installation = await request("/api/console");
}

export function cityName() {
  return installation.city_name;
}
