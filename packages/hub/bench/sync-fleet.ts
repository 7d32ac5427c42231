/**
 * Child process of sync.bench.ts: virtual locks (`startFleet`, as `latchkey sim` runs them) in a
 * process of their own, so the hub's CPU and memory figures in the bench process hold no lock.
 * Driven over the IPC channel (never the console; setup codes are secrets):
 *
 *  - { op: "wave", count }     starts `count` more locks (a new fleet directory) and answers
 *                              { op: "wave", locks: [{ lockId, setupCode }] } once they all wait;
 *  - { op: "connected", count } answers { op: "connected" } once that many locks are online as
 *                              themselves (commissioned);
 *  - { op: "events", perLock } has every commissioned lock sign `perLock` events (door opened /
 *                              closed), lock after lock while still serving the hub, and answers
 *                              { op: "events", ms } with the time it took;
 *  - { op: "rss" }             answers { op: "rss", rss } (bytes);
 *  - { op: "stop" }            stops every lock and exits.
 *
 * argv: <broker url> <dir> <pbkdf2 iterations>.
 */
import { join } from "node:path";
import { startFleet, type Fleet } from "../src/sim/fleet.js";

type Command =
  | { op: "wave"; count: number }
  | { op: "connected"; count: number }
  | { op: "events"; perLock: number }
  | { op: "rss" }
  | { op: "stop" };

const [url, dir, iterations] = process.argv.slice(2);
if (url === undefined || dir === undefined || process.send === undefined) {
  console.error("usage: sync-fleet.ts <broker url> <dir> <pbkdf2 iterations> (with an IPC channel)");
  process.exit(2);
}
const send = (m: unknown): void => void process.send?.(m);
const fleets: Fleet[] = [];
const connected = (): number => fleets.reduce((n, f) => n + f.counts().connected, 0);

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 50));
}

async function handle(c: Command): Promise<void> {
  switch (c.op) {
    case "wave": {
      const fleet = await startFleet({
        count: c.count,
        dir: join(dir ?? "", `wave-${fleets.length + 1}`),
        url: url ?? "",
        commissioning: { pbkdf2Iterations: Number(iterations ?? 1000) },
        concurrency: 100,
        announceEveryMs: 1000,
        reconnectPeriodMs: 1000,
        maxRetryMs: 2000,
      });
      fleets.push(fleet);
      await until(() => fleet.counts().waiting === c.count);
      send({
        op: "wave",
        locks: fleet.locks.map((l) => ({ lockId: l.lockId, setupCode: l.setupCode })),
      });
      return;
    }
    case "connected":
      await until(() => connected() >= c.count);
      send({ op: "connected" });
      return;
    case "events": {
      const t0 = performance.now();
      for (const f of fleets)
        for (const l of f.locks) {
          if (!l.isCommissioned) continue;
          for (let i = 0; i < c.perLock; i++) {
            if (i % 2 === 0) l.lock.openDoor();
            else l.lock.closeDoor();
          }
          // One lock at a time, as locks would: signing every lock's events in one go would
          // freeze this process for seconds, and the hub's requests to all its locks time out.
          await new Promise((r) => setImmediate(r));
        }
      send({ op: "events", ms: performance.now() - t0 });
      return;
    }
    case "rss":
      globalThis.gc?.();
      send({ op: "rss", rss: process.memoryUsage().rss });
      return;
    case "stop":
      for (const f of fleets) await f.stop();
      process.exit(0);
  }
}

process.on("message", (m: Command) => {
  handle(m).catch((e: unknown) => {
    send({ op: "error", message: e instanceof Error ? e.message : String(e) });
  });
});
process.on("disconnect", () => process.exit(0));
send({ op: "ready" });
