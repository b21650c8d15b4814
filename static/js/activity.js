// Tells the server whether this page is in the foreground (the `active` operation): when it
// comes to the front or gets focus, and once a minute while it stays there. Push and e-mail
// notifications wait until no page of the account has been in the foreground for a while.
const EVERY_MS = 60_000;
const FIRST_TRY_MS = 3_000; // until the connection is up and the first report got through

/** Start reporting through `send(data)` (the chat's request); answers a function that stops. */
export function reportActivity(send) {
  const visible = () => document.visibilityState === "visible";
  const report = () => send({ active: visible() });
  const onVisibility = () => report();
  const onFocus = () => visible() && send({ active: true });
  const timer = setInterval(() => visible() && send({ active: true }), EVERY_MS);
  const tryFirst = async () => {
    if (!visible()) return;
    const ack = await send({ active: true });
    if (ack && ack.ok) clearInterval(first);
  };
  const first = setInterval(tryFirst, FIRST_TRY_MS);
  tryFirst(); // at once: others' pages show "away" until a first report arrives
  document.addEventListener("visibilitychange", onVisibility);
  window.addEventListener("focus", onFocus);
  return () => {
    clearInterval(timer);
    clearInterval(first);
    document.removeEventListener("visibilitychange", onVisibility);
    window.removeEventListener("focus", onFocus);
  };
}
