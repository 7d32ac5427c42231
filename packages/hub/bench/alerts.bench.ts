/**
 * Alert latency: from a lock's signed alarm arriving at the hub to its notification reaching a
 * receiver. A whole hub runs in this process (SQLite, durable) with one Standard Webhooks channel
 * to a local HTTP receiver; each sample hands the ingestor one signed `Alarm: DoorForcedOpen`
 * event (verify, ledger, cursor, alert and outbox rows in one transaction) and times until the
 * receiver has the signed POST. Reference, same run: the ingestion of that event alone (until
 * the ingestor answers), so the ratio is what telling someone adds to sealing the event.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { AlarmCode, EventKind } from "@latchkey/protocol";
import { summarize, type BenchResult, type BenchSuite } from "../../../bench/harness.js";
import { buildHub } from "../src/server/app.js";
import { parseConfig } from "../src/config/config.js";
import { registerLock } from "../src/ingest/locks.js";
import { TestJournal } from "../src/ingest/test-journal.js";
import { addChannel } from "../src/outbound/channels-store.js";

const suite: BenchSuite = {
  name: "alert latency (lock alarm → notification)",
  async run(ctx) {
    const samples = ctx.quick ? 25 : 200;
    const arrived = new Map<number, number>();
    let waiting: { seq: number; resolve: () => void } | null = null;
    const receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const at = performance.now();
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { data: Record<string, unknown> };
        const seq = Number(body.data["detail.seq"]);
        arrived.set(seq, at);
        res.statusCode = 204;
        res.end();
        if (waiting?.seq === seq) waiting.resolve();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/alerts`;

    const hub = await buildHub({
      ...parseConfig([], {}),
      dataDir: ctx.tmpDir,
      publicUrl: "http://bench.local:8080",
      logLevel: "silent",
    });
    const journal = TestJournal.named("alert-bench");
    const ingestMs: number[] = [];
    const alertMs: number[] = [];
    try {
      await registerLock(hub.ledger.db, { signingPublicKey: journal.publicKey, commissionedAt: Date.now() });
      await addChannel(
        hub.ctx,
        // Every sample is the same alarm of the same lock: no de-duplication, no hourly limit here.
        { kind: "webhook", name: "bench", settings: { url }, dedupeMinutes: 0, maxPerHour: 1000 },
        { accountId: null, ip: "bench" },
      );
      for (let i = 0; i < samples + 5; i++) {
        const record = journal.append(EventKind.Alarm, { alarm: AlarmCode.DoorForcedOpen });
        const seq = journal.events.length;
        const delivered = new Promise<void>((resolve) => {
          waiting = { seq, resolve };
          if (arrived.has(seq)) resolve();
        });
        const t0 = performance.now();
        const res = await hub.ingestor.ingestBatch(journal.identity, [record]);
        const t1 = performance.now();
        if (res.appended !== 1) throw new Error(`sample ${i}: appended ${res.appended}`);
        const timeout = setTimeout(() => waiting?.resolve(), 10_000);
        await delivered;
        clearTimeout(timeout);
        const at = arrived.get(seq);
        if (at === undefined) throw new Error(`sample ${i}: no notification within 10 s`);
        // The first few warm up the code paths and the receiver's connection handling.
        if (i < 5) continue;
        ingestMs.push(t1 - t0);
        alertMs.push(at - t0);
      }
    } finally {
      await hub.close();
      await new Promise((resolve) => receiver.close(resolve));
    }
    const alert = summarize(alertMs);
    const ingest = summarize(ingestMs);
    ctx.log(
      `${samples} alarms: notification received ${alert.median.toFixed(1)} ms after arrival (p99 ${alert.p99.toFixed(1)}); ` +
        `the event alone sealed in ${ingest.median.toFixed(1)} ms`,
    );
    const result: BenchResult = {
      name: "alert latency: signed alarm in → signed webhook received, SQLite durable (ratio = ÷ ingestion of that event)",
      unit: "ms",
      median: alert.median,
      p99: alert.p99,
      reference: {
        name: "ingestion of the alarm event (verify, ledger, alert, outbox)",
        median: ingest.median,
        unit: "ms",
      },
      ratio: alert.median / ingest.median,
    };
    return [result];
  },
};

export default suite;
