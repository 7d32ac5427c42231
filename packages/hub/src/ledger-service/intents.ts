/**
 * Crash atomicity between the hub database and the ledger, which live in two stores (the ledger
 * has its own SQLite file, or its own transactions on PostgreSQL). Every writer that appends to
 * the ledger and then records that fact in the hub database (an ingestion cursor, an audit row's
 * ledger index) does it in three durable steps:
 *
 *   1. write an intent (owner, ledger size before the append) to the hub database;
 *   2. append the leaves to the ledger (durable when it resolves);
 *   3. in one hub transaction: record what was appended and delete the intent.
 *
 * A crash after 1 leaves an intent. Before its next write the owner *recovers*: it scans the
 * ledger from the intent's size to the end (only the leaves appended while the intent was open:
 * the crashed batch and whatever other writers appended meanwhile), takes the leaves that are its
 * own as appended, and completes step 3. So the ledger is the source of truth: a leaf appended is
 * never appended twice, and nothing is acknowledged before both stores have it.
 */
import type { Kysely } from "kysely";
import type { Ledger, LedgerEntry } from "../ledger/index.js";
import type { HubDatabase } from "../db/schema.js";

export async function beginIntent(
  db: Kysely<HubDatabase>,
  owner: string,
  fromSize: number,
  now: number,
): Promise<void> {
  await db
    .insertInto("ledger_intents")
    .values({ owner, from_size: fromSize, created_at: now })
    .onConflict((oc) => oc.column("owner").doUpdateSet({ from_size: fromSize, created_at: now }))
    .execute();
}

export async function openIntent(db: Kysely<HubDatabase>, owner: string): Promise<number | undefined> {
  const row = await db
    .selectFrom("ledger_intents")
    .select("from_size")
    .where("owner", "=", owner)
    .executeTakeFirst();
  return row === undefined ? undefined : Number(row.from_size);
}

export async function endIntent(db: Kysely<HubDatabase>, owner: string): Promise<void> {
  await db.deleteFrom("ledger_intents").where("owner", "=", owner).execute();
}

/** Visits every ledger entry from `from` to the current end, a page at a time. */
export async function scanLedger(
  ledger: Ledger,
  from: number,
  visit: (entry: LedgerEntry) => void,
  page = 1000,
): Promise<void> {
  const end = await ledger.size();
  for (let start = from; start < end; start += page) {
    for (const e of await ledger.entries(start, Math.min(end, start + page))) visit(e);
  }
}
