// Files to send with the next message (accounts only: guests cannot share files). They come
// from the attach button (a file picker), from a drop on the conversation, or from a paste of
// an image (a screenshot) into the composer; each uploads at once and shows as a chip above
// the composer -- name, size, a progress bar, a remove button, and what went wrong, if
// anything. The message goes out once every upload is done (chat.js send), with their ids.
// Uploads belong to the room they were made for, so each room has its own tray.
import { fileIcon } from "./attachments.js";
import { byId, el } from "./dom.js";
import { humanSize } from "./format.js";
import { retryable, uploadErrorText, uploadFile } from "./upload.js";

export const MAX_FILES = 10; // per message (the server's limit)
// Uploads at once. One: the bandwidth is shared anyway, a browser connection stays free for the
// chat's own requests, and the files keep the order they were added in (the server lists a
// message's files by upload id, so by which upload finished first).
const PARALLEL = 1;

let made = 0;

/** A pasted image has a generic name ("image.png"): give it one that says when. */
function pastedName(file) {
  const now = new Date();
  const pad = (n) => String(n).padStart(2, "0");
  const stamp = `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())} ${pad(now.getHours())}.${pad(now.getMinutes())}.${pad(now.getSeconds())}`;
  const ext = (file.type.split("/")[1] || "png").replace("jpeg", "jpg").replace(/[^a-z0-9]/g, "");
  return `Pasted image ${stamp}.${ext}`;
}

export class Tray {
  /** onReady(room): the uploads of `room` are done and a send was waiting for them. */
  constructor({ active, onReady }) {
    this.active = active; // () => the name of the room in view
    this.onReady = onReady;
    this.trays = new Map(); // room -> {items, waiting, note}
    this.running = 0;
  }

  tray(room) {
    if (!this.trays.has(room)) this.trays.set(room, { items: [], waiting: false, note: "" });
    return this.trays.get(room);
  }

  /** Add files (a FileList or an array) to the tray of `room` and start uploading them. */
  add(room, files, { pasted = false } = {}) {
    if (!room) return;
    const tray = this.tray(room);
    const list = [...files];
    const space = Math.max(0, MAX_FILES - tray.items.length);
    const taken = list.slice(0, space);
    if (list.length > taken.length) tray.note = `A message carries at most ${MAX_FILES} files: ${list.length - taken.length} left out.`;
    else if (!tray.waiting) tray.note = "";
    for (const file of taken) {
      made += 1;
      const blob = pasted && /^image\//.test(file.type) ? new File([file], pastedName(file), { type: file.type }) : file;
      tray.items.push({
        key: `file-${made}`, room, blob, name: blob.name || "file", size: blob.size, type: blob.type,
        state: "queued", progress: 0, error: null, canRetry: false, file: null, request: null, node: null,
      });
    }
    this.pump();
    if (room === this.active()) this.render();
  }

  items(room) {
    const tray = room ? this.trays.get(room) : null;
    return tray ? tray.items : [];
  }

  find(room, key) {
    return this.items(room).find((item) => item.key === key) || null;
  }

  /** Take a file out of the tray (stopping its upload). Answers its index, or -1. */
  remove(room, key) {
    const tray = this.trays.get(room);
    const at = tray ? tray.items.findIndex((item) => item.key === key) : -1;
    if (at < 0) return -1;
    const [item] = tray.items.splice(at, 1);
    if (item.request) item.request.abort();
    item.state = "removed";
    if (!tray.waiting) tray.note = "";
    this.settled(room);
    if (room === this.active()) this.render();
    return at;
  }

  retry(room, key) {
    const item = this.find(room, key);
    if (!item || item.state !== "failed") return;
    Object.assign(item, { state: "queued", progress: 0, error: null, canRetry: false });
    this.pump();
    if (room === this.active()) this.render();
  }

  /** Start queued uploads, a few at a time. */
  pump() {
    for (const tray of this.trays.values()) {
      for (const item of tray.items) {
        if (this.running >= PARALLEL) return;
        if (item.state === "queued") this.start(item);
      }
    }
  }

