// The text of a search result with the words found marked. The server counts its `highlight`
// ranges in Unicode code points; JavaScript strings count UTF-16 units, where a character
// outside the Basic Multilingual Plane (an emoji, say) takes two: the ranges are converted
// before cutting the text. A long message is cut to an excerpt around the first match.
// No DOM here: search.js draws the pieces (as text nodes and <mark>s).

export const EXCERPT = 180; // UTF-16 units of a long message shown in a result
const LEAD = 50; // of them, before the first match
const COMBINING = /^\p{M}$/u;

/** Where each code point of `text` starts in the string; the last entry is text.length. */
export function codePointOffsets(text) {
  const offsets = [];
  let at = 0;
  for (const char of text) {
    offsets.push(at);
    at += char.length;
  }
  offsets.push(at);
  return offsets;
}

function isCombining(text, at) {
  const code = text.codePointAt(at);
  return code !== undefined && COMBINING.test(String.fromCodePoint(code));
}

/**
 * The server's ranges ([start, end) in code points) as [start, end) string indices: anything
 * malformed dropped, clipped to the text, sorted and merged. Combining marks right after a
 * range (an accent written as a character of its own) join it.
 */
export function stringRanges(text, ranges) {
  const offsets = codePointOffsets(text);
  const count = offsets.length - 1;
  const spans = [];
  for (const range of Array.isArray(ranges) ? ranges : []) {
    if (!Array.isArray(range) || !Number.isInteger(range[0]) || !Number.isInteger(range[1])) continue;
    const start = Math.min(Math.max(range[0], 0), count);
    const end = Math.min(Math.max(range[1], start), count);
    if (start === end) continue;
    let last = offsets[end];
    while (last < text.length && isCombining(text, last)) last += text.codePointAt(last) > 0xffff ? 2 : 1;
    spans.push([offsets[start], last]);
  }
  spans.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const merged = [];
  for (const span of spans) {
    const previous = merged[merged.length - 1];
    if (previous && span[0] <= previous[1]) previous[1] = Math.max(previous[1], span[1]);
    else merged.push(span);
  }
  return merged;
}

const lowSurrogate = (text, at) => {
  const code = text.charCodeAt(at);
  return code >= 0xdc00 && code <= 0xdfff;
};

/** The part of a long text to show: [from, to), never splitting a character. */
function excerptBounds(text, spans, max) {
  if (text.length <= max) return [0, text.length];
  const first = spans.length ? spans[0][0] : 0;
  let from = Math.max(0, Math.min(first - LEAD, text.length - max));
  let to = Math.min(text.length, from + max);
  if (from > 0 && lowSurrogate(text, from)) from -= 1;
  if (to < text.length && lowSurrogate(text, to)) to += 1;
  while (to < text.length && isCombining(text, to)) to += 1;
  return [from, to];
}

/**
 * `text` as pieces [{text, mark}] along the server's `highlight` ranges (code points): marked
 * pieces are the words found. Longer than `max`, an excerpt from a little before the first
 * match, with "…" where it was cut. Runs of white space (line breaks too) become one space.
 */
export function highlightPieces(text, ranges, { max = EXCERPT } = {}) {
  const spans = stringRanges(text, ranges);
  const [from, to] = excerptBounds(text, spans, max);
  const pieces = [];
  const add = (start, end, mark) => {
    if (end > start) pieces.push({ text: text.slice(start, end).replace(/\s+/g, " "), mark });
  };
  let at = from;
  for (const [start, end] of spans) {
    const a = Math.max(start, from);
    const b = Math.min(end, to);
    if (a >= b) continue;
    add(at, a, false);
    add(a, b, true);
    at = b;
  }
  add(at, to, false);
  if (from > 0) pieces.unshift({ text: "…", mark: false });
  if (to < text.length) pieces.push({ text: "…", mark: false });
  return pieces;
}
