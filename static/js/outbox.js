// Messages on their way out: shown as pending, kept across reloads, sent one at a time in the
// order they were written, and retried with the same client_id so a retry is never a duplicate.
// A message with files carries the uploaded files' descriptions (sent as their ids), kept with it.
import { storage } from "./store.js";

// How often one message is tried before it is marked "Not sent" (with a Retry button).
export const MAX_TRIES = 5;
const RETRY_BASE_MS = 500; // waits 0.5 s, 1 s, 1.5 s ... between tries
// Worth trying again: the answer was lost, or the server asked us to slow down or failed itself.
// Anything else (invalid_text, forbidden, ...) would fail again the same way.
const TRANSIENT = new Set(["timeout", "rate_limited", "internal", "bad_ack"]);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A client_id for a send; randomUUID needs a secure context, so fall back to getRandomValues. */
export function newClientId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export class Outbox {
  /**
   * key: where to keep the queue in localStorage (one per person).
   * send(entry) -> Promise<ack>; isConnected() -> bool;
   * onDelivered(entry, message) and onChange(entry) tell the controller what happened.
   */
  constructor(key, { send, isConnected, onDelivered, onChange }) {
    this.key = key;
    Object.assign(this, { send, isConnected, onDelivered, onChange });
    this.busy = false;
    // Restored entries wait for the connection; a failed one stays failed until Retry.
    this.entries = storage.readJson(key, []).filter(valid).map((entry) => ({
      ...entry, state: entry.state === "failed" ? "failed" : "waiting", tries: entry.tries || 0,
    }));
  }

  forRoom(room) {
    return this.entries.filter((entry) => entry.room === room);
  }

  rooms() {
    return [...new Set(this.entries.map((entry) => entry.room))];
  }

  /**
   * Queue a new message (a reply, with `reply_to`; with `files`, uploaded ones) and start
   * sending; answers the entry.
   */
  add(room, text, { reply_to = null, files = [] } = {}) {
    const entry = { client_id: newClientId(), room, text, state: "waiting", tries: 0, error: null };
    if (reply_to) entry.reply_to = reply_to;
    if (files.length) entry.files = files;
    this.entries.push(entry);
    this.changed(entry);
    this.pump();
    return entry;
  }

  /** The server has the message (its ack or its broadcast arrived): stop tracking it. */
  delivered(clientId) {
    const entry = this.entries.find((item) => item.client_id === clientId);
    if (!entry) return null;
    this.entries.splice(this.entries.indexOf(entry), 1);
    this.changed(entry);
    return entry;
  }

  retry(clientId) {
    const entry = this.entries.find((item) => item.client_id === clientId);
    if (!entry) return;
    Object.assign(entry, { state: "waiting", tries: 0, error: null });
    this.changed(entry);
    this.pump();
  }

  discard(clientId) {
    this.delivered(clientId);
  }

  /** Send what is queued, oldest first, one at a time; stops while the connection is down. */
  async pump() {
    if (this.busy) return;
    this.busy = true;
    try {
      for (;;) {
        const entry = this.entries.find((item) => item.state !== "failed");
        if (!entry) break;
        if (!this.isConnected()) {
          this.setState(entry, "waiting");
          break;
        }
        await this.attempt(entry);
      }
    } finally {
      this.busy = false;
    }
  }

  async attempt(entry) {
    this.setState(entry, "sending");
    const ack = await this.send(entry);
    if (!this.entries.includes(entry)) return; // its broadcast came first, or it was discarded
    if (ack.ok) {
      this.delivered(entry.client_id);
      this.onDelivered(entry, ack.message);
      return;
    }
    if (ack.error.code === "offline") return this.setState(entry, "waiting");
    entry.tries += 1;
    entry.error = ack.error.message;
    if (!TRANSIENT.has(ack.error.code) || entry.tries >= MAX_TRIES) return this.setState(entry, "failed");
    this.setState(entry, "retrying");
    // A rate limit says when it lifts; otherwise back off a little more after each try.
    const wait = ack.error.retry_after ? ack.error.retry_after * 1000 : RETRY_BASE_MS * entry.tries;
    await sleep(wait);
  }

  setState(entry, state) {
    entry.state = state;
    this.changed(entry);
  }

  changed(entry) {
    const kept = this.entries.map(({ client_id, room, text, state, tries, reply_to, files }) => ({
      client_id, room, text, state, tries, ...(reply_to ? { reply_to } : {}), ...(files ? { files } : {}),
    }));
    storage.writeJson(this.key, kept);
    this.onChange(entry);
  }
}

function valid(entry) {
  return Boolean(entry) && ["client_id", "room", "text"].every((key) => typeof entry[key] === "string")
    && (entry.reply_to === undefined || Number.isInteger(entry.reply_to))
    && (entry.files === undefined || (Array.isArray(entry.files) && entry.files.every(
      (file) => Boolean(file) && Number.isInteger(file.id) && typeof file.name === "string")));
}