  start(item) {
    this.running += 1;
    item.state = "uploading";
    item.request = uploadFile(item.room, item.blob, (fraction) => {
      item.progress = fraction;
      this.update(item);
    });
    item.request.promise.then((answer) => {
      this.running -= 1;
      item.request = null;
      if (item.state === "removed") return this.pump();
      if (answer.ok) {
        Object.assign(item, { state: "done", progress: 1, file: answer.file });
      } else {
        Object.assign(item, { state: "failed", error: uploadErrorText(answer.error), canRetry: retryable(answer.error) });
      }
      this.pump();
      if (item.room === this.active()) this.render();
      this.settled(item.room);
      return undefined;
    });
  }

  /** The state of the tray of `room`: {count, files (uploaded), busy (still uploading), failed}. */
  status(room) {
    const items = this.items(room);
    return {
      count: items.length,
      files: items.filter((item) => item.state === "done").map((item) => item.file),
      busy: items.filter((item) => item.state === "queued" || item.state === "uploading").length,
      failed: items.filter((item) => item.state === "failed").length,
    };
  }

  /** The uploaded files, for the message being sent: the tray is emptied. */
  take(room) {
    const { files } = this.status(room);
    this.trays.delete(room);
    if (room === this.active()) this.render();
    return files;
  }

  /** Send was pressed while files were uploading: the message goes when they are done. */
  sendWhenDone(room) {
    const tray = this.tray(room);
    tray.waiting = true;
    tray.note = "The message is sent as soon as the files are uploaded.";
    if (room === this.active()) this.render();
  }

  /** Send was pressed with a file that could not be uploaded. */
  refuse(room) {
    const tray = this.tray(room);
    tray.note = "Not sent: remove the files that could not be uploaded (or try them again), then send.";
    if (room === this.active()) this.render();
  }

  /** Another room is in view: a send that was waiting is called off (press Send again there). */
  stopWaiting() {
    for (const tray of this.trays.values()) {
      if (!tray.waiting) continue;
      tray.waiting = false;
      tray.note = "";
    }
  }

  /** Every upload of `room` has ended: send, if a send was waiting for them. */
  settled(room) {
    const tray = this.trays.get(room);
    if (!tray || !tray.waiting) return;
    const { busy, failed } = this.status(room);
    if (busy) return;
    tray.waiting = false;
    tray.note = "";
    if (failed) this.refuse(room);
    else this.onReady(room);
  }

  /** Left the room: its uploads stop and its tray goes. */
  forget(room) {
    const tray = this.trays.get(room);
    if (!tray) return;
    for (const item of tray.items) {
      if (item.request) item.request.abort();
      item.state = "removed";
    }
    this.trays.delete(room);
    if (room === this.active()) this.render();
  }

  // -- drawing ---------------------------------------------------------------------------------
  /** Draw the tray of the room in view (its chips are kept between drawings, focus with them). */
  render() {
    const list = byId("attachments");
    if (!list) return;
    const room = this.active();
    const tray = room ? this.trays.get(room) : null;
    const items = tray ? tray.items : [];
    for (const item of items) this.update(item);
    const nodes = items.map((item) => item.node);
    if (nodes.length !== list.children.length || nodes.some((node, i) => list.children[i] !== node)) {
      const focused = list.contains(document.activeElement) ? document.activeElement : null;
      list.replaceChildren(...nodes);
      if (focused && focused.isConnected) focused.focus();
    }
    const status = byId("attach-status");
    const note = tray ? tray.note : "";
    status.textContent = note;
    status.classList.toggle("problem", Boolean(note) && !tray.waiting);
    byId("attach-tray").hidden = !items.length && !note;
    byId("composer").setAttribute("aria-busy", String(Boolean(tray && tray.waiting)));
  }

  /** Draw one chip again (made the first time). */
  update(item) {
    if (!item.node) item.node = chipNode(item);
    const node = item.node;
    node.dataset.state = item.state;
    const progress = node.querySelector("progress");
    progress.hidden = item.state !== "uploading" && item.state !== "queued";
    if (item.state === "uploading") progress.value = Math.round(item.progress * 100);
    else progress.removeAttribute("value"); // indeterminate while queued
    node.querySelector(".chip-state").textContent = stateText(item);
    const retry = node.querySelector("[data-action=retry-file]");
    retry.hidden = !(item.state === "failed" && item.canRetry);
    const thumb = node.querySelector(".chip-thumb");
    if (item.file && item.file.thumbnail_url && !thumb.querySelector("img")) {
      thumb.replaceChildren(el("img", { src: item.file.thumbnail_url, alt: "", width: 40, height: 40 }));
    }
  }
}

