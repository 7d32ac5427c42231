/**
 * Event ingestion: a lock's signed journal records become ledger leaves, exactly once, in order.
 *
 *   const { ack } = await ingestor.ingestBatch({ id, publicKey }, records);
 *   // ack = { seq, hash }: the lock may forget its events up to seq.
 *
 * Each record is checked on its own (decodes canonically, names this lock, carries the lock's
 * signature), then the valid ones, sorted by seq, are chained onto the lock's cursor (seq + 1,
 * prevHash = the cursor's hash). The contiguous run is appended as LockEvent leaves ("sealed by
 * lock") and the cursor advanced (intents.ts makes the two stores move together); only then is
 * the acknowledgement returned. Records at or below the cursor whose hash matches the one stored
 * are duplicates: idempotent, re-acknowledged. A seq beyond the next one is a gap: alert + metric,
 * and everything from it on waits until the missing events arrive. A bad signature, broken link,
 * another lock's record or a malformed one is quarantined (raw record and reason) and alerted,
 * never appended. Lock-signed CheckpointAck events are also handed to `ledger.addLockAck`.
 * Heartbeat events are signed by the lock, so they enter as LockEvent leaves like any other; the
 * ledger's Heartbeat leaf kind is for what the hub itself observes (a lock seen or silent).
 */
import type { Kysely } from "kysely";
import {
  decodeSignedLockEvent,
  equalBytes,
  EventKind,
  fromHex,
  LatchkeyError,
  LedgerLeafKind,
  lockIdToBytes,
  toHex,
  verifyLockEventRecord,
  type Ed25519,
  type EpochMs,
  type LockEventLeaf,
  type LockId,
  type SignedLockEvent,
} from "@latchkey/protocol";
import type { HubDatabase } from "../db/schema.js";
import type { Ledger } from "../ledger/index.js";
import { beginIntent, endIntent, openIntent, scanLedger } from "../ledger-service/intents.js";
import type { Exclusive } from "../ledger-service/exclusive.js";
import { AlertKind, insertAlerts, type NewAlert } from "./alerts.js";
import { doorEventAlerts } from "./door-alerts.js";
import { cursorOf, getLock, type LockCursor } from "./locks.js";
import { describeEvent, slotHolders } from "../events/describe.js";

/** Most records one batch may carry. */
export const MAX_BATCH_RECORDS = 1000;
/** Larger than any journal record (9,498 bytes); anything bigger is refused before decoding. */
export const MAX_RECORD_BYTES = 16 * 1024;

/** Why a record was quarantined: the journal's stable reasons plus one of ingestion's own. */
export const QuarantineReason = {
  Malformed: "malformed",
  WrongLock: "wrong-lock",
  BadSignature: "bad-signature",
  BrokenLink: "broken-link",
  /** The lock signed another event with a seq the hub already holds (or holds twice in one batch). */
  ConflictingDuplicate: "conflicting-duplicate",
  /** A seq before the first event this hub ingested from the lock: nothing to compare it with. */
  BeforeCursor: "before-cursor",
} as const;
export type QuarantineReason = (typeof QuarantineReason)[keyof typeof QuarantineReason];

export interface LockIdentity {
  /** Hex lock id (first 16 bytes of SHA-256 of the signing key). */
  readonly id: LockId | string;
  /** 32-byte Ed25519 signing public key, as registered at commissioning. */
  readonly publicKey: Uint8Array;
}

export interface IngestAck {
  readonly seq: number;
  readonly hash: Uint8Array;
}

export interface IngestResult {
  /** Everything up to this seq is durable in the ledger (null: nothing ingested from this lock yet). */
  readonly ack: IngestAck | null;
  readonly appended: number;
  readonly duplicates: number;
  readonly quarantined: number;
  /** Valid records not appended because they follow a gap or a quarantined record. */
  readonly held: number;
  readonly gap: { readonly expectedSeq: number; readonly receivedSeq: number } | null;
}

export interface IngestMetrics {
  eventsIngested(n: number): void;
  eventsQuarantined(n: number): void;
  ingestGap(): void;
}

export interface IngestorOptions {
  readonly db: Kysely<HubDatabase>;
  readonly ledger: Ledger;
  readonly exclusive: Exclusive;
  readonly ed25519: Ed25519;
  readonly now: () => number;
  readonly metrics?: IngestMetrics;
  /** Called once alerts have committed (the outbox then sends their notifications at once). */
  readonly alerted?: () => void;
}

