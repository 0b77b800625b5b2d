// @ts-check
// Start-up and routing: find out who is signed in, draw the frame, and mount the screen the
// hash asks for. Each screen gets an AbortSignal that fires when the operator leaves it, so
// its requests and timers stop with it.

import { onUnauthorized } from "./api.js";
import { mountBanner } from "./banner.js";
/** @import { Route } from "./router.js" */

import { elementById, h } from "./dom.js";
import * as installation from "./installation.js";
import { match, navigate, parseHash } from "./router.js";
import { homePath } from "./permissions.js";
import * as session from "./session.js";
import { createShell } from "./shell.js";
import { errorState, loadingState } from "./states.js";
import * as alerts from "./views/alerts.js";
import * as cameraDetail from "./views/camera-detail.js";
import * as cameraList from "./views/camera-list.js";
import * as events from "./views/events.js";
import * as figures from "./views/figures.js";
import * as hotspots from "./views/hotspots.js";
import * as incidentDetail from "./views/incident-detail.js";
import * as incidents from "./views/incidents.js";
import * as kpis from "./views/kpis.js";
import * as login from "./views/login.js";
import * as mapView from "./views/map.js";
import * as reports from "./views/reports.js";
import * as placement from "./views/placement.js";
import * as cameraRequests from "./views/requests.js";
import * as wall from "./views/wall.js";

/** @type {Route[]} */
const ROUTES = [
  { pattern: /^\/login$/, view: login, title: "Sign in", public: true },
  { pattern: /^\/map$/, view: mapView, title: "Map", nav: "map" },
  { pattern: /^\/cameras$/, view: cameraList, title: "Cameras", nav: "cameras" },
  { pattern: /^\/cameras\/(\d+)$/, params: ["id"], view: cameraDetail, title: "Camera", nav: "cameras" },
  { pattern: /^\/wall$/, view: wall, title: "Video wall", nav: "wall" },
  { pattern: /^\/alerts$/, view: alerts, title: "Alerts", nav: "alerts" },
  { pattern: /^\/incidents$/, view: incidents, title: "Incidents", nav: "incidents" },
  { pattern: /^\/incidents\/(\d+)$/, params: ["id"], view: incidentDetail, title: "Incident", nav: "incidents" },
  { pattern: /^\/events$/, view: events, title: "Events", nav: "events" },
  { pattern: /^\/kpis$/, view: kpis, title: "KPIs", nav: "kpis" },
  { pattern: /^\/reports$/, view: reports, title: "Reports", nav: "reports" },
  { pattern: /^\/placement$/, view: placement, title: "Placement", nav: "placement" },
  { pattern: /^\/figures$/, view: figures, title: "Figures", nav: "figures" },
  { pattern: /^\/hotspots$/, view: hotspots, title: "Hotspots", nav: "hotspots" },
  { pattern: /^\/requests$/, view: cameraRequests, title: "Camera requests", nav: "requests" },
];

const outlet = elementById("view");
const shell = createShell(elementById("app-header"), {
  onSignOut: async () => {
    try {
      await session.signOut();
    } finally {
      navigate("/login", {}, { replace: true });
    }
  },
});
session.onChange((user) => shell.render(user));

/** @type {(() => void) | null} */
let leave = null; // aborts the screen on display and runs its cleanup

function currentPathWithQuery() {
  return window.location.hash.replace(/^#/, "") || homePath(session.user());
}

function render() {
  const { path, query } = parseHash(window.location.hash);
  const found = match(ROUTES, path);
  if (!found) {
    navigate(session.user() ? homePath(session.user()) : "/login", {}, { replace: true });
    return;
  }
  const { route, params } = found;
  if (!route.public && !session.user()) {
    navigate("/login", { next: currentPathWithQuery() }, { replace: true });
    return;
  }
  if (route.public && session.user()) {
    navigate(homePath(session.user()), {}, { replace: true });
    return;
  }

  leave?.();
  const controller = new AbortController();
  document.title = [route.title, installation.cityName(), "SafeCity"].filter(Boolean).join(" · ");
  document.body.dataset.route = route.nav || "login";
  shell.setActive(route.nav);
  outlet.replaceChildren();
  const cleanup = route.view.mount(outlet, { params, query, signal: controller.signal });
  leave = () => {
    controller.abort();
    if (typeof cleanup === "function") cleanup();
  };
}

// A 401 from any call means the session is over: back to sign-in, then back here.
onUnauthorized(() => {
  if (!session.user()) return;
  const here = currentPathWithQuery();
  session.forget();
  navigate("/login", here.startsWith("/login") ? {} : { next: here }, { replace: true });
});

let bootRetry = 0;

async function boot() {
  clearTimeout(bootRetry);
  outlet.replaceChildren(loadingState("Starting SafeCity…"));
  try {
    await installation.load();
    await session.restore();
  } catch (error) {
    // The server could not be reached at all: say so and keep trying.
    outlet.replaceChildren(h("div", { class: "boot-error" }, errorState(error, boot)));
    bootRetry = setTimeout(boot, 5000);
    return;
  }
  window.addEventListener("hashchange", render);
  render();
}

mountBanner(elementById("banner-host"));
boot();
