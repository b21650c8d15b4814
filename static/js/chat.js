// The chat controller: server events and user actions change the store, then the view is redrawn.
import { Connection } from "./connection.js";
import { CATCH_UP_OVERLAP, fetchNewer, fetchOlder, HISTORY_PAGE, RESYNC_MS } from "./history.js";
import { notifyMention, pageHidden } from "./notify.js";
import { Outbox } from "./outbox.js";
import { PresenceNotices } from "./presence.js";
import * as view from "./render.js";
import { mentions } from "./richtext.js";
import { cannotScroll, followingBottom, keepingPosition, scrollToBottom } from "./scroll.js";
import { isDm, saved, Store } from "./store.js";
import { roomEvents } from "./room-events.js";
import { OTHERS_EXPIRE_MS, TypingNotifier } from "./typing.js";

const DEFAULT_ROOM = "general";
const ROOMS_PAGE = 200; // the server's largest page of the room directory
const ROOMS_PAGES = 10; // 2,000 rooms is more than a sidebar can show; the rest stay joinable by name
// Failures that resolve themselves once the connection is back.
const TRANSIENT = new Set(["offline", "timeout"]);

export class Chat {
  /** me: the nickname or account name; account: true when the session cookie says who we are. */
  constructor(me, { account = false, onRefused, resumed = false }) {
    this.store = new Store();
    Object.assign(this.store, { me, account, peers: saved.peers(me, account) });
    if (!account) this.store.guests.add(me);
    this.presence = new PresenceNotices(me, (room, user, step) => this.notePresence(room, user, step));
    this.conn = new Connection(account ? null : me, {
      onState: (state, attempt) => this.onState(state, attempt),
      onTransport: (name) => view.renderTransport(name),
      onConnect: (first) => this.onConnect(first),
      onRefused,
      events: { message: (message) => this.onMessage(message), ...roomEvents(this) },
    }, { resumed });
    this.typing = new TypingNotifier((room, typing) => this.conn.request("typing", { room, typing }));
    this.outbox = new Outbox(saved.outboxKey(me, account), {
      send: ({ room, text, client_id }) => this.conn.request("message", { room, text, client_id }),
      isConnected: () => this.ready && this.conn.connected,
      onDelivered: (entry, message) => this.addMessages(this.store.room(entry.room), [message], { fresh: true }),
      onChange: (entry) => entry.room === this.store.active && this.renderPending(),
    });
    this.onVisibility = () => this.seen();
    // Who was in each room, for the next load to show (greyed) until it has rejoined.
    this.onPageHide = () => saved.setMembers(me, account, [...this.store.rooms.values()]);
    this.ready = false; // connected and back in our rooms: the outbox may send
    this.connects = 0; // which connection an onConnect belongs to, should they overlap
  }

  start() {
    view.showChat(this.store.me);
    // Show the rooms of the last visit at once, with anything still waiting to be sent; they
    // are joined for real when the connection is up.
    const known = saved.members(this.store.me, this.store.account);
    for (const name of this.roomsToJoin()) {
      const members = known[name];
      if (Array.isArray(members)) this.store.room(name).members = members.filter((m) => typeof m === "string");
      else this.store.room(name);
    }
    const wanted = saved.active();
    this.store.active = this.store.rooms.has(wanted) ? wanted : this.store.rooms.keys().next().value || null;
    this.renderAll();
    document.addEventListener("visibilitychange", this.onVisibility);
    window.addEventListener("pagehide", this.onPageHide);
    this.resyncTimer = setInterval(() => this.resync(), RESYNC_MS);
    this.conn.open();
  }

  stop() {
    this.typing.stop();
    this.conn.close();
    clearInterval(this.resyncTimer);
    document.removeEventListener("visibilitychange", this.onVisibility);
    window.removeEventListener("pagehide", this.onPageHide);
    for (const room of this.store.rooms.values()) this.presence.forget(room);
  }

  request(event, data) {
    return this.conn.request(event, data);
  }

  renderAll() {
    view.renderRoomList(this.store);
    view.renderRoomHeader(this.store);
    view.renderTimeline(this.store);
    this.renderPending();
    view.renderMembers(this.store);
    view.renderTyping(this.store);
  }

  renderPending() {
    view.renderPending(this.store, this.store.active ? this.outbox.forRoom(this.store.active) : []);
  }

  isActive(room) {
    return this.store.active === room.name;
  }

  /** The rooms of the last visit, and any room a queued message is waiting for. */
  roomsToJoin() {
    const names = new Set(saved.rooms());
    this.outbox.rooms().forEach((name) => names.add(name));
    return names.size ? [...names] : [DEFAULT_ROOM];
  }

