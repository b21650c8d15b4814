// The reference point: Node's socket.io server speaking the bench's events (guest auth {name},
// join, message with acks, the broadcast). Messages live in memory -- nothing is stored -- so this
// is the floor of the transport, not a chat server: Parley is compared with it, not against it.
// Run: PORT=... node bench/node/server.js (python -m bench run --servers parley,naive,node).
"use strict";
const http = require("http");
const { Server } = require("socket.io");

const server = http.createServer((req, res) => {
  const ok = req.url === "/healthz";
  res.writeHead(ok ? 200 : 404, { "Content-Type": "application/json" });
  res.end(ok ? '{"ok":true}' : "{}");
});
const io = new Server(server); // socket.io's defaults: WebSocket + polling, no compression
const online = new Set();
const members = new Map(); // room -> Set of names
let nextId = 1;

io.use((socket, next) => {
  const name = socket.handshake.auth && socket.handshake.auth.name;
  if (!name || online.has(name)) return next(new Error("name_taken"));
  online.add(name);
  socket.data.name = name;
  next();
});

io.on("connection", (socket) => {
  const name = socket.data.name;
  socket.on("join", (data, ack) => {
    const room = data.room;
    socket.join(room);
    if (!members.has(room)) members.set(room, new Set());
    members.get(room).add(name);
    if (typeof ack === "function") {
      ack({ ok: true, room: { name: room }, members: [...members.get(room)].sort(), history: [] });
    }
  });
  socket.on("message", (data, ack) => {
    const message = {
      id: nextId++, room: data.room, author: name, text: data.text,
      created_at: new Date().toISOString(), client_id: data.client_id ?? null,
    };
    io.to(data.room).emit("message", message);
    if (typeof ack === "function") ack({ ok: true, message });
  });
  socket.on("disconnect", () => {
    online.delete(name);
    for (const names of members.values()) names.delete(name);
  });
});

server.listen(Number(process.env.PORT || 5000), process.env.HOST || "127.0.0.1");
