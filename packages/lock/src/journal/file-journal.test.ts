import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, appendFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import {
  EventKind,
  isLatchkeyError,
  signLockEvent,
  toHex,
  verifyJournalRecords,
  type LatchkeyError,
} from "@latchkey/protocol";
import { nodeEd25519 } from "@latchkey/protocol/node";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  FileJournal,
  frameJournalRecord,
  FRAME_OVERHEAD_BYTES,
  JOURNAL_FILE_NAME,
  JOURNAL_HEADER_BYTES,
} from "./file-journal.js";

const SEED = new Uint8Array(32).fill(0x42);
const OTHER_SEED = new Uint8Array(32).fill(0x43);
const PUB = nodeEd25519.publicKey(SEED);
const boot = (n: number): Uint8Array => new Uint8Array(16).fill(n);

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "latchkey-journal-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const file = (): string => join(dir, JOURNAL_FILE_NAME);

function errorOf(fn: () => unknown): LatchkeyError {
  try {
    fn();
  } catch (e) {
    if (isLatchkeyError(e)) return e;
    throw e;
  }
  throw new Error("expected a LatchkeyError, nothing was thrown");
}

/** A closed journal of `n` heartbeat events; returns each frame's [start, end) in the file. */
function writeJournal(n: number): { frames: [number, number][] } {
  const journal = FileJournal.open({ dir, signingSeed: SEED, bootId: boot(1) });
  journal.append({ kind: EventKind.Boot, details: { reason: "power-on", bootCount: 1 } }, null);
  for (let i = 1; i < n; i++)
    journal.append({ kind: EventKind.Heartbeat, details: { battery: 100 - i } }, null);
  const frames: [number, number][] = [];
  let at = JOURNAL_HEADER_BYTES;
  for (const r of journal.readRecords(1)) {
    frames.push([at, at + r.length + FRAME_OVERHEAD_BYTES]);
    at += r.length + FRAME_OVERHEAD_BYTES;
  }
  expect(at).toBe(journal.sizeBytes);
  journal.close();
  return { frames };
}

function reopen(bootByte = 2): FileJournal {
  return FileJournal.open({ dir, signingSeed: SEED, bootId: boot(bootByte) });
}

function verifyFile(journal: FileJournal): void {
  const result = verifyJournalRecords(journal.readRecords(1), { publicKey: PUB, ed25519: nodeEd25519 });
  expect(result.fault).toBeNull();
}

