/**
 * The start-up anchor (file-journal.ts): opening verifies only what follows the last anchored,
 * verified record; an anchor that cannot be trusted is ignored and the whole file is verified.
 */
import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import {
  EventKind,
  isLatchkeyError,
  signLockEvent,
  toHex,
  verifyJournalRecords,
  type LatchkeyError,
} from "@latchkey/protocol";
import { nodeEd25519 } from "@latchkey/protocol/node";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  FileJournal,
  frameJournalRecord,
  FRAME_HEADER_BYTES,
  FRAME_OVERHEAD_BYTES,
  JOURNAL_ANCHOR_BYTES,
  JOURNAL_ANCHOR_FILE_NAME,
  JOURNAL_FILE_NAME,
  JOURNAL_HEADER_BYTES,
  writeJournalAnchor,
} from "./file-journal.js";
import { EventSealer } from "./sealer.js";

const SEED = new Uint8Array(32).fill(0x42);
const OTHER_SEED = new Uint8Array(32).fill(0x43);
const PUB = nodeEd25519.publicKey(SEED);
const EVERY = 10;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "latchkey-anchor-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const file = (): string => join(dir, JOURNAL_FILE_NAME);
const anchorFile = (): string => join(dir, JOURNAL_ANCHOR_FILE_NAME);
const open = (): FileJournal => FileJournal.open({ dir, signingSeed: SEED, anchorEvery: EVERY });

function errorOf(fn: () => unknown): LatchkeyError {
  try {
    fn();
  } catch (e) {
    if (isLatchkeyError(e)) return e;
    throw e;
  }
  throw new Error("expected a LatchkeyError, nothing was thrown");
}

/** A closed journal of `n` heartbeats (anchor moved every EVERY appends); each frame's [start, end). */
function writeJournal(n: number): [number, number][] {
  const journal = open();
  for (let i = 0; i < n; i++) journal.append({ kind: EventKind.Heartbeat, details: { battery: i } }, null);
  const frames: [number, number][] = [];
  let at = JOURNAL_HEADER_BYTES;
  for (const r of journal.readRecords(1)) {
    frames.push([at, at + r.length + FRAME_OVERHEAD_BYTES]);
    at += r.length + FRAME_OVERHEAD_BYTES;
  }
  journal.close();
  return frames;
}

function expectWholeChain(journal: FileJournal, count: number): void {
  const result = verifyJournalRecords(journal.readRecords(1), { publicKey: PUB, ed25519: nodeEd25519 });
  expect(result.fault).toBeNull();
  expect(result.verified).toBe(count);
}

/** Flip a byte inside a record and fix its frame's CRC, as someone editing the file would. */
function tamperRecord(bytes: Buffer, [start, end]: [number, number], at: number): void {
  bytes[start + FRAME_HEADER_BYTES + at]! ^= 0x01;
  bytes.writeUInt32BE(crc32(bytes.subarray(start, end - 4)), end - 4);
}

