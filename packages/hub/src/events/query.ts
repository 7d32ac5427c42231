/**
 * A site's lock events, newest first, read from `lock_events` (where each event sits in the
 * ledger) and the ledger itself (the lock-signed record: time, actor, outcome, reason).
 *
 * Order is ledger order (the order the hub sealed them), newest first; the cursor is a ledger
 * index: a page holds events with `ledgerIndex < before`. Within one lock, ledger order follows
 * seq (ingestion appends in seq order), so each lock is read backwards along the primary key
 * (lock_id, seq) — a binary search turns `before` into a per-lock seq bound — and the locks are
 * merged by ledger index. No index beyond the primary key is needed for unfiltered pages or the
 * door and kind filters.
 *
 * Filters that live only inside the signed record (person, time window) are applied after
 * decoding, with a scan budget per request: a page may come back short with `nextBefore` set,
 * and the client asks again from there.
 */
import {
  decodeSignedLockEvent,
  EventKind,
  LedgerLeafKind,
  toHex,
  type SignedLockEvent,
} from "@latchkey/protocol";
import type { Kysely } from "kysely";
import type { HubDatabase } from "../db/schema.js";
import type { Ledger } from "../ledger/index.js";

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
  readonly kind?: number;
  readonly from?: number;
  readonly to?: number;
  /** Only events with ledger index below this. */
  readonly before?: number;
  readonly limit: number;
  /** Rows examined at most (default max(2000, 10 × limit)). */
  readonly budget?: number;
}

export interface EventPage {
  readonly items: EventItem[];
  /** Ask again with this `before` for more; null when the history is exhausted. */
  readonly nextBefore: number | null;
  readonly scanned: number;
}

interface LockInfo {
  readonly id: string;
  readonly doorId: string | null;
  readonly doorName: string | null;
}

interface Row {
  readonly seq: number;
  readonly ledgerIndex: number;
}

/** Reads one lock's rows backwards along the primary key, in chunks. */
class LockCursor {
  private buffer: Row[] = [];
  private done = false;
  constructor(
    private readonly db: Kysely<HubDatabase>,
    readonly lock: LockInfo,
    private bound: number | null,
    private readonly kind: number | undefined,
    private readonly chunk: number,
  ) {}

  async peek(): Promise<Row | undefined> {
    if (this.buffer.length === 0 && !this.done) await this.fill();
    return this.buffer[0];
  }

  take(): void {
    this.buffer.shift();
  }

  private async fill(): Promise<void> {
    let q = this.db
      .selectFrom("lock_events")
      .select(["seq", "ledger_index"])
      .where("lock_id", "=", this.lock.id)
      .orderBy("seq", "desc")
      .limit(this.chunk);
    if (this.bound !== null) q = q.where("seq", "<=", this.bound);
    if (this.kind !== undefined) q = q.where("kind", "=", this.kind);
    const rows = await q.execute();
    this.buffer = rows.map((r) => ({ seq: Number(r.seq), ledgerIndex: Number(r.ledger_index) }));
    if (rows.length < this.chunk) this.done = true;
    const last = this.buffer[this.buffer.length - 1];
    if (last !== undefined) this.bound = last.seq - 1;
    if (this.bound !== null && this.bound < 1) this.done = true;
  }
}

/**
 * The highest seq bound of `lockId` whose rows all sit below ledger index `before` (null: no
 * bound needed; 0: nothing below). Binary search over seq with O(log n) primary-key probes.
 */
async function seqBoundBelow(
  db: Kysely<HubDatabase>,
  lockId: string,
  before: number,
): Promise<number | null> {
  const probe = async (maxSeq: number | null, dir: "asc" | "desc") => {
    let q = db
      .selectFrom("lock_events")
      .select(["seq", "ledger_index"])
      .where("lock_id", "=", lockId)
      .orderBy("seq", dir)
      .limit(1);
    if (maxSeq !== null) q = q.where("seq", "<=", maxSeq);
    const r = await q.executeTakeFirst();
    return r === undefined ? undefined : { seq: Number(r.seq), ledgerIndex: Number(r.ledger_index) };
  };
  const last = await probe(null, "desc");
  if (last === undefined || last.ledgerIndex < before) return null;
  const first = await probe(null, "asc");
  if (first === undefined || first.ledgerIndex >= before) return 0;
  // Invariant: every row with seq ≤ good is below `before`; the row at seq `bad` is not.
  let good = first.seq;
  let bad = last.seq;
  while (bad - good > 1) {
    const mid = Math.floor((good + bad) / 2);
    const r = await probe(mid, "desc");
    if (r === undefined || r.ledgerIndex < before) good = mid;
    else bad = r.seq;
  }
  return good;
}

