// @ts-check
// An administrator's editor of a camera's analytics rules and privacy masks, on the camera
// page: zones and lines drawn over the live picture (rule-stage.js), each rule's fields beside
// it (rule-form.js), and Save, which replaces the camera's whole document (PUT). The server
// checks the document; a 422 names each problem, shown beside its rule and field. The site's
// rules apply too and are shown read-only (they are changed for the whole site).

/** @import { Camera, CameraRules, Rule, SharePoint } from "./api-types.js" */
/** @import { Problem } from "./api.js" */

import { ApiError, isQuiet, request } from "./api.js";
import { RULE_KINDS, analyticsWord, hasZone } from "./analytics-words.js";
import { h, replaceChildren } from "./dom.js";
import { formatTime } from "./format.js";
import { newRule, problemWords, ruleForm } from "./rule-form.js";
import { createStage } from "./rule-stage.js";
import { errorState, errorText, loadingState } from "./states.js";

/**
 * The problems of a 422, by what they are about: "rule:<index>" (then by field, "" for the
 * rule as a whole), "masks", or "" for the document.
 * @typedef {Map<string, Map<string, string[]>>} Problems
 */

/**
 * Sort a 422's problems by rule and field: loc is ["body", "rules", index, kind, field, …],
 * ["body", "masks", …] or ["body"].
 * @param {Problem[]} list
 * @returns {Problems}
 */
function sortProblems(list) {
  /** @type {Problems} */
  const sorted = new Map();
  /**
   * @param {string} owner
   * @param {string} field
   * @param {string} message
   */
  const add = (owner, field, message) => {
    const fields = sorted.get(owner) || new Map();
    fields.set(field, [...(fields.get(field) || []), message]);
    sorted.set(owner, fields);
  };
  for (const problem of list) {
    const loc = (problem.loc || []).filter((part) => part !== "body");
    if (loc[0] === "rules" && typeof loc[1] === "number") add(`rule:${loc[1]}`, String(loc[3] ?? ""), problem.msg);
    else if (loc[0] === "masks") add("masks", "", problem.msg);
    else add("", "", problem.msg);
  }
  return sorted;
}

/**
 * The rules editor of `camera`.
 * @param {Camera} camera
 * @param {AbortSignal} signal
 */
