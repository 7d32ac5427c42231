/**
 * Event ingestion benchmark (SQLite, durable: WAL + synchronous=FULL on the ledger and the hub
 * database). Signed lock events arrive in batches of 100; each batch is verified (decode, lock id,
 * Ed25519 signature, hash link), appended to the ledger, and the lock's cursor advanced — three
 * durable commits per batch (intent, ledger, cursor) — before the acknowledgement. Reported as
 * events/s (median and p1 of per-batch rates) against the raw node:crypto Ed25519 verify rate
 * measured in the same run: the ratio says how close ingestion gets to "just checking the
 * signatures".
 */
import { nodeEd25519 } from "@latchkey/protocol/node";
import { percentile, rateRounds, type BenchResult, type BenchSuite } from "../../../bench/harness.js";
import { openSqliteIngest } from "../src/ingest/test-ingest.js";
import { registerLock } from "../src/ingest/locks.js";
import { TestJournal } from "../src/ingest/test-journal.js";

const BATCH = 100;

const suite: BenchSuite = {
  name: "hub event ingestion",
  async run(ctx) {
    const batches = ctx.quick ? 30 : 300;
    const journal = TestJournal.named("bench");
    journal.appendMany(batches * BATCH);

    // Reference: raw node:crypto Ed25519 verification of one journal-sized record, same run.
    const record = journal.records[0] as Uint8Array;
    const signature = nodeEd25519.sign(journal.seed, record);
    const verifyRates = rateRounds(
      () => {
        if (!nodeEd25519.verify(journal.publicKey, record, signature)) throw new Error("verify failed");
      },
      1,
      ctx.quick ? 5 : 9,
      ctx.quick ? 150 : 400,
    );
    const verifyRate = percentile(
      [...verifyRates].sort((a, b) => a - b),
      50,
    );

    const { hubLedger, ingestor, close } = await openSqliteIngest({
      dataDir: ctx.tmpDir,
      publicUrl: "http://bench.test",
      checkpointEntries: 256,
    });
    await registerLock(hubLedger.db, { signingPublicKey: journal.publicKey, commissionedAt: Date.now() });
    const rates: number[] = [];
    try {
      for (let b = 0; b < batches; b++) {
        const slice = journal.records.slice(b * BATCH, (b + 1) * BATCH);
        const t0 = performance.now();
        const res = await ingestor.ingestBatch(journal.identity, slice);
        const ms = performance.now() - t0;
        if (res.appended !== BATCH) throw new Error(`batch ${b}: appended ${res.appended}`);
        rates.push((BATCH * 1000) / ms);
      }
    } finally {
      await close();
    }
    const sorted = [...rates].sort((a, b) => a - b);
    const median = percentile(sorted, 50);
    ctx.log(
      `ingest ${batches}×${BATCH} events: median ${Math.round(median)} events/s; ` +
        `node:crypto Ed25519 verify ${Math.round(verifyRate)}/s`,
    );
    const result: BenchResult = {
      name: "signed event ingestion, batches of 100, SQLite durable (events/s; p99 = slowest 1% of batches)",
      unit: "events/s",
      median,
      p99: percentile(sorted, 1),
      reference: { name: "node:crypto Ed25519 verify", median: verifyRate, unit: "verifies/s" },
      ratio: median / verifyRate,
    };
    return [result];
  },
};

export default suite;
