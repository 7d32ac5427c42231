/**
 * Door activity over a long history (SQLite, the embedded default): one site whose door has a
 * million lock-signed events (10,000 with --quick; BENCH_ACTIVITY_EVENTS sets it), ingested
 * through the real ingestor. Times the reads the web app's windowed list makes, through
 * `querySiteEvents` (the route's work without HTTP): the newest page with the whole-history count,
 * a page at the middle and at the end (offset, pinned), and each filter with its count.
 *
 * Reference, same run: reading the same 100 records straight from the ledger by index range —
 * what a page costs with no lookup at all. Also reports the database files' size per event.
 */
import { statSync } from "node:fs";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { EventKind } from "@latchkey/protocol";
import { sampleMicrosAsync, summarize, type BenchResult, type BenchSuite } from "../../../bench/harness.js";
import { openSqliteIngest } from "../src/ingest/test-ingest.js";
import { querySiteEvents, type EventQuery } from "../src/events/query.js";
import { seedHistory } from "../src/ingest/test-history.js";

const PAGE = 100;

const suite: BenchSuite = {
  name: "door activity over a long history",
  async run(ctx) {
    // Seeding (every event verified on ingestion) is nearly all of the suite's time: --quick keeps
    // the history long enough for offsets and counts to cost something and stays within its share.
    const count = Number(process.env.BENCH_ACTIVITY_EVENTS ?? (ctx.quick ? 10_000 : 1_000_000));
    const samples = ctx.quick ? 15 : 31;
    const { hubLedger, ingestor, close } = await openSqliteIngest({
      dataDir: ctx.tmpDir,
      publicUrl: "http://bench.test",
      checkpointEntries: 100_000,
    });
    const results: BenchResult[] = [];
    try {
      const db = hubLedger.db;
      const now = Date.now();
      const siteId = randomUUID();
      const doorId = randomUUID();
      const personId = randomUUID();
      await db
        .insertInto("sites")
        .values({ id: siteId, name: "Bench", timezone: "UTC", created_at: now })
        .execute();
      await db
        .insertInto("doors")
        .values({
          id: doorId,
          site_id: siteId,
          name: "Front",
          lock_id: null,
          lock_public_key: null,
          created_at: now,
        })
        .execute();
      await db
        .insertInto("people")
        .values({
          id: personId,
          site_id: siteId,
          name: "Resident",
          email: null,
          phone: null,
          created_at: now,
        })
        .execute();
      const t0 = performance.now();
      // Slot 9 belongs to the resident from the start, so their unlocks carry their person id.
      const history = await seedHistory(db, ingestor, {
        siteId,
        doorId,
        count,
        now,
        label: "bench",
        beforeIngest: async (lockId) => {
          await db
            .insertInto("lock_users")
            .values({
              lock_id: lockId,
              person_id: personId,
              user_index: 9,
              desired_json: null,
              applied_json: null,
              updated_at: now,
            })
            .execute();
        },
      });
      const seedMs = performance.now() - t0;
      const files = ["latchkey.sqlite", "ledger.sqlite"].map((f) => {
        try {
          return statSync(join(ctx.tmpDir, f)).size;
        } catch {
          return 0;
        }
      });
      ctx.log(
        `${count} events signed and ingested in ${(seedMs / 1000).toFixed(1)} s (${Math.round((count * 1000) / seedMs)}/s); ` +
          `hub database ${(files[0]! / 2 ** 20).toFixed(0)} MiB, ledger ${(files[1]! / 2 ** 20).toFixed(0)} MiB ` +
          `(${((files[0]! + files[1]!) / count).toFixed(0)} bytes per event)`,
      );

      const ledger = hubLedger.ledger;
      const first = await querySiteEvents(db, ledger, { siteId, limit: PAGE, count: true });
      if (first.total !== count || first.top === null) throw new Error(`counted ${first.total} of ${count}`);
      const pin = first.top + 1;
      const time = async (q: Omit<EventQuery, "siteId" | "limit">, expect: number) => {
        const us = await sampleMicrosAsync(
          async () => {
            const page = await querySiteEvents(db, ledger, { siteId, limit: PAGE, ...q });
            if (page.items.length !== expect) throw new Error(`${page.items.length} items, not ${expect}`);
          },
          samples,
          3,
        );
        return summarize(us.map((u) => u / 1000));
      };
      // Reference: the same number of records read straight from the ledger, mid-history.
      const mid = Math.floor(count / 2);
      const refMs = summarize(
        (
          await sampleMicrosAsync(
            async () => {
              const e = await ledger.entries(mid, mid + PAGE);
              if (e.length !== PAGE) throw new Error("short ledger read");
            },
            samples,
            3,
          )
        ).map((u) => u / 1000),
      );
      const reference = {
        name: `ledger read of ${PAGE} records by index range`,
        median: refMs.median,
        unit: "ms",
      };
      const windowFrom = history.firstAt + Math.floor(count * 0.9) * 1000;
      const cases: [string, Omit<EventQuery, "siteId" | "limit">, number][] = [
        ["newest page + count of all", { count: true }, PAGE],
        ["page at the middle (offset, pinned)", { offset: mid, before: pin }, PAGE],
        ["last page (offset, pinned)", { offset: count - PAGE, before: pin }, PAGE],
        ["refusals only, + count", { kinds: [EventKind.LockOperationError], count: true }, PAGE],
        [
          "refusals only, middle",
          { kinds: [EventKind.LockOperationError], offset: Math.floor(count / 14), before: pin },
          PAGE,
        ],
        ["one person, + count", { personId, count: true }, PAGE],
        ["one door, middle", { doorId, offset: mid, before: pin }, PAGE],
        ["last 10% of the time, + count", { from: windowFrom, count: true }, PAGE],
      ];
      for (const [name, q, n] of cases) {
        const r = await time(q, n);
        ctx.log(`${name}: median ${r.median.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms`);
        results.push({
          name: `door activity, ${count.toLocaleString("en-GB")} events: ${name} (${PAGE} rows; ratio = page / ledger read)`,
          unit: "ms",
          median: r.median,
          p99: r.p99,
          reference,
          ratio: r.median / refMs.median,
        });
      }
    } finally {
      await close();
    }
    return results;
  },
};

export default suite;
