/**
 * Notification channels (owner only): list, add, rename / turn off and on, remove, send a test,
 * read a channel's delivery log; and this browser as a Web Push channel (service worker, VAPID
 * key, subscription). The hub answers a channel's settings only as far as they may be shown; a
 * webhook secret the hub made comes back once, in the answer to adding the channel.
 */
import { api, appRoot } from "./client.js";
import type { ApiAnswer, ApiBody, ItemOf } from "./types.js";

export type NotificationChannel = ItemOf<ApiAnswer<"/api/v1/notification-channels", "get">>;
export type NewChannel = ApiBody<"/api/v1/notification-channels", "post">;
export type ChannelKind = NewChannel["kind"];
/** The new channel, and the webhook secret the hub made (null for every other kind): shown once. */
export type AddedChannel = ApiAnswer<"/api/v1/notification-channels", "post">;
export type ChannelChange = ApiBody<"/api/v1/notification-channels/{channelId}", "patch">;
export type Delivery = ApiAnswer<"/api/v1/notification-channels/{channelId}/test", "post">;

/** In the order the form offers them, with what each one is in a few words. */
export const CHANNEL_KINDS: readonly { value: ChannelKind; label: string; help: string }[] = [
  {
    value: "webhook",
    label: "Webhook",
    help: "The hub POSTs each message as signed JSON (Standard Webhooks) to a URL of yours, e.g. Home Assistant or n8n.",
  },
  {
    value: "ntfy",
    label: "ntfy",
    help: "Push to the ntfy app on your phone, through ntfy.sh or your own ntfy server.",
  },
  { value: "email", label: "Email", help: "Mail through an SMTP server you have an account on." },
  {
    value: "mqtt",
    label: "MQTT",
    help: "Publish to an MQTT broker (e.g. for Home Assistant or Node-RED); the event name is added to the topic.",
  },
  {
    value: "syslog",
    label: "Syslog (SIEM)",
    help: "RFC 5424 syslog over TLS (port 6514) to your log collector or SIEM: rsyslog, syslog-ng, Graylog, Splunk…",
  },
  {
    value: "json-lines",
    label: "JSON lines",
    help: "One JSON object per line, appended to a file on the hub's machine or POSTed to an HTTP endpoint (Loki, Vector, Elastic…).",
  },
  {
    value: "web-push",
    label: "This browser (Web Push)",
    help: "Notifications from this browser, even when the page is closed. Use “This device” below.",
  },
];

const base = "/notification-channels";
const one = (channelId: string) => `${base}/${encodeURIComponent(channelId)}`;

export async function listChannels(): Promise<readonly NotificationChannel[]> {
  return (await api.get<ApiAnswer<"/api/v1/notification-channels", "get">>(base)).items;
}

/** Adds a channel (step-up: the client asks for the second factor when the hub wants it). */
export function addChannel(channel: NewChannel): Promise<AddedChannel> {
  return api.post<AddedChannel>(base, channel);
}

/** Renames a channel, changes its events, or turns it off / on (step-up). */
export function updateChannel(channelId: string, change: ChannelChange): Promise<NotificationChannel> {
  return api.patch<NotificationChannel>(one(channelId), change);
}

/** Removes a channel with its undelivered messages and delivery log (step-up). */
export async function removeChannel(channelId: string): Promise<void> {
  await api.delete<ApiAnswer<"/api/v1/notification-channels/{channelId}", "delete">>(one(channelId));
}

/** Sends a test message now; answers its delivery after the first attempt. */
export function sendTest(channelId: string): Promise<Delivery> {
  return api.post<Delivery>(`${one(channelId)}/test`);
}

/** The channel's delivery log, newest first. */
export async function listDeliveries(channelId: string, limit = 20): Promise<readonly Delivery[]> {
  const path = `${one(channelId)}/deliveries?limit=${limit}`;
  return (await api.get<ApiAnswer<"/api/v1/notification-channels/{channelId}/deliveries", "get">>(path))
    .items;
}