function stateText(item) {
  if (item.state === "queued") return "Waiting to upload...";
  if (item.state === "uploading") return "Uploading...";
  if (item.state === "failed") return item.error;
  return "Ready";
}

function chipNode(item) {
  const stateId = `${item.key}-state`;
  return el("li", { className: "chip", dataset: { key: item.key } },
    el("span", { className: "chip-thumb", attrs: { "aria-hidden": "true" } }, fileIcon(item.name, item.type)),
    el("span", { className: "chip-info" },
      el("span", { className: "chip-name", text: item.name, title: item.name }),
      el("span", { className: "chip-size", text: humanSize(item.size) }),
      el("progress", { max: 100, attrs: { "aria-label": `Uploading ${item.name}` } }),
      el("span", { id: stateId, className: "chip-state", attrs: { "aria-live": "polite" } })),
    el("button", {
      type: "button", className: "link-btn chip-retry", text: "Retry", hidden: true,
      dataset: { action: "retry-file" }, attrs: { "aria-label": `Try uploading ${item.name} again` },
    }),
    el("button", {
      type: "button", className: "icon-btn chip-remove", dataset: { action: "remove-file" },
      title: "Remove", attrs: { "aria-label": `Remove ${item.name}`, "aria-describedby": stateId },
    }, el("span", { text: "✕", attrs: { "aria-hidden": "true" } })));
}

// -- picking, dropping, pasting --------------------------------------------------------------------
const hasFiles = (event) => Boolean(event.dataTransfer) && [...event.dataTransfer.types].includes("Files");

/** Listen to the attach button, drops on the conversation and pastes; getChat() is the chat or null. */
export function wireAttachments(getChat, { onGuestDrop = () => {} } = {}) {
  const attach = byId("attach");
  const input = byId("attach-input");
  const addTo = (files, options) => {
    const chat = getChat();
    if (!chat || !chat.store.active || !files.length) return;
    chat.tray.add(chat.store.active, files, options);
  };
  if (attach) {
    attach.addEventListener("click", () => input.click());
    input.addEventListener("change", () => {
      addTo(input.files);
      input.value = ""; // the same file may be picked again
      byId("composer-text").focus();
    });
    byId("composer-text").addEventListener("paste", (event) => {
      const data = event.clipboardData;
      // Text wins: copying from a page or a spreadsheet often brings a picture of it too.
      if (!data || !data.files.length || [...data.types].includes("text/plain")) return;
      event.preventDefault();
      addTo(data.files, { pasted: true });
    });
    byId("attachments").addEventListener("click", (event) => {
      const button = event.target.closest("button[data-action]");
      const chip = event.target.closest(".chip");
      const chat = getChat();
      if (!button || !chip || !chat || !chat.store.active) return;
      const room = chat.store.active;
      if (button.dataset.action === "retry-file") return chat.tray.retry(room, chip.dataset.key);
      const at = chat.tray.remove(room, chip.dataset.key);
      // Focus goes to the next chip's remove button, or back to the composer.
      const chips = byId("attachments").querySelectorAll(".chip-remove");
      (chips[Math.min(at, chips.length - 1)] || byId("composer-text")).focus();
      return undefined;
    });
  }
  // Dropping files anywhere on the conversation (the timeline, the composer).
  const room = byId("room");
  let depth = 0;
  const dropping = (on) => {
    room.dataset.dropping = on ? "true" : "";
  };
  room.addEventListener("dragenter", (event) => {
    if (!hasFiles(event)) return;
    depth += 1;
    if (attach && !attach.disabled) dropping(true);
  });
  room.addEventListener("dragleave", (event) => {
    if (!hasFiles(event)) return;
    depth = Math.max(0, depth - 1);
    if (!depth) dropping(false);
  });
  room.addEventListener("dragover", (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault(); // else the browser would open the file in place of the page
    event.dataTransfer.dropEffect = attach && !attach.disabled ? "copy" : "none";
  });
  room.addEventListener("drop", (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    depth = 0;
    dropping(false);
    if (!attach) return onGuestDrop();
    if (!attach.disabled) addTo(event.dataTransfer.files);
    return undefined;
  });
}
