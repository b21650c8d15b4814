// Searching messages (protocol v2 `search`): the box in the room header ("/" or Ctrl+K, Cmd+K
// on macOS, goes to it), the results in the side panel -- newest first, grouped by room, the
// words found marked -- with filters (this room or all, author, dates), "More results" a page at
// a time, and a result opened where it was said (chat.js openMessage). The arrow keys walk the
// results. User text goes in through textContent only.
import { filesLine } from "./attachments.js";
import { byId, el, fill } from "./dom.js";
import { fullTime, shortTime } from "./format.js";
import { highlightPieces } from "./highlight.js";

export const SEARCH_PAGE = 20; // results per request (the server's default)
// A term of fewer characters cannot use the server's index: a query made only of such terms
// reads every message, so the page asks for one of three or more (docs/protocol.md `search`) --
// except in scripts written without spaces, where two characters are a whole word (会議).
const MIN_TERM = 3;
const UNSPACED = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\p{Script=Thai}]/u;
const TERMS = /"([^"]*)"|(\S+)/g;
const MAC = /Mac|iPhone|iPad|iPod/.test(navigator.platform || navigator.userAgent);
const wide = () => window.matchMedia("(min-width: 1101px)").matches;

/** The terms of a query as the server reads it: "quoted phrases" and single words. */
export function queryTerms(query) {
  const terms = [];
  for (const [, phrase, word] of query.matchAll(TERMS)) {
    const term = (phrase ?? word).trim();
    if (term) terms.push(term);
  }
  return terms;
}

/** What is wrong with a query before asking the server, or "". */
function queryProblem(query) {
  const terms = queryTerms(query);
  if (!terms.length) return "Type the words to find.";
  if (!terms.some((term) => [...term].length >= MIN_TERM || UNSPACED.test(term))) {
    return `Type a word of at least ${MIN_TERM} characters: shorter ones are found only together with a longer one.`;
  }
  return "";
}

/** The start of day `value` (YYYY-MM-DD, from a date field) in the browser's time zone, ISO 8601, `days` later. */
function dayStart(value, days = 0) {
  const [year, month, day] = value.split("-").map(Number);
  if (!year || !month || !day) return null;
  return new Date(year, month - 1, day + days).toISOString();
}

function errorText(error) {
  if (error.code === "rate_limited") {
    const wait = Math.max(1, Math.ceil(Number(error.retry_after) || 1));
    return `Too many searches in a short time: try again in ${wait} second${wait === 1 ? "" : "s"}.`;
  }
  return `Could not search: ${error.message}`;
}

export class Search {
  constructor(chat) {
    this.chat = chat;
    this.query = ""; // what the results are for
    this.params = null; // the request they answer (without a cursor)
    this.results = []; // [{message, highlight}], newest first
    this.cursor = null; // where the next page starts; null on the last one
    this.loading = null; // "search" or "more" while a request is out
    this.error = "";
    this.asked = 0; // the latest request: an answer to an earlier one is dropped
  }

  /** The request for `query` with the panel's filters: {params} or {problem}. */
  request(query) {
    const problem = queryProblem(query);
    if (problem) return { problem };
    const params = { q: query.trim(), limit: SEARCH_PAGE };
    const { active } = this.chat.store;
    if (byId("search-room").value === "room" && active) params.room = active;
    const author = byId("search-author").value.trim();
    if (author) params.author = author;
    const from = byId("search-from").value;
    const to = byId("search-to").value;
    if (from && to && from > to) return { problem: "The From date is after the To date." };
    if (from) params.after = dayStart(from);
    if (to) params.before = dayStart(to, 1); // the whole of the last day
    return { params };
  }

  /** Search for `query` (the box's text) with the filters; the panel opens with the results. */
  async run(query) {
    this.show();
    const { params, problem } = this.request(query);
    this.query = query.trim();
    this.results = [];
    this.cursor = null;
    this.params = params || null;
    this.error = problem || "";
    this.loading = params ? "search" : null;
    const ticket = ++this.asked;
    this.render();
    if (!params) return;
    const ack = await this.chat.request("search", params);
    if (ticket !== this.asked) return;
    this.loading = null;
    if (ack.ok) {
      this.results = ack.results;
      this.cursor = ack.cursor;
    } else {
      this.error = errorText(ack.error);
    }
    this.render();
  }

  /** The filters changed: search again, if there is something to search for and it changed. */
  refilter() {
    const query = byId("search-input").value.trim() || this.query;
    if (!query) return;
    const { params } = this.request(query);
    if (params && !this.error && JSON.stringify(params) === JSON.stringify(this.params)) return;
    this.run(query);
  }