/** A delivery's outcome in words: "Sent (HTTP 200)", "Not sent yet: … Next try …", "Failed: …". */
export function deliveryWords(d: Delivery, when: (at: number) => string): string {
  const tries = d.attempts === 1 ? "1 attempt" : `${d.attempts} attempts`;
  const result = d.lastResult === null || d.lastResult === "" ? "" : ` (${d.lastResult})`;
  switch (d.state) {
    case "sent":
      return `Sent${result} after ${tries}.`;
    case "pending":
      return `Not sent yet${d.lastResult === null ? "" : `: ${d.lastResult}`}.${
        d.nextAttemptAt === null ? "" : ` The hub tries again at ${when(d.nextAttemptAt)}.`
      }`;
    case "failed":
      return `Failed after ${tries}${d.lastResult === null ? "" : `: ${d.lastResult}`}. The hub will not try again.`;
    default:
      return `${d.state}${result}.`;
  }
}

const KIND_WORDS: Readonly<Record<string, string>> = {
  webhook: "Webhook",
  ntfy: "ntfy",
  email: "Email",
  mqtt: "MQTT",
  syslog: "Syslog",
  "json-lines": "JSON lines",
  "web-push": "Web Push",
};

export function kindWords(kind: string): string {
  return KIND_WORDS[kind] ?? kind;
}

/**
 * The settings the hub shows, as label/value pairs: a host, a server, addresses — never a token,
 * password or secret (the hub does not send them), only whether one is set.
 */
export function shownSettings(channel: NotificationChannel): readonly [string, string][] {
  const s = channel.settings;
  const text = (v: unknown): string | null =>
    typeof v === "string" ? v : typeof v === "number" ? String(v) : null;
  const rows: [string, string][] = [];
  const add = (label: string, v: unknown) => {
    const t = Array.isArray(v) ? v.join(", ") : text(v);
    if (t !== null && t !== "") rows.push([label, t]);
  };
  switch (channel.kind) {
    case "webhook":
      add("Host", s.host);
      break;
    case "ntfy":
      add("Server", s.server);
      if (typeof s.token === "boolean") rows.push(["Access token", s.token ? "set" : "none"]);
      break;
    case "email":
      add(
        "Server",
        typeof s.host === "string" ? `${s.host}${s.port === undefined ? "" : `:${text(s.port)}`}` : null,
      );
      add(
        "Security",
        s.security === "none" ? "none (this machine only)" : s.security === "tls" ? "TLS" : "STARTTLS",
      );
      add("From", s.from);
      add("To", s.to);
      if (typeof s.login === "boolean") rows.push(["Login", s.login ? "set" : "none"]);
      break;
    case "mqtt":
      add("Broker", s.host);
      add("Topic", s.topic);
      break;
    case "web-push":
      add("Push service", s.pushService);
      break;
    default:
      for (const [k, v] of Object.entries(s)) add(k, v);
  }
  return rows;
}

const EVENT_WORDS: Readonly<Record<string, string>> = {
  "*": "everything",
  "alert.*": "every alert",
  test: "test messages",
};

/** "every alert", "alert.lock-offline", … */
export function eventWords(events: readonly string[]): string {
  return events.map((e) => EVENT_WORDS[e] ?? e).join(", ");
}

/** Splits "alert.*, test" (commas, spaces or new lines) into patterns; [] for nothing. */
export function parseEvents(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((e) => e.trim())
    .filter((e) => e !== "");
}

// ---- This device: Web Push ----

/** Why this browser cannot take push notifications, in words; null when it can. */
export function pushUnsupportedReason(): string | null {
  if (!window.isSecureContext)
    return "Notifications on this device need the hub's page over HTTPS (plain http:// works only on localhost). Open the hub through its https:// address.";
  const standalone = window.matchMedia?.("(display-mode: standalone)").matches === true;
  const ios = /iPhone|iPad|iPod/.test(navigator.userAgent);
  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
    if (ios && !standalone)
      return "On iPhone and iPad, web notifications work only for web apps added to the home screen: in Safari, tap Share, then “Add to Home Screen”, open Latchkey from there and come back to this page.";
    return "This browser cannot receive web push notifications. Use a current Chrome, Edge, Firefox or Safari, or choose ntfy or email instead.";
  }
  return null;
}

