/**
 * Ledger benchmarks (SQLite, durable: WAL + synchronous=FULL):
 *  - durable append rate, one leaf per transaction, against a raw durable SQLite insert of the
 *    same bytes and the raw SHA-256 rate measured in the same run;
 *  - group commit (100 leaves per transaction);
 *  - bulk load (one transaction per 100 000 leaves) to build large trees;
 *  - inclusion-proof generation at 1M and 10M leaves (--quick: 10k and 50k), median and p99 µs,
 *    against one raw SQLite point read;
 *  - consistency-proof generation at the largest size;
 *  - inclusion-proof verification rate against the raw SHA-256 rate.
 */
import { hash } from "node:crypto";
import { join } from "node:path";
import Database from "better-sqlite3";
import {
  ed25519NoteSigner,
  encodeLedgerLeaf,
  epochMs,
  LedgerLeafKind,
  verifyInclusion,
} from "@latchkey/protocol";
import { nodeEd25519 } from "@latchkey/protocol/node";
import {
  median,
  rateRounds,
  sampleMicrosAsync,
  summarize,
  type BenchResult,
  type BenchSuite,
} from "../../../bench/harness.js";
import {
  Ledger,
  nodeMerkleHasher,
  SqliteLedgerStore,
  type InclusionProof,
  type LeafInput,
} from "../src/ledger/index.js";
import { sampleLeaf, TEST_HUB_SEED, TEST_ORIGIN } from "../src/ledger/test-fixtures.js";