  // -- connection --------------------------------------------------------------------------------
  onState(state, attempt) {
    if (state !== "connected") {
      this.ready = false;
      for (const room of this.store.rooms.values()) room.membersStale = true;
    }
    view.renderConnState(state, attempt);
    view.renderMembers(this.store);
  }

  async onConnect(first) {
    const generation = ++this.connects;
    this.refreshRooms();
    const names = first ? this.roomsToJoin() : this.store.joinedNames();
    await Promise.all(names.map((name) => this.join(name, { quiet: true })));
    if (first && this.store.activeRoom && this.store.activeRoom.joined) this.activate(this.store.active);
    else if (first) this.activate(this.store.joinedNames()[0]);
    // Only now: a message must not reach a room before we are back in it.
    if (generation !== this.connects) return; // dropped meanwhile; the next connect carries on
    this.ready = this.conn.connected;
    this.outbox.pump();
  }

  /** The room directory, a page at a time (the server answers at most ROOMS_PAGE per request). */
  async refreshRooms() {
    const rooms = [];
    let after = null;
    for (let page = 0; page < ROOMS_PAGES; page += 1) {
      const ack = await this.request("rooms", after ? { limit: ROOMS_PAGE, after } : { limit: ROOMS_PAGE });
      if (!ack.ok) return view.toast(`Could not list rooms: ${ack.error.message}`);
      rooms.push(...ack.rooms);
      after = ack.next;
      if (!after) break;
    }
    const listed = new Set(rooms.map((room) => room.name));
    const invited = [...this.store.invitations.values()].filter((room) => !listed.has(room.name));
    this.store.directory = [...rooms, ...invited];
    view.renderRoomList(this.store);
  }

