// Client state: the rooms this page knows, their messages, members and who is typing.
// No DOM and no socket here; the controller (chat.js) changes it and asks render.js to draw it.

/** Sort key of a timeline item: messages by id; a notice sits after the newest id it saw. */
function compareKeys(a, b) {
  return a.key[0] - b.key[0] || a.key[1] - b.key[1];
}

/** The index at which `item` keeps `items` sorted (after equal keys). */
function insertionIndex(items, item) {
  let low = 0;
  let high = items.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (compareKeys(items[mid], item) <= 0) low = mid + 1;
    else high = mid;
  }
  return low;
}

let noticeSeq = 0;

export class RoomState {
  constructor(name) {
    this.name = name;
    this.joined = false;
    this.kind = null; // "public", "private" or "dm", once joined
    this.owner = undefined; // the owner's name (null: none), once a join's ack has said (protocol v2)
    this.items = []; // the timeline: messages that are not replies, and notices, in display order
    this.messages = new Map(); // id -> the latest copy of every message held (timeline and replies)
    this.deleted = new Set(); // ids deleted while we were here: an older copy must not bring them back
    // The change log (protocol v2): everything up to `seq` has been applied; `ahead` holds the
    // seqs applied live above it, waiting for the changes below them (a gap means a sync).
    this.seq = null;
    this.ahead = new Set();
    this.syncing = false;
    this.syncAgain = null; // a sync asked for while one ran: {away}
    this.members = [];
    this.membersStale = true; // the list is the last one known, not the server's word since we (re)joined
    this.quietPresence = false; // rejoining: presence events are summed up when the ack comes
    this.pendingPresence = null; // joining: presence events kept for the ack's member list
    this.leaving = new Map(); // user -> timer: left a moment ago, maybe only to reconnect (presence.js)
    this.typing = new Map(); // user -> timer that forgets them
    this.unread = 0;
    this.mentions = 0; // of the unread, how many mention me
    this.dividerId = null; // id of the first message that came while the reader was away
    this.reachedStart = false; // no older history on the server
    // The oldest message of the history pages loaded: where the next older page starts, and
    // the edge of what we hold (a change to a message older than it comes with its page).
    this.oldestId = null;
    this.loadingOlder = false;
    // A search result opened in its context (chat.js openMessage) leaves the timeline holding a
    // stretch of the past: newestId is its newest message, and what came after it is on the
    // server, not here, until scrolling down (or "Jump to latest") brings the timeline back to
    // the live end. null: the timeline reaches the live end.
    this.newestId = null;
    this.loadingNewer = false; // the page after newestId is on its way
    this.jumping = false; // the latest page is on its way ("Jump to latest")
    this.newsBeyond = false; // a new message came past the end of the stretch shown
    this.gapTimer = null;
  }

  /** The timeline shows a stretch of the past, not the live end. */
  get detached() {
    return this.newestId !== null;
  }

  /** A page of history (oldest first) was loaded. */
  paged(messages) {
    if (messages.length && (this.oldestId === null || messages[0].id < this.oldestId)) this.oldestId = messages[0].id;
  }

  /** Whether message `id` belongs in what we hold: not older than the history loaded (nor newer than a stretch of the past). */
  inWindow(id) {
    return (this.reachedStart || (this.oldestId !== null && id > this.oldestId))
      && (this.newestId === null || id <= this.newestId);
  }

  /**
   * Show `messages` (a page of history, oldest first) as the timeline instead of what it held:
   * the stretch around a search result, or the latest page. reachedEnd: nothing newer exists
   * (else the timeline is detached from the live end). Presence lines go: they belonged to
   * the stretch that was shown. The messages held stay (threads and pins read them).
   */
  showStretch(messages, { reachedStart, reachedEnd }) {
    this.items = [];
    this.dividerId = null;
    this.oldestId = null;
    this.reachedStart = reachedStart;
    this.newestId = messages.length ? messages[messages.length - 1].id : null;
    this.newsBeyond = false;
    messages.forEach((message) => this.put(message));
    this.paged(messages);
    if (reachedEnd) this.reattach().forEach((message) => this.put(message));
  }

  /**
   * The timeline reaches the live end again: answers the messages held past the old end of the
   * stretch (they came live, or were loaded before the jump) for the caller to put back in.
   */
  reattach() {
    const edge = this.newestId;
    this.newestId = null;
    this.newsBeyond = false;
    if (edge === null) return [];
    return [...this.messages.values()].filter((m) => !m.reply_to && m.id > edge && this.indexOf(m.id) < 0)
      .sort((a, b) => a.id - b.id);
  }

