// @ts-check
// What has been gathered for an incident: files attached to it (photos, statements, PDFs) and
// clips of its cameras' recordings, each kept from retention by a legal hold. Both lists keep
// what was withdrawn, stamped with who, when and why, as the server does.

/** @import { Attachment, Clip, Incident, User } from "./api-types.js" */
/** @import { Child } from "./dom.js" */

import { isQuiet, request } from "./api.js";
import { h, replaceChildren } from "./dom.js";
import { formatBytes, formatDateTime, formatSpan, plural } from "./format.js";
import { panel, reasonForm } from "./ops-ui.js";
import { mayPlaceHolds, mayReleaseHolds } from "./permissions.js";
import { rangeFields } from "./range-fields.js";
import { errorText, loadingState } from "./states.js";

const AROUND_MS = 5 * 60 * 1000; // a new clip starts as the 10 minutes around the opening

// Mirrors ATTACHMENT_USERS in safecity/ops/attachments.py: akimats and analysts see
// incidents, not the evidence gathered for them.
const MATERIAL_USERS = new Set(["admin", "operator", "police_duty_officer"]);

/** @param {User | null} user */
export function mayUseMaterials(user) {
  return user !== null && MATERIAL_USERS.has(user.role);
}

/**
 * How to withdraw a material: the button's words, the question why, and the confirming verb.
 * @typedef {{ button: string, prompt: string, confirm: string }} Withdrawal
 */

/**
 * The list of one kind of material: each item with a button that withdraws it (asking why;
 * it stays on the list, stamped), and `refresh()` to load the list again.
 * @template {{ id: number }} T
 * @param {object} options
 * @param {string} options.id  of the <ul>
 * @param {string} options.path  the list's endpoint; DELETE `${path}/${id}` withdraws one
 * @param {AbortSignal} options.signal
 * @param {string} options.loadingText
 * @param {string} options.emptyText
 * @param {string} options.dataKey  the dataset key of an item's id (attachmentId: data-attachment-id)
 * @param {(material: T) => boolean} options.withdrawn
 * @param {(material: T) => Child} options.content
 * @param {(material: T) => Withdrawal | null} options.withdrawal  null: not for this user now
 */
function materialList({ id, path, signal, loadingText, emptyText, dataKey, withdrawn, content, withdrawal }) {
  const list = h("ul", { id, class: "link-list" }, loadingState(loadingText));

  /** @param {T} material */
  function item(material) {
    const li = h("li", { class: withdrawn(material) ? "material withdrawn" : "material", dataset: { [dataKey]: String(material.id) } });
    const show = () => replaceChildren(li, content(material), button);
    const offer = withdrawal(material);
    const button = offer ? h("button", { type: "button", class: "button button-small button-ghost" }, offer.button) : null;
    if (offer && button) {
      button.addEventListener("click", () =>
        replaceChildren(
          li,
          reasonForm({
            prompt: offer.prompt,
            confirmText: offer.confirm,
            danger: true,
            onConfirm: async (reason) => {
              await request(`${path}/${material.id}`, { method: "DELETE", query: { reason }, signal });
              await refresh();
            },
            onCancel: show,
          }),
        ),
      );
    }
    show();
    return li;
  }

  async function refresh() {
    try {
      /** @type {T[]} */
      const materials = await request(path, { signal });
      replaceChildren(list, materials.length ? materials.map(item) : h("li", { class: "muted" }, emptyText));
    } catch (error) {
      if (!isQuiet(error)) replaceChildren(list, h("li", { class: "form-error" }, errorText(error)));
    }
  }

  return { element: list, refresh };
}

/**
 * The Attachments panel: files attached to the incident, and a form to attach one.
 * @param {{ incidentId: number, user: User, signal: AbortSignal }} options
 */
export function attachmentsPanel({ incidentId, user, signal }) {
  let closed = false;
  const list = materialList({
    id: "attachment-list",
    path: `/api/incidents/${incidentId}/attachments`,
    signal,
    loadingText: "Loading attachments…",
    emptyText: "Nothing attached yet.",
    dataKey: "attachmentId",
    withdrawn: (/** @type {Attachment} */ attachment) => attachment.deleted,
    content: (attachment) => [
      h("a", { class: "material-name", href: attachment.download_url, download: attachment.name }, attachment.name),
      h(
        "span",
        { class: "link-sub" },
        [formatBytes(attachment.bytes), attachment.description, `${attachment.uploaded_by}, ${formatDateTime(attachment.uploaded_at)}`].filter(Boolean).join(" · "),
        attachment.deleted ? h("span", { class: "withdrawn-note" }, ` Withdrawn by ${attachment.deleted_by}: ${attachment.deletion_reason}`) : null,
      ),
    ],
    withdrawal: (attachment) =>
      !attachment.deleted && !closed && (user.role === "admin" || attachment.uploaded_by === user.username)
        ? { button: "Withdraw…", prompt: `Why withdraw ${attachment.name}? It stays on record.`, confirm: "Withdraw" }
        : null,
  });
  const file = h("input", { id: "attachment-file", type: "file", class: "input file-input", accept: "image/jpeg,image/png,application/pdf,text/plain,video/mp4", "aria-label": "File" });
  const description = h("input", { id: "attachment-description", class: "input", maxlength: 500, placeholder: "What it is (optional)", "aria-label": "Description" });
  const submit = h("button", { id: "attachment-submit", type: "submit", class: "button", disabled: true }, "Attach");
  const message = h("p", { class: "form-message form-error", role: "alert" });
  const form = h("form", { id: "attachment-form", class: "material-form" }, file, description, h("div", { class: "form-actions" }, submit, message));

  const chosen = () => file.files?.[0];
  file.addEventListener("change", () => {
    submit.disabled = !chosen();
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const picked = chosen();
    if (!picked) return;
    const body = new FormData();
    body.append("file", picked);
    if (description.value.trim()) body.append("description", description.value.trim());
    submit.disabled = true;
    submit.textContent = "Uploading…";
    message.textContent = "";
    try {
      await request(`/api/incidents/${incidentId}/attachments`, { method: "POST", body, signal });
      form.reset();
      await list.refresh();
    } catch (error) {
      if (isQuiet(error)) return;
      message.textContent = errorText(error);
    } finally {
      submit.textContent = "Attach";
      submit.disabled = !chosen();
    }
  });

  return {
    element: panel("incident-attachments", "Attachments", list.element, form),
    /**
     * Redraw for the incident as it now stands (a closed incident takes nothing new).
     * @param {Incident} incident
     */
    update(incident) {
      closed = incident.status === "closed";
      form.hidden = closed;
      list.refresh();
    },
  };
}

