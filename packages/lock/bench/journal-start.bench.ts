/**
 * Lock start-up after a power loss: FileJournal.open of a long journal (issue 22). The journal is
 * generated once per run in the suite's tmp dir — 25,000 events in quick mode, 100,000 and
 * 1,000,000 in full mode (signing 1 M events takes ~2 minutes on 2 cores) — with its start-up
 * anchor 255 events before the end: the most a crash leaves unanchored with the default
 * anchorEvery (256), so every open measured here is the worst case. The anchor file is put back before each
 * open (an open moves it to the end).
 * References, measured in the same run, interleaved with the opens:
 *  - reading every byte of the file (1 MiB reads): what any open that looks at the whole file costs;
 *  - node:crypto Ed25519 verify of the 256 records open verifies (the anchored one and the tail);
 *  - the memory an open journal holds, against the file's size.
 * Full mode also times one open without the anchor (full verification, the old start-up) of the
 * 100,000-event journal, once: at ~8k events/s it takes seconds (minutes for 1 M).
 */
import { createPublicKey, verify } from "node:crypto";
import {
  closeSync,
  fstatSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { EventKind, lockEventSigningInput, type EpochMs } from "@latchkey/protocol";
import { median, type BenchResult, type BenchSuite } from "../../../bench/harness.js";
import {
  FileJournal,
  frameJournalRecord,
  JOURNAL_ANCHOR_FILE_NAME,
  JOURNAL_FILE_NAME,
  JOURNAL_HEADER_BYTES,
  writeJournalAnchor,
  type JournalAnchor,
} from "../src/journal/file-journal.js";
import type { JournalEntryInput } from "../src/journal/journal.js";
import { EventSealer } from "../src/journal/sealer.js";

const SEED = new Uint8Array(32).fill(0x6b);
const SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");
const UNANCHORED = 255;
const TIME = 1_767_225_600_000 as EpochMs;
const UNLOCK: JournalEntryInput = {
  kind: EventKind.LockOperation,
  actor: { userIndex: 3, credentialType: "PIN", credentialIndex: 1 },
  details: { operation: "Unlock", source: "Keypad" },
};
const HEARTBEAT: JournalEntryInput = {
  kind: EventKind.Heartbeat,
  details: { battery: 90, lockState: "Locked" },
};

/** Write `count` signed events as a running lock would have, and its anchor UNANCHORED before the end. */
function generateJournal(dir: string, count: number): { bytes: number; anchorFile: Uint8Array } {
  FileJournal.open({ dir, signingSeed: SEED }).close();
  let ms = 0;
  const sealer = new EventSealer({ signingSeed: SEED, monotonicMs: () => (ms += 1000) });
  const fd = openSync(join(dir, JOURNAL_FILE_NAME), "a");
  let offset = JOURNAL_HEADER_BYTES;
  let chunk: Uint8Array[] = [];
  let chunkBytes = 0;
  let anchor: JournalAnchor | null = null;
  const flush = (): void => {
    writeSync(fd, Buffer.concat(chunk));
    chunk = [];
    chunkBytes = 0;
  };
  for (let seq = 1; seq <= count; seq++) {
    const { event, record } = sealer.seal(seq % 4 === 0 ? UNLOCK : HEARTBEAT, TIME);
    const frame = frameJournalRecord(record);
    if (seq === count - UNANCHORED) anchor = { seq, offset, hash: event.hash };
    sealer.commit(event);
    chunk.push(frame);
    chunkBytes += frame.length;
    offset += frame.length;
    if (chunkBytes >= 8 << 20) flush();
  }
  flush();
  const bytes = fstatSync(fd).size;
  closeSync(fd);
  if (anchor === null) throw new Error("journal too short to anchor");
  writeJournalAnchor(dir, sealer, anchor);
  return { bytes, anchorFile: readFileSync(join(dir, JOURNAL_ANCHOR_FILE_NAME)) };
}

function readWholeFile(path: string): number {
  const fd = openSync(path, "r");
  const buf = new Uint8Array(1 << 20);
  let total = 0;
  for (let n = readSync(fd, buf, 0, buf.length, 0); n > 0; n = readSync(fd, buf, 0, buf.length, total))
    total += n;
  closeSync(fd);
  return total;
}

const suite: BenchSuite = {
  name: "lock journal start-up",
  run(ctx) {
    const results: BenchResult[] = [];
    // Generating (signing) the journal is nearly all of the time: --quick keeps one small size.
    const sizes = ctx.quick ? [25_000] : [100_000, 1_000_000];
    const rounds = ctx.quick ? 5 : 9;
    for (const count of sizes) {
      const label = count.toLocaleString("en");
      const dir = join(ctx.tmpDir, `journal-${count}`);
      const t0 = performance.now();
      const { bytes, anchorFile } = generateJournal(dir, count);
      const path = join(dir, JOURNAL_FILE_NAME);
      const anchorPath = join(dir, JOURNAL_ANCHOR_FILE_NAME);
      ctx.log(
        `${label} events, ${(bytes / 2 ** 20).toFixed(1)} MiB, generated in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
      );

      const openOnce = (): { ms: number; heldBytes: number } => {
        writeFileSync(anchorPath, anchorFile);
        const before = process.memoryUsage();
        const t = performance.now();
        const journal = FileJournal.open({ dir, signingSeed: SEED });
        const ms = performance.now() - t;
        const after = process.memoryUsage();
        const { startup } = journal;
        if (
          journal.nextSeq !== count + 1 ||
          startup.anchorSeq !== count - UNANCHORED ||
          startup.verifiedRecords !== UNANCHORED + 1
        ) {
          throw new Error(`unexpected open: ${JSON.stringify(startup)}, next seq ${journal.nextSeq}`);
        }
        journal.close();
        return { ms, heldBytes: after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers };
      };

      // The records the anchored open verifies, for the raw-verify reference.
      writeFileSync(anchorPath, anchorFile);
      const opened = FileJournal.open({ dir, signingSeed: SEED });
      const tail = opened.readRecords(count - UNANCHORED);
      const publicKey = opened.publicKey;
      opened.close();
      const keyObject = createPublicKey({
        key: Buffer.concat([SPKI_PREFIX, publicKey]),
        format: "der",
        type: "spki",
      });
      const signed = tail.map((r) => ({
        input: lockEventSigningInput(r.subarray(0, r.length - 64)),
        signature: r.subarray(r.length - 64),
      }));
      const rawVerify = (): number => {
        const t = performance.now();
        for (const s of signed)
          if (!verify(null, s.input, keyObject, s.signature)) throw new Error("raw verify");
        return performance.now() - t;
      };
      const readFile = (): number => {
        const t = performance.now();
        if (readWholeFile(path) !== bytes) throw new Error("short read");
        return performance.now() - t;
      };

      openOnce(); // warm-up: the first open pays for loading code
      const openMs: number[] = [];
      const held: number[] = [];
      const readMs: number[] = [];
      const verifyMs: number[] = [];
      for (let r = 0; r < rounds; r++) {
        const o = openOnce();
        openMs.push(o.ms);
        held.push(o.heldBytes);
        readMs.push(readFile());
        verifyMs.push(rawVerify());
      }
      const sorted = [...openMs].sort((a, b) => a - b);
      const worst = sorted[sorted.length - 1] ?? NaN;
      ctx.log(
        `open ${median(openMs).toFixed(1)} ms (max ${worst.toFixed(1)}); read file ${median(readMs).toFixed(1)} ms; verify ${signed.length} ${median(verifyMs).toFixed(1)} ms`,
      );
      results.push({
        name: `journal open after power loss, ${label} events, anchor ${UNANCHORED.toLocaleString("en")} events back (worst case); ratio = open/read`,
        unit: "ms",
        median: median(openMs),
        p99: worst,
        reference: {
          name: `read the file's ${(bytes / 2 ** 20).toFixed(0)} MiB`,
          median: median(readMs),
          unit: "ms",
        },
        ratio: median(openMs) / median(readMs),
      });
      results.push({
        name: `journal open after power loss, ${label} events; ratio = open/raw verify of the ${signed.length.toLocaleString("en")} records it verifies`,
        unit: "ms",
        median: median(openMs),
        p99: worst,
        reference: {
          name: `node:crypto Ed25519 verify ×${signed.length.toLocaleString("en")}`,
          median: median(verifyMs),
          unit: "ms",
        },
        ratio: median(openMs) / median(verifyMs),
      });
      results.push({
        name: `memory held by the open journal, ${label} events (heap + buffers)`,
        unit: "MiB",
        median: median(held) / 2 ** 20,
        p99: null,
        reference: { name: "journal file size", median: bytes / 2 ** 20, unit: "MiB" },
        ratio: median(held) / bytes,
      });

      if (!ctx.quick && count === sizes[0]) {
        rmSync(anchorPath);
        const t = performance.now();
        const full = FileJournal.open({ dir, signingSeed: SEED });
        const fullMs = performance.now() - t;
        if (full.startup.verifiedRecords !== count) throw new Error("expected a full verification");
        full.close();
        ctx.log(`open without anchor (full verification) ${(fullMs / 1000).toFixed(1)} s`);
        results.push({
          name: `journal open without anchor (full verification, the old start-up), ${label} events, once; ratio = full/anchored`,
          unit: "ms",
          median: fullMs,
          p99: null,
          reference: { name: "anchored open, same journal", median: median(openMs), unit: "ms" },
          ratio: fullMs / median(openMs),
        });
      }
      rmSync(dir, { recursive: true, force: true });
    }
    return Promise.resolve(results);
  },
};

export default suite;