interface Verified {
  readonly event: SignedLockEvent;
  readonly record: Uint8Array;
}

interface QuarantineRow {
  readonly seq: number | null;
  readonly reason: QuarantineReason;
  readonly message: string;
  readonly record: Uint8Array;
}

interface Accepted extends Verified {
  readonly index: number;
}

const ownerOf = (lockId: string): string => `lock:${lockId}`;

export class Ingestor {
  constructor(private readonly opts: IngestorOptions) {}

  /** The cursor after recovering any interrupted ingestion (what the next ack would cover). */
  cursor(lockId: string): Promise<LockCursor> {
    return this.opts.exclusive.run(ownerOf(lockId), async () => {
      const row = await getLock(this.opts.db, lockId);
      if (row === undefined) throw unknownLock(lockId);
      return this.recover(lockId, cursorOf(row));
    });
  }

  /** Verifies and ingests one batch from `lock`; resolves with the acknowledgement once durable. */
  async ingestBatch(lock: LockIdentity, records: readonly Uint8Array[]): Promise<IngestResult> {
    if (records.length > MAX_BATCH_RECORDS) {
      throw new LatchkeyError(
        "HUB_INGEST_BATCH_INVALID",
        `a batch holds at most ${MAX_BATCH_RECORDS} records, not ${records.length}`,
        { count: records.length },
      );
    }
    records.forEach((r, index) => {
      if (r.length > MAX_RECORD_BYTES) {
        throw new LatchkeyError(
          "HUB_INGEST_BATCH_INVALID",
          `record ${index} is ${r.length} bytes; a journal record is at most ${MAX_RECORD_BYTES}`,
          { index, length: r.length },
        );
      }
    });
    const lockId = String(lock.id);
    return await this.opts.exclusive.run(ownerOf(lockId), async () => {
      const row = await getLock(this.opts.db, lockId);
      if (row?.signing_public_key !== toHex(lock.publicKey)) throw unknownLock(lockId);
      const cursor = await this.recover(lockId, cursorOf(row));
      return this.ingestLocked(lockId, lock.publicKey, cursor, records);
    });
  }

