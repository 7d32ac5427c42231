/**
 * Migration 0011_outbound: notification channels, the outbox of their deliveries and the hub-wide
 * outbound settings
 * (outbound/outbound-tables.ts describes the columns).
 */
import type { Kysely, Migration } from "kysely";

export function outboundMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable("notification_channels")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("config", "text", (c) => c.notNull())
        .addColumn("secrets_sealed", "text", (c) => c.notNull())
        .addColumn("events", "text", (c) => c.notNull())
        .addColumn("enabled", "integer", (c) => c.notNull())
        .addColumn("disabled_reason", "text")
        .addColumn("quiet_hours", "text")
        .addColumn("dedupe_minutes", "integer", (c) => c.notNull())
        .addColumn("max_per_hour", "integer", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("created_by", "text")
        .execute();
      await db.schema
        .createTable("outbound_deliveries")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("channel_id", "text", (c) => c.notNull())
        .addColumn("message_id", "text", (c) => c.notNull())
        .addColumn("event", "text", (c) => c.notNull())
        .addColumn("dedupe_key", "text", (c) => c.notNull())
        .addColumn("message", "text", (c) => c.notNull())
        .addColumn("state", "text", (c) => c.notNull())
        .addColumn("attempts", "integer", (c) => c.notNull())
        .addColumn("next_attempt_at", "bigint", (c) => c.notNull())
        .addColumn("leased_until", "bigint")
        .addColumn("last_result", "text")
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("finished_at", "bigint")
        .execute();
      // The dispatcher's question: which pending deliveries are due.
      await db.schema
        .createIndex("outbound_deliveries_due")
        .on("outbound_deliveries")
        .columns(["state", "next_attempt_at"])
        .execute();
      // De-duplication and rate limits look back over a channel's recent deliveries.
      await db.schema
        .createIndex("outbound_deliveries_dedupe")
        .on("outbound_deliveries")
        .columns(["channel_id", "dedupe_key", "created_at"])
        .execute();
      // The delivery log: a channel's newest first; and one delivery per message and channel.
      await db.schema
        .createIndex("outbound_deliveries_channel")
        .on("outbound_deliveries")
        .columns(["channel_id", "created_at"])
        .execute();
      await db.schema
        .createIndex("outbound_deliveries_message")
        .on("outbound_deliveries")
        .columns(["message_id", "channel_id"])
        .unique()
        .execute();
      // Hub-wide outbound settings, sealed (the Web Push VAPID key pair).
      await db.schema
        .createTable("outbound_settings")
        .addColumn("name", "text", (c) => c.primaryKey())
        .addColumn("value_sealed", "text", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .execute();
    },
  };
}