describe("FileJournal start-up anchor: used when it can be trusted", () => {
  it("a journal written before anchors existed opens by full verification, then anchors its end", () => {
    writeJournal(5);
    rmSync(anchorFile(), { force: true });
    const first = open();
    expect(first.startup).toEqual({ anchorSeq: null, verifiedRecords: 5, anchorRejected: null });
    first.close();
    expect(readFileSync(anchorFile()).length).toBe(JOURNAL_ANCHOR_BYTES);
    const second = open();
    expect(second.startup).toEqual({ anchorSeq: 5, verifiedRecords: 1, anchorRejected: null });
    second.close();
  });

  it("verifies only the records after the anchor; reads and continues the whole chain", () => {
    writeJournal(25); // anchors at seq 10 and 20 while appending
    const journal = open();
    expect(journal.startup).toEqual({ anchorSeq: 20, verifiedRecords: 6, anchorRejected: null });
    expect(journal.nextSeq).toBe(26);
    // Records after the anchor are indexed; those before are indexed on first read.
    expect(journal.read(24, 2).map((e) => e.seq)).toEqual([24, 25]);
    expect(journal.read(3, 2).map((e) => e.seq)).toEqual([3, 4]);
    expectWholeChain(journal, 25);
    const next = journal.append({ kind: EventKind.Boot }, null);
    expect(next.seq).toBe(26);
    expectWholeChain(journal, 26);
    journal.close();
    // The open anchored seq 25; one append is not enough to move it again.
    const again = open();
    expect(again.startup).toEqual({ anchorSeq: 25, verifiedRecords: 2, anchorRejected: null });
    again.close();
  });

  it("records before the anchor are not re-verified at open: tampering there opens, and fails every chain check", () => {
    const frames = writeJournal(12); // anchored at seq 10
    const bytes = readFileSync(file());
    tamperRecord(bytes, frames[3]!, 40);
    writeFileSync(file(), bytes);
    const journal = open();
    expect(journal.startup.anchorSeq).toBe(10);
    // The hash chain pins the record to the anchored one: any verifier (the hub) refuses it.
    const result = verifyJournalRecords(journal.readRecords(1), { publicKey: PUB, ed25519: nodeEd25519 });
    expect(result.fault?.index).toBe(3);
    journal.close();
  });

  it("accidental damage before the anchor (CRC) is refused when those records are first read", () => {
    const frames = writeJournal(12);
    const bytes = readFileSync(file());
    bytes[frames[2]![0] + 30]! ^= 0x20;
    writeFileSync(file(), bytes);
    const journal = open();
    expect(journal.read(11).map((e) => e.seq)).toEqual([11, 12]);
    expect(errorOf(() => journal.read(1))).toMatchObject({
      code: "JOURNAL_CORRUPT",
      details: { index: 2, expectedSeq: 3, offset: frames[2]![0] },
    });
    journal.close();
  });
});

describe("FileJournal start-up anchor: never trusted when it should not be", () => {
  it("a flipped byte anywhere in the anchor, a torn or empty anchor → full verification", () => {
    writeJournal(12);
    const good = readFileSync(anchorFile());
    const variants: Buffer[] = [good.subarray(0, 50), Buffer.alloc(0), Buffer.alloc(JOURNAL_ANCHOR_BYTES)];
    for (let i = 0; i < good.length; i++) {
      const bad = Buffer.from(good);
      bad[i]! ^= 0x04;
      variants.push(bad);
    }
    for (const bad of variants) {
      writeFileSync(anchorFile(), bad);
      const journal = open();
      expect(journal.startup.anchorSeq).toBeNull();
      expect(journal.startup.anchorRejected).not.toBeNull();
      expect(journal.startup.verifiedRecords).toBe(12);
      expect(journal.nextSeq).toBe(13);
      journal.close();
    }
  });

  it("an anchor with a good MAC that does not match the file (seq, hash, offset), or another lock's → full verification", () => {
    const frames = writeJournal(12);
    const sealer = new EventSealer({ signingSeed: SEED });
    const journal = open();
    const last = journal.read(12)[0]!;
    const other = journal.read(11)[0]!;
    journal.close();
    const at = frames[11]![0];
    const cases: [string, EventSealer, { seq: number; offset: number; hash: Uint8Array }][] = [
      ["wrong seq", sealer, { seq: 11, offset: at, hash: last.hash }],
      ["wrong hash", sealer, { seq: 12, offset: at, hash: other.hash }],
      ["wrong offset", sealer, { seq: 12, offset: at + 1, hash: last.hash }],
      ["offset inside the header", sealer, { seq: 12, offset: 0, hash: last.hash }],
      ["offset past the end", sealer, { seq: 12, offset: 1 << 30, hash: last.hash }],
      [
        "another lock's key",
        new EventSealer({ signingSeed: OTHER_SEED }),
        { seq: 12, offset: at, hash: last.hash },
      ],
    ];
    for (const [name, by, anchor] of cases) {
      writeJournalAnchor(dir, by, anchor);
      const j = open();
      expect(j.startup.anchorSeq, name).toBeNull();
      expect(j.startup.anchorRejected, name).not.toBeNull();
      expect(j.nextSeq, name).toBe(13);
      j.close();
    }
  });

  it("tampering with a record after the anchor is still refused at open", () => {
    const frames = writeJournal(15); // anchor at 10
    const original = readFileSync(file());
    const bytes = Buffer.from(original);
    tamperRecord(bytes, frames[12]!, 40);
    writeFileSync(file(), bytes);
    expect(errorOf(open)).toMatchObject({
      code: "JOURNAL_CORRUPT",
      details: { index: 12, expectedSeq: 13, offset: frames[12]![0] },
    });
    // A flipped byte without fixing the CRC, in a middle record after the anchor.
    const flipped = Buffer.from(original);
    flipped[frames[11]![0] + 20]! ^= 0x20;
    writeFileSync(file(), flipped);
    expect(errorOf(open)).toMatchObject({ code: "JOURNAL_CORRUPT", details: { index: 11 } });
    // A well-framed record signed by another key, appended after the anchor.
    writeFileSync(file(), original);
    const j = open();
    const last = j.read(15)[0]!;
    j.close();
    const forged = signLockEvent({ ...last, seq: 16, prevHash: last.hash }, OTHER_SEED, nodeEd25519).record;
    appendFileSync(file(), frameJournalRecord(forged));
    expect(errorOf(open)).toMatchObject({
      code: "JOURNAL_CORRUPT",
      details: { index: 15, reason: "bad-signature" },
    });
  });

  it("a journal cut before its anchor, or recreated, is verified in full", () => {
    const frames = writeJournal(12);
    truncateSync(file(), frames[5]![1]);
    const cut = open();
    expect(cut.startup.anchorSeq).toBeNull();
    expect(cut.nextSeq).toBe(7);
    cut.close();
    rmSync(file());
    const fresh = open();
    expect(existsSync(anchorFile())).toBe(false);
    expect(fresh.nextSeq).toBe(1);
    fresh.close();
  });
});

