// What the server says about rooms besides messages: who came and went, who is typing, and
// moderation (a message deleted, being removed from a room, being invited to one).
import * as view from "./render.js";
import { followingBottom } from "./scroll.js";

/** Handlers for Socket.IO events, bound to the chat controller. */
export function roomEvents(chat) {
  const { store } = chat;
  const roomOf = (name) => store.rooms.get(name) || null;

  function addNotice(room, text) {
    const index = room.addNotice(text);
    if (chat.isActive(room)) followingBottom(() => view.insertItem(store, index));
  }

  return {
    presence({ room: name, user, event, members }) {
      const room = roomOf(name);
      if (!room) return;
      const was = room.members.includes(user);
      room.members = members;
      const is = members.includes(user);
      if (!is) chat.setTyping(room, user, false);
      if (user !== store.me && was !== is) addNotice(room, `${user} ${event === "join" ? "joined" : "left"}`);
      if (chat.isActive(room)) view.renderMembers(store);
    },

    typing({ room: name, user, typing }) {
      const room = roomOf(name);
      if (room && user !== store.me) chat.setTyping(room, user, typing);
    },

    message_deleted({ room: name, id }) {
      const room = roomOf(name);
      const index = room ? room.removeMessage(id) : -1;
      if (index >= 0 && chat.isActive(room)) view.removeItem(store, index);
    },

    // The server's message queue had a gap: events may have passed us by; read what we missed.
    resync({ rooms } = {}) {
      chat.resync(rooms || null);
    },

    kicked({ room: name, by }) {
      if (!roomOf(name)) return;
      chat.forget(name);
      view.toast(`${by || "A moderator"} removed you from #${name}.`, "info");
    },

    invited({ room: name, by }) {
      if (!store.directory.some((entry) => entry.name === name)) {
        store.directory = [...store.directory, { name, kind: "private" }];
        view.renderRoomList(store);
      }
      view.toast(`${by || "Someone"} invited you to #${name}.`, "info");
    },
  };
}
