/**
 * The fast path of the bundle parser: one pass over the file's bytes that accepts only a bundle
 * in exact canonical form (docs/evidence-format.md, "The file") and builds the same
 * `EvidenceBundle` the strict parser would, without a string copy of the file, a JSON tree or a
 * second serialisation. A 100,000-event bundle is about 110 MB; the general path held three
 * copies of it at once.
 *
 * It never explains a refusal: on anything unexpected it returns null and `parseEvidenceBundle`
 * runs the general parser, which names the error. So it only has to be right about what it
 * accepts: the members in sorted order (the schema lists them sorted, so key order is checked by
 * reading them in that order), no whitespace, integers without sign or leading zeros, strings
 * whose escapes are the ones JSON.stringify writes, canonical padded base64, and every limit the
 * general parser applies. bundle-scan.test.ts checks that both agree on valid and damaged files.
 */
import { BASE64_VALUE } from "../note/base64.js";
import type { EpochMs } from "../units.js";
import {
  EVIDENCE_FORMAT,
  EVIDENCE_LIMITS,
  EVIDENCE_VERSION,
  type BundleEvent,
  type BundleLock,
  type EvidenceBundle,
} from "./bundle-format.js";

const B64 = BASE64_VALUE;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const HASH_BYTES = 32;
/** Room for the longest hash list a bundle may hold (plus slack for one over-long entry). */
const HASH_SCRATCH = new Uint8Array((EVIDENCE_LIMITS.proofHashes + 1) * HASH_BYTES);

/**
 * Byte storage for the events' records and proofs: views into shared 1 MiB chunks instead of
 * one ArrayBuffer each. A 100,000-event bundle holds 200,000 of them; separate buffers cost
 * more in bookkeeping and garbage collection than their bytes.
 */
class Arena {
  static readonly CHUNK = 1 << 20;
  #chunk = new Uint8Array(0);
  #used = 0;

  /** A chunk with at least `n` free bytes at `at` (commit what was written with `take`). */
  room(n: number): { readonly chunk: Uint8Array; readonly at: number } {
    if (this.#chunk.length - this.#used < n) {
      this.#chunk = new Uint8Array(Math.max(Arena.CHUNK, n));
      this.#used = 0;
    }
    return { chunk: this.#chunk, at: this.#used };
  }

  /** The `n` bytes just written at the free position, as a view. */
  take(n: number): Uint8Array {
    const view = this.#chunk.subarray(this.#used, this.#used + n);
    this.#used += n;
    return view;
  }
}

/** Thrown inside the scanner only; `scanEvidenceBundle` turns it into null. */
class NotFast extends Error {}
const NOT_FAST = new NotFast();

class Scanner {
  pos = 0;
  readonly arena = new Arena();
  constructor(readonly bytes: Uint8Array) {}

  byte(b: number): void {
    if (this.bytes[this.pos] !== b) throw NOT_FAST;
    this.pos++;
  }

  /** Whether the next byte is `b` (consumed if so). */
  maybe(b: number): boolean {
    if (this.bytes[this.pos] !== b) return false;
    this.pos++;
    return true;
  }

  /** `"name":` exactly: members must come in the sorted order the schema lists. */
  key(name: string): void {
    this.byte(QUOTE);
    for (let i = 0; i < name.length; i++) this.byte(name.charCodeAt(i));
    this.byte(QUOTE);
    this.byte(0x3a);
  }

  /** A canonical non-negative safe integer: no sign, no leading zero, no fraction or exponent. */
  uint(): number {
    const start = this.pos;
    let n = 0;
    while (this.pos < this.bytes.length) {
      const c = this.bytes[this.pos] as number;
      if (c < 0x30 || c > 0x39) break;
      n = n * 10 + (c - 0x30);
      this.pos++;
    }
    const digits = this.pos - start;
    if (digits === 0 || (digits > 1 && this.bytes[start] === 0x30) || !Number.isSafeInteger(n))
      throw NOT_FAST;
    return n;
  }

  /**
   * A string of at most `maxLength` UTF-16 units (and at least one). Escapes must be the ones
   * JSON.stringify writes for control characters; anything else leaves the fast path.
   */
  string(maxLength: number): string {
    this.byte(QUOTE);
    const start = this.pos;
    let plain = true;
    for (;;) {
      const c = this.bytes[this.pos];
      if (c === undefined || c < 0x20) throw NOT_FAST;
      if (c === QUOTE) break;
      if (c === BACKSLASH) {
        plain = false;
        this.pos += 2;
      } else {
        if (c > 0x7f) plain = false;
        this.pos++;
      }
    }
    if (this.pos - start > maxLength * 3) throw NOT_FAST; // no UTF-16 unit takes more than 3 bytes
    const raw = this.bytes.subarray(start, this.pos);
    this.pos++;
    let s: string;
    if (plain) {
      s = String.fromCharCode.apply(null, raw as unknown as number[]);
    } else {
      let text: string;
      try {
        text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(raw);
        s = JSON.parse(`"${text}"`) as string;
      } catch {
        throw NOT_FAST;
      }
      // Canonical only if re-escaping gives back the very same text.
      if (JSON.stringify(s) !== `"${text}"`) throw NOT_FAST;
    }
    if (s.length === 0 || s.length > maxLength) throw NOT_FAST;
    return s;
  }