  /** The newest message of the timeline (not a reply). */
  get newestShownId() {
    for (let i = this.items.length - 1; i >= 0; i -= 1) {
      if (this.items[i].kind === "message") return this.items[i].id;
    }
    return null;
  }

  message(id) {
    return this.messages.get(id) || null;
  }

  /** Where message `id` is in the timeline, or -1. */
  indexOf(id) {
    return this.items.findIndex((item) => item.kind === "message" && item.id === id);
  }

  /**
   * Apply a message as the server sent it, new or changed: per message the copy with the
   * highest seq wins, so an event that comes late changes nothing (the client rule,
   * docs/protocol.md). `known`: a change, not a message being loaded; one to a message older
   * than the history loaded is kept (a thread or the pins may show it) but not put in the
   * timeline, where it would stand alone before a gap: its page brings it there later.
   * Answers null when nothing changed, else {added, index, beyond}: added when it is new to the
   * timeline (or a new reply), index its place in the timeline (-1: not there), beyond when it
   * is newer than the stretch of the past the timeline shows (see newestId).
   */
  put(message, { known = false } = {}) {
    if (!message || typeof message.id !== "number" || this.deleted.has(message.id)) return null;
    const existing = this.messages.get(message.id);
    const newer = !existing || (message.seq ?? 0) > (existing.seq ?? 0);
    // `kind` names the timeline's sort of item; a message's own (protocol: "me" for /me) is `action`.
    const item = newer ? { ...message, action: message.kind === "me", kind: "message", key: [message.id, 0] } : existing;
    if (newer) this.messages.set(message.id, item);
    if (item.reply_to) return newer ? { added: !existing, index: -1 } : null;
    let index = this.indexOf(message.id);
    if (index >= 0) {
      if (!newer) return null;
      this.items[index] = item;
      return { added: false, index };
    }
    // Past the end of a stretch of the past: kept, not shown, until the timeline gets there.
    if (this.newestId !== null && message.id > this.newestId) return newer ? { added: !existing, index: -1, beyond: true } : null;
    if (known && !this.inWindow(message.id)) return newer ? { added: false, index: -1 } : null;
    index = insertionIndex(this.items, item);
    this.items.splice(index, 0, item);
    return { added: true, index };
  }

  /** A message was deleted: forget it for good. Answers its timeline index, or -1. */
  removeMessage(id) {
    this.deleted.add(id);
    if (!this.messages.delete(id)) return -1;
    const index = this.indexOf(id);
    if (index < 0) return -1;
    this.items.splice(index, 1);
    if (this.dividerId === id) this.dividerId = null;
    return index;
  }

  /** The replies we hold in the thread of `rootId`, oldest first. */
  replies(rootId) {
    return [...this.messages.values()].filter((m) => m.reply_to === rootId).sort((a, b) => a.id - b.id);
  }

  /** Forget every message (the room is being loaded again from scratch). */
  clearMessages() {
    this.items = this.items.filter((item) => item.kind !== "message");
    this.messages.clear();
    this.deleted.clear();
    this.reachedStart = false;
    this.oldestId = null;
    this.newestId = null;
    this.newsBeyond = false;
    this.dividerId = null;
    this.seq = null;
    this.ahead.clear();
  }

  /**
   * A live change numbered `seq` was applied: move `seq` over every change applied without a
   * gap. Answers true when a gap remains below a change that came (one was missed, or is late).
   */
  noteSeq(seq) {
    if (typeof seq !== "number") return false;
    if (this.seq !== null && seq <= this.seq) return false;
    this.ahead.add(seq);
    if (this.seq === null) return false; // before the join's ack: kept until it says where we are
    while (this.ahead.delete(this.seq + 1)) this.seq += 1;
    return this.ahead.size > 0;
  }

  /** Everything up to `seq` is applied (a join's ack, or a sync's answer). */
  setSeq(seq) {
    if (typeof seq !== "number") return;
    if (this.seq === null || seq > this.seq) this.seq = seq;
    for (const applied of this.ahead) if (applied <= this.seq) this.ahead.delete(applied);
    while (this.ahead.delete(this.seq + 1)) this.seq += 1;
  }

