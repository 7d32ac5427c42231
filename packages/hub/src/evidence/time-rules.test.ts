/**
 * The report's Time rules (docs/evidence-format.md) on hand-made journals: each event's wall time,
 * monotonic reading, boot id and format version chosen by the test, signed with a test lock key,
 * put into a real SQLite ledger, exported and verified. Each case says exactly what breaks the
 * absence claim, or that nothing does.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import {
  buildEvidenceReport,
  ed25519NoteSigner,
  encodeSignedLockEvent,
  epochMs,
  EventKind,
  LedgerLeafKind,
  lockIdBytesFromPublicKey,
  signCommissioningRecord,
  signLockEvent,
  verifyEvidenceBundle,
  ZERO_HASH,
  type EvidenceReport,
  type LockEvent,
} from "@latchkey/protocol";
import { nodeEd25519 } from "@latchkey/protocol/node";
import { Ledger, SqliteLedgerStore } from "../ledger/index.js";
import { exportEvidenceBundle } from "./export.js";

const ORIGIN = "hub.test/ledger";
const T0 = Date.UTC(2026, 0, 10, 0, 0);
const MIN = 60_000;
const lockSeed = new Uint8Array(32).fill(5);
const ownerSeed = new Uint8Array(32).fill(6);
const hubSigner = ed25519NoteSigner(ORIGIN, new Uint8Array(32).fill(7), nodeEd25519);
const lockKey = nodeEd25519.publicKey(lockSeed);
const lockId = lockIdBytesFromPublicKey(lockKey);
const boot = (n: number): Uint8Array => new Uint8Array(16).fill(n);

interface Entry {
  readonly kind?: LockEvent["kind"];
  /** Wall time, minutes after T0. */
  readonly wall: number;
  /** Monotonic reading, minutes since boot; omitted: a version-1 event. */
  readonly mono?: number;
  readonly boot?: number;
  readonly details?: LockEvent["details"];
}

const dbs: Database.Database[] = [];
afterEach(() => {
  for (const db of dbs.splice(0)) db.close();
});

/** The report of a bundle of `entries` (locked, closed heartbeats unless given) over [from, to] minutes. */
async function reportOf(entries: readonly Entry[], from: number, to: number): Promise<EvidenceReport> {
  const db = new Database(join(mkdtempSync(join(tmpdir(), "latchkey-time-rules-")), "ledger.sqlite"));
  dbs.push(db);
  const ledger = await Ledger.open({
    store: new SqliteLedgerStore(db),
    origin: ORIGIN,
    signer: hubSigner,
    ed: nodeEd25519,
    checkpointEvery: { entries: Number.MAX_SAFE_INTEGER },
  });
  let prevHash = ZERO_HASH;
  for (const [i, x] of entries.entries()) {
    const { event, record } = signLockEvent(
      {
        version: x.mono === undefined ? 1 : 2,
        ...(x.mono === undefined ? {} : { monotonicMs: x.mono * MIN }),
        lockId,
        seq: i + 1,
        bootId: boot(x.boot ?? 1),
        lockTime: epochMs(T0 + x.wall * MIN),
        kind: x.kind ?? EventKind.Heartbeat,
        actor: {},
        details: x.details ?? { lockState: "Locked", doorState: "Closed" },
        prevHash,
      },
      lockSeed,
      nodeEd25519,
    );
    prevHash = event.hash;
    await ledger.append({
      kind: LedgerLeafKind.LockEvent,
      hubTimeMs: epochMs(T0 + i * MIN),
      lockId,
      record,
    });
    expect(encodeSignedLockEvent(event)).toEqual(record);
  }
  await ledger.checkpoint();
  const commissioning = signCommissioningRecord(
    {
      lockId,
      lockSigningKey: lockKey,
      ownerKey: nodeEd25519.publicKey(ownerSeed),
      ledgerKey: hubSigner.publicKey,
      commissionedAtMs: epochMs(T0 - MIN),
      ledgerOrigin: ORIGIN,
      doorName: "Side door",
      timeZone: "UTC",
    },
    ownerSeed,
    nodeEd25519,
  ).bytes;
  const { bytes } = await exportEvidenceBundle({
    ledger,
    locks: [{ publicKey: lockKey, commissioning }],
    window: { from: T0 + from * MIN, to: T0 + to * MIN },
    ownerPublicKey: nodeEd25519.publicKey(ownerSeed),
    signer: hubSigner,
    now: () => T0 + 1000 * MIN,
  });
  const verified = verifyEvidenceBundle(bytes, { ed25519: nodeEd25519 });
  expect(verified.status).toBe("valid");
  return buildEvidenceReport(verified);
}

