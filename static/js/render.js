// Drawing the state into the page: screens, connection, rooms, members, typing, the tab title.
// User text only ever goes through textContent (see dom.js); the conversation is in timeline.js.
import { byId, el, fill } from "./dom.js";
import { typingSentence } from "./format.js";
import { avatarInto } from "./timeline.js";

export {
  insertItem, removeItem, renderDivider, renderHistoryStatus, renderPending, renderTimeline,
} from "./timeline.js";

const CONN_LABELS = {
  connecting: "connecting",
  connected: "connected",
  reconnecting: "reconnecting",
  offline: "offline",
};
const WILL_SEND = "Messages you write now are sent when the connection is back.";

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

// -- connection --------------------------------------------------------------------------------
function bannerText(state, attempt) {
  if (state === "connecting") return `Connecting to the server${attempt ? ` (attempt ${attempt})` : ""}...`;
  if (state === "reconnecting") return `Connection lost. Reconnecting (attempt ${attempt || 1})... ${WILL_SEND}`;
  return `You are offline. ${WILL_SEND}`;
}

export function renderConnState(state, attempt) {
  const label = attempt && state !== "connected" ? `${CONN_LABELS[state]} (attempt ${attempt})` : CONN_LABELS[state];
  byId("conn-state").dataset.state = state;
  byId("chat").dataset.conn = state;
  byId("conn-label").textContent = label;
  const banner = byId("conn-banner");
  banner.hidden = state === "connected";
  banner.dataset.state = state;
  if (state !== "connected") byId("conn-banner-text").textContent = bannerText(state, attempt);
}

/** "websocket" or "polling": shown in the tooltip, and handy for tests and bug reports. */
export function renderTransport(name) {
  const node = byId("conn-state");
  node.dataset.transport = name || "";
  node.title = name ? `Connected over ${name === "polling" ? "HTTP long-polling" : "WebSocket"}` : "";
}

// -- rooms -------------------------------------------------------------------------------------
function roomButton(store, name) {
  const room = store.rooms.get(name);
  const button = el("button", { type: "button", className: "room-btn", dataset: { room: name } },
    el("span", { className: "room-hash", text: "#", attrs: { "aria-hidden": "true" } }),
    el("span", { className: "room-name", text: name }),
  );
  if (room && room.joined) button.classList.add("joined");
  if (room && room.unread > 0) {
    button.append(el("span", { className: "badge", text: room.unread > 99 ? "99+" : String(room.unread),
      attrs: { "aria-label": `${room.unread} unread` } }));
  }
  if (name === store.active) button.setAttribute("aria-current", "page");
  button.title = room && room.joined ? `Open #${name}` : `Join #${name}`;
  return button;
}

export function renderRoomList(store) {
  fill(byId("room-list"), store.listedRooms().map((name) => el("li", {}, roomButton(store, name))));
  renderTitle(store);
}

/** "(3) #general · Parley": the unread count shows on the tab while you are elsewhere. */
export function renderTitle(store) {
  const room = store.activeRoom;
  const unread = store.unreadTotal;
  document.title = `${unread ? `(${unread}) ` : ""}${room ? `#${room.name} · ` : ""}Parley`;
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
  renderTitle(store);
}

// -- members and typing ------------------------------------------------------------------------
export function renderMembers(store) {
  const room = store.activeRoom;
  const members = room ? room.members : [];
  byId("member-count").textContent = String(members.length);
  fill(byId("member-list"), members.map((name) => {
    const avatar = el("span", { className: "avatar small", attrs: { "aria-hidden": "true" } });
    avatarInto(avatar, name);
    const label = el("span", { className: "member-name", text: name, title: name });
    const item = el("li", { className: "member" }, avatar, label);
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

export function showNotifyPrompt(show) {
  byId("notify-prompt").hidden = !show;
}