  get gap() {
    return this.ahead.size > 0;
  }

  /**
   * Note that `user` joined or left (`step`). Changes with no message between them share one
   * line: answers {index, merged}, merged when the last line took it.
   */
  addPresence(user, step) {
    const last = this.items[this.items.length - 1];
    if (last && last.kind === "presence") {
      if (!last.changes.has(user)) last.changes.set(user, []);
      last.changes.get(user).push(step);
      return { index: this.items.length - 1, merged: true };
    }
    noticeSeq += 1;
    const item = { kind: "presence", changes: new Map([[user, [step]]]), key: [this.newestShownId ?? 0, noticeSeq] };
    const index = insertionIndex(this.items, item);
    this.items.splice(index, 0, item);
    return { index, merged: false };
  }

  /** Nothing said here yet (as far back as the server keeps). */
  get empty() {
    return this.reachedStart && !this.items.some((item) => item.kind === "message");
  }

  typingUsers() {
    return [...this.typing.keys()];
  }
}

/** A direct conversation: the server names them dm-<lower id>-<higher id>, a name no other room may take. */
export const isDm = (name) => /^dm-\d+-\d+$/.test(name);

export class Store {
  constructor() {
    this.me = null;
    this.rooms = new Map(); // name -> RoomState, for rooms joined or being joined
    this.directory = []; // public rooms from the server: [{name, kind, created_at}]
    // Rooms we were invited to since the page loaded: a directory page asked for before the
    // invitation may not list them yet, and must not drop them from the sidebar.
    this.invitations = new Map(); // name -> {name, kind}
    this.active = null; // name of the room in view
    this.peers = new Map(); // DM room name -> the other person's name, once the page has learnt it
    this.guests = new Set(); // names seen on guests' messages: their member-list entries say so
    this.account = false; // logged in (an account), not a guest
    this.admin = false; // the account is an admin (index.html says so)
    // Rooms this account created, so owns, as remembered by this browser (see saved.owned): what
    // the page goes by for a room until a join's ack names its owner (RoomState.owner), which
    // holds wherever the room was created. The server decides in the end anyway.
    this.owned = new Set();
    this.editing = null; // {room, id, draft}: the message being edited in place
  }

  isMe(name) {
    return Boolean(this.me) && typeof name === "string" && name.toLowerCase() === this.me.toLowerCase();
  }

  // -- what the server would allow (the page only shows the controls; the server decides) -------
  /** My own message, as an account: guests cannot edit or delete (protocol v2). */
  canEdit(message) {
    return this.account && !message.guest && this.isMe(message.author);
  }

  /** Whether I own room `name`: as its join's ack says, else as this browser remembers. */
  owns(name) {
    if (!this.account) return false;
    const owner = this.rooms.get(name)?.owner;
    return owner === undefined ? this.owned.has(name) : this.isMe(owner);
  }

  /** The room's owner (as far as the page knows) or an admin. */
  canModerate(name) {
    return this.admin || this.owns(name);
  }

  canDelete(message) {
    return this.canEdit(message) || this.canModerate(message.room);
  }

  /** Any member pins in private rooms and DMs; in public rooms the owner and admins. */
  canPin(name) {
    const room = this.rooms.get(name);
    if (room && (room.kind === "private" || room.kind === "dm" || isDm(name))) return this.account;
    return this.canModerate(name);
  }

  /** "#general", or for a DM the other person's name (see chat.js learnPeer). */
  label(name) {
    if (!isDm(name)) return `#${name}`;
    return this.peers.get(name) || "Direct message";
  }

  room(name) {
    if (!this.rooms.has(name)) this.rooms.set(name, new RoomState(name));
    return this.rooms.get(name);
  }

  get activeRoom() {
    return this.active ? this.rooms.get(this.active) || null : null;
  }

  /**
   * The rooms to come back to on the next load: those joined and those still being joined (a
   * failed join forgets its room). Saving only the joined ones lost, on a reload before every
   * join had answered, the rooms still on their way.
   */
  keptNames() {
    return [...this.rooms.keys()];
  }

  joinedNames() {
    return [...this.rooms.values()].filter((room) => room.joined).map((room) => room.name);
  }

  /** Unread mentions of me in all rooms (and unread DMs, which are all for me). */
  get mentionTotal() {
    let total = 0;
    for (const room of this.rooms.values()) total += room.mentions;
    return total;
  }

