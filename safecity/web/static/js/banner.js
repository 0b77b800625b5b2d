// @ts-check
// A strip under the header that tells the operator the server stopped answering. It never
// covers the screen: what is already shown stays usable while the console retries.

import { connection } from "./api.js";
import { h, replaceChildren } from "./dom.js";
import { formatTime } from "./format.js";

/** @param {HTMLElement} host */
export function mountBanner(host) {
  const banner = h("div", { id: "connection-banner", class: "banner", role: "status", hidden: true });
  host.append(banner);

  connection.addEventListener("lost", () => {
    replaceChildren(
      banner,
      h("span", { class: "banner-icon", "aria-hidden": "true" }, "!"),
      h(
        "span",
        { class: "banner-text" },
        `Connection to the SafeCity server lost at ${formatTime(new Date())}. `,
        "Showing the last data received; retrying every few seconds.",
      ),
      h("button", { type: "button", class: "banner-close", "aria-label": "Hide", onclick: () => {
        banner.hidden = true;
      } }, "×"),
    );
    banner.hidden = false;
  });
  connection.addEventListener("restored", () => {
    banner.hidden = true;
  });
}
