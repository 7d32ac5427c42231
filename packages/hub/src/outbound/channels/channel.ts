/**
 * One way out of the hub: a notification channel (Web Push, ntfy, email, a signed webhook, MQTT).
 * A channel turns one `OutboundMessage` into one delivery attempt and says how it went; it keeps
 * no state between attempts. Retries, backoff, de-duplication and the delivery log are the
 * outbox's (outbound/outbox.ts), so every channel behaves alike and a restart loses nothing.
 *
 * What a message may carry: who, when, which door, what happened and why, in words and ids —
 * never a PIN, token, key or link secret. Channels send only the fields below.
 */

/** ntfy's five levels (https://docs.ntfy.sh/publish/#message-priority), used by every channel. */
export type Priority = "min" | "low" | "default" | "high" | "urgent";

/** A button on the notification: opens `url` (an approval page, the door's activity). */
export interface MessageAction {
  readonly label: string;
  readonly url: string;
}

export interface OutboundMessage {
  /** Unique per message and stable across its retries (webhook-id, Message-ID, Web Push Topic). */
  readonly id: string;
  /** What it is about, machine-readable: "alert.forced-entry", "test", "approval.requested"… */
  readonly event: string;
  readonly title: string;
  /** One or two sentences of plain text. */
  readonly body: string;
  readonly priority: Priority;
  /** Short keywords (ntfy tags, email category); no spaces. */
  readonly tags: readonly string[];
  /**
   * Where "open" goes: a page of the web app. Queued as a path ("/#/…"); the outbox makes it an
   * absolute URL under the hub's origin before a channel sees it (also in `actions`).
   */
  readonly url: string | null;
  readonly actions: readonly MessageAction[];
  /** When the thing happened, ms since the epoch (UTC). */
  readonly occurredAt: number;
  /** Structured detail for machines (webhook body, MQTT payload): ids, kinds, reasons. */
  readonly data: Readonly<Record<string, string | number | boolean | null>>;
}

/** How one attempt went. `retryable`: worth trying again later (timeouts, 5xx, 429, refused connections). */
export type DeliveryOutcome =
  | { readonly ok: true; readonly detail: string }
  | { readonly ok: false; readonly retryable: boolean; readonly reason: string };

export interface SendOptions {
  /** Aborts the attempt (the hub is stopping, or the attempt's time is up). */
  readonly signal: AbortSignal;
}

/**
 * A configured channel, ready to send. `reason` texts in outcomes are shown to the owner in the
 * delivery log: they say what went wrong (HTTP status, SMTP reply code, "connection refused")
 * and never repeat a secret (a token, a password, a webhook secret, a push subscription's keys).
 */
export interface Channel {
  readonly kind: ChannelKind;
  send(message: OutboundMessage, options: SendOptions): Promise<DeliveryOutcome>;
}

export type ChannelKind = "webhook" | "ntfy" | "email" | "mqtt" | "web-push" | "syslog" | "json-lines";

/** Outcome helpers, so every channel words them alike. */
export const delivered = (detail: string): DeliveryOutcome => ({ ok: true, detail });
export const failed = (reason: string, retryable: boolean): DeliveryOutcome => ({
  ok: false,
  retryable,
  reason,
});

/** Whether an HTTP status is worth retrying: 408, 425, 429 and every 5xx. */
export function retryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}