  private async ingestLocked(
    lockId: string,
    publicKey: Uint8Array,
    cursor: LockCursor,
    records: readonly Uint8Array[],
  ): Promise<IngestResult> {
    const { db, ledger } = this.opts;
    const now = this.opts.now();
    const lockIdBytes = lockIdToBytes(lockId as LockId);
    const quarantine: QuarantineRow[] = [];
    const alerts: NewAlert[] = [];
    const put = (record: Uint8Array, seq: number | null, reason: QuarantineReason, message: string) => {
      quarantine.push({ seq, reason, message, record });
      alerts.push({
        kind:
          reason === QuarantineReason.ConflictingDuplicate
            ? AlertKind.IngestConflict
            : AlertKind.IngestQuarantine,
        lockId,
        details: { seq, reason, message },
      });
    };

    // 1. Each record on its own: canonical, this lock's, signed by this lock's key.
    const valid: Verified[] = [];
    records.forEach((record, i) => {
      let event: SignedLockEvent;
      try {
        event = decodeSignedLockEvent(record);
      } catch (e) {
        const code = e instanceof LatchkeyError ? e.code : "LK_DECODE_INVALID";
        put(record, null, QuarantineReason.Malformed, `record ${i} does not decode (${code})`);
        return;
      }
      if (!equalBytes(event.lockId, lockIdBytes)) {
        put(
          record,
          event.seq,
          QuarantineReason.WrongLock,
          `record ${i} (seq ${event.seq}) names another lock`,
        );
      } else if (!verifyLockEventRecord(record, publicKey, this.opts.ed25519)) {
        put(
          record,
          event.seq,
          QuarantineReason.BadSignature,
          `record ${i} (seq ${event.seq}) has a bad signature`,
        );
      } else {
        valid.push({ event, record });
      }
    });
    valid.sort((a, b) => a.event.seq - b.event.seq);

    // 2. Hashes the hub already holds for seqs at or below the cursor (duplicates).
    const oldSeqs = [...new Set(valid.filter((v) => v.event.seq <= cursor.seq).map((v) => v.event.seq))];
    const stored = new Map<number, string>();
    for (let i = 0; i < oldSeqs.length; i += 500) {
      const rows = await db
        .selectFrom("lock_events")
        .select(["seq", "hash"])
        .where("lock_id", "=", lockId)
        .where("seq", "in", oldSeqs.slice(i, i + 500))
        .execute();
      for (const r of rows) stored.set(Number(r.seq), r.hash);
    }

    // 3. The chain: the contiguous run from cursor + 1.
    const accepted: Verified[] = [];
    const acceptedHash = new Map<number, string>();
    let next = cursor.seq + 1;
    let prev = cursor.hash;
    let duplicates = 0;
    let held = 0;
    let blocked = false;
    let gap: { expectedSeq: number; receivedSeq: number } | null = null;
    for (const v of valid) {
      const { seq } = v.event;
      const hash = toHex(v.event.hash);
      const known = seq <= cursor.seq ? stored.get(seq) : acceptedHash.get(seq);
      if (seq < next) {
        if (known === hash) duplicates++;
        else if (known === undefined)
          put(v.record, seq, QuarantineReason.BeforeCursor, `seq ${seq} precedes the first event ingested`);
        else
          put(
            v.record,
            seq,
            QuarantineReason.ConflictingDuplicate,
            `seq ${seq} differs from the event already held`,
          );
        continue;
      }
      if (blocked) {
        held++;
        continue;
      }
      if (seq > next) {
        gap = { expectedSeq: next, receivedSeq: seq };
        blocked = true;
        held++;
        continue;
      }
      if (!equalBytes(v.event.prevHash, prev)) {
        put(v.record, seq, QuarantineReason.BrokenLink, `seq ${seq} does not link to seq ${seq - 1}`);
        blocked = true;
        continue;
      }
      accepted.push(v);
      acceptedHash.set(seq, hash);
      next = seq + 1;
      prev = v.event.hash;
    }
    // A gap whose missing event was just quarantined is already alerted as such.
    const gapExplained = gap !== null && quarantine.some((q) => q.seq === gap.expectedSeq);
    if (gap !== null && !gapExplained) {
      alerts.push({ kind: AlertKind.IngestGap, lockId, details: { ...gap } });
    }

    // 4. Durable: intent, ledger, then cursor (+ quarantine, alerts) in one hub transaction.
    let after = cursor;
    let rows: Accepted[] = [];
    if (accepted.length > 0) {
      await beginIntent(db, ownerOf(lockId), await ledger.size(), now);
      const leaves: LockEventLeaf[] = accepted.map((v) => ({
        kind: LedgerLeafKind.LockEvent,
        hubTimeMs: now as EpochMs,
        lockId: lockIdBytes,
        record: v.record,
      }));
      const appended = await ledger.appendMany(leaves);
      rows = accepted.map((v, i) => ({ ...v, index: (appended[i] as { index: number }).index }));
      alerts.push(...(await this.checkpointAcks(lockId, rows)));
      // Alarms become alerts once sealed: what is told is what the ledger holds.
      alerts.push(
        ...doorEventAlerts(
          lockId,
          accepted.map((v) => v.event),
        ),
      );
    }
    if (rows.length > 0 || quarantine.length > 0 || alerts.length > 0) {
      after = await db.transaction().execute(async (trx) => {
        const moved = rows.length > 0 ? await advance(trx, lockId, rows, now) : cursor;
        if (quarantine.length > 0) {
          await trx
            .insertInto("quarantine")
            .values(
              quarantine.map((q) => ({
                lock_id: lockId,
                seq: q.seq,
                reason: q.reason,
                message: q.message,
                record: toHex(q.record),
                received_at: now,
              })),
            )
            .execute();
        }
        await insertAlerts(trx, alerts, now);
        if (rows.length > 0) await endIntent(trx, ownerOf(lockId));
        return moved;
      });
    }
    if (alerts.length > 0) this.opts.alerted?.();
    const m = this.opts.metrics;
    if (m !== undefined) {
      if (rows.length > 0) m.eventsIngested(rows.length);
      if (quarantine.length > 0) m.eventsQuarantined(quarantine.length);
      if (gap !== null && !gapExplained) m.ingestGap();
    }
    return {
      ack: after.seq === 0 ? null : { seq: after.seq, hash: after.hash },
      appended: rows.length,
      duplicates,
      quarantined: quarantine.length,
      held,
      gap,
    };
  }

