/** Small helpers every domain module uses to reach the database. */
import { sql, type Kysely } from "kysely";
import type { Database, HubDatabase } from "./schema.js";

/**
 * The database seen with every migration's tables. The hub's context types only the core tables
 * (`Database`); a module that joins sync or ingest tables widens its view through this one place.
 */
export function allTables(db: Kysely<Database>): Kysely<HubDatabase> {
  return db.withTables<Pick<HubDatabase, keyof HubDatabase>>();
}

/** Resolves when the database answers a trivial query; rejects with the driver's error otherwise. */
export async function pingDatabase(db: Kysely<Database>): Promise<void> {
  await sql`select 1`.execute(db);
}
