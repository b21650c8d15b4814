// Drawing the conversation: messages (grouped by author) with their reactions, replies and
// actions, notices, the "new messages" divider and the messages still on their way. The list's
// children match room.items one to one. A message's files are drawn by attachments.js.
import { attachmentsNode, filesLine } from "./attachments.js";
import { byId, el, fill } from "./dom.js";
import { continues, fullTime, shortTime } from "./format.js";
import { presenceDetail, presenceSentence } from "./presence.js";
import { paintAvatar, paintName } from "./profiles.js";
import { mentions, richText } from "./richtext.js";
import { isDm } from "./store.js";

const PENDING_LABELS = {
  sending: "Sending...",
  waiting: "Waiting for the connection...",
  retrying: "No answer yet, trying again...",
  failed: "Not sent",
};

/** The person's avatar (profiles.js), else their initial on their colour. */
export function avatarInto(node, name, size = 64) {
  paintAvatar(node, name, size);
}

function avatar(name, guest) {
  // A guest's avatar is round: the one mark of a guest that is always on screen.
  const node = el("span", { className: guest ? "avatar guest" : "avatar", attrs: { "aria-hidden": "true" } });
  avatarInto(node, name);
  return node;
}

const GUEST_TITLE = "Chatting as a guest, without an account";

/**
 * Name, time, and for a guest a "guest" tag that shows on hover (the name's tooltip says it too).
 * The name is a button that opens the person's card (people.js); a message on its way out has
 * plain text.
 */
function authorLine(name, guest, ...extra) {
  const title = guest ? `${name}: ${GUEST_TITLE.toLowerCase()}` : "";
  const author = extra.length
    ? el("button", { type: "button", className: "msg-author", text: name, title, dataset: { action: "person", name } })
    : el("span", { className: "msg-author", text: name, title });
  if (!guest) paintName(author, name); // the display name, with the @name beside it
  return el("div", { className: "msg-meta" },
    author,
    ...extra,
    guest ? el("span", { className: "tag", text: "guest", title: GUEST_TITLE }) : null);
}

/** What an integration posted (an incoming webhook, a command's answer) says so by the name. */
function botTags(item) {
  if (!item.bot) return [];
  const shown = item.username || (item.invoked_by ? `${item.command} by ${item.invoked_by}` : null);
  return [el("span", { className: "bot-tag", text: "bot", title: "Posted by an integration" }),
    shown ? el("span", { className: "bot-as", text: shown }) : null];
}

function iconButton(action, label, icon, extra = {}) {
  return el("button", {
    type: "button", className: "msg-action", title: label,
    dataset: { action, focus: `act-${action}`, ...(extra.dataset || {}) },
    attrs: { "aria-label": label, ...(extra.attrs || {}) },
  }, el("span", { text: icon, attrs: { "aria-hidden": "true" } }));
}

/** The actions on a message, shown on hover and when it (or a control in it) has focus. */
function toolbar(item, store, inThread) {
  const bar = el("div", { className: "msg-actions", attrs: { role: "group", "aria-label": `Actions on ${item.author}'s message` } },
    iconButton("react", "Add a reaction", "☺"),
    inThread ? null : iconButton("thread", "Reply in thread", "↩"));
  if (store.canEdit(item)) bar.append(iconButton("edit", "Edit", "✎"));
  if (store.canPin(item.room)) {
    bar.append(iconButton("pin", item.pinned ? "Unpin" : "Pin", "📌", { attrs: { "aria-pressed": String(item.pinned) } }));
  }
  if (store.canDelete(item)) bar.append(iconButton("delete", "Delete", "🗑"));
  return bar;
}

/** "alice", "alice and bob", "alice, bob and carol". */
function names(list) {
  if (list.length <= 1) return list.join("");
  return `${list.slice(0, -1).join(", ")} and ${list[list.length - 1]}`;
}

