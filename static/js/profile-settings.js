// The settings page's Profile section (templates/auth/_profile.html): display name, status with
// an expiry, and the avatar, read and changed through the REST API with the page's session and
// its CSRF token. The server checks everything; its error messages are shown as they come.
import { hueOf, initial } from "./format.js";

const section = document.getElementById("profile");
if (section) start(section);

const untilFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** Midnight tonight, in the browser's time zone: "today" ends then. */
function endOfToday() {
  const end = new Date();
  end.setHours(23, 59, 59, 999);
  return end.toISOString();
}

/** The status part of the PATCH: null clears it; otherwise text, emoji and when it ends. */
function statusPayload(text, emoji, expiry) {
  if (!text && !emoji) return null;
  const status = { text, emoji: emoji || null };
  if (expiry === "today") status.expires_at = endOfToday();
  else if (expiry !== "never") status.expires_in = Number(expiry);
  return status;
}

function start(node) {
  const { user, csrf } = node.dataset;
  const byId = (id) => document.getElementById(id);
  const [form, name, emoji, text, expiry] = ["profile-form", "display-name", "status-emoji", "status-text", "status-expiry"].map(byId);
  const [result, until, file, remove] = ["profile-result", "status-until", "avatar-file", "avatar-remove"].map(byId);
  const avatars = [byId("profile-avatar"), ...document.querySelectorAll(".account-who .avatar")];

  const say = (message, failed = false) => {
    result.textContent = message;
    result.classList.toggle("form-error", failed);
  };

  /** One request; answers {ok, profile} or {ok: false, error: {code, message}}. */
  async function send(method, url, body = undefined) {
    const headers = { "X-CSRFToken": csrf };
    const json = body !== undefined && !(body instanceof FormData);
    if (json) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(url, { method, headers, credentials: "same-origin", body: json ? JSON.stringify(body) : body });
    } catch {
      return { ok: false, error: { message: "Could not reach the server; try again." } };
    }
    const data = response.status === 204 ? {} : await response.json().catch(() => ({}));
    if (response.ok) return { ok: true, profile: data.profile };
    return { ok: false, error: data.error || { message: `The server answered ${response.status}.` } };
  }

  function show(card) {
    name.value = card.display_name || "";
    const status = card.status;
    emoji.value = status ? status.emoji || "" : "";
    text.value = status ? status.text : "";
    until.textContent = status && status.expires_at ? `Your status clears on ${untilFormat.format(new Date(status.expires_at))}.` : "";
    remove.hidden = !card.avatar_url;
    for (const avatar of avatars) paint(avatar, card);
  }

  function paint(avatar, card) {
    avatar.dataset.hue = String(hueOf(user));
    if (!card.avatar_url) {
      avatar.classList.remove("has-image");
      avatar.textContent = initial(user);
      return;
    }
    const image = document.createElement("img");
    image.alt = "";
    image.src = `${card.avatar_url}&size=256`;
    avatar.classList.add("has-image");
    avatar.replaceChildren(image);
  }

  async function change(method, url, body, done) {
    say("Saving...");
    const answer = await send(method, url, body);
    if (!answer.ok) return say(answer.error.message, true);
    if (answer.profile) show(answer.profile);
    else await load();
    say(done);
  }

  async function load() {
    const response = await fetch(`/api/users/${encodeURIComponent(user)}`, { credentials: "same-origin" });
    if (response.ok) show((await response.json()).profile);
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = { display_name: name.value, status: statusPayload(text.value.trim(), emoji.value.trim(), expiry.value) };
    change("PATCH", "/api/me/profile", body, "Profile saved.");
  });
  byId("status-clear").addEventListener("click", () => change("PATCH", "/api/me/profile", { status: null }, "Status cleared."));
  file.addEventListener("change", () => {
    if (!file.files.length) return;
    const body = new FormData();
    body.append("file", file.files[0]);
    file.value = "";
    change("PUT", "/api/me/avatar", body, "Picture saved.");
  });
  remove.addEventListener("click", () => change("DELETE", "/api/me/avatar", undefined, "Picture removed."));
  load();
}
