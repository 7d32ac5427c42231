/**
 * Migration 0009_channel_presence: what presence and replay protection need to survive a restart.
 *  - locks.channel_counter: the highest handshake counter the hub has put into a first handshake
 *    message to the lock (stored before the message leaves; the lock refuses any counter not above
 *    the highest it accepted, so a captured first message is never answered again).
 *  - alerts.resolved_at: when the condition behind an alert ended by itself (a lock offline
 *    that came back), so it is no longer open though nobody acknowledged it.
 */
import type { Kysely, Migration } from "kysely";

export function channelPresenceMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .alterTable("locks")
        .addColumn("channel_counter", "bigint", (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.alterTable("alerts").addColumn("resolved_at", "bigint").execute();
    },
  };
}
