// The chat controller: server events and user actions change the store, then the view is redrawn.
import { Tray } from "./composer-files.js";
import { Connection } from "./connection.js";
import { AROUND_PAGE, fetchAround, fetchLatest, fetchNewer, fetchOlder, HISTORY_PAGE, RESYNC_MS } from "./history.js";
import { notifyMention, pageHidden } from "./notify.js";
import { Outbox } from "./outbox.js";
import { CommandMenu, isCommand, runCommand } from "./commands.js";
import { Integrations } from "./integrations.js";
import { PresenceNotices } from "./presence.js";
import { applyProfile, connectProfiles, refreshProfiles } from "./profiles.js";
import { ReadState } from "./reads.js";
import * as view from "./render.js";
import { mentions } from "./richtext.js";
import { cannotScroll, followingBottom, isNearBottom, keepingPosition, scrollToBottom } from "./scroll.js";
import { Search } from "./search.js";
import { isDm, saved, Store } from "./store.js";
import { applyPresence, roomEvents } from "./room-events.js";
import { fetchChanges, GAP_SYNC_MS, outcome, SYNC_PAGES } from "./sync.js";
import { OTHERS_EXPIRE_MS, TypingNotifier } from "./typing.js";

const DEFAULT_ROOM = "general";
const ROOMS_PAGE = 200; // the server's largest page of the room directory
const ROOMS_PAGES = 10; // 2,000 rooms is more than a sidebar can show; the rest stay joinable by name
// Failures that resolve themselves once the connection is back.
const TRANSIENT = new Set(["offline", "timeout"]);

