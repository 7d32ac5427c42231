/**
 * Web Push channel: one encrypted push message to one browser subscription (RFC 8030 protocol,
 * RFC 8291 aes128gcm message encryption, RFC 8292 VAPID identification).
 *
 * The `web-push` library does the cryptography (payload encryption and the VAPID JWT); the HTTP
 * request is ours, because `sendNotification` takes no AbortSignal, speaks only https and puts the
 * subscription's endpoint (a capability URL) into its errors. Reasons name the push service's host
 * and the HTTP status — never the endpoint path, the subscription keys or the VAPID private key.
 */
import { createECDH, createHash, ECDH } from "node:crypto";
import http from "node:http";
import https from "node:https";
import { LatchkeyError } from "@latchkey/protocol";
import webpush, { type Urgency } from "web-push";
import {
  delivered,
  failed,
  retryableStatus,
  type Channel,
  type DeliveryOutcome,
  type OutboundMessage,
  type Priority,
  type SendOptions,
} from "./channel.js";

/** What a browser's `PushSubscription.toJSON()` gives (Push API), minus `expirationTime`. */
export interface PushSubscription {
  readonly endpoint: string;
  readonly keys: { readonly p256dh: string; readonly auth: string };
}

/** The hub's VAPID identity (RFC 8292 §2): one P-256 key pair and a contact (mailto: or https:). */
export interface VapidConfig {
  readonly publicKey: string;
  readonly privateKey: string;
  readonly subject: string;
}

export interface WebPushChannelConfig {
  readonly subscription: PushSubscription;
  readonly vapid: VapidConfig;
  /** PEM certificate(s) to trust instead of the default roots (a self-hosted push service, tests). */
  readonly ca?: string;
}

/** The JSON the service worker receives in its `push` event. */
export interface PushPayload {
  readonly id: string;
  readonly title: string;
  readonly body: string;
  readonly url: string | null;
  readonly actions: readonly { readonly label: string; readonly url: string }[];
  readonly tag: string;
  readonly priority: Priority;
  readonly occurredAt: number;
}

/**
 * RFC 8291 §4: push services need accept no more than 4096 octets of body, which with one
 * aes128gcm record (86-octet header, 16-octet tag, 1 padding delimiter) leaves 3993 of plaintext.
 */
export const MAX_PUSH_PLAINTEXT_BYTES = 3993;

/**
 * How long the push service keeps a message for an offline device (RFC 8030 §5.2). One day for
 * every priority: an urgent alert (forced entry) is the last thing to drop when a phone is off for
 * a few hours, and the payload carries `occurredAt`, so a late notification shows its age.
 */
export const PUSH_TTL_SECONDS = 24 * 60 * 60;

/** Every "subscription gone" reason starts with this; see `isSubscriptionGone`. */
export const SUBSCRIPTION_EXPIRED_REASON = "subscription expired";

/** Web Push is at most "high" (RFC 8030 §5.3); ntfy's top two levels both wake the device. */
const URGENCY_BY_PRIORITY: Record<Priority, Urgency> = {
  min: "very-low",
  low: "low",
  default: "normal",
  high: "high",
  urgent: "high",
};

const MAX_ENDPOINT_LENGTH = 2048;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const ELLIPSIS = "…";

/** Fresh VAPID keys (P-256, base64url without padding): the raw public point and private scalar. */
export function newVapidKeys(): { publicKey: string; privateKey: string } {
  const { publicKey, privateKey } = webpush.generateVAPIDKeys();
  return { publicKey, privateKey };
}

/**
 * Checks a subscription sent by the web app. Throws LatchkeyError("HUB_BAD_REQUEST") naming the
 * field; messages never repeat the keys.
 */
