/**
 * The lock's journal on disk: one append-only file of framed, signed records (layout and recovery
 * rules: docs/journal-format.md). Every append is written and fdatasync'ed before it returns, so a
 * returned event survives any crash. Opening verifies the chain (from the start-up anchor below); a torn tail (the
 * last frame cut short, a zero-filled tail, a last frame with a bad checksum) is cut off and a
 * `JournalRecovered` event records how many bytes were dropped. Damage before the tail is never
 * "repaired": opening refuses with JOURNAL_CORRUPT naming the bad record, because silently dropping
 * history in the middle is exactly what the journal exists to prevent.
 *
 * Start-up anchor. Verifying every signature made a year of events (~1 M) take minutes to open, with
 * the door unusable. So the journal keeps a small side file, `journal.lkj.anchor`: "records up to
 * seq S (the frame at offset O, whose record hashes to H) are verified". It is written after an
 * open has verified the chain and every `anchorEvery` appends, always for a record already
 * fdatasync'ed, atomically (temp file, fsync, rename). Opening trusts an anchor only if
 *  - its HMAC verifies under a key derived from the lock's seed (only this lock writes anchors), and
 *  - the frame at O is intact (header, CRC), its record hashes to H, carries seq S and its
 *    signature verifies under the lock's key;
 * then it verifies only the frames after O, with the same tail rules as before. A missing, torn,
 * stale, foreign or inconsistent anchor is never trusted: opening verifies the whole file instead.
 * Files without an anchor (every journal written before it existed) open exactly as before.
 *
 * What this gives up, and why it is no weaker against someone who can write the lock's storage
 * (without the seed: with the seed they can sign anything, today as well):
 *  - records before the anchor are not re-verified at start-up. Each is pinned by the hash chain
 *    (the hash covers the signature) up to the anchored record, whose signature is checked, so
 *    none can be changed without breaking a link that every verifier checks: the hub verifies
 *    signature and link of every record it pulls, and reading them here checks each frame's CRC
 *    (JOURNAL_CORRUPT naming the record), so accidental damage is still refused, at first read;
 *  - forging events stays impossible, and erasing history is no easier: cutting the file before
 *    the anchor makes the anchor inconsistent (full verification, as today), and cutting it at a
 *    frame boundary after the anchor was already possible (and is what a hub detects by seq);
 *  - the anchor cannot be moved to skip records (it carries a MAC), and replaying an older genuine
 *    anchor only makes opening verify more.
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
  rmSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { timingSafeEqual } from "node:crypto";
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
  lockEventHash,
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
export const JOURNAL_ANCHOR_FILE_NAME = "journal.lkj.anchor";
/** Anchor: magic "LKJANCHR", format 1, 3 zero bytes, u64 seq, u64 frame offset, record hash, HMAC. */
const ANCHOR_MAGIC = Uint8Array.from([0x4c, 0x4b, 0x4a, 0x41, 0x4e, 0x43, 0x48, 0x52]);
const ANCHOR_FORMAT = 1;
const ANCHOR_BODY_BYTES = 8 + 4 + 8 + 8 + 32;
export const JOURNAL_ANCHOR_BYTES = ANCHOR_BODY_BYTES + 32;
/**
 * Default: a start-up verifies at most 256 records (~35 ms on a 2-core x86 server, a few hundred ms
 * on a slow ARM core), for one extra small synced write per 256 appends (each append syncs anyway).
 */
const DEFAULT_ANCHOR_EVERY = 256;

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
  /** Move the start-up anchor forward every this many appends (default 256). */
  readonly anchorEvery?: number;
  /**
   * Test-only fault injection: write each frame in pieces of `chunkBytes`, pausing `pauseMs`
   * between them, so a kill can land mid-frame the way a power cut can. Never set in production.
   */
  readonly faultInjection?: { readonly chunkBytes: number; readonly pauseMs: number };
}

/** A verified point of the chain: the record with `seq`, framed at `offset`, hashing to `hash`. */
export interface JournalAnchor {
  readonly seq: number;
  readonly offset: number;
  readonly hash: Uint8Array;
}

