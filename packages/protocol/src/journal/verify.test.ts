import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { nobleEd25519 } from "../crypto/ed25519.js";
import { toHex } from "../encoding/bytes.js";
import { isLatchkeyError } from "../errors/error.js";
import { nodeEd25519 } from "../node/ed25519.js";
import { epochMs } from "../units.js";
import { lockIdBytesFromPublicKey, signLockEvent, ZERO_HASH } from "./codec.js";
import type { SignedLockEvent } from "./event.js";
import { EventKind } from "./kinds.js";
import {
  assertJournalVerified,
  JournalChainVerifier,
  verifyJournalEvents,
  verifyJournalRecords,
  type JournalVerifyOptions,
} from "./verify.js";

const SEED = new Uint8Array(32).fill(0x11);
const OTHER_SEED = new Uint8Array(32).fill(0x22);
const PUB = nodeEd25519.publicKey(SEED);
const OPTIONS: JournalVerifyOptions = { publicKey: PUB, ed25519: nodeEd25519 };

interface Chain {
  events: SignedLockEvent[];
  records: Uint8Array[];
}

/**
 * A valid chain of `n` events signed by `seed`, starting at seq `from` after `prevHash`, in
 * format version 2 (or 1: journals written before).
 */
function chain(n: number, seed = SEED, from = 1, prevHash = ZERO_HASH, version: 1 | 2 = 2): Chain {
  const lockId = lockIdBytesFromPublicKey(nodeEd25519.publicKey(seed));
  const out: Chain = { events: [], records: [] };
  let prev = prevHash;
  for (let i = 0; i < n; i++) {
    const { event, record } = signLockEvent(
      {
        version,
        ...(version === 2 ? { monotonicMs: 5000 + i * 1000 } : {}),
        lockId,
        seq: from + i,
        bootId: new Uint8Array(16).fill(1),
        lockTime: epochMs(1_767_225_600_000 + i * 1000),
        kind: i % 2 === 0 ? EventKind.LockOperation : EventKind.Heartbeat,
        actor: { userIndex: 1 + (i % 5) },
        details: { operation: "Unlock", source: "Keypad", n: i },
        prevHash: prev,
      },
      seed,
      nodeEd25519,
    );
    out.events.push(event);
    out.records.push(record);
    prev = event.hash;
  }
  return out;
}

const GOOD = chain(8);

