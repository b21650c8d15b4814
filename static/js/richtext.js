// Light formatting of message text: links, @mentions, `inline code` and ```code blocks```.
// parse() is pure (text in, tokens out); richText() turns tokens into DOM nodes, and every piece
// of the user's text goes in as a text node. Nothing here ever parses HTML.
import { el } from "./dom.js";

const CODE_BLOCK = /```([\s\S]*?)```/g;
const INLINE_CODE = /(?<!`)`([^`\n]+)`(?!`)/g; // one backtick each side, as in Markdown
// A link is http(s) only, so "javascript:" and friends never become clickable.
// A mention is "@name" not preceded by a name character (so "bob@example.com" is not one).
const LINK_OR_MENTION = /(https?:\/\/[^\s<>"'`]+)|(^|[^A-Za-z0-9_@-])@([A-Za-z0-9_-]{1,32})(?![A-Za-z0-9_-])/g;
// Punctuation that ends a sentence rather than a URL: "see https://x.org/a."
const TRAILING = /[.,;:!?'"*]+$/;
// A code block may start with a language word on its own line, as in Markdown: ```js\n...```
const LANGUAGE_LINE = /^[A-Za-z0-9_+-]{1,20}\n/;

/** Split `text` on a pattern: answers [[isMatch, matchArray|string], ...] in order. */
function split(text, pattern) {
  const parts = [];
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    if (match.index > last) parts.push([false, text.slice(last, match.index)]);
    parts.push([true, match]);
    last = match.index + match[0].length;
  }
  if (last < text.length) parts.push([false, text.slice(last)]);
  return parts;
}

/** Drop trailing punctuation and an unmatched ")" from a URL found in running text. */
function trimUrl(url) {
  let trimmed = url.replace(TRAILING, "");
  while (trimmed.endsWith(")") && count(trimmed, "(") < count(trimmed, ")")) {
    trimmed = trimmed.slice(0, -1).replace(TRAILING, "");
  }
  return trimmed;
}

const count = (text, char) => text.split(char).length - 1;

function linksAndMentions(text, tokens) {
  for (const [matched, part] of split(text, LINK_OR_MENTION)) {
    if (!matched) {
      tokens.push({ type: "text", value: part });
    } else if (part[1]) {
      const url = trimUrl(part[1]);
      tokens.push({ type: "link", value: url });
      if (url.length < part[1].length) tokens.push({ type: "text", value: part[1].slice(url.length) });
    } else {
      if (part[2]) tokens.push({ type: "text", value: part[2] });
      tokens.push({ type: "mention", value: part[3] });
    }
  }
}

/** Tokens of a message: {type: "text" | "link" | "mention" | "code" | "codeblock", value}. */
export function parse(text) {
  const tokens = [];
  for (const [isBlock, block] of split(text, CODE_BLOCK)) {
    if (isBlock) {
      tokens.push({ type: "codeblock", value: block[1].replace(LANGUAGE_LINE, "").replace(/^\n|\n$/g, "") });
      continue;
    }
    for (const [isCode, part] of split(block, INLINE_CODE)) {
      if (isCode) tokens.push({ type: "code", value: part[1] });
      else linksAndMentions(part, tokens);
    }
  }
  return merged(tokens.filter((token) => token.value !== "" || token.type === "codeblock"));
}

/** Neighbouring text tokens as one. */
function merged(tokens) {
  const out = [];
  for (const token of tokens) {
    const last = out[out.length - 1];
    if (last && last.type === "text" && token.type === "text") last.value += token.value;
    else out.push(token);
  }
  return out;
}

const sameName = (a, b) => a.toLowerCase() === b.toLowerCase();

/** True when `text` mentions `me` (outside code). */
export function mentions(text, me) {
  return Boolean(me) && parse(text).some((token) => token.type === "mention" && sameName(token.value, me));
}

function linkNode(url) {
  // Only well-formed http(s) URLs get an href; anything odd stays plain text.
  let href;
  try {
    href = new URL(url).href;
  } catch {
    return document.createTextNode(url);
  }
  return el("a", { href, text: url, target: "_blank", rel: "noopener noreferrer nofollow" });
}

function tokenNode(token, me) {
  switch (token.type) {
    case "link":
      return linkNode(token.value);
    case "mention":
      return el("span", {
        className: sameName(token.value, me || "") ? "mention mention-me" : "mention", text: `@${token.value}`,
      });
    case "code":
      return el("code", { text: token.value });
    case "codeblock":
      return el("pre", {}, el("code", { text: token.value }));
    default:
      return document.createTextNode(token.value);
  }
}

/** DOM nodes for a message's text; `me` gets its own mention colour. */
export function richText(text, me) {
  return parse(text).map((token) => tokenNode(token, me));
}