/**
 * The Clips panel: linked stretches of recordings, and a form to link one. `cameraName(id)`
 * names a camera in the form's choice (null: its id stays).
 * @param {object} options
 * @param {number} options.incidentId
 * @param {User} options.user
 * @param {AbortSignal} options.signal
 * @param {(cameraId: number) => Promise<string | null>} options.cameraName
 */
export function clipsPanel({ incidentId, user, signal, cameraName }) {
  /** @type {Incident | null} */
  let incident = null;
  const list = materialList({
    id: "clip-list",
    path: `/api/incidents/${incidentId}/clips`,
    signal,
    loadingText: "Loading clips…",
    emptyText: "No clip linked yet.",
    dataKey: "clipId",
    withdrawn: (/** @type {Clip} */ clip) => !clip.linked,
    content: (clip) => {
      const coverage = clip.recorded ? "recorded" : `${plural(clip.gaps.length, "gap")} in the recordings`;
      return [
        h("a", { class: "mono camera-link", href: `#/cameras/${clip.camera_id}`, title: "The camera: live and recordings" }, clip.camera_code),
        clip.linked ? h("a", { class: "button button-small", href: clip.playback_url, target: "_blank", rel: "noopener" }, "▶ Play clip") : null,
        h(
          "span",
          { class: "link-sub" },
          [formatSpan(clip.start, clip.end), coverage, clip.note, `${clip.linked_by}, ${formatDateTime(clip.linked_at)}`].filter(Boolean).join(" · "),
          clip.linked ? null : h("span", { class: "withdrawn-note" }, ` Unlinked by ${clip.unlinked_by}: ${clip.unlink_reason}`),
        ),
      ];
    },
    withdrawal: (clip) =>
      clip.linked && mayReleaseHolds(user) && incident?.status !== "closed"
        ? { button: "Unlink…", prompt: "Why unlink this clip? Its legal hold is released.", confirm: "Unlink" }
        : null,
  });
  const camera = h("select", { id: "clip-camera", class: "select", "aria-label": "Camera" });
  const range = rangeFields("clip");
  const note = h("input", { id: "clip-note", class: "input", maxlength: 500, placeholder: "What it shows (optional)", "aria-label": "Note" });
  const submit = h("button", { id: "clip-submit", type: "submit", class: "button" }, "Link clip");
  const message = h("p", { class: "form-message form-error", role: "alert" });
  const form = h(
    "form",
    { id: "clip-form", class: "material-form range-form" },
    h("label", { class: "field" }, h("span", { class: "field-label" }, "Camera"), camera),
    range.element,
    note,
    h("div", { class: "form-actions" }, submit, message),
  );

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    message.textContent = "";
    const span = range.read((problem) => {
      message.textContent = problem;
    });
    if (!span) return;
    submit.disabled = true;
    try {
      await request(`/api/incidents/${incidentId}/clips`, {
        method: "POST",
        signal,
        body: {
          camera_id: Number(camera.value),
          start: span.start.toISOString(),
          end: span.end.toISOString(),
          note: note.value.trim() || null,
        },
      });
      note.value = "";
      await list.refresh();
    } catch (error) {
      if (!isQuiet(error)) message.textContent = errorText(error);
    } finally {
      submit.disabled = false;
    }
  });

  let rangeSet = false;
  return {
    element: panel("incident-clips", "Clips", list.element, form),
    /**
     * Redraw for the incident as it now stands: its cameras, and whether it takes new clips.
     * @param {Incident} current
     */
    update(current) {
      incident = current;
      const linkable = mayPlaceHolds(user) && current.status !== "closed" && current.camera_ids.length > 0;
      form.hidden = !linkable;
      const chosen = camera.value;
      replaceChildren(
        camera,
        current.camera_ids.map((id) => {
          const option = h("option", { value: String(id) }, `Camera ${id}`);
          cameraName(id).then((name) => {
            if (name) option.textContent = name;
          });
          return option;
        }),
      );
      if (chosen) camera.value = chosen;
      if (!rangeSet) {
        const opened = Date.parse(current.opened_at);
        range.set(new Date(opened - AROUND_MS), new Date(opened + AROUND_MS));
        rangeSet = true;
      }
      list.refresh();
    },
  };
}
