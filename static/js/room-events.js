// What the server says about rooms besides new messages: who came and went, who is typing,
// changes to messages (edited, deleted, reacted to, pinned, replied to: protocol v2, each with
// the room's seq) and moderation (being removed from a room, being invited to one).
import * as view from "./render.js";
import { isDm } from "./store.js";

/** Handlers for Socket.IO events, bound to the chat controller. */
export function roomEvents(chat) {
  const { store } = chat;
  const roomOf = (name) => store.rooms.get(name) || null;

  return {
    // Protocol 2 (connection.js): who joined or left, applied to the list of the join's ack.
    // While a join is under way, they wait for its ack and are applied over its list (the ack
    // was read after we started hearing the room, so the latest word on each user wins).
    presence(event) {
      const room = roomOf(event.room);
      if (!room) return;
      if (room.pendingPresence) room.pendingPresence.push(event);
      else applyPresence(chat, room, event);
    },

    typing({ room: name, user, typing }) {
      const room = roomOf(name);
      if (room && !store.isMe(user)) chat.setTyping(room, user, typing);
    },

    // Each carries the message after the change; the copy with the highest seq wins (store.js).
    message_edited: (event) => chat.onChange(event),
    reaction: (event) => chat.onChange(event),
    pin: (event) => chat.onChange(event),
    replies: (event) => chat.onChange(event),

    message_deleted({ room: name, id, seq }) {
      const room = roomOf(name);
      if (!room) return;
      chat.removeMessage(room, id);
      chat.noteSeq(room, seq);
    },

    // The server's message queue had a gap: events may have passed us by; read what we missed.
    resync({ rooms } = {}) {
      chat.resync(rooms || null);
    },

    topic({ room: name, topic }) {
      const room = roomOf(name);
      if (!room) return;
      room.topic = topic || null;
      if (chat.isActive(room)) view.renderRoomHeader(store);
    },

    // An admin archived the room (read-only) or opened it again.
    archived({ room: name, archived }) {
      const room = roomOf(name);
      if (!room) return;
      room.archived = Boolean(archived);
      if (chat.isActive(room)) view.renderRoomHeader(store);
    },

    kicked({ room: name, by }) {
      store.invitations.delete(name);
      if (!roomOf(name)) return;
      const label = store.label(name);
      chat.forget(name);
      view.toast(`${by || "A moderator"} removed you from ${label}.`, "info");
    },

    invited({ room: name, by }) {
      const dm = isDm(name);
      const entry = { name, kind: dm ? "dm" : "private" };
      store.invitations.set(name, entry);
      if (!store.directory.some((room) => room.name === name)) store.directory = [...store.directory, entry];
      if (!dm) {
        view.renderRoomList(store);
        return view.toast(`${by || "Someone"} invited you to #${name}.`, "info");
      }
      // A DM is for us: the one who opened it is the other person. Opening it again sends
      // `invited` again; only the first one is news.
      if (by) chat.learnPeer(name, [by]);
      view.renderRoomList(store);
      if (roomOf(name) && roomOf(name).joined) return;
      view.toast(`${by || "Someone"} opened a direct conversation with you.`, "info");
      chat.join(name, { quiet: true });
    },
  };
}

/** One `presence` event: a whole list (a protocol 1 server), or a join/leave delta. */
export function applyPresence(chat, room, { user, event, members }) {
  const was = room.members.includes(user);
  if (Array.isArray(members)) room.members = members;
  else if (event === "join" && !was) room.members = sortedNames([...room.members, user]);
  else if (event === "leave" && was) room.members = room.members.filter((name) => name !== user);
  room.membersStale = false;
  const is = room.members.includes(user);
  if (!is) chat.setTyping(room, user, false);
  // While we rejoin, the rejoin's ack says who came and went (chat.js join).
  if (!room.quietPresence) chat.presence.changed(room, user, was, is);
  if (is) chat.learnPeer(room.name, [user]);
  if (chat.isActive(room)) view.renderMembers(chat.store);
}

/** Names in the server's order: case-insensitive (Python's str.casefold, near enough). */
function sortedNames(names) {
  const key = (name) => name.toLowerCase();
  return names.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}
