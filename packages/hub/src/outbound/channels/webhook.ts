/**
 * A signed webhook: each message is POSTed as JSON to the owner's URL and signed per Standard
 * Webhooks 1.0.0 (https://www.standardwebhooks.com; spec/standard-webhooks.md), so any receiver
 * with a Standard Webhooks library can check it came from this hub, unaltered and recently.
 */
import { createHmac, randomBytes } from "node:crypto";
import { LatchkeyError } from "@latchkey/protocol";
import { delivered, failed, type Channel, type OutboundMessage } from "./channel.js";
import {
  errorFailure,
  httpPost,
  isHttpUrl,
  isPemCertificate,
  isSuccessStatus,
  statusFailure,
} from "./http-post.js";

export interface WebhookConfig {
  /** Absolute http(s) URL; it may carry a token in its query or userinfo. */
  readonly url: string;
  /** "whsec_" + base64 of 24–64 random bytes (Standard Webhooks §Signature scheme, symmetric). */
  readonly secret: string;
  /** PEM certificate(s) of a private CA that signed the receiver's certificate. */
  readonly ca?: string | undefined;
}

export interface WebhookChannelOptions extends WebhookConfig {
  /** Per-attempt deadline; default 10 s (http-post.ts). */
  readonly timeoutMs?: number | undefined;
}

const SECRET_PREFIX = "whsec_";
const MIN_KEY_BYTES = 24;
const MAX_KEY_BYTES = 64;
const NEW_KEY_BYTES = 32;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** A fresh signing secret for a new webhook (Standard Webhooks §Signature scheme: whsec_ + base64). */
export function newWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(NEW_KEY_BYTES).toString("base64");
}

/** The HMAC key inside a secret, or null when the secret is not "whsec_" + base64 of 24–64 bytes. */
function secretKey(secret: string): Buffer | null {
  if (!secret.startsWith(SECRET_PREFIX)) return null;
  const encoded = secret.slice(SECRET_PREFIX.length);
  if (!BASE64.test(encoded)) return null;
  const key = Buffer.from(encoded, "base64");
  return key.byteLength >= MIN_KEY_BYTES && key.byteLength <= MAX_KEY_BYTES ? key : null;
}

/** Checks a webhook configuration from the API; messages never repeat the URL or the secret. */
export function validateWebhookConfig(input: unknown): WebhookConfig {
  if (typeof input !== "object" || input === null)
    throw new LatchkeyError("HUB_BAD_REQUEST", "webhook configuration must be an object", { field: "url" });
  const { url, secret, ca } = input as Record<string, unknown>;
  if (typeof url !== "string" || !isHttpUrl(url))
    throw new LatchkeyError("HUB_BAD_REQUEST", "webhook URL must be an absolute http:// or https:// URL", {
      field: "url",
    });
  if (typeof secret !== "string" || secretKey(secret) === null)
    throw new LatchkeyError(
      "HUB_BAD_REQUEST",
      `webhook secret must be "${SECRET_PREFIX}" followed by base64 of ${MIN_KEY_BYTES} to ${MAX_KEY_BYTES} bytes`,
      { field: "secret" },
    );
  if (ca !== undefined && ca !== null && !isPemCertificate(ca))
    throw new LatchkeyError("HUB_BAD_REQUEST", "webhook CA must be a PEM certificate", { field: "ca" });
  return typeof ca === "string" ? { url, secret, ca } : { url, secret };
}

/**
 * "v1,<base64 HMAC-SHA256>" over `${id}.${timestamp}.${body}` (Standard Webhooks §Signature
 * scheme); the key is the base64-decoded part after "whsec_".
 */
export function signWebhook(secret: string, id: string, timestampSeconds: number, body: string): string {
  const key = secretKey(secret);
  if (key === null) throw new Error("webhook secret is malformed");
  return signWithKey(key, id, timestampSeconds, body);
}

function signWithKey(key: Buffer, id: string, timestampSeconds: number, body: string): string {
  const signature = createHmac("sha256", key).update(`${id}.${timestampSeconds}.${body}`).digest("base64");
  return `v1,${signature}`;
}

/** The JSON body (Standard Webhooks §Payload structure: type, timestamp of the event, data). */
export function webhookPayload(message: OutboundMessage): string {
  return JSON.stringify({
    type: message.event,
    timestamp: new Date(message.occurredAt).toISOString(),
    // The message's own fields last: a data key can never stand in for the title or the link.
    data: {
      ...message.data,
      title: message.title,
      body: message.body,
      priority: message.priority,
      tags: message.tags,
      url: message.url,
      actions: message.actions,
    },
  });
}

export function webhookChannel(options: WebhookChannelOptions): Channel {
  const { secret, ca, timeoutMs } = options;
  // Configurations are validated on the way in; one that is not anyway fails every attempt for good.
  const url = isHttpUrl(options.url) ? new URL(options.url) : null;
  const key = secretKey(secret);
  return {
    kind: "webhook",
    async send(message, { signal }) {
      if (url === null) return failed("webhook URL is invalid", false);
      if (key === null) return failed("webhook secret is malformed", false);
      // Standard Webhooks §Signature scheme: the id must not contain "." (it delimits the signed content).
      if (/[.\s]/.test(message.id) || message.id === "")
        return failed("message id cannot be a webhook-id", false);
      const body = webhookPayload(message);
      // Standard Webhooks §Webhook metadata: the id stays the same on every retry, the timestamp is
      // the attempt's, so a receiver can both de-duplicate and reject replays.
      const timestamp = Math.floor(Date.now() / 1000);
      try {
        const response = await httpPost({
          url,
          body: Buffer.from(body, "utf8"),
          headers: {
            "content-type": "application/json",
            "user-agent": "Latchkey",
            "webhook-id": message.id,
            "webhook-timestamp": String(timestamp),
            "webhook-signature": signWithKey(key, message.id, timestamp, body),
          },
          signal,
          timeoutMs,
          ca,
        });
        return isSuccessStatus(response.status)
          ? delivered(`HTTP ${response.status}`)
          : statusFailure(response.status);
      } catch (error) {
        return errorFailure(error);
      }
    },
  };
}
