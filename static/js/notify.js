// Desktop notifications for mentions while the tab is hidden, asked for politely: never on page
// load, only when the person presses "Enable" on a small prompt (browsers ignore or block
// permission requests that do not come from a click).
import { saved } from "./store.js";

const supported = () => "Notification" in window;

export const pageHidden = () => document.visibilityState === "hidden";

/** Show the prompt? Only when the browser can notify, has not been answered and was not dismissed. */
export function shouldAsk() {
  return supported() && Notification.permission === "default" && !saved.notifyAsked();
}

/** Ask (from a click); answers whether notifications are now allowed. */
export async function ask() {
  saved.setNotifyAsked();
  if (!supported()) return false;
  try {
    return (await Notification.requestPermission()) === "granted";
  } catch {
    return false;
  }
}

export function dismiss() {
  saved.setNotifyAsked();
}

const BODY_MAX = 140;

/**
 * Notify about a message that mentions us; clicking it brings the tab and the room up.
 * `where` is how the room is called on screen: "#general", or the other person of a DM.
 */
export function notifyMention(message, where, onOpen) {
  if (!supported() || Notification.permission !== "granted") return;
  const body = message.text.length > BODY_MAX ? `${message.text.slice(0, BODY_MAX)}...` : message.text;
  try {
    // Notifications show text only; no markup is interpreted.
    const note = new Notification(`${message.author} mentioned you in ${where}`, {
      body, tag: `parley-${message.room}`, icon: "/static/css/favicon.svg",
    });
    note.onclick = () => {
      window.focus();
      onOpen(message.room);
      note.close();
    };
  } catch {
    /* Some browsers allow notifications only from a service worker; the title still counts. */
  }
}
