/**
 * The lock's journal on disk: one append-only file of framed, signed records (layout and recovery
 * rules: docs/journal-format.md). Every append is written and fdatasync'ed before it returns, so a
 * returned event survives any crash. Opening scans and verifies the whole chain; a torn tail (the
 * last frame cut short, a zero-filled tail, a last frame with a bad checksum) is cut off and a
 * `JournalRecovered` event records how many bytes were dropped. Damage before the tail is never
 * "repaired": opening refuses with JOURNAL_CORRUPT naming the bad record, because silently dropping
 * history in the middle is exactly what the journal exists to prevent.
 */
import {
  closeSync,
  existsSync,
  fdatasyncSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join, resolve } from "node:path";
import { crc32 } from "node:zlib";
import {
  decodeSignedLockEvent,
  equalBytes,
  EVENT_RECORD_MAX_BYTES,
  EVENT_RECORD_MIN_BYTES,
  EventKind,
  isLatchkeyError,
  JournalChainVerifier,
  LatchkeyError,
  LOCK_ID_BYTES,
  toHex,
  type EpochMs,
  type LockId,
  type SignedLockEvent,
} from "@latchkey/protocol";
import type { Journal, JournalEntryInput } from "./journal.js";
import { EventSealer, type JournalIdentity } from "./sealer.js";

export const JOURNAL_FILE_NAME = "journal.lkj";
const LOCK_FILE_NAME = "journal.lkj.lock";

/** File header: magic "LKJOURNL", format 1, 7 reserved zero bytes, the 16-byte lock id. */
export const JOURNAL_FILE_MAGIC = Uint8Array.from([0x4c, 0x4b, 0x4a, 0x4f, 0x55, 0x52, 0x4e, 0x4c]);
export const JOURNAL_FILE_FORMAT = 1;
export const JOURNAL_HEADER_BYTES = 32;
/** Frame: marker "LE", u16 length, u16 length XOR 0xffff, record, u32 CRC-32 of everything before it. */
const FRAME_MARKER_0 = 0x4c;
const FRAME_MARKER_1 = 0x45;
export const FRAME_HEADER_BYTES = 6;
export const FRAME_OVERHEAD_BYTES = FRAME_HEADER_BYTES + 4;

const READ_BLOCK_BYTES = 1 << 20;

export type JournalCutReason = "torn-frame" | "zero-tail" | "bad-checksum-tail";

export interface JournalRecovery {
  /** Why the tail was cut. */
  readonly reason: JournalCutReason;
  /** File offset where the cut tail began. */
  readonly offset: number;
  readonly droppedBytes: number;
  /** The JournalRecovered event appended to say so. */
  readonly event: SignedLockEvent;
}

export interface FileJournalOptions extends JournalIdentity {
  /** Directory of the journal (created if missing). */
  readonly dir: string;
  /** When false, a missing journal file is JOURNAL_MISSING instead of a new, empty journal. Default true. */
  readonly create?: boolean;
  /** Lock time put on a JournalRecovered event; default null (the clock is rarely known at open). */
  readonly recoveryLockTime?: EpochMs | null;
  /**
   * Test-only fault injection: write each frame in pieces of `chunkBytes`, pausing `pauseMs`
   * between them, so a kill can land mid-frame the way a power cut can. Never set in production.
   */
  readonly faultInjection?: { readonly chunkBytes: number; readonly pauseMs: number };
}

/** Paths open in this process: a second open would be a second writer. */
const openInThisProcess = new Set<string>();

function corrupt(message: string, details: Record<string, string | number | boolean>): never {
  throw new LatchkeyError("JOURNAL_CORRUPT", `journal file: ${message}`, details);
}

