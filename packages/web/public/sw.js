/**
 * Latchkey's service worker: shows the hub's Web Push messages as notifications and opens the app
 * (or the message's link) when one is clicked. It caches nothing and never logs a payload: a
 * message says what happened at a door.
 *
 * Payload (the hub's outbound/channels/web-push.ts, decrypted by the browser per RFC 8291):
 * { id, title, body, url, actions: [{ label, url }], tag, priority, occurredAt }.
 */
/* eslint-env serviceworker */
"use strict";

/** Most platforms show at most two notification actions. */
const MAX_ACTIONS = 2;

self.addEventListener("install", () => {
  // A new version of this worker takes over at once: it keeps no state worth waiting for.
  void self.skipWaiting();
});

self.addEventListener("activate", (event) => {
  event.waitUntil(self.clients.claim());
});

/** Only http(s) links are followed; anything else in a payload is dropped. */
function httpUrl(value) {
  if (typeof value !== "string" || value === "") return null;
  try {
    const url = new URL(value, self.registration.scope);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch {
    return null;
  }
}

/** The notification to show for a push message's data (a PushMessageData or null). */
function notificationFor(data) {
  let payload = null;
  try {
    payload = data === null ? null : data.json();
  } catch {
    payload = null;
  }
  if (payload === null || typeof payload !== "object") {
    // userVisibleOnly: every push must show something; say where to look instead.
    return {
      title: "Latchkey",
      options: { body: "Open Latchkey to see what happened.", data: { url: null, actions: [] } },
    };
  }
  const actions = (Array.isArray(payload.actions) ? payload.actions : [])
    .filter(
      (a) => a !== null && typeof a === "object" && typeof a.label === "string" && httpUrl(a.url) !== null,
    )
    .slice(0, MAX_ACTIONS)
    .map((a) => ({ label: a.label, url: httpUrl(a.url) }));
  const tag = typeof payload.tag === "string" && payload.tag !== "" ? payload.tag : undefined;
  const options = {
    body: typeof payload.body === "string" ? payload.body : "",
    data: { url: httpUrl(payload.url), actions },
    actions: actions.map((a, i) => ({ action: String(i), title: a.label })),
    // An urgent alert (a door forced open) stays on screen until the person deals with it.
    requireInteraction: payload.priority === "urgent",
  };
  if (tag !== undefined) {
    options.tag = tag;
    // A newer message with the same tag replaces the old one; it should still alert the person.
    options.renotify = true;
  }
  if (typeof payload.occurredAt === "number" && Number.isFinite(payload.occurredAt))
    options.timestamp = payload.occurredAt;
  const title = typeof payload.title === "string" && payload.title !== "" ? payload.title : "Latchkey";
  return { title, options };
}

self.addEventListener("push", (event) => {
  const { title, options } = notificationFor(event.data);
  event.waitUntil(self.registration.showNotification(title, options));
});

self.addEventListener("notificationclick", (event) => {
  const notification = event.notification;
  const data = notification.data !== null && typeof notification.data === "object" ? notification.data : {};
  const actions = Array.isArray(data.actions) ? data.actions : [];
  const chosen = event.action === "" ? null : actions[Number(event.action)];
  const target = (chosen !== undefined && chosen !== null ? httpUrl(chosen.url) : null) ?? httpUrl(data.url);
  notification.close();
  event.waitUntil(openApp(target));
});

/** Focuses an open window of the app (moving it to `target` when that is in the app), or opens one. */
async function openApp(target) {
  const scope = self.registration.scope;
  const inApp = target === null || target.startsWith(scope);
  if (inApp) {
    const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    const open = windows.find((w) => w.url.startsWith(scope));
    if (open !== undefined) {
      const focused = await open.focus();
      if (target !== null && focused.url !== target) {
        try {
          await focused.navigate(target);
        } catch {
          // navigate() only works on a window this worker controls; the app is focused anyway.
        }
      }
      return;
    }
  }
  await self.clients.openWindow(target ?? scope);
}
