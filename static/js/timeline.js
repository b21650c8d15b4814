// Drawing the conversation: messages (grouped by author), notices, the "new messages" divider
// and the messages still on their way. The list's children match room.items one to one.
import { byId, el, fill } from "./dom.js";
import { continues, fullTime, hueOf, initial, shortTime } from "./format.js";
import { mentions, richText } from "./richtext.js";

const PENDING_LABELS = {
  sending: "Sending...",
  waiting: "Waiting for the connection...",
  retrying: "No answer yet, trying again...",
  failed: "Not sent",
};

export function avatarInto(node, name) {
  node.textContent = initial(name);
  node.dataset.hue = String(hueOf(name));
}

function avatar(name, className = "avatar") {
  const node = el("span", { className, attrs: { "aria-hidden": "true" } });
  avatarInto(node, name);
  return node;
}

function authorLine(name, guest, ...extra) {
  return el("div", { className: "msg-meta" },
    el("span", { className: "msg-author", text: name }),
    guest ? el("span", { className: "tag", text: "guest", title: "Chatting as a guest, without an account" }) : null,
    ...extra);
}

function messageNode(item, me) {
  const time = el("time", { text: shortTime(item.created_at), title: fullTime(item.created_at),
    attrs: { datetime: item.created_at } });
  const text = el("div", { className: "msg-text" }, ...richText(item.text, me));
  const node = el("li", { className: "msg", dataset: { id: String(item.id) } },
    avatar(item.author), el("div", { className: "msg-body" }, authorLine(item.author, item.guest, time), text));
  if (item.author === me) node.classList.add("mine");
  else if (mentions(item.text, me)) node.classList.add("mentions-me");
  return node;
}

function itemNode(item, me) {
  if (item.kind === "message") return messageNode(item, me);
  return el("li", { className: "notice", text: item.text });
}

/** Group a message under the one before it, unless the divider separates them. */
function markGroup(node, previous, item, dividerId) {
  if (!node) return;
  const grouped = continues(previous, item) && item.id !== dividerId;
  node.classList.toggle("continued", grouped);
}

/** Put the "New messages" line above the first message that came while the reader was away. */
export function renderDivider(room) {
  const list = byId("messages");
  const old = list.querySelector(".msg.first-new");
  if (old) {
    old.classList.remove("first-new");
    old.querySelector(".new-divider").remove();
  }
  const node = room && room.dividerId !== null && list.querySelector(`.msg[data-id="${room.dividerId}"]`);
  if (!node) return;
  node.classList.add("first-new");
  node.classList.remove("continued"); // the author line shows again below the divider
  const label = el("span", { text: "New messages" });
  node.prepend(el("div", { className: "new-divider", attrs: { role: "separator" } }, label));
}

/** Draw the whole timeline of the room in view (on switching rooms). */
export function renderTimeline(store) {
  const room = store.activeRoom;
  const list = byId("messages");
  const items = room ? room.items : [];
  fill(list, items.map((item) => itemNode(item, store.me)));
  items.forEach((item, i) => markGroup(list.children[i], items[i - 1], item, room.dividerId));
  renderDivider(room);
  renderHistoryStatus(room);
}

/** Draw one new item of the room in view at its index, and regroup its neighbour. */
export function insertItem(store, index) {
  const room = store.activeRoom;
  const { items } = room;
  const list = byId("messages");
  list.insertBefore(itemNode(items[index], store.me), list.children[index] || null);
  markGroup(list.children[index], items[index - 1], items[index], room.dividerId);
  markGroup(list.children[index + 1], items[index], items[index + 1], room.dividerId);
  if (items[index].id === room.dividerId) renderDivider(room);
}

/** Take away the item that was at `index` (a deleted message), and regroup what follows. */
export function removeItem(store, index) {
  const room = store.activeRoom;
  const list = byId("messages");
  const node = list.children[index];
  if (node) node.remove();
  markGroup(list.children[index], room.items[index - 1], room.items[index], room.dividerId);
}

/** A message on its way out; its state shows under the text, so it stays visible when grouped. */
function pendingNode(entry, me, account, grouped) {
  const body = el("div", { className: "msg-body" },
    authorLine(me, !account), el("div", { className: "msg-text", text: entry.text }), pendingStatus(entry));
  const node = el("li", { className: `msg mine pending ${entry.state}`, dataset: { clientId: entry.client_id } },
    avatar(me), body);
  node.classList.toggle("continued", grouped);
  return node;
}

function pendingStatus(entry) {
  const status = el("div", { className: "pending-actions" },
    el("span", { className: "pending-state", text: PENDING_LABELS[entry.state] }));
  if (entry.state !== "failed") return status;
  const id = entry.client_id;
  status.append(
    el("span", { className: "pending-error", text: entry.error || "" }),
    actionButton("Retry", "retry", id),
    actionButton("Discard", "discard", id));
  return status;
}

function actionButton(text, action, clientId) {
  return el("button", { type: "button", className: "link-btn", text, dataset: { action, clientId } });
}

/** The active room's messages on their way out, below the delivered ones. */
export function renderPending(store, entries) {
  fill(byId("pending"), entries.map((entry, i) => pendingNode(entry, store.me, store.account, i > 0)));
}

export function renderHistoryStatus(room) {
  const status = byId("history-status");
  let text = "";
  if (room && room.loadingOlder) text = "Loading older messages...";
  else if (room && room.reachedStart) text = `This is the beginning of #${room.name}.`;
  // The line keeps its height when empty, so showing "Loading..." never shifts the messages.
  status.textContent = text;
  // Older messages arrive as a batch; screen readers should not read them out as new.
  byId("messages").setAttribute("aria-busy", String(Boolean(room && room.loadingOlder)));
}
