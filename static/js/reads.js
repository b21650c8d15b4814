// Read state kept by the server (issue 18): an account's unread and mention badges come from the
// server's counts (join, the room list, `read` events from its other tabs and devices); the room
// in view is marked read when its newest message is on screen; "seen" receipts in DMs and small
// private rooms. Guests keep the page's own counts (the server keeps theirs per connection only).
import { byId, el } from "./dom.js";
import { pageHidden } from "./notify.js";
import * as view from "./render.js";
import { isNearBottom } from "./scroll.js";
import { isDm } from "./store.js";

const THROTTLE_MS = 1000; // at most one `read` a second per room while messages pour in

/** The seq a message was posted with (servers before issue 18 send only `seq`). */
export function postedSeq(message) {
  return typeof message.posted_seq === "number" ? message.posted_seq : message.seq ?? 0;
}

export class ReadState {
  constructor(chat) {
    this.chat = chat;
    this.waiting = new Map(); // room name -> timer of the throttle
  }

  get on() {
    return this.chat.store.account;
  }

  /** Counts from the server: a join ack, a row of the room list, or a `read` event. */
  apply(room, data) {
    if (!this.on || !room || !data || typeof data.unread !== "number") return;
    if (typeof data.last_read === "number") room.lastRead = Math.max(room.lastRead ?? 0, data.last_read);
    if (data.receipts && typeof data.receipts === "object") room.receipts = { ...data.receipts };
    // The room in front of the reader has nothing unread, whatever a count from a moment ago says.
    if (this.chat.isActive(room) && !pageHidden() && isNearBottom()) {
      this.renderSeen();
      return;
    }
    room.unread = data.unread;
    // Everything in a DM is for me: it counts like a mention (as the page always did).
    room.mentions = isDm(room.name) ? data.unread : data.mentions;
    view.renderRoomList(this.chat.store);
    if (this.chat.isActive(room)) this.renderSeen();
  }

  /** The room list came: rooms we hold take the server's counts. */
  listed(rooms) {
    for (const listed of rooms) {
      const room = this.chat.store.rooms.get(listed.name);
      if (room && room.joined) this.apply(room, listed);
    }
    this.markRead();
  }

  /** Another tab or device of this account read a room. */
  onRead(event) {
    this.apply(this.chat.store.rooms.get(event.room), event);
  }

  onReceipt({ room: name, user, last_read: lastRead }) {
    const room = this.chat.store.rooms.get(name);
    if (!room || typeof user !== "string" || typeof lastRead !== "number") return;
    room.receipts = { ...(room.receipts || {}), [user]: lastRead };
    if (this.chat.isActive(room)) this.renderSeen();
  }

  /** The room in view is read to its newest message if the reader can see it (throttled). */
  markRead() {
    const room = this.chat.store.activeRoom;
    if (!this.on || !room || !room.joined || room.detached || pageHidden() || !isNearBottom()) return;
    if (this.waiting.has(room.name)) {
      this.waiting.get(room.name).again = true;
      return;
    }
    const timer = { again: false };
    timer.id = setTimeout(() => {
      this.waiting.delete(room.name);
      if (timer.again) this.markRead();
    }, THROTTLE_MS);
    this.waiting.set(room.name, timer);
    this.send(room);
  }

  async send(room) {
    const newest = room.message(room.newestShownId);
    if (!newest) return;
    const seq = postedSeq(newest);
    if (room.lastRead !== undefined && room.lastRead !== null && seq <= room.lastRead && !room.unread) return;
    const ack = await this.chat.request("read", { room: room.name, seq });
    if (ack.ok) this.apply(room, ack);
  }

  /** "Seen" under the newest message each other member has read, in the room in view. */
  renderSeen() {
    const list = byId("messages");
    list.querySelectorAll(".seen").forEach((node) => node.remove());
    const room = this.chat.store.activeRoom;
    if (!room || !room.receipts) return;
    const readers = new Map(); // message id -> names
    for (const [user, lastRead] of Object.entries(room.receipts)) {
      const id = newestRead(room, lastRead);
      if (id !== null) readers.set(id, [...(readers.get(id) || []), user]);
    }
    for (const [id, names] of readers) {
      const node = list.querySelector(`li.msg[data-id="${id}"] .msg-body`);
      const text = isDm(room.name) ? "Seen" : `Seen by ${names.sort().join(", ")}`;
      if (node) node.append(el("div", { className: "seen", text }));
    }
  }
}

/** The id of the newest message of the timeline posted at or before `lastRead`, or null. */
function newestRead(room, lastRead) {
  for (let i = room.items.length - 1; i >= 0; i -= 1) {
    const item = room.items[i];
    if (item.kind === "message" && postedSeq(item) <= lastRead) return item.id;
  }
  return null;
}
