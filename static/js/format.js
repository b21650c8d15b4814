// Pure formatting: timestamps, typing sentences, avatar colours. No DOM here.

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "medium" });

function sameDay(a, b) {
  return a.toDateString() === b.toDateString();
}

/** A short local time for a message: "14:05" today, "3 Mar 2025, 14:05" otherwise. */
export function shortTime(iso, now = new Date()) {
  const date = new Date(iso);
  return sameDay(date, now) ? timeFormat.format(date) : dateTimeFormat.format(date);
}

/** The long local form, for a tooltip. */
export function fullTime(iso) {
  return fullFormat.format(new Date(iso));
}

/** "alice is typing...", "alice and bob are typing...", "Several people are typing...". */
export function typingSentence(users) {
  if (users.length === 0) return "";
  if (users.length === 1) return `${users[0]} is typing...`;
  if (users.length === 2) return `${users[0]} and ${users[1]} are typing...`;
  return "Several people are typing...";
}

const HUES = 12;

/** A stable colour bucket (0-11) for a name, so each person keeps their avatar colour. */
export function hueOf(name) {
  let hash = 0;
  for (const char of name) hash = (hash * 31 + char.codePointAt(0)) >>> 0;
  return hash % HUES;
}

export function initial(name) {
  return (name[0] || "?").toUpperCase();
}

/** Consecutive messages by one author within five minutes are drawn as one group. */
const GROUP_WINDOW_MS = 5 * 60 * 1000;

export function continues(previous, item) {
  if (!previous || previous.kind !== "message" || item.kind !== "message") return false;
  if (previous.author !== item.author) return false;
  return new Date(item.created_at) - new Date(previous.created_at) < GROUP_WINDOW_MS;
}

const SIZE_UNITS = ["KB", "MB", "GB", "TB"];

/** A file's size for people: "512 bytes", "12 KB", "1.5 MB" (units of 1,024). */
export function humanSize(bytes) {
  const size = Number(bytes) || 0;
  if (size < 1024) return size === 1 ? "1 byte" : `${size} bytes`;
  let value = size / 1024;
  let unit = 0;
  while (value >= 1024 && unit < SIZE_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const shown = value < 10 ? Math.round(value * 10) / 10 : Math.round(value);
  return `${shown} ${SIZE_UNITS[unit]}`;
}