  // -- rooms -------------------------------------------------------------------------------------
  /** Join (or, after a reconnect, rejoin) a room; answers the error, if any. */
  async join(name, { activate = false, quiet = false } = {}) {
    // Create it before asking, so live messages that beat the ack are kept.
    const room = this.store.room(name);
    const rejoin = room.joined; // after a reconnect: fetch only what we missed
    const after = room.catchUpFrom(CATCH_UP_OVERLAP);
    const before = room.members.slice();
    room.quietPresence = rejoin;
    const ack = await this.request("join", { room: name });
    room.quietPresence = false;
    if (!ack.ok) {
      if (!room.joined && !TRANSIENT.has(ack.error.code)) this.forget(name);
      if (quiet) view.toast(`Could not join ${this.store.label(name)}: ${ack.error.message}`);
      return ack.error;
    }
    room.joined = true;
    room.kind = ack.room ? ack.room.kind : room.kind;
    room.members = ack.members;
    room.membersStale = false;
    // Back after a drop: whoever is gone may only be reconnecting too (presence.js).
    if (rejoin) this.presence.rejoined(room, before, ack.members);
    this.learnPeer(name, [...ack.members, ...ack.history.map((message) => message.author)]);
    if (rejoin) await this.catchUp(room, after);
    else this.addHistory(room, ack.history);
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
  async catchUp(room, after, { away = true } = {}) {
    room.catchingUp = true;
    const { messages, error } = await fetchNewer(this.conn, room.name, after);
    room.catchingUp = false;
    if (error && away) view.toast(`Could not catch up on ${this.store.label(room.name)}: ${error.message}`);
    this.addMessages(room, messages, { fresh: true, away });
  }

  /**
   * The periodic check, or the server's `resync` (only `names`, if given): anything stored that
   * never reached us live shows up now.
   */
  resync(names = null) {
    if (!this.ready) return;
    for (const room of this.store.rooms.values()) {
      if (!room.joined || room.catchingUp || (names && !names.includes(room.name))) continue;
      this.catchUp(room, room.catchUpFrom(CATCH_UP_OVERLAP), { away: false });
    }
  }

  async leave(name) {
    const ack = await this.request("leave", { room: name });
    if (!ack.ok && !TRANSIENT.has(ack.error.code)) return view.toast(ack.error.message);
    this.forget(name);
  }

  forget(name) {
    const wasActive = this.store.active === name;
    if (this.store.rooms.has(name)) this.presence.forget(this.store.rooms.get(name));
    this.store.forget(name);
    saved.setRooms(this.store.joinedNames());
    if (wasActive && this.store.active) this.activate(this.store.active);
    else this.renderAll();
  }

  activate(name) {
    const room = this.store.rooms.get(name);
    if (!room) return;
    const previous = this.store.activeRoom;
    // The divider marks what was new when you came in; once you leave, all of it is read.
    if (previous && previous !== room) previous.dividerId = null;
    this.typing.stop();
    this.store.active = name;
    room.unread = 0;
    room.mentions = 0;
    saved.setActive(name);
    this.renderAll();
    scrollToBottom();
    this.fillScreen(room);
  }

  // -- messages ----------------------------------------------------------------------------------
  /**
   * Merge server messages into a room (deduped, in id order) and draw the new ones.
   * fresh: they are news to the reader (live, or caught up after a reconnect), so they count as
   * unread and may notify; away: they were said while we were disconnected.
   */
  addMessages(room, messages, { fresh = false, away = false } = {}) {
    const draw = () => messages.forEach((message) => this.addMessage(room, message, fresh, away));
    if (!this.isActive(room)) return draw();
    const older = room.oldestId !== null && messages.length && messages[0].id < room.oldestId;
    if (older) keepingPosition(draw);
    else followingBottom(draw, messages.some((m) => m.author === this.store.me && fresh && !away));
  }

  addMessage(room, message, fresh, away) {
    const mine = message.author === this.store.me;
    if (mine && message.client_id) this.outbox.delivered(message.client_id);
    const index = room.addMessage(message);
    if (index < 0) return;
    if (message.guest && !this.store.guests.has(message.author)) {
      this.store.guests.add(message.author);
      if (this.isActive(room)) view.renderMembers(this.store);
    }
    // Unread: not in front of the reader. New (divider): also what came while we were offline.
    const unread = fresh && !mine && (!this.isActive(room) || pageHidden());
    if ((unread || (fresh && !mine && away)) && room.dividerId === null) room.dividerId = message.id;
    if (this.isActive(room)) view.insertItem(this.store, index);
    if (isDm(room.name) && !mine) this.learnPeer(room.name, [message.author]);
    if (!unread) return;
    room.unread += 1;
    const forMe = mentions(message.text, this.store.me);
    // Everything in a DM is for me: it counts like a mention.
    if (forMe || isDm(room.name)) room.mentions += 1;
    view.renderRoomList(this.store);
    if (pageHidden() && forMe) {
      notifyMention(message, this.store.label(room.name), (name) => this.activate(name));
    }
  }

  /** The tab is visible again: what arrived in the room in view has been seen. */
  seen() {
    const room = this.store.activeRoom;
    if (pageHidden() || !room || !room.unread) return;
    room.unread = 0;
    room.mentions = 0;
    view.renderRoomList(this.store);
  }

  send(text) {
    const room = this.store.activeRoom;
    if (!room || !text.trim()) return false;
    this.typing.stop();
    followingBottom(() => this.outbox.add(room.name, text), true);
    return true;
  }

  retry(clientId) {
    this.outbox.retry(clientId);
  }

  discard(clientId) {
    this.outbox.discard(clientId);
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
      ack.messages.forEach((message) => this.addMessage(room, message, false, false));
      view.renderHistoryStatus(room);
    });
    this.fillScreen(room);
  }

  /** If the messages do not fill the pane there is nothing to scroll, so fetch more now. */
  fillScreen(room) {
    if (this.isActive(room) && room.joined && cannotScroll() && !room.reachedStart) this.loadOlder();
  }

  // -- presence and direct messages ------------------------------------------------------------
  /** Draw that `user` joined or left: a new line, or the last line if it is about presence too. */
  notePresence(room, user, step) {
    const { index, merged } = room.addPresence(user, step);
    if (!this.isActive(room)) return;
    followingBottom(() => (merged ? view.replaceItem(this.store, index) : view.insertItem(this.store, index)));
  }

  /**
   * The other person of a DM, from names seen in it (members, authors, who opened it). The
   * protocol names DMs by user ids only (dm-3-7) and gives no way to look the ids up, so the
   * page remembers the name once it has seen it.
   */
  learnPeer(name, names) {
    if (!isDm(name) || this.store.peers.has(name)) return;
    const other = names.find((candidate) => typeof candidate === "string" && !this.store.isMe(candidate));
    if (!other) return;
    this.store.peers.set(name, other);
    saved.setPeers(this.store.me, this.store.account, this.store.peers);
    view.renderRoomList(this.store);
    if (this.store.active === name) {
      view.renderRoomHeader(this.store);
      view.renderIntro(this.store);
    }
  }

  // -- live messages and typing -----------------------------------------------------------------
  onMessage(message) {
    const room = this.store.rooms.get(message.room);
    if (!room) return;
    this.setTyping(room, message.author, false);
    this.addMessages(room, [message], { fresh: true });
  }

  composing() {
    if (this.store.active && this.store.activeRoom.joined) this.typing.input(this.store.active);
  }

  setTyping(room, user, typing) {
    clearTimeout(room.typing.get(user));
    if (typing) room.typing.set(user, setTimeout(() => this.setTyping(room, user, false), OTHERS_EXPIRE_MS));
    else if (!room.typing.delete(user)) return;
    if (this.isActive(room)) view.renderTyping(this.store);
  }
}