describe("FileJournal: damage before the tail is refused, never repaired", () => {
  it("a flipped byte anywhere in a middle record → JOURNAL_CORRUPT naming it; the file is untouched", () => {
    const { frames } = writeJournal(4);
    const original = readFileSync(file());
    const [start, end] = frames[1]!;
    for (let offset = start; offset < end; offset++) {
      const damaged = Buffer.from(original);
      damaged[offset]! ^= 0x20;
      writeFileSync(file(), damaged);
      const err = errorOf(reopen);
      expect(err.code).toBe("JOURNAL_CORRUPT");
      expect(err.details).toMatchObject({ index: 1, expectedSeq: 2, offset: start });
      expect(err.message).toMatch(/record #1/);
      expect(Buffer.compare(readFileSync(file()), damaged)).toBe(0);
    }
  });

  it("a flipped byte in the first record and in the file header → JOURNAL_CORRUPT", () => {
    const { frames } = writeJournal(3);
    const original = readFileSync(file());
    const damaged = Buffer.from(original);
    damaged[frames[0]![0] + 40]! ^= 1;
    writeFileSync(file(), damaged);
    expect(errorOf(reopen)).toMatchObject({ code: "JOURNAL_CORRUPT", details: { index: 0, expectedSeq: 1 } });
    const badMagic = Buffer.from(original);
    badMagic[2] = 0;
    writeFileSync(file(), badMagic);
    expect(errorOf(reopen).code).toBe("JOURNAL_CORRUPT");
    writeFileSync(file(), original.subarray(0, 20));
    expect(errorOf(reopen).code).toBe("JOURNAL_CORRUPT");
  });

  it("a well-framed last record that fails verification (re-signed by another key) → JOURNAL_CORRUPT, not cut", () => {
    writeJournal(3);
    const journal = reopen();
    const last = journal.read(3)[0]!;
    journal.close();
    const forged = signLockEvent({ ...last, seq: 4, prevHash: last.hash }, OTHER_SEED, nodeEd25519).record;
    appendFileSync(file(), frameJournalRecord(forged));
    const before = readFileSync(file());
    expect(errorOf(reopen)).toMatchObject({
      code: "JOURNAL_CORRUPT",
      details: { index: 3, reason: "bad-signature" },
    });
    expect(Buffer.compare(readFileSync(file()), before)).toBe(0);
  });

  it("another lock's journal → JOURNAL_WRONG_LOCK; the file is untouched", () => {
    writeJournal(2);
    const before = readFileSync(file());
    const err = errorOf(() => FileJournal.open({ dir, signingSeed: OTHER_SEED }));
    expect(err.code).toBe("JOURNAL_WRONG_LOCK");
    expect(Buffer.compare(readFileSync(file()), before)).toBe(0);
  });
});

describe("FileJournal: torn tails are cut and the cut is recorded", () => {
  it("truncating at every byte offset of the last record recovers all earlier events plus a JournalRecovered", () => {
    const { frames } = writeJournal(3);
    const original = readFileSync(file());
    const [start, end] = frames[2]!;
    const complete = reopen();
    const kept = complete.readRecords(1, 2).map(toHex);
    complete.close();
    for (let cut = start; cut < end; cut++) {
      writeFileSync(file(), original.subarray(0, cut));
      const journal = reopen();
      const records = journal.readRecords(1);
      expect(records.slice(0, 2).map(toHex)).toEqual(kept);
      if (cut === start) {
        expect(journal.recovery).toBeNull();
        expect(journal.nextSeq).toBe(3);
      } else {
        expect(journal.recovery).toMatchObject({
          reason: "torn-frame",
          offset: start,
          droppedBytes: cut - start,
        });
        const recovered = journal.read(3)[0]!;
        expect(recovered.kind).toBe(EventKind.JournalRecovered);
        expect(recovered.details).toEqual({ droppedBytes: cut - start, reason: "torn-frame" });
        expect(toHex(recovered.bootId)).toBe(toHex(boot(2)));
        expect(journal.nextSeq).toBe(4);
      }
      verifyFile(journal);
      journal.close();
    }
  });

  it("a zero-filled tail and a zeroed last frame → zero-tail; a last frame with a bad checksum → bad-checksum-tail", () => {
    const { frames } = writeJournal(3);
    const original = readFileSync(file());
    writeFileSync(file(), Buffer.concat([original, Buffer.alloc(4096)]));
    let journal = reopen();
    expect(journal.recovery).toMatchObject({ reason: "zero-tail", droppedBytes: 4096 });
    expect(journal.nextSeq).toBe(5);
    verifyFile(journal);
    journal.close();

    const [start, end] = frames[2]!;
    const zeroed = Buffer.from(original);
    zeroed.fill(0, start, end);
    writeFileSync(file(), zeroed);
    journal = reopen();
    expect(journal.recovery).toMatchObject({ reason: "zero-tail", offset: start, droppedBytes: end - start });
    journal.close();

    const flipped = Buffer.from(original);
    flipped[start + 50]! ^= 0xff;
    writeFileSync(file(), flipped);
    journal = reopen();
    expect(journal.recovery).toMatchObject({
      reason: "bad-checksum-tail",
      offset: start,
      droppedBytes: end - start,
    });
    expect(journal.read(3)[0]!.kind).toBe(EventKind.JournalRecovered);
    verifyFile(journal);
    journal.close();
  });

  it("a crash at any step of recording a recovery is itself recovered, and the cut stays recorded", () => {
    const { frames } = writeJournal(3);
    const [start, end] = frames[2]!;
    const torn = readFileSync(file()).subarray(0, end - 3);
    // What a completed recovery writes: the JournalRecovered frame where the torn frame began.
    writeFileSync(file(), torn);
    const repaired = reopen();
    const recoveryFrame = frameJournalRecord(repaired.readRecords(3)[0]!);
    repaired.close();
    const good = torn.subarray(0, start);
    // As if the torn tail had been longer than the recovery frame (the harder case).
    const zeros = Buffer.alloc(recoveryFrame.length + 64);
    const states: [string, Buffer, string][] = [
      ["tail zeroed, nothing else yet", Buffer.concat([good, zeros]), "zero-tail"],
      [
        "recovery frame written over the zeros, not yet truncated",
        Buffer.concat([good, recoveryFrame, zeros.subarray(recoveryFrame.length)]),
        "zero-tail",
      ],
      [
        "recovery frame torn by a power cut (checksum missing), zeros after it",
        Buffer.concat([good, recoveryFrame.subarray(0, -4), Buffer.alloc(4), zeros]),
        "bad-checksum-tail",
      ],
    ];
    for (const [name, bytes, reason] of states) {
      writeFileSync(file(), bytes);
      const journal = reopen(9);
      expect(journal.recovery?.reason, name).toBe(reason);
      expect(journal.read(journal.nextSeq - 1)[0]!.kind, name).toBe(EventKind.JournalRecovered);
      verifyFile(journal);
      journal.close();
    }
  });

  it("garbage after the last good frame that is not a frame → JOURNAL_CORRUPT (not mistaken for a torn write)", () => {
    writeJournal(2);
    appendFileSync(file(), Buffer.from("this is not a frame header at all"));
    expect(errorOf(reopen).code).toBe("JOURNAL_CORRUPT");
  });
});

describe("FileJournal: any damage to the file", () => {
  it("either opens with every event before the damage intact, or refuses with a JOURNAL_ error (at open, or at the first read of records before the start-up anchor); never anything else", () => {
    const { frames } = writeJournal(5);
    const original = readFileSync(file());
    const complete = reopen();
    const originalRecords = complete.readRecords(1).map(toHex);
    complete.close();
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat({ max: original.length - 1 }), fc.integer({ min: 0, max: 255 })), {
          maxLength: 3,
        }),
        fc.nat({ max: original.length }),
        (writes, keep) => {
          const damaged = Buffer.from(original.subarray(0, Math.max(keep, JOURNAL_HEADER_BYTES)));
          for (const [at, value] of writes) if (at < damaged.length) damaged[at] = value;
          writeFileSync(file(), damaged);
          const firstDamage = Math.min(
            damaged.length,
            ...writes.filter(([at, v]) => at < damaged.length && original[at] !== v).map(([at]) => at),
          );
          let journal: FileJournal;
          try {
            journal = reopen();
          } catch (e) {
            expect(isLatchkeyError(e) && e.code.startsWith("JOURNAL_"), String(e)).toBe(true);
            return;
          }
          try {
            if (journal.startup.anchorSeq !== null) {
              // Opened from the start-up anchor: damage before it is refused when first read.
              try {
                journal.readRecords(1);
              } catch (e) {
                expect(isLatchkeyError(e) && e.code === "JOURNAL_CORRUPT", String(e)).toBe(true);
                return;
              }
            }
            verifyFile(journal);
            // Every frame that ends before the first damaged byte survived, unchanged.
            const intact = frames.filter(([, end]) => end <= firstDamage).length;
            expect(journal.readRecords(1, intact).map(toHex)).toEqual(originalRecords.slice(0, intact));
          } finally {
            journal.close();
          }
        },
      ),
      { numRuns: 120 },
    );
  });
});

