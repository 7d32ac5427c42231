/**
 * Crash test: a child process appends to a real journal file and is killed with SIGKILL at random
 * moments, again and again. After every kill the parent reopens the journal and checks that
 *  - the whole chain verifies (signatures, links, gapless seq from 1);
 *  - every event the child reported as written (printed after append returned) is present, with
 *    the hash the child printed;
 *  - a cut tail was recorded: a JournalRecovered event sits exactly where the good part ended and
 *    names the number of bytes dropped.
 * Half the runs write frames in small pieces with pauses (fault injection), so kills also land
 * mid-frame the way a power cut can. Two journals are crashed in parallel to keep the test short.
 * The child moves the start-up anchor every few appends, so kills also land between an append and
 * its anchor write and in the middle of one: every reopen after the first must start from a valid
 * anchor and verify only the few records after it — and still pass every check above (the full
 * chain is verified here independently, from the records read back).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { EventKind, toHex, verifyJournalRecords } from "@latchkey/protocol";
import { nodeEd25519 } from "@latchkey/protocol/node";
import { afterAll, describe, expect, it } from "vitest";
import {
  FileJournal,
  FRAME_OVERHEAD_BYTES,
  JOURNAL_FILE_NAME,
  JOURNAL_HEADER_BYTES,
} from "./file-journal.js";

const CHILD = fileURLToPath(new URL("./crash-child.ts", import.meta.url));
const SEED = new Uint8Array(32).fill(0x5a);
const PUB = nodeEd25519.publicKey(SEED);
const LANES = 2;
const KILLS_PER_LANE = 25;
const CHILD_ANCHOR_EVERY = 3;

/** Small deterministic PRNG (mulberry32) so a failing run can be replayed from its printed seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface ChildRun {
  readySeq: number | null;
  written: [number, string][];
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Start the child, let it report `minEvents` events, wait a random few ms more, SIGKILL it. */
function runChildUntilKilled(
  dir: string,
  torn: boolean,
  minEvents: number,
  extraDelayMs: number,
): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", CHILD, dir, torn ? "torn" : "plain"], {
      env: {
        ...process.env,
        LATCHKEY_CRASH_TEST_SEED: toHex(SEED),
        LATCHKEY_CRASH_TEST_ANCHOR_EVERY: String(CHILD_ANCHOR_EVERY),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let stderr = "";
    let killScheduled = false;
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      out += chunk;
      if (!killScheduled && out.split("\n").length - 2 >= minEvents) {
        killScheduled = true;
        setTimeout(() => child.kill("SIGKILL"), extraDelayMs);
      }
    });
    child.stderr.on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (_code, signal) => {
      const run: ChildRun = { readySeq: null, written: [], signal, stderr };
      // Only complete lines count: a line cut by the kill was not fully reported.
      for (const line of out.split("\n").slice(0, -1)) {
        const [a, b] = line.split(" ");
        if (a === "ready") run.readySeq = Number(b);
        else run.written.push([Number(a), b ?? ""]);
      }
      resolve(run);
    });
  });
}

interface LaneReport {
  kills: number;
  recoveries: number;
  tornRuns: number;
  events: number;
  anchoredOpens: number;
}

