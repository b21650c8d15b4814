// Parley's service worker: shows a Web Push notification (a mention or a direct message that
// came while no Parley page was in the foreground) and opens the message when it is clicked.
// The payload (webapp/notify/delivery.py): {room, author, text, message, reason, url}.
self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = { text: event.data ? event.data.text() : "" };
  }
  const title = data.reason === "dm" ? `${data.author}` : `${data.author} in #${data.room}`;
  event.waitUntil(self.registration.showNotification(title || "Parley", {
    body: data.text || "",
    tag: data.message ? `parley-${data.message}` : undefined,
    data: { url: data.url || "/" },
  }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = new URL(event.notification.data?.url || "/", self.location.origin).href;
  event.waitUntil((async () => {
    const pages = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    const open = pages.find((page) => new URL(page.url).origin === self.location.origin);
    if (open) {
      await open.focus();
      return open.navigate(url);
    }
    return self.clients.openWindow(url);
  })());
});
