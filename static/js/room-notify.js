// The room header's notification menu (accounts only): how much of this room reaches you by
// push and e-mail when you are away -- all messages, mentions and DMs (the default), nothing --
// and muting it for a while. Stored on the server (`notify_settings`, `set_notify`).
import { modal } from "./dialogs.js";
import { el } from "./dom.js";

const LEVELS = [
  ["all", "All messages"],
  ["mentions", "Mentions and direct messages"],
  ["nothing", "Nothing"],
];
const MUTES = [
  ["", "Not muted"],
  ["60", "Mute for 1 hour"],
  ["480", "Mute for 8 hours"],
  ["1440", "Mute for 24 hours"],
  ["forever", "Mute until I unmute"],
];

function muteLabel(mutedUntil) {
  if (!mutedUntil) return null;
  if (mutedUntil === "forever") return "Muted until you unmute.";
  return `Muted until ${new Date(mutedUntil).toLocaleString()}.`;
}

/** Open the menu for the active room; `chat.toast` reports failures. */
export async function openRoomNotify(chat) {
  const room = chat.store.active;
  if (!room) return;
  const ack = await chat.request("notify_settings", { room });
  if (!ack.ok) return chat.toast(ack.error.message);
  const current = ack.room;
  const radios = LEVELS.map(([value, label]) => el("label", { className: "field check" },
    el("input", { type: "radio", name: "notify-level", value, checked: current.level === value }), label));
  const mute = el("select", { id: "notify-mute", name: "mute" },
    ...MUTES.map(([value, label]) => el("option", { value, text: label })));
  const state = muteLabel(current.muted_until);
  if (state) mute.prepend(el("option", { value: "keep", text: state, selected: true }));
  const cancel = el("button", { type: "button", className: "btn", text: "Cancel" });
  const save = el("button", { type: "button", className: "btn btn-primary", text: "Save" });
  const { done } = modal(`Notifications for ${room}`, [
    el("fieldset", { className: "notify-levels" }, el("legend", { text: "Tell me about" }), ...radios),
    el("label", { htmlFor: "notify-mute", text: "Mute" }), mute,
    el("div", { className: "dialog-actions" }, cancel, save),
  ], { className: "notify-dialog" });
  cancel.addEventListener("click", () => done(null));
  save.addEventListener("click", async () => {
    const level = radios.map((label) => label.querySelector("input")).find((input) => input.checked)?.value;
    const data = { room, level };
    if (mute.value === "forever") data.muted_until = "forever";
    else if (mute.value === "") data.muted_until = null;
    else if (mute.value !== "keep") data.mute_minutes = Number(mute.value);
    const saved = await chat.request("set_notify", data);
    if (!saved.ok) return chat.toast(saved.error.message);
    return done(saved.room);
  });
}
