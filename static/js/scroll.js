// Scrolling the conversation: stick to the bottom for new messages, hold still for older ones.
import { byId } from "./dom.js";

const NEAR_BOTTOM_PX = 80;
export const NEAR_TOP_PX = 120;

const scroller = () => byId("scroller");

export function isNearBottom() {
  const node = scroller();
  return node.scrollHeight - node.scrollTop - node.clientHeight < NEAR_BOTTOM_PX;
}

export function isNearTop() {
  return scroller().scrollTop < NEAR_TOP_PX;
}

/** True when everything fits, so the user cannot scroll up to ask for more. */
export function cannotScroll() {
  const node = scroller();
  return node.scrollHeight <= node.clientHeight;
}

export function scrollToBottom() {
  const node = scroller();
  node.scrollTop = node.scrollHeight;
  byId("jump-latest").hidden = true;
}

/**
 * Run `change` (which adds content above) and keep what the user was reading in place.
 * The anchor is the first message before the change; its bottom edge stays put even if it
 * loses its author line by joining a group with the messages put above it.
 */
export function keepingPosition(change) {
  const node = scroller();
  const anchor = byId("messages").firstElementChild;
  const before = anchor ? anchor.getBoundingClientRect().bottom : node.scrollHeight - node.scrollTop;
  change();
  if (anchor && anchor.isConnected) node.scrollTop += anchor.getBoundingClientRect().bottom - before;
  else node.scrollTop = node.scrollHeight - before;
}

/**
 * Run `change` (which adds content below); follow it if the user was at the bottom. A change
 * that answers false added nothing new (a message edited, say): no "New messages" button then.
 */
export function followingBottom(change, force = false) {
  const stick = force || isNearBottom();
  const added = change();
  if (stick) scrollToBottom();
  else if (added !== false) byId("jump-latest").hidden = false;
}
