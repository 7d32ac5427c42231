/**
 * Migration 0010_calendar_feeds: booking calendars that give guests their codes
 * (calendars/calendar-tables.ts describes the columns).
 */
import type { Kysely, Migration } from "kysely";

export function calendarFeedsMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable("calendar_feeds")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("site_id", "text", (c) => c.notNull())
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("url_sealed", "text", (c) => c.notNull())
        .addColumn("url_host", "text", (c) => c.notNull())
        .addColumn("door_ids", "text", (c) => c.notNull())
        .addColumn("lead_minutes", "integer", (c) => c.notNull())
        .addColumn("check_in", "text", (c) => c.notNull())
        .addColumn("check_out", "text", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("created_by", "text")
        .addColumn("next_poll_at", "bigint", (c) => c.notNull())
        .addColumn("last_success_at", "bigint")
        .addColumn("consecutive_failures", "integer", (c) => c.notNull())
        .addColumn("last_error", "text")
        .addColumn("empty_polls", "integer", (c) => c.notNull())
        .addColumn("alert_id", "bigint")
        .execute();
      await db.schema.createIndex("calendar_feeds_site").on("calendar_feeds").column("site_id").execute();
      await db.schema
        .createTable("calendar_bookings")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("feed_id", "text", (c) => c.notNull())
        .addColumn("site_id", "text", (c) => c.notNull())
        .addColumn("booking_key", "text", (c) => c.notNull())
        .addColumn("summary", "text", (c) => c.notNull())
        .addColumn("starts_at", "bigint", (c) => c.notNull())
        .addColumn("ends_at", "bigint", (c) => c.notNull())
        .addColumn("state", "text", (c) => c.notNull())
        .addColumn("person_id", "text")
        .addColumn("grant_id", "text")
        .addColumn("credential_id", "text")
        .addColumn("withdrawn_at", "bigint")
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("updated_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex("calendar_bookings_key")
        .on("calendar_bookings")
        .columns(["feed_id", "booking_key"])
        .unique()
        .execute();
    },
  };
}