/** Reactions as chips with counts: pressing one adds or takes back mine; the tooltip says who. */
function reactionsNode(item, store) {
  if (!item.reactions || !item.reactions.length) return null;
  const chips = item.reactions.map((reaction) => {
    const mine = reaction.users.some((user) => store.isMe(user));
    const who = `${names(reaction.users)} reacted with ${reaction.emoji}`;
    const chip = el("button", {
      type: "button", className: "reaction", title: who,
      dataset: { action: "toggle-reaction", emoji: reaction.emoji, focus: `chip-${reaction.emoji}` },
      attrs: {
        "aria-pressed": String(mine),
        "aria-label": `${reaction.emoji} ${reaction.count}: ${who}${mine ? " (press to take yours back)" : ""}`,
      },
    }, el("span", { className: "reaction-emoji", text: reaction.emoji }),
    el("span", { className: "reaction-count", text: String(reaction.count) }));
    if (mine) chip.classList.add("mine");
    return chip;
  });
  const add = el("button", {
    type: "button", className: "reaction add-reaction", title: "Add a reaction",
    dataset: { action: "react", focus: "add-reaction" }, attrs: { "aria-label": "Add a reaction" },
  }, el("span", { text: "+", attrs: { "aria-hidden": "true" } }));
  return el("div", { className: "reactions", attrs: { role: "group", "aria-label": "Reactions" } }, ...chips, add);
}

/** "(edited)" (it opens the earlier versions) and "Pinned", under the text. */
function flagsNode(item) {
  if (!item.edited_at && !item.pinned) return null;
  const flags = el("div", { className: "msg-flags" });
  if (item.pinned) flags.append(el("span", { className: "pin-mark", text: "📌 Pinned" }));
  if (item.edited_at) {
    flags.append(el("button", {
      type: "button", className: "edited-mark", text: "(edited)", title: `Edited ${fullTime(item.edited_at)}: show the versions`,
      dataset: { action: "versions", focus: "versions" }, attrs: { "aria-label": "Edited: show the versions" },
    }));
  }
  return flags;
}

function repliesNode(item, inThread) {
  if (inThread || item.reply_to || !item.reply_count) return null;
  const text = item.reply_count === 1 ? "1 reply" : `${item.reply_count} replies`;
  return el("button", {
    type: "button", className: "replies-link", text,
    dataset: { action: "thread", focus: "replies" }, attrs: { "aria-label": `${text}: open the thread` },
  });
}

/** The text being edited in place: Enter saves, Escape cancels (message-actions.js). */
function editorNode(editing) {
  const area = el("textarea", {
    className: "edit-text", rows: 1, maxLength: 4000, value: editing.draft,
    dataset: { focus: "editor" }, attrs: { "aria-label": "Edit the message (Enter saves, Escape cancels)" },
  });
  return el("div", { className: "msg-edit" }, area,
    el("div", { className: "edit-actions" },
      el("span", { className: "hint", text: "Enter saves, Shift+Enter starts a new line, Escape cancels." }),
      el("button", { type: "button", className: "btn btn-primary small", text: "Save", dataset: { action: "save-edit" } }),
      el("button", { type: "button", className: "btn small", text: "Cancel", dataset: { action: "cancel-edit" } })));
}

/**
 * A message; focusable (arrow keys move between messages, message-actions.js), its actions in a
 * small toolbar. inThread: drawn in the thread panel (no "Reply in thread", no "N replies").
 */
