/**
 * A site's lock events, newest first, read from `lock_events` (where each event sits in the
 * ledger, with its site, lock time and person: see describe.ts) and the ledger itself (the
 * lock-signed record: time, actor, outcome, reason).
 *
 * Order is ledger order (the order the hub sealed them), newest first. Every filter (door,
 * person, kind, lock-time window) is a SQL condition served by an index of migration 0006, so a
 * filtered history can be counted and read at any position:
 * - `before` (a ledger index) is a cursor: only events sealed before it;
 * - `offset` skips that many matches: a screen scrolled to position 500,000 of a million asks
 *   for that position directly, with `before` pinned to the `top` of its first page so
 *   positions stay put while new events arrive.
 */
import {
  decodeSignedLockEvent,
  EventKind,
  LatchkeyError,
  toHex,
  type SignedLockEvent,
} from "@latchkey/protocol";
import type { Kysely } from "kysely";
import type { HubDatabase } from "../db/schema.js";
import type { HubContext } from "../runtime/context.js";
import type { Ledger } from "../ledger/index.js";
import { leavesAt } from "./describe.js";
import { allTables } from "../db/access.js";

export const EVENT_KIND_NAMES = new Map<number, string>(
  Object.entries(EventKind).map(([name, n]) => [n, name]),
);
export const EVENT_KIND_BY_NAME = new Map<string, number>(Object.entries(EventKind));

export type Outcome = "granted" | "denied" | "locked" | "alarm" | "alarm-cleared" | "info";

export interface EventItem {
  readonly lockId: string;
  readonly doorId: string | null;
  readonly doorName: string | null;
  readonly seq: number;
  readonly kind: string;
  readonly at: number | null;
  readonly personId: string | null;
  readonly personName: string | null;
  readonly userIndex: number | null;
  readonly credentialType: string | null;
  readonly source: string | null;
  readonly operation: string | null;
  readonly outcome: Outcome;
  readonly reason: string | null;
  readonly alarm: string | null;
  readonly ledgerIndex: number;
  readonly sealedByLock: true;
}

export interface EventQuery {
  readonly siteId: string;
  readonly doorId?: string;
  readonly personId?: string;
  /** Any of these kinds. */
  readonly kinds?: readonly number[];
  readonly from?: number;
  readonly to?: number;
  /** Only events with ledger index below this. */
  readonly before?: number;
  /** Skip this many matches (newest first). */
  readonly offset?: number;
  readonly limit: number;
  /** Also count every match (for a scroll bar over the whole history). */
  readonly count?: boolean;
}

export interface EventPage {
  readonly items: EventItem[];
  /** Ask again with this `before` for more; null when the history is exhausted. */
  readonly nextBefore: number | null;
  /** Every match, when counted. */
  readonly total: number | null;
  /** The newest ledger index of the site when read (null: no events): pin `before` to top + 1. */
  readonly top: number | null;
}

interface LockInfo {
  readonly id: string;
  readonly doorId: string | null;
  readonly doorName: string | null;
}

const EMPTY: EventPage = { items: [], nextBefore: null, total: 0, top: null };

function str(v: unknown): string | null {
  return typeof v === "string" ? v : null;
}

export function outcomeOf(e: SignedLockEvent): Outcome {
  if (e.kind === EventKind.LockOperation) return str(e.details.operation) === "Lock" ? "locked" : "granted";
  if (e.kind === EventKind.LockOperationError) return "denied";
  if (e.kind === EventKind.Alarm) return "alarm";
  if (e.kind === EventKind.AlarmCleared) return "alarm-cleared";
  return "info";
}

