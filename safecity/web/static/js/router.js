// @ts-check
// Hash routes: #/login, #/map, #/cameras?district_id=3&status=active, #/cameras/123.
// The hash keeps the server out of routing (it serves one page) and lets a reload or a shared
// link land on the same screen with the same filters.

/**
 * What a screen is mounted with: the route's params, the hash's query, and a signal that
 * aborts when the operator leaves the screen.
 * @typedef {object} ViewContext
 * @property {Record<string, string>} params
 * @property {Record<string, string | undefined>} query
 * @property {AbortSignal} signal
 */

/**
 * A screen: `mount` draws it into `outlet` and may return what to do when it is left.
 * @typedef {{ mount: (outlet: HTMLElement, context: ViewContext) => (() => void) | void }} View
 */

/**
 * A route: the path's pattern, the names of what it captures, the screen, its title, and the
 * navigation link it lights up (none: a public page).
 * @typedef {object} Route
 * @property {RegExp} pattern
 * @property {string[]} [params]
 * @property {View} view
 * @property {string} title
 * @property {string} [nav]
 * @property {boolean} [public]
 */

/**
 * A hash query's values, as hrefFor writes them: undefined, null and "" are left out.
 * @typedef {Record<string, string | number | null | undefined>} HashQuery
 */

/**
 * Split "#/cameras?district_id=3" into {path: "/cameras", query: {district_id: "3"}}.
 * @param {string} hash
 */
export function parseHash(hash) {
  const raw = hash.replace(/^#/, "") || "/";
  const [path, search = ""] = raw.split("?", 2);
  /** @type {Record<string, string>} */
  const query = {};
  for (const [key, value] of new URLSearchParams(search)) query[key] = value;
  return { path: path || "/", query };
}

/**
 * @param {string} path
 * @param {HashQuery} [query]
 */
export function hrefFor(path, query = {}) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return `#${path}${text ? `?${text}` : ""}`;
}

/**
 * Go to another screen (a new history entry, so Back returns; with `replace`, none).
 * @param {string} path
 * @param {HashQuery} [query]
 * @param {{ replace?: boolean }} [options]
 */
export function navigate(path, query = {}, { replace = false } = {}) {
  const href = hrefFor(path, query);
  if (replace) {
    history.replaceState(null, "", href);
    window.dispatchEvent(new HashChangeEvent("hashchange"));
  } else {
    window.location.hash = href;
  }
}

/**
 * Record new filters in the address without re-rendering: the screen already shows them, and
 * one history entry per keystroke in a search box would make Back useless.
 * @param {string} path
 * @param {HashQuery} query
 */
export function replaceQuery(path, query) {
  history.replaceState(null, "", hrefFor(path, query));
}

/**
 * Find the route for a path; a route's `pattern` captures its params by position.
 * @param {Route[]} routes
 * @param {string} path
 */
export function match(routes, path) {
  for (const route of routes) {
    const found = route.pattern.exec(path);
    if (found) {
      /** @type {Record<string, string>} */
      const params = {};
      (route.params || []).forEach((name, index) => {
        params[name] = found[index + 1];
      });
      return { route, params };
    }
  }
  return null;
}
