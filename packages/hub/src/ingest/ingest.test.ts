/**
 * Event ingestion against a real hub (SQLite and PostgreSQL): real signed journal records, the
 * real ledger, the real database. Attacks first: each asserts the refusal's reason and that the
 * ledger did not change.
 */
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { randomBytes } from "node:crypto";
import {
  checkpointTextHash,
  EventKind,
  LedgerLeafKind,
  parseNote,
  toHex,
  type EpochMs,
  type LatchkeyError,
} from "@latchkey/protocol";
import { testStores } from "../testing/stores.js";
import { startTestHub, type TestHub } from "../testing/hub-fixture.js";
import { beginIntent } from "../ledger-service/intents.js";
import { listAlerts } from "./alerts.js";
import { registerLock, lockCursor } from "./locks.js";
import { TestJournal } from "./test-journal.js";

const stores = await testStores();

describe.each(stores)("event ingestion (%s)", (store) => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub(store);
  });
  afterAll(async () => {
    await t.close();
  });

  const db = () => t.hub.ledger.db;
  const ledger = () => t.hub.ledger.ledger;

  async function commissioned(): Promise<TestJournal> {
    const j = new TestJournal(new Uint8Array(randomBytes(32)));
    await registerLock(db(), { signingPublicKey: j.publicKey, commissionedAt: t.clock.now });
    return j;
  }

  /** The records of `lockId`'s LockEvent leaves, in ledger order, as hex. */
  async function ledgered(lockId: string): Promise<string[]> {
    const entries = await ledger().entries(0, await ledger().size());
    return entries.flatMap((e) =>
      e.leaf.kind === LedgerLeafKind.LockEvent && toHex(e.leaf.lockId) === lockId
        ? [toHex(e.leaf.record)]
        : [],
    );
  }

  async function quarantined(lockId: string) {
    return db().selectFrom("quarantine").selectAll().where("lock_id", "=", lockId).orderBy("id").execute();
  }

  it("quarantines a forged signature and alerts; the ledger is unchanged", async () => {
    const j = await commissioned();
    const [r1] = j.appendMany(1);
    const forged = Uint8Array.from(r1 as Uint8Array);
    forged[forged.length - 1] = (forged[forged.length - 1] as number) ^ 0x01;
    const size = await ledger().size();
    const res = await t.hub.ingestor.ingestBatch(j.identity, [forged]);
    expect(res).toMatchObject({ ack: null, appended: 0, quarantined: 1 });
    expect(await ledger().size()).toBe(size);
    const q = await quarantined(j.id);
    expect(q.map((r) => [r.reason, r.record])).toEqual([["bad-signature", toHex(forged)]]);
    const alerts = await listAlerts(db(), { lockId: j.id });
    expect(alerts.map((a) => [a.kind, a.details.reason])).toEqual([["ingest-quarantine", "bad-signature"]]);
    expect((await lockCursor(db(), j.id)).seq).toBe(0);
    // The genuine record is still accepted afterwards.
    expect((await t.hub.ingestor.ingestBatch(j.identity, [r1 as Uint8Array])).ack?.seq).toBe(1);
  });

  it("quarantines an event signed by the lock's key but linked to another history (broken link)", async () => {
    const j = await commissioned();
    const good = j.appendMany(2);
    await t.hub.ingestor.ingestBatch(j.identity, good);
    const size = await ledger().size();
    const bad = j.sign(
      EventKind.LockOperation,
      { operation: "Unlock" },
      { prevHash: new Uint8Array(32).fill(7) },
    );
    const res = await t.hub.ingestor.ingestBatch(j.identity, [bad.record]);
    expect(res).toMatchObject({ appended: 0, quarantined: 1, ack: { seq: 2 } });
    expect(await ledger().size()).toBe(size);
    expect((await quarantined(j.id)).map((r) => r.reason)).toEqual(["broken-link"]);
    expect((await listAlerts(db(), { lockId: j.id })).map((a) => a.details.reason)).toEqual(["broken-link"]);
  });

  it("quarantines another lock's event sent as this lock's; the ledger is unchanged", async () => {
    const a = await commissioned();
    const b = await commissioned();
    const size = await ledger().size();
    const res = await t.hub.ingestor.ingestBatch(a.identity, b.appendMany(1));
    expect(res).toMatchObject({ appended: 0, quarantined: 1, ack: null });
    expect(await ledger().size()).toBe(size);
    expect((await quarantined(a.id)).map((r) => r.reason)).toEqual(["wrong-lock"]);
    expect(await ledgered(b.id)).toEqual([]);
  });

  it("refuses a lock that is not commissioned, or a known id with another key, changing nothing", async () => {
    const stranger = new TestJournal(new Uint8Array(randomBytes(32)));
    const size = await ledger().size();
    await expect(t.hub.ingestor.ingestBatch(stranger.identity, stranger.appendMany(1))).rejects.toMatchObject(
      {
        code: "HUB_LOCK_UNKNOWN",
      },
    );
    const known = await commissioned();
    await expect(
      t.hub.ingestor.ingestBatch({ id: known.id, publicKey: stranger.publicKey }, stranger.appendMany(1)),
    ).rejects.toMatchObject({ code: "HUB_LOCK_UNKNOWN" });
    expect(await ledger().size()).toBe(size);
  });

  it("quarantines malformed bytes and refuses oversize batches", async () => {
    const j = await commissioned();
    const res = await t.hub.ingestor.ingestBatch(j.identity, [Uint8Array.of(1, 2, 3)]);
    expect(res).toMatchObject({ appended: 0, quarantined: 1 });
    expect((await quarantined(j.id)).map((r) => r.reason)).toEqual(["malformed"]);
    const err = (await t.hub.ingestor
      .ingestBatch(
        j.identity,
        Array.from({ length: 1001 }, () => Uint8Array.of(1)),
      )
      .catch((e: unknown) => e)) as LatchkeyError;
    expect(err.code).toBe("HUB_INGEST_BATCH_INVALID");
  });

  it("alerts on two different signed events with one seq (a forked lock), keeping the first", async () => {
    const j = await commissioned();
    const records = j.appendMany(3);
    await t.hub.ingestor.ingestBatch(j.identity, records);
    const twin = j.sign(
      EventKind.LockOperation,
      { operation: "Lock" },
      { seq: 2, prevHash: j.events[0]?.hash },
    );
    const res = await t.hub.ingestor.ingestBatch(j.identity, [twin.record]);
    expect(res).toMatchObject({ appended: 0, quarantined: 1, ack: { seq: 3 } });
    expect((await listAlerts(db(), { lockId: j.id })).map((a) => a.kind)).toEqual(["ingest-conflict"]);
    expect(await ledgered(j.id)).toEqual(records.map(toHex));
  });

  it("happy path: appends each event as a lock-signed leaf and acknowledges seq + hash", async () => {
    const j = await commissioned();
    const records = j.appendMany(10);
    const res = await t.hub.ingestor.ingestBatch(j.identity, records);
    expect(res).toMatchObject({ appended: 10, duplicates: 0, quarantined: 0, held: 0, gap: null });
    expect(res.ack?.seq).toBe(10);
    expect(toHex(res.ack?.hash ?? new Uint8Array())).toBe(toHex(j.lastHash));
    expect(await ledgered(j.id)).toEqual(records.map(toHex));
    const cursor = await lockCursor(db(), j.id);
    expect(cursor.seq).toBe(10);
    const where = await db()
      .selectFrom("lock_events")
      .selectAll()
      .where("lock_id", "=", j.id)
      .orderBy("seq")
      .execute();
    expect(where.map((r) => Number(r.seq))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const leaf = await ledger().entry(Number(where[4]?.ledger_index));
    expect(leaf.leaf.kind === LedgerLeafKind.LockEvent && toHex(leaf.leaf.record)).toBe(
      toHex(records[4] as Uint8Array),
    );
    const metrics = await t.client().get("/metrics");
    expect(metrics.body).toMatch(/^latchkey_events_ingested_total [1-9]\d*$/m);
    expect(metrics.body).toMatch(/^latchkey_events_quarantined_total [1-9]\d*$/m);
    expect(metrics.body).toMatch(/^latchkey_ingest_gaps_total \d+$/m);
  });

  it("a replayed batch is idempotent: re-acknowledged, no duplicate leaves", async () => {
    const j = await commissioned();
    const records = j.appendMany(5);
    const first = await t.hub.ingestor.ingestBatch(j.identity, records);
    const size = await ledger().size();
    const again = await t.hub.ingestor.ingestBatch(j.identity, records);
    expect(again).toMatchObject({ appended: 0, duplicates: 5, quarantined: 0 });
    expect(again.ack).toEqual(first.ack);
    expect(await ledger().size()).toBe(size);
    // Overlapping: old and new together.
    const more = j.appendMany(2);
    const overlap = await t.hub.ingestor.ingestBatch(j.identity, [...records.slice(3), ...more]);
    expect(overlap).toMatchObject({ appended: 2, duplicates: 2, ack: { seq: 7 } });
    expect(await ledgered(j.id)).toEqual([...records, ...more].map(toHex));
    expect(await listAlerts(db(), { lockId: j.id })).toEqual([]);
  });

  it("a gap raises an alert; events after it wait until the missing ones arrive", async () => {
    const j = await commissioned();
    const records = j.appendMany(9);
    await t.hub.ingestor.ingestBatch(j.identity, records.slice(0, 5));
    const before = await t.client().get("/metrics");
    const gaps = (text: string) => Number(/^latchkey_ingest_gaps_total (\d+)$/m.exec(text)?.[1]);
    const res = await t.hub.ingestor.ingestBatch(j.identity, records.slice(7));
    expect(res).toMatchObject({
      appended: 0,
      held: 2,
      gap: { expectedSeq: 6, receivedSeq: 8 },
      ack: { seq: 5 },
    });
    expect((await ledgered(j.id)).length).toBe(5);
    const alerts = await listAlerts(db(), { lockId: j.id });
    expect(alerts.map((a) => [a.kind, a.details.expectedSeq, a.details.receivedSeq])).toEqual([
      ["ingest-gap", 6, 8],
    ]);
    expect(gaps((await t.client().get("/metrics")).body)).toBe(gaps(before.body) + 1);
    // Accepted up to the gap inside one batch too.
    const partial = await t.hub.ingestor.ingestBatch(j.identity, [
      records[5] as Uint8Array,
      records[8] as Uint8Array,
    ]);
    expect(partial).toMatchObject({ appended: 1, held: 1, ack: { seq: 6 } });
    const rest = await t.hub.ingestor.ingestBatch(j.identity, records.slice(6));
    expect(rest).toMatchObject({ appended: 3, gap: null, ack: { seq: 9 } });
    expect(await ledgered(j.id)).toEqual(records.map(toHex));
  });

  it("reordered records are appended in seq order", async () => {
    const j = await commissioned();
    const records = j.appendMany(8);
    const shuffled = [
      records[3],
      records[0],
      records[7],
      records[1],
      records[6],
      records[2],
      records[5],
      records[4],
    ];
    const res = await t.hub.ingestor.ingestBatch(j.identity, shuffled as Uint8Array[]);
    expect(res).toMatchObject({ appended: 8, ack: { seq: 8 } });
    expect(await ledgered(j.id)).toEqual(records.map(toHex));
  });

  it("keeps locks apart: each lock's events chain on its own cursor", async () => {
    const a = await commissioned();
    const b = await commissioned();
    await Promise.all([
      t.hub.ingestor.ingestBatch(a.identity, a.appendMany(4)),
      t.hub.ingestor.ingestBatch(b.identity, b.appendMany(3)),
    ]);
    expect(await ledgered(a.id)).toEqual(a.records.map(toHex));
    expect(await ledgered(b.id)).toEqual(b.records.map(toHex));
  });

  it("ingests many locks at once (more than the database pool) without deadlock", async () => {
    const locks = await Promise.all(Array.from({ length: 14 }, () => commissioned()));
    const results = await Promise.all(
      locks.map((j) => t.hub.ingestor.ingestBatch(j.identity, j.appendMany(3))),
    );
    expect(results.map((r) => r.ack?.seq)).toEqual(locks.map(() => 3));
    for (const j of locks) expect(await ledgered(j.id)).toEqual(j.records.map(toHex));
  });

  it("hands a lock's CheckpointAck to the ledger; a mismatching one is a fork alert", async () => {
    const j = await commissioned();
    await t.hub.ingestor.ingestBatch(j.identity, j.appendMany(1));
    const cp = await ledger().checkpoint();
    const hash = checkpointTextHash(parseNote(cp.note).text);
    j.append(EventKind.CheckpointAck, { checkpointHash: hash, treeSize: cp.size });
    j.append(EventKind.CheckpointAck, { checkpointHash: new Uint8Array(32).fill(9), treeSize: cp.size });
    const res = await t.hub.ingestor.ingestBatch(j.identity, j.records.slice(1));
    expect(res).toMatchObject({ appended: 2, ack: { seq: 3 } });
    const acks = (await ledger().cosignatures(cp.size)).filter(
      (c) => c.kind === "lock-ack" && c.signer === j.id,
    );
    expect(acks.map((a) => toHex(a.signature))).toEqual([toHex(j.records[1] as Uint8Array)]);
    expect((await listAlerts(db(), { lockId: j.id })).map((a) => a.kind)).toEqual(["checkpoint-fork"]);
    expect(await ledgered(j.id)).toEqual(j.records.map(toHex));
  });

  it("finishes an ingestion a crash cut between the ledger append and the cursor: no duplicate", async () => {
    const j = await commissioned();
    const records = j.appendMany(5);
    // What a crashed ingestion leaves: an intent, the first three leaves, an old cursor.
    await beginIntent(db(), `lock:${j.id}`, await ledger().size(), t.clock.now);
    await ledger().appendMany(
      records.slice(0, 3).map((record) => ({
        kind: LedgerLeafKind.LockEvent,
        hubTimeMs: t.clock.now as EpochMs,
        lockId: Uint8Array.from(Buffer.from(j.id, "hex")),
        record,
      })),
    );
    expect((await lockCursor(db(), j.id)).seq).toBe(0);
    const res = await t.hub.ingestor.ingestBatch(j.identity, records);
    expect(res).toMatchObject({ appended: 2, duplicates: 3, ack: { seq: 5 } });
    expect(await ledgered(j.id)).toEqual(records.map(toHex));
    expect(await db().selectFrom("ledger_intents").selectAll().execute()).toEqual([]);
  });
});