/** One record framed for the journal file (exported for tools and tests that build files by hand). */
export function frameJournalRecord(record: Uint8Array): Uint8Array {
  const frame = new Uint8Array(record.length + FRAME_OVERHEAD_BYTES);
  const view = new DataView(frame.buffer);
  frame[0] = FRAME_MARKER_0;
  frame[1] = FRAME_MARKER_1;
  view.setUint16(2, record.length);
  view.setUint16(4, record.length ^ 0xffff);
  frame.set(record, FRAME_HEADER_BYTES);
  view.setUint32(
    FRAME_HEADER_BYTES + record.length,
    crc32(frame.subarray(0, FRAME_HEADER_BYTES + record.length)),
  );
  return frame;
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Reads a file front to back through a 1 MiB window. */
class BlockReader {
  private buf = new Uint8Array(0);
  private bufStart = 0;

  constructor(
    private readonly fd: number,
    readonly size: number,
  ) {}

  /** Bytes [offset, offset+n), which must lie inside the file. The view is valid until the next call. */
  at(offset: number, n: number): Uint8Array {
    if (offset < this.bufStart || offset + n > this.bufStart + this.buf.length) {
      const want = Math.min(Math.max(n, READ_BLOCK_BYTES), this.size - offset);
      const buf = new Uint8Array(want);
      let got = 0;
      while (got < want) {
        const r = readSync(this.fd, buf, got, want - got, offset + got);
        if (r === 0) break;
        got += r;
      }
      this.buf = buf.subarray(0, got);
      this.bufStart = offset;
      if (got < n) corrupt(`file shrank while reading at offset ${offset}`, { offset });
    }
    return this.buf.subarray(offset - this.bufStart, offset - this.bufStart + n);
  }

  allZero(from: number): boolean {
    for (let at = from; at < this.size; at += READ_BLOCK_BYTES) {
      const part = this.at(at, Math.min(READ_BLOCK_BYTES, this.size - at));
      if (part.some((b) => b !== 0)) return false;
    }
    return true;
  }
}

export class FileJournal implements Journal {
  readonly path: string;
  readonly #sealer: EventSealer;
  readonly #lockPath: string;
  readonly #fault: FileJournalOptions["faultInjection"];
  /** File offset of each event's frame; index = seq - 1. */
  readonly #offsets: number[];
  #fd: number | null;
  #size: number;
  #unusable = false;
  #recovery: JournalRecovery | null = null;

  private constructor(init: {
    path: string;
    lockPath: string;
    fd: number;
    size: number;
    sealer: EventSealer;
    offsets: number[];
    fault: FileJournalOptions["faultInjection"];
  }) {
    this.path = init.path;
    this.#lockPath = init.lockPath;
    this.#fd = init.fd;
    this.#size = init.size;
    this.#sealer = init.sealer;
    this.#offsets = init.offsets;
    this.#fault = init.fault;
  }

  /**
   * Open (or create) the journal in `options.dir`, verify it, repair a torn tail and continue the
   * chain. Throws JOURNAL_CORRUPT (damage before the tail), JOURNAL_WRONG_LOCK (another lock's
   * journal), JOURNAL_MISSING (create: false and no file), JOURNAL_IN_USE (already open).
   */
  static open(options: FileJournalOptions): FileJournal {
    const sealer = new EventSealer(options);
    const dir = resolve(options.dir);
    mkdirSync(dir, { recursive: true });
    const path = join(dir, JOURNAL_FILE_NAME);
    const lockPath = join(dir, LOCK_FILE_NAME);
    acquireLock(path, lockPath);
    try {
      return FileJournal.#openLocked(options, sealer, dir, path, lockPath);
    } catch (e) {
      releaseLock(path, lockPath);
      throw e;
    }
  }

  static #openLocked(
    options: FileJournalOptions,
    sealer: EventSealer,
    dir: string,
    path: string,
    lockPath: string,
  ): FileJournal {
    if (!existsSync(path)) {
      if (options.create === false) {
        throw new LatchkeyError(
          "JOURNAL_MISSING",
          `journal file ${JOURNAL_FILE_NAME} is missing in the lock's data directory`,
          {
            file: JOURNAL_FILE_NAME,
          },
        );
      }
      createJournalFile(dir, path, sealer.lockIdBytes);
    }
    const fd = openSync(path, "r+");
    try {
      let size = fstatSync(fd).size;
      if (size === 0) {
        // Created by something that crashed before writing the header: nothing to lose.
        writeAll(fd, fileHeader(sealer.lockIdBytes), 0);
        fdatasyncSync(fd);
        size = JOURNAL_HEADER_BYTES;
      }
      const reader = new BlockReader(fd, size);
      checkHeader(reader, sealer);
      const offsets: number[] = [];
      const scan = scanFrames(reader, sealer, offsets);
      if (scan.lastEvent !== null) sealer.commit(scan.lastEvent);
      const journal = new FileJournal({
        path,
        lockPath,
        fd,
        size: scan.end,
        sealer,
        offsets,
        fault: options.faultInjection,
      });
      if (scan.cut !== null) {
        const event = journal.#appendRecovery(
          scan.cut.reason,
          scan.end,
          size - scan.end,
          options.recoveryLockTime ?? null,
        );
        journal.#recovery = {
          reason: scan.cut.reason,
          offset: scan.end,
          droppedBytes: size - scan.end,
          event,
        };
      }
      return journal;
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  /** What opening repaired; null when the file was intact. */
  get recovery(): JournalRecovery | null {
    return this.#recovery;
  }

  get lockId(): LockId {
    return this.#sealer.lockId;
  }

  get publicKey(): Uint8Array {
    return this.#sealer.publicKey.slice();
  }

  get bootId(): Uint8Array {
    return this.#sealer.bootId.slice();
  }

  get nextSeq(): number {
    return this.#sealer.nextSeq;
  }

  /** Hash of the last event (32 zero bytes when empty). */
  get lastHash(): Uint8Array {
    return this.#sealer.lastHash;
  }

  /** Bytes in the journal file. */
  get sizeBytes(): number {
    return this.#size;
  }

  append(input: JournalEntryInput, lockTime: EpochMs | null): SignedLockEvent {
    const fd = this.#usableFd();
    // Encoding errors (bad input) throw here, before any byte is written: nothing changes.
    const { event, record } = this.#sealer.seal(input, lockTime);
    const frame = frameJournalRecord(record);
    try {
      if (this.#fault === undefined) {
        writeAll(fd, frame, this.#size);
      } else {
        const { chunkBytes, pauseMs } = this.#fault;
        for (let at = 0; at < frame.length; at += chunkBytes) {
          if (at > 0) sleepMs(pauseMs);
          writeAll(fd, frame.subarray(at, Math.min(frame.length, at + chunkBytes)), this.#size + at);
        }
      }
      fdatasyncSync(fd);
    } catch (e) {
      // After a failed write or sync the file's tail is unknown (and a retried fsync may lie):
      // refuse further appends; reopening repairs the tail and records that it did.
      this.#unusable = true;
      throw new LatchkeyError(
        "JOURNAL_WRITE_FAILED",
        `journal: writing event seq ${event.seq} failed (${(e as NodeJS.ErrnoException).code ?? "error"})`,
        { seq: event.seq },
        { cause: e },
      );
    }
    this.#offsets.push(this.#size);
    this.#size += frame.length;
    this.#sealer.commit(event);
    return event;
  }

  read(fromSeq: number, limit = Number.POSITIVE_INFINITY): SignedLockEvent[] {
    return this.readRecords(fromSeq, limit).map((record) => decodeSignedLockEvent(record));
  }

  /** Canonical signed records with seq >= fromSeq, as stored (what goes on the wire). */
  readRecords(fromSeq: number, limit = Number.POSITIVE_INFINITY): Uint8Array[] {
    const fd = this.#openFd();
    const first = Math.max(0, Math.floor(fromSeq) - 1);
    const count = Math.min(Math.max(0, Math.floor(limit)), this.#offsets.length - first);
    if (!(count > 0)) return [];
    const end = this.#offsets[first + count] ?? this.#size;
    const reader = new BlockReader(fd, end);
    const records: Uint8Array[] = [];
    for (let i = first; i < first + count; i++) {
      const at = this.#offsets[i] ?? end;
      const length = new DataView(reader.at(at, FRAME_HEADER_BYTES).slice().buffer).getUint16(2);
      records.push(reader.at(at + FRAME_HEADER_BYTES, length).slice());
    }
    return records;
  }

  /** Close the file and release the directory. Further use throws JOURNAL_CLOSED. */
  close(): void {
    if (this.#fd === null) return;
    closeSync(this.#fd);
    this.#fd = null;
    releaseLock(this.path, this.#lockPath);
  }

  #openFd(): number {
    if (this.#fd === null) throw new LatchkeyError("JOURNAL_CLOSED", "journal: used after close", {});
    return this.#fd;
  }

  #usableFd(): number {
    const fd = this.#openFd();
    if (this.#unusable) {
      throw new LatchkeyError(
        "JOURNAL_CLOSED",
        "journal: unusable after a failed write; reopen it to recover",
        {},
      );
    }
    return fd;
  }

  /**
   * Record the cut without a window in which a crash could lose the fact of it:
   *  1. overwrite the damaged tail with zeros and sync (a crash now: the next open finds a zero tail);
   *  2. write the recovery frame at its start and sync (a crash now or mid-write: a recovery event,
   *     or a torn frame, followed by zeros — the next open cuts and records again);
   *  3. truncate to the end of the recovery frame and sync.
   */
  #appendRecovery(
    reason: JournalCutReason,
    offset: number,
    droppedBytes: number,
    lockTime: EpochMs | null,
  ): SignedLockEvent {
    const fd = this.#usableFd();
    const { event, record } = this.#sealer.seal(
      { kind: EventKind.JournalRecovered, details: { droppedBytes, reason } },
      lockTime,
    );
    const frame = frameJournalRecord(record);
    if (reason !== "zero-tail") {
      for (let at = offset; at < offset + droppedBytes; at += READ_BLOCK_BYTES) {
        writeAll(fd, new Uint8Array(Math.min(READ_BLOCK_BYTES, offset + droppedBytes - at)), at);
      }
      fdatasyncSync(fd);
    }
    writeAll(fd, frame, offset);
    fdatasyncSync(fd);
    ftruncateSync(fd, offset + frame.length);
    fsyncSync(fd);
    this.#offsets.push(offset);
    this.#size = offset + frame.length;
    this.#sealer.commit(event);
    return event;
  }
}

function fileHeader(lockId: Uint8Array): Uint8Array {
  const header = new Uint8Array(JOURNAL_HEADER_BYTES);
  header.set(JOURNAL_FILE_MAGIC, 0);
  header[8] = JOURNAL_FILE_FORMAT;
  header.set(lockId, 16);
  return header;
}

/** Create the file atomically (temp file, fsync, rename, fsync dir): it never exists half-made. */
function createJournalFile(dir: string, path: string, lockId: Uint8Array): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, fileHeader(lockId), { flush: true });
  renameSync(tmp, path);
  const dirFd = openSync(dir, "r");
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}

function writeAll(fd: number, bytes: Uint8Array, position: number): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, position + done);
}

