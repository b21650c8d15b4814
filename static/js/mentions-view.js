// The "mentions" view (issue 18): the messages that mention me in every room I can read, newest
// first, a page at a time, in the side panel; a click opens the message where it was said.
import { byId, el, fill } from "./dom.js";
import { fullTime, shortTime } from "./format.js";
import { richText } from "./richtext.js";

const PAGE = 50;

/** What the panel shows in "mentions" mode: detail = {mode, messages, next, loading, error}. */
export function renderMentions(store) {
  const { detail } = store;
  if (!detail || detail.mode !== "mentions") return;
  const status = byId("mentions-status");
  if (detail.error) status.textContent = `Could not read your mentions: ${detail.error}`;
  else if (detail.loading && !detail.messages.length) status.textContent = "Loading...";
  else if (!detail.messages.length) status.textContent = "Nobody has mentioned you yet.";
  else status.textContent = "";
  byId("detail-room").textContent = "in every room";
  fill(byId("mention-list"), detail.messages.map((message) => mentionNode(message, store)));
  byId("mentions-more").hidden = !detail.next || detail.loading;
}

function mentionNode(message, store) {
  const time = el("time", { text: shortTime(message.created_at), title: fullTime(message.created_at),
    attrs: { datetime: message.created_at } });
  return el("li", { className: "mention-hit" },
    el("button", { type: "button", className: "mention-open", dataset: { room: message.room, id: String(message.id) },
      attrs: { "aria-label": `Open ${message.author}'s message in ${store.label(message.room)}` } },
    el("div", { className: "msg-meta" }, el("span", { className: "msg-author", text: message.author }),
      el("span", { className: "mention-room", text: store.label(message.room) }), time),
    el("div", { className: "msg-text" }, ...richText(message.text, store.me))));
}

/** Open or close the panel on my mentions. */
export async function toggleMentions(chat) {
  const { detail } = chat.store;
  if (detail && detail.mode === "mentions") return chat.closeDetail();
  chat.showDetail({ mode: "mentions", messages: [], next: null, loading: true, error: null });
  await loadMentions(chat);
}

async function loadMentions(chat, before = null) {
  const { detail } = chat.store;
  detail.loading = true;
  const ack = await chat.request("mentions", before ? { before, limit: PAGE } : { limit: PAGE });
  if (chat.store.detail !== detail) return;
  detail.loading = false;
  if (ack.ok) {
    detail.messages.push(...ack.messages);
    detail.next = ack.next;
    detail.error = null;
  } else {
    detail.error = ack.error.message;
  }
  renderMentions(chat.store);
}

/** The button in the header, the list's clicks and its "More". */
export function wireMentions(getChat) {
  const button = byId("open-mentions");
  button.addEventListener("click", () => getChat() && toggleMentions(getChat()));
  byId("mention-list").addEventListener("click", (event) => {
    const chat = getChat();
    const hit = event.target.closest(".mention-open");
    if (!chat || !hit) return;
    const message = chat.store.detail?.messages?.find((m) => m.id === Number(hit.dataset.id));
    chat.openMessage(hit.dataset.room, Number(hit.dataset.id), { replyTo: message ? message.reply_to : null })
      .then((problem) => problem && chat.toast(problem));
  });
  byId("mentions-more").addEventListener("click", () => {
    const chat = getChat();
    if (chat && chat.store.detail?.next) loadMentions(chat, chat.store.detail.next);
  });
}