  /** Hands lock-signed CheckpointAck events to the ledger; a mismatch is a fork alert, not a failure. */
  private async checkpointAcks(lockId: string, rows: readonly Accepted[]): Promise<NewAlert[]> {
    const alerts: NewAlert[] = [];
    for (const r of rows) {
      if (r.event.kind !== EventKind.CheckpointAck) continue;
      const { checkpointHash, treeSize } = r.event.details;
      if (
        !(checkpointHash instanceof Uint8Array) ||
        checkpointHash.length !== 32 ||
        typeof treeSize !== "number"
      ) {
        alerts.push({
          kind: AlertKind.CheckpointUnknown,
          lockId,
          details: { seq: r.event.seq, problem: "CheckpointAck without checkpointHash/treeSize" },
        });
        continue;
      }
      try {
        await this.opts.ledger.addLockAck(treeSize, lockId, checkpointHash, r.record);
      } catch (e) {
        const code = e instanceof LatchkeyError ? e.code : undefined;
        if (code === "LEDGER_ACK_MISMATCH") {
          alerts.push({ kind: AlertKind.CheckpointFork, lockId, details: { seq: r.event.seq, treeSize } });
        } else if (code === "LEDGER_CHECKPOINT_NOT_FOUND" || code === "LEDGER_RANGE_INVALID") {
          alerts.push({ kind: AlertKind.CheckpointUnknown, lockId, details: { seq: r.event.seq, treeSize } });
        } else {
          throw e;
        }
      }
    }
    return alerts;
  }

  /**
   * Completes an ingestion a crash interrupted between the ledger append and the cursor update:
   * the leaves of this lock appended since the intent continue the cursor's chain (only verified
   * runs are ever appended), so they become the cursor. Nothing is appended again.
   */
  private async recover(lockId: string, cursor: LockCursor): Promise<LockCursor> {
    const { db, ledger } = this.opts;
    const from = await openIntent(db, ownerOf(lockId));
    if (from === undefined) return cursor;
    const found: Accepted[] = [];
    let next = cursor.seq + 1;
    let prev = cursor.hash;
    await scanLedger(ledger, from, (e) => {
      if (e.leaf.kind !== LedgerLeafKind.LockEvent || toHex(e.leaf.lockId) !== lockId) return;
      const event = decodeSignedLockEvent(e.leaf.record);
      if (event.seq !== next || !equalBytes(event.prevHash, prev)) return;
      found.push({ event, record: e.leaf.record, index: e.index });
      next++;
      prev = event.hash;
    });
    const now = this.opts.now();
    const alerts = found.length > 0 ? await this.checkpointAcks(lockId, found) : [];
    return db.transaction().execute(async (trx) => {
      const moved = found.length > 0 ? await advance(trx, lockId, found, now) : cursor;
      await insertAlerts(trx, alerts, now);
      await endIntent(trx, ownerOf(lockId));
      return moved;
    });
  }
}

function unknownLock(lockId: string): LatchkeyError {
  return new LatchkeyError(
    "HUB_LOCK_UNKNOWN",
    `lock ${lockId.slice(0, 32)} is not commissioned with this key`,
    {
      lockId: lockId.slice(0, 32),
    },
  );
}

/** Records where each event sits and moves the cursor to the last one. Call inside a transaction. */
async function advance(
  trx: Kysely<HubDatabase>,
  lockId: string,
  rows: readonly Accepted[],
  now: number,
): Promise<LockCursor> {
  // The site and the slot holders now are the ones the events belong to (door-activity filters).
  const { site_id: siteId } = await trx
    .selectFrom("locks")
    .select("site_id")
    .where("id", "=", lockId)
    .executeTakeFirstOrThrow();
  const holders = await slotHolders(trx, lockId);
  for (let i = 0; i < rows.length; i += 100) {
    await trx
      .insertInto("lock_events")
      .values(
        rows.slice(i, i + 100).map((r) => ({
          lock_id: lockId,
          seq: r.event.seq,
          hash: toHex(r.event.hash),
          kind: r.event.kind,
          ledger_index: r.index,
          ...describeEvent(r.event, siteId, holders),
        })),
      )
      .execute();
  }
  const last = rows[rows.length - 1] as Accepted;
  await trx
    .updateTable("locks")
    .set({
      cursor_seq: last.event.seq,
      cursor_hash: toHex(last.event.hash),
      cursor_ledger_index: last.index,
      last_ingest_at: now,
    })
    .where("id", "=", lockId)
    .execute();
  return { seq: last.event.seq, hash: fromHex(toHex(last.event.hash)), ledgerIndex: last.index };
}