function checkHeader(reader: BlockReader, sealer: EventSealer): void {
  if (reader.size < JOURNAL_HEADER_BYTES) {
    corrupt(`header is ${reader.size} bytes, ${JOURNAL_HEADER_BYTES} expected`, {
      offset: 0,
      size: reader.size,
    });
  }
  const header = reader.at(0, JOURNAL_HEADER_BYTES);
  if (!equalBytes(header.subarray(0, 8), JOURNAL_FILE_MAGIC))
    corrupt("not a Latchkey journal (bad magic)", { offset: 0 });
  if (header[8] !== JOURNAL_FILE_FORMAT || header.subarray(9, 16).some((b) => b !== 0)) {
    corrupt(`unknown file format ${header[8] ?? 0}`, { offset: 8, format: header[8] ?? 0 });
  }
  const lockId = header.subarray(16, 16 + LOCK_ID_BYTES);
  if (!equalBytes(lockId, sealer.lockIdBytes)) {
    throw new LatchkeyError(
      "JOURNAL_WRONG_LOCK",
      `journal file belongs to lock ${toHex(lockId)}, not to this lock ${sealer.lockId}`,
      { fileLockId: toHex(lockId), lockId: sealer.lockId },
    );
  }
}

interface Scan {
  /** Offset after the last good frame. */
  readonly end: number;
  readonly lastEvent: SignedLockEvent | null;
  readonly cut: { readonly reason: JournalCutReason } | null;
}