export class Chat {
  /** me: the nickname or account name; account: true when the session cookie says who we are. */
  constructor(me, { account = false, admin = false, onRefused, onReadyToSend = () => {}, resumed = false }) {
    this.store = new Store();
    Object.assign(this.store, {
      me, account, admin: account && admin, peers: saved.peers(me, account), owned: saved.owned(me, account),
    });
    if (!account) this.store.guests.add(me);
    this.presence = new PresenceNotices(me, (room, user, step) => this.notePresence(room, user, step));
    this.conn = new Connection(account ? null : me, {
      onState: (state, attempt) => this.onState(state, attempt),
      onTransport: (name) => view.renderTransport(name),
      onConnect: (first) => this.onConnect(first),
      onRefused,
      events: {
        message: (message) => this.onMessage(message),
        read: (event) => this.reads.onRead(event),
        receipt: (event) => this.reads.onReceipt(event),
        profile: applyProfile,
        ...roomEvents(this),
      },
    }, { resumed });
    this.reads = new ReadState(this); // the server's read state: badges, `read`, "seen"
    // People's display names, avatars and statuses (profiles.js); the member list shows statuses.
    connectProfiles((names) => this.conn.request("profiles", { names }), () => view.renderMembers(this.store));
    this.search = new Search(this);
    this.commands = new CommandMenu(this);
    this.integrations = new Integrations(this); // the room's webhooks and commands, for its owner
    // Files waiting to go with the next message; a send waiting for its uploads goes when they are done.
    this.tray = new Tray({
      active: () => this.store.active,
      onReady: (name) => name === this.store.active && onReadyToSend(),
    });
    this.typing = new TypingNotifier((room, typing) => this.conn.request("typing", { room, typing }));
    this.outbox = new Outbox(saved.outboxKey(me, account), {
      send: ({ room, text, client_id, reply_to, files }) => {
        const data = { room, text, client_id };
        if (reply_to) data.reply_to = reply_to;
        if (files && files.length) data.files = files.map((file) => file.id);
        return this.conn.request("message", data);
      },
      isConnected: () => this.ready && this.conn.connected,
      onDelivered: (entry, message) => this.addMessages(this.store.room(entry.room), [withFiles(message, entry)], { fresh: true }),
      onChange: (entry) => {
        if (entry.reply_to) this.renderThread(entry.room, entry.reply_to);
        else if (entry.room === this.store.active) this.renderPending();
      },
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
    this.reads.renderSeen();
    this.renderPending();
    view.renderMembers(this.store);
    view.renderTyping(this.store);
    this.tray.render();
    this.renderDetail();
  }

  renderDetail() {
    view.renderDetail(this.store);
    this.renderThread();
    if (this.store.detail && this.store.detail.mode === "search") this.search.render();
    if (this.store.detail && this.store.detail.mode === "integrations") this.integrations.render();
  }

  renderPending() {
    const entries = this.store.active ? this.outbox.forRoom(this.store.active) : [];
    view.renderPending(this.store, entries.filter((entry) => !entry.reply_to));
  }

  /** Draw the thread panel again, if it shows the thread of `rootId` in `name` (or any, without). */
  renderThread(name = null, rootId = null) {
    const { detail } = this.store;
    if (!detail || detail.mode !== "thread") return;
    if (name !== null && (detail.room !== name || (rootId !== null && detail.rootId !== rootId))) return;
    const pending = this.outbox.forRoom(detail.room).filter((entry) => entry.reply_to === detail.rootId);
    view.renderThread(this.store, pending);
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
    refreshProfiles(); // profile events missed while away
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
    this.reads.listed(rooms);
  }

  // -- rooms -------------------------------------------------------------------------------------
  /**
   * Join (or, after a reconnect, rejoin) a room; answers the error, if any. A rejoin brings the
   * room up to date from its change log (sync); `reload` loads it again from scratch.
   */
  async join(name, { activate = false, quiet = false, reload = false } = {}) {
    // Create it before asking, so live messages that beat the ack are kept.
    const room = this.store.room(name);
    const rejoin = room.joined && room.seq !== null && !reload;
    if (reload) this.clearRoom(room);
    const before = room.members.slice();
    room.quietPresence = rejoin;
    room.pendingPresence = []; // presence heard before the ack: applied over its list, below
    const ack = await this.request("join", { room: name });
    const pending = room.pendingPresence || [];
    room.pendingPresence = null;
    if (this.store.rooms.get(name) !== room) return null; // left or forgotten meanwhile
    if (!ack.ok) {
      room.quietPresence = false;
      if (!room.joined && !TRANSIENT.has(ack.error.code)) this.forget(name);
      if (quiet) view.toast(`Could not join ${this.store.label(name)}: ${ack.error.message}`);
      return ack.error;
    }
    room.joined = true;
    room.kind = ack.room ? ack.room.kind : room.kind;
    // Who owns it (protocol v2), wherever it was created: the owner's controls go by it.
    const moderated = this.store.canModerate(name);
    if (ack.room && ack.room.owner !== undefined) room.owner = ack.room.owner;
    if (ack.room) room.topic = ack.room.topic || null; // set with /topic
    if (ack.room) room.archived = Boolean(ack.room.archived); // read-only, by an admin
    room.members = ack.members;
    room.membersStale = false;
    // Back after a drop: whoever is gone may only be reconnecting too (presence.js).
    if (rejoin) this.presence.rejoined(room, before, ack.members);
    this.learnPeer(name, [...ack.members, ...ack.history.map((message) => message.author)]);
    for (const event of pending) applyPresence(this, room, event);
    room.quietPresence = false;
    if (rejoin) {
      await this.syncRoom(room, { away: true });
    } else {
      this.addHistory(room, ack.history);
      room.setSeq(ack.seq);
    }
    saved.setRooms(this.store.keptNames());
    if (activate || !this.store.active) this.activate(name);
    else if (this.isActive(room)) {
      view.renderMembers(this.store);
      view.renderRoomHeader(this.store);
      // Its messages were drawn before the ack said whose room it is: their controls change.
      if (moderated !== this.store.canModerate(name)) view.renderTimeline(this.store);
    }
    view.renderRoomList(this.store);
    this.reads.apply(room, ack);
    if (this.isActive(room)) this.reads.markRead();
    return null;
  }

  addHistory(room, messages) {
    if (messages.length < HISTORY_PAGE) room.reachedStart = true;
    this.addMessages(room, messages);
    room.paged(messages);
  }

  /** Forget what we hold of a room's messages, to load it again. */
  clearRoom(room) {
    room.clearMessages();
    if (this.store.editing && this.store.editing.room === room.name) this.store.editing = null;
    if (this.isActive(room)) view.renderTimeline(this.store);
  }

  // -- the change log (protocol v2) -----------------------------------------------------------
  /**
   * Bring a room up to date from its seq: every change since, page by page (the client rule,
   * docs/protocol.md). A log that was compacted past our seq, or one too long to replay, loads
   * the room again. away: after a reconnect, so what was said meanwhile is marked new.
   */
  async syncRoom(room, { away = false } = {}) {
    if (!room.joined || room.seq === null) return;
    if (room.syncing) {
      // Once this one is done, again (from where it got to), still "away" if either was.
      room.syncAgain = { away: away || Boolean(room.syncAgain && room.syncAgain.away) };
      return;
    }
    room.syncing = true;
    let next;
    try {
      next = await this.syncPages(room, away);
    } finally {
      room.syncing = false;
    }
    if (this.store.rooms.get(room.name) !== room) return; // left or forgotten meanwhile
    const again = room.syncAgain;
    room.syncAgain = null;
    if (next === "reload") await this.join(room.name, { reload: true, quiet: true });
    else if (again) await this.syncRoom(room, again);
  }

  /** The pages of a sync; answers "done", or "reload" when the log cannot bring us up to date. */
  async syncPages(room, away) {
    for (let page = 0; page < SYNC_PAGES; page += 1) {
      const ack = await fetchChanges(this.conn, room.name, room.seq);
      if (this.store.rooms.get(room.name) !== room) return "done";
      if (!ack.ok) {
        if (ack.error.code === "sync_expired") return "reload";
        if (away) view.toast(`Could not catch up on ${this.store.label(room.name)}: ${ack.error.message}`);
        return "done";
      }
      this.applyChanges(room, ack.changes, { away });
      room.setSeq(ack.seq);
      if (!ack.more) return "done";
    }
    return "reload"; // too far behind: loading the room again is quicker
  }

  /** Apply a page of a sync answer (each message changed since appears once). */
  applyChanges(room, changes, { away = false } = {}) {
    const created = [];
    const changed = [];
    for (const change of changes) {
      const result = outcome(change);
      if (result.deleted !== undefined) this.removeMessage(room, result.deleted);
      else (result.created ? created : changed).push(result.message);
    }
    // Changed ones first: a message posted and then edited while we were away is new to us too.
    if (changed.length) this.addMessages(room, changed, { fresh: true, away, known: true });
    if (created.length) this.addMessages(room, created, { fresh: true, away });
  }

  /** A live change numbered `seq` was applied; one missed below it means a sync soon. */
  noteSeq(room, seq) {
    if (!room.noteSeq(seq) || room.gapTimer) return;
    room.gapTimer = setTimeout(() => {
      room.gapTimer = null;
      if (room.gap && this.store.rooms.get(room.name) === room) this.syncRoom(room);
    }, GAP_SYNC_MS);
  }

  /** A live change to a message (edited, reacted to, pinned, its replies): apply it. */
  onChange(event) {
    const room = this.store.rooms.get(event.room);
    if (!room || !event.message) return;
    this.addMessages(room, [event.message], { known: true });
    this.noteSeq(room, event.seq);
  }

  /** A message was deleted (live, or found so by a sync). */
  removeMessage(room, id) {
    const held = room.message(id);
    const index = room.removeMessage(id);
    if (this.store.editing && this.store.editing.room === room.name && this.store.editing.id === id) {
      this.store.editing = null;
    }
    if (index >= 0 && this.isActive(room)) view.removeItem(this.store, index);
    this.search.forget(room.name, id);
    const { detail } = this.store;
    if (!detail || detail.room !== room.name) return;
    if (detail.mode === "thread" && detail.rootId === id) {
      this.closeDetail();
      view.toast("The thread you had open was deleted.", "info");
    } else if (detail.mode === "thread" && held && held.reply_to === detail.rootId) {
      this.renderThread();
    } else if (detail.mode === "pins" && detail.pins?.some((pin) => pin.id === id)) {
      this.refreshPins();
    }
  }

  /**
   * The periodic check, or the server's `resync` (only `names`, if given): anything stored that
   * never reached us live shows up now.
   */
  resync(names = null) {
    if (!this.ready) return;
    for (const room of this.store.rooms.values()) {
      if (!room.joined || (names && !names.includes(room.name))) continue;
      this.syncRoom(room);
    }
  }

  async leave(name) {
    const ack = await this.request("leave", { room: name });
    if (!ack.ok && !TRANSIENT.has(ack.error.code)) return view.toast(ack.error.message);
    this.forget(name);
  }

  forget(name) {
    const wasActive = this.store.active === name;
    if (this.store.detail && this.store.detail.room === name) this.store.detail = null;
    if (this.store.editing && this.store.editing.room === name) this.store.editing = null;
    if (this.store.rooms.has(name)) this.presence.forget(this.store.rooms.get(name));
    this.tray.forget(name);
    this.store.forget(name);
    saved.setRooms(this.store.keptNames());
    if (wasActive && this.store.active) this.activate(this.store.active);
    else this.renderAll();
  }

  /**
   * Show room `name`. A room left showing a stretch of the past (a search result) comes back
   * at its live end, unless `keepPlace` (opening a search result there).
   */
  activate(name, { keepPlace = false } = {}) {
    const room = this.store.rooms.get(name);
    if (!room) return;
    const previous = this.store.activeRoom;
    // The divider marks what was new when you came in; once you leave, all of it is read.
    if (previous && previous !== room) previous.dividerId = null;
    this.typing.stop();
    if (previous !== room) this.tray.stopWaiting();
    if (this.store.editing && this.store.editing.room !== name) this.store.editing = null;
    // A thread or the pins belong to their room; search results to none.
    const { detail } = this.store;
    if (detail && detail.mode !== "search" && detail.mode !== "mentions" && detail.room !== name) this.store.detail = null;
    this.store.active = name;
    room.unread = 0;
    room.mentions = 0;
    saved.setActive(name);
    this.renderAll();
    if (previous !== room) this.search.roomChanged();
    scrollToBottom();
    view.renderJumpLatest(room);
    if (room.detached && !keepPlace) this.jumpToLatest();
    else this.fillScreen(room);
    this.reads.markRead();
  }

  // -- messages ----------------------------------------------------------------------------------
  /**
   * Merge server messages into a room (the latest copy of each, in id order) and draw what
   * changed. fresh: they are news to the reader (live, or caught up after a reconnect), so new
   * ones count as unread and may notify; away: they were said while we were disconnected;
   * known: changes to messages (see RoomState.put), not messages being loaded.
   */
  addMessages(room, messages, { fresh = false, away = false, known = false } = {}) {
    // Answers whether a message came into the timeline (see followingBottom).
    const draw = () => messages.map((message) => this.addMessage(room, message, { fresh, away, known }))
      .some(Boolean);
    // Reading a stretch of the past, nothing new comes into view: the reader stays put.
    if (!this.isActive(room) || room.detached) return draw();
    const older = room.oldestId !== null && messages.length && messages[0].id < room.oldestId;
    if (older) keepingPosition(draw);
    else followingBottom(draw, messages.some((m) => m.author === this.store.me && fresh && !away && !known));
  }

  addMessage(room, message, { fresh = false, away = false, known = false } = {}) {
    const mine = message.author === this.store.me;
    if (mine && message.client_id) this.outbox.delivered(message.client_id);
    const result = room.put(message, { known });
    if (!result) return false;
    if (!result.added) {
      this.redraw(room, message.id, result.index);
      return false;
    }
    const { index } = result;
    if (result.beyond) {
      this.addBeyond(room, message, { fresh, mine });
      return false;
    }
    if (message.guest && !this.store.guests.has(message.author)) {
      this.store.guests.add(message.author);
      if (this.isActive(room)) view.renderMembers(this.store);
    }
    if (index < 0) {
      this.addReply(room, message, { fresh, mine });
      return false;
    }
    // Unread: not in front of the reader. New (divider): also what came while we were offline.
    const unread = fresh && !mine && (!this.isActive(room) || pageHidden());
    if ((unread || (fresh && !mine && away)) && room.dividerId === null) room.dividerId = message.id;
    if (this.isActive(room)) view.insertItem(this.store, index);
    if (isDm(room.name) && !mine) this.learnPeer(room.name, [message.author]);
    if (unread) this.countUnread(room, message);
    else if (fresh && this.isActive(room)) this.reads.markRead();
    if (this.isActive(room) && room.receipts) this.reads.renderSeen();
    return true;
  }

  /** A new message past the stretch of the past in view: unread elsewhere; here, the jump button says so. */
  addBeyond(room, message, { fresh, mine }) {
    if (!fresh || mine) return;
    if (!this.isActive(room) || pageHidden()) this.countUnread(room, message);
    if (this.isActive(room)) {
      room.newsBeyond = true;
      view.renderJumpLatest(room);
    }
  }

  countUnread(room, message) {
    room.unread += 1;
    const forMe = mentions(message.text, this.store.me) || mentionsMe(message, this.store.me);
    // Everything in a DM is for me: it counts like a mention.
    if (forMe || isDm(room.name)) room.mentions += 1;
    view.renderRoomList(this.store);
    if (pageHidden() && forMe) {
      notifyMention(message, this.store.label(room.name), (name) => this.activate(name));
    }
  }

  /**
   * A new reply: its thread shows it, if open. A reply counts as unread only when it mentions
   * me (Slack does the same): the room's timeline does not show replies.
   */
  addReply(room, message, { fresh, mine }) {
    this.renderThread(room.name, message.reply_to);
    if (!fresh || mine || !mentions(message.text, this.store.me)) return;
    if (this.isActive(room) && !pageHidden()) return;
    room.unread += 1;
    room.mentions += 1;
    view.renderRoomList(this.store);
    if (pageHidden()) notifyMention(message, this.store.label(room.name), (name) => this.activate(name));
  }

  /** Draw again a message that changed, wherever it shows. */
  redraw(room, id, index = room.indexOf(id)) {
    if (index >= 0 && this.isActive(room)) view.replaceItem(this.store, index);
    const { detail } = this.store;
    if (!detail || detail.room !== room.name) return;
    const message = room.message(id);
    if (detail.mode === "thread" && (id === detail.rootId || (message && message.reply_to === detail.rootId))) {
      this.renderThread();
    } else if (detail.mode === "pins" && (message?.pinned || detail.pins?.some((pin) => pin.id === id))) {
      this.refreshPins();
    }
  }

  /** The tab is visible again: what arrived in the room in view has been seen. */
  seen() {
    const room = this.store.activeRoom;
    this.reads.markRead();
    if (pageHidden() || !room || !room.unread) return;
    room.unread = 0;
    room.mentions = 0;
    view.renderRoomList(this.store);
  }

  /**
   * Send what was written, with the files of the room's tray. While files are still uploading
   * the message waits for them (the tray calls back); one that failed must go first.
   */
  send(text) {
    const room = this.store.activeRoom;
    if (!room) return false;
    const attached = this.tray.status(room.name);
    if (!text.trim() && !attached.count) return false;
    if (attached.busy) {
      this.tray.sendWhenDone(room.name);
      return false;
    }
    if (attached.failed) {
      this.tray.refuse(room.name);
      return false;
    }
    if (isCommand(text) && !attached.count) { // "/me ...", "/topic ...": done, not queued
      this.commands.hide();
      this.typing.stop();
      runCommand(this, view, room.name, text).then((error) => {
        const composer = document.getElementById("composer-text");
        if (error && !composer.value) composer.value = text; // to correct it
      });
      return true;
    }
    this.typing.stop();
    // What one writes goes at the live end: go there, or it would not be seen arriving.
    if (room.detached) this.jumpToLatest({ focus: false });
    const files = this.tray.take(room.name);
    followingBottom(() => this.outbox.add(room.name, text, { files }), true);
    return true;
  }

  retry(clientId) {
    this.outbox.retry(clientId);
  }

  discard(clientId) {
    this.outbox.discard(clientId);
  }

  // -- acting on messages (protocol v2) ----------------------------------------------------------
  /** Ask the server; a refusal becomes a toast. Answers the ack when it went through, else null. */
  async act(event, data, what) {
    const ack = await this.request(event, data);
    if (ack.ok) return ack;
    view.toast(`Could not ${what}: ${ack.error.message}`);
    return null;
  }

  /** Put the message an ack answered with into its room (the live event may come first or later). */
  applyAck(name, ack) {
    const room = this.store.rooms.get(name);
    if (room && ack && ack.message) this.addMessages(room, [ack.message], { known: true });
  }

  /** Edit in place: `from` says where focus goes back to ("composer", "thread" or the message). */
  startEdit(name, id, { inThread = false, from = null } = {}) {
    const room = this.store.rooms.get(name);
    const message = room && room.message(id);
    if (!message || !this.store.canEdit(message)) return false;
    const previous = this.store.editing;
    this.store.editing = { room: name, id, draft: message.text, inThread, from };
    if (previous) this.redraw(this.store.rooms.get(previous.room) || room, previous.id);
    this.redraw(room, id);
    view.focusEditor(name, id, inThread);
    return true;
  }

  /** Up on an empty composer: edit my last message there (the room's, or the open thread's). */
  editLast({ inThread = false } = {}) {
    const name = inThread ? this.store.detail?.room : this.store.active;
    const room = name && this.store.rooms.get(name);
    if (!room) return false;
    const candidates = inThread ? room.replies(this.store.detail.rootId)
      : room.items.filter((item) => item.kind === "message");
    const last = [...candidates].reverse().find((message) => this.store.canEdit(message));
    return last ? this.startEdit(name, last.id, { inThread, from: inThread ? "thread" : "composer" }) : false;
  }

  cancelEdit() {
    const { editing } = this.store;
    if (!editing) return;
    this.store.editing = null;
    const room = this.store.rooms.get(editing.room);
    if (room) this.redraw(room, editing.id);
    view.focusAfterEdit(editing);
  }

  async saveEdit(text) {
    const { editing } = this.store;
    if (!editing || editing.saving) return;
    const room = this.store.rooms.get(editing.room);
    const message = room && room.message(editing.id);
    if (!message) return this.cancelEdit();
    if (!text.trim()) return view.toast("A message cannot be empty: delete it instead.");
    if (text === message.text) return this.cancelEdit();
    editing.saving = true;
    const ack = await this.act("edit", { room: editing.room, id: editing.id, text }, "save the edit");
    editing.saving = false;
    if (!ack || this.store.editing !== editing) return;
    this.store.editing = null;
    this.applyAck(editing.room, ack);
    this.redraw(room, editing.id);
    view.focusAfterEdit(editing);
  }

  async deleteMessage(name, id) {
    const ack = await this.act("delete_message", { room: name, id }, "delete the message");
    const room = this.store.rooms.get(name);
    if (ack && room) this.removeMessage(room, id);
    return Boolean(ack);
  }

  /** Add (on) or take back one emoji on a message. */
  async react(name, id, emoji, on) {
    this.applyAck(name, await this.act("react", { room: name, id, emoji, on }, on ? "add the reaction" : "take the reaction back"));
  }

  /** Whether I have reacted to message `id` with `emoji`. */
  reacted(name, id, emoji) {
    const message = this.store.rooms.get(name)?.message(id);
    const reaction = message && message.reactions.find((r) => r.emoji === emoji);
    return Boolean(reaction) && reaction.users.some((user) => this.store.isMe(user));
  }

  async pin(name, id, on) {
    this.applyAck(name, await this.act("pin", { room: name, id, on }, on ? "pin the message" : "unpin the message"));
  }

  /** The versions of an edited message, oldest first. */
  async versions(name, id) {
    const ack = await this.act("edits", { room: name, id }, "show the versions");
    return ack ? ack.versions : null;
  }

  // -- the side panel: a thread, or the pinned messages ------------------------------------------
  async openThread(name, id) {
    const room = this.store.rooms.get(name);
    const message = room && room.message(id);
    const rootId = message && message.reply_to ? message.reply_to : id;
    const detail = { mode: "thread", room: name, rootId, loading: true, more: false, root: message };
    this.store.detail = detail;
    this.renderDetail();
    view.focusThreadComposer();
    await this.loadThread(detail);
  }

  /** Read a thread's replies (the last page, or the one before `before`). */
  async loadThread(detail, before = null) {
    const room = this.store.rooms.get(detail.room);
    const ack = await this.request("thread", before ? { room: detail.room, id: detail.rootId, before } : { room: detail.room, id: detail.rootId });
    if (this.store.detail !== detail || !room) return;
    detail.loading = false;
    if (!ack.ok) {
      if (ack.error.code === "not_found") {
        this.closeDetail();
        return view.toast("That thread is gone: its message was deleted.", "info");
      }
      view.toast(`Could not open the thread: ${ack.error.message}`);
      return this.renderThread();
    }
    detail.root = ack.root;
    detail.more = ack.more; // replies before the ones we have
    room.put(ack.root, { known: true });
    ack.replies.forEach((reply) => room.put(reply));
    this.renderThread();
  }

  loadEarlierReplies() {
    const { detail } = this.store;
    if (!detail || detail.mode !== "thread" || detail.loading) return;
    const replies = this.store.rooms.get(detail.room)?.replies(detail.rootId) || [];
    if (!replies.length) return;
    detail.loading = true;
    this.renderThread();
    this.loadThread(detail, replies[0].id);
  }

  /** Send a reply to the open thread (through the outbox, like any message). */
  sendReply(text) {
    const { detail } = this.store;
    if (!detail || detail.mode !== "thread" || !text.trim()) return false;
    this.outbox.add(detail.room, text, { reply_to: detail.rootId });
    view.scrollThreadToEnd();
    return true;
  }

  async openPins() {
    const name = this.store.active;
    if (!name) return;
    if (this.store.detail && this.store.detail.mode === "pins" && this.store.detail.room === name) return this.closeDetail();
    this.store.detail = { mode: "pins", room: name, pins: null, error: null };
    this.renderDetail();
    await this.refreshPins(name);
  }

  /** Read the open pin list again (of room `name`, if given). */
  async refreshPins(name = null) {
    const { detail } = this.store;
    if (!detail || detail.mode !== "pins" || (name && detail.room !== name)) return;
    const ack = await this.request("pins", { room: detail.room });
    if (this.store.detail !== detail) return;
    detail.pins = ack.ok ? ack.pins : detail.pins;
    detail.error = ack.ok ? null : ack.error.message;
    view.renderDetail(this.store);
  }

  /** Open the side panel on `detail` (search.js opens it on its results). */
  showDetail(detail) {
    if (this.store.editing && this.store.editing.inThread) this.store.editing = null;
    this.store.detail = detail;
    this.renderDetail();
  }

  closeDetail() {
    if (!this.store.detail) return;
    if (this.store.editing && this.store.editing.inThread) this.store.editing = null;
    this.store.detail = null;
    this.renderDetail();
  }

  // -- a message in its context (search results, pins) -------------------------------------------
  /**
   * Open message `id` of room `name` where it was said: join the room if need be, load what
   * was said around it unless the timeline holds it, go there, scroll it into view, focus it
   * and make it flash. A reply (`replyTo`: its thread's root) opens in its thread. Answers an
   * error message, or null.
   */
  async openMessage(name, id, { replyTo = null } = {}) {
    let room = this.store.rooms.get(name);
    if (!room || !room.joined) {
      const error = await this.join(name);
      if (error) return error.message;
      room = this.store.rooms.get(name);
      if (!room || !room.joined) return "Could not open the room.";
    }
    const target = replyTo || id;
    const loaded = room.indexOf(target) >= 0;
    if (!loaded) {
      const ack = await fetchAround(this.conn, name, target);
      if (this.store.rooms.get(name) !== room) return null; // left meanwhile
      if (!ack.ok) return ack.error.message;
      this.showAround(room, ack.messages, target);
    }
    if (!this.isActive(room)) this.activate(name, { keepPlace: true });
    else if (!loaded) {
      view.renderTimeline(this.store);
      view.renderJumpLatest(room);
    }
    const shown = view.revealMessage(target);
    if (replyTo) {
      await this.openThread(name, replyTo);
      if (view.revealMessage(id, "thread-list")) return null;
      return this.store.detail && this.store.detail.mode === "thread" ? "That reply is further back in the thread." : null;
    }
    return shown ? null : "That message is not there any more: it was deleted.";
  }

  /** Put the page `history` answered around message `id` in the timeline (see RoomState.showStretch). */
  showAround(room, messages, id) {
    // The server answers about half the page up to the message (it included), the rest after it.
    const older = messages.filter((message) => message.id <= id).length;
    room.showStretch(messages, {
      reachedStart: older < Math.floor(AROUND_PAGE / 2) + 1,
      reachedEnd: messages.length - older < AROUND_PAGE - older,
    });
  }

  /** Back to the live end of the room in view: its latest page, after a stretch of the past. */
  async jumpToLatest({ focus = true } = {}) {
    const room = this.store.activeRoom;
    if (!room || !room.detached) {
      scrollToBottom();
      return;
    }
    if (room.jumping) return;
    room.jumping = true;
    view.renderNewerStatus(room);
    const ack = await fetchLatest(this.conn, room.name);
    room.jumping = false;
    if (this.store.rooms.get(room.name) !== room) return;
    if (this.isActive(room)) view.renderNewerStatus(room);
    if (!ack.ok) return view.toast(`Could not load the latest messages: ${ack.error.message}`);
    if (!room.detached) return; // back at the end meanwhile (scrolled there)
    room.showStretch(ack.messages, { reachedStart: ack.messages.length < HISTORY_PAGE, reachedEnd: true });
    if (!this.isActive(room)) return;
    view.renderTimeline(this.store);
    scrollToBottom();
    view.renderJumpLatest(room);
    if (focus) view.focusComposer();
    this.fillScreen(room);
  }

  /** Scrolled to the bottom of a stretch of the past: fetch the page after its newest message. */
  async loadNewer() {
    const room = this.store.activeRoom;
    if (!room || !room.detached || room.loadingNewer) return;
    const edge = room.newestId;
    room.loadingNewer = true;
    view.renderNewerStatus(room);
    const ack = await fetchNewer(this.conn, room.name, edge);
    room.loadingNewer = false;
    if (this.store.rooms.get(room.name) !== room) return;
    if (this.isActive(room)) view.renderNewerStatus(room);
    if (!ack.ok) return view.toast(`Could not load newer messages: ${ack.error.message}`);
    if (room.newestId !== edge) return; // jumped elsewhere meanwhile
    const page = ack.messages;
    const end = page.length < HISTORY_PAGE;
    room.newestId = page.length ? page[page.length - 1].id : edge;
    const held = end ? room.reattach() : [];
    // Put below what is on screen: the reader's position holds by itself.
    [...page, ...held].forEach((message) => this.addMessage(room, message));
    if (this.isActive(room)) view.renderJumpLatest(room, { hide: end });
  }

  /** Scrolled to the bottom: the newer page of a stretch of the past, or the jump button goes. */
  reachedBottom() {
    const room = this.store.activeRoom;
    this.reads.markRead();
    if (room && room.detached) this.loadNewer();
    else view.renderJumpLatest(room, { hide: true });
  }

  // -- people and rooms ------------------------------------------------------------------------
  toast(message, kind = "error") {
    view.toast(message, kind);
  }

  /** Open (or find) the direct conversation with `user` and go there; answers an error message or null. */
  async openDm(user) {
    const ack = await this.request("dm", { user });
    if (!ack.ok) return ack.error.message;
    const { name } = ack.room;
    this.learnPeer(name, [user]);
    this.listRoom(ack.room);
    const error = await this.join(name, { activate: true });
    return error ? error.message : null;
  }

  /** Create a room (mine, so I own it) and go there; answers an error message or null. */
  async createRoom(name, isPrivate) {
    const ack = await this.request("create_room", { room: name, private: isPrivate });
    if (!ack.ok) return ack.error.message;
    if (this.store.account) {
      this.store.owned.add(ack.room.name);
      saved.setOwned(this.store.me, this.store.account, this.store.owned);
    }
    this.listRoom(ack.room);
    const error = await this.join(ack.room.name, { activate: true });
    return error ? error.message : null;
  }

  /** Show a room in the sidebar before the directory is read again. */
  listRoom(room) {
    if (!this.store.directory.some((listed) => listed.name === room.name)) {
      this.store.directory = [...this.store.directory, room];
    }
    view.renderRoomList(this.store);
  }

  async invite(room, user) {
    const ack = await this.request("invite", { room, user });
    if (!ack.ok) return ack.error.message;
    view.toast(`${user} is invited to ${this.store.label(room)}.`, "info");
    return null;
  }

  async kick(room, user) {
    if (await this.act("kick", { room, user }, `remove ${user}`)) {
      view.toast(`${user} was removed from ${this.store.label(room)}.`, "info");
    }
  }

  async ban(user) {
    if (await this.act("ban", { user }, `ban ${user}`)) view.toast(`${user} is banned.`, "info");
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
    if (!this.isActive(room)) {
      ack.messages.forEach((message) => this.addMessage(room, message));
      room.paged(ack.messages);
      return;
    }
    keepingPosition(() => {
      ack.messages.forEach((message) => this.addMessage(room, message));
      room.paged(ack.messages);
      view.renderHistoryStatus(room);
    });
    this.fillScreen(room);
  }

  /** If the messages do not fill the pane there is nothing to scroll, so fetch more now. */
  fillScreen(room) {
    if (!this.isActive(room) || !room.joined || !cannotScroll()) return;
    if (!room.reachedStart) this.loadOlder();
    if (room.detached && isNearBottom()) this.loadNewer();
  }

  // -- presence and direct messages ------------------------------------------------------------
  /** Draw that `user` joined or left: a new line, or the last line if it is about presence too. */
  notePresence(room, user, step) {
    if (room.detached) return; // it happens at the live end, which is not on screen
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
    this.noteSeq(room, message.seq);
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

/**
 * The message an ack answered, with the files it was sent with: an ack to a retried send (the
 * same client_id, the message already stored) describes the stored message without its files.
 */
/** The server says the message mentions me: by name, or @room / @here (issue 18). */
function mentionsMe(message, me) {
  const named = Array.isArray(message.mentions) && message.mentions.some((name) => name.toLowerCase() === me.toLowerCase());
  return named || message.mentions_all === "room" || message.mentions_all === "here";
}

function withFiles(message, entry) {
  if (!entry.files || !entry.files.length || !message || (message.files && message.files.length)) return message;
  return { ...message, files: entry.files };
}