describe("FileJournal start-up anchor: crashes around it", () => {
  it("killed after an append but before the anchor write: the stale anchor is used and the rest verified", () => {
    writeJournal(12); // anchored at seq 10; the open below moves it to 12
    const anchorAt10 = readFileSync(anchorFile());
    const journal = open();
    for (let i = 0; i < 5; i++) journal.append({ kind: EventKind.Heartbeat }, null);
    journal.close();
    writeFileSync(anchorFile(), anchorAt10);
    // A half-written temp anchor left by the kill is ignored.
    writeFileSync(`${anchorFile()}.tmp`, anchorAt10.subarray(0, 7));
    const reopened = open();
    expect(reopened.startup).toEqual({ anchorSeq: 10, verifiedRecords: 8, anchorRejected: null });
    expectWholeChain(reopened, 17);
    reopened.close();
  });

  it("a torn tail after the anchored record is cut and recorded exactly as without an anchor", () => {
    const frames = writeJournal(20); // anchor at 20
    const [start, end] = frames[19]!;
    const good = readFileSync(file());
    const j = open(); // moves nothing: already anchored at 20
    const last = j.read(20)[0]!;
    j.close();
    const next = signLockEvent(
      { ...last, seq: 21, prevHash: last.hash, kind: EventKind.Heartbeat },
      SEED,
      nodeEd25519,
    ).record;
    const frame = frameJournalRecord(next);
    for (const cutAt of [3, FRAME_HEADER_BYTES + 5, frame.length - 1]) {
      writeFileSync(file(), Buffer.concat([good, frame.subarray(0, cutAt)]));
      const journal = open();
      expect(journal.startup.anchorSeq).toBe(20);
      expect(journal.recovery).toMatchObject({ offset: end, droppedBytes: cutAt });
      expect(journal.read(21)[0]!.kind).toBe(EventKind.JournalRecovered);
      expectWholeChain(journal, 21);
      journal.close();
      // The recovery was anchored: the next open verifies only it.
      const after = open();
      expect(after.startup).toMatchObject({ anchorSeq: 21, verifiedRecords: 1 });
      after.close();
      writeFileSync(file(), good);
      writeJournalAnchor(dir, new EventSealer({ signingSeed: SEED }), {
        seq: 20,
        offset: start,
        hash: last.hash,
      });
    }
  });

  it("the anchored frame itself torn (a disk that lied) → the anchor is refused and the file verified and repaired as before", () => {
    const frames = writeJournal(20);
    const [start, end] = frames[19]!;
    truncateSync(file(), end - 2);
    const journal = open();
    expect(journal.startup.anchorSeq).toBeNull();
    expect(journal.startup.anchorRejected).toMatch(/past the end/);
    expect(journal.recovery).toMatchObject({ reason: "torn-frame", offset: start });
    expectWholeChain(journal, 20);
    expect(toHex(journal.read(20)[0]!.prevHash)).toBe(toHex(journal.read(19)[0]!.hash));
    journal.close();
  });
});
