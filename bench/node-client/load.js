// The official socket.io-client as a load generator: N clients in one room, some of them sending
// on an open-loop schedule, every member timing every message it receives.
//
// Driven by bench/official.py (scenario "polling-official"), over stdio, one JSON line each way:
//   node load.js '{"url": ..., "members": 100, "senders": 10, "rate": 50, "count": 500, ...}'
//   -> {"ready": {...}}        every client connected and joined (or gave up): setup figures
//   <- go                      the bench has started measuring the server
//   -> {"result": {...}}       sent, acks, deliveries, latency samples (ns), generator CPU
// Latency is from process.hrtime.bigint() stamped into the text ("t<ns> <n>", the same shape as
// bench/scenarios.py's) to the moment the member's "message" handler runs: one process, one clock.
// Every loop is bounded: connecting by a deadline, sending by count and a time limit, draining by
// the drain time; the process exits by itself.
"use strict";
const { io } = require("socket.io-client");

const config = JSON.parse(process.argv[2] || "{}");
const {
  url, members = 100, senders = 10, rate = 50, count = 500, drain = 10, room = "bench-official",
  transports = ["polling"], concurrency = 50, timeout = 10, prefix = "o",
} = config;
const timeLimit = (config.time_limit || (count / rate) * 3 + 5) * 1000;

const now = () => process.hrtime.bigint();
const emit = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const tally = { delivered: 0, foreign: 0, samples: [], lastNs: 0n };
const requests = { polls: 0, posts: 0 }; // long-polling GETs started, POSTs answered

function countRequests(socket) {
  const transport = socket.io.engine && socket.io.engine.transport;
  if (transport && transport.name === "polling") {
    transport.on("poll", () => { requests.polls += 1; });
    transport.on("drain", () => { requests.posts += 1; });
  }
}

function onMessage(message) {
  const at = now();
  const text = message && typeof message.text === "string" ? message.text : "";
  if (!text.startsWith("t")) {
    tally.foreign += 1;
    return;
  }
  tally.delivered += 1;
  tally.samples.push(Number(at - BigInt(text.slice(1).split(" ", 1)[0])));
  tally.lastNs = at;
}

async function openOne(i, failures) {
  // forceNew: one Manager (one Engine.IO session) per client, as separate browsers would have.
  const socket = io(url, {
    transports, forceNew: true, reconnection: false, auth: { name: `${prefix}${i}` },
    timeout: timeout * 1000,
  });
  try {
    await new Promise((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("connect_error", reject);
    });
    socket.on("message", onMessage);
    countRequests(socket);
    const ack = await socket.timeout(timeout * 1000).emitWithAck("join", { room });
    if (!(ack && ack.ok)) throw new Error(`join refused: ${JSON.stringify(ack)}`);
    return socket;
  } catch (err) {
    socket.disconnect();
    failures.push(String((err && err.message) || err));
    return null;
  }
}

async function openAll() {
  const clients = new Array(members).fill(null);
  const failures = [];
  let next = 0;
  const worker = async () => {
    while (next < members) {
      const i = next++;
      clients[i] = await openOne(i, failures);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, members) }, worker));
  return { clients: clients.filter(Boolean), failures };
}

async function drive(clients) {
  const acks = { ok: 0, error: 0 };
  const lags = [];
  const from = clients.slice(0, senders);
  const cpu0 = process.cpuUsage();
  requests.polls = requests.posts = 0;
  const t0 = now();
  const stopAt = Date.now() + timeLimit;
  let sent = 0;
  while (sent < count && Date.now() < stopAt) {
    const due = Math.min(count, Math.floor((Number(now() - t0) * rate) / 1e9) + 1);
    while (sent < due) {
      const scheduled = t0 + BigInt(Math.floor((sent * 1e9) / rate));
      const stamp = now();
      lags.push(Number(stamp - scheduled));
      from[sent % from.length]
        .timeout((drain + timeLimit / 1000) * 1000)
        .emit("message", { room, text: `t${stamp} ${sent}`, client_id: `c${stamp}-${sent}` },
          (err, ack) => { acks[!err && ack && ack.ok ? "ok" : "error"] += 1; });
      sent += 1;
    }
    const nextDue = t0 + BigInt(Math.floor((sent * 1e9) / rate));
    await sleep(Math.max(0, Number(nextDue - now()) / 1e6));
  }
  const sendSeconds = Number(now() - t0) / 1e9;
  const expected = sent * clients.length;
  const drainUntil = Date.now() + drain * 1000;
  while (Date.now() < drainUntil
         && (tally.delivered < expected || acks.ok + acks.error < sent)) {
    await sleep(20);
  }
  const cpu = process.cpuUsage(cpu0);
  return {
    sent, acks_ok: acks.ok, ack_errors: acks.error, expected_deliveries: expected,
    delivered: tally.delivered, foreign: tally.foreign, send_seconds: sendSeconds,
    active_seconds: tally.delivered ? Number(tally.lastNs - t0) / 1e9 : sendSeconds,
    generator_cpu_s: (cpu.user + cpu.system) / 1e6,
    polls: requests.polls, posts: requests.posts,
    samples_ns: tally.samples, send_lags_ns: lags,
  };
}

function waitForGo() {
  return new Promise((resolve) => {
    let buffered = "";
    process.stdin.on("data", (chunk) => {
      buffered += chunk;
      if (buffered.includes("\n")) resolve(buffered.trim());
    });
    process.stdin.on("end", () => resolve("eof"));
  });
}

async function main() {
  // Never outlive the bench: the whole run is bounded even if the server stops answering.
  const hardStop = setTimeout(() => process.exit(3),
    timeLimit + (drain + 2 * timeout + 120) * 1000);
  hardStop.unref();
  const t0 = Date.now();
  const { clients, failures } = await openAll();
  const setupSeconds = (Date.now() - t0) / 1000;
  await sleep(500); // let the joins' presence events settle, as bench/scenarios.py does
  emit({ ready: { connected: clients.length, failures, setup_s: setupSeconds } });
  const word = await waitForGo();
  if (word === "go" && clients.length === members) {
    emit({ result: await drive(clients) });
  }
  for (const socket of clients) socket.disconnect(); // each a CLOSE packet, so names free now
  await sleep(300);
  process.exit(0);
}

main().catch((err) => {
  emit({ error: String((err && err.stack) || err) });
  process.exit(1);
});
