// Paging through a room's history with the `history` event (messages come oldest first).

export const HISTORY_PAGE = 50; // the server's default page, and what a join ack carries
// Every so often, read the room's change log even without a reconnect: a broadcast can be lost
// while the connection stays up (a server process crashed between commit and send).
export const RESYNC_MS = 30000;

/** The page of messages just before message id `before`. */
export function fetchOlder(conn, room, before) {
  return conn.request("history", { room, before, limit: HISTORY_PAGE });
}
