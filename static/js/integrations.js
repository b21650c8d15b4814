// The room's integrations, for its owner (docs/api.md, "Integrations"): outgoing webhooks with
// their last status, incoming webhooks, custom slash commands. In the side panel; the REST API
// with the page's session and CSRF token. A new secret (or secret URL) is shown once, to copy.
import { byId, el, fill } from "./dom.js";

const KINDS = [
  {
    kind: "webhooks", one: "webhook", secret: "secret", title: "Outgoing webhooks",
    about: "Each new message (or each starting with the trigger word) is POSTed, signed, to the URL.",
    fields: [["url", "URL", "https://example.com/parley"], ["trigger", "Trigger word (optional)", "deploy"]],
    describe: (item) => [item.url, item.trigger ? `trigger: ${item.trigger}` : "every message",
      item.last_status ? `last: ${item.last_status}${item.last_error ? ` (${item.last_error})` : ""}` : "nothing sent yet"],
    label: (item) => item.url,
  },
  {
    kind: "hooks", one: "hook", secret: "url", title: "Incoming webhooks",
    about: "A secret URL that posts Slack-style JSON to this room: point CI or monitoring at it.",
    fields: [["name", "Posts as", "ci"]],
    describe: (item) => [item.name],
    label: (item) => item.name,
  },
  {
    kind: "commands", one: "command", secret: "secret", title: "Slash commands",
    about: "/name calls the URL with signed JSON and posts (or shows) its answer.",
    fields: [["name", "Name", "weather"], ["url", "URL", "https://example.com/weather"]],
    describe: (item) => [`/${item.name}`, item.url, item.global ? "every room" : ""],
    label: (item) => `/${item.name}`,
  },
];

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

/** Call the REST API; answers {ok, ...body} or {ok: false, error}. */
async function api(method, path, body) {
  try {
    const response = await fetch(path, {
      method, credentials: "same-origin", cache: "no-store",
      headers: { "X-CSRFToken": csrfToken(), ...(body ? { "Content-Type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const answer = response.status === 204 ? {} : await response.json();
    if (!response.ok) return { ok: false, error: answer.error || { message: `HTTP ${response.status}` } };
    return { ok: true, ...answer };
  } catch {
    return { ok: false, error: { code: "network", message: "The connection failed." } };
  }
}

export class Integrations {
  constructor(chat) {
    this.chat = chat;
    this.state = null; // {room, lists: {kind: [...]}, errors: {kind: msg}, fresh: {kind, text}}
  }

  get open() {
    const { detail } = this.chat.store;
    return Boolean(detail) && detail.mode === "integrations";
  }

  async toggle() {
    const room = this.chat.store.active;
    if (!room) return;
    if (this.open && this.chat.store.detail.room === room) return this.chat.closeDetail();
    this.state = { room, lists: {}, errors: {}, fresh: null };
    delete byId("integrations-body").dataset.loaded;
    this.chat.showDetail({ mode: "integrations", room });
    await this.load();
  }

  async load() {
    const { room } = this.state;
    const base = `/api/rooms/${encodeURIComponent(room)}`;
    await Promise.all(KINDS.map(async ({ kind }) => {
      const answer = await api("GET", `${base}/${kind}`);
      if (this.state.room !== room) return;
      this.state.lists[kind] = answer.ok ? answer[kind] : [];
      this.state.errors[kind] = answer.ok ? null : answer.error.message;
    }));
    this.render();
    byId("integrations-body").dataset.loaded = "true"; // the lists are in (tests wait on it)
  }

  async add(spec, form) {
    const body = {};
    spec.fields.forEach(([name]) => {
      const value = form.elements[name].value.trim();
      if (value) body[name] = value;
    });
    const answer = await api("POST", `/api/rooms/${encodeURIComponent(this.state.room)}/${spec.kind}`, body);
    if (!answer.ok) {
      this.state.errors[spec.kind] = answer.error.message;
      return this.render();
    }
    form.reset();
    this.state.errors[spec.kind] = null;
    this.state.fresh = { kind: spec.kind, text: answer[spec.secret], what: spec.secret === "url" ? "URL" : "signing secret" };
    return this.load();
  }

  async remove(spec, id) {
    const answer = await api("DELETE", `/api/rooms/${encodeURIComponent(this.state.room)}/${spec.kind}/${id}`);
    this.state.errors[spec.kind] = answer.ok ? null : answer.error.message;
    if (this.state.fresh && this.state.fresh.kind === spec.kind) this.state.fresh = null;
    return this.load();
  }

  render() {
    if (!this.open || !this.state) return;
    // The chat redraws on every event (messages, typing, read marks): rebuild the forms only when
    // the panel's own state changed, or what someone is typing into them would be lost.
    const drawn = JSON.stringify(this.state);
    const body = byId("integrations-body");
    if (drawn === this.drawn && body.childElementCount) return;
    this.drawn = drawn;
    // What is typed but not sent yet survives the redraw (a list that loads while one types).
    const typed = new Map([...body.querySelectorAll("form.integration-form input")]
      .map((input) => [`${input.form.dataset.kind}/${input.name}`, input.value]));
    fill(body, KINDS.map((spec) => this.section(spec)));
    body.querySelectorAll("form.integration-form input").forEach((input) => {
      const value = typed.get(`${input.form.dataset.kind}/${input.name}`);
      if (value) input.value = value;
    });
  }

  section(spec) {
    const items = this.state.lists[spec.kind] || [];
    const { fresh } = this.state;
    const form = el("form", { className: "integration-form", dataset: { kind: spec.kind } },
      ...spec.fields.map(([name, label, placeholder]) => el("label", { className: "integration-field" },
        el("span", { text: label }),
        el("input", { name, type: "text", placeholder, autocomplete: "off", spellcheck: false }))),
      el("button", { type: "submit", className: "btn small", text: "Add" }));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.add(spec, form);
    });
    return el("section", { className: "integration", attrs: { "aria-label": spec.title } },
      el("h3", { text: spec.title }),
      el("p", { className: "hint", text: spec.about }),
      el("ul", { className: "integration-list" }, ...items.map((item) => el("li", { className: "integration-item" },
        el("span", { className: "integration-text", text: spec.describe(item).filter(Boolean).join(" · ") }),
        this.removeButton(spec, item)))),
      fresh && fresh.kind === spec.kind ? el("div", { className: "integration-secret", attrs: { role: "status" } },
        el("span", { text: `The ${fresh.what}, shown this once: copy it now.` }),
        el("input", { type: "text", readOnly: true, value: fresh.text, className: "secret-value",
          attrs: { "aria-label": `New ${fresh.what}` } })) : null,
      this.state.errors[spec.kind] ? el("p", { className: "form-error", text: this.state.errors[spec.kind], attrs: { role: "alert" } }) : null,
      form);
  }

  removeButton(spec, item) {
    const button = el("button", { type: "button", className: "btn small btn-ghost", text: "Remove",
      attrs: { "aria-label": `Remove ${spec.label(item)}` } });
    button.addEventListener("click", () => this.remove(spec, item.id));
    return button;
  }
}