/** Reads the ledger leaves at `indexes` (ascending runs read together). */
async function leavesAt(ledger: Ledger, indexes: readonly number[]): Promise<Map<number, Uint8Array>> {
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
  let lq = db
    .selectFrom("locks")
    .leftJoin("doors", "doors.id", "locks.door_id")
    .select(["locks.id as id", "locks.door_id as doorId", "doors.name as doorName"])
    .where("locks.site_id", "=", q.siteId);
  if (q.doorId !== undefined) lq = lq.where("locks.door_id", "=", q.doorId);
  let locks: LockInfo[] = await lq.orderBy("locks.id").execute();

  // A person filter narrows to the locks where the person has a user slot, and that slot.
  let personSlots: Map<string, number> | null = null;
  if (q.personId !== undefined) {
    const slots = await db
      .selectFrom("lock_users")
      .select(["lock_id", "user_index"])
      .where("person_id", "=", q.personId)
      .execute();
    personSlots = new Map(slots.map((s) => [s.lock_id, Number(s.user_index)]));
    const slotsOf = personSlots;
    locks = locks.filter((l) => slotsOf.has(l.id));
  }
  if (locks.length === 0) return { items: [], nextBefore: null, scanned: 0 };

  const chunk = Math.min(500, Math.max(32, q.limit + 1));
  const cursors: LockCursor[] = [];
  for (const lock of locks) {
    const bound = q.before === undefined ? null : await seqBoundBelow(db, lock.id, q.before);
    if (bound === 0) continue;
    cursors.push(new LockCursor(db, lock, bound, q.kind, chunk));
  }

  const budget = q.budget ?? Math.max(2000, q.limit * 10);
  const items: EventItem[] = [];
  let scanned = 0;
  let lastIndex: number | null = null;
  let exhausted = false;
  const needsRecordFilter = personSlots !== null || q.from !== undefined || q.to !== undefined;

  while (items.length < q.limit && scanned < budget) {
    // Take the next batch of candidates in merged ledger order, then decode them together.
    const batch: { lock: LockInfo; row: Row }[] = [];
    const want = needsRecordFilter ? Math.min(256, budget - scanned) : q.limit - items.length;
    while (batch.length < want) {
      let best: LockCursor | undefined;
      let bestRow: Row | undefined;
      for (const c of cursors) {
        const r = await c.peek();
        if (r !== undefined && (bestRow === undefined || r.ledgerIndex > bestRow.ledgerIndex)) {
          best = c;
          bestRow = r;
        }
      }
      if (best === undefined || bestRow === undefined) {
        exhausted = true;
        break;
      }
      best.take();
      batch.push({ lock: best.lock, row: bestRow });
    }
    if (batch.length === 0) break;
    const records = await leavesAt(
      ledger,
      batch.map((b) => b.row.ledgerIndex),
    );
    for (const { lock, row } of batch) {
      if (items.length >= q.limit) break;
      scanned++;
      lastIndex = row.ledgerIndex;
      const record = records.get(row.ledgerIndex);
      if (record === undefined) continue;
      let e: SignedLockEvent;
      try {
        e = decodeSignedLockEvent(record);
      } catch {
        continue;
      }
      if (e.seq !== row.seq || toHex(e.lockId) !== lock.id) continue;
      if (personSlots !== null && e.actor.userIndex !== personSlots.get(lock.id)) continue;
      const at = e.lockTime === null ? null : Number(e.lockTime);
      if (q.from !== undefined && (at === null || at < q.from)) continue;
      if (q.to !== undefined && (at === null || at >= q.to)) continue;
      items.push({
        lockId: lock.id,
        doorId: lock.doorId,
        doorName: lock.doorName,
        seq: e.seq,
        kind: EVENT_KIND_NAMES.get(e.kind) ?? `Event${e.kind}`,
        at,
        personId: null,
        personName: null,
        userIndex: e.actor.userIndex ?? null,
        credentialType: e.actor.credentialType ?? null,
        source: str(e.details.source),
        operation: str(e.details.operation),
        outcome: outcomeOf(e),
        reason: e.kind === EventKind.LockOperationError ? str(e.details.reason) : null,
        alarm: e.kind === EventKind.Alarm || e.kind === EventKind.AlarmCleared ? str(e.details.alarm) : null,
        ledgerIndex: row.ledgerIndex,
        sealedByLock: true,
      });
    }
    if (exhausted) break;
  }
  // Rows taken into a batch but not examined (the page filled up) are returned on the next page.
  const more = !exhausted || (lastIndex !== null && items.length >= q.limit);
  const withPeople = await namePeople(db, items);
  return { items: withPeople, nextBefore: more && lastIndex !== null ? lastIndex : null, scanned };
}

/** Fills personId / personName from lock_users (the lock's user index → the site's person). */
async function namePeople(db: Kysely<HubDatabase>, items: EventItem[]): Promise<EventItem[]> {
  const lockIds = [...new Set(items.filter((i) => i.userIndex !== null).map((i) => i.lockId))];
  if (lockIds.length === 0) return items;
  const rows = await db
    .selectFrom("lock_users")
    .innerJoin("people", "people.id", "lock_users.person_id")
    .select([
      "lock_users.lock_id as lockId",
      "lock_users.user_index as userIndex",
      "people.id as id",
      "people.name as name",
    ])
    .where("lock_users.lock_id", "in", lockIds)
    .execute();
  const byKey = new Map(rows.map((r) => [`${r.lockId}/${Number(r.userIndex)}`, r]));
  return items.map((i) => {
    const p = i.userIndex === null ? undefined : byKey.get(`${i.lockId}/${i.userIndex}`);
    return p === undefined ? i : { ...i, personId: p.id, personName: p.name };
  });
}