export function ruleEditor(camera, signal) {
  /** @type {Rule[]} */
  let rules = [];
  /** @type {SharePoint[][]} */
  let masks = [];
  /** @type {Rule[]} */
  let siteRules = [];
  /** @type {string | null} "rule:<index>" or "mask:<index>" */
  let selected = null;
  /** @type {Problems} */
  let problems = new Map();
  let dirty = false;
  /** @type {CameraRules | null} the document as last loaded or saved */
  let original = null;
  /** @type {(points: SharePoint[]) => void} */
  let onDrawn = () => {};

  const stage = createStage({
    cameraId: camera.id,
    signal,
    onDrawn: (points) => {
      onDrawn(points);
      changed();
      render();
    },
    onCancel: () => render(),
    onPick: (key) => {
      selected = key;
      render();
    },
  });

  const list = h("ul", { id: "rule-list", class: "rule-list" });
  const formHost = h("div", { id: "rule-form-host", class: "rule-form-host" });
  const siteHost = h("div", { id: "site-rules", class: "site-rules" });
  const message = h("p", { id: "rules-message", class: "form-message", role: "status" });
  const documentProblems = h("div", { id: "rules-problems" });
  const save = h("button", { id: "rules-save", type: "button", class: "button button-primary", disabled: true }, "Save rules");
  const revert = h("button", { id: "rules-revert", type: "button", class: "button button-ghost", disabled: true }, "Undo changes");
  const addRule = h(
    "select",
    { id: "rule-add", class: "select", "aria-label": "Add a rule" },
    h("option", { value: "" }, "+ Add a rule…"),
    RULE_KINDS.map(([kind, text]) => h("option", { value: kind }, text)),
  );
  const addMask = h("button", { id: "mask-add", type: "button", class: "button button-ghost" }, "+ Privacy mask");
  const body = h("div", { class: "rule-editor-body" }, loadingState("Loading the rules…"));
  const panel = h(
    "section",
    { id: "rule-editor", class: "panel rule-editor", "aria-labelledby": "rules-title" },
    h(
      "div",
      { class: "panel-head" },
      h("h2", { id: "rules-title", class: "panel-title" }, "Analytics rules"),
      h("div", { class: "form-actions" }, message, revert, save),
    ),
    body,
  );

  function changed() {
    dirty = true;
    save.disabled = false;
    revert.disabled = false;
    message.className = "form-message";
    message.textContent = "Unsaved changes";
  }

  /** A name no rule of this camera has yet: "Line crossing 2". */
  function freshName(/** @type {string} */ kind) {
    const base = analyticsWord(kind);
    const names = new Set(rules.map((rule) => rule.name));
    for (let n = 1; ; n += 1) if (!names.has(`${base} ${n}`)) return `${base} ${n}`;
  }

  /**
   * Draw the zone or line of rule `index` (or a new mask) on the stage.
   * @param {number} index
   */
  function drawFor(index) {
    const rule = rules[index];
    selected = `rule:${index}`;
    onDrawn = (points) => {
      if (rule.kind === "line_crossing") rule.line = [points[0], points[1]];
      else rule.zone = points;
    };
    render();
    stage.start(rule.kind === "line_crossing" ? "line" : "polygon", `the ${rule.kind === "line_crossing" ? "line" : "zone"} of “${rule.name}”`);
  }

  addRule.addEventListener("change", () => {
    const kind = addRule.value;
    addRule.value = "";
    if (!kind) return;
    rules.push(newRule(kind, freshName(kind)));
    changed();
    const index = rules.length - 1;
    if (hasZone(kind) || kind === "line_crossing") drawFor(index);
    else {
      selected = `rule:${index}`;
      render();
    }
  });

  addMask.addEventListener("click", () => {
    onDrawn = (points) => {
      masks.push(points);
      selected = `mask:${masks.length - 1}`;
    };
    stage.start("polygon", "a privacy mask");
  });

  /** @param {Rule} rule */
  function ruleSummary(rule) {
    const parts = [analyticsWord(rule.kind)];
    if (rule.enabled === false) parts.push("off");
    if (rule.schedule?.length) parts.push("scheduled");
    return parts.join(" · ");
  }

  function renderList() {
    replaceChildren(
      list,
      rules.map((rule, index) => {
        const key = `rule:${index}`;
        const item = h(
          "li",
          { class: `rule-item${selected === key ? " selected" : ""}${problems.has(key) ? " has-problem" : ""}`, dataset: { key, index: String(index) } },
          h(
            "button",
            { type: "button", class: "rule-pick", "aria-pressed": String(selected === key) },
            h("span", { class: `rule-swatch kind-${rule.kind}`, "aria-hidden": "true" }),
            h("span", { class: "rule-name" }, rule.name || "(no name)"),
            h("span", { class: "rule-kind" }, ruleSummary(rule)),
            problems.has(key) ? h("span", { class: "rule-flag", title: "The server refused this rule" }, "!") : null,
          ),
        );
        item.querySelector("button")?.addEventListener("click", () => {
          selected = key;
          render();
        });
        return item;
      }),
      masks.map((_, index) => {
        const key = `mask:${index}`;
        const item = h(
          "li",
          { class: `rule-item mask-item${selected === key ? " selected" : ""}${problems.has("masks") ? " has-problem" : ""}`, dataset: { key } },
          h(
            "button",
            { type: "button", class: "rule-pick", "aria-pressed": String(selected === key) },
            h("span", { class: "rule-swatch mask-swatch", "aria-hidden": "true" }),
            h("span", { class: "rule-name" }, `Privacy mask ${index + 1}`),
            h("span", { class: "rule-kind" }, "Blacked out before analysis"),
          ),
        );
        item.querySelector("button")?.addEventListener("click", () => {
          selected = key;
          render();
        });
        return item;
      }),
      !rules.length && !masks.length ? h("li", { class: "muted rule-none" }, "No rules of this camera's own yet.") : null,
    );
  }

  function renderForm() {
    const [what, indexText] = (selected || "").split(":");
    const index = Number(indexText);
    if (what === "rule" && rules[index]) {
      const rule = rules[index];
      replaceChildren(
        formHost,
        ruleForm(rule, {
          problems: problems.get(`rule:${index}`) || new Map(),
          onChange: () => {
            changed();
            renderList();
            stage.show(scene());
          },
          onDraw: () => drawFor(index),
          onWhole: () => {
            delete rule.zone;
            changed();
            render();
          },
          onDelete: () => {
            rules.splice(index, 1);
            problems = new Map(); // the places no longer match: Save asks again
            selected = null;
            changed();
            render();
          },
          redraw: renderForm,
        }),
      );
    } else if (what === "mask" && masks[index]) {
      replaceChildren(
        formHost,
        h(
          "div",
          { id: "mask-form", class: "rule-form" },
          h(
            "div",
            { class: "rule-form-head" },
            h("strong", {}, `Privacy mask ${index + 1}`),
            h(
              "button",
              {
                id: "mask-delete",
                type: "button",
                class: "button button-danger button-small",
                onclick: () => {
                  masks.splice(index, 1);
                  selected = null;
                  changed();
                  render();
                },
              },
              "Delete mask",
            ),
          ),
          h("p", { class: "muted" }, "Blacked out before motion and detection, and on the snapshots kept with events."),
          h(
            "button",
            {
              id: "mask-redraw",
              type: "button",
              class: "button button-small",
              onclick: () => {
                onDrawn = (points) => {
                  masks[index] = points;
                };
                stage.start("polygon", `privacy mask ${index + 1}`);
              },
            },
            "Draw again",
          ),
        ),
      );
    } else {
      replaceChildren(formHost, h("p", { class: "muted rule-hint" }, "Pick a rule or mask to change it, or add one. Shapes on the picture can be clicked too."));
    }
    const maskProblems = problems.get("masks")?.get("") || [];
    if (maskProblems.length) {
      formHost.append(...maskProblems.map((problem) => h("p", { class: "field-problem", role: "alert" }, `Privacy masks: ${problemWords(problem)}`)));
    }
  }

  function scene() {
    return { rules, masks, siteRules, selected, flagged: new Set(problems.keys()) };
  }

  function render() {
    renderList();
    renderForm();
    replaceChildren(documentProblems, (problems.get("")?.get("") || []).map((problem) => h("p", { class: "field-problem", role: "alert" }, problemWords(problem))));
    stage.show(scene());
  }

  function renderSite() {
    if (!siteRules.length) {
      replaceChildren(siteHost, camera.site ? h("p", { class: "muted" }, `${camera.site.name} has no rules of its own.`) : null);
      return;
    }
    replaceChildren(
      siteHost,
      h("h3", { class: "group-title" }, `From the site ${camera.site ? `“${camera.site.name}”` : ""} (read-only)`),
      h(
        "ul",
        { class: "rule-list site-rule-list" },
        siteRules.map((rule) =>
          h(
            "li",
            { class: "rule-item site-rule", dataset: { name: rule.name } },
            h("span", { class: `rule-swatch kind-${rule.kind}`, "aria-hidden": "true" }),
            h("span", { class: "rule-name" }, rule.name),
            h("span", { class: "rule-kind" }, ruleSummary(rule)),
          ),
        ),
      ),
      h("p", { class: "muted form-hint" }, "A rule of this camera with the same name replaces the site's rule here."),
    );
  }

  /** @param {CameraRules} stored */
  function take(stored) {
    rules = structuredClone(stored.rules);
    masks = structuredClone(stored.masks);
    siteRules = stored.site_rules;
    problems = new Map();
    dirty = false;
    save.disabled = true;
    revert.disabled = true;
    const [what, index] = (selected || "").split(":");
    if ((what === "rule" && !rules[Number(index)]) || (what === "mask" && !masks[Number(index)])) selected = null;
  }

  async function load() {
    try {
      /** @type {CameraRules} */
      const stored = await request(`/api/cameras/${camera.id}/analytics/rules`, { signal });
      original = stored;
      take(stored);
      replaceChildren(
        body,
        h(
          "div",
          { class: "rule-layout" },
          h(
            "div",
            { class: "rule-stage-column" },
            stage.element,
            h(
              "div",
              { class: "rule-stage-foot" },
              h("span", { class: "muted" }, "Zones and lines keep their place as shares of the picture, whatever its resolution."),
              stage.refresh,
            ),
          ),
          h(
            "div",
            { class: "rule-side" },
            h("div", { class: "rule-adders" }, addRule, addMask),
            documentProblems,
            list,
            formHost,
            siteHost,
          ),
        ),
      );
      renderSite();
      render();
    } catch (error) {
      if (!isQuiet(error)) replaceChildren(body, errorState(error, load));
    }
  }

  save.addEventListener("click", async () => {
    if (stage.isDrawing()) stage.cancel();
    save.disabled = true;
    message.className = "form-message";
    message.textContent = "Saving…";
    try {
      /** @type {CameraRules} */
      const stored = await request(`/api/cameras/${camera.id}/analytics/rules`, {
        method: "PUT",
        signal,
        body: { rules, masks }, // a zone not drawn is left out: the server reads the whole picture
      });
      original = stored;
      take(stored);
      message.className = "form-message rules-saved";
      message.textContent = `Saved at ${formatTime(new Date())}`;
      renderSite();
      render();
    } catch (error) {
      if (isQuiet(error)) return;
      save.disabled = false;
      message.className = "form-message form-error";
      if (error instanceof ApiError && error.status === 422 && error.problems.length) {
        problems = sortProblems(error.problems);
        const first = [...problems.keys()].find((key) => key.startsWith("rule:"));
        if (first && !(selected && problems.has(selected))) selected = first;
        message.textContent = "Not saved: the server refused what is marked.";
        render();
      } else {
        message.textContent = `Not saved. ${errorText(error)}`;
      }
    }
  });

  revert.addEventListener("click", () => {
    if (!original || !dirty) return;
    if (stage.isDrawing()) stage.cancel();
    take(original);
    selected = null;
    message.textContent = "";
    render();
  });

  load();
  return panel;
}
