// Drawing the state into the page: screens, connection, rooms, members, typing, the tab title.
// User text only ever goes through textContent (see dom.js); the conversation is in timeline.js.
import { byId, el, fill } from "./dom.js";
import { typingSentence } from "./format.js";
import { memberText } from "./profiles.js";
import { isDm } from "./store.js";
import { avatarInto } from "./timeline.js";

export {
  insertItem, removeItem, renderDivider, renderHistoryStatus, renderIntro, renderJumpLatest, renderNewerStatus,
  renderPending, renderTimeline, replaceItem,
} from "./timeline.js";
export {
  focusAfterEdit, focusEditor, focusThreadComposer, renderDetail, renderThread, revealMessage, scrollThreadToEnd,
} from "./detail.js";

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
function unreadBadge(room) {
  const count = room.unread > 99 ? "99+" : String(room.unread);
  // A mention of me (or any message in a DM, which is always for me) gets a badge of its own kind.
  if (room.mentions > 0) {
    const label = `${room.unread} unread, ${room.mentions} for you`;
    return el("span", { className: "badge badge-mention", attrs: { "aria-label": label }, title: label },
      el("span", { className: "badge-at", text: "@", attrs: { "aria-hidden": "true" } }), count);
  }
  return el("span", { className: "badge", text: count, attrs: { "aria-label": `${room.unread} unread` } });
}

function roomButton(store, name) {
  const room = store.rooms.get(name);
  const dm = isDm(name);
  const label = store.label(name);
  let mark;
  const kind = (room && room.kind) || store.directory.find((listed) => listed.name === name)?.kind;
  if (dm) {
    mark = el("span", { className: "avatar tiny", attrs: { "aria-hidden": "true" } });
    avatarInto(mark, store.peers.get(name) || "?");
  } else if (kind === "private") {
    mark = el("span", { className: "room-hash", text: "🔒", title: "Private room", attrs: { "aria-hidden": "true" } });
  } else {
    mark = el("span", { className: "room-hash", text: "#", attrs: { "aria-hidden": "true" } });
  }
  const button = el("button", { type: "button", className: "room-btn", dataset: { room: name } },
    mark, el("span", { className: "room-name", text: dm ? label : name }));
  if (room && room.joined) button.classList.add("joined");
  if (room && room.unread > 0) {
    button.classList.add("unread");
    button.append(unreadBadge(room));
  }
  if (name === store.active) button.setAttribute("aria-current", "page");
  button.title = `${room && room.joined ? "Open" : "Join"} ${label}${kind === "private" ? " (private)" : ""}`;
  return button;
}

export function renderRoomList(store) {
  fill(byId("room-list"), store.listedRooms().map((name) => el("li", {}, roomButton(store, name))));
  const dms = store.listedDms();
  fill(byId("dm-list"), dms.map((name) => el("li", {}, roomButton(store, name))));
  // An account can start one: the section shows with its "+" even before the first.
  byId("dm-section").hidden = dms.length === 0 && !store.account;
  byId("new-dm").hidden = !store.account;
  // On a phone the room list is behind a button: a dot on it says something there is for you.
  const mentioned = [...store.rooms.values()].some((room) => room.mentions > 0 && room.name !== store.active);
  byId("toggle-sidebar").classList.toggle("has-mention", mentioned);
  renderTitle(store);
}

/** "(3) #general · Parley": the unread count shows on the tab while you are elsewhere. */
export function renderTitle(store) {
  const room = store.activeRoom;
  const unread = store.unreadTotal;
  document.title = `${unread ? `(${unread}) ` : ""}${room ? `${store.label(room.name)} · ` : ""}Parley`;
}

