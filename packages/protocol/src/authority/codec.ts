/** Shared pieces of the authority encodings (internal to this folder). */
import { ed25519 } from "@noble/curves/ed25519.js";
import { p256 } from "@noble/curves/nist.js";
import type { ByteReader } from "../encoding/bytes.js";
import { equalBytes } from "../encoding/bytes.js";
import { LatchkeyError } from "../errors/error.js";

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

export function malformed(what: string, field: string, why: string): never {
  throw new LatchkeyError("AUTHORITY_MALFORMED", `${what}: ${field} ${why}`, { field });
}

export function invalid(what: string, field: string, why: string): never {
  throw new LatchkeyError("AUTHORITY_INVALID_FIELDS", `${what}: ${field} ${why}`, { field });
}

/** Reads `u8 length ‖ tag` and refuses anything but `tag` (another record, another version). */
export function readTag(r: ByteReader, tag: Uint8Array, what: string): void {
  const n = r.u8("tag length");
  if (n !== tag.length || !equalBytes(r.bytesFixed(n, "tag"), tag)) malformed(what, "tag", "is not " + what);
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

export function isBytes(x: unknown, length?: number): x is Uint8Array {
  return x instanceof Uint8Array && (length === undefined || x.length === length);
}

/** Not a type guard on purpose: Array.isArray would widen a readonly array to any[]. */
export function isList(x: unknown): boolean {
  return Array.isArray(x);
}

export function isInt(v: unknown, min: number, max: number): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= min && v <= max;
}

/** UTF-8 bytes of `s` when it is a string of 1–`max` bytes, else null. */
export function utf8Within(s: unknown, max: number): Uint8Array | null {
  if (typeof s !== "string") return null;
  const b = utf8.encode(s);
  // A lone surrogate would encode as U+FFFD and not round-trip: refuse it.
  if (b.length < 1 || b.length > max || strictUtf8.decode(b) !== s) return null;
  return b;
}

export function decodeUtf8(b: Uint8Array, what: string, field: string): string {
  try {
    return strictUtf8.decode(b);
  } catch {
    return malformed(what, field, "is not valid UTF-8");
  }
}

/** An uncompressed SEC1 P-256 point (0x04 ‖ x ‖ y) on the curve. */
export function isP256Point(k: Uint8Array): boolean {
  if (k.length !== 65 || k[0] !== 0x04) return false;
  try {
    p256.Point.fromBytes(k).assertValidity();
    return true;
  } catch {
    return false;
  }
}

/**
 * A 32-byte Ed25519 public key that decodes to a point outside the small-order subgroup. A
 * small-order key would let anyone make signatures that cofactored verification accepts.
 */
export function isStrongEd25519Key(k: Uint8Array): boolean {
  if (k.length !== 32) return false;
  try {
    return !ed25519.Point.fromBytes(k).isSmallOrder();
  } catch {
    return false;
  }
}

/** Door ids: 1–`max` 16-byte ids, strictly ascending. Returns a problem or null. */
export function doorIdsProblem(doorIds: unknown, max: number): [string, string] | null {
  if (!isList(doorIds)) return ["doorIds", "must be a list"];
  const list = doorIds as readonly unknown[];
  if (list.length < 1 || list.length > max) return ["doorIds", `must list 1–${max} doors`];
  for (let i = 0; i < list.length; i++) {
    const d = list[i];
    if (!isBytes(d, 16)) return [`doorIds[${i}]`, "must be 16 bytes"];
    const prev = list[i - 1];
    if (i > 0 && compareBytes(prev as Uint8Array, d) >= 0)
      return [`doorIds[${i}]`, "must be strictly ascending"];
  }
  return null;
}