export async function querySiteEvents(
  db: Kysely<HubDatabase>,
  ledger: Ledger,
  q: EventQuery,
): Promise<EventPage> {
  // The door filter is the locks on that door now; a person must belong to the site (so their
  // person index can be read without the site condition).
  let lockIds: string[] | null = null;
  if (q.doorId !== undefined) {
    const rows = await db
      .selectFrom("locks")
      .select("id")
      .where("site_id", "=", q.siteId)
      .where("door_id", "=", q.doorId)
      .execute();
    lockIds = rows.map((r) => r.id);
    if (lockIds.length === 0) return EMPTY;
  }
  if (q.personId !== undefined) {
    const person = await db
      .selectFrom("people")
      .select("id")
      .where("id", "=", q.personId)
      .where("site_id", "=", q.siteId)
      .executeTakeFirst();
    if (person === undefined) return EMPTY;
  }
  const newest = await db
    .selectFrom("lock_events")
    .select("ledger_index")
    .where("site_id", "=", q.siteId)
    .orderBy("ledger_index", "desc")
    .limit(1)
    .executeTakeFirst();
  const top = newest === undefined ? null : Number(newest.ledger_index);

  const matches = () => {
    let m = db.selectFrom("lock_events");
    m = q.personId === undefined ? m.where("site_id", "=", q.siteId) : m.where("person_id", "=", q.personId);
    if (lockIds !== null) {
      const ids = lockIds;
      m = ids.length === 1 ? m.where("lock_id", "=", ids[0] as string) : m.where("lock_id", "in", ids);
    }
    const kinds = q.kinds ?? [];
    if (kinds.length === 1) m = m.where("kind", "=", kinds[0] as number);
    else if (kinds.length > 1) m = m.where("kind", "in", kinds);
    if (q.from !== undefined) m = m.where("at", ">=", q.from);
    if (q.to !== undefined) m = m.where("at", "<", q.to);
    if (q.before !== undefined) m = m.where("ledger_index", "<", q.before);
    return m;
  };

  const rows = await matches()
    .select(["lock_id", "seq", "ledger_index", "person_id"])
    .orderBy("ledger_index", "desc")
    .limit(q.limit)
    .offset(q.offset ?? 0)
    .execute();
  const total =
    q.count === true
      ? Number(
          (
            await matches()
              .select((eb) => eb.fn.countAll<number>().as("n"))
              .executeTakeFirstOrThrow()
          ).n,
        )
      : null;

  const locks = await lockInfo(db, [...new Set(rows.map((r) => r.lock_id))]);
  const people = await personNames(db, [
    ...new Set(rows.flatMap((r) => (r.person_id === null ? [] : [r.person_id]))),
  ]);
  const records = await leavesAt(
    ledger,
    rows.map((r) => Number(r.ledger_index)),
  );
  const items: EventItem[] = [];
  for (const r of rows) {
    const ledgerIndex = Number(r.ledger_index);
    const record = records.get(ledgerIndex);
    const lock = locks.get(r.lock_id);
    if (record === undefined || lock === undefined) throw missingRecord(r.lock_id, Number(r.seq));
    const e = decodeSignedLockEvent(record);
    if (e.seq !== Number(r.seq) || toHex(e.lockId) !== r.lock_id)
      throw missingRecord(r.lock_id, Number(r.seq));
    items.push({
      lockId: lock.id,
      doorId: lock.doorId,
      doorName: lock.doorName,
      seq: e.seq,
      kind: EVENT_KIND_NAMES.get(e.kind) ?? `Event${e.kind}`,
      at: e.lockTime === null ? null : Number(e.lockTime),
      personId: r.person_id,
      personName: r.person_id === null ? null : (people.get(r.person_id) ?? null),
      userIndex: e.actor.userIndex ?? null,
      credentialType: e.actor.credentialType ?? null,
      source: str(e.details.source),
      operation: str(e.details.operation),
      outcome: outcomeOf(e),
      reason: e.kind === EventKind.LockOperationError ? str(e.details.reason) : null,
      alarm: e.kind === EventKind.Alarm || e.kind === EventKind.AlarmCleared ? str(e.details.alarm) : null,
      ledgerIndex,
      sealedByLock: true,
    });
  }
  const last = items[items.length - 1];
  return {
    items,
    nextBefore: items.length === q.limit && last !== undefined ? last.ledgerIndex : null,
    total,
    top,
  };
}

/** A row points at a ledger leaf that is not that lock event: our bug or a damaged store. */
function missingRecord(lockId: string, seq: number): LatchkeyError {
  return new LatchkeyError(
    "LK_INTERNAL",
    `the ledger does not hold event ${seq} of lock ${lockId.slice(0, 12)}`,
    {
      lockId,
      seq,
    },
  );
}

async function lockInfo(db: Kysely<HubDatabase>, ids: readonly string[]): Promise<Map<string, LockInfo>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom("locks")
    .leftJoin("doors", "doors.id", "locks.door_id")
    .select(["locks.id as id", "locks.door_id as doorId", "doors.name as doorName"])
    .where("locks.id", "in", ids)
    .execute();
  return new Map(rows.map((r) => [r.id, r]));
}

async function personNames(db: Kysely<HubDatabase>, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db.selectFrom("people").select(["id", "name"]).where("id", "in", ids).execute();
  return new Map(rows.map((r) => [r.id, r.name]));
}

/** A page of the site's events, as `querySiteEvents` reads it from the hub's database. */
export function siteEvents(ctx: HubContext, ledger: Ledger, q: EventQuery): Promise<EventPage> {
  return querySiteEvents(allTables(ctx.db), ledger, q);
}
