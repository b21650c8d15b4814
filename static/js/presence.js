// Who came and went, told the way Slack and Zulip tell it: one line for a run of comings and
// goings ("alice, bob and 3 others joined"), and nothing for a reconnect. A leave is held back
// for a few seconds; if the person is back by then (a reload, a dropped connection, a server
// restart that sent everybody reconnecting) neither the leave nor the return is news. So after a
// restart every page shows the same thing: nothing.

// Long enough for a socket.io client to come back after a server restart: its reconnection
// attempts are at most 5 s apart (connection.js), then the handshake and the rejoin; twice that,
// so that a busy machine or network still makes it.
export const PRESENCE_GRACE_MS = 10000;
const NAMES_SHOWN = 3; // "a, b and c"; a fourth name makes it "a, b and 2 others"

/** "alice", "alice and bob", "alice, bob and carol", "alice, bob and 3 others". */
export function nameList(names) {
  if (names.length <= 1) return names.join("");
  if (names.length <= NAMES_SHOWN) return `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
  const others = names.length - (NAMES_SHOWN - 1);
  return `${names.slice(0, NAMES_SHOWN - 1).join(", ")} and ${others} others`;
}

/** What a person's run of "join"/"leave" amounts to: its first and last step tell. */
function outcome(steps) {
  const first = steps[0];
  const last = steps[steps.length - 1];
  if (first === last) return first === "join" ? "joined" : "left";
  return first === "join" ? "joined and left" : "left and came back";
}

/**
 * One line for a run of presence changes: `changes` maps each user (in the order they first
 * appeared) to their steps. "alice and bob joined; carol left; dave joined and left".
 */
export function presenceSentence(changes) {
  const groups = new Map(); // outcome -> names, in the order the outcomes first appear
  for (const [user, steps] of changes) {
    const phrase = outcome(steps);
    if (!groups.has(phrase)) groups.set(phrase, []);
    groups.get(phrase).push(user);
  }
  return [...groups].map(([phrase, names]) => `${nameList(names)} ${phrase}`).join("; ");
}

/** Every name in a run, for the line's tooltip when "3 others" hides some. */
export function presenceDetail(changes) {
  const said = (steps) => steps.map((step) => (step === "join" ? "joined" : "left")).join(", ");
  return [...changes].map(([user, steps]) => `${user}: ${said(steps)}`).join("\n");
}

const same = (a, b) => a.toLowerCase() === b.toLowerCase();

/**
 * Decides which membership changes are news. `note(room, user, step)` draws one ("join" or
 * "leave"); `me` is never news to myself.
 */
export class PresenceNotices {
  constructor(me, note) {
    this.me = me;
    this.note = note;
  }

  /** `user` was or was not a member of `room`, and now is or is not. */
  changed(room, user, was, is) {
    if (was === is || same(user, this.me)) return;
    if (is) {
      const timer = room.leaving.get(user);
      if (timer === undefined) return this.note(room, user, "join");
      clearTimeout(timer); // back within the grace period: they never really left
      room.leaving.delete(user);
      return;
    }
    if (room.leaving.has(user)) return;
    room.leaving.set(user, setTimeout(() => {
      room.leaving.delete(user);
      if (!room.members.includes(user)) this.note(room, user, "leave");
    }, PRESENCE_GRACE_MS));
  }

  /** We came back to `room` after a drop: compare who was there then with who is there now. */
  rejoined(room, before, after) {
    for (const user of before) if (!after.includes(user)) this.changed(room, user, true, false);
    for (const user of after) if (!before.includes(user)) this.changed(room, user, false, true);
  }

  forget(room) {
    room.leaving.forEach((timer) => clearTimeout(timer));
    room.leaving.clear();
  }
}
