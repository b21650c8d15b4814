// Modal dialogs built on <dialog>: the browser traps focus inside and Escape cancels. Each is
// made when needed and removed when closed; focus goes back to what had it before.
import { el } from "./dom.js";
import { fullTime, shortTime } from "./format.js";
import { richText } from "./richtext.js";

let made = 0;

/** Open a modal dialog of `content`; answers {dialog, done(value)}; `closed` resolves to the value. */
export function modal(title, content, { className = "" } = {}) {
  made += 1;
  const titleId = `dialog-title-${made}`;
  const opener = document.activeElement;
  const dialog = el("dialog", { className: `dialog ${className}`.trim(), attrs: { "aria-labelledby": titleId } },
    el("h2", { id: titleId, className: "dialog-title", text: title }), ...content);
  document.body.append(dialog);
  let value = null;
  const closed = new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      dialog.remove();
      if (opener && opener.isConnected && typeof opener.focus === "function") opener.focus();
      resolve(value);
    });
  });
  // Escape closes it without an answer, and must not also close the panels behind it.
  dialog.addEventListener("keydown", (event) => event.key === "Escape" && event.stopPropagation());
  dialog.showModal();
  const done = (answer) => {
    value = answer;
    dialog.close();
  };
  return { dialog, done, closed };
}

function buttons(...children) {
  return el("div", { className: "dialog-actions" }, ...children);
}

/**
 * Ask before doing something that cannot be undone: answers true when confirmed.
 * body: nodes (a quote of the message, say); action: the confirming button's text.
 */
export function confirmDialog({ title, body = [], action = "OK", danger = false }) {
  const cancel = el("button", { type: "button", className: "btn", text: "Cancel" });
  const ok = el("button", { type: "button", className: danger ? "btn btn-danger" : "btn btn-primary", text: action });
  const { done, closed } = modal(title, [...body, buttons(cancel, ok)]);
  cancel.addEventListener("click", () => done(false));
  ok.addEventListener("click", () => done(true));
  cancel.focus(); // the safe choice has focus: Enter does not destroy anything
  return closed.then((answer) => answer === true);
}

/** A message quoted in a dialog: author, time and its text (formatted, never as HTML). */
export function quote(message, me) {
  return el("blockquote", { className: "dialog-quote" },
    el("div", { className: "msg-meta" }, el("span", { className: "msg-author", text: message.author }),
      el("time", { text: shortTime(message.created_at), title: fullTime(message.created_at) })),
    el("div", { className: "msg-text" }, ...richText(message.text, me)));
}

/** Every version of an edited message, oldest first. */
export function versionsDialog(versions, me) {
  const items = versions.map((version, i) => {
    const last = i === versions.length - 1;
    const label = i === 0 ? "Original" : last ? "Now" : `Edit ${i}`;
    return el("li", { className: last ? "version current" : "version" },
      el("div", { className: "msg-meta" }, el("span", { className: "version-label", text: label }),
        el("time", { text: shortTime(version.at), title: fullTime(version.at), attrs: { datetime: version.at } })),
      el("div", { className: "msg-text" }, ...richText(version.text, me)));
  });
  const close = el("button", { type: "button", className: "btn btn-primary", text: "Close" });
  const { done, closed } = modal("Versions of the message", [
    el("ol", { className: "versions", attrs: { "aria-label": "Versions, oldest first" } }, ...items), buttons(close),
  ], { className: "versions-dialog" });
  close.addEventListener("click", () => done(null));
  close.focus();
  return closed;
}

/**
 * A small form: fields [{name, label, type ("text" | "checkbox"), hint, placeholder, value}].
 * `submit(values)` answers an error message to show (the dialog stays) or null (it closes).
 * Answers the values it was closed with, or null when cancelled.
 */
export function formDialog({ title, intro = "", fields, action, submit }) {
  made += 1;
  const error = el("p", { id: `form-error-${made}`, className: "form-error", attrs: { role: "alert" } });
  const inputs = {};
  const rows = fields.map((field) => {
    made += 1;
    const id = `field-${made}`;
    const hintId = `${id}-hint`;
    const described = [field.hint ? hintId : null, error.id].filter(Boolean).join(" ");
    if (field.type === "checkbox") {
      const box = el("input", { type: "checkbox", id, name: field.name, checked: Boolean(field.value), disabled: Boolean(field.disabled),
        attrs: field.hint ? { "aria-describedby": hintId } : {} });
      inputs[field.name] = box;
      return el("div", { className: "field check" }, box, el("label", { htmlFor: id, text: field.label }),
        field.hint ? el("p", { id: hintId, className: "hint", text: field.hint }) : null);
    }
    const input = el("input", {
      type: "text", id, name: field.name, value: field.value || "", placeholder: field.placeholder || "",
      autocomplete: "off", spellcheck: false, attrs: { "aria-describedby": described, autocapitalize: "off" },
    });
    inputs[field.name] = input;
    return el("div", { className: "field" }, el("label", { htmlFor: id, text: field.label }), input,
      field.hint ? el("p", { id: hintId, className: "hint", text: field.hint }) : null);
  });
  const cancel = el("button", { type: "button", className: "btn", text: "Cancel" });
  const ok = el("button", { type: "submit", className: "btn btn-primary", text: action });
  const form = el("form", { className: "dialog-form", noValidate: true },
    intro ? el("p", { className: "dialog-intro", text: intro }) : null, ...rows, error, buttons(cancel, ok));
  const { done, closed } = modal(title, [form]);
  cancel.addEventListener("click", () => done(null));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = Object.fromEntries(Object.entries(inputs).map(([name, input]) => [
      name, input.type === "checkbox" ? input.checked : input.value.trim()]));
    ok.disabled = true;
    const problem = await submit(values);
    ok.disabled = false;
    error.textContent = problem || "";
    const first = Object.values(inputs).find((input) => input.type !== "checkbox");
    if (first) first.setAttribute("aria-invalid", problem ? "true" : "false");
    if (!problem) done(values);
    else if (first) first.focus();
  });
  Object.values(inputs)[0]?.focus();
  return closed;
}
