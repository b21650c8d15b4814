// The Socket.IO connection: opening it, its state for the indicator, and acked requests.
/* global io */

// Refusals that mean "pick another name"; anything else at connect time is a network problem.
const NAME_REFUSALS = new Set([
  "name_taken", "invalid_name", "name_registered", "auth_required", "guests_disabled",
]);
// The server closed us on purpose (flooding, say): wait a little before coming back.
const SERVER_CLOSE_RETRY_MS = 2000;
// After a network drop the server may still hold our name until its ping timeout notices the old
// connection is gone (up to ping_interval + ping_timeout, 45 s with the defaults), so a
// reconnect refused as name_taken is retried for a while before giving up.
const STALE_NAME_RETRY_MS = 3000;
const STALE_NAME_RETRY_FOR_MS = 60000;
// The same on a reload: the tab we replaced may still hold the name for a moment. Retried only
// briefly, since a real second tab with the same name should get the nickname form soon.
const RESUME_RETRY_MS = 1000;
const RESUME_RETRIES = 3;
const ACK_TIMEOUT_MS = 10000;

/** `?transport=polling` (or websocket) pins the transport; handy for proxies and for tests. */
export function transportsFromQuery(search = window.location.search) {
  const transport = new URLSearchParams(search).get("transport");
  return transport === "polling" || transport === "websocket" ? [transport] : undefined;
}

/** The {code, message} of a connect_error, whatever shape the server sent it in. */
export function connectError(err) {
  const data = err && err.data;
  if (data && typeof data.code === "string") {
    return { code: data.code, message: String(data.message || err.message) };
  }
  const text = String((err && err.message) || "");
  try {
    const parsed = JSON.parse(text);
    if (parsed && typeof parsed.code === "string") return parsed;
  } catch {
    /* not JSON; see below */
  }
  // ConnectionRefusedError(dict) reaches the client as str(dict), a Python repr such as
  // {'code': 'name_taken', 'message': "The name 'x' is already online."}
  const code = /['"]code['"]:\s*['"]([a-z_]+)['"]/.exec(text);
  const message = /['"]message['"]:\s*(['"])(.*)\1\s*\}\s*$/.exec(text);
  if (code) return { code: code[1], message: message ? message[2] : text };
  return { code: "connect_error", message: text || "Could not connect to the server." };
}

export class Connection {
  /**
   * name: the guest nickname, or null for a logged-in browser (its session cookie says who it is,
   *       and the server ignores the name then).
   * handlers: {onState(state, attempt), onTransport(name), onConnect(first),
   *            onRefused({code, message}), events: {message, presence, typing, ...}}
   * resumed: the nickname was remembered from an earlier visit (see RESUME_RETRIES).
   */
  constructor(name, handlers, { resumed = false } = {}) {
    this.name = name;
    this.handlers = handlers;
    this.resumed = resumed; // the name came from storage, not from the form just now
    this.socket = null;
    this.everConnected = false;
    this.lostAt = 0;
    this.staleRetries = 0;
    this.retryTimer = null;
  }

  open() {
    const options = {
      reconnectionDelayMax: 5000,
      // Give up on one connection attempt after 10 s (default 20 s) and try again: an attempt
      // that went to a dying server can hang, and the next one may well succeed at once.
      timeout: 10000,
      // A new nickname must not reuse the previous Manager (and its auth) from io()'s cache.
      forceNew: true,
      // Say goodbye on reload/close. Over long-polling the server would otherwise hold our name
      // until its ping timeout, and the reloaded page would be refused as name_taken.
      closeOnBeforeunload: true,
    };
    // Protocol 2: `presence` events carry only who joined or left; each join ack has the list.
    options.auth = this.name ? { name: this.name, protocol: 2 } : { protocol: 2 };
    const transports = transportsFromQuery();
    if (transports) options.transports = transports;
    this.socket = io(options);
    this.handlers.onState("connecting");
    this.listen(this.socket);
    window.addEventListener("pagehide", this.sayGoodbye);
  }

