// Drawing the conversation: messages (grouped by author), notices, the "new messages" divider
// and the messages still on their way. The list's children match room.items one to one.
import { byId, el, fill } from "./dom.js";
import { continues, fullTime, hueOf, initial, shortTime } from "./format.js";
import { presenceDetail, presenceSentence } from "./presence.js";
import { mentions, richText } from "./richtext.js";
import { isDm } from "./store.js";

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

function avatar(name, guest) {
  // A guest's avatar is round: the one mark of a guest that is always on screen.
  const node = el("span", { className: guest ? "avatar guest" : "avatar", attrs: { "aria-hidden": "true" } });
  avatarInto(node, name);
  return node;
}

const GUEST_TITLE = "Chatting as a guest, without an account";

/** Name, time, and for a guest a "guest" tag that shows on hover (the name's tooltip says it too). */
function authorLine(name, guest, ...extra) {
  return el("div", { className: "msg-meta" },
    el("span", { className: "msg-author", text: name, title: guest ? `${name}: ${GUEST_TITLE.toLowerCase()}` : "" }),
    ...extra,
    guest ? el("span", { className: "tag", text: "guest", title: GUEST_TITLE }) : null);
}

function messageNode(item, me) {
  const time = el("time", { text: shortTime(item.created_at), title: fullTime(item.created_at),
    attrs: { datetime: item.created_at } });
  const text = el("div", { className: "msg-text" }, ...richText(item.text, me));
  const node = el("li", { className: "msg", dataset: { id: String(item.id) } },
    avatar(item.author, item.guest),
    el("div", { className: "msg-body" }, authorLine(item.author, item.guest, time), text));
  if (item.author === me) node.classList.add("mine");
  else if (mentions(item.text, me)) node.classList.add("mentions-me");
  return node;
}

function itemNode(item, me) {
  if (item.kind === "message") return messageNode(item, me);
  // Comings and goings, one line per run; the tooltip names everyone "3 others" stands for.
  return el("li", {
    className: "notice presence", text: presenceSentence(item.changes), title: presenceDetail(item.changes),
  });
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
  renderIntro(store);
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
  renderHistoryStatus(room);
  renderIntro(store);
}

/** Draw again the item at `index` (a presence line that took another change). */
export function replaceItem(store, index) {
  const node = byId("messages").children[index];
  if (node) node.replaceWith(itemNode(store.activeRoom.items[index], store.me));
}

/** Take away the item that was at `index` (a deleted message), and regroup what follows. */
export function removeItem(store, index) {
  const room = store.activeRoom;
  const list = byId("messages");
  const node = list.children[index];
  if (node) node.remove();
  markGroup(list.children[index], room.items[index - 1], room.items[index], room.dividerId);
  renderHistoryStatus(room);
  renderIntro(store);
}

/** A message on its way out; its state shows under the text, so it stays visible when grouped. */
function pendingNode(entry, me, account, grouped) {
  const body = el("div", { className: "msg-body" },
    authorLine(me, !account), el("div", { className: "msg-text", text: entry.text }), pendingStatus(entry));
  const node = el("li", { className: `msg mine pending ${entry.state}`, dataset: { clientId: entry.client_id } },
    avatar(me, !account), body);
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
  renderIntro(store);
}

export function renderHistoryStatus(room) {
  const status = byId("history-status");
  let text = "";
  if (room && room.loadingOlder) text = "Loading older messages...";
  else if (room && room.reachedStart && !room.empty) {
    text = isDm(room.name) ? "This is the beginning of your direct messages."
      : `This is the beginning of #${room.name}.`;
  }
  // The line keeps its height when empty, so showing "Loading..." never shifts the messages.
  status.textContent = text;
  // Older messages arrive as a batch; screen readers should not read them out as new.
  byId("messages").setAttribute("aria-busy", String(Boolean(room && room.loadingOlder)));
}

/** A room with nothing in it says what to do: write the first message, or bring people in. */
export function renderIntro(store) {
  const room = store.activeRoom;
  const intro = byId("room-intro");
  const show = Boolean(room) && room.joined && room.empty && !byId("pending").children.length;
  intro.hidden = !show;
  if (!show) return;
  const peer = store.peers.get(room.name);
  let heading;
  let hint;
  if (isDm(room.name)) {
    heading = peer ? `You and ${peer}` : "A direct conversation";
    hint = `This is the start of your direct messages${peer ? ` with ${peer}` : ""}. `
      + "Only the two of you can read them.";
  } else {
    heading = `Welcome to #${room.name}`;
    const invite = room.kind === "private" ? "Only people its owner invites can join it."
      : `To bring people in, tell them to join #${room.name}.`;
    hint = "Nothing has been said here yet. Write the first message below: everyone in the room sees it at "
      + `once, and whoever joins later can scroll back to it. ${invite}`;
  }
  fill(intro, [
    el("h3", { className: "intro-title", text: heading }),
    el("p", { className: "intro-hint", text: hint }),
  ]);
}
