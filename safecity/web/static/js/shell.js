// @ts-check
// The frame around every signed-in screen: product name, navigation, who is signed in and what
// part of the city they see, a wall clock, About, and sign-out.

/** @import { User } from "./api-types.js" */

import { aboutButton } from "./about.js";
import { alertsBadge } from "./alert-count.js";
import { h, replaceChildren } from "./dom.js";
import { formatTime } from "./format.js";
import { feedIndicator } from "./ops-feed.js";
import {
  isDutyOfficer,
  isOcc,
  mayMakeReports,
  mayPlanPlacement,
  mayReadIncidents,
  mayReadKpis,
  mayReadFigures,
  mayReadHotspots,
  mayReadRequests,
  mayWatchLive,
  maySearchEvents,
} from "./permissions.js";
import { scopeLabel } from "./session.js";
import { cityName } from "./installation.js";

/**
 * The links this user's role has: the OCC works alerts and incidents, a duty officer their
 * unit's queue, a district akimat or an analyst reads incidents; those who work with events
 * search what the video analytics raised.
 * @param {User} user
 */
function navFor(user) {
  /** @type {Array<[key: string, href: string, text: string, badge?: HTMLElement]>} */
  const nav = [];
  if (isOcc(user)) nav.push(["alerts", "#/alerts", "Alerts", alertsBadge()]);
  if (isDutyOfficer(user)) nav.push(["incidents", "#/incidents", "My queue"]);
  else if (mayReadIncidents(user)) nav.push(["incidents", "#/incidents", "Incidents"]);
  if (maySearchEvents(user)) nav.push(["events", "#/events", "Events"]);
  if (mayReadKpis(user)) nav.push(["kpis", "#/kpis", "KPIs"]);
  if (mayReadFigures(user)) nav.push(["figures", "#/figures", "Figures"]);
  if (mayReadHotspots(user)) nav.push(["hotspots", "#/hotspots", "Hotspots"]);
  if (mayReadRequests(user)) nav.push(["requests", "#/requests", "Requests"]);
  nav.push(["map", "#/map", "Map"], ["cameras", "#/cameras", "Cameras"]);
  // The wall is live video: an analyst works with figures and would see only "no access".
  if (mayWatchLive(user)) nav.push(["wall", "#/wall", "Video wall"]);
  if (mayMakeReports(user)) nav.push(["reports", "#/reports", "Reports"]);
  if (mayPlanPlacement(user)) nav.push(["placement", "#/placement", "Placement"]);
  return nav;
}

/**
 * The header, drawn into `header` for the signed-in user by `render(user)`; `setActive(key)`
 * lights up the link of the screen on display.
 * @param {HTMLElement} header
 * @param {{ onSignOut: () => void }} actions
 */
export function createShell(header, { onSignOut }) {
  /** @type {Map<string, HTMLAnchorElement>} */
  const links = new Map();
  const clock = h("time", { id: "wall-clock", class: "wall-clock" });
  let clockTimer = 0;

  function tick() {
    const now = new Date();
    clock.textContent = formatTime(now);
    clock.dateTime = now.toISOString();
  }

  /** @param {User | null} user */
  function render(user) {
    clearInterval(clockTimer);
    if (!user) {
      header.hidden = true;
      header.replaceChildren();
      return;
    }
    links.clear();
    const nav = h(
      "nav",
      { class: "main-nav", "aria-label": "Main" },
      navFor(user).map(([key, href, text, badge]) => {
        const link = h("a", { href, class: "nav-link", dataset: { nav: key } }, text, badge || null);
        links.set(key, link);
        return link;
      }),
    );
    const role = [user.role_label, user.organization].filter(Boolean).join(" · ");
    replaceChildren(
      header,
      h(
        "a",
        { class: "brand", href: "#/map" },
        h("img", { src: "/static/img/logo.svg", alt: "", width: 24, height: 24 }),
        h("span", { class: "brand-name" }, "SafeCity"),
        h("span", { id: "brand-city", class: "brand-city" }, cityName()),
      ),
      nav,
      h("div", { class: "header-spacer" }),
      feedIndicator(),
      h("span", { id: "scope-chip", class: "scope-chip", title: "Cameras you may see" }, scopeLabel(user)),
      clock,
      h(
        "div",
        { class: "user-block" },
        h("span", { id: "user-name", class: "user-name" }, user.full_name),
        h("span", { id: "user-role", class: "user-role" }, role),
      ),
      aboutButton(),
      h("button", { id: "sign-out", type: "button", class: "button button-ghost", onclick: onSignOut }, "Sign out"),
    );
    header.hidden = false;
    tick();
    clockTimer = setInterval(tick, 1000);
  }

  /** @param {string | undefined} key */
  function setActive(key) {
    for (const [name, link] of links) {
      link.classList.toggle("active", name === key);
      if (name === key) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
  }

  return { render, setActive };
}