  /** Another room is in view: results for "This room" follow it. */
  roomChanged() {
    if (this.isOpen && this.params && byId("search-room").value === "room") this.refilter();
  }

  /** The next page ("More results"). */
  async more() {
    if (!this.params || this.cursor === null || this.loading) return;
    this.loading = "more";
    const ticket = ++this.asked;
    const first = this.results.length;
    this.render();
    const ack = await this.chat.request("search", { ...this.params, cursor: this.cursor });
    if (ticket !== this.asked) return;
    this.loading = null;
    if (ack.ok) {
      this.results = [...this.results, ...ack.results];
      this.cursor = ack.cursor;
      this.error = "";
    } else {
      this.error = errorText(ack.error);
    }
    this.render();
    // The keyboard carries on from the first new result (the button it was on may be gone).
    const next = this.results[first];
    if (ack.ok && next) focusHit(next.message.room, next.message.id);
  }

  /** Open result `id` of room `name` in its room; on a narrow screen the panel makes way. */
  async open(name, id) {
    const result = this.results.find((r) => r.message.room === name && r.message.id === id);
    const replyTo = result ? result.message.reply_to : null;
    const problem = await this.chat.openMessage(name, id, { replyTo });
    const { detail } = this.chat.store;
    const here = Boolean(detail) && detail.mode === "search";
    if (problem) {
      if (!here) return this.chat.toast(problem);
      this.error = problem;
      return this.render();
    }
    if (here && !wide()) this.chat.closeDetail();
  }

  /** A message was deleted: it is no longer a result. */
  forget(name, id) {
    const before = this.results.length;
    this.results = this.results.filter((r) => r.message.room !== name || r.message.id !== id);
    if (this.results.length !== before && this.isOpen) this.render();
  }

  get isOpen() {
    const { detail } = this.chat.store;
    return Boolean(detail) && detail.mode === "search";
  }

  /** Open the panel (it keeps the last results until the next search). */
  show() {
    if (this.isOpen) return;
    this.chat.showDetail({ mode: "search" });
  }

  render() {
    if (!this.isOpen) return;
    const { store } = this.chat;
    const thisRoom = byId("search-room").querySelector("option[value=room]");
    thisRoom.textContent = store.active ? `This room (${store.label(store.active)})` : "This room";
    thisRoom.disabled = !store.active;
    byId("detail-room").textContent = this.query ? `“${this.query}”` : "";
    byId("search-status").textContent = this.statusText();
    byId("search-error").textContent = this.error;
    const focused = document.activeElement && document.activeElement.closest(".search-hit");
    fill(byId("search-results"), groups(this.results).map(([name, results]) => groupNode(name, results, store)));
    if (focused) focusHit(focused.dataset.room, Number(focused.dataset.id));
    const more = byId("search-more");
    more.hidden = this.cursor === null || !this.params;
    more.disabled = this.loading === "more";
    more.textContent = this.loading === "more" ? "Loading more..." : "More results";
    byId("search-results").setAttribute("aria-busy", String(this.loading !== null));
  }

  statusText() {
    if (this.loading === "search") return "Searching...";
    if (this.error && !this.results.length) return "";
    if (!this.params) return "Type words to find and press Enter. \"Words in quotes\" find an exact phrase.";
    const count = this.results.length;
    if (!count) {
      const narrowed = Object.keys(this.params).some((key) => !["q", "limit"].includes(key));
      return `No messages match “${this.query}”${narrowed ? " with these filters" : ""}.`;
    }
    const found = count === 1 ? "1 message found" : `${count} messages found`;
    return this.cursor === null ? `${found}.` : `${found} so far.`;
  }
}

/** Results by room: the rooms in the order of their newest result, each room's newest first. */
function groups(results) {
  const byRoom = new Map();
  for (const result of results) {
    const name = result.message.room;
    if (!byRoom.has(name)) byRoom.set(name, []);
    byRoom.get(name).push(result);
  }
  return [...byRoom.entries()];
}

let groupIds = 0;

function groupNode(name, results, store) {
  groupIds += 1;
  const headingId = `search-group-${groupIds}`;
  return el("section", { className: "search-group", dataset: { room: name }, attrs: { "aria-labelledby": headingId } },
    el("h3", { id: headingId, className: "search-room", text: store.label(name) }),
    el("ol", { className: "search-hits" }, ...results.map((result) => el("li", {}, hitNode(result)))));
}