/** How opening verified the file. */
export interface JournalStartup {
  /** Seq of the anchor the verification started from; null when the whole file was verified. */
  readonly anchorSeq: number | null;
  /** Records whose signature was verified at open (the anchored one included). */
  readonly verifiedRecords: number;
  /** Why an anchor file that was present was not used; null when none was, or it was used. */
  readonly anchorRejected: string | null;
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
  readonly #dir: string;
  readonly #fault: FileJournalOptions["faultInjection"];
  readonly #anchorEvery: number;
  /**
   * File offset of each event's frame from seq `#offsetsFirstSeq` on; index = seq - that. After an
   * anchored open the records before the anchor are indexed only when first read.
   */
  #offsets: number[];
  #offsetsFirstSeq: number;
  /** The anchor on disk (as far as this process knows); null when none is trusted yet. */
  #anchor: JournalAnchor | null;
  /** Seq of the last anchor write attempted (a failing disk is not retried at every append). */
  #anchorTriedSeq = 0;
  #fd: number | null;
  #size: number;
  #unusable = false;
  #recovery: JournalRecovery | null = null;
  #startup: JournalStartup = { anchorSeq: null, verifiedRecords: 0, anchorRejected: null };

  private constructor(init: {
    path: string;
    dir: string;
    lockPath: string;
    fd: number;
    size: number;
    sealer: EventSealer;
    offsets: number[];
    offsetsFirstSeq: number;
    anchor: JournalAnchor | null;
    anchorEvery: number;
    fault: FileJournalOptions["faultInjection"];
  }) {
    this.path = init.path;
    this.#dir = init.dir;
    this.#lockPath = init.lockPath;
    this.#fd = init.fd;
    this.#size = init.size;
    this.#sealer = init.sealer;
    this.#offsets = init.offsets;
    this.#offsetsFirstSeq = init.offsetsFirstSeq;
    this.#anchor = init.anchor;
    this.#anchorEvery = init.anchorEvery;
    this.#fault = init.fault;
  }

  /**
   * Open (or create) the journal in `options.dir`, verify it, repair a torn tail and continue the
   * chain. Throws JOURNAL_CORRUPT (damage before the tail), JOURNAL_WRONG_LOCK (another lock's
   * journal), JOURNAL_MISSING (create: false and no file), JOURNAL_IN_USE (already open).
   */
  static open(options: FileJournalOptions): FileJournal {
    const sealer = new EventSealer(options);
    const anchorEvery = options.anchorEvery ?? DEFAULT_ANCHOR_EVERY;
    if (!(Number.isSafeInteger(anchorEvery) && anchorEvery >= 1)) {
      throw new LatchkeyError("JOURNAL_EVENT_INVALID", "journal: anchorEvery must be an integer ≥ 1", {
        field: "anchorEvery",
      });
    }
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
      // An anchor left from a journal that is gone could never match; drop it before starting anew.
      rmSync(join(dir, JOURNAL_ANCHOR_FILE_NAME), { force: true });
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
      const anchored = startFromAnchor(dir, reader, sealer);
      const start = anchored.start ?? {
        anchor: null,
        verifier: new JournalChainVerifier({ publicKey: sealer.publicKey, ed25519: sealer.ed25519 }),
        event: null,
        end: JOURNAL_HEADER_BYTES,
      };
      const offsets: number[] = start.anchor === null ? [] : [start.anchor.offset];
      const offsetsFirstSeq = start.anchor?.seq ?? 1;
      const scan = scanFrames(reader, start.verifier, start.end, start.event, offsets);
      if (scan.lastEvent !== null) sealer.commit(scan.lastEvent);
      const journal = new FileJournal({
        path,
        dir,
        lockPath,
        fd,
        size: scan.end,
        sealer,
        offsets,
        offsetsFirstSeq,
        anchor: start.anchor,
        anchorEvery: options.anchorEvery ?? DEFAULT_ANCHOR_EVERY,
        fault: options.faultInjection,
      });
      journal.#startup = {
        anchorSeq: start.anchor?.seq ?? null,
        verifiedRecords: (scan.lastEvent?.seq ?? 0) - offsetsFirstSeq + 1,
        anchorRejected: anchored.rejected,
      };
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
      // Everything up to here is verified (or was just sealed): the next open starts from it.
      journal.#moveAnchor();
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