export function validatePushSubscription(input: unknown): PushSubscription {
  if (!isRecord(input)) throw badRequest("The push subscription must be an object.", "subscription");
  const endpoint = validateEndpoint(input.endpoint);
  const keys = input.keys;
  if (!isRecord(keys)) throw badRequest("The push subscription has no keys.", "keys");
  // RFC 8291 §3.1: the user agent's ECDH share is an uncompressed P-256 point (X9.62, 65 octets).
  const p256dh = decodeBase64url(keys.p256dh, "keys.p256dh", "the subscription's public key");
  if (p256dh.length !== 65 || p256dh[0] !== 0x04 || !isP256Point(p256dh)) {
    throw badRequest("The subscription's public key is not an uncompressed P-256 point.", "keys.p256dh");
  }
  // RFC 8291 §3.2: the authentication secret is 16 random octets.
  const auth = decodeBase64url(keys.auth, "keys.auth", "the subscription's auth secret");
  if (auth.length !== 16) throw badRequest("The subscription's auth secret must be 16 bytes.", "keys.auth");
  return { endpoint, keys: { p256dh: keys.p256dh as string, auth: keys.auth as string } };
}

/** Whether an outcome says the push service forgot the subscription (404/410): disable it. */
export function isSubscriptionGone(outcome: DeliveryOutcome): boolean {
  return !outcome.ok && !outcome.retryable && outcome.reason.startsWith(SUBSCRIPTION_EXPIRED_REASON);
}

export function webPushChannel(config: WebPushChannelConfig): Channel {
  const subscription = validatePushSubscription(config.subscription);
  const vapid = validateVapid(config.vapid);
  const endpoint = new URL(subscription.endpoint);
  const service = endpoint.host; // named in reasons; the path is the subscription's secret handle
  const ca = config.ca;

  return {
    kind: "web-push",
    async send(message: OutboundMessage, options: SendOptions): Promise<DeliveryOutcome> {
      if (options.signal.aborted) return failed("aborted before sending", true);
      const payload = pushPayloadJson(message);
      if (payload === null) {
        return failed(`payload too large: over ${MAX_PUSH_PLAINTEXT_BYTES} bytes with the body cut`, false);
      }
      let request: { headers: Record<string, string>; body: Buffer };
      try {
        request = pushRequest(endpoint, subscription, vapid, message, payload);
      } catch {
        // The library's own words may quote its inputs; keep ours fixed.
        return failed("could not encrypt or sign the push message", false);
      }
      let status: number;
      try {
        status = await post(endpoint, request, ca, options.signal);
      } catch (error) {
        return networkFailure(error, service);
      }
      return outcomeForStatus(status, service);
    },
  };
}

/** The encrypted body and the RFC 8030/8292 headers for one message. */
function pushRequest(
  endpoint: URL,
  subscription: PushSubscription,
  vapid: VapidConfig,
  message: OutboundMessage,
  payload: string,
): { headers: Record<string, string>; body: Buffer } {
  // RFC 8291 §4: aes128gcm, the only encoding RFC 8291 defines; salt and sender key are in the body.
  const { cipherText } = webpush.encrypt(
    subscription.keys.p256dh,
    subscription.keys.auth,
    payload,
    "aes128gcm",
  );
  // RFC 8292 §2: the JWT's audience is the push resource's origin (web-push sets exp to 12 h).
  const { Authorization } = webpush.getVapidHeaders(
    endpoint.origin,
    vapid.subject,
    vapid.publicKey,
    vapid.privateKey,
    "aes128gcm",
  );
  return {
    headers: {
      Authorization,
      "Content-Encoding": "aes128gcm",
      "Content-Type": "application/octet-stream",
      "Content-Length": String(cipherText.length),
      TTL: String(PUSH_TTL_SECONDS), // RFC 8030 §5.2
      Urgency: URGENCY_BY_PRIORITY[message.priority], // RFC 8030 §5.3
      Topic: topicFor(message.id), // RFC 8030 §5.4
    },
    body: cipherText,
  };
}

/**
 * RFC 8030 §5.4: a pending message with the same Topic is replaced, so a retry of one message
 * never shows twice. At most 32 base64url characters: 24 octets of SHA-256(id) make exactly 32.
 */
export function topicFor(messageId: string): string {
  return createHash("sha256").update(messageId).digest().subarray(0, 24).toString("base64url");
}

