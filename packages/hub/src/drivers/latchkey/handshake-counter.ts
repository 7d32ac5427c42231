import { sql, type Kysely } from "kysely";
import type { LockId } from "@latchkey/protocol";
import type { HubDatabase } from "../../db/schema.js";

/**
 * The counter for the next first handshake message to a lock, stored in `locks.channel_counter`
 * before the message leaves: max(hub clock in ms, last + 1). The lock answers only a counter
 * above the highest it accepted, so a captured first message is never answered again, across
 * lock and hub restarts (docs/secure-channel.md). The clock term keeps it above every counter
 * used before even after the database is restored from an old backup; the +1 covers a clock set
 * back.
 */
export async function nextHandshakeCounter(db: Kysely<HubDatabase>, lockId: LockId): Promise<number> {
  const now = Math.floor(Date.now());
  // One statement, so two hub processes sharing the database never hand out the same counter.
  const row = await db
    .updateTable("locks")
    .set({
      channel_counter: sql<number>`case when channel_counter + 1 > ${now} then channel_counter + 1 else ${now} end`,
    })
    .where("id", "=", lockId)
    .returning("channel_counter")
    .executeTakeFirstOrThrow();
  return Number(row.channel_counter);
}
