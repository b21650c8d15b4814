// A small emoji picker for reactions: a search box over a few hundred common emoji (vendored in
// static/vendor/emoji.js, names from Unicode), a row of favourites, arrow keys in the grid.
// One picker for the page, opened next to the button that asked for it.
import { el } from "./dom.js";
import { EMOJI } from "../vendor/emoji.js";

const QUICK = ["👍", "❤️", "😂", "🎉", "😮", "😢", "🙏", "👀"];
const MARGIN = 8;

let picker = null;
let current = null; // {pick(emoji), restore()} of the open picker

function emojiButton(char, name, search) {
  return el("button", {
    type: "button", className: "emoji", text: char, title: name,
    dataset: { emoji: char, search }, attrs: { "aria-label": name },
  });
}

function build() {
  const names = new Map(EMOJI.map(([char, name]) => [char, name]));
  const search = el("input", {
    type: "search", className: "emoji-search", placeholder: "Search emoji",
    attrs: { "aria-label": "Search emoji", autocomplete: "off", spellcheck: "false" },
  });
  const quick = el("div", { className: "emoji-quick", attrs: { role: "group", "aria-label": "Frequently used" } },
    ...QUICK.map((char) => emojiButton(char, names.get(char) || char, "")));
  const grid = el("div", { className: "emoji-grid", attrs: { role: "group", "aria-label": "All emoji" } },
    ...EMOJI.map(([char, name, aliases]) => emojiButton(char, name, `${name} ${aliases} ${char}`.toLowerCase())));
  const empty = el("p", { className: "emoji-empty", text: "No emoji by that name.", hidden: true });
  picker = el("div", {
    id: "emoji-picker", className: "emoji-picker", hidden: true,
    attrs: { role: "dialog", "aria-label": "Add a reaction" },
  }, search, quick, grid, empty);
  document.body.append(picker);

  search.addEventListener("input", () => filter(search.value));
  search.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      const first = visible()[0];
      if (first) choose(first.dataset.emoji);
    } else if (event.key === "ArrowDown") {
      event.preventDefault();
      visible()[0]?.focus();
    }
  });
  picker.addEventListener("click", (event) => {
    const button = event.target.closest("button.emoji");
    if (button) choose(button.dataset.emoji);
  });
  picker.addEventListener("keydown", onKey);
  document.addEventListener("pointerdown", (event) => {
    if (current && !picker.contains(event.target)) closePicker({ restore: false });
  }, true);
}

/** The emoji buttons one can reach now (favourites hide while searching). */
function visible() {
  return [...picker.querySelectorAll("button.emoji")].filter((button) => !button.hidden && !button.parentElement.hidden);
}

function filter(query) {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  let shown = 0;
  for (const button of picker.querySelectorAll(".emoji-grid button.emoji")) {
    button.hidden = !words.every((word) => button.dataset.search.includes(word));
    if (!button.hidden) shown += 1;
  }
  picker.querySelector(".emoji-quick").hidden = words.length > 0;
  picker.querySelector(".emoji-empty").hidden = shown > 0;
}

/** Arrow keys move through the emoji as laid out; Escape closes. */
function onKey(event) {
  if (event.key === "Escape") {
    event.preventDefault();
    event.stopPropagation();
    return closePicker();
  }
  if (event.key === "Tab") {
    // Two stops, and focus stays inside: the search box and the emoji (walked with the arrows).
    event.preventDefault();
    const search = picker.querySelector(".emoji-search");
    if (document.activeElement === search) visible()[0]?.focus();
    else search.focus();
    return;
  }
  const button = event.target.closest("button.emoji");
  if (!button || !["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home", "End"].includes(event.key)) return;
  event.preventDefault();
  const buttons = visible();
  const at = buttons.indexOf(button);
  let target = null;
  if (event.key === "ArrowLeft") target = buttons[at - 1];
  else if (event.key === "ArrowRight") target = buttons[at + 1];
  else if (event.key === "Home") target = buttons[0];
  else if (event.key === "End") target = buttons[buttons.length - 1];
  else target = vertical(buttons, button, event.key === "ArrowDown" ? 1 : -1);
  if (target) target.focus();
  else if (event.key === "ArrowUp") picker.querySelector(".emoji-search").focus();
}

/** The button above or below `from`: the nearest one in the next row that way. */
function vertical(buttons, from, step) {
  const box = from.getBoundingClientRect();
  const rows = buttons.filter((b) => {
    const top = b.getBoundingClientRect().top;
    return step > 0 ? top > box.top + 2 : top < box.top - 2;
  });
  if (!rows.length) return null;
  const rowTop = step > 0 ? Math.min(...rows.map((b) => b.getBoundingClientRect().top))
    : Math.max(...rows.map((b) => b.getBoundingClientRect().top));
  const row = rows.filter((b) => Math.abs(b.getBoundingClientRect().top - rowTop) < 2);
  return row.reduce((best, b) => (Math.abs(b.getBoundingClientRect().left - box.left)
    < Math.abs(best.getBoundingClientRect().left - box.left) ? b : best));
}

function choose(emoji) {
  const open = current;
  closePicker();
  if (open) open.pick(emoji);
}

/** Place the picker below `anchor` (above when there is no room), inside the window. */
function place(anchor) {
  const box = anchor.getBoundingClientRect();
  const { offsetWidth: width, offsetHeight: height } = picker;
  let left = Math.min(Math.max(MARGIN, box.right - width), window.innerWidth - width - MARGIN);
  let top = box.bottom + 4;
  if (top + height > window.innerHeight - MARGIN) top = Math.max(MARGIN, box.top - height - 4);
  left = Math.max(MARGIN, left);
  picker.style.left = `${left}px`;
  picker.style.top = `${top}px`;
}

/**
 * Open the picker by `anchor`; `pick(emoji)` gets the choice. `restore()` puts focus back
 * where it belongs when the picker closes (the anchor may have been drawn again meanwhile).
 */
export function openPicker(anchor, pick, restore = () => anchor.isConnected && anchor.focus()) {
  if (!picker) build();
  current = { pick, restore };
  const search = picker.querySelector(".emoji-search");
  search.value = "";
  filter("");
  picker.hidden = false;
  place(anchor);
  search.focus();
}

export function closePicker({ restore = true } = {}) {
  if (!picker || picker.hidden) return;
  const open = current;
  picker.hidden = true;
  current = null;
  if (restore && open) open.restore();
}

export const pickerOpen = () => Boolean(current);
