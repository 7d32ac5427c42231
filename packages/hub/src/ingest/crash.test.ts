/**
 * Crash safety of ingestion (SQLite, durable): a child process ingests a long journal and prints
 * each acknowledgement; it is killed with SIGKILL at random moments (at least ten times) and
 * restarted. At the end the ledger holds every event exactly once, in order, and every ack that
 * was printed is covered (same seq and hash), so an acknowledged event is never lost and a
 * resent one never duplicated.
 */
import { describe, it, expect } from "vitest";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { LedgerLeafKind, toHex } from "@latchkey/protocol";
import { lockCursor } from "./locks.js";
import { openSqliteIngest } from "./test-ingest.js";
import { TestJournal } from "./test-journal.js";

const CHILD = fileURLToPath(new URL("./crash-child.ts", import.meta.url));
const EVENTS = 1200;
const LOCK = "crash-lock";

interface Run {
  readonly acks: { seq: number; hash: string }[];
  readonly done: boolean;
  readonly killed: boolean;
}

/** Runs the child; kills it after `killAfterAcks` acks (plus a random few ms), or lets it finish. */
function runChild(dataDir: string, killAfterAcks: number | null): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", CHILD, dataDir, String(EVENTS), LOCK], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const acks: { seq: number; hash: string }[] = [];
    let done = false;
    let killed = false;
    let buffered = "";
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stdout.on("data", (d: Buffer) => {
      buffered += d.toString();
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        const m = /^ACK (\d+) ([0-9a-f]{64})$/.exec(line);
        if (m !== null) acks.push({ seq: Number(m[1]), hash: m[2] as string });
        if (line === "DONE") done = true;
        if (m !== null && killAfterAcks !== null && acks.length === killAfterAcks && !killed) {
          killed = true;
          setTimeout(() => child.kill("SIGKILL"), Math.floor(Math.random() * 15));
        }
      }
    });
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      if (signal === "SIGKILL" || code === 0) resolve({ acks, done, killed: signal === "SIGKILL" });
      else reject(new Error(`child exited ${code} ${signal}: ${stderr}`));
    });
  });
}

describe("ingestion crash safety (kill -9)", () => {
  it("keeps every acknowledged event, exactly once and in order, across SIGKILLs", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "latchkey-ingest-crash-"));
    try {
      const printed: { seq: number; hash: string }[] = [];
      let kills = 0;
      for (let attempt = 0; kills < 10 && attempt < 20; attempt++) {
        const run = await runChild(dataDir, 1 + Math.floor(Math.random() * 3));
        printed.push(...run.acks);
        if (run.killed) kills++;
        if (run.done) break;
      }
      expect(kills).toBeGreaterThanOrEqual(10);
      const last = await runChild(dataDir, null);
      printed.push(...last.acks);
      expect(last.done).toBe(true);

      const journal = TestJournal.named(LOCK);
      journal.appendMany(EVENTS);
      const { hubLedger, close } = await openSqliteIngest({
        dataDir,
        publicUrl: "http://crash.test",
        checkpointEntries: 64,
      });
      try {
        const l = hubLedger.ledger;
        const leaves = (await l.entries(0, await l.size())).flatMap((e) =>
          e.leaf.kind === LedgerLeafKind.LockEvent ? [toHex(e.leaf.record)] : [],
        );
        expect(leaves.length).toBe(EVENTS);
        expect(leaves).toEqual(journal.records.map(toHex));
        for (const ack of printed) {
          expect(ack.hash, `ack of seq ${ack.seq}`).toBe(
            toHex(journal.events[ack.seq - 1]?.hash ?? new Uint8Array()),
          );
        }
        expect(printed.length).toBeGreaterThan(10);
        expect((await lockCursor(hubLedger.db, journal.id)).seq).toBe(EVENTS);
        expect((await l.audit()).ok).toBe(true);
      } finally {
        await close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