export function renderRoomHeader(store) {
  const room = store.activeRoom;
  const title = byId("room-title");
  const label = room ? store.label(room.name) : "No room";
  title.textContent = label;
  title.dataset.kind = room && isDm(room.name) ? "dm" : "room";
  title.title = room && isDm(room.name) ? `Direct messages with ${label}` : "";
  const topic = byId("room-topic"); // set with /topic
  topic.textContent = (room && room.topic) || "";
  topic.title = topic.textContent;
  topic.hidden = !topic.textContent;
  byId("leave-room").disabled = !room;
  byId("open-pins").disabled = !room;
  // Invitations are for private rooms, by their owner (as far as the page knows) or an admin.
  byId("invite").hidden = !(room && room.kind === "private" && store.canModerate(room.name));
  // The room's webhooks and commands: its owner's or an admin's (accounts; not in DMs).
  byId("open-integrations").hidden = !(room && store.account && !isDm(room.name) && store.canModerate(room.name));
  const text = byId("composer-text");
  const writable = Boolean(room) && !room.archived; // an archived room is read-only
  text.disabled = !writable;
  byId("composer").querySelector("button[type=submit]").disabled = !writable;
  const attach = byId("attach"); // accounts only (partials/chat.html)
  if (attach) attach.disabled = !writable;
  text.placeholder = !room ? "Join a room to chat"
    : room.archived ? `${label} is archived: it can be read, not written to` : `Message ${label}`;
  byId("empty-state").hidden = Boolean(room);
  renderTitle(store);
}

// -- members and typing ------------------------------------------------------------------------
const STALE_NOTES = {
  connecting: ["Connecting...", "These were here on your last visit."],
  reconnecting: ["Reconnecting...", "These were here when the connection dropped."],
  offline: ["Offline.", "These were here when the connection dropped."],
};

export function renderMembers(store) {
  const room = store.activeRoom;
  const members = room ? room.members : [];
  // Until the server has answered our (re)join, the list is the last one known: kept, greyed.
  const conn = byId("chat").dataset.conn || "connecting";
  const stale = Boolean(room) && (room.membersStale || conn !== "connected");
  byId("members").dataset.stale = String(stale);
  const note = byId("members-stale");
  note.hidden = !stale;
  const [state, which] = STALE_NOTES[conn] || STALE_NOTES.reconnecting;
  note.textContent = stale ? (members.length ? `${state} ${which}` : state) : "";
  const toggle = byId("toggle-members");
  toggle.classList.toggle("stale", stale);
  toggle.title = stale ? "Last known members; not connected" : "Show or hide the member list";
  byId("member-count").textContent = String(members.length);
  fill(byId("member-list"), members.map((name) => {
    const guest = store.guests.has(name);
    const avatar = el("span", {
      className: guest ? "avatar small guest" : "avatar small", attrs: { "aria-hidden": "true" },
    });
    avatarInto(avatar, name);
    const label = guest ? el("span", { className: "member-name", text: name }) : memberText(name);
    // The name opens the person's card (people.js).
    const button = el("button", {
      type: "button", className: "member-btn", title: guest ? `${name} (guest)` : name,
      dataset: { name }, attrs: { "aria-label": `${name}${guest ? ", guest" : ""}: show the card` },
    }, avatar, label);
    const item = el("li", { className: "member" }, button);
    if (name === store.me) item.append(el("span", { className: "you", text: "(you)" }));
    else if (guest) item.append(el("span", { className: "you", text: "guest" }));
    return item;
  }));
}

export function renderTyping(store) {
  const room = store.activeRoom;
  const users = room ? room.typingUsers() : [];
  const line = byId("typing");
  line.dataset.active = String(users.length > 0);
  if (!users.length) return line.replaceChildren();
  const dots = el("span", { className: "typing-dots", attrs: { "aria-hidden": "true" } },
    el("span"), el("span"), el("span"));
  line.replaceChildren(dots, typingSentence(users));
}

// -- messages to the user ----------------------------------------------------------------------
const TOAST_MS = 6000;

/** A short, non-blocking notice in the corner; errors from acks land here. */
export function toast(message, kind = "error") {
  const node = el("div", { className: `toast ${kind}`, text: message, title: "Click to dismiss" });
  node.addEventListener("click", () => node.remove());
  byId("toasts").append(node);
  setTimeout(() => node.remove(), TOAST_MS);
}

export function focusComposer() {
  byId("composer-text").focus();
}

export function showNotifyPrompt(show) {
  byId("notify-prompt").hidden = !show;
}