describe("journal verifier: attacks are named at the first bad event", () => {
  it("a flipped bit anywhere in a record → that record, bad-signature (or malformed), nothing after trusted", () => {
    const records = GOOD.records.map((r) => r.slice());
    const victim = records[3]!;
    victim[victim.length - 10]! ^= 0x01; // inside the signature
    const result = verifyJournalRecords(records, OPTIONS);
    expect(result.ok).toBe(false);
    expect(result.fault).toMatchObject({ index: 3, seq: 4, expectedSeq: 4, reason: "bad-signature" });
    expect(result.verified).toBe(3);
    expect(result.events.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(result.lastSeq).toBe(3);
    expect(toHex(result.lastHash!)).toBe(toHex(GOOD.events[2]!.hash));
  });

  it("a deleted event → gap at the event after it", () => {
    const records = GOOD.records.filter((_, i) => i !== 4);
    const result = verifyJournalRecords(records, OPTIONS);
    expect(result.fault).toMatchObject({ index: 4, seq: 6, expectedSeq: 5, reason: "gap" });
    expect(result.fault?.message).toContain("seq 6");
  });

  it("a repeated (replayed) event and a swap → out-of-order / gap", () => {
    const repeated = [...GOOD.records.slice(0, 5), GOOD.records[4]!, ...GOOD.records.slice(5)];
    expect(verifyJournalRecords(repeated, OPTIONS).fault).toMatchObject({
      index: 5,
      seq: 5,
      reason: "out-of-order",
    });
    const swapped = [...GOOD.records];
    [swapped[2], swapped[3]] = [swapped[3]!, swapped[2]!];
    expect(verifyJournalRecords(swapped, OPTIONS).fault).toMatchObject({ index: 2, seq: 4, reason: "gap" });
  });

  it("a rewritten event, validly signed by the lock key but forking history → broken-link after it", () => {
    // Whoever holds the key re-signs event 3 differently: event 4 no longer links.
    const fork = chain(3, SEED, 3, GOOD.events[1]!.hash);
    const altered = chain(1, SEED, 3, GOOD.events[1]!.hash).records[0]!;
    const forged = signLockEvent(
      { ...fork.events[0]!, details: { operation: "Lock" } },
      SEED,
      nodeEd25519,
    ).record;
    expect(toHex(forged)).not.toBe(toHex(altered));
    const records = [...GOOD.records.slice(0, 2), forged, ...GOOD.records.slice(3)];
    expect(verifyJournalRecords(records, OPTIONS).fault).toMatchObject({
      index: 3,
      seq: 4,
      reason: "broken-link",
    });
  });

  it("an event of another lock → wrong-lock; a valid chain under another key → wrong-lock at #0", () => {
    const foreign = chain(4, OTHER_SEED);
    const mixed = [...GOOD.records.slice(0, 2), foreign.records[2]!, ...GOOD.records.slice(3)];
    expect(verifyJournalRecords(mixed, OPTIONS).fault).toMatchObject({ index: 2, reason: "wrong-lock" });
    expect(verifyJournalRecords(foreign.records, OPTIONS).fault).toMatchObject({
      index: 0,
      reason: "wrong-lock",
    });
  });

  it("a record signed with another key but claiming this lock's id → bad-signature", () => {
    const claimed = signLockEvent({ ...GOOD.events[0]! }, OTHER_SEED, nodeEd25519).record;
    expect(verifyJournalRecords([claimed], OPTIONS).fault).toMatchObject({
      index: 0,
      reason: "bad-signature",
    });
  });

  it("truncated, extended, unknown-version and unknown-kind records → malformed / unsupported-version / unknown-kind", () => {
    const truncated = GOOD.records[1]!.subarray(0, 100);
    expect(verifyJournalRecords([GOOD.records[0]!, truncated], OPTIONS).fault).toMatchObject({
      index: 1,
      seq: null,
      reason: "malformed",
      decodeCode: "JOURNAL_RECORD_SIZE",
    });
    const v3 = GOOD.records[0]!.slice();
    v3[0] = 3;
    expect(verifyJournalRecords([v3], OPTIONS).fault).toMatchObject({ reason: "unsupported-version" });
    const kind = GOOD.records[0]!.slice();
    kind[2] = 200;
    expect(verifyJournalRecords([kind], OPTIONS).fault).toMatchObject({ reason: "unknown-kind" });
  });

  it("a journal written in version 1 and continued in version 2 (a firmware update) verifies as one chain", () => {
    const old = chain(3, SEED, 1, ZERO_HASH, 1);
    const next = chain(3, SEED, 4, old.events[2]!.hash, 2);
    const result = verifyJournalRecords([...old.records, ...next.records], OPTIONS);
    expect(result.ok).toBe(true);
    expect(result.events.map((e) => e.version)).toEqual([1, 1, 1, 2, 2, 2]);
    expect(result.events[0]!.monotonicMs).toBeUndefined();
    expect(result.events[3]!.monotonicMs).toBe(5000);
    expect(verifyJournalEvents([...old.events, ...next.events], OPTIONS).ok).toBe(true);
  });

  it("a chain that does not start at seq 1 with zero prevHash → gap / broken-link", () => {
    expect(verifyJournalRecords(GOOD.records.slice(1), OPTIONS).fault).toMatchObject({
      index: 0,
      reason: "gap",
    });
    const notZero = chain(2, SEED, 1, new Uint8Array(32).fill(9));
    expect(verifyJournalRecords(notZero.records, OPTIONS).fault).toMatchObject({
      index: 0,
      reason: "broken-link",
    });
  });

  it("decoded events: a tampered detail → bad-signature; a stale hash field → hash-mismatch; junk → malformed", () => {
    const tampered = GOOD.events.map((e, i) =>
      i === 2 ? { ...e, details: { ...e.details, operation: "Lock" } } : e,
    );
    expect(verifyJournalEvents(tampered, OPTIONS).fault).toMatchObject({ index: 2, reason: "bad-signature" });
    const stale = GOOD.events.map((e, i) => (i === 1 ? { ...e, hash: GOOD.events[0]!.hash } : e));
    expect(verifyJournalEvents(stale, OPTIONS).fault).toMatchObject({ index: 1, reason: "hash-mismatch" });
    const junk = GOOD.events.map((e, i) => (i === 5 ? { ...e, signature: new Uint8Array(3) } : e));
    expect(verifyJournalEvents(junk, OPTIONS).fault).toMatchObject({ index: 5, seq: 6, reason: "malformed" });
  });
});

describe("journal verifier: valid chains", () => {
  it("accepts a valid chain with either Ed25519 implementation", () => {
    for (const ed25519 of [nodeEd25519, nobleEd25519]) {
      const result = verifyJournalRecords(GOOD.records, { publicKey: PUB, ed25519 });
      expect(result).toMatchObject({ ok: true, verified: 8, lastSeq: 8, fault: null });
      expect(toHex(result.lastHash!)).toBe(toHex(GOOD.events[7]!.hash));
      expect(result.events).toEqual(GOOD.events);
      expect(verifyJournalEvents(GOOD.events, { publicKey: PUB, ed25519 }).ok).toBe(true);
    }
    expect(verifyJournalRecords([], OPTIONS)).toMatchObject({
      ok: true,
      verified: 0,
      lastSeq: null,
      lastHash: null,
    });
  });

  it("continues from a known event: firstSeq and firstPrevHash", () => {
    const tail = GOOD.records.slice(5);
    const known = GOOD.events[4]!;
    expect(verifyJournalRecords(tail, { ...OPTIONS, firstSeq: 6, firstPrevHash: known.hash }).ok).toBe(true);
    // Without a prevHash to check against, the first link is taken on trust; the rest is checked.
    expect(verifyJournalRecords(tail, { ...OPTIONS, firstSeq: 6 }).ok).toBe(true);
    expect(
      verifyJournalRecords(tail, { ...OPTIONS, firstSeq: 6, firstPrevHash: GOOD.events[3]!.hash }).fault,
    ).toMatchObject({ index: 0, seq: 6, reason: "broken-link" });
    expect(verifyJournalRecords(tail, { ...OPTIONS, firstSeq: 5 }).fault).toMatchObject({
      index: 0,
      reason: "gap",
    });
  });

  it("incremental verifier: state advances only on success and the first fault sticks", () => {
    const v = new JournalChainVerifier(OPTIONS);
    expect(v.pushRecord(GOOD.records[0]!).ok).toBe(true);
    expect(v.nextSeq).toBe(2);
    const bad = v.pushRecord(GOOD.records[2]!);
    expect(bad).toMatchObject({ ok: false, fault: { reason: "gap", index: 1 } });
    // The correct next record no longer helps: the verifier names the first fault only.
    expect(v.pushRecord(GOOD.records[1]!)).toEqual(bad);
    expect(v.verified).toBe(1);
    expect(v.nextSeq).toBe(2);
    expect(toHex(v.lastHash!)).toBe(toHex(GOOD.events[0]!.hash));
  });

  it("assertJournalVerified throws JOURNAL_VERIFY_FAILED naming index, seq and reason", () => {
    expect(() => assertJournalVerified(verifyJournalRecords(GOOD.records, OPTIONS))).not.toThrow();
    try {
      assertJournalVerified(verifyJournalRecords(GOOD.records.slice(1), OPTIONS));
      expect.unreachable();
    } catch (e) {
      expect(isLatchkeyError(e, "JOURNAL_VERIFY_FAILED")).toBe(true);
      expect((e as { details: unknown }).details).toEqual({
        index: 0,
        seq: 2,
        expectedSeq: 1,
        reason: "gap",
      });
    }
  });

  it("property: one changed byte in record i fails verification exactly at i; never throws", () => {
    fc.assert(
      fc.property(
        fc.nat({ max: GOOD.records.length - 1 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (i, offsetSeed, xor) => {
          const records = GOOD.records.map((r) => r.slice());
          const victim = records[i]!;
          victim[offsetSeed % victim.length]! ^= xor;
          const result = verifyJournalRecords(records, OPTIONS);
          expect(result.ok).toBe(false);
          expect(result.fault?.index).toBe(i);
          expect(result.verified).toBe(i);
        },
      ),
      { numRuns: 150 },
    );
  });
});