  /** Unread messages in all rooms, for the tab title. */
  get unreadTotal() {
    let total = 0;
    for (const room of this.rooms.values()) total += room.unread;
    return total;
  }

  forget(name) {
    const room = this.rooms.get(name);
    if (room) room.typing.forEach((timer) => clearTimeout(timer));
    if (room) room.leaving.forEach((timer) => clearTimeout(timer));
    if (room) clearTimeout(room.gapTimer);
    this.rooms.delete(name);
    if (this.active === name) this.active = this.joinedNames()[0] || null;
  }

  /** Every room to list: the server's directory plus any joined room it does not show. */
  allRooms() {
    const names = new Set(this.directory.map((room) => room.name));
    for (const name of this.rooms.keys()) names.add(name);
    return [...names].sort();
  }

  /** The rooms of the sidebar's "Rooms" section, by name. */
  listedRooms() {
    return this.allRooms().filter((name) => !isDm(name));
  }

  /** Direct conversations, by the other person's name. */
  listedDms() {
    const byLabel = (a, b) => this.label(a).localeCompare(this.label(b));
    return this.allRooms().filter(isDm).sort(byLabel);
  }

  /** The sidebar's order: rooms, then direct messages (Alt+Up/Down walk it). */
  sidebarOrder() {
    return [...this.listedRooms(), ...this.listedDms()];
  }
}

// -- what the browser remembers between visits --------------------------------------------------
const KEYS = {
  name: "parley.name", rooms: "parley.rooms", active: "parley.active", notifyAsked: "parley.notify-asked",
};
const MEMBERS_KEPT = 200; // names per room remembered for the next page load; a big room shows the first ones

/** A per-person key: guests and accounts of the same name never share what is remembered. */
const personal = (what, me, account) => `parley.${what}.${account ? "user" : "guest"}.${me.toLowerCase()}`;

function readMap(key) {
  const value = storage.readJson(key, {});
  return value && typeof value === "object" ? value : {};
}

/** localStorage that never throws: with storage disabled or full the page works, it just forgets. */
export const storage = {
  read(key) {
    try {
      return localStorage.getItem(key);
    } catch {
      return null;
    }
  },
  write(key, value) {
    try {
      if (value === null) localStorage.removeItem(key);
      else localStorage.setItem(key, value);
    } catch {
      /* nothing to remember then */
    }
  },
  readJson(key, fallback) {
    try {
      const value = JSON.parse(this.read(key));
      return Array.isArray(value) === Array.isArray(fallback) && value !== null ? value : fallback;
    } catch {
      return fallback;
    }
  },
  writeJson(key, value) {
    this.write(key, JSON.stringify(value));
  },
};

export const saved = {
  name: () => storage.read(KEYS.name),
  setName: (name) => storage.write(KEYS.name, name),
  rooms: () => storage.readJson(KEYS.rooms, []).filter((room) => typeof room === "string"),
  setRooms: (rooms) => storage.writeJson(KEYS.rooms, rooms),
  active: () => storage.read(KEYS.active),
  setActive: (name) => storage.write(KEYS.active, name),
  notifyAsked: () => storage.read(KEYS.notifyAsked) === "yes",
  setNotifyAsked: () => storage.write(KEYS.notifyAsked, "yes"),
  /** Where this person's unsent messages wait (guests and accounts never share a queue). */
  outboxKey: (me, account) => personal("outbox", me, account),
  /** The other person of each DM: {room: name}. */
  peers: (me, account) => new Map(Object.entries(readMap(personal("peers", me, account)))
    .filter(([, name]) => typeof name === "string")),
  setPeers: (me, account, peers) => storage.writeJson(personal("peers", me, account), Object.fromEntries(peers)),
  /** Who was in each room when the page was last closed: shown, marked stale, until the rejoin. */
  members: (me, account) => readMap(personal("members", me, account)),
  /** The rooms this account created (so owns): [name, ...]. */
  owned: (me, account) => new Set(account ? storage.readJson(personal("owned", me, account), [])
    .filter((name) => typeof name === "string") : []),
  setOwned: (me, account, owned) => account && storage.writeJson(personal("owned", me, account), [...owned]),
  setMembers: (me, account, rooms) => storage.writeJson(personal("members", me, account), Object.fromEntries(
    rooms.map((room) => [room.name, room.members.slice(0, MEMBERS_KEPT)]))),
};
