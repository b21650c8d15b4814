// Links to a message, `/?room=<room>&message=<id>`, as a push notification opens them
// (static/sw.js): once the chat is connected and back in its rooms, open that message in its
// room, then take the query off the address so a reload does not jump there again.
const WAIT_MS = 200;
const GIVE_UP_MS = 30_000;

/** The linked message of this address, if any: {room, id}. */
export function linkedMessage(search = window.location.search) {
  const params = new URLSearchParams(search);
  const room = params.get("room");
  const id = Number(params.get("message"));
  return room && Number.isSafeInteger(id) && id > 0 ? { room, id } : null;
}

/** Open the linked message in `chat` once it is ready. */
export function openLinked(chat) {
  const link = linkedMessage();
  if (!link) return;
  const started = Date.now();
  const timer = setInterval(async () => {
    if (Date.now() - started > GIVE_UP_MS) return clearInterval(timer);
    if (!chat.ready) return;
    clearInterval(timer);
    window.history.replaceState(null, "", window.location.pathname);
    const problem = await chat.openMessage(link.room, link.id);
    if (problem) chat.toast(problem);
  }, WAIT_MS);
}