export function messageNode(item, store, { inThread = false } = {}) {
  const { me } = store;
  // A thread's root shows in the timeline too: the editor is where the edit was started.
  const editing = Boolean(store.editing) && store.editing.room === item.room && store.editing.id === item.id
    && Boolean(store.editing.inThread) === inThread;
  const time = el("time", { text: shortTime(item.created_at), title: fullTime(item.created_at),
    attrs: { datetime: item.created_at } });
  const text = editing ? editorNode(store.editing) : el("div", { className: "msg-text" },
    // "/me waves" reads "* alice waves"
    item.action ? el("span", { className: "me-action", text: `* ${item.author} ` }) : null,
    ...richText(item.text, me));
  const footer = [reactionsNode(item, store), repliesNode(item, inThread)].filter(Boolean);
  const node = el("li", { className: "msg", dataset: { id: String(item.id), room: item.room }, attrs: { tabindex: "-1" } },
    avatar(item.author, item.guest),
    el("div", { className: "msg-body" }, authorLine(item.author, item.guest, time, ...botTags(item)), text,
      attachmentsNode(item.files, { canOpen: store.account }), flagsNode(item),
      footer.length ? el("div", { className: "msg-footer" }, ...footer) : null),
    toolbar(item, store, inThread));
  if (item.author === me) node.classList.add("mine");
  else if (mentions(item.text, me) || mentionedByServer(item, me)) node.classList.add("mentions-me");
  if (item.pinned) node.classList.add("pinned");
  if (item.action) node.classList.add("action");
  if (editing) node.classList.add("editing");
  controlsFocusable(node, false);
  return node;
}

/** The server found the message mentions me: by name, or @room / @here (issue 18). */
function mentionedByServer(item, me) {
  const named = Array.isArray(item.mentions) && Boolean(me) && item.mentions.some((name) => name.toLowerCase() === me.toLowerCase());
  return named || item.mentions_all === "room" || item.mentions_all === "here";
}

/**
 * A message's controls (its links, name, chips, toolbar) join the tab order only while focus is
 * in the message (message-actions.js): Tab goes from message to message through the roving
 * stop, then into the one you are on.
 */
export function controlsFocusable(node, on) {
  for (const control of node.querySelectorAll("a[href], button, textarea")) control.tabIndex = on ? 0 : -1;
}

function itemNode(item, store) {
  if (item.kind === "message") return messageNode(item, store);
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
  fill(list, items.map((item) => itemNode(item, store)));
  items.forEach((item, i) => markGroup(list.children[i], items[i - 1], item, room.dividerId));
  keepTabStop(list);
  renderDivider(room);
  renderHistoryStatus(room);
  renderNewerStatus(room);
  renderIntro(store);
}

/** Draw one new item of the room in view at its index, and regroup its neighbour. */
export function insertItem(store, index) {
  const room = store.activeRoom;
  const { items } = room;
  const list = byId("messages");
  list.insertBefore(itemNode(items[index], store), list.children[index] || null);
  markGroup(list.children[index], items[index - 1], items[index], room.dividerId);
  markGroup(list.children[index + 1], items[index], items[index + 1], room.dividerId);
  keepTabStop(list);
  if (items[index].id === room.dividerId) renderDivider(room);
  renderHistoryStatus(room);
  renderIntro(store);
}

/** Draw again the item at `index` (a message that changed, a presence line that took another change). */
export function replaceItem(store, index) {
  const room = store.activeRoom;
  const list = byId("messages");
  const node = list.children[index];
  if (!node) return;
  const fresh = itemNode(room.items[index], store);
  replaceKeepingFocus(node, fresh);
  markGroup(fresh, room.items[index - 1], room.items[index], room.dividerId);
  if (node.classList.contains("first-new")) renderDivider(room);
}

/**
 * The messages of a list take part in the tab order through one of them (a "roving" tab stop:
 * message-actions.js moves it with the arrow keys), so Tab does not walk every message.
 */
export function keepTabStop(list) {
  const stop = list.querySelector(':scope > .msg[tabindex="0"]');
  // While the reader is among the messages the stop stays where they put it; otherwise Tab
  // comes in at the newest message.
  if (stop && list.contains(document.activeElement)) return;
  const messages = list.querySelectorAll(":scope > .msg");
  const last = messages[messages.length - 1];
  if (stop && stop !== last) stop.tabIndex = -1;
  if (last) last.tabIndex = 0;
}

