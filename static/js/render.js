// Drawing the state into the page. User text only ever goes through textContent (see dom.js).
import { byId, el, fill } from "./dom.js";
import { continues, fullTime, hueOf, initial, shortTime, typingSentence } from "./format.js";

const PENDING_LABELS = {
  sending: "Sending...",
  waiting: "Waiting for the connection...",
  failed: "Not sent",
};
const CONN_LABELS = {
  connecting: "connecting",
  connected: "connected",
  reconnecting: "reconnecting",
  offline: "offline",
};

// -- screens -----------------------------------------------------------------------------------
export function showLogin(name, message) {
  byId("chat").hidden = true;
  byId("login").hidden = false;
  const input = byId("nickname");
  if (name) input.value = name;
  byId("login-error").textContent = message || "";
  input.setAttribute("aria-invalid", message ? "true" : "false");
  input.focus();
}

export function showChat(me) {
  byId("login").hidden = true;
  byId("chat").hidden = false;
  byId("me-name").textContent = me;
  avatarInto(byId("me-avatar"), me);
}

export function renderConnState(state, attempt) {
  const label = attempt && state !== "connected" ? `${CONN_LABELS[state]} (attempt ${attempt})` : CONN_LABELS[state];
  byId("conn-state").dataset.state = state;
  byId("chat").dataset.conn = state;
  byId("conn-label").textContent = label;
}

// -- rooms -------------------------------------------------------------------------------------
function roomButton(store, name) {
  const room = store.rooms.get(name);
  const button = el("button", { type: "button", className: "room-btn", dataset: { room: name } },
    el("span", { className: "room-hash", text: "#", attrs: { "aria-hidden": "true" } }),
    el("span", { className: "room-name", text: name }),
  );
  if (room && room.joined) button.classList.add("joined");
  if (room && room.unread > 0 && name !== store.active) {
    button.append(el("span", { className: "badge", text: room.unread > 99 ? "99+" : String(room.unread),
      attrs: { "aria-label": `${room.unread} unread` } }));
  }
  if (name === store.active) button.setAttribute("aria-current", "page");
  button.title = room && room.joined ? `Open #${name}` : `Join #${name}`;
  return button;
}

export function renderRoomList(store) {
  fill(byId("room-list"), store.listedRooms().map((name) => el("li", {}, roomButton(store, name))));
}

export function renderRoomHeader(store) {
  const room = store.activeRoom;
  byId("room-title").textContent = room ? `#${room.name}` : "No room";
  byId("leave-room").disabled = !room;
  const text = byId("composer-text");
  text.disabled = !room;
  byId("composer").querySelector("button[type=submit]").disabled = !room;
  text.placeholder = room ? `Message #${room.name}` : "Join a room to chat";
  byId("empty-state").hidden = Boolean(room);
  document.title = room ? `#${room.name} · Parley` : "Parley";
}

// -- timeline ----------------------------------------------------------------------------------
function avatarInto(node, name) {
  node.textContent = initial(name);
  node.dataset.hue = String(hueOf(name));
}

function messageNode(item, me) {
  const avatar = el("span", { className: "avatar", attrs: { "aria-hidden": "true" } });
  avatarInto(avatar, item.author);
  const time = el("time", { text: shortTime(item.created_at), title: fullTime(item.created_at),
    attrs: { datetime: item.created_at } });
  const meta = el("div", { className: "msg-meta" },
    el("span", { className: "msg-author", text: item.author }), time);
  const node = el("li", { className: "msg", dataset: { id: String(item.id) } },
    avatar, el("div", { className: "msg-body" }, meta, el("p", { className: "msg-text", text: item.text })));
  if (item.author === me) node.classList.add("mine");
  return node;
}

function noticeNode(item) {
  return el("li", { className: "notice", text: item.text });
}

function itemNode(item, me) {
  return item.kind === "message" ? messageNode(item, me) : noticeNode(item);
}

function markGroup(node, previous, item) {
  if (node) node.classList.toggle("continued", continues(previous, item));
}

/** Draw the whole timeline of the room in view (on switching rooms). */
export function renderTimeline(store) {
  const room = store.activeRoom;
  const list = byId("messages");
  const items = room ? room.items : [];
  fill(list, items.map((item) => itemNode(item, store.me)));
  items.forEach((item, i) => markGroup(list.children[i], items[i - 1], item));
  renderPending(store);
  renderHistoryStatus(room);
}

/** Draw one new item of the room in view at its index, and regroup its neighbour. */
export function insertItem(store, index) {
  const { items } = store.activeRoom;
  const list = byId("messages");
  list.insertBefore(itemNode(items[index], store.me), list.children[index] || null);
  markGroup(list.children[index], items[index - 1], items[index]);
  markGroup(list.children[index + 1], items[index], items[index + 1]);
}

function pendingNode(pending, me) {
  const node = el("li", { className: `msg mine pending ${pending.state}`,
    dataset: { clientId: pending.client_id } });
  const avatar = el("span", { className: "avatar", attrs: { "aria-hidden": "true" } });
  avatarInto(avatar, me);
  const status = el("span", { className: "pending-state", text: PENDING_LABELS[pending.state] });
  const body = el("div", { className: "msg-body" },
    el("div", { className: "msg-meta" }, el("span", { className: "msg-author", text: me }), status),
    el("p", { className: "msg-text", text: pending.text }));
  if (pending.state === "failed") body.append(failedControls(pending));
  node.append(avatar, body);
  return node;
}

function failedControls(pending) {
  const id = pending.client_id;
  return el("div", { className: "pending-actions" },
    el("span", { className: "pending-error", text: pending.error || "" }),
    el("button", { type: "button", className: "link-btn", text: "Retry", dataset: { action: "retry", clientId: id } }),
    el("button", { type: "button", className: "link-btn", text: "Discard", dataset: { action: "discard", clientId: id } }));
}

export function renderPending(store) {
  const room = store.activeRoom;
  const pending = room ? [...room.pending.values()] : [];
  fill(byId("pending"), pending.map((item) => pendingNode(item, store.me)));
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

// -- members and typing ------------------------------------------------------------------------
export function renderMembers(store) {
  const room = store.activeRoom;
  const members = room ? room.members : [];
  byId("member-count").textContent = String(members.length);
  fill(byId("member-list"), members.map((name) => {
    const avatar = el("span", { className: "avatar small", attrs: { "aria-hidden": "true" } });
    avatarInto(avatar, name);
    const item = el("li", { className: "member" }, avatar, el("span", { text: name }));
    if (name === store.me) item.append(el("span", { className: "you", text: "(you)" }));
    return item;
  }));
}

export function renderTyping(store) {
  const room = store.activeRoom;
  byId("typing").textContent = room ? typingSentence(room.typingUsers()) : "";
}

// -- messages to the user ----------------------------------------------------------------------
const TOAST_MS = 6000;

/** A short, non-blocking notice in the corner; errors from acks land here. */
export function toast(message, kind = "error") {
  const node = el("div", { className: `toast ${kind}`, text: message });
  byId("toasts").append(node);
  setTimeout(() => node.remove(), TOAST_MS);
}
