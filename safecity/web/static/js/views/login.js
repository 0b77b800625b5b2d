// @ts-check
// Sign-in screen. After signing in the operator lands where they were sent away from
// (?next=...), or on the map.

/** @import { ViewContext } from "../router.js" */

import { ApiError, NetworkError } from "../api.js";
import { h } from "../dom.js";
import { navigate, parseHash } from "../router.js";
import { homePath } from "../permissions.js";
import { signIn } from "../session.js";
import { cityName } from "../installation.js";

/** @param {unknown} error */
function messageFor(error) {
  if (error instanceof ApiError && error.status === 401) return "Wrong username or password.";
  if (error instanceof ApiError && error.status === 429) {
    const seconds = Number(error.response.headers.get("Retry-After")) || 60;
    const minutes = Math.ceil(seconds / 60);
    return `Too many failed sign-ins for this user. Try again in ${minutes} ${minutes === 1 ? "minute" : "minutes"}.`;
  }
  if (error instanceof ApiError && error.status === 422) return "Enter a username and a password.";
  if (error instanceof NetworkError) return "Cannot reach the SafeCity server. Check the network and try again.";
  return `Sign-in failed: ${error instanceof Error ? error.message : error}`;
}

/**
 * Only a path inside the console may be a destination: never a full URL from a crafted link.
 * @param {string | undefined} next
 * @param {string} home  where the user lands without one
 */
function destination(next, home) {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/login")) {
    return { path: home, query: {} };
  }
  return parseHash(`#${next}`);
}

/**
 * @param {HTMLElement} outlet
 * @param {ViewContext} context
 */
export function mount(outlet, { query }) {
  const username = h("input", {
    id: "login-username",
    name: "username",
    class: "input",
    autocomplete: "username",
    required: true,
    maxlength: 64,
    spellcheck: "false",
    autocapitalize: "none",
  });
  const password = h("input", {
    id: "login-password",
    name: "password",
    type: "password",
    class: "input",
    autocomplete: "current-password",
    required: true,
    maxlength: 256,
  });
  const error = h("div", { id: "login-error", class: "login-error", role: "alert", hidden: true });
  const submit = h("button", { id: "login-submit", type: "submit", class: "button button-primary button-block" }, "Sign in");

  /** @param {SubmitEvent} event */
  async function onSubmit(event) {
    event.preventDefault();
    error.hidden = true;
    submit.disabled = true;
    submit.textContent = "Signing in…";
    form.setAttribute("aria-busy", "true");
    try {
      const user = await signIn(username.value.trim(), password.value);
      const target = destination(query.next, homePath(user));
      navigate(target.path, target.query, { replace: true });
    } catch (failure) {
      error.textContent = messageFor(failure);
      error.hidden = false;
      password.value = "";
      password.focus();
    } finally {
      submit.disabled = false;
      submit.textContent = "Sign in";
      form.removeAttribute("aria-busy");
    }
  }

  const form = h(
    "form",
    { id: "login-form", class: "login-card", onsubmit: onSubmit },
    h(
      "div",
      { class: "login-brand" },
      h("img", { src: "/static/img/logo.svg", alt: "", width: 40, height: 40 }),
      h("div", {}, h("h1", {}, "SafeCity"), h("p", { class: "muted" }, [cityName(), "City video surveillance · operator console"].filter(Boolean).join(" · "))),
    ),
    h("label", { class: "field", for: "login-username" }, h("span", { class: "field-label" }, "Username"), username),
    h("label", { class: "field", for: "login-password" }, h("span", { class: "field-label" }, "Password"), password),
    error,
    submit,
    h("p", { class: "login-note muted" }, "Authorised personnel only."),
  );

  outlet.replaceChildren(h("div", { class: "login-page" }, form));
  username.focus();
}
