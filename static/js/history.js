// Paging through a room's history with the `history` event (messages come oldest first).

export const HISTORY_PAGE = 50; // the server's default page, and what a join ack carries
// Every so often, read the room's change log even without a reconnect: a broadcast can be lost
// while the connection stays up (a server process crashed between commit and send).
export const RESYNC_MS = 30000;

// Messages opened in their context (a search result): the page around one (protocol v2 `around`).
export const AROUND_PAGE = 50;

/** The page of messages just before message id `before`. */
export function fetchOlder(conn, room, before) {
  return conn.request("history", { room, before, limit: HISTORY_PAGE });
}

/** The page of messages just after message id `after` (scrolling down a stretch of the past). */
export function fetchNewer(conn, room, after) {
  return conn.request("history", { room, after, limit: HISTORY_PAGE });
}

/** The latest page of messages (back to the live end). */
export function fetchLatest(conn, room) {
  return conn.request("history", { room, limit: HISTORY_PAGE });
}

/** Message `id` and those around it: about half the page before it (it included), the rest after. */
export function fetchAround(conn, room, id) {
  return conn.request("history", { room, around: id, limit: AROUND_PAGE });
}