/** Walk the frames, verifying the chain; decide where a torn tail begins; refuse damage before it. */
function scanFrames(reader: BlockReader, sealer: EventSealer, offsets: number[]): Scan {
  const verifier = new JournalChainVerifier({ publicKey: sealer.publicKey, ed25519: sealer.ed25519 });
  let pos = JOURNAL_HEADER_BYTES;
  let lastEvent: SignedLockEvent | null = null;
  const at = (): Record<string, string | number | boolean> => ({
    offset: pos,
    index: offsets.length,
    expectedSeq: verifier.nextSeq,
  });
  while (pos < reader.size) {
    const remaining = reader.size - pos;
    if (remaining < FRAME_HEADER_BYTES) return { end: pos, lastEvent, cut: { reason: "torn-frame" } };
    const header = reader.at(pos, FRAME_HEADER_BYTES);
    const length = ((header[2] ?? 0) << 8) | (header[3] ?? 0);
    const check = ((header[4] ?? 0) << 8) | (header[5] ?? 0);
    const headerOk =
      header[0] === FRAME_MARKER_0 &&
      header[1] === FRAME_MARKER_1 &&
      (length ^ check) === 0xffff &&
      length >= EVENT_RECORD_MIN_BYTES &&
      length <= EVENT_RECORD_MAX_BYTES;
    if (!headerOk) {
      if (reader.allZero(pos)) return { end: pos, lastEvent, cut: { reason: "zero-tail" } };
      corrupt(
        `frame header of record #${offsets.length} (expected seq ${verifier.nextSeq}) at offset ${pos} is damaged`,
        at(),
      );
    }
    const frameLength = length + FRAME_OVERHEAD_BYTES;
    if (frameLength > remaining) return { end: pos, lastEvent, cut: { reason: "torn-frame" } };
    const frame = reader.at(pos, frameLength);
    const stored = new DataView(frame.buffer, frame.byteOffset + FRAME_HEADER_BYTES + length, 4).getUint32(0);
    if (crc32(frame.subarray(0, FRAME_HEADER_BYTES + length)) !== stored) {
      // A last frame (nothing but zeros after it) with a bad checksum is a write the crash
      // interrupted: pages reach the disk out of order. The same damage before other data is corruption.
      if (reader.allZero(pos + frameLength))
        return { end: pos, lastEvent, cut: { reason: "bad-checksum-tail" } };
      corrupt(
        `record #${offsets.length} (expected seq ${verifier.nextSeq}) at offset ${pos} fails its checksum`,
        at(),
      );
    }
    const step = verifier.pushRecord(frame.slice(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + length));
    if (!step.ok) {
      const { fault } = step;
      const details = { ...at(), reason: fault.reason, ...(fault.seq === null ? {} : { seq: fault.seq }) };
      if (fault.reason === "wrong-lock") {
        throw new LatchkeyError(
          "JOURNAL_WRONG_LOCK",
          `journal file: record #${fault.index} belongs to another lock`,
          details,
        );
      }
      corrupt(`record #${fault.index} at offset ${pos} fails verification: ${fault.message}`, details);
    }
    offsets.push(pos);
    lastEvent = step.event;
    pos += frameLength;
  }
  return { end: pos, lastEvent, cut: null };
}

function acquireLock(path: string, lockPath: string): void {
  if (openInThisProcess.has(path)) {
    throw new LatchkeyError("JOURNAL_IN_USE", "journal is already open in this process", {
      file: JOURNAL_FILE_NAME,
    });
  }
  try {
    writeFileSync(lockPath, String(process.pid), { flag: "wx" });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    const holder = Number.parseInt(readFileSync(lockPath, "utf8"), 10);
    if (Number.isInteger(holder) && holder !== process.pid && isProcessAlive(holder)) {
      throw new LatchkeyError("JOURNAL_IN_USE", `journal is open by process ${holder}`, { pid: holder });
    }
    // Left behind by a process that died (the crash we are recovering from): take it over.
    writeFileSync(lockPath, String(process.pid));
  }
  openInThisProcess.add(path);
}

function releaseLock(path: string, lockPath: string): void {
  openInThisProcess.delete(path);
  try {
    unlinkSync(lockPath);
  } catch (e) {
    if (!isLatchkeyError(e) && (e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
}
