// @ts-check
// The About box, opened from the header: which SafeCity this is (its version) and the licence
// it is distributed under, as the server says (/api/console, from the installed package).

import { h, replaceChildren } from "./dom.js";
import * as installation from "./installation.js";

/** Where each licence's text is published, by its SPDX name. */
const LICENSE_TEXTS = new Map([["Apache-2.0", "https://www.apache.org/licenses/LICENSE-2.0"]]);

function content() {
  const license = installation.license();
  const text = LICENSE_TEXTS.get(license);
  return h(
    "form",
    { method: "dialog", class: "about-card" },
    h(
      "div",
      { class: "about-brand" },
      h("img", { src: "/static/img/logo.svg", alt: "", width: 40, height: 40 }),
      h("div", {}, h("h2", { id: "about-title" }, "SafeCity"), h("p", { class: "muted" }, "City video surveillance · operator console")),
    ),
    h(
      "dl",
      { class: "fields" },
      h("dt", {}, "Version"),
      h("dd", { id: "about-version", class: "mono" }, installation.version()),
      h("dt", {}, "Licence"),
      h("dd", { id: "about-license" }, text ? h("a", { href: text, target: "_blank", rel: "noopener" }, license) : license),
      installation.cityName() ? [h("dt", {}, "City"), h("dd", {}, installation.cityName())] : null,
    ),
    h("div", { class: "form-actions" }, h("button", { id: "about-close", type: "submit", class: "button button-primary" }, "Close")),
  );
}

/** The header's "About" button, and the dialog it opens (a modal: Escape or Close shuts it). */
export function aboutButton() {
  const dialog = h("dialog", { id: "about-dialog", class: "about-dialog", "aria-labelledby": "about-title" });
  const button = h("button", { id: "about-button", type: "button", class: "button button-ghost" }, "About");
  button.addEventListener("click", () => {
    replaceChildren(dialog, content());
    dialog.showModal();
  });
  return [button, dialog];
}
