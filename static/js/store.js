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
    this.items = []; // messages and notices, in display order
    this.ids = new Set(); // message ids present, for dedupe
    this.members = [];
    this.typing = new Map(); // user -> timer that forgets them
    this.unread = 0;
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

  /** Add a local notice ("alice joined") after the newest message; answer its index. */
  addNotice(text) {
    noticeSeq += 1;
    const item = { kind: "notice", text, key: [this.newestId ?? 0, noticeSeq] };
    const index = insertionIndex(this.items, item);
    this.items.splice(index, 0, item);
    return index;
  }

  typingUsers() {
    return [...this.typing.keys()];
  }
}

export class Store {
  constructor() {
    this.me = null;
    this.rooms = new Map(); // name -> RoomState, for rooms joined or being joined
    this.directory = []; // public rooms from the server: [{name, kind, created_at}]
    this.active = null; // name of the room in view
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

  /** Unread messages in all rooms, for the tab title. */
  get unreadTotal() {
    let total = 0;
    for (const room of this.rooms.values()) total += room.unread;
    return total;
  }

  forget(name) {
    const room = this.rooms.get(name);
    if (room) room.typing.forEach((timer) => clearTimeout(timer));
    this.rooms.delete(name);
    if (this.active === name) this.active = this.joinedNames()[0] || null;
  }

  /** Every room to list: the server's directory plus any joined room it does not show. */
  listedRooms() {
    const names = new Set(this.directory.map((room) => room.name));
    for (const name of this.rooms.keys()) names.add(name);
    return [...names].sort();
  }
}

// -- what the browser remembers between visits --------------------------------------------------
const KEYS = {
  name: "parley.name", rooms: "parley.rooms", active: "parley.active", notifyAsked: "parley.notify-asked",
};

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
  outboxKey: (me, account) => `parley.outbox.${account ? "user" : "guest"}.${me.toLowerCase()}`,
};
