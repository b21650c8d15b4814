// The chat controller: server events and user actions change the store, then the view is redrawn.
import { Connection } from "./connection.js";
import { fetchNewer, fetchOlder, HISTORY_PAGE } from "./history.js";
import * as view from "./render.js";
import { cannotScroll, followingBottom, isNearBottom, keepingPosition, scrollToBottom } from "./scroll.js";
import { saved, Store } from "./store.js";
import { OTHERS_EXPIRE_MS, TypingNotifier } from "./typing.js";

const DEFAULT_ROOM = "general";
// Failures that resolve themselves once the connection is back: the message waits and is resent.
const TRANSIENT = new Set(["offline", "timeout"]);

/** A client_id for a send; randomUUID needs a secure context, so fall back to getRandomValues. */
function newClientId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export class Chat {
  constructor(me, { onRefused, resumed = false }) {
    this.store = new Store();
    this.store.me = me;
    this.onRefused = onRefused;
    this.conn = new Connection(me, {
      onState: (state, attempt) => view.renderConnState(state, attempt),
      onConnect: (first) => this.onConnect(first),
      onRefused: (error) => this.onRefused(error),
      events: {
        message: (message) => this.onMessage(message),
        presence: (event) => this.onPresence(event),
        typing: (event) => this.onTyping(event),
      },
    }, { resumed });
    this.typing = new TypingNotifier((room, typing) => this.conn.request("typing", { room, typing }));
  }

  start() {
    view.showChat(this.store.me);
    this.renderAll();
    this.conn.open();
  }

  stop() {
    this.typing.stop();
    this.conn.close();
  }

  request(event, data) {
    return this.conn.request(event, data);
  }

  renderAll() {
    view.renderRoomList(this.store);
    view.renderRoomHeader(this.store);
    view.renderTimeline(this.store);
    view.renderMembers(this.store);
    view.renderTyping(this.store);
  }

  isActive(room) {
    return this.store.active === room.name;
  }

  // -- connection --------------------------------------------------------------------------------
  async onConnect(first) {
    this.refreshRooms();
    const remembered = saved.rooms();
    const names = first ? (remembered.length ? remembered : [DEFAULT_ROOM]) : this.store.joinedNames();
    await Promise.all(names.map((name) => this.join(name, { quiet: true })));
    if (first) this.activateRemembered();
    this.flushOutbox();
  }

  activateRemembered() {
    const wanted = saved.active();
    const joined = this.store.joinedNames();
    if (joined.length) this.activate(joined.includes(wanted) ? wanted : joined[0]);
  }

  async refreshRooms() {
    const ack = await this.request("rooms");
    if (!ack.ok) return view.toast(`Could not list rooms: ${ack.error.message}`);
    this.store.directory = ack.rooms;
    view.renderRoomList(this.store);
  }

  // -- rooms -------------------------------------------------------------------------------------
  /** Join (or, after a reconnect, rejoin) a room; answers the error, if any. */
  async join(name, { activate = false, quiet = false } = {}) {
    const known = this.store.rooms.has(name);
    // Create it before asking, so live messages that beat the ack are kept.
    const room = this.store.room(name);
    const after = room.newestId;
    const ack = await this.request("join", { room: name });
    if (!ack.ok) {
      if (!known) this.store.forget(name);
      if (quiet) view.toast(`Could not join #${name}: ${ack.error.message}`);
      return ack.error;
    }
    room.joined = true;
    room.members = ack.members;
    if (after === null) this.addHistory(room, ack.history);
    else await this.catchUp(room, after);
    saved.setRooms(this.store.joinedNames());
    if (activate || !this.store.active) this.activate(name);
    else if (this.isActive(room)) view.renderMembers(this.store);
    view.renderRoomList(this.store);
    return null;
  }

  addHistory(room, messages) {
    if (messages.length < HISTORY_PAGE) room.reachedStart = true;
    this.addMessages(room, messages);
  }

  /** After a reconnect: fetch what was said while we were away, page by page. */
  async catchUp(room, after) {
    const { messages, error } = await fetchNewer(this.conn, room.name, after);
    if (error) view.toast(`Could not catch up on #${room.name}: ${error.message}`);
    this.addMessages(room, messages);
  }

  async leave(name) {
    const ack = await this.request("leave", { room: name });
    if (!ack.ok && !TRANSIENT.has(ack.error.code)) return view.toast(ack.error.message);
    this.store.forget(name);
    saved.setRooms(this.store.joinedNames());
    if (this.store.active) this.activate(this.store.active);
    else this.renderAll();
  }

  activate(name) {
    const room = this.store.rooms.get(name);
    if (!room) return;
    this.typing.stop();
    this.store.active = name;
    room.unread = 0;
    saved.setActive(name);
    this.renderAll();
    scrollToBottom();
    this.fillScreen(room);
  }

  // -- messages ----------------------------------------------------------------------------------
  /** Merge server messages into a room (deduped, in id order) and draw the new ones. */
  addMessages(room, messages, { live = false } = {}) {
    const draw = () => messages.forEach((message) => this.addMessage(room, message, live));
    if (!this.isActive(room)) return draw();
    const older = room.oldestId !== null && messages.length && messages[0].id < room.oldestId;
    if (older) keepingPosition(draw);
    else followingBottom(draw, messages.some((m) => m.author === this.store.me && live));
  }

  addMessage(room, message, live) {
    const index = room.addMessage(message);
    if (message.author === this.store.me && room.pending.delete(message.client_id)) {
      if (this.isActive(room)) view.renderPending(this.store);
    }
    if (index < 0) return;
    if (this.isActive(room)) view.insertItem(this.store, index);
    else if (live && message.author !== this.store.me) {
      room.unread += 1;
      view.renderRoomList(this.store);
    }
  }

  send(text) {
    const room = this.store.activeRoom;
    if (!room || !text.trim()) return false;
    const pending = { client_id: newClientId(), text, state: "sending", error: null };
    room.pending.set(pending.client_id, pending);
    this.typing.stop();
    followingBottom(() => view.renderPending(this.store), true);
    this.deliver(room, pending);
    return true;
  }

  async deliver(room, pending) {
    pending.state = this.conn.connected ? "sending" : "waiting";
    if (pending.state === "sending") {
      const { client_id, text } = pending;
      const ack = await this.request("message", { room: room.name, text, client_id });
      if (ack.ok) this.addMessages(room, [ack.message], { live: true });
      else this.sendFailed(pending, ack.error);
    }
    if (this.isActive(room)) view.renderPending(this.store);
  }

  sendFailed(pending, error) {
    pending.state = TRANSIENT.has(error.code) ? "waiting" : "failed";
    pending.error = error.message;
  }

  /** Resend what waited for the connection; the same client_id makes a resend safe. */
  flushOutbox() {
    for (const room of this.store.rooms.values()) {
      for (const pending of room.pending.values()) {
        if (pending.state === "waiting") this.deliver(room, pending);
      }
    }
  }

  retry(clientId) {
    const room = this.store.activeRoom;
    const pending = room && room.pending.get(clientId);
    if (pending) this.deliver(room, pending);
  }

  discard(clientId) {
    const room = this.store.activeRoom;
    if (room && room.pending.delete(clientId)) view.renderPending(this.store);
  }

  // -- history -----------------------------------------------------------------------------------
  /** Scrolled to the top: fetch the page before the oldest message we have. */
  async loadOlder() {
    const room = this.store.activeRoom;
    if (!room || room.loadingOlder || room.reachedStart || room.oldestId === null) return;
    room.loadingOlder = true;
    view.renderHistoryStatus(room);
    const ack = await fetchOlder(this.conn, room.name, room.oldestId);
    room.loadingOlder = false;
    if (!ack.ok) {
      view.renderHistoryStatus(room);
      return view.toast(`Could not load older messages: ${ack.error.message}`);
    }
    if (ack.messages.length < HISTORY_PAGE) room.reachedStart = true;
    if (!this.isActive(room)) return;
    keepingPosition(() => {
      ack.messages.forEach((message) => this.addMessage(room, message, false));
      view.renderHistoryStatus(room);
    });
    this.fillScreen(room);
  }

  /** If the messages do not fill the pane there is nothing to scroll, so fetch more now. */
  fillScreen(room) {
    if (this.isActive(room) && cannotScroll() && !room.reachedStart) this.loadOlder();
  }

  // -- typing and presence -----------------------------------------------------------------------
  composing() {
    if (this.store.active) this.typing.input(this.store.active);
  }

  onMessage(message) {
    const room = this.store.rooms.get(message.room);
    if (!room) return;
    this.setTyping(room, message.author, false);
    this.addMessages(room, [message], { live: true });
  }

  onPresence({ room: name, user, event, members }) {
    const room = this.store.rooms.get(name);
    if (!room) return;
    const was = room.members.includes(user);
    room.members = members;
    const is = members.includes(user);
    if (!is) this.setTyping(room, user, false);
    if (user !== this.store.me && was !== is) this.addNotice(room, `${user} ${event === "join" ? "joined" : "left"}`);
    if (this.isActive(room)) view.renderMembers(this.store);
  }

  addNotice(room, text) {
    const index = room.addNotice(text);
    if (this.isActive(room)) followingBottom(() => view.insertItem(this.store, index));
  }

  onTyping({ room: name, user, typing }) {
    const room = this.store.rooms.get(name);
    if (room && user !== this.store.me) this.setTyping(room, user, typing);
  }

  setTyping(room, user, typing) {
    clearTimeout(room.typing.get(user));
    if (typing) room.typing.set(user, setTimeout(() => this.setTyping(room, user, false), OTHERS_EXPIRE_MS));
    else if (!room.typing.delete(user)) return;
    if (this.isActive(room)) view.renderTyping(this.store);
  }

  jumpToLatest() {
    scrollToBottom();
  }

  nearBottom() {
    return isNearBottom();
  }
}
