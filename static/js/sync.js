// Catching up with a room's change log (protocol v2 `sync`): what was said, edited, deleted,
// reacted to and pinned while we were away -- each message once, in its state after its latest
// change (the log is compacted). docs/protocol.md, "Client rule".

export const SYNC_PAGE = 200; // changes per request (the server allows 1-500)
// This many pages behind (4,000 changes) and loading the room again is quicker than replaying.
export const SYNC_PAGES = 20;
// A live change arrived but one before it did not: give the late one this long, then sync.
export const GAP_SYNC_MS = 2000;

/** The changes to `room` after `since`: {ok, changes, seq, more} or {ok: false, error}. */
export function fetchChanges(conn, room, since) {
  return conn.request("sync", { room, since, limit: SYNC_PAGE });
}

/**
 * What one change of a sync answer leaves: {deleted: id}, or {message, created} where created
 * says the message was posted after `since` and not changed since (a `message` entry).
 */
export function outcome(change) {
  if (change.type === "message_deleted") return { deleted: change.id };
  if (change.type === "message") {
    const { type, ...message } = change;
    return { message, created: true };
  }
  return { message: change.message, created: false };
}
