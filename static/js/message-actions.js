// What one can do to a message, wherever it is drawn (the timeline, a thread): the toolbar's
// buttons, the reaction chips, "N replies", "(edited)", an image opened full size, editing in
// place, and moving between messages with the arrow keys. One listener per list; the controller
// (chat.js) does the work.
import { filesLine, viewImage } from "./attachments.js";
import { confirmDialog, quote, versionsDialog } from "./dialogs.js";
import { byId, el } from "./dom.js";
import { openPicker } from "./emoji-picker.js";
import { controlsFocusable, moveTabStop } from "./timeline.js";

const LISTS = ["messages", "thread-root", "thread-list"];

/** The message control an event is about: {action, button, room, id, listId, inThread}. */
function controlOf(event) {
  const button = event.target.closest("[data-action]");
  const node = event.target.closest(".msg[data-id]");
  if (!button || !node || !node.contains(button)) return null;
  const listId = node.parentElement.id;
  return {
    action: button.dataset.action, button, room: node.dataset.room, id: Number(node.dataset.id),
    listId, inThread: listId !== "messages",
  };
}

/** Focus a control of message `id` (drawn again, maybe, since the event). */
function refocus(listId, id, key) {
  const node = byId(listId).querySelector(`:scope > .msg[data-id="${id}"]`);
  const target = node && ((key && node.querySelector(`[data-focus="${CSS.escape(key)}"]`)) || node);
  if (target) target.focus();
}

async function confirmDelete(chat, room, id) {
  const message = chat.store.rooms.get(room)?.message(id);
  if (!message) return;
  const whose = chat.store.isMe(message.author) ? "" : `This is ${message.author}'s message. `;
  const confirmed = await confirmDialog({
    title: "Delete this message?",
    body: [quote(message, chat.store.me), filesLine(message.files),
      el("p", { className: "dialog-intro", text: `${whose}It will be removed for everyone, with its reactions. This cannot be undone.` })],
    action: "Delete",
    danger: true,
  });
  if (confirmed) await chat.deleteMessage(room, id);
}

async function onClick(event, chat, onPerson) {
  const control = controlOf(event);
  if (!control || !chat) return;
  const { action, button, room, id, listId, inThread } = control;
  const message = chat.store.rooms.get(room)?.message(id);
  switch (action) {
    case "react":
      return openPicker(button, (emoji) => chat.react(room, id, emoji, true),
        () => refocus(listId, id, button.dataset.focus));
    case "toggle-reaction": {
      const { emoji } = button.dataset;
      return chat.react(room, id, emoji, !chat.reacted(room, id, emoji));
    }
    case "thread":
      return inThread ? byId("thread-text").focus() : chat.openThread(room, id);
    case "edit":
      return chat.startEdit(room, id, { inThread });
    case "save-edit":
      return chat.saveEdit(button.closest(".msg-edit").querySelector(".edit-text").value);
    case "cancel-edit":
      return chat.cancelEdit();
    case "pin":
      return message && chat.pin(room, id, !message.pinned);
    case "delete":
      return confirmDelete(chat, room, id);
    case "versions": {
      const versions = await chat.versions(room, id);
      if (versions) await versionsDialog(versions, chat.store.me);
      return refocus(listId, id, "versions");
    }
    case "person":
      return onPerson(button.dataset.name, button);
    case "view-file": {
      const file = message && (message.files || []).find((f) => String(f.id) === button.dataset.file);
      if (!file) return undefined;
      await viewImage(file);
      return refocus(listId, id, button.dataset.focus);
    }
    default:
      return undefined;
  }
}

/** Keys in the editor (Enter saves, Escape cancels) and on a focused message (arrows move). */
function onKey(event, chat) {
  if (!chat) return;
  if (event.target.matches(".edit-text")) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      chat.saveEdit(event.target.value);
    } else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      chat.cancelEdit();
    }
    return;
  }
  const node = event.target;
  if (!node.matches(".msg[data-id]") || event.altKey || event.ctrlKey || event.metaKey) return;
  const list = node.parentElement;
  const messages = [...list.querySelectorAll(":scope > .msg[data-id]")];
  const at = messages.indexOf(node);
  const next = {
    ArrowUp: messages[at - 1], ArrowDown: messages[at + 1], Home: messages[0], End: messages[messages.length - 1],
  }[event.key];
  if (next) {
    event.preventDefault();
    moveTabStop(list, next);
    next.scrollIntoView({ block: "nearest" });
  } else if (event.key === "Escape") {
    event.preventDefault();
    event.stopPropagation();
    byId(list.id === "messages" ? "composer-text" : "thread-text").focus();
  }
}

/** Listen on every list of messages; onPerson(name, button) opens someone's card. */
export function wireMessageActions(getChat, { onPerson = () => {} } = {}) {
  for (const id of LISTS) {
    const list = byId(id);
    list.addEventListener("click", (event) => onClick(event, getChat(), onPerson));
    list.addEventListener("keydown", (event) => onKey(event, getChat()));
    list.addEventListener("focusin", (event) => {
      const node = event.target.closest(".msg[data-id]");
      if (node) controlsFocusable(node, true);
    });
    list.addEventListener("focusout", (event) => {
      const node = event.target.closest(".msg[data-id]");
      if (node && !node.contains(event.relatedTarget)) controlsFocusable(node, false);
    });
    list.addEventListener("input", (event) => {
      const chat = getChat();
      if (chat && chat.store.editing && event.target.matches(".edit-text")) chat.store.editing.draft = event.target.value;
    });
  }
}
