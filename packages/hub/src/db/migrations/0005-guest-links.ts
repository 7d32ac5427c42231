import type { Kysely } from "kysely";

/** Migration 0005_guest_links (idempotent: some tests apply it to a hub that already has it). */
export function guestLinksMigration(): { up(db: Kysely<unknown>): Promise<void> } {
  return {
    async up(db) {
      await db.schema
        .createTable("guest_links")
        .ifNotExists()
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("token_hash", "text", (c) => c.notNull().unique())
        .addColumn("site_id", "text", (c) => c.notNull())
        .addColumn("credential_id", "text", (c) => c.notNull())
        .addColumn("sealed_pin", "text")
        .addColumn("expires_at", "bigint", (c) => c.notNull())
        .addColumn("opened_at", "bigint")
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex("guest_links_credential")
        .ifNotExists()
        .on("guest_links")
        .column("credential_id")
        .execute();
    },
  };
}
