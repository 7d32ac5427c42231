/**
 * The columns that let a site's door activity be filtered, counted and read at any position in
 * SQL (migration 0006): each `lock_events` row carries its site, the lock's time and the person
 * whose user slot signed it. Ingestion fills them as it appends; rows ingested before the
 * migration are filled once at start from the ledger's lock-signed records (`describeOldEvents`).
 */
import { decodeSignedLockEvent, LedgerLeafKind, type SignedLockEvent } from "@latchkey/protocol";
import { sql, type Kysely } from "kysely";
import type { Logger } from "pino";
import type { HubDatabase } from "../db/schema.js";
import type { Ledger } from "../ledger/index.js";

export interface EventDescription {
  readonly site_id: string | null;
  readonly at: number | null;
  readonly person_id: string | null;
  readonly described: 1;
}

/** The lock's user slots now: user index → person id. */
export async function slotHolders(db: Kysely<HubDatabase>, lockId: string): Promise<Map<number, string>> {
  const rows = await db
    .selectFrom("lock_users")
    .select(["user_index", "person_id"])
    .where("lock_id", "=", lockId)
    .execute();
  return new Map(rows.map((r) => [Number(r.user_index), r.person_id]));
}

export function describeEvent(
  event: SignedLockEvent,
  siteId: string | null,
  holders: ReadonlyMap<number, string>,
): EventDescription {
  const userIndex = event.actor.userIndex;
  return {
    site_id: siteId,
    at: event.lockTime === null ? null : Number(event.lockTime),
    person_id: userIndex === undefined ? null : (holders.get(userIndex) ?? null),
    described: 1,
  };
}

/** Reads the lock-event records at ledger `indexes` (close indexes are read as one range). */
export async function leavesAt(ledger: Ledger, indexes: readonly number[]): Promise<Map<number, Uint8Array>> {
  const sorted = [...indexes].sort((a, b) => a - b);
  const out = new Map<number, Uint8Array>();
  let i = 0;
  while (i < sorted.length) {
    const start = sorted[i] as number;
    let end = start + 1;
    i++;
    while (i < sorted.length && (sorted[i] as number) < end + 16) {
      end = (sorted[i] as number) + 1;
      i++;
    }
    for (const e of await ledger.entries(start, end)) {
      if (e.leaf.kind === LedgerLeafKind.LockEvent) out.set(e.index, e.leaf.record);
    }
  }
  return out;
}

const CHUNK = 1000;

/**
 * Fills the columns of rows ingested before migration 0006, in chunks along the primary key,
 * logging progress. Returns how many rows it described. Idempotent and resumable: a crash leaves
 * the remaining rows at `described` = 0 for the next start.
 */
export async function describeOldEvents(
  db: Kysely<HubDatabase>,
  ledger: Ledger,
  log: Pick<Logger, "info">,
): Promise<number> {
  const any = await db
    .selectFrom("lock_events")
    .select("seq")
    .where("described", "=", sql.lit(0))
    .limit(1)
    .executeTakeFirst();
  if (any === undefined) return 0;
  const pending = await db
    .selectFrom("lock_events")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("described", "=", sql.lit(0))
    .executeTakeFirstOrThrow();
  const total = Number(pending.n);
  log.info({ rows: total }, "describing earlier lock events for door-activity filters");
  const sites = new Map(
    (await db.selectFrom("locks").select(["id", "site_id"]).execute()).map((l) => [l.id, l.site_id]),
  );
  const holders = new Map<string, Map<number, string>>();
  let done = 0;
  let after: { lockId: string; seq: number } | null = null;
  for (;;) {
    let q = db
      .selectFrom("lock_events")
      .select(["lock_id", "seq", "ledger_index"])
      .where("described", "=", sql.lit(0))
      .orderBy("lock_id")
      .orderBy("seq")
      .limit(CHUNK);
    if (after !== null) {
      const { lockId, seq } = after;
      q = q.where((eb) =>
        eb.or([eb("lock_id", ">", lockId), eb.and([eb("lock_id", "=", lockId), eb("seq", ">", seq)])]),
      );
    }
    const rows = await q.execute();
    if (rows.length === 0) break;
    const records = await leavesAt(
      ledger,
      rows.map((r) => Number(r.ledger_index)),
    );
    const updates: { lockId: string; seq: number; d: EventDescription }[] = [];
    for (const r of rows) {
      const record = records.get(Number(r.ledger_index));
      let byLock = holders.get(r.lock_id);
      if (byLock === undefined) {
        byLock = await slotHolders(db, r.lock_id);
        holders.set(r.lock_id, byLock);
      }
      const siteId = sites.get(r.lock_id) ?? null;
      // A row whose leaf does not decode keeps its site and no time or person (the ledger audit
      // reports the leaf; the row stays listed).
      let d: EventDescription = { site_id: siteId, at: null, person_id: null, described: 1 };
      if (record !== undefined) {
        try {
          d = describeEvent(decodeSignedLockEvent(record), siteId, byLock);
        } catch {
          // keep the fallback above
        }
      }
      updates.push({ lockId: r.lock_id, seq: Number(r.seq), d });
    }
    await db.transaction().execute(async (trx) => {
      for (const u of updates) {
        await trx
          .updateTable("lock_events")
          .set(u.d)
          .where("lock_id", "=", u.lockId)
          .where("seq", "=", u.seq)
          .execute();
      }
    });
    done += rows.length;
    const last = rows[rows.length - 1] as (typeof rows)[number];
    after = { lockId: last.lock_id, seq: Number(last.seq) };
    if (done % 20_000 < CHUNK || done === total) log.info({ done, rows: total }, "describing lock events");
  }
  return done;
}
