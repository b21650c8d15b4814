// People and rooms: a person's card (send them a direct message, remove them from the room, ban
// them), and the forms to start a direct conversation, create a room and invite someone to it.
// A control shows only where the server would allow it (store.js); the server decides anyway.
import { confirmDialog, formDialog, modal } from "./dialogs.js";
import { el } from "./dom.js";
import { cardDetails } from "./profiles.js";
import { isDm } from "./store.js";
import { avatarInto } from "./timeline.js";

/** The card of `name`, from the member list or a message's author line. */
export async function showPerson(chat, name) {
  const { store } = chat;
  const room = store.activeRoom;
  const me = store.isMe(name);
  const guest = store.guests.has(name);
  const here = Boolean(room) && room.members.includes(name);
  const avatar = el("span", { className: guest ? "avatar guest" : "avatar large", attrs: { "aria-hidden": "true" } });
  avatarInto(avatar, name, guest ? 64 : 256);
  const facts = [me ? "This is you." : null, guest ? "A guest, without an account." : null,
    room ? `${here ? "In" : "Not in"} ${store.label(room.name)} now.` : null].filter(Boolean);
  const actions = [];
  const action = (text, run, className = "btn") => {
    const button = el("button", { type: "button", className, text });
    actions.push([button, run]);
    return button;
  };
  if (!me && store.account && !guest) action("Send a direct message", () => startDm(chat, name), "btn btn-primary");
  if (!me && room && !isDm(room.name) && store.canModerate(room.name)) {
    action(`Remove from ${store.label(room.name)}`, () => kick(chat, room.name, name));
  }
  if (!me && store.admin) action("Ban from Parley", () => ban(chat, name), "btn btn-danger");
  const close = el("button", { type: "button", className: "btn btn-ghost", text: "Close" });
  const { done, closed } = modal(name, [
    el("div", { className: "person" }, avatar, el("div", { className: "person-about" },
      guest ? null : cardDetails(name), // display name, @name, status (profiles.js)
      el("ul", { className: "person-facts" }, ...facts.map((fact) => el("li", { text: fact }))))),
    el("div", { className: "dialog-actions person-actions" }, ...actions.map(([button]) => button), close),
  ], { className: "person-card" });
  close.addEventListener("click", () => done(null));
  for (const [button, run] of actions) button.addEventListener("click", () => done(run));
  (actions[0]?.[0] || close).focus();
  const chosen = await closed;
  if (chosen) await chosen();
}

/** Open (or go to) the direct conversation with `name`. */
async function startDm(chat, name) {
  const problem = await chat.openDm(name);
  if (problem) chat.toast(`Could not start a conversation with ${name}: ${problem}`);
}

async function kick(chat, room, name) {
  const isPrivate = chat.store.rooms.get(room)?.kind === "private";
  const confirmed = await confirmDialog({
    title: `Remove ${name} from ${chat.store.label(room)}?`,
    body: [el("p", { className: "dialog-intro", text: isPrivate
      ? "They lose their place in this private room until they are invited again."
      : "They are put out of the room and cannot come back for a while." })],
    action: "Remove", danger: true,
  });
  if (confirmed) await chat.kick(room, name);
}

async function ban(chat, name) {
  const guest = chat.store.guests.has(name);
  const confirmed = await confirmDialog({
    title: `Ban ${name} from Parley?`,
    body: [el("p", { className: "dialog-intro", text: guest
      ? "Their connections close, and the name is kept out for a while."
      : "Their account is closed until an admin lifts the ban; every connection of theirs ends now." })],
    action: "Ban", danger: true,
  });
  if (confirmed) await chat.ban(name);
}

export function newDm(chat) {
  return formDialog({
    title: "New direct message",
    intro: "A private conversation between the two of you. Both of you need an account.",
    fields: [{ name: "user", label: "Their name", placeholder: "name" }],
    action: "Start",
    submit: ({ user }) => (user ? chat.openDm(user) : "Whose name?"),
  });
}

export function newRoom(chat) {
  const { account } = chat.store;
  return formDialog({
    title: "Create a room",
    fields: [
      { name: "room", label: "Name", placeholder: "new-room", hint: "Lowercase letters, digits and dashes." },
      {
        name: "private", type: "checkbox", label: "Private: only people you invite can join", disabled: !account,
        hint: account ? "You own the rooms you create: you can pin, remove people and invite them." : "Log in to own private rooms.",
      },
    ],
    action: "Create",
    submit: ({ room, private: isPrivate }) => (room ? chat.createRoom(room, isPrivate) : "Name the room."),
  });
}

export function invite(chat) {
  const room = chat.store.active;
  if (!room) return null;
  return formDialog({
    title: `Invite someone to ${chat.store.label(room)}`,
    intro: "They can join it from their room list once invited (they need an account).",
    fields: [{ name: "user", label: "Their name", placeholder: "name" }],
    action: "Invite",
    submit: ({ user }) => (user ? chat.invite(room, user) : "Whose name?"),
  });
}