/** Heartbeats every 5 minutes from `a` to `b` (inclusive), monotonic = wall + `monoOffset`. */
function beats(a: number, b: number, monoOffset = 0, bootN = 1): Entry[] {
  const out: Entry[] = [];
  for (let t = a; t <= b; t += 5) out.push({ wall: t, mono: t + monoOffset, boot: bootN });
  return out;
}

const statements = (r: EvidenceReport): string[] => r.doors[0]!.periods.map((p) => p.statement);
const claimed = (r: EvidenceReport): boolean => r.doors[0]!.periods.some((p) => p.proven);

describe("Time rules of the absence claim", () => {
  it("heartbeats 5 minutes apart on both clocks: the claim is made", async () => {
    const r = await reportOf(beats(0, 60), 12, 48);
    expect(statements(r)).toEqual([
      "No valid credential was used at Side door between 2026-01-10 00:12:00 and 2026-01-10 00:48:00 (UTC), while it was locked.",
    ]);
  });

  it("silence is measured on the monotonic clock", async () => {
    // Wall times 5 minutes apart, but the lock's own clock says 40 minutes passed between two.
    const entries = [...beats(0, 20), ...beats(25, 60, 35)];
    const r = await reportOf(entries, 12, 48);
    expect(claimed(r)).toBe(false);
    expect(statements(r)[0]).toContain(
      "the lock was silent for 40 min from 00:20:00 to 00:25:00 (heartbeats must be at most 15 min apart)",
    );
    expect(statements(r)[0]).toContain(
      "the lock's wall clock moved 5 min between seq 5 and seq 6 while its monotonic clock moved 40 min, and no ClockSet explains it",
    );
  });

  it("a wall-clock jump that no ClockSet explains voids the claim", async () => {
    // The wall clock jumps an hour ahead between two heartbeats 5 minutes apart on the monotonic clock.
    const entries = [...beats(0, 20), ...beats(85, 120, -60)];
    const r = await reportOf(entries, 12, 100);
    expect(claimed(r)).toBe(false);
    expect(statements(r)[0]).toContain(
      "the lock's wall clock moved 65 min between seq 5 and seq 6 while its monotonic clock moved 5 min, and no ClockSet explains it",
    );
  });

  it("a clock change is named with its old and new values and who made it", async () => {
    const entries: Entry[] = [
      ...beats(0, 20),
      {
        kind: EventKind.ClockSet,
        wall: 22,
        mono: 21,
        details: { fromMs: T0 + 21 * MIN, toMs: T0 + 22 * MIN, source: "hub" },
      },
      ...beats(27, 60, -1),
    ];
    const r = await reportOf(entries, 12, 48);
    expect(claimed(r)).toBe(false);
    expect(statements(r)[0]).toBe(
      "It cannot be proven whether a credential was used at Side door between 2026-01-10 00:12:00 and 2026-01-10 00:48:00 (UTC), while it was locked: the lock's clock was set from 2026-01-10 00:21:00 to 2026-01-10 00:22:00 (by the hub) at seq 6: no claim across it.",
    );
  });

  it("a reboot covered by heartbeats on both sides keeps the claim; an uncovered one voids it", async () => {
    // Covered: the new boot's Boot event 3 minutes after the last heartbeat of the old boot.
    const covered: Entry[] = [
      ...beats(0, 20),
      { kind: EventKind.Boot, wall: 23, mono: 0, boot: 2, details: { reason: "reset", bootCount: 2 } },
      ...beats(28, 60, -23, 2),
    ];
    expect(statements(await reportOf(covered, 12, 48))[0]).toMatch(/^No valid credential was used/);
    // Uncovered: off for 40 minutes (the wall clock kept time, but nothing was signed meanwhile).
    const uncovered: Entry[] = [
      ...beats(0, 20),
      { kind: EventKind.Boot, wall: 60, mono: 0, boot: 2, details: { reason: "power-on", bootCount: 2 } },
      ...beats(65, 90, -60, 2),
    ];
    const r = await reportOf(uncovered, 12, 80);
    expect(claimed(r)).toBe(false);
    expect(statements(r)[0]).toContain(
      "the lock restarted at seq 6 (01:00:00) and the time it was off is not covered by heartbeats (last event before it at 00:20:00, seq 5)",
    );
  });

  it("version 1 events (no monotonic reading) are judged on wall time as before", async () => {
    const v1 = (a: number, b: number): Entry[] => beats(a, b).map(({ wall, boot: n }) => ({ wall, boot: n }));
    expect(claimed(await reportOf(v1(0, 60), 12, 48))).toBe(true);
    const silent = await reportOf([...v1(0, 20), ...v1(60, 90)], 12, 80);
    expect(statements(silent)[0]).toContain("the lock was silent for 40 min from 00:20:00 to 01:00:00");
  });
});
