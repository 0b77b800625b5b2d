// @ts-check
// Small DOM helpers. All text goes in through textContent / text nodes, never innerHTML,
// so nothing a camera name or an address contains can turn into markup.

const SVG_NS = "http://www.w3.org/2000/svg";

/**
 * What an element may be given as content: nodes, text, numbers, and lists of them at any
 * depth. null, undefined and false are left out, so `cond ? node : null` reads naturally.
 * @typedef {Node | string | number | boolean | null | undefined | ChildList} Child
 * @typedef {{ readonly [index: number]: Child, readonly length: number }} ChildList  a list of
 *   children (an array: written out, since a type alias may not name itself)
 */

/**
 * Attributes of h() and s(): `dataset` fills data-*, a function under on… listens to that
 * event, true writes a bare attribute, null, undefined and false leave it out, anything else
 * is written as text.
 * @typedef {object} AttributeHooks
 * @property {Record<string, string>} [dataset]
 * @property {(event: MouseEvent) => unknown} [onclick]
 * @property {(event: Event) => unknown} [onchange]
 * @property {(event: Event) => unknown} [oninput]
 * @property {(event: KeyboardEvent) => unknown} [onkeydown]
 * @property {(event: SubmitEvent) => unknown} [onsubmit]
 * @typedef {AttributeHooks & Record<string, unknown>} Attributes
 */

/**
 * @param {Node} node
 * @param {ChildList} children
 */
function append(node, children) {
  for (let index = 0; index < children.length; index += 1) {
    const child = children[index];
    if (Array.isArray(child)) append(node, child);
    else if (child === null || child === undefined || child === false) continue;
    else node.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/**
 * @param {HTMLElement | SVGElement} node
 * @param {Attributes | undefined} attributes
 */
function applyAttributes(node, attributes) {
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "dataset") {
      Object.assign(node.dataset, value);
    } else if (name.startsWith("on") && typeof value === "function") {
      node.addEventListener(name.slice(2), /** @type {EventListener} */ (value));
    } else if (value === true) {
      node.setAttribute(name, "");
    } else {
      node.setAttribute(name, String(value));
    }
  }
}

/**
 * Create an HTML element: h("a", {href: "#/map", class: "nav"}, "Map").
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Attributes} [attributes]
 * @param {...Child} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attributes, ...children) {
  const node = document.createElement(tag);
  applyAttributes(node, attributes);
  append(node, children);
  return node;
}

/**
 * Create an SVG element the same way.
 * @template {keyof SVGElementTagNameMap} K
 * @param {K} tag
 * @param {Attributes} [attributes]
 * @param {...Child} children
 * @returns {SVGElementTagNameMap[K]}
 */
export function s(tag, attributes, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  applyAttributes(node, attributes);
  append(node, children);
  return node;
}

/**
 * Replace everything inside `node` with `children`.
 * @param {Element} node
 * @param {...Child} children
 */
export function replaceChildren(node, ...children) {
  node.replaceChildren();
  append(node, children);
}

/**
 * The element of the page with this id; the page is broken without it.
 * @param {string} id
 */
export function elementById(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element;
}

/**
 * The element at or above where `event` happened that matches `selector`, if any.
 * @param {Event} event
 * @param {string} selector
 * @returns {Element | null}
 */
export function closest(event, selector) {
  return event.target instanceof Element ? event.target.closest(selector) : null;
}

/**
 * A function that runs `fn` once calls have stopped for `ms` (search-as-you-type); its
 * `cancel()` drops a call still waiting.
 * @param {() => void} fn
 * @param {number} ms
 */
export function debounce(fn, ms) {
  let timer = 0;
  const debounced = () => {
    clearTimeout(timer);
    timer = setTimeout(fn, ms);
  };
  debounced.cancel = () => clearTimeout(timer);
  return debounced;
}
