// @ts-check
// Pictures the API keeps behind the session (an analytics event's best snapshot, an alert's
// thumbnail): fetched as blobs like the camera snapshots (snapshot.js), so a lost session or a
// picture the role may not see is told apart from a broken one, and shown from object URLs.
// A thumbnail loads only once it scrolls into view; a click opens it large. An event's snapshot
// never changes, so each is fetched once per sign-in (a few hundred kept).

import { requestBlob } from "./api.js";
import { h } from "./dom.js";
import { onChange } from "./session.js";

const KEPT = 300;

/** @type {Map<string, Promise<string>>} a picture's API path → its object URL */
const pictures = new Map();

/** @param {Promise<string>} picture */
function release(picture) {
  picture.then((objectUrl) => URL.revokeObjectURL(objectUrl)).catch(() => {});
}

onChange(() => {
  for (const picture of pictures.values()) release(picture);
  pictures.clear();
});

/**
 * An object URL of the picture at `path` (an API path answering a JPEG).
 * @param {string} path
 * @returns {Promise<string>}
 */
export function pictureUrl(path) {
  let picture = pictures.get(path);
  if (!picture) {
    picture = requestBlob(path).then((blob) => URL.createObjectURL(blob));
    picture.catch(() => pictures.delete(path)); // the next screen may try again
    pictures.set(path, picture);
    if (pictures.size > KEPT) {
      const [oldest, kept] = pictures.entries().next().value || [];
      if (oldest !== undefined && kept) {
        pictures.delete(oldest);
        release(kept);
      }
    }
  }
  return picture;
}

/**
 * Fill `img` with the picture at `path`; `box.dataset.state` says how it went (shown, failed).
 * @param {HTMLImageElement} img
 * @param {HTMLElement} box
 * @param {string} path
 */
function load(img, box, path) {
  box.dataset.state = "loading";
  pictureUrl(path)
    .then((objectUrl) => {
      img.src = objectUrl;
      img.hidden = false;
      box.dataset.state = "shown";
    })
    .catch(() => {
      box.dataset.state = "failed";
      box.title = "The picture could not be loaded";
    });
}

/** A picture not yet seen whose row left the page this long ago is forgotten. */
const FORGET_AFTER_MS = 10_000;
/** @type {Map<Element, { start: () => void, since: number }>} pictures waiting to be seen */
const waiting = new Map();
const observer =
  "IntersectionObserver" in window
    ? new IntersectionObserver(
        (entries) => {
          for (const entry of entries) {
            if (!entry.isIntersecting) continue;
            observer?.unobserve(entry.target);
            waiting.get(entry.target)?.start();
            waiting.delete(entry.target);
          }
        },
        { rootMargin: "200px" },
      )
    : null;

/**
 * Run `start` once `element` comes near the screen. A live list replaces rows that were never
 * scrolled to: those are let go (after a while, since a new row is built before it is placed).
 * @param {Element} element
 * @param {() => void} start
 */
function whenSeen(element, start) {
  if (!observer) {
    start();
    return;
  }
  const now = Date.now();
  for (const [other, { since }] of waiting) {
    if (!other.isConnected && now - since > FORGET_AFTER_MS) {
      observer.unobserve(other);
      waiting.delete(other);
    }
  }
  waiting.set(element, { start, since: now });
  observer.observe(element);
}

/** @type {HTMLDialogElement | null} */
let dialog = null;

/**
 * Show the picture at `path` large, in a modal (Escape or Close shuts it).
 * @param {string} path
 * @param {string} caption
 */
export function openPicture(path, caption) {
  if (!dialog) {
    dialog = h("dialog", { id: "picture-dialog", class: "picture-dialog", "aria-label": "Picture" });
    dialog.addEventListener("click", (event) => {
      if (event.target === dialog) dialog?.close(); // a click on the backdrop
    });
    document.body.append(dialog);
  }
  const img = h("img", { id: "picture-large", class: "picture-large", alt: caption, hidden: true });
  const frame = h("div", { class: "picture-frame", dataset: { state: "loading" } }, img, h("span", { class: "spinner", "aria-hidden": "true" }));
  dialog.replaceChildren(
    h(
      "form",
      { method: "dialog", class: "picture-card" },
      frame,
      h(
        "div",
        { class: "picture-foot" },
        h("span", { class: "picture-caption" }, caption),
        h("button", { id: "picture-close", type: "submit", class: "button button-primary" }, "Close"),
      ),
    ),
  );
  load(img, frame, path);
  dialog.showModal();
}

/**
 * A small picture of `path` (loaded when it comes into view) that opens large on a click, or
 * a neutral placeholder when there is none (`path` null) saying `missing`.
 * @param {string | null | undefined} path
 * @param {object} options
 * @param {string} options.caption  the picture's words: alt text, and the large view's caption
 * @param {string} [options.missing]  why there is no picture
 * @param {string} [options.className]  a size: "thumb" (the default), "thumb thumb-card" …
 */
export function thumbnail(path, { caption, missing = "No picture", className = "thumb" }) {
  if (!path) {
    return h("span", { class: `${className} thumb-none`, title: missing, dataset: { state: "none" } }, h("span", { class: "visually-hidden" }, missing));
  }
  const img = h("img", { class: "thumb-img", alt: caption, hidden: true, decoding: "async" });
  const box = h(
    "button",
    { type: "button", class: className, title: `${caption} — click to enlarge`, dataset: { state: "waiting" } },
    img,
  );
  box.addEventListener("click", () => openPicture(path, caption));
  whenSeen(box, () => load(img, box, path));
  return box;
}
