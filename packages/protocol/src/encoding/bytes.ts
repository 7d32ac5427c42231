/**
 * Length-checked binary reading and writing for every fixed-layout record and wire message.
 * All multi-byte integers are big-endian unless a method says otherwise. A `ByteReader` never
 * reads past its end: it throws LK_DECODE_TRUNCATED first, naming the field it was reading.
 */
import { LatchkeyError } from "../errors/error.js";

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });
const utf8Encoder = new TextEncoder();

export class ByteReader {
  private offset = 0;
  private readonly view: DataView;

  constructor(
    readonly bytes: Uint8Array,
    /** Names the record in error messages, e.g. "journal event". */
    readonly what: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get position(): number {
    return this.offset;
  }

  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  private need(n: number, field: string): void {
    if (this.remaining < n) {
      throw new LatchkeyError(
        "LK_DECODE_TRUNCATED",
        `${this.what}: ${field} needs ${n} bytes at offset ${this.offset}, ${this.remaining} left`,
        { field, offset: this.offset, needed: n, remaining: this.remaining },
      );
    }
  }

  u8(field: string): number {
    this.need(1, field);
    return this.view.getUint8(this.offset++);
  }

  u16(field: string): number {
    this.need(2, field);
    const v = this.view.getUint16(this.offset);
    this.offset += 2;
    return v;
  }

  u32(field: string): number {
    this.need(4, field);
    const v = this.view.getUint32(this.offset);
    this.offset += 4;
    return v;
  }

  u64(field: string): bigint {
    this.need(8, field);
    const v = this.view.getBigUint64(this.offset);
    this.offset += 8;
    return v;
  }

  /** A u64 that must fit a JavaScript safe integer (sequence numbers, times in ms). */
  u64Number(field: string): number {
    // Two 32-bit halves rather than a BigInt: this runs for every event of a 100,000-event bundle.
    this.need(8, field);
    const high = this.view.getUint32(this.offset);
    const low = this.view.getUint32(this.offset + 4);
    if (high > 0x1fffff) {
      throw new LatchkeyError("LK_DECODE_INVALID", `${this.what}: ${field} is larger than 2^53-1`, { field });
    }
    this.offset += 8;
    return high * 0x1_0000_0000 + low;
  }

  /** A u64 read as a two's-complement i64; null when it lies outside ±(2^53−1). */
  i64SafeNumber(field: string): number | null {
    this.need(8, field);
    const high = this.view.getInt32(this.offset);
    const low = this.view.getUint32(this.offset + 4);
    this.offset += 8;
    const v = high * 0x1_0000_0000 + low;
    return Number.isSafeInteger(v) ? v : null;
  }

  /**
   * Exactly `n` bytes as a view of the input (no copy): for decoders of large batches whose
   * results keep the input alive anyway and are never written to.
   */
  viewOf(n: number, field: string): Uint8Array {
    this.need(n, field);
    const out = this.bytes.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  /** Exactly `n` bytes, copied so the result does not alias the input. */
  bytesFixed(n: number, field: string): Uint8Array {
    this.need(n, field);
    const out = this.bytes.slice(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  /** A u16-length-prefixed byte string of at most `max` bytes. */
  bytesVar16(field: string, max = 0xffff): Uint8Array {
    const len = this.u16(`${field} length`);
    if (len > max) {
      throw new LatchkeyError(
        "LK_DECODE_INVALID",
        `${this.what}: ${field} is ${len} bytes, at most ${max} allowed`,
        {
          field,
          length: len,
          max,
        },
      );
    }
    return this.bytesFixed(len, field);
  }

  /** A u16-length-prefixed UTF-8 string (fatal on invalid UTF-8). */
  utf8Var16(field: string, max = 0xffff): string {
    const raw = this.bytesVar16(field, max);
    try {
      return strictUtf8.decode(raw);
    } catch {
      throw new LatchkeyError("LK_DECODE_INVALID", `${this.what}: ${field} is not valid UTF-8`, { field });
    }
  }

  /** Throws LK_DECODE_TRAILING unless every byte was consumed. */
  end(): void {
    if (this.remaining !== 0) {
      throw new LatchkeyError(
        "LK_DECODE_TRAILING",
        `${this.what}: ${this.remaining} unexpected bytes after the last field at offset ${this.offset}`,
        { offset: this.offset, trailing: this.remaining },
      );
    }
  }
}

export class ByteWriter {
  private chunks: Uint8Array[] = [];
  private length = 0;

  private push(b: Uint8Array): this {
    this.chunks.push(b);
    this.length += b.length;
    return this;
  }

  u8(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new RangeError(`u8 out of range: ${v}`);
    return this.push(Uint8Array.of(v));
  }

  u16(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new RangeError(`u16 out of range: ${v}`);
    const b = new Uint8Array(2);
    new DataView(b.buffer).setUint16(0, v);
    return this.push(b);
  }

  u32(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`u32 out of range: ${v}`);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v);
    return this.push(b);
  }

  u64(v: bigint | number): this {
    const big = BigInt(v);
    if (big < 0n || big > 0xffffffffffffffffn) throw new RangeError(`u64 out of range: ${v}`);
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, big);
    return this.push(b);
  }

  bytes(b: Uint8Array): this {
    return this.push(b.slice());
  }

  bytesVar16(b: Uint8Array): this {
    return this.u16(b.length).bytes(b);
  }

  utf8Var16(s: string): this {
    return this.bytesVar16(utf8Encoder.encode(s));
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function toHex(b: Uint8Array): string {
  let s = "";
  for (const x of b) s += x.toString(16).padStart(2, "0");
  return s;
}

/** Strict hex decoding: even length, hex digits only (either case). */
export function fromHex(s: string): Uint8Array {
  if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) {
    throw new LatchkeyError("LK_DECODE_INVALID", "not a hex string of whole bytes", { length: s.length });
  }
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Constant-time equality for secrets (MACs, hashes of PINs); length is not secret. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}
