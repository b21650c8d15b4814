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
    this.items = []; // messages and notices, in display order
    this.ids = new Set(); // message ids present, for dedupe
    this.members = [];
    this.membersStale = true; // the list is the last one known, not the server's word since we (re)joined
    this.quietPresence = false; // rejoining: presence events are summed up when the ack comes
    this.leaving = new Map(); // user -> timer: left a moment ago, maybe only to reconnect (presence.js)
    this.typing = new Map(); // user -> timer that forgets them
    this.unread = 0;
    this.mentions = 0; // of the unread, how many mention me
    this.dividerId = null; // id of the first message that came while the reader was away
    this.reachedStart = false; // no older history on the server
    this.loadingOlder = false;
    this.catchingUp = false;
  }

  get oldestId() {
    const first = this.items.find((item) => item.kind === "message");
    return first ? first.id : null;
  }

  get newestId() {
    for (let i = this.items.length - 1; i >= 0; i -= 1) {
      if (this.items[i].kind === "message") return this.items[i].id;
    }
    return null;
  }

  /**
   * Where a catch-up starts: `overlap` messages before the newest we have, because ids can become
   * visible out of order (docs/delivery.md); the overlap comes back as duplicates and is skipped.
   */
  catchUpFrom(overlap) {
    let seen = 0;
    for (let i = this.items.length - 1; i >= 0; i -= 1) {
      if (this.items[i].kind !== "message") continue;
      if (seen === overlap) return this.items[i].id;
      seen += 1;
    }
    // Fewer than that: from the start of the room, or from what we have if older pages exist.
    return this.reachedStart ? 0 : this.oldestId ?? 0;
  }

  /** Add a server message; answer its index, or -1 when it is already here. */
  addMessage(message) {
    if (this.ids.has(message.id)) return -1;
    const item = { ...message, kind: "message", key: [message.id, 0] };
    const index = insertionIndex(this.items, item);
    this.items.splice(index, 0, item);
    this.ids.add(message.id);
    return index;
  }

  /** Remove a message (deleted by a moderator); answer its index, or -1 when it is not here. */
  removeMessage(id) {
    if (!this.ids.delete(id)) return -1;
    const index = this.items.findIndex((item) => item.kind === "message" && item.id === id);
    this.items.splice(index, 1);
    if (this.dividerId === id) this.dividerId = null;
    return index;
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
    const item = { kind: "presence", changes: new Map([[user, [step]]]), key: [this.newestId ?? 0, noticeSeq] };
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
  }

  isMe(name) {
    return Boolean(this.me) && name.toLowerCase() === this.me.toLowerCase();
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
  setMembers: (me, account, rooms) => storage.writeJson(personal("members", me, account), Object.fromEntries(
    rooms.map((room) => [room.name, room.members.slice(0, MEMBERS_KEPT)]))),
};