  /** Canonical padded base64 (RFC 4648 §4) decoded into `out` at `at`; returns the byte count. */
  base64Into(out: Uint8Array, at: number): number {
    this.byte(QUOTE);
    const start = this.pos;
    while (this.pos < this.bytes.length && this.bytes[this.pos] !== QUOTE) this.pos++;
    const end = this.pos;
    this.byte(QUOTE);
    return decodeBase64Bytes(this.bytes, start, end, out, at);
  }

  /** Length in bytes of the base64 string starting at the cursor (a quote), without moving. */
  base64Length(): number {
    if (this.bytes[this.pos] !== QUOTE) throw NOT_FAST;
    let end = this.pos + 1;
    while (end < this.bytes.length && this.bytes[end] !== QUOTE) end++;
    const chars = end - this.pos - 1;
    if (chars % 4 !== 0) throw NOT_FAST;
    const pad = chars === 0 || this.bytes[end - 1] !== 0x3d ? 0 : this.bytes[end - 2] === 0x3d ? 2 : 1;
    return (chars / 4) * 3 - pad;
  }

  bytesOf(length?: number, max = 1 << 20): Uint8Array {
    const n = this.base64Length();
    if ((length !== undefined && n !== length) || n > max) throw NOT_FAST;
    const out = new Uint8Array(n);
    this.base64Into(out, 0);
    return out;
  }

