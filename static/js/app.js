// Entry point: a logged-in user goes straight to the chat; a guest picks a nickname first.
import { Chat } from "./chat.js";
import { reportActivity } from "./activity.js";
import { wireAttachments } from "./composer-files.js";
import { openLinked } from "./deeplink.js";
import { byId } from "./dom.js";
import { wireMentions } from "./mentions-view.js";
import { wireMessageActions } from "./message-actions.js";
import * as notify from "./notify.js";
import * as people from "./people.js";
import { openRoomNotify } from "./room-notify.js";
import { showLogin, showNotifyPrompt, toast } from "./render.js";
import { isNearBottom, isNearTop } from "./scroll.js";
import { wireSearch } from "./search.js";
import { saved } from "./store.js";

let chat = null;
let stopReporting = () => {};
// The account name when the session cookie is logged in (index.html puts it on <body>), and
// whether it is an admin's (which controls to show; the server decides what is allowed).
const account = document.body.dataset.user || null;
const admin = Boolean(account) && document.body.dataset.admin === "true";

function startChat(name, resumed = false) {
  chat = new Chat(name, {
    account: Boolean(account),
    admin,
    resumed,
    // Send was pressed while files were uploading: now they are done.
    onReadyToSend: sendComposed,
    onRefused(error) {
      if (chat) chat.stop();
      chat = null;
      // A logged-in page refused for want of a login: its session ended (logged out elsewhere,
      // or the account was banned, which ends its logins).
      const ended = account && error.code === "auth_required";
      showLogin(account ? "" : name, ended ? "Your session has ended (logged out, or the account was banned or closed). "
        + "Log in again, or chat as a guest." : error.message);
    },
  });
  chat.start();
  stopReporting();
  stopReporting = reportActivity((data) => chat && chat.request("active", data));
  openLinked(chat); // a push notification's link: /?room=&message=
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

/** Up on an empty composer edits my last message (of the room, or of the open thread). */
function editLastOnUp(event, inThread) {
  if (event.key !== "ArrowUp" || event.target.value || event.altKey || event.shiftKey || event.ctrlKey || event.metaKey) {
    return false;
  }
  if (!chat || !chat.editLast({ inThread })) return false;
  event.preventDefault();
  return true;
}

function onComposerKey(event) {
  if (chat && chat.commands.key(event)) return; // the slash command menu (commands.js)
  if (editLastOnUp(event, false)) return;
  // Enter sends; Shift+Enter is a newline; Enter while an IME is composing belongs to the IME.
  if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
  event.preventDefault();
  sendComposed();
}

// -- the side panel: a thread, the pinned messages -----------------------------------------------
function sendReply() {
  const text = byId("thread-text");
  if (chat && chat.sendReply(text.value)) text.value = "";
}

function onThreadKey(event) {
  if (editLastOnUp(event, true)) return;
  if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
  event.preventDefault();
  sendReply();
}

function closeDetail() {
  if (!chat || !chat.store.detail) return;
  // Closing the search results goes back to the box they came from.
  const from = chat.store.detail.mode === "search" ? "search-input" : "composer-text";
  chat.closeDetail();
  byId(from).focus();
}

async function onPinAction(event) {
  const button = event.target.closest("button[data-action]");
  const item = event.target.closest(".pin[data-id]");
  if (!button || !item || !chat) return;
  const id = Number(item.dataset.id);
  const { room, pins } = chat.store.detail;
  if (button.dataset.action === "unpin") return chat.pin(room, id, false);
  if (button.dataset.action !== "show-pin") return undefined;
  // Loaded or not: one further back opens in its context, a reply in its thread.
  const pin = (pins || []).find((p) => p.id === id);
  const problem = await chat.openMessage(room, id, { replyTo: pin ? pin.reply_to : null });
  if (problem) chat.toast(problem);
  return undefined;
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
  // The side panel (a thread, the pins) takes the members' column: asking for them closes it.
  if (chat && chat.store.detail) {
    chat.closeDetail();
    chatNode.dataset.members = "";
  } else {
    chatNode.dataset.members = chatNode.dataset.members === "hidden" ? "" : "hidden";
  }
  syncMembersToggle();
}

function syncMembersToggle() {
  const chatNode = byId("chat");
  const shown = wide.matches ? chatNode.dataset.members !== "hidden" && !chatNode.dataset.detail
    : chatNode.dataset.panel === "members";
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
  if (isNearBottom()) chat.reachedBottom();
}

function wire() {
  const on = (id, type, handler) => byId(id).addEventListener(type, handler);
  on("login-form", "submit", onLogin);
  on("composer", "submit", (event) => {
    event.preventDefault();
    sendComposed();
  });
  on("composer-text", "keydown", onComposerKey);
  on("composer-text", "input", () => {
    if (!chat) return;
    chat.composing();
    chat.commands.update(byId("composer-text").value);
  });
  on("command-menu", "mousedown", (event) => {
    const option = event.target.closest("[data-name]");
    if (!option || !chat) return;
    event.preventDefault(); // the composer keeps focus
    chat.commands.choose(option.dataset.name);
  });
  on("join-form", "submit", onJoinRoom);
  on("room-list", "click", onRoomClick);
  on("dm-list", "click", onRoomClick);
  on("pending", "click", onPendingAction);
  on("refresh-rooms", "click", () => chat && chat.refreshRooms());
  on("leave-room", "click", () => chat && chat.store.active && chat.leave(chat.store.active));
  if (byId("sign-out")) on("sign-out", "click", signOut);
  on("scroller", "scroll", onScroll);
  on("jump-latest", "click", () => chat && chat.jumpToLatest());
  on("notify-yes", "click", async () => {
    showNotifyPrompt(false);
    await notify.ask();
  });
  on("notify-no", "click", () => {
    notify.dismiss();
    showNotifyPrompt(false);
  });
  wireMessageActions(() => chat, { onPerson: (name) => chat && people.showPerson(chat, name) });
  wireSearch(() => chat);
  wireMentions(() => chat);
  wireAttachments(() => chat, { onGuestDrop: () => toast("Guests cannot share files: log in or register to send them.", "info") });
  on("member-list", "click", (event) => {
    const button = event.target.closest("button[data-name]");
    if (button && chat) people.showPerson(chat, button.dataset.name);
  });
  on("new-room", "click", () => chat && people.newRoom(chat));
  on("new-dm", "click", () => chat && people.newDm(chat));
  on("invite", "click", () => chat && people.invite(chat));
  document.getElementById("room-notify")?.addEventListener("click", () => chat && openRoomNotify(chat));
  on("thread-composer", "submit", (event) => {
    event.preventDefault();
    sendReply();
  });
  on("thread-text", "keydown", onThreadKey);
  on("thread-status", "click", (event) => event.target.closest("[data-action=earlier]") && chat && chat.loadEarlierReplies());
  on("pin-list", "click", onPinAction);
  on("open-pins", "click", () => chat && chat.openPins());
  on("open-integrations", "click", () => chat && chat.integrations.toggle());
  on("close-detail", "click", closeDetail);
  on("toggle-sidebar", "click", () => openPanel("sidebar"));
  on("toggle-members", "click", () => openPanel("members"));
  on("scrim", "click", closePanels);
  wide.addEventListener("change", () => {
    closePanels();
    syncMembersToggle();
  });
  document.addEventListener("keydown", (event) => {
    // Escape inside the side panel closes it; elsewhere it closes the drawers.
    if (event.key === "Escape" && byId("detail").contains(event.target)) closeDetail();
    else if (event.key === "Escape") closePanels();
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
