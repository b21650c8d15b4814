// People's profiles (issue 18): display names, avatars and statuses, asked of the server in
// batches (`profiles`, 100 names at most) the first time a name is drawn, kept up to date by the
// `profile` event, and asked again after a reconnect (events missed meanwhile). Guests have no
// profile: their names are asked once and come back without a card.
//
// Whatever shows a person marks its node with data-person (and data-part: avatar, name, status)
// so a change repaints those nodes in place, wherever they are: messages, the member list, cards.
import { el } from "./dom.js";
import { hueOf, initial } from "./format.js";

const BATCH = 100; // the server's most names per `profiles`
const BATCH_MS = 30; // names drawn together (a room's members, a page of history) go in one request
const LONGEST_TIMER_MS = 2 ** 31 - 1; // setTimeout's limit (24.8 days); a later expiry is re-checked

const cards = new Map(); // folded name -> card (accounts only)
const asked = new Set(); // folded names asked for (answered, or on their way)
const waiting = new Set(); // names to ask for in the next batch
const expiries = new Map(); // folded name -> timer that hides the status when it ends
let ask = null; // (names) => Promise<ack>, once connected
let changed = () => {};
let batchTimer = null;

const NAME_RE = /^[A-Za-z0-9_-]{1,32}$/; // names the server takes (validation.py)
const fold = (name) => name.toLowerCase();

/** Wire the cache to the connection: `request(names)` asks; `onChange(name)` redraws lists. */
export function connectProfiles(request, onChange) {
  ask = request;
  changed = onChange;
  schedule();
}

/** After a (re)connect: ask again for every name drawn so far (changes may have been missed). */
export function refreshProfiles() {
  for (const name of asked) waiting.add(name);
  schedule();
}

/** The card of `name`, or null (a guest, or not known yet: then it is asked for). */
export function profileOf(name) {
  if (typeof name !== "string" || !NAME_RE.test(name)) return null; // "?", a server's own posts
  const key = fold(name);
  if (!asked.has(key)) {
    asked.add(key);
    waiting.add(key);
    schedule();
  }
  return cards.get(key) || null;
}

/** A `profile` event, or a card the server answered: keep it and repaint the person. */
export function applyProfile(card) {
  if (keep(card)) changed(card.user);
}

/**
 * Whether `name` is idle, from whoever tracks activity (not this module): shown in the member
 * list and on the card as "away" (the card's `away`, "present when known").
 */
export function setAway(name, away) {
  const card = cards.get(fold(name));
  if (card && card.away !== away) applyProfile({ ...card, away });
}

function keep(card) {
  if (!card || typeof card.user !== "string") return false;
  const key = fold(card.user);
  asked.add(key);
  cards.set(key, card);
  watchExpiry(key, card);
  repaint(card.user);
  return true;
}

function schedule() {
  if (batchTimer !== null || !ask || !waiting.size) return;
  batchTimer = setTimeout(flush, BATCH_MS);
}

async function flush() {
  batchTimer = null;
  const names = [...waiting];
  waiting.clear();
  for (let i = 0; i < names.length; i += BATCH) {
    const batch = names.slice(i, i + BATCH);
    const ack = await ask(batch);
    if (ack && ack.ok && Array.isArray(ack.profiles)) {
      if (ack.profiles.filter(keep).length) changed(null);
    } else {
      // Offline, or over the limit: asked with the next batch, or after the next connect.
      batch.forEach((name) => waiting.add(name));
    }
  }
}

/** A status ends at its expires_at: hide it then (the server stops serving it too). */
function watchExpiry(key, card) {
  clearTimeout(expiries.get(key));
  expiries.delete(key);
  const ends = card.status && card.status.expires_at ? Date.parse(card.status.expires_at) : NaN;
  if (Number.isNaN(ends)) return;
  const wait = Math.min(Math.max(0, ends - Date.now()) + 50, LONGEST_TIMER_MS);
  expiries.set(key, setTimeout(() => {
    expiries.delete(key);
    if (statusOf(card)) return watchExpiry(key, card); // a far expiry: not yet
    repaint(card.user);
    changed(card.user);
  }, wait));
}

/** The card's status if it is still on: {text, emoji, expires_at}, or null. */
export function statusOf(card) {
  const status = card && card.status;
  if (!status) return null;
  if (status.expires_at && Date.parse(status.expires_at) <= Date.now()) return null;
  return status;
}

/** The name to show: the display name when there is one. */
export function shownName(name) {
  const card = cards.get(fold(name));
  return (card && card.display_name) || name;
}

// -- drawing -------------------------------------------------------------------------------------
/** The avatar inside `node`: the person's picture, else the initial-and-colour badge. */
export function paintAvatar(node, name, size = 64) {
  node.dataset.person = name;
  node.dataset.part = "avatar";
  node.dataset.size = String(size);
  node.dataset.hue = String(hueOf(name));
  const card = profileOf(name);
  if (!card || !card.avatar_url) {
    node.classList.remove("has-image");
    node.textContent = initial(name);
    return;
  }
  const image = el("img", { attrs: { src: `${card.avatar_url}&size=${size}`, alt: "" } });
  image.addEventListener("error", () => { // gone meanwhile: the badge, as without one
    node.classList.remove("has-image");
    node.textContent = initial(name);
  });
  node.classList.add("has-image");
  node.replaceChildren(image);
}

/** A person's name inside `node`: the display name with the @name in small print, or the name. */
export function paintName(node, name) {
  node.dataset.person = name;
  node.dataset.part = "name";
  const card = profileOf(name);
  const display = card && card.display_name;
  if (!display) {
    node.replaceChildren(name);
    return;
  }
  node.replaceChildren(el("span", { className: "display-name", text: display }),
    el("span", { className: "handle", text: `@${name}` }));
  if (!node.title) node.title = `@${name}`;
}

/** The status line inside `node` (emoji and text), empty without one; away when it is known. */
export function paintStatus(node, name) {
  node.dataset.person = name;
  node.dataset.part = "status";
  const card = profileOf(name);
  const status = statusOf(card);
  const parts = [];
  if (card && card.away === true) parts.push(el("span", { className: "away", text: "away" }));
  if (status) {
    if (status.emoji) parts.push(el("span", { className: "status-emoji", text: status.emoji }));
    if (status.text) parts.push(el("span", { className: "status-text", text: status.text }));
    node.title = status.expires_at ? `${status.text || status.emoji} (until ${new Date(status.expires_at).toLocaleString()})` : status.text;
  }
  node.hidden = !parts.length;
  node.replaceChildren(...parts);
}

const PAINTERS = {
  avatar: (node, name) => paintAvatar(node, name, Number(node.dataset.size) || 64),
  name: paintName,
  status: paintStatus,
};

/** Draw every node that shows `name` again. */
export function repaint(name) {
  const key = fold(name);
  for (const node of document.querySelectorAll("[data-person]")) {
    if (fold(node.dataset.person) === key) PAINTERS[node.dataset.part]?.(node, node.dataset.person);
  }
}

/** A member list entry's text: the name (display name and @name) over the status line. */
export function memberText(name) {
  const label = el("span", { className: "member-name" });
  paintName(label, name);
  const status = el("span", { className: "member-status" });
  paintStatus(status, name);
  return el("span", { className: "member-text" }, label, status);
}

/** A card's profile part (people.js): display name, @name, status. */
export function cardDetails(name) {
  const title = el("p", { className: "person-name" });
  paintName(title, name);
  const status = el("p", { className: "person-status" });
  paintStatus(status, name);
  return el("div", { className: "person-profile" }, title, status);
}
