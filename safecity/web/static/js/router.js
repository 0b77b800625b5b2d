// Hash routes: #/login, #/map, #/cameras?district_id=3&status=active, #/cameras/123.
// The hash keeps the server out of routing (it serves one page) and lets a reload or a shared
// link land on the same screen with the same filters.

/** Split "#/cameras?district_id=3" into {path: "/cameras", query: {district_id: "3"}}. */
export function parseHash(hash) {
  const raw = hash.replace(/^#/, "") || "/";
  const [path, search = ""] = raw.split("?", 2);
  const query = {};
  for (const [key, value] of new URLSearchParams(search)) query[key] = value;
  return { path: path || "/", query };
}

export function hrefFor(path, query = {}) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return `#${path}${text ? `?${text}` : ""}`;
}

/** Go to another screen (a new history entry, so Back returns). */
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
 */
export function replaceQuery(path, query) {
  history.replaceState(null, "", hrefFor(path, query));
}

/** Find the route for a path; a route's `pattern` captures its params by position. */
export function match(routes, path) {
  for (const route of routes) {
    const found = route.pattern.exec(path);
    if (found) {
      const params = {};
      (route.params || []).forEach((name, index) => {
        params[name] = found[index + 1];
      });
      return { route, params };
    }
  }
  return null;
}