  // closeOnBeforeunload's goodbye over long-polling is a request that the browser may cancel as
  // the page goes away, leaving our name taken until the server's ping timeout (45 s), so the
  // reloaded page would be refused. A beacon outlives the page: it carries Engine.IO's close
  // packet ("1") for the session. Over WebSocket the browser closes the socket itself.
  sayGoodbye = () => {
    if (this.transportName === "polling" && this.engineSid) {
      const sid = encodeURIComponent(this.engineSid);
      navigator.sendBeacon(`/socket.io/?EIO=4&transport=polling&sid=${sid}`, "1");
    }
  };

  listen(socket) {
    socket.on("connect", () => this.onConnect());
    socket.on("disconnect", (reason) => this.onDisconnect(reason));
    socket.on("connect_error", (err) => this.onConnectError(err));
    socket.io.on("reconnect_attempt", (attempt) => this.onAttempt(attempt));
    // Socket.IO starts on long-polling and upgrades to WebSocket when it can; where WebSocket is
    // blocked (a proxy, a firewall) the upgrade fails quietly and polling carries on.
    socket.io.on("open", () => this.watchTransport(socket.io.engine));
    for (const [event, handler] of Object.entries(this.handlers.events)) socket.on(event, handler);
  }

  watchTransport(engine) {
    this.engineSid = engine.id;
    this.transportName = engine.transport.name;
    this.handlers.onTransport(engine.transport.name);
    engine.on("upgrade", (transport) => {
      this.transportName = transport.name;
      this.handlers.onTransport(transport.name);
    });
  }

  close() {
    clearTimeout(this.retryTimer);
    window.removeEventListener("pagehide", this.sayGoodbye);
    if (this.socket) {
      this.socket.removeAllListeners();
      this.socket.io.removeAllListeners();
      this.socket.disconnect();
    }
    this.socket = null;
  }

  get connected() {
    return Boolean(this.socket && this.socket.connected);
  }

  /** Emit with an ack; always resolves to the ack shape {ok, ...} or {ok:false, error}. */
  async request(event, data, timeout = ACK_TIMEOUT_MS) {
    if (!this.connected) {
      return { ok: false, error: { code: "offline", message: "Not connected to the server." } };
    }
    try {
      const ack = await this.socket.timeout(timeout).emitWithAck(event, data);
      if (ack && typeof ack === "object") return ack;
      return { ok: false, error: { code: "bad_ack", message: "The server sent an odd answer." } };
    } catch {
      return { ok: false, error: { code: "timeout", message: "The server did not answer in time." } };
    }
  }

  onConnect() {
    const first = !this.everConnected;
    this.everConnected = true;
    this.staleRetries = 0;
    this.handlers.onState("connected");
    this.handlers.onConnect(first);
  }

  onDisconnect(reason) {
    this.lostAt = Date.now();
    this.handlers.onState("offline");
    this.handlers.onTransport(null);
    // The server closed us on purpose; socket.io does not retry that by itself.
    if (reason === "io server disconnect") {
      this.retryTimer = setTimeout(() => this.socket && this.socket.connect(), SERVER_CLOSE_RETRY_MS);
    }
  }

  onAttempt(attempt) {
    this.handlers.onState(this.everConnected ? "reconnecting" : "connecting", attempt);
  }

  onConnectError(err) {
    if (this.socket.active) return; // a network failure: socket.io keeps retrying on its own
    const error = connectError(err);
    if (this.mayBeStaleName(error)) {
      this.staleRetries += 1;
      this.handlers.onState(this.everConnected ? "reconnecting" : "connecting", this.staleRetries);
      const delay = this.everConnected ? STALE_NAME_RETRY_MS : RESUME_RETRY_MS;
      this.retryTimer = setTimeout(() => this.socket && this.socket.connect(), delay);
      return;
    }
    this.close();
    this.handlers.onRefused(NAME_REFUSALS.has(error.code) ? error : { ...error, code: "refused" });
  }

  mayBeStaleName(error) {
    if (error.code !== "name_taken") return false;
    if (this.everConnected) return Date.now() - this.lostAt < STALE_NAME_RETRY_FOR_MS;
    return this.resumed && this.staleRetries < RESUME_RETRIES;
  }
}
