/**
 * Migration 0008_credential_secrets: the hub forgets every value derived from a PIN or card
 * number that its own keys could test guesses against. Before it, `credentials.secret_hmac` held
 * HMAC-SHA-256(key from secret.key, PIN): anyone with the data folder could try all 10^6 6-digit
 * PINs against it in a second or two. The column and its index go, and so does `pin_seals`, a
 * table nothing wrote. On SQLite the file is then rebuilt (VACUUM, with secure_delete on) and the
 * WAL truncated, so no old page still holds a hash. PostgreSQL keeps old row versions until its
 * own vacuum: docs/hub.md says to run `VACUUM FULL credentials` after upgrading.
 */
import { sql, type Kysely, type Migration } from "kysely";
import type { Dialect } from "../migrations.js";

export function credentialSecretsMigration(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      // Blanked first: PostgreSQL's DROP COLUMN only hides a column's bytes.
      await sql`update credentials set secret_hmac = null`.execute(db);
      await db.schema.dropIndex("credentials_hmac").ifExists().execute();
      await db.schema.alterTable("credentials").dropColumn("secret_hmac").execute();
      await db.schema.dropTable("pin_seals").ifExists().execute();
      if (dialect === "sqlite") {
        await sql`pragma secure_delete = on`.execute(db);
        await sql`vacuum`.execute(db);
        await sql`pragma wal_checkpoint(truncate)`.execute(db);
      }
    },
  };
}
