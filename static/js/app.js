// Entry point: a logged-in user goes straight to the chat; a guest picks a nickname first.
import { Chat } from "./chat.js";
import { byId } from "./dom.js";
import * as notify from "./notify.js";
import { showLogin, showNotifyPrompt } from "./render.js";
import { isNearBottom, isNearTop, scrollToBottom } from "./scroll.js";
import { saved } from "./store.js";

let chat = null;
// The account name when the session cookie is logged in (index.html puts it on <body>).
const account = document.body.dataset.user || null;

function startChat(name, resumed = false) {
  chat = new Chat(name, {
    account: Boolean(account),
    resumed,
    onRefused(error) {
      if (chat) chat.stop();
      chat = null;
      showLogin(account ? "" : name, error.message);
    },
  });
  chat.start();
  showNotifyPrompt(notify.shouldAsk());
}

function signOut() {
  const name = chat ? chat.store.me : saved.name();
  if (chat) chat.stop();
  chat = null;
  saved.setName(null);
  showLogin(name, "");
}

function onLogin(event) {
  event.preventDefault();
  const name = byId("nickname").value.trim();
  if (!name) return showLogin("", "Pick a nickname first.");
  saved.setName(name);
  startChat(name);
}

// -- composer ----------------------------------------------------------------------------------
function sendComposed() {
  const text = byId("composer-text");
  if (chat && chat.send(text.value)) text.value = "";
}

/** Alt+Up / Alt+Down: the previous or next joined room. */
function onRoomKey(event) {
  if (!chat || !event.altKey || (event.key !== "ArrowUp" && event.key !== "ArrowDown")) return;
  const names = chat.store.sidebarOrder().filter((name) => chat.store.rooms.get(name)?.joined);
  const at = names.indexOf(chat.store.active);
  const next = names[at + (event.key === "ArrowUp" ? -1 : 1)];
  event.preventDefault();
  if (next) chat.activate(next);
}

function onComposerKey(event) {
  // Enter sends; Shift+Enter is a newline; Enter while an IME is composing belongs to the IME.
  if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
  event.preventDefault();
  sendComposed();
}

// -- rooms -------------------------------------------------------------------------------------
async function onJoinRoom(event) {
  event.preventDefault();
  const input = byId("join-room");
  const name = input.value.trim();
  const error = byId("join-error");
  if (!chat || !name) return;
  const failure = await chat.join(name, { activate: true });
  error.textContent = failure ? failure.message : "";
  input.setAttribute("aria-invalid", failure ? "true" : "false");
  if (!failure) {
    input.value = "";
    closePanels();
    byId("composer-text").focus();
  }
}

function onRoomClick(event) {
  const button = event.target.closest("button[data-room]");
  if (!button || !chat) return;
  const name = button.dataset.room;
  const room = chat.store.rooms.get(name);
  if (room && room.joined) chat.activate(name);
  else chat.join(name, { activate: true });
  closePanels();
  byId("composer-text").focus();
}

function onPendingAction(event) {
  const button = event.target.closest("button[data-action]");
  if (!button || !chat) return;
  if (button.dataset.action === "retry") chat.retry(button.dataset.clientId);
  else chat.discard(button.dataset.clientId);
}

// -- panels: drawers on narrow screens, the member column on wide ones ---------------------------
// Where the member list is a column of its own (app.css: wider than 1100px), "N online" shows
// and hides that column instead of opening a drawer.
const wide = window.matchMedia("(min-width: 1101px)");

function toggleMembersColumn() {
  const chatNode = byId("chat");
  chatNode.dataset.members = chatNode.dataset.members === "hidden" ? "" : "hidden";
  syncMembersToggle();
}

function syncMembersToggle() {
  const chatNode = byId("chat");
  const shown = wide.matches ? chatNode.dataset.members !== "hidden" : chatNode.dataset.panel === "members";
  byId("toggle-members").setAttribute("aria-expanded", String(shown));
}

function openPanel(panel) {
  if (panel === "members" && wide.matches) return toggleMembersColumn();
  const current = byId("chat").dataset.panel;
  const next = current === panel ? "" : panel;
  byId("chat").dataset.panel = next;
  byId("scrim").hidden = !next;
  byId("toggle-sidebar").setAttribute("aria-expanded", String(next === "sidebar"));
  syncMembersToggle();
}

function closePanels() {
  if (byId("chat").dataset.panel) openPanel("");
}

// -- wiring ------------------------------------------------------------------------------------
function onScroll() {
  if (!chat) return;
  if (isNearTop()) chat.loadOlder();
  if (isNearBottom()) byId("jump-latest").hidden = true;
}

function wire() {
  const on = (id, type, handler) => byId(id).addEventListener(type, handler);
  on("login-form", "submit", onLogin);
  on("composer", "submit", (event) => {
    event.preventDefault();
    sendComposed();
  });
  on("composer-text", "keydown", onComposerKey);
  on("composer-text", "input", () => chat && chat.composing());
  on("join-form", "submit", onJoinRoom);
  on("room-list", "click", onRoomClick);
  on("dm-list", "click", onRoomClick);
  on("pending", "click", onPendingAction);
  on("refresh-rooms", "click", () => chat && chat.refreshRooms());
  on("leave-room", "click", () => chat && chat.store.active && chat.leave(chat.store.active));
  if (byId("sign-out")) on("sign-out", "click", signOut);
  on("scroller", "scroll", onScroll);
  on("jump-latest", "click", scrollToBottom);
  on("notify-yes", "click", async () => {
    showNotifyPrompt(false);
    await notify.ask();
  });
  on("notify-no", "click", () => {
    notify.dismiss();
    showNotifyPrompt(false);
  });
  on("toggle-sidebar", "click", () => openPanel("sidebar"));
  on("toggle-members", "click", () => openPanel("members"));
  on("scrim", "click", closePanels);
  wide.addEventListener("change", () => {
    closePanels();
    syncMembersToggle();
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") closePanels();
    onRoomKey(event);
  });
}

function boot() {
  wire();
  syncMembersToggle();
  if (account) return startChat(account);
  const name = saved.name();
  if (name) startChat(name, true);
  else showLogin("", "");
}

boot();