  /** How opening verified the file (from an anchor, or all of it). */
  get startup(): JournalStartup {
    return this.#startup;
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
    if (event.seq - Math.max(this.#anchor?.seq ?? 0, this.#anchorTriedSeq) >= this.#anchorEvery)
      this.#moveAnchor();
    return event;
  }

  read(fromSeq: number, limit = Number.POSITIVE_INFINITY): SignedLockEvent[] {
    return this.readRecords(fromSeq, limit).map((record) => decodeSignedLockEvent(record));
  }

  /** Canonical signed records with seq >= fromSeq, as stored (what goes on the wire). */
  readRecords(fromSeq: number, limit = Number.POSITIVE_INFINITY): Uint8Array[] {
    const fd = this.#openFd();
    const first = Math.max(0, Math.floor(fromSeq) - 1);
    const count = Math.min(Math.max(0, Math.floor(limit)), this.#sealer.nextSeq - 1 - first);
    if (!(count > 0)) return [];
    if (first + 1 < this.#offsetsFirstSeq) this.#indexBeforeAnchor(fd);
    const base = this.#offsetsFirstSeq - 1;
    const end = this.#offsets[first - base + count] ?? this.#size;
    const reader = new BlockReader(fd, end);
    const records: Uint8Array[] = [];
    for (let i = first - base; i < first - base + count; i++) {
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

  /**
   * Index the frames before the anchor the open started from (it did not read them): walk the
   * frame headers, checking each CRC, and land exactly on the anchored frame. Their signatures and
   * links are not re-checked here: the hash chain pins them to the anchored, verified record, and
   * whoever receives them verifies both (see the top of this file).
   */
  #indexBeforeAnchor(fd: number): void {
    const end = this.#offsets[0] ?? this.#size;
    const expected = this.#offsetsFirstSeq - 1;
    const reader = new BlockReader(fd, end);
    const prefix: number[] = [];
    let pos = JOURNAL_HEADER_BYTES;
    while (pos < end) {
      const where = { offset: pos, index: prefix.length, expectedSeq: prefix.length + 1 };
      const length =
        end - pos < FRAME_HEADER_BYTES ? null : frameRecordLength(reader.at(pos, FRAME_HEADER_BYTES));
      if (length === null || pos + length + FRAME_OVERHEAD_BYTES > end) {
        corrupt(`frame header of record #${prefix.length} at offset ${pos} is damaged`, where);
      }
      if (!frameChecksumOk(reader.at(pos, length + FRAME_OVERHEAD_BYTES), length)) {
        corrupt(`record #${prefix.length} at offset ${pos} fails its checksum`, where);
      }
      prefix.push(pos);
      pos += length + FRAME_OVERHEAD_BYTES;
    }
    if (prefix.length !== expected) {
      corrupt(`${prefix.length} records before the anchored seq ${expected + 1}, ${expected} expected`, {
        offset: end,
        index: prefix.length,
        expectedSeq: expected + 1,
      });
    }
    this.#offsets = prefix.concat(this.#offsets);
    this.#offsetsFirstSeq = 1;
  }

  /**
   * Anchor the last event, which is durable (synced) and verified or sealed by this lock. Best
   * effort: a failed write leaves an older anchor or none, which only makes the next open verify more.
   */
  #moveAnchor(): void {
    const seq = this.#sealer.nextSeq - 1;
    const offset = this.#offsets[seq - this.#offsetsFirstSeq];
    if (seq < 1 || seq <= (this.#anchor?.seq ?? 0) || offset === undefined) return;
    const anchor: JournalAnchor = { seq, offset, hash: this.#sealer.lastHash };
    this.#anchorTriedSeq = seq;
    try {
      writeJournalAnchor(this.#dir, this.#sealer, anchor);
      this.#anchor = anchor;
    } catch {
      // See above: nothing is lost but start-up time.
    }
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

/** Record length in a frame header; null when the header is not a valid one. */
function frameRecordLength(header: Uint8Array): number | null {
  const length = ((header[2] ?? 0) << 8) | (header[3] ?? 0);
  const check = ((header[4] ?? 0) << 8) | (header[5] ?? 0);
  const ok =
    header[0] === FRAME_MARKER_0 &&
    header[1] === FRAME_MARKER_1 &&
    (length ^ check) === 0xffff &&
    length >= EVENT_RECORD_MIN_BYTES &&
    length <= EVENT_RECORD_MAX_BYTES;
  return ok ? length : null;
}

function frameChecksumOk(frame: Uint8Array, length: number): boolean {
  const stored = new DataView(frame.buffer, frame.byteOffset + FRAME_HEADER_BYTES + length, 4).getUint32(0);
  return crc32(frame.subarray(0, FRAME_HEADER_BYTES + length)) === stored;
}

/**
 * Walk the frames from `start` (after the header, or after the anchored frame), verifying the
 * chain with `verifier`; decide where a torn tail begins; refuse damage before it.
 */
function scanFrames(
  reader: BlockReader,
  verifier: JournalChainVerifier,
  start: number,
  startEvent: SignedLockEvent | null,
  offsets: number[],
): Scan {
  let pos = start;
  let lastEvent = startEvent;
  // Record index = seq - 1, whether the walk started at the first record or at an anchor.
  const index = (): number => verifier.nextSeq - 1;
  const at = (): Record<string, string | number | boolean> => ({
    offset: pos,
    index: index(),
    expectedSeq: verifier.nextSeq,
  });
  while (pos < reader.size) {
    const remaining = reader.size - pos;
    if (remaining < FRAME_HEADER_BYTES) return { end: pos, lastEvent, cut: { reason: "torn-frame" } };
    const length = frameRecordLength(reader.at(pos, FRAME_HEADER_BYTES));
    if (length === null) {
      if (reader.allZero(pos)) return { end: pos, lastEvent, cut: { reason: "zero-tail" } };
      corrupt(
        `frame header of record #${index()} (expected seq ${verifier.nextSeq}) at offset ${pos} is damaged`,
        at(),
      );
    }
    const frameLength = length + FRAME_OVERHEAD_BYTES;
    if (frameLength > remaining) return { end: pos, lastEvent, cut: { reason: "torn-frame" } };
    const frame = reader.at(pos, frameLength);
    if (!frameChecksumOk(frame, length)) {
      // A last frame (nothing but zeros after it) with a bad checksum is a write the crash
      // interrupted: pages reach the disk out of order. The same damage before other data is corruption.
      if (reader.allZero(pos + frameLength))
        return { end: pos, lastEvent, cut: { reason: "bad-checksum-tail" } };
      corrupt(
        `record #${index()} (expected seq ${verifier.nextSeq}) at offset ${pos} fails its checksum`,
        at(),
      );
    }
    const recordIndex = index();
    const step = verifier.pushRecord(frame.slice(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + length));
    if (!step.ok) {
      const { fault } = step;
      const details = { ...at(), reason: fault.reason, ...(fault.seq === null ? {} : { seq: fault.seq }) };
      if (fault.reason === "wrong-lock") {
        throw new LatchkeyError(
          "JOURNAL_WRONG_LOCK",
          `journal file: record #${recordIndex} belongs to another lock`,
          details,
        );
      }
      corrupt(`record #${recordIndex} at offset ${pos} fails verification: ${fault.message}`, details);
    }
    offsets.push(pos);
    lastEvent = step.event;
    pos += frameLength;
  }
  return { end: pos, lastEvent, cut: null };
}

interface AnchoredStart {
  readonly anchor: JournalAnchor;
  /** Continues the chain after the anchored record. */
  readonly verifier: JournalChainVerifier;
  readonly event: SignedLockEvent;
  /** Offset after the anchored frame. */
  readonly end: number;
}

/**
 * The anchor to start verification from, if there is one that can be trusted (see the top of this
 * file); otherwise null, and why a present anchor was not used.
 */
function startFromAnchor(
  dir: string,
  reader: BlockReader,
  sealer: EventSealer,
): { start: AnchoredStart | null; rejected: string | null } {
  const reject = (why: string): { start: null; rejected: string } => ({ start: null, rejected: why });
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(join(dir, JOURNAL_ANCHOR_FILE_NAME));
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ENOENT"
      ? { start: null, rejected: null }
      : reject("unreadable");
  }
  const anchor = decodeAnchor(bytes, sealer);
  if (typeof anchor === "string") return reject(anchor);
  if (anchor.offset < JOURNAL_HEADER_BYTES || anchor.offset + FRAME_HEADER_BYTES > reader.size)
    return reject("its offset is outside the file");
  const length = frameRecordLength(reader.at(anchor.offset, FRAME_HEADER_BYTES));
  if (length === null) return reject("no frame starts at its offset");
  const end = anchor.offset + length + FRAME_OVERHEAD_BYTES;
  if (end > reader.size) return reject("its frame runs past the end of the file");
  const frame = reader.at(anchor.offset, length + FRAME_OVERHEAD_BYTES);
  if (!frameChecksumOk(frame, length)) return reject("its frame fails its checksum");
  const record = frame.slice(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + length);
  if (!equalBytes(lockEventHash(record), anchor.hash))
    return reject("the record at its offset is another one");
  const verifier = new JournalChainVerifier({
    publicKey: sealer.publicKey,
    ed25519: sealer.ed25519,
    firstSeq: anchor.seq,
  });
  const step = verifier.pushRecord(record);
  if (!step.ok) return reject(`the anchored record fails verification (${step.fault.reason})`);
  return { start: { anchor, verifier, event: step.event, end }, rejected: null };
}

function encodeAnchorBody(anchor: JournalAnchor): Uint8Array {
  const body = new Uint8Array(ANCHOR_BODY_BYTES);
  const view = new DataView(body.buffer);
  body.set(ANCHOR_MAGIC, 0);
  body[8] = ANCHOR_FORMAT;
  view.setBigUint64(12, BigInt(anchor.seq));
  view.setBigUint64(20, BigInt(anchor.offset));
  body.set(anchor.hash, 28);
  return body;
}

/** The anchor in `bytes`, or why it cannot be trusted. */
function decodeAnchor(bytes: Uint8Array, sealer: EventSealer): JournalAnchor | string {
  if (bytes.length !== JOURNAL_ANCHOR_BYTES)
    return `it is ${bytes.length} bytes, ${JOURNAL_ANCHOR_BYTES} expected`;
  const body = bytes.subarray(0, ANCHOR_BODY_BYTES);
  if (!equalBytes(body.subarray(0, 8), ANCHOR_MAGIC)) return "bad magic";
  if (body[8] !== ANCHOR_FORMAT || body.subarray(9, 12).some((b) => b !== 0)) return "unknown format";
  if (!timingSafeEqual(sealer.anchorMac(body), bytes.subarray(ANCHOR_BODY_BYTES)))
    return "its MAC does not verify";
  const view = new DataView(body.buffer, body.byteOffset, body.length);
  const seq = Number(view.getBigUint64(12));
  const offset = Number(view.getBigUint64(20));
  if (!Number.isSafeInteger(seq) || seq < 1 || !Number.isSafeInteger(offset))
    return "seq or offset out of range";
  return { seq, offset, hash: body.slice(28, 60) };
}

/**
 * Write the start-up anchor atomically: temp file, fsync, rename. Without a directory fsync a
 * crash may leave the previous anchor, which is as good (opening verifies a little more). Only
 * for a record that is durable and verified; exported for tools and benchmarks that build
 * journals by hand (it needs the lock's sealer, hence its seed).
 */
export function writeJournalAnchor(dir: string, sealer: EventSealer, anchor: JournalAnchor): void {
  const body = encodeAnchorBody(anchor);
  const bytes = new Uint8Array(JOURNAL_ANCHOR_BYTES);
  bytes.set(body, 0);
  bytes.set(sealer.anchorMac(body), ANCHOR_BODY_BYTES);
  const path = join(dir, JOURNAL_ANCHOR_FILE_NAME);
  writeFileSync(`${path}.tmp`, bytes, { flush: true });
  renameSync(`${path}.tmp`, path);
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
