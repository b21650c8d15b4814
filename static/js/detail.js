// The side panel beside the conversation: a thread (its root, its replies and a composer for
// more) or the room's pinned messages. Drawn from the store like the rest (store.detail says
// what is open); user text goes through richText / textContent only.
import { filesLine } from "./attachments.js";
import { byId, el, fill } from "./dom.js";
import { continues, fullTime, shortTime } from "./format.js";
import { renderMentions } from "./mentions-view.js";
import { richText } from "./richtext.js";
import { fillKeepingFocus, messageNode, pendingNode } from "./timeline.js";

const NEAR_BOTTOM_PX = 60;
const TITLES = { thread: "Thread", pins: "Pinned messages", search: "Search", integrations: "Integrations", mentions: "Mentions" };

/** Show or hide the panel and draw its pin list; the thread has its own call (renderThread). */
export function renderDetail(store) {
  const { detail } = store;
  const panel = byId("detail");
  const chat = byId("chat");
  panel.hidden = !detail;
  chat.dataset.detail = detail ? detail.mode : "";
  byId("open-pins").setAttribute("aria-expanded", String(Boolean(detail && detail.mode === "pins")));
  byId("open-integrations").setAttribute("aria-expanded", String(Boolean(detail && detail.mode === "integrations")));
  byId("open-mentions").setAttribute("aria-expanded", String(Boolean(detail && detail.mode === "mentions")));
  // On a wide screen the panel takes the member column's place (app.css).
  if (window.matchMedia("(min-width: 1101px)").matches) {
    byId("toggle-members").setAttribute("aria-expanded", String(!detail && chat.dataset.members !== "hidden"));
  }
  if (!detail) return;
  byId("detail-title").textContent = TITLES[detail.mode];
  // Search results come from any room: search.js says what was searched for instead.
  if (detail.mode !== "search" && detail.mode !== "mentions") byId("detail-room").textContent = store.label(detail.room);
  byId("thread-view").hidden = detail.mode !== "thread";
  byId("pins-view").hidden = detail.mode !== "pins";
  byId("search-view").hidden = detail.mode !== "search";
  byId("integrations-view").hidden = detail.mode !== "integrations"; // integrations.js draws it
  byId("mentions-view").hidden = detail.mode !== "mentions";
  if (detail.mode === "pins") renderPins(store);
  if (detail.mode === "mentions") renderMentions(store);
}

function grouped(list, items) {
  items.forEach((item, i) => list.children[i]?.classList.toggle("continued", continues(items[i - 1], item)));
}

/** The open thread: its root, the replies we hold, those on their way, and what is loading. */
export function renderThread(store, pending) {
  const { detail } = store;
  if (!detail || detail.mode !== "thread") return;
  const room = store.rooms.get(detail.room);
  const root = (room && room.message(detail.rootId)) || detail.root;
  const body = byId("thread-body");
  const stick = body.scrollHeight - body.scrollTop - body.clientHeight < NEAR_BOTTOM_PX;
  fillKeepingFocus(byId("thread-root"), root ? [messageNode(root, store, { inThread: true })] : []);
  const replies = room ? room.replies(detail.rootId) : [];
  fillKeepingFocus(byId("thread-list"), replies.map((reply) => messageNode(reply, store, { inThread: true })));
  grouped(byId("thread-list"), replies);
  fill(byId("thread-pending"), pending.map((entry, i) => pendingNode(entry, store.me, store.account, i > 0)));
  const status = byId("thread-status");
  const count = root ? root.reply_count : replies.length;
  const parts = [];
  if (detail.loading) parts.push(el("span", { text: "Loading replies..." }));
  else if (detail.more) {
    parts.push(el("button", { type: "button", className: "link-btn", text: "Show earlier replies", dataset: { action: "earlier" } }));
  } else parts.push(el("span", { text: count === 0 ? "No replies yet." : count === 1 ? "1 reply" : `${count} replies` }));
  fill(status, parts);
  if (stick) body.scrollTop = body.scrollHeight;
}