async function crashLane(dir: string, seed: number): Promise<LaneReport> {
  const random = prng(seed);
  const reported = new Map<number, string>();
  const report: LaneReport = { kills: 0, recoveries: 0, tornRuns: 0, events: 0, anchoredOpens: 0 };
  let expectedNext = 1;
  for (let run = 0; run < KILLS_PER_LANE; run++) {
    const torn = random() < 0.5;
    const where = `lane seed ${seed}, run ${run} (${torn ? "torn" : "plain"})`;
    const child = await runChildUntilKilled(
      dir,
      torn,
      1 + Math.floor(random() * 12),
      Math.floor(random() * 8),
    );
    expect(child.signal, `${where}: child must die by SIGKILL, stderr: ${child.stderr}`).toBe("SIGKILL");
    expect(child.readySeq, `${where}: child opened at the next seq`).toBe(expectedNext);
    for (const [seq, hash] of child.written) reported.set(seq, hash);
    report.kills++;
    if (torn) report.tornRuns++;

    const sizeBefore = statSync(join(dir, JOURNAL_FILE_NAME)).size;
    const journal = FileJournal.open({ dir, signingSeed: SEED });
    try {
      // A kill never leaves an anchor that cannot be trusted (it only names synced records and is
      // renamed into place whole); after the first run there always is one, close to the end.
      expect(journal.startup.anchorRejected, `${where}: anchor trusted`).toBeNull();
      if (journal.startup.anchorSeq !== null) {
        report.anchoredOpens++;
        expect(journal.startup.verifiedRecords, `${where}: only the tail verified`).toBeLessThanOrEqual(
          2 * CHILD_ANCHOR_EVERY + 1,
        );
      } else {
        expect(run, `${where}: anchored open`).toBe(0);
      }
      const records = journal.readRecords(1);
      const result = verifyJournalRecords(records, { publicKey: PUB, ed25519: nodeEd25519 });
      expect(result.fault, `${where}: chain verifies`).toBeNull();
      const events = result.events;
      for (const [seq, hash] of reported) {
        expect(
          events[seq - 1] && toHex(events[seq - 1]!.hash),
          `${where}: reported seq ${seq} present and intact`,
        ).toBe(hash);
      }
      const recovery = journal.recovery;
      if (recovery !== null) {
        report.recoveries++;
        const last = events[events.length - 1]!;
        expect(last.kind).toBe(EventKind.JournalRecovered);
        expect(toHex(last.hash)).toBe(toHex(recovery.event.hash));
        // The recovery event starts exactly where the last complete frame ended.
        const goodEnd = records
          .slice(0, -1)
          .reduce((at, r) => at + r.length + FRAME_OVERHEAD_BYTES, JOURNAL_HEADER_BYTES);
        expect(recovery.offset, `${where}: cut at the end of the good part`).toBe(goodEnd);
        expect(last.details).toEqual({ droppedBytes: sizeBefore - goodEnd, reason: recovery.reason });
        expect(recovery.droppedBytes).toBeGreaterThan(0);
      }
      expectedNext = journal.nextSeq;
      report.events = events.length;
    } finally {
      journal.close();
    }
  }
  return report;
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("FileJournal crash safety", () => {
  it(`survives ${LANES * KILLS_PER_LANE} SIGKILLs at random moments without losing a reported event`, async () => {
    const baseSeed = Date.now() % 2 ** 31;
    const reports = await Promise.all(
      Array.from({ length: LANES }, (_, lane) => {
        const dir = mkdtempSync(join(tmpdir(), `latchkey-crash-${lane}-`));
        dirs.push(dir);
        return crashLane(dir, baseSeed + lane);
      }),
    );
    const total = reports.reduce(
      (sum, r) => ({
        kills: sum.kills + r.kills,
        recoveries: sum.recoveries + r.recoveries,
        tornRuns: sum.tornRuns + r.tornRuns,
        events: sum.events + r.events,
        anchoredOpens: sum.anchoredOpens + r.anchoredOpens,
      }),
      { kills: 0, recoveries: 0, tornRuns: 0, events: 0, anchoredOpens: 0 },
    );
    console.log(`crash test (seed ${baseSeed}): ${JSON.stringify(total)}`);
    expect(total.kills).toBeGreaterThanOrEqual(50);
    expect(total.anchoredOpens).toBeGreaterThanOrEqual(total.kills - LANES);
    // Torn-write runs spend most of each append between frame pieces: some kills must cut a frame.
    if (total.tornRuns >= 10) expect(total.recoveries).toBeGreaterThan(0);
  }, 120_000);
});
