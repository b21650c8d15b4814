// Slash commands in the composer (docs/protocol.md, "Slash commands"): "/me waves", "/topic ...",
// and the room's custom ones. A command goes straight to the server, not through the outbox: it is
// an action to do once, not a message to keep and retry. The menu lists the room's commands while
// the composer holds "/" and the start of a name.
import { byId, el, fill } from "./dom.js";

const COMMAND = /^\/[A-Za-z0-9_-]{1,32}(\s|$)/;
const TYPING_NAME = /^\/([A-Za-z0-9_-]{0,32})$/;

/** Whether `text` runs a command ("//text" is the message "/text"). */
export function isCommand(text) {
  const start = text.trimStart();
  return !start.startsWith("//") && COMMAND.test(start);
}

/** The completion list under the composer: its commands come from the `commands` operation. */
export class CommandMenu {
  constructor(chat) {
    this.chat = chat;
    this.cache = new Map(); // room -> [{name, usage, builtin}]
    this.shown = [];
    this.index = 0;
  }

  async commandsOf(room) {
    if (!this.cache.has(room)) {
      const ack = await this.chat.request("commands", { room });
      if (!ack.ok) return [];
      this.cache.set(room, ack.commands);
    }
    return this.cache.get(room);
  }

  /** The composer's text changed: show the commands its "/name" could be, or hide. */
  async update(text) {
    const typed = TYPING_NAME.exec(text);
    const room = this.chat.store.active;
    if (!typed || !room) return this.hide();
    const commands = await this.commandsOf(room);
    if (byId("composer-text").value !== text) return undefined; // typed on meanwhile
    this.shown = commands.filter((command) => command.name.startsWith(typed[1].toLowerCase()));
    this.index = 0;
    return this.render();
  }

  render() {
    const list = byId("command-menu");
    list.hidden = this.shown.length === 0;
    byId("composer-text").setAttribute("aria-expanded", String(!list.hidden));
    fill(list, this.shown.map((command, i) => el("li", {
      className: "command-option", id: `command-${command.name}`, dataset: { name: command.name },
      attrs: { role: "option", "aria-selected": String(i === this.index) },
    }, el("span", { className: "command-usage", text: command.usage }),
    command.builtin ? null : el("span", { className: "tag-custom", text: "custom" }))));
    if (!list.hidden) byId("composer-text").setAttribute("aria-activedescendant", `command-${this.shown[this.index].name}`);
    else byId("composer-text").removeAttribute("aria-activedescendant");
  }

  hide() {
    this.shown = [];
    this.render();
  }

  get open() {
    return this.shown.length > 0;
  }

  /** Arrows move, Tab or Enter takes the command, Escape closes; answers whether it used the key. */
  key(event) {
    if (!this.open) return false;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      const step = event.key === "ArrowDown" ? 1 : -1;
      this.index = (this.index + step + this.shown.length) % this.shown.length;
      this.render();
    } else if (event.key === "Tab" || (event.key === "Enter" && !event.shiftKey)) {
      this.choose(this.shown[this.index].name);
    } else if (event.key === "Escape") {
      this.hide();
    } else {
      return false;
    }
    event.preventDefault();
    return true;
  }

  choose(name) {
    const text = byId("composer-text");
    text.value = `/${name} `;
    text.focus();
    this.hide();
  }

  forget(room) {
    this.cache.delete(room);
  }
}

/** Run a command in `room` and show its answer; answers the error, if any. */
export async function runCommand(chat, view, room, text) {
  const ack = await chat.request("message", { room, text: text.trim() });
  if (!ack.ok) {
    view.toast(ack.error.message);
    return ack.error;
  }
  const state = chat.store.rooms.get(room);
  if (ack.message && state) chat.addMessages(state, [ack.message], { fresh: true });
  if ("topic" in ack && state) {
    state.topic = ack.topic;
    if (chat.isActive(state)) view.renderRoomHeader(chat.store);
  }
  if (ack.left) chat.forget(ack.left);
  if (ack.ephemeral) view.toast(`${ack.ephemeral.command}: ${ack.ephemeral.text}`, "info");
  return null;
}