const fmtN = (n: number): string => (n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1000}k`);

async function openLedger(
  path: string,
): Promise<{ db: Database.Database; ledger: Ledger; store: SqliteLedgerStore }> {
  const db = new Database(path);
  const store = new SqliteLedgerStore(db);
  const ledger = await Ledger.open({
    store,
    origin: TEST_ORIGIN,
    signer: ed25519NoteSigner(TEST_ORIGIN, TEST_HUB_SEED, nodeEd25519),
    ed: nodeEd25519,
    checkpointEvery: { entries: Number.MAX_SAFE_INTEGER },
  });
  return { db, ledger, store };
}

/**
 * Bulk-load input: canonical heartbeat leaves made by patching `lastSeq` into one encoded
 * template (a valid leaf each), hashed with the ledger's hasher, appended through the store in
 * one durable transaction per chunk — the same code path as Ledger.appendMany minus building
 * and encoding leaf objects one by one.
 */
const HEARTBEAT = encodeLedgerLeaf({
  kind: LedgerLeafKind.Heartbeat,
  hubTimeMs: epochMs(1_700_000_000_000),
  lockId: Uint8Array.from({ length: 16 }, (_, i) => i),
  lastSeq: 0,
  headHash: new Uint8Array(32),
  online: true,
});
const LAST_SEQ_OFFSET = 23 + 1 + 8 + 16; // tag, kind, hubTimeMs, lockId
function bulkInputs(start: number, n: number): { inputs: LeafInput[]; hashes: Uint8Array[] } {
  const inputs: LeafInput[] = new Array<LeafInput>(n);
  const hashes: Uint8Array[] = new Array<Uint8Array>(n);
  for (let j = 0; j < n; j++) {
    const data = HEARTBEAT.slice();
    new DataView(data.buffer).setUint32(LAST_SEQ_OFFSET + 4, start + j);
    inputs[j] = {
      kind: LedgerLeafKind.Heartbeat,
      data,
      lockId: "000102030405060708090a0b0c0d0e0f",
      appendedAt: 0,
    };
    hashes[j] = nodeMerkleHasher.hashLeaf(data);
  }
  return { inputs, hashes };
}

const suite: BenchSuite = {
  name: "ledger",
  async run(ctx) {
    const results: BenchResult[] = [];
    const sample = encodeLedgerLeaf(sampleLeaf(1));

    // Reference 1: raw SHA-256 over a leaf-sized input.
    const shaRate = median(
      rateRounds(() => hash("sha256", sample, "buffer"), 1, ctx.quick ? 3 : 5, ctx.quick ? 100 : 300),
    );
    ctx.log(`raw SHA-256 (${sample.length} B): ${shaRate.toFixed(0)}/s`);

    // Reference 2: raw durable SQLite insert of the same bytes, one row per transaction.
    const rawDb = new Database(join(ctx.tmpDir, "raw.db"));
    rawDb.pragma("journal_mode = WAL");
    rawDb.pragma("synchronous = FULL");
    rawDb.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, data BLOB NOT NULL)");
    const ins = rawDb.prepare("INSERT INTO t (data) VALUES (?)");
    const rawInsert = rawDb.transaction((b: Uint8Array) => ins.run(b));
    const rawRates = rateRounds(() => rawInsert(sample), 1, ctx.quick ? 3 : 5, ctx.quick ? 200 : 1000);
    rawDb.close();
    const rawRate = median(rawRates);
    ctx.log(`raw durable SQLite insert: ${rawRate.toFixed(0)}/s`);

    // Durable single appends through the ledger.
    {
      const { db, ledger } = await openLedger(join(ctx.tmpDir, "append.db"));
      let i = 0;
      const rates: number[] = [];
      for (let round = 0; round < 5; round++) {
        const t0 = performance.now();
        let n = 0;
        while (performance.now() - t0 < (ctx.quick ? 200 : 1000)) {
          await ledger.append(sampleLeaf(i++));
          n++;
        }
        rates.push((n * 1000) / (performance.now() - t0));
      }
      const s = summarize(rates);
      results.push({
        name: "durable append, 1 leaf per transaction (SQLite, synchronous=FULL); ratio = ledger / raw insert",
        unit: "leaves/s",
        median: s.median,
        p99: null,
        reference: { name: "raw durable SQLite insert of the same bytes", median: rawRate, unit: "rows/s" },
        ratio: s.median / rawRate,
      });
      const group: number[] = [];
      for (let round = 0; round < 5; round++) {
        const batch = Array.from({ length: 100 }, () => sampleLeaf(i++));
        const t0 = performance.now();
        await ledger.appendMany(batch);
        group.push((100 * 1000) / (performance.now() - t0));
      }
      results.push({
        name: "durable append, group commit of 100 leaves (SQLite); ratio = ledger / raw SHA-256",
        unit: "leaves/s",
        median: median(group),
        p99: null,
        reference: { name: "raw SHA-256", median: shaRate, unit: "hashes/s" },
        ratio: median(group) / shaRate,
      });
      db.close();
    }

    // Large trees: bulk load, then proofs.
    const sizes = ctx.quick ? [10_000, 50_000] : [1_000_000, 10_000_000];
    const label = ctx.quick ? " (--quick: 10k/50k instead of 1M/10M)" : "";
    const { db, ledger, store } = await openLedger(join(ctx.tmpDir, "big.db"));
    const pointRead = db.prepare("SELECT hash FROM ledger_node WHERE id = ?").pluck();
    let loaded = 0;
    let verifyProofs: InclusionProof[] = [];
    let verifyRoot: Uint8Array = new Uint8Array(0);
    for (const size of sizes) {
      const CHUNK = 100_000;
      const t0 = performance.now();
      const start = loaded;
      while (loaded < size) {
        const n = Math.min(CHUNK, size - loaded);
        const { inputs, hashes } = bulkInputs(loaded, n);
        await store.append(inputs, hashes, nodeMerkleHasher);
        loaded += n;
      }
      const loadRate = ((loaded - start) * 1000) / (performance.now() - t0);
      ctx.log(`bulk-loaded to ${fmtN(size)} leaves at ${loadRate.toFixed(0)} leaves/s`);
      results.push({
        name: `bulk load to ${fmtN(size)} leaves, 100k leaves per transaction${label}; ratio = load / raw SHA-256`,
        unit: "leaves/s",
        median: loadRate,
        p99: null,
        reference: { name: "raw SHA-256", median: shaRate, unit: "hashes/s" },
        ratio: loadRate / shaRate,
      });

      const readSamples = [];
      for (let k = 0; k < 2000; k++) {
        const id = Math.floor(Math.random() * size);
        const t = process.hrtime.bigint();
        pointRead.get(id);
        readSamples.push(Number(process.hrtime.bigint() - t) / 1000);
      }
      const readMedian = summarize(readSamples).median;
      const proofs = await sampleMicrosAsync(
        async () => {
          await ledger.inclusionProof(Math.floor(Math.random() * size), size);
        },
        ctx.quick ? 500 : 2000,
        50,
      );
      const ps = summarize(proofs);
      results.push({
        name: `inclusion proof generation at ${fmtN(size)} leaves${label}; ratio = proof / one point read`,
        unit: "µs",
        median: ps.median,
        p99: ps.p99,
        reference: { name: "raw SQLite point read of one node", median: readMedian, unit: "µs" },
        ratio: ps.median / readMedian,
      });
      if (size === sizes[sizes.length - 1]) {
        const cons = await sampleMicrosAsync(
          async () => {
            await ledger.consistencyProof(1 + Math.floor(Math.random() * (size - 1)), size);
          },
          ctx.quick ? 300 : 1000,
          20,
        );
        const cs = summarize(cons);
        results.push({
          name: `consistency proof generation to ${fmtN(size)} leaves${label}; ratio = proof / one point read`,
          unit: "µs",
          median: cs.median,
          p99: cs.p99,
          reference: { name: "raw SQLite point read of one node", median: readMedian, unit: "µs" },
          ratio: cs.median / readMedian,
        });
        verifyProofs = [];
        for (let k = 0; k < 200; k++)
          verifyProofs.push(await ledger.inclusionProof(Math.floor(Math.random() * size), size));
        verifyRoot = await ledger.root(size);
      }
    }
    db.close();

    // Verification rate (node:crypto hasher), each proof ≈ log2(n) hashes; the SHA-256 reference
    // is measured again right here, so a change in machine load between phases does not skew it.
    const shaRateNow = median(
      rateRounds(() => hash("sha256", sample, "buffer"), 1, ctx.quick ? 3 : 5, ctx.quick ? 100 : 300),
    );
    let k = 0;
    const vRate = median(
      rateRounds(
        () => {
          const p = verifyProofs[k++ % verifyProofs.length] as InclusionProof;
          verifyInclusion(nodeMerkleHasher, p.index, p.size, p.leafHash, p.hashes, verifyRoot);
        },
        1,
        5,
        ctx.quick ? 200 : 1000,
      ),
    );
    const avgLen = verifyProofs.reduce((n, p) => n + p.hashes.length, 0) / Math.max(1, verifyProofs.length);
    results.push({
      name: `inclusion proof verification at ${fmtN(sizes[sizes.length - 1] as number)} leaves (${avgLen.toFixed(1)} hashes per proof)${label}; ratio = verifications / raw SHA-256`,
      unit: "proofs/s",
      median: vRate,
      p99: null,
      reference: { name: "raw SHA-256", median: shaRateNow, unit: "hashes/s" },
      ratio: vRate / shaRateNow,
    });
    return results;
  },
};

export default suite;
