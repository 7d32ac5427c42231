/**
 * Evidence bundle verification: a bundle of 100,000 lock events (--quick: 5,000) — one lock,
 * a heartbeat chain, each event with its inclusion proof in one checkpoint — verified end to end
 * (parse, canonical check, signatures, chain, proofs, seal) with node:crypto Ed25519, next to the
 * raw node:crypto Ed25519-verify and SHA-256 rates measured in the same run. Also the browser
 * path (@noble Ed25519) on a 2,000-event bundle (--quick: 500), and `latchkey verify` itself in a
 * fresh process (read, verify, report, with the keys pinned): its time next to that many raw
 * verifies, and its peak resident memory (goal for 100,000 events: under 10 s and 500 MB). The
 * in-process rows are one thread; the command also checks the events' signatures on the other
 * cores (src/evidence/parallel-signatures.ts), so its ratio can be below 1 on a multi-core machine.
 */
import { spawnSync } from "node:child_process";
import { createPublicKey, hash, sign as nodeSign, createPrivateKey, verify as nodeVerify } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
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
  packHashes,
  signCheckpoint,
  signCommissioningRecord,
  toHex,
  unsealedBundleBytes,
  verifyEvidenceBundle,
  type BundleEvent,
} from "@latchkey/protocol";
import { nodeEd25519, nodeSha256Parts } from "@latchkey/protocol/node";
import { MemoryJournal } from "@latchkey/lock";
import { median, rateRounds, type BenchResult, type BenchSuite } from "../../../bench/harness.js";
import { nodeMerkleHasher } from "../src/ledger/index.js";

const ORIGIN = "bench.test/ledger";

export function makeBundle(events: number): Uint8Array {
  // One heartbeat a minute in one boot: the monotonic clock advances with the wall clock.
  let uptimeMs = 0;
  const journal = new MemoryJournal({
    signingSeed: new Uint8Array(32).fill(1),
    bootId: new Uint8Array(16),
    ed25519: nodeEd25519,
    monotonicMs: () => uptimeMs,
  });
  const lockId = lockIdBytesFromPublicKey(journal.publicKey);
  const tree = new MemoryMerkleTree(nodeMerkleHasher);
  const t0 = Date.UTC(2026, 0, 1);
  const items: { record: Uint8Array; hubTimeMs: number; index: number }[] = [];
  for (let i = 0; i < events; i++) {
    const lockTime = t0 + i * 60_000;
    uptimeMs = i * 60_000;
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
    proof: packHashes(tree.inclusionProof(it.index)),
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
      ...(ed === nodeEd25519 ? { hasher: nodeMerkleHasher, sha256: nodeSha256Parts } : {}),
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
    const n = ctx.quick ? 5_000 : 100_000;

    // References: raw node:crypto Ed25519 verify (cached key object) and SHA-256 of 64 bytes,
    // measured first: taken right after building the 100,000-event bundle (a heap of hundreds of
    // MB, mostly garbage) the raw verify rate came out 4–20 times too low, and every ratio with it.
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
      rateRounds(() => void nodeVerify(null, msg, pub, sig), 1, ctx.quick ? 3 : 5, ctx.quick ? 150 : 400),
    );
    const block = new Uint8Array(65);
    const shaRate = median(
      rateRounds(() => void hash("sha256", block, "buffer"), 1, ctx.quick ? 3 : 5, ctx.quick ? 150 : 400),
    );

    ctx.log(`building a ${n.toLocaleString("en")}-event bundle`);
    const bytes = makeBundle(n);
    ctx.log(`bundle: ${(bytes.length / 2 ** 20).toFixed(1)} MiB`);

    const rates = verifyRate(bytes, n, nodeEd25519, ctx.quick ? 2 : 3).sort((a, b) => a - b);
    const nodeMedian = median(rates);
    const small = ctx.quick ? 500 : 2000;
    const nobleMedian = median(verifyRate(makeBundle(small), small, nobleEd25519, ctx.quick ? 1 : 2));

    // The command a user runs, in a fresh process, keys pinned (as in the key card).
    const bundlePath = join(ctx.tmpDir, "bundle.json");
    writeFileSync(bundlePath, bytes);
    const { ledger, owner } = JSON.parse(new TextDecoder().decode(bytes)) as {
      ledger: { publicKey: string };
      owner: { publicKey: string };
    };
    const runs: { ms: number; peakRssMiB: number }[] = [];
    for (let r = 0; r < (ctx.quick ? 1 : 3); r++) {
      const out = join(ctx.tmpDir, `verify-${r}.json`);
      const child = spawnSync(
        process.execPath,
        [
          "--import",
          "tsx",
          join(import.meta.dirname, "evidence-verify-child.ts"),
          out,
          bundlePath,
          "--owner-key",
          owner.publicKey,
          "--ledger-key",
          ledger.publicKey,
        ],
        { stdio: ["ignore", "ignore", "inherit"], cwd: import.meta.dirname },
      );
      const run = JSON.parse(readFileSync(out, "utf8")) as {
        exitCode: number;
        ms: number;
        peakRssMiB: number;
      };
      if (child.status !== 0 || run.exitCode !== 0) throw new Error(`latchkey verify exited ${run.exitCode}`);
      runs.push(run);
    }
    const cliMs = median(runs.map((r) => r.ms));
    const rawMs = (n / edRate) * 1000;
    ctx.log(
      `latchkey verify: ${runs.map((r) => `${(r.ms / 1000).toFixed(1)} s, ${r.peakRssMiB.toFixed(0)} MiB`).join("; ")}`,
    );
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
      {
        name: `latchkey verify, ${n.toLocaleString("en")} events, fresh process, keys pinned (s; ratio = ÷ time of ${n.toLocaleString("en")} raw Ed25519 verifies)`,
        unit: "s",
        median: cliMs / 1000,
        p99: Math.max(...runs.map((r) => r.ms)) / 1000,
        reference: {
          name: `${n.toLocaleString("en")} raw node:crypto Ed25519 verifies`,
          median: rawMs / 1000,
          unit: "s",
        },
        ratio: cliMs / rawMs,
      },
      {
        name: `latchkey verify, ${n.toLocaleString("en")} events: peak resident memory of the process (MiB; ratio = ÷ bundle size)`,
        unit: "MiB",
        median: median(runs.map((r) => r.peakRssMiB)),
        p99: Math.max(...runs.map((r) => r.peakRssMiB)),
        reference: { name: "bundle file size", median: bytes.length / 2 ** 20, unit: "MiB" },
        ratio: median(runs.map((r) => r.peakRssMiB)) / (bytes.length / 2 ** 20),
      },
    ];
    return Promise.resolve(results);
  },
};

export default suite;