/**
 * The payload JSON, shortened to fit MAX_PUSH_PLAINTEXT_BYTES: first the body, then the title,
 * each cut on a code point and ended with "…". Null when even that cannot fit (huge URLs).
 */
export function pushPayloadJson(message: OutboundMessage): string | null {
  const base: PushPayload = {
    id: message.id,
    title: message.title,
    body: message.body,
    url: message.url,
    // The Notifications API shows at most two actions on most platforms.
    actions: message.actions.slice(0, 2).map(({ label, url }) => ({ label, url })),
    tag: message.event,
    priority: message.priority,
    occurredAt: message.occurredAt,
  };
  const encode = (payload: PushPayload): string => JSON.stringify(payload);
  const fits = (json: string): boolean => Buffer.byteLength(json, "utf8") <= MAX_PUSH_PLAINTEXT_BYTES;

  let json = encode(base);
  if (fits(json)) return json;
  const withBody = longestFitting(base.body, (body) => encode({ ...base, body }), fits);
  if (withBody !== null) return withBody;
  const withTitle = longestFitting(base.title, (title) => encode({ ...base, title, body: "" }), fits);
  if (withTitle !== null) return withTitle;
  json = encode({ ...base, title: "", body: "" });
  return fits(json) ? json : null;
}

/** Binary search for the longest prefix of `text` (plus "…") whose encoding fits; null if none. */
function longestFitting(
  text: string,
  encodeWith: (text: string) => string,
  fits: (json: string) => boolean,
): string | null {
  const codePoints = Array.from(text);
  const cut = (length: number): string =>
    length === 0 ? "" : codePoints.slice(0, length).join("").trimEnd() + ELLIPSIS;
  let low = 0; // always fits once checked below
  let high = codePoints.length - 1; // the whole text did not fit
  if (!fits(encodeWith(cut(0)))) return null;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (fits(encodeWith(cut(middle)))) low = middle;
    else high = middle - 1;
  }
  return encodeWith(cut(low));
}

function post(
  endpoint: URL,
  request: { headers: Record<string, string>; body: Buffer },
  ca: string | undefined,
  signal: AbortSignal,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const options: https.RequestOptions = { method: "POST", headers: request.headers, signal };
    const outgoing =
      endpoint.protocol === "https:"
        ? https.request(endpoint, ca === undefined ? options : { ...options, ca })
        : http.request(endpoint, options); // loopback only, checked by validatePushSubscription
    outgoing.on("response", (response) => {
      // The body may quote the endpoint; only the status matters (RFC 8030 §5, §7).
      response.resume();
      response.on("end", () => resolve(response.statusCode ?? 0));
      response.on("error", reject);
    });
    outgoing.on("error", reject);
    outgoing.end(request.body);
  });
}

function outcomeForStatus(status: number, service: string): DeliveryOutcome {
  if (status >= 200 && status < 300) return delivered(`accepted by ${service} (HTTP ${status})`);
  // RFC 8030 §7.3 / §6.2: the subscription no longer exists; the outbox disables it.
  if (status === 404 || status === 410) {
    return failed(`${SUBSCRIPTION_EXPIRED_REASON} (HTTP ${status}) at ${service}`, false);
  }
  // RFC 8030 §7.2.
  if (status === 413) return failed(`payload too large (HTTP 413) at ${service}`, false);
  // RFC 8292 §4.1/§4.2: the VAPID token or key was refused.
  if (status === 401 || status === 403) {
    return failed(`${service} refused the VAPID authorization (HTTP ${status})`, false);
  }
  return failed(`${service} answered HTTP ${status}`, retryableStatus(status));
}

const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  ETIMEDOUT: "connection timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "DNS lookup failed",
  EPIPE: "connection closed",
};

