/**
 * Evidence bundle verification: a bundle of 100,000 lock events (--quick: 10,000) — one lock,
 * a heartbeat chain, each event with its inclusion proof in one checkpoint — verified end to end
 * (parse, canonical check, signatures, chain, proofs, seal) with node:crypto Ed25519, next to the
 * raw node:crypto Ed25519-verify and SHA-256 rates measured in the same run. Also the browser
 * path (@noble Ed25519) on a 2,000-event bundle (--quick: 500).
 */
import { createPublicKey, hash, sign as nodeSign, createPrivateKey, verify as nodeVerify } from "node:crypto";
import {
  ed25519NoteSigner,
  encodeEvidenceBundle,
  encodeLedgerLeaf,
  encodeSignedLockEvent,
  epochMs,
  EventKind,
  evidenceSealMessage,
  EVIDENCE_FORMAT,
  EVIDENCE_VERSION,
  LedgerLeafKind,
  lockIdBytesFromPublicKey,
  MemoryMerkleTree,
  nobleEd25519,
  signCheckpoint,
  signCommissioningRecord,
  toHex,
  unsealedBundleBytes,
  verifyEvidenceBundle,
  type BundleEvent,
} from "@latchkey/protocol";
import { nodeEd25519 } from "@latchkey/protocol/node";
import { MemoryJournal } from "@latchkey/lock";
import { median, rateRounds, type BenchResult, type BenchSuite } from "../../../bench/harness.js";
import { nodeMerkleHasher } from "../src/ledger/index.js";

const ORIGIN = "bench.test/ledger";

export function makeBundle(events: number): Uint8Array {
  const journal = new MemoryJournal({
    signingSeed: new Uint8Array(32).fill(1),
    bootId: new Uint8Array(16),
    ed25519: nodeEd25519,
  });
  const lockId = lockIdBytesFromPublicKey(journal.publicKey);
  const tree = new MemoryMerkleTree(nodeMerkleHasher);
  const t0 = Date.UTC(2026, 0, 1);
  const items: { record: Uint8Array; hubTimeMs: number; index: number }[] = [];
  for (let i = 0; i < events; i++) {
    const lockTime = t0 + i * 60_000;
    const e = journal.append(
      { kind: EventKind.Heartbeat, details: { lockState: "Locked", doorState: "Closed", battery: 90 } },
      epochMs(lockTime),
    );
    const record = encodeSignedLockEvent(e);
    const hubTimeMs = lockTime + 100;
    const index = tree.appendData(
      encodeLedgerLeaf({ kind: LedgerLeafKind.LockEvent, hubTimeMs: epochMs(hubTimeMs), lockId, record }),
    );
    items.push({ record, hubTimeMs, index });
  }
  const hub = ed25519NoteSigner(ORIGIN, new Uint8Array(32).fill(3), nodeEd25519);
  const ownerSeed = new Uint8Array(32).fill(2);
  const checkpoint = signCheckpoint(
    { origin: ORIGIN, size: tree.size, rootHash: tree.root(), extensions: [] },
    hub,
  );
  const bundleEvents: BundleEvent[] = items.map((it) => ({
    leafIndex: it.index,
    hubTimeMs: epochMs(it.hubTimeMs),
    record: it.record,
    proof: tree.inclusionProof(it.index),
  }));
  const unsealed = {
    format: EVIDENCE_FORMAT,
    version: EVIDENCE_VERSION,
    generatedAt: epochMs(t0 + events * 60_000),
    window: { from: epochMs(t0), to: epochMs(t0 + (events - 1) * 60_000) },
    owner: { publicKey: nodeEd25519.publicKey(ownerSeed) },
    ledger: { origin: ORIGIN, publicKey: hub.publicKey },
    checkpoints: [checkpoint],
    consistency: [],
    locks: [
      {
        lockId: toHex(lockId),
        publicKey: journal.publicKey,
        commissioning: signCommissioningRecord(
          {
            lockId,
            lockSigningKey: journal.publicKey,
            ownerKey: nodeEd25519.publicKey(ownerSeed),
            ledgerKey: hub.publicKey,
            commissionedAtMs: epochMs(t0),
            ledgerOrigin: ORIGIN,
            doorName: "Bench door",
            timeZone: "UTC",
          },
          ownerSeed,
          nodeEd25519,
        ).bytes,
        events: bundleEvents,
        missing: [],
      },
    ],
  } as const;
  return encodeEvidenceBundle({
    ...unsealed,
    seal: hub.sign(evidenceSealMessage(unsealedBundleBytes(unsealed))),
  });
}

