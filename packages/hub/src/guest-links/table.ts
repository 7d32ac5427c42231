/**
 * The guest-link table. It needs a migration the hub's db folder owns (0005_guest_links):
 * `guestLinksMigration` below is that migration, ready to add to db/migrations.ts. No foreign
 * keys: deleting a person deletes their credentials, and a link whose credential is gone is
 * treated (and purged) like a revoked one.
 */
import type { Kysely } from "kysely";

export type GuestLinkTable = {
  /** Random UUID; the associated data of the sealed PIN. */
  id: string;
  /** Keyed hash of the token (never the token). */
  token_hash: string;
  site_id: string;
  credential_id: string;
  /** The PIN sealed under a key derived from the token; null once opened, expired or revoked. */
  sealed_pin: string | null;
  expires_at: number;
  opened_at: number | null;
  created_at: number;
};

// A type alias (not an interface) so it fits Kysely's `withTables` constraint.
export type GuestLinkTables = { guest_links: GuestLinkTable };

/** Migration 0005_guest_links (idempotent, so tests can apply it before the lead wires it). */
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
