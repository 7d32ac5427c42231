import type { Kysely } from "kysely";

/** Migration 0007_doorbells. */
export function doorbellsMigration(): { up(db: Kysely<unknown>): Promise<void> } {
  return {
    async up(db) {
      await db.schema
        .createTable("doorbells")
        .addColumn("door_id", "text", (c) => c.primaryKey())
        .addColumn("site_id", "text", (c) => c.notNull())
        .addColumn("token_hash", "text", (c) => c.notNull().unique())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("last_rung_at", "bigint")
        .execute();
    },
  };
}