describe("FileJournal: lifecycle", () => {
  it("creates, appends durably, reopens and continues the chain with a new boot id", () => {
    const first = FileJournal.open({ dir, signingSeed: SEED, bootId: boot(1) });
    expect(first.nextSeq).toBe(1);
    const a = first.append({ kind: EventKind.Boot, details: { reason: "power-on", bootCount: 1 } }, null);
    const b = first.append(
      { kind: EventKind.LockOperation, actor: { userIndex: 1 }, details: { operation: "Lock" } },
      null,
    );
    first.close();
    const second = reopen(7);
    expect(second.recovery).toBeNull();
    expect(second.nextSeq).toBe(3);
    expect(toHex(second.lastHash)).toBe(toHex(b.hash));
    expect(second.read(1)).toEqual([a, b]);
    const c = second.append({ kind: EventKind.Boot, details: { reason: "reset", bootCount: 2 } }, null);
    expect(c.seq).toBe(3);
    expect(toHex(c.prevHash)).toBe(toHex(b.hash));
    expect(toHex(c.bootId)).toBe(toHex(boot(7)));
    expect(second.read(2, 1)).toEqual([b]);
    expect(second.read(9)).toEqual([]);
    verifyFile(second);
    second.close();
  });

  it("an invalid append changes nothing: no bytes written, seq not consumed", () => {
    writeJournal(2);
    const journal = reopen();
    const size = journal.sizeBytes;
    expect(
      errorOf(() => journal.append({ kind: EventKind.ConfigChange, details: { "bad key": 1 } }, null)).code,
    ).toBe("JOURNAL_EVENT_INVALID");
    expect(journal.sizeBytes).toBe(size);
    expect(readFileSync(file()).length).toBe(size);
    expect(journal.append({ kind: EventKind.Heartbeat }, null).seq).toBe(3);
    journal.close();
  });

  it("missing file: new journal by default, JOURNAL_MISSING with create: false; empty file: new journal", () => {
    expect(errorOf(() => FileJournal.open({ dir, signingSeed: SEED, create: false })).code).toBe(
      "JOURNAL_MISSING",
    );
    expect(existsSync(file())).toBe(false);
    writeFileSync(file(), "");
    const journal = reopen();
    expect(journal.nextSeq).toBe(1);
    expect(journal.recovery).toBeNull();
    journal.append({ kind: EventKind.Boot }, null);
    journal.close();
    expect(reopen().nextSeq).toBe(2);
  });

  it("one writer at a time: a second open is JOURNAL_IN_USE; a dead holder's lock file is taken over", () => {
    const journal = reopen();
    expect(errorOf(reopen).code).toBe("JOURNAL_IN_USE");
    journal.close();
    expect(errorOf(() => journal.append({ kind: EventKind.Heartbeat }, null)).code).toBe("JOURNAL_CLOSED");
    // A pid that cannot be alive (above the kernel's pid_max).
    writeFileSync(join(dir, "journal.lkj.lock"), "99999999");
    const again = reopen();
    expect(again.nextSeq).toBe(1);
    again.close();
  });

  it("never shows the signing seed when inspected", () => {
    const journal = reopen();
    journal.append({ kind: EventKind.Boot }, null);
    const seedHex = toHex(SEED);
    const text = inspect(journal, { showHidden: true, depth: 10 });
    expect(text).not.toContain(seedHex);
    expect(text).not.toContain(Array.from(SEED).join(", "));
    journal.close();
  });
});
