// Paging through a room's history with the `history` event (messages come oldest first).

export const HISTORY_PAGE = 50; // the server's default page, and what a join ack carries
export const CATCH_UP_OVERLAP = 20; // see RoomState.catchUpFrom
// Every so often, read what came after our newest message even without a reconnect: a broadcast
// can be lost while the connection stays up (a server process crashed between commit and send).
export const RESYNC_MS = 30000;
const CATCH_UP_PAGE = 100; // the server's maximum
const CATCH_UP_PAGES = 10; // after a long absence, 1,000 messages is plenty; older ones page in

/** The page of messages just before message id `before`. */
export function fetchOlder(conn, room, before) {
  return conn.request("history", { room, before, limit: HISTORY_PAGE });
}

/**
 * Everything after message id `after`, in pages, for catching up after a reconnect.
 * Answers {messages, error}; on an error, what arrived before it.
 */
export async function fetchNewer(conn, room, after) {
  const messages = [];
  let cursor = after;
  for (let page = 0; page < CATCH_UP_PAGES; page += 1) {
    const ack = await conn.request("history", { room, after: cursor, limit: CATCH_UP_PAGE });
    if (!ack.ok) return { messages, error: ack.error };
    messages.push(...ack.messages);
    if (ack.messages.length < CATCH_UP_PAGE) break;
    cursor = ack.messages[ack.messages.length - 1].id;
  }
  return { messages, error: null };
}
