/** The exporter against a real SQLite ledger: honest gaps, silence, clipping and refusals. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import {
  buildEvidenceReport,
  ed25519NoteSigner,
  encodeSignedLockEvent,
  epochMs,
  EventKind,
  isLatchkeyError,
  LedgerLeafKind,
  lockIdBytesFromPublicKey,
  signCommissioningRecord,
  verifyEvidenceBundle,
  type SignedLockEvent,
} from "@latchkey/protocol";
import { nodeEd25519 } from "@latchkey/protocol/node";
import { MemoryJournal } from "@latchkey/lock";
import { Ledger, SqliteLedgerStore } from "../ledger/index.js";
import { exportEvidenceBundle } from "./export.js";

const ORIGIN = "hub.test/ledger";
const T0 = Date.UTC(2026, 0, 10, 0, 0);
const MIN = 60_000;
const lockSeed = new Uint8Array(32).fill(1);
const ownerSeed = new Uint8Array(32).fill(2);
const hubSigner = ed25519NoteSigner(ORIGIN, new Uint8Array(32).fill(3), nodeEd25519);

async function setup(
  opts: { skipSeq?: number; silentFrom?: number; silentTo?: number; checkpoint?: boolean } = {},
) {
  const db = new Database(join(mkdtempSync(join(tmpdir(), "latchkey-export-")), "ledger.sqlite"));
  const ledger = await Ledger.open({
    store: new SqliteLedgerStore(db),
    origin: ORIGIN,
    signer: hubSigner,
    ed: nodeEd25519,
    checkpointEvery: { entries: Number.MAX_SAFE_INTEGER },
  });
  // The lock's monotonic clock runs with its wall clock (no one sets it here): ms since T0.
  let mono = 0;
  const journal = new MemoryJournal({
    signingSeed: lockSeed,
    bootId: new Uint8Array(16),
    ed25519: nodeEd25519,
    monotonicMs: () => mono,
  });
  const events: SignedLockEvent[] = [];
  // A heartbeat every 5 minutes for 2 hours (locked, closed), except while "silent".
  for (let t = T0; t <= T0 + 120 * MIN; t += 5 * MIN) {
    if (opts.silentFrom !== undefined && t > opts.silentFrom && t < (opts.silentTo ?? 0)) continue;
    mono = t - T0;
    events.push(
      journal.append(
        { kind: EventKind.Heartbeat, details: { lockState: "Locked", doorState: "Closed" } },
        epochMs(t),
      ),
    );
  }
  const lockId = lockIdBytesFromPublicKey(journal.publicKey);
  for (const e of events) {
    if (e.seq === opts.skipSeq) continue; // the hub lost this one
    await ledger.append({
      kind: LedgerLeafKind.LockEvent,
      hubTimeMs: epochMs((e.lockTime ?? 0) + 100),
      lockId,
      record: encodeSignedLockEvent(e),
    });
  }
  if (opts.checkpoint !== false) await ledger.checkpoint();
  const commissioning = signCommissioningRecord(
    {
      lockId,
      lockSigningKey: journal.publicKey,
      ownerKey: nodeEd25519.publicKey(ownerSeed),
      ledgerKey: hubSigner.publicKey,
      commissionedAtMs: epochMs(T0 - MIN),
      ledgerOrigin: ORIGIN,
      doorName: "Back door",
      timeZone: "UTC",
    },
    ownerSeed,
    nodeEd25519,
  ).bytes;
  const run = (from: number, to: number) =>
    exportEvidenceBundle({
      ledger,
      locks: [{ publicKey: journal.publicKey, commissioning }],
      window: { from, to },
      ownerPublicKey: nodeEd25519.publicKey(ownerSeed),
      signer: hubSigner,
      now: () => T0 + 200 * MIN,
    });
  return { run, db };
}

const verify = (b: Uint8Array) => verifyEvidenceBundle(b, { ed25519: nodeEd25519 });

describe("evidence exporter", () => {
  it("exports a verifiable bundle and proves silence while heartbeats cover the window", async () => {
    const { run, db } = await setup();
    const { bytes, bundle } = await run(T0 + 12 * MIN, T0 + 60 * MIN);
    const report = buildEvidenceReport(verify(bytes));
    expect(report.verdict).toBe("valid");
    // Starts at the last heartbeat at or before the window (00:10), ends at the first at or after it (01:00).
    expect(bundle.locks[0]?.events.length).toBe(11);
    expect(report.proven).toContain(
      "No valid credential was used at Back door between 2026-01-10 00:12:00 and 2026-01-10 01:00:00 (UTC), while it was locked.",
    );
    db.close();
  });

  it("declares events the hub lost; the bundle verifies but nothing is claimed across the gap", async () => {
    const { run, db } = await setup({ skipSeq: 8 });
    const { bytes, bundle } = await run(T0 + 12 * MIN, T0 + 60 * MIN);
    expect(bundle.locks[0]?.missing).toEqual([[8, 8]]);
    const report = buildEvidenceReport(verify(bytes));
    expect(report.verdict).toBe("valid");
    expect(report.notProven.join("\n")).toContain("events seq 8–8 are missing from the hub's ledger");
    expect(report.notProven).toContain(
      "Back door: the hub's ledger lacks the lock's events seq 8–8 (declared by the exporter); nothing is proven across them.",
    );
    expect(report.proven.join("\n")).not.toContain("No valid credential");
    db.close();
  });

  it("says why silence is not proven when the lock stopped sending heartbeats", async () => {
    const { run, db } = await setup({ silentFrom: T0 + 20 * MIN, silentTo: T0 + 60 * MIN });
    const report = buildEvidenceReport(verify((await run(T0 + 12 * MIN, T0 + 90 * MIN)).bytes));
    expect(report.verdict).toBe("valid");
    expect(report.notProven.join("\n")).toContain(
      "the lock was silent for 40 min from 00:20:00 to 01:00:00 (heartbeats must be at most 15 min apart)",
    );
    db.close();
  });

  it("clips the window to the lock's last event", async () => {
    const { run, db } = await setup();
    const { bundle } = await run(T0 + 100 * MIN, T0 + 500 * MIN);
    expect(bundle.window.to).toBe(T0 + 120 * MIN);
    db.close();
  });

  it("refuses to export before any checkpoint is signed", async () => {
    const { run, db } = await setup({ checkpoint: false });
    const error = await run(T0, T0 + MIN).catch((e: unknown) => e);
    expect(isLatchkeyError(error, "EVIDENCE_EXPORT_INCOMPLETE")).toBe(true);
    db.close();
  });
});