/** Where focus is inside a message: the message itself or one of its controls (data-focus). */
function focusIn(node) {
  const active = document.activeElement;
  if (!active || !node.contains(active)) return null;
  const where = { key: active === node ? null : active.dataset.focus || null };
  if (active.tagName === "TEXTAREA") where.selection = [active.selectionStart, active.selectionEnd];
  return where;
}

function restoreFocus(node, where) {
  if (!where) return;
  const target = (where.key && node.querySelector(`[data-focus="${CSS.escape(where.key)}"]`)) || node;
  target.focus({ preventScroll: true });
  if (where.selection && target.setSelectionRange) target.setSelectionRange(...where.selection);
}

/** Swap a message's node for a new drawing of it; focus stays on the same control. */
export function replaceKeepingFocus(node, fresh) {
  const where = focusIn(node);
  if (node.tabIndex === 0) fresh.tabIndex = 0;
  node.replaceWith(fresh);
  restoreFocus(fresh, where);
}

/** Fill a list of messages anew (the thread panel), keeping focus on the same control. */
export function fillKeepingFocus(list, nodes) {
  const active = document.activeElement;
  const old = active && list.contains(active) ? active.closest(".msg[data-id]") : null;
  const where = old ? focusIn(old) : null;
  const stop = list.querySelector(':scope > .msg[tabindex="0"]');
  fill(list, nodes);
  const find = (id) => list.querySelector(`:scope > .msg[data-id="${id}"]`);
  const restop = stop && find(stop.dataset.id);
  if (restop) restop.tabIndex = 0;
  const fresh = old && find(old.dataset.id);
  if (fresh) restoreFocus(fresh, where);
  keepTabStop(list);
}

/** Take away the item that was at `index` (a deleted message), and regroup what follows. */
export function removeItem(store, index) {
  const room = store.activeRoom;
  const list = byId("messages");
  const node = list.children[index];
  const hadFocus = node && node.contains(document.activeElement);
  if (node) node.remove();
  markGroup(list.children[index], room.items[index - 1], room.items[index], room.dividerId);
  keepTabStop(list);
  // Focus was on the message that went: the one now in its place (or above) takes it.
  const next = list.children[index] || list.children[index - 1];
  if (hadFocus && next && next.matches(".msg")) moveTabStop(list, next);
  renderHistoryStatus(room);
  renderIntro(store);
}

/** Make `node` the list's tab stop and focus it. */
export function moveTabStop(list, node) {
  for (const other of list.querySelectorAll(':scope > .msg[tabindex="0"]')) other.tabIndex = -1;
  node.tabIndex = 0;
  node.focus();
}

/** A message on its way out; its state shows under the text, so it stays visible when grouped. */
export function pendingNode(entry, me, account, grouped) {
  const files = filesLine(entry.files);
  const body = el("div", { className: "msg-body" },
    authorLine(me, !account), el("div", { className: "msg-text", text: entry.text }),
    files ? el("div", { className: "pending-files" }, files) : null, pendingStatus(entry));
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

/** Under a stretch of the past (a search result opened in its context): newer messages coming. */
export function renderNewerStatus(room) {
  const status = byId("newer-status");
  const loading = Boolean(room) && (room.loadingNewer || room.jumping);
  status.hidden = !room || !(room.detached || loading);
  status.textContent = loading ? "Loading newer messages..." : "";
}

/**
 * The button to the live end: "Jump to latest" under a stretch of the past (always shown
 * then), "New messages" when something arrived below while the reader scrolled up (scroll.js
 * shows it). hide: the reader is at the bottom.
 */
export function renderJumpLatest(room, { hide = false } = {}) {
  const button = byId("jump-latest");
  const detached = Boolean(room) && room.detached;
  let text = "New messages ↓";
  if (detached) text = room.newsBeyond ? "New messages: jump to latest ↓" : "Jump to latest ↓";
  button.textContent = text;
  if (detached) button.hidden = false;
  else if (hide) button.hidden = true;
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
