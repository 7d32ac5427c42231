/**
 * The outbound tables (migration 0011_outbound): notification channels and the outbox of
 * deliveries. Kept apart from `Database`, like the calendar tables; query them through `outboundDb`.
 */
import type { Kysely } from "kysely";
import type { Database, HubDatabase } from "../db/schema.js";
import type { ChannelKind } from "./channels/channel.js";

export type NotificationChannelTable = {
  id: string;
  kind: ChannelKind;
  name: string;
  /** JSON of the settings that are not secret (URL host and path, topic, addresses…), shown as is. */
  config: string;
  /** JSON of the secret settings (token, password, webhook secret, push keys), sealed under the hub secret. */
  secrets_sealed: string;
  /** JSON array of event patterns this channel receives: "alert.*", "alert.lock-offline", "*". */
  events: string;
  enabled: number;
  /** Why the hub turned it off by itself (a push subscription the browser gave up), else null. */
  disabled_reason: string | null;
  /** JSON { start: "HH:MM", end: "HH:MM", timeZone } or null: non-urgent messages wait until the end. */
  quiet_hours: string | null;
  /** A message like one sent in the last this many minutes (same event, same lock) is not sent again; 0: all are sent. */
  dedupe_minutes: number;
  /** At most this many messages an hour; beyond it they are logged as suppressed, not sent. */
  max_per_hour: number;
  created_at: number;
  created_by: string | null;
};

/**
 * pending: waiting for its next attempt; sent; failed: gave up (permanent failure or out of
 * attempts); suppressed: not sent, a duplicate or over the channel's hourly limit (the log says which).
 */
export type DeliveryState = "pending" | "sent" | "failed" | "suppressed";

export type DeliveryTable = {
  id: string;
  channel_id: string;
  /** The message's id: the same on every attempt, and in the webhook-id / Message-ID the peer sees. */
  message_id: string;
  event: string;
  /** What makes two messages the same for de-duplication: the event and the lock it is about. */
  dedupe_key: string;
  /** The OutboundMessage as JSON (no secrets: messages never carry any). */
  message: string;
  state: DeliveryState;
  attempts: number;
  next_attempt_at: number;
  /** A dispatcher holds the row until then while it sends (several hubs may share one database). */
  leased_until: number | null;
  /** The last attempt's outcome in words (shown in the delivery log). */
  last_result: string | null;
  created_at: number;
  finished_at: number | null;
};

export type OutboundSettingTable = {
  name: string;
  /** JSON sealed under the hub secret with the context "outbound-setting:<name>". */
  value_sealed: string;
  created_at: number;
};

export type OutboundTables = {
  notification_channels: NotificationChannelTable;
  outbound_deliveries: DeliveryTable;
  outbound_settings: OutboundSettingTable;
};

/** The hub's database under either of its types (domain code holds one, ingestion the other). */
export type HubDb = Kysely<Database> | Kysely<HubDatabase>;

export function outboundDb(db: HubDb): Kysely<HubDatabase & OutboundTables> {
  return (db as Kysely<HubDatabase>).withTables<OutboundTables>();
}