  /** As `bytesOf`, stored in the arena (for the many small byte strings of the events). */
  arenaBytesOf(max: number): Uint8Array {
    const n = this.base64Length();
    if (n > max) throw NOT_FAST;
    const { chunk, at } = this.arena.room(n);
    this.base64Into(chunk, at);
    return this.arena.take(n);
  }
}

function decodeBase64Bytes(src: Uint8Array, start: number, end: number, out: Uint8Array, at: number): number {
  const chars = end - start;
  if (chars % 4 !== 0) throw NOT_FAST;
  const pad = chars === 0 || src[end - 1] !== 0x3d ? 0 : src[end - 2] === 0x3d ? 2 : 1;
  const length = (chars / 4) * 3 - pad;
  if (at + length > out.length) throw NOT_FAST;
  // Full groups first, with one validity test per group (a bad character looks up -1, which
  // makes the OR negative); the last group, which may hold padding, after.
  const full = pad === 0 ? end : end - 4;
  let o = at;
  let i = start;
  for (; i < full; i += 4) {
    const a = B64[src[i]!]!;
    const b = B64[src[i + 1]!]!;
    const c = B64[src[i + 2]!]!;
    const d = B64[src[i + 3]!]!;
    if ((a | b | c | d) < 0) throw NOT_FAST;
    const n = (a << 18) | (b << 12) | (c << 6) | d;
    out[o] = n >>> 16;
    out[o + 1] = (n >>> 8) & 0xff;
    out[o + 2] = n & 0xff;
    o += 3;
  }
  if (pad !== 0) {
    const a = B64[src[i]!]!;
    const b = B64[src[i + 1]!]!;
    const c = pad === 2 ? 0 : B64[src[i + 2]!]!;
    if ((a | b | c) < 0) throw NOT_FAST;
    const n = (a << 18) | (b << 12) | (c << 6);
    out[o] = n >>> 16;
    // Non-zero padding bits are not canonical (RFC 4648 §3.5).
    if (pad === 2 && (n & 0xffff) !== 0) throw NOT_FAST;
    if (pad === 1) {
      if ((n & 0xff) !== 0) throw NOT_FAST;
      out[o + 1] = (n >>> 8) & 0xff;
    }
  }
  return length;
}

function array<T>(s: Scanner, max: number, min: number, item: (i: number) => T): T[] {
  s.byte(0x5b);
  const out: T[] = [];
  if (!s.maybe(0x5d)) {
    do {
      if (out.length === max) throw NOT_FAST;
      out.push(item(out.length));
    } while (s.maybe(0x2c));
    s.byte(0x5d);
  }
  if (out.length < min) throw NOT_FAST;
  return out;
}

/**
 * A list of base64 hashes, packed one after another (BundleEvent.proof): decoded straight into
 * the arena when `into` is given, else into a copy of its own.
 */
function packedHashes(s: Scanner, into?: Arena): Uint8Array {
  const room = into?.room(HASH_SCRATCH.length);
  const out = room?.chunk ?? HASH_SCRATCH;
  const base = room?.at ?? 0;
  let count = 0;
  s.byte(0x5b);
  if (!s.maybe(0x5d)) {
    do {
      if (count === EVIDENCE_LIMITS.proofHashes) throw NOT_FAST;
      if (s.base64Into(out, base + count * HASH_BYTES) !== HASH_BYTES) throw NOT_FAST;
      count++;
    } while (s.maybe(0x2c));
    s.byte(0x5d);
  }
  return into === undefined ? HASH_SCRATCH.slice(0, count * HASH_BYTES) : into.take(count * HASH_BYTES);
}

function hashList(s: Scanner): Uint8Array[] {
  const packed = packedHashes(s);
  const hashes: Uint8Array[] = [];
  for (let at = 0; at < packed.length; at += HASH_BYTES) hashes.push(packed.subarray(at, at + HASH_BYTES));
  return hashes;
}

function event(s: Scanner): BundleEvent {
  s.byte(0x7b);
  s.key("hubTimeMs");
  const hubTimeMs = s.uint() as EpochMs;
  s.byte(0x2c);
  s.key("leafIndex");
  const leafIndex = s.uint();
  s.byte(0x2c);
  s.key("proof");
  const proof = packedHashes(s, s.arena);
  s.byte(0x2c);
  s.key("record");
  const record = s.arenaBytesOf(0xffff);
  s.byte(0x7d);
  return { hubTimeMs, leafIndex, proof, record };
}

function missing(s: Scanner): [number, number][] {
  let after = 0;
  return array(s, EVIDENCE_LIMITS.checkpoints, 0, () => {
    s.byte(0x5b);
    const first = s.uint();
    s.byte(0x2c);
    const last = s.uint();
    s.byte(0x5d);
    if (first < after + 1 || last < first) throw NOT_FAST;
    after = last + 1;
    return [first, last] as [number, number];
  });
}

function lock(s: Scanner): BundleLock {
  s.byte(0x7b);
  s.key("commissioning");
  const commissioning = s.bytesOf(undefined, 4096);
  s.byte(0x2c);
  s.key("events");
  const events = array(s, EVIDENCE_LIMITS.eventsPerLock, 1, () => event(s));
  s.byte(0x2c);
  s.key("lockId");
  const lockId = s.string(32);
  if (!/^[0-9a-f]{32}$/.test(lockId)) throw NOT_FAST;
  s.byte(0x2c);
  s.key("missing");
  const gaps = missing(s);
  s.byte(0x2c);
  s.key("publicKey");
  const publicKey = s.bytesOf(32);
  s.byte(0x7d);
  return { commissioning, events, lockId, missing: gaps, publicKey };
}

/** The bundle if `file` is a well-formed canonical bundle; null means "ask the general parser". */
export function scanEvidenceBundle(file: Uint8Array): EvidenceBundle | null {
  const s = new Scanner(file);
  try {
    s.byte(0x7b);
    s.key("checkpoints");
    const checkpoints = array(s, EVIDENCE_LIMITS.checkpoints, 1, () => s.string(65_536));
    s.byte(0x2c);
    s.key("consistency");
    const consistency = array(s, EVIDENCE_LIMITS.checkpoints, 0, () => hashList(s));
    if (consistency.length !== checkpoints.length - 1) throw NOT_FAST;
    s.byte(0x2c);
    s.key("format");
    if (s.string(64) !== EVIDENCE_FORMAT) throw NOT_FAST;
    s.byte(0x2c);
    s.key("generatedAt");
    const generatedAt = s.uint() as EpochMs;
    s.byte(0x2c);
    s.key("ledger");
    s.byte(0x7b);
    s.key("origin");
    const origin = s.string(255);
    s.byte(0x2c);
    s.key("publicKey");
    const ledgerKey = s.bytesOf(32);
    s.byte(0x7d);
    s.byte(0x2c);
    s.key("locks");
    const locks = array(s, EVIDENCE_LIMITS.locks, 1, () => lock(s));
    s.byte(0x2c);
    s.key("owner");
    s.byte(0x7b);
    s.key("publicKey");
    const ownerKey = s.bytesOf(32);
    s.byte(0x7d);
    s.byte(0x2c);
    s.key("seal");
    const seal = s.bytesOf(64);
    s.byte(0x2c);
    s.key("version");
    if (s.uint() !== EVIDENCE_VERSION) throw NOT_FAST;
    s.byte(0x2c);
    s.key("window");
    s.byte(0x7b);
    s.key("from");
    const from = s.uint() as EpochMs;
    s.byte(0x2c);
    s.key("to");
    const to = s.uint() as EpochMs;
    s.byte(0x7d);
    s.byte(0x7d);
    if (s.pos !== file.length || to < from) throw NOT_FAST;
    return {
      format: EVIDENCE_FORMAT,
      version: EVIDENCE_VERSION,
      generatedAt,
      window: { from, to },
      owner: { publicKey: ownerKey },
      ledger: { origin, publicKey: ledgerKey },
      checkpoints,
      consistency,
      locks,
      seal,
    };
  } catch (e) {
    if (e instanceof NotFast || e instanceof RangeError) return null;
    throw e;
  }
}
