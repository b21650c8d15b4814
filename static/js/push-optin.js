// The settings page's push opt-in: registers the service worker (/sw.js), subscribes this
// browser with the server's VAPID key, and hands the subscription to the server (or takes it
// back). Only shown when the server has push keys (templates/notify/settings_section.html).
const section = document.getElementById("notify-section");
const status = document.getElementById("push-status");
const enable = document.getElementById("push-enable");
const disable = document.getElementById("push-disable");

function keyBytes(base64url) {
  const raw = atob(base64url.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (base64url.length % 4)) % 4));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST", credentials: "same-origin", body: JSON.stringify(body),
    headers: { "Content-Type": "application/json", "X-CSRFToken": section.dataset.csrf },
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(answer.error?.message || `HTTP ${response.status}`);
  return answer;
}

async function registration() {
  return navigator.serviceWorker.register("/sw.js", { scope: "/" });
}

async function turnOn() {
  try {
    const worker = await registration();
    if ((await Notification.requestPermission()) !== "granted") {
      status.textContent = "The browser did not allow notifications.";
      return;
    }
    const subscription = await worker.pushManager.subscribe({
      userVisibleOnly: true, applicationServerKey: keyBytes(section.dataset.pushKey),
    });
    await post("/notify/push", subscription.toJSON());
    show(true);
    status.textContent = "Push is on in this browser.";
  } catch (error) {
    status.textContent = `Push could not be turned on: ${error.message}`;
  }
}

async function turnOff() {
  const worker = await registration();
  const subscription = await worker.pushManager.getSubscription();
  if (subscription) {
    await post("/notify/push/remove", { endpoint: subscription.endpoint }).catch(() => null);
    await subscription.unsubscribe();
  }
  show(false);
  status.textContent = "Push is off in this browser.";
}

function show(on) {
  enable.hidden = on;
  disable.hidden = !on;
}

async function start() {
  if (!("serviceWorker" in navigator) || !("PushManager" in window)) {
    enable.disabled = true;
    status.textContent = "This browser cannot receive push notifications.";
    return;
  }
  const worker = await registration();
  section.dataset.worker = "registered"; // the service worker is in place (tests look for this)
  show(Boolean(await worker.pushManager.getSubscription().catch(() => null)));
  enable.addEventListener("click", turnOn);
  disable.addEventListener("click", turnOff);
}

start().catch((error) => {
  status.textContent = `Push is unavailable: ${error.message}`;
});