function verifyRate(bytes: Uint8Array, events: number, ed = nodeEd25519, rounds = 3): number[] {
  const rates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t = performance.now();
    const result = verifyEvidenceBundle(bytes, {
      ed25519: ed,
      ...(ed === nodeEd25519 ? { hasher: nodeMerkleHasher } : {}),
    });
    const ms = performance.now() - t;
    if (result.status !== "valid") throw new Error(`bench bundle did not verify: ${result.failure.message}`);
    rates.push((events * 1000) / ms);
  }
  return rates;
}

const suite: BenchSuite = {
  name: "evidence verification",
  run(ctx) {
    const n = ctx.quick ? 10_000 : 100_000;
    ctx.log(`building a ${n.toLocaleString("en")}-event bundle`);
    const bytes = makeBundle(n);
    ctx.log(`bundle: ${(bytes.length / 2 ** 20).toFixed(1)} MiB`);

    // References: raw node:crypto Ed25519 verify (cached key object) and SHA-256 of 64 bytes.
    const seed = new Uint8Array(32).fill(9);
    const priv = createPrivateKey({
      key: Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seed]),
      format: "der",
      type: "pkcs8",
    });
    const pub = createPublicKey(priv);
    const msg = new Uint8Array(200).fill(7);
    const sig = nodeSign(null, msg, priv);
    const edRate = median(
      rateRounds(() => void nodeVerify(null, msg, pub, sig), 1, 5, ctx.quick ? 150 : 400),
    );
    const block = new Uint8Array(65);
    const shaRate = median(
      rateRounds(() => void hash("sha256", block, "buffer"), 1, 5, ctx.quick ? 150 : 400),
    );

    const rates = verifyRate(bytes, n, nodeEd25519, ctx.quick ? 2 : 3).sort((a, b) => a - b);
    const nodeMedian = median(rates);
    const small = ctx.quick ? 500 : 2000;
    const nobleMedian = median(verifyRate(makeBundle(small), small, nobleEd25519, ctx.quick ? 1 : 2));
    const results: BenchResult[] = [
      {
        name: `bundle verification, ${n.toLocaleString("en")} events, node:crypto (events/s; ratio = ÷ raw Ed25519 verifies/s)`,
        unit: "events/s",
        median: nodeMedian,
        p99: rates[0] ?? null,
        reference: { name: "node:crypto Ed25519 verify", median: edRate, unit: "verifies/s" },
        ratio: nodeMedian / edRate,
      },
      {
        name: `bundle verification, ${n.toLocaleString("en")} events (events/s; ratio = ÷ raw SHA-256 of 65 bytes/s)`,
        unit: "events/s",
        median: nodeMedian,
        p99: rates[0] ?? null,
        reference: { name: "node:crypto SHA-256 (65 B)", median: shaRate, unit: "hashes/s" },
        ratio: nodeMedian / shaRate,
      },
      {
        name: `bundle verification, ${small.toLocaleString("en")} events, @noble Ed25519 as in the browser page (events/s; ratio = ÷ raw node:crypto Ed25519 verifies/s)`,
        unit: "events/s",
        median: nobleMedian,
        p99: null,
        reference: { name: "node:crypto Ed25519 verify", median: edRate, unit: "verifies/s" },
        ratio: nobleMedian / edRate,
      },
    ];
    return Promise.resolve(results);
  },
};

export default suite;
