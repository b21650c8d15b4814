// The official socket.io-client (bench/node-client's, from its lock file) over long-polling only:
// connect as a guest, join a room, then emit a burst of messages back to back -- the client packs
// them into as few POSTs as it can, as the page's outbox flush after a reconnect does -- and
// report how many were acknowledged. Bounded: it exits by itself after `timeout` seconds.
//   node official_burst.js '{"url": ..., "name": ..., "room": ..., "count": 40}'
//   -> {"acked": n, "ok": n, "errors": [...]}
"use strict";
const { io } = require("socket.io-client");

const { url, name, room, count = 40, timeout = 20 } = JSON.parse(process.argv[2]);
const report = (result) => { process.stdout.write(JSON.stringify(result) + "\n"); process.exit(0); };
const result = { acked: 0, ok: 0, errors: [] };
setTimeout(() => report({ ...result, timedOut: true }), timeout * 1000);

const socket = io(url, { transports: ["polling"], auth: { name }, reconnection: false });
socket.on("connect_error", (err) => report({ ...result, errors: [String(err.message)] }));
socket.on("connect", () => {
  socket.emit("join", { room }, (ack) => {
    if (!ack.ok) return report({ ...result, errors: [ack.error] });
    for (let i = 0; i < count; i++) {
      socket.emit("message", { room, text: `burst ${i}`, client_id: `${name}-${i}` }, (answer) => {
        result.acked += 1;
        if (answer.ok) result.ok += 1;
        else result.errors.push(answer.error);
        if (result.acked === count) report(result);
      });
    }
  });
});