/** One result: a button (Enter or a click opens it) with author, time and the text, words found marked. */
function hitNode({ message, highlight }) {
  const text = el("span", { className: "hit-text" }, ...highlightPieces(message.text, highlight).map(
    (piece) => (piece.mark ? el("mark", { text: piece.text }) : piece.text)));
  const meta = el("span", { className: "hit-meta" },
    el("span", { className: "msg-author", text: message.author }),
    el("time", { text: shortTime(message.created_at), title: fullTime(message.created_at), attrs: { datetime: message.created_at } }),
    message.reply_to ? el("span", { className: "hit-thread", text: "in a thread" }) : null);
  return el("button", {
    type: "button", className: "search-hit", dataset: { room: message.room, id: String(message.id) },
  }, meta, message.text ? text : null, filesLine(message.files));
}

function focusHit(room, id) {
  const hit = [...byId("search-results").querySelectorAll(".search-hit")]
    .find((node) => node.dataset.room === room && Number(node.dataset.id) === id);
  if (hit) hit.focus();
  return Boolean(hit);
}

/** The results and "More results", in the order the arrow keys walk them. */
function stops() {
  const more = byId("search-more");
  return [...byId("search-results").querySelectorAll(".search-hit"), ...(more.hidden ? [] : [more])];
}

function focusBox() {
  const box = byId("search-input");
  box.focus();
  box.select();
}

/** Is the person writing somewhere (so "/" is a character, not a shortcut)? */
function writing(target) {
  return Boolean(target && target.closest && target.closest("input, textarea, select, [contenteditable]:not([contenteditable=false])"));
}

/** "/" (when not writing) or Ctrl+K (Cmd+K on macOS): to the search box. */
function onShortcut(event) {
  if (byId("chat").hidden || event.isComposing || document.querySelector("dialog[open]")) return;
  const modifier = MAC ? event.metaKey && !event.ctrlKey : event.ctrlKey && !event.metaKey;
  const commandK = modifier && !event.altKey && !event.shiftKey && event.key.toLowerCase() === "k";
  const slash = event.key === "/" && !event.ctrlKey && !event.metaKey && !event.altKey && !writing(event.target);
  if (!commandK && !slash) return;
  event.preventDefault();
  focusBox();
}

function onBoxKey(event, chat) {
  if (event.key === "ArrowDown" && chat.search.isOpen) {
    const first = stops()[0];
    if (!first) return;
    event.preventDefault();
    first.focus();
  } else if (event.key === "Escape") {
    // Out of the box: the panel closes (if open) and the reader is back at the conversation.
    event.preventDefault();
    event.stopPropagation();
    if (chat.search.isOpen) chat.closeDetail();
    byId("composer-text").focus();
  }
}

/** Up, Down, Home and End walk the results; Up from the first goes back to the box. */
function onResultsKey(event) {
  if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
  const all = stops();
  const at = all.indexOf(event.target);
  if (at < 0) return;
  const next = {
    ArrowDown: all[at + 1], ArrowUp: at === 0 ? byId("search-input") : all[at - 1], Home: all[0], End: all[all.length - 1],
  }[event.key];
  if (!next) return;
  event.preventDefault();
  next.focus();
}

/** Listen to the box, the filters, the results and the shortcuts; getChat() is the chat or null. */
export function wireSearch(getChat) {
  const withChat = (handler) => (event) => {
    const chat = getChat();
    if (chat) handler(event, chat);
  };
  const box = byId("search-input");
  const shortcut = MAC ? "Meta+K" : "Control+K";
  box.setAttribute("aria-keyshortcuts", `/ ${shortcut}`);
  box.title = `Search messages (/ or ${MAC ? "⌘K" : "Ctrl+K"})`;
  byId("search-form").addEventListener("submit", withChat((event, chat) => {
    event.preventDefault();
    chat.search.run(box.value);
  }));
  box.addEventListener("keydown", withChat(onBoxKey));
  const filters = byId("search-filters");
  filters.addEventListener("change", withChat((event, chat) => chat.search.refilter()));
  filters.addEventListener("submit", (event) => event.preventDefault());
  filters.addEventListener("keydown", withChat((event, chat) => {
    if (event.key !== "Enter" || event.isComposing || !event.target.matches("input")) return;
    event.preventDefault();
    chat.search.refilter();
  }));
  byId("search-results").addEventListener("click", withChat((event, chat) => {
    const hit = event.target.closest(".search-hit");
    if (hit) chat.search.open(hit.dataset.room, Number(hit.dataset.id));
  }));
  byId("search-view").addEventListener("keydown", onResultsKey);
  byId("search-more").addEventListener("click", withChat((event, chat) => chat.search.more()));
  document.addEventListener("keydown", onShortcut);
}