function networkFailure(error: unknown, service: string): DeliveryOutcome {
  const code = isRecord(error) && typeof error.code === "string" ? error.code : "";
  const name = isRecord(error) && typeof error.name === "string" ? error.name : "";
  if (name === "AbortError" || code === "ABORT_ERR")
    return failed(`aborted while sending to ${service}`, true);
  const known = NETWORK_REASONS[code];
  if (known !== undefined) return failed(`${known} (${service})`, true);
  // A certificate the hub does not trust will not fix itself between retries.
  if (code.startsWith("ERR_TLS_") || code.includes("CERT") || code.includes("SELF_SIGNED")) {
    return failed(`TLS certificate of ${service} not trusted (${code})`, false);
  }
  return failed(`could not reach ${service}${code === "" ? "" : ` (${code})`}`, true);
}

function validateEndpoint(value: unknown): string {
  if (typeof value !== "string" || value.length === 0) {
    throw badRequest("The push subscription has no endpoint.", "endpoint");
  }
  if (value.length > MAX_ENDPOINT_LENGTH) {
    throw badRequest(`The push endpoint is longer than ${MAX_ENDPOINT_LENGTH} characters.`, "endpoint");
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw badRequest("The push endpoint is not an absolute URL.", "endpoint");
  }
  if (url.username !== "" || url.password !== "") {
    throw badRequest("The push endpoint must not carry credentials.", "endpoint");
  }
  // RFC 8030 §8: push messages go over TLS; plain http only to this machine (tests, development).
  if (url.protocol === "https:") return value;
  if (url.protocol === "http:" && isLoopbackHost(url.hostname)) return value;
  throw badRequest("The push endpoint must be an https URL.", "endpoint");
}

function validateVapid(vapid: VapidConfig): VapidConfig {
  if (!isRecord(vapid)) throw badRequest("The VAPID settings are missing.", "vapid");
  const publicKey = decodeBase64url(vapid.publicKey, "vapid.publicKey", "the VAPID public key");
  if (publicKey.length !== 65 || publicKey[0] !== 0x04 || !isP256Point(publicKey)) {
    throw badRequest("The VAPID public key is not an uncompressed P-256 point.", "vapid.publicKey");
  }
  const privateKey = decodeBase64url(vapid.privateKey, "vapid.privateKey", "the VAPID private key");
  if (privateKey.length !== 32) {
    throw badRequest("The VAPID private key must be 32 bytes.", "vapid.privateKey");
  }
  let derivedPublicKey: Buffer;
  try {
    const ecdh = createECDH("prime256v1");
    ecdh.setPrivateKey(privateKey);
    derivedPublicKey = ecdh.getPublicKey();
  } catch {
    throw badRequest("The VAPID private key is not a valid P-256 key.", "vapid.privateKey");
  }
  if (!derivedPublicKey.equals(publicKey)) {
    throw badRequest("The VAPID private key does not belong to the public key.", "vapid.privateKey");
  }
  // RFC 8292 §2.1: the contact is a mailto: or https: URI.
  const subject = vapid.subject;
  let subjectUrl: URL | null = null;
  try {
    subjectUrl = typeof subject === "string" ? new URL(subject) : null;
  } catch {
    subjectUrl = null;
  }
  if (subjectUrl === null || (subjectUrl.protocol !== "mailto:" && subjectUrl.protocol !== "https:")) {
    throw badRequest("The VAPID subject must be a mailto: or https: URL.", "vapid.subject");
  }
  return { publicKey: vapid.publicKey, privateKey: vapid.privateKey, subject: vapid.subject };
}

function decodeBase64url(value: unknown, field: string, what: string): Buffer {
  if (typeof value !== "string" || !BASE64URL.test(value)) {
    throw badRequest(`${capitalise(what)} must be base64url text without padding.`, field);
  }
  return Buffer.from(value, "base64url");
}

function isP256Point(point: Buffer): boolean {
  try {
    ECDH.convertKey(point, "prime256v1"); // throws for a point off the curve
    return true;
  } catch {
    return false;
  }
}

function isLoopbackHost(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || /^127(\.\d{1,3}){3}$/.test(hostname);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function badRequest(message: string, field: string): LatchkeyError {
  return new LatchkeyError("HUB_BAD_REQUEST", message, { field });
}