/** A short name for this device from its user agent: "Chrome on Android", "Safari on iPhone". */
export function deviceName(userAgent: string = navigator.userAgent): string {
  const browser = /Edg\//.test(userAgent)
    ? "Edge"
    : /OPR\//.test(userAgent)
      ? "Opera"
      : /Firefox\//.test(userAgent)
        ? "Firefox"
        : /(Chrome|Chromium|CriOS)\//.test(userAgent)
          ? "Chrome"
          : /Safari\//.test(userAgent)
            ? "Safari"
            : "Browser";
  const system = /iPhone/.test(userAgent)
    ? "iPhone"
    : /iPad/.test(userAgent)
      ? "iPad"
      : /Android/.test(userAgent)
        ? "Android"
        : /Windows/.test(userAgent)
          ? "Windows"
          : /Mac OS X|Macintosh/.test(userAgent)
            ? "Mac"
            : /CrOS/.test(userAgent)
              ? "ChromeOS"
              : /Linux/.test(userAgent)
                ? "Linux"
                : null;
  return system === null ? browser : `${browser} on ${system}`;
}

/** base64url (RFC 4648 §5, padding optional) to bytes, for PushManager's applicationServerKey. */
export function base64UrlToBytes(text: string): Uint8Array<ArrayBuffer> {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  const bytes = new Uint8Array(new ArrayBuffer(binary.length));
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** An error whose message is already meant for the person reading the page. */
export class PushSetupError extends Error {
  override name = "PushSetupError";
}

/**
 * Registers the service worker, asks for permission, subscribes with the hub's VAPID key (RFC 8292)
 * and adds this browser as a web-push channel named `name`.
 */
export async function subscribeThisDevice(name: string): Promise<AddedChannel> {
  const unsupported = pushUnsupportedReason();
  if (unsupported !== null) throw new PushSetupError(unsupported);
  const permission = await Notification.requestPermission();
  if (permission !== "granted")
    throw new PushSetupError(
      "Notifications are blocked for this site in the browser. Allow them in the browser's site settings, then try again.",
    );
  let registration: ServiceWorkerRegistration;
  try {
    // Beside index.html, so its scope is the whole app even behind a reverse-proxy prefix.
    await navigator.serviceWorker.register(new URL("sw.js", appRoot).href, { scope: appRoot });
    registration = await navigator.serviceWorker.ready;
  } catch {
    throw new PushSetupError(
      "The browser could not start the hub's notification helper (service worker). Reload the page and try again; if it keeps happening, the hub may be too old to serve it.",
    );
  }
  const { publicKey } = await api.get<ApiAnswer<"/api/v1/notifications/web-push-key", "get">>(
    "/notifications/web-push-key",
  );
  const key = base64UrlToBytes(publicKey);
  let subscription = await registration.pushManager.getSubscription();
  // A subscription made with another key (the hub's keys changed) cannot be used: start over.
  if (subscription !== null && !sameKey(subscription.options.applicationServerKey, key)) {
    await subscription.unsubscribe();
    subscription = null;
  }
  try {
    subscription ??= await registration.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: key,
    });
  } catch {
    throw new PushSetupError(
      "The browser's push service did not accept the subscription (it may be unreachable, or turned off in this browser). Try again later, or choose ntfy or email instead.",
    );
  }
  const { endpoint, keys } = subscription.toJSON();
  // The hub wants the subscription without expirationTime.
  return addChannel({ kind: "web-push", name, settings: { subscription: { endpoint, keys } } });
}

function sameKey(a: ArrayBuffer | null, b: Uint8Array): boolean {
  if (a === null) return false;
  const x = new Uint8Array(a);
  return x.length === b.length && x.every((v, i) => v === b[i]);
}