export function scrollThreadToEnd() {
  const body = byId("thread-body");
  body.scrollTop = body.scrollHeight;
}

export function focusThreadComposer() {
  byId("thread-text").focus();
}

function renderPins(store) {
  const { detail } = store;
  const status = byId("pins-status");
  const list = byId("pin-list");
  if (detail.error) status.textContent = `Could not read the pins: ${detail.error}`;
  else if (detail.pins === null) status.textContent = "Loading...";
  else if (!detail.pins.length) status.textContent = `Nothing is pinned in ${store.label(detail.room)} yet.`;
  else status.textContent = detail.pins.length === 1 ? "1 pinned message" : `${detail.pins.length} pinned messages`;
  const room = store.rooms.get(detail.room);
  fill(list, (detail.pins || []).map((pin) => pinNode(pin, store, room)));
}

function pinNode(pin, store, room) {
  const time = el("time", { text: shortTime(pin.created_at), title: fullTime(pin.created_at), attrs: { datetime: pin.created_at } });
  const actions = el("div", { className: "pin-actions" });
  // Wherever it is: one further back than the loaded history is opened in its context.
  if (room) {
    actions.append(el("button", { type: "button", className: "link-btn", text: "Show", dataset: { action: "show-pin" },
      attrs: { "aria-label": `Show ${pin.author}'s message in the conversation` } }));
  }
  if (store.canPin(pin.room)) {
    actions.append(el("button", { type: "button", className: "link-btn", text: "Unpin", dataset: { action: "unpin" },
      attrs: { "aria-label": `Unpin ${pin.author}'s message` } }));
  }
  return el("li", { className: "pin", dataset: { id: String(pin.id) } },
    el("div", { className: "msg-meta" }, el("span", { className: "msg-author", text: pin.author }), time),
    el("div", { className: "msg-text" }, ...richText(pin.text, store.me)),
    pin.files && pin.files.length ? el("div", { className: "pin-files" }, filesLine(pin.files)) : null,
    el("div", { className: "pin-by", text: `Pinned by ${pin.pinned_by || "someone"} ${shortTime(pin.pinned_at)}`,
      title: fullTime(pin.pinned_at) }),
    actions);
}

// -- focus -----------------------------------------------------------------------------------------
function messageIn(listIds, id) {
  for (const listId of listIds) {
    const node = byId(listId).querySelector(`:scope > .msg[data-id="${id}"]`);
    if (node) return node;
  }
  return null;
}

/** Put the caret at the end of the editor of message `id`. */
export function focusEditor(room, id, inThread) {
  const node = messageIn(inThread ? ["thread-root", "thread-list"] : ["messages"], id);
  const area = node && node.querySelector(".edit-text");
  if (!area) return;
  area.focus();
  area.setSelectionRange(area.value.length, area.value.length);
  area.scrollIntoView({ block: "nearest" });
}

/** After an edit: back to the composer it started from, or to the message. */
export function focusAfterEdit(editing) {
  if (editing.from === "composer") return byId("composer-text").focus();
  if (editing.from === "thread") return byId("thread-text").focus();
  const node = messageIn(editing.inThread ? ["thread-root", "thread-list"] : ["messages"], editing.id);
  if (node) node.focus();
}

const FLASH_MS = 2000;

/**
 * Scroll message `id` of the timeline (or of another list of messages: "thread-list") into
 * view, focus it and make it flash for a moment; false if it is not there.
 */
export function revealMessage(id, listId = "messages") {
  const node = messageIn([listId], id);
  if (!node) return false;
  for (const other of byId(listId).querySelectorAll(':scope > .msg[tabindex="0"]')) other.tabIndex = -1;
  node.tabIndex = 0;
  node.scrollIntoView({ block: "center" });
  node.focus({ preventScroll: true });
  node.classList.remove("flash");
  void node.offsetWidth; // restart the animation
  node.classList.add("flash");
  clearTimeout(node.flashTimer);
  // Also without the animation (reduced motion: an outline instead), the mark goes again.
  node.flashTimer = setTimeout(() => node.classList.remove("flash"), FLASH_MS);
  return true;
}
