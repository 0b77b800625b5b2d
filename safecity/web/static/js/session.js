// @ts-check
// Who is signed in. The session itself is an HttpOnly cookie the script never sees; this module
// only keeps the user the server described, for the header and for scope hints.

/** @import { User } from "./api-types.js" */

import { ApiError, request } from "./api.js";

/** @type {User | null} */
let currentUser = null;
/** @type {Set<(user: User | null) => void>} */
const listeners = new Set();

/** @param {User | null} user */
function set(user) {
  currentUser = user;
  for (const listener of listeners) listener(user);
}

export function user() {
  return currentUser;
}

/**
 * The signed-in user, on a screen that is shown only to one (the router sees to that).
 * @returns {User}
 */
export function signedIn() {
  if (!currentUser) throw new Error("nobody is signed in");
  return currentUser;
}

/**
 * Call `listener(user)` whenever who is signed in changes (null: nobody).
 * @param {(user: User | null) => void} listener
 */
export function onChange(listener) {
  listeners.add(listener);
}

/** Ask the server who we are; null when not signed in. Network errors propagate. */
export async function restore() {
  try {
    set(await request("/api/auth/me", { quietUnauthorized: true }));
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) set(null);
    else throw error;
  }
  return currentUser;
}

/**
 * Sign in; resolves to the user the server described. Only `user` is taken from the answer:
 * the session lives in the HttpOnly cookie the server sets, and the console never asks for
 * or keeps a bearer token.
 * @param {string} username
 * @param {string} password
 * @returns {Promise<User>}
 */
export async function signIn(username, password) {
  const { user: who } = await request("/api/auth/login", {
    method: "POST",
    body: { username, password },
    quietUnauthorized: true,
  });
  set(who);
  return who;
}

export async function signOut() {
  try {
    await request("/api/auth/logout", { method: "POST", quietUnauthorized: true });
  } finally {
    set(null);
  }
}

/** Forget the user locally, when the server has already ended the session. */
export function forget() {
  set(null);
}

/**
 * Words for the part of the city this user may see, shown in the header.
 * @param {User} who
 */
export function scopeLabel(who) {
  if (who.city_wide) return "City-wide";
  if (who.district_ids.length === 1) return "1 district";
  if (who.district_ids.length > 1) return `${who.district_ids.length} districts`;
  if (who.role === "utility") return "Own sites only";
  return "No cameras assigned";
}
