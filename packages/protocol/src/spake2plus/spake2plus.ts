/**
 * SPAKE2+ (RFC 9383), ciphersuite P256-SHA256-HKDF-SHA256-HMAC-SHA256, as a set of pure
 * functions. The prover (the hub) knows (w0, w1), derived from the setup code; the verifier (the
 * lock) stores only the registration record (w0, L = w1·G), so a stolen lock record does not
 * let anyone act as the prover without first brute-forcing the setup code offline.
 *
 * Points on the wire are SEC1 uncompressed (65 bytes). Every received point is validated (on the
 * curve, not the identity); derived Z and V must not be the identity either. The cofactor of
 * P-256 is 1, so the RFC's multiplication by h is a no-op.
 */
import { p256 } from "@noble/curves/nist.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { hmac } from "@noble/hashes/hmac.js";
import { pbkdf2 } from "@noble/hashes/pbkdf2.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { LatchkeyError } from "../errors/error.js";
import { concatBytes, equalBytes, fromHex } from "../encoding/bytes.js";

type Point = ReturnType<typeof p256.Point.fromBytes>;

const Point = p256.Point;
/** Order of the P-256 group (the RFC's p for the scalar field). */
export const P256_ORDER: bigint = Point.Fn.ORDER;

/** RFC 9383 §4: the fixed points M and N for P-256 (compressed SEC1, from the RFC). */
const M = Point.fromBytes(fromHex("02886e2f97ace46e55ba9dd7242579f2993b64e16ef3dcab95afd497333d8fa12f"));
const N = Point.fromBytes(fromHex("03d8bbd6c639c62937b04d997f38c3770719c629d7014d49a24b4f98baa1292b49"));

export const SPAKE2PLUS_SHARE_LENGTH = 65;
export const SPAKE2PLUS_MAC_LENGTH = 32;

function bytesToBigInt(b: Uint8Array): bigint {
  let n = 0n;
  for (const x of b) n = (n << 8n) | BigInt(x);
  return n;
}

function bigIntTo32(n: bigint): Uint8Array {
  const out = new Uint8Array(32);
  let v = n;
  for (let i = 31; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** A scalar in [1, n-1] from 40 bytes (≥ 64 bits more than n, so the bias is negligible). */
export function scalarFromWideBytes(wide: Uint8Array): bigint {
  return (bytesToBigInt(wide) % (P256_ORDER - 1n)) + 1n;
}

export function scalarToBytes(s: bigint): Uint8Array {
  return bigIntTo32(s);
}

export function scalarFromBytes(b: Uint8Array): bigint {
  return bytesToBigInt(b);
}

/** The prover's secrets. w0 and w1 are in [0, n-1] as in RFC 9383 §3.2. */
export interface Spake2PlusProverSecrets {
  readonly w0: bigint;
  readonly w1: bigint;
}

/** What the verifier stores instead of the setup code (RFC 9383's registration record). */
export interface Spake2PlusVerifierRecord {
  readonly w0: bigint;
  /** L = w1·G, 65 bytes uncompressed. */
  readonly L: Uint8Array;
}

/**
 * (w0, w1) from a password as in RFC 9383 §3.2 and Matter §3.10: PBKDF2-HMAC-SHA256 yields
 * 80 bytes, w0s ‖ w1s (40 bytes each), and w0 = w0s mod n, w1 = w1s mod n. The 40-byte
 * (64-bit-oversized) halves make the reduction bias negligible.
 */
/** PBKDF2-HMAC-SHA-256; Node passes node:crypto's (about 10× faster than the portable one). */
export type Pbkdf2Sha256 = (
  password: Uint8Array,
  salt: Uint8Array,
  iterations: number,
  dkLen: number,
) => Uint8Array;

export const noblePbkdf2Sha256: Pbkdf2Sha256 = (password, salt, iterations, dkLen) =>
  pbkdf2(sha256, password, salt, { c: iterations, dkLen });

export function deriveProverSecrets(
  password: Uint8Array,
  salt: Uint8Array,
  iterations: number,
  kdf: Pbkdf2Sha256 = noblePbkdf2Sha256,
): Spake2PlusProverSecrets {
  const out = kdf(password, salt, iterations, 80);
  return {
    w0: bytesToBigInt(out.subarray(0, 40)) % P256_ORDER,
    w1: bytesToBigInt(out.subarray(40, 80)) % P256_ORDER,
  };
}

export function verifierRecordFromSecrets(s: Spake2PlusProverSecrets): Spake2PlusVerifierRecord {
  return { w0: s.w0, L: Point.BASE.multiply(s.w1).toBytes(false) };
}

/** Parses and validates a received point; the identity and off-curve encodings are refused. */
function parseShare(bytes: Uint8Array, field: string): Point {
  if (bytes.length !== SPAKE2PLUS_SHARE_LENGTH || bytes[0] !== 0x04) {
    throw new LatchkeyError("COMM_INVALID_POINT", `${field} must be a 65-byte uncompressed P-256 point`, {
      field,
      length: bytes.length,
    });
  }
  let p: Point;
  try {
    p = Point.fromBytes(bytes);
    p.assertValidity();
  } catch {
    throw new LatchkeyError("COMM_INVALID_POINT", `${field} is not a point on P-256`, { field });
  }
  if (p.is0()) throw new LatchkeyError("COMM_INVALID_POINT", `${field} is the identity`, { field });
  return p;
}

function checkNotIdentity(p: Point, field: string): void {
  if (p.is0()) throw new LatchkeyError("COMM_INVALID_POINT", `derived ${field} is the identity`, { field });
}

/** Multiplication that accepts 0 (w0 may be 0 with negligible probability; noble refuses 0). */
function mul(p: Point, k: bigint): Point {
  return k === 0n ? Point.ZERO : p.multiply(k);
}

/** The prover's first message: shareP = x·G + w0·M. */
export function proverShare(w0: bigint, x: bigint): Uint8Array {
  return Point.BASE.multiply(x).add(mul(M, w0)).toBytes(false);
}

/** The verifier's reply share: shareV = y·G + w0·N. */
export function verifierShare(w0: bigint, y: bigint): Uint8Array {
  return Point.BASE.multiply(y).add(mul(N, w0)).toBytes(false);
}

export interface Spake2PlusTranscriptInputs {
  readonly context: Uint8Array;
  readonly idProver: Uint8Array;
  readonly idVerifier: Uint8Array;
  readonly shareP: Uint8Array;
  readonly shareV: Uint8Array;
  readonly Z: Uint8Array;
  readonly V: Uint8Array;
  readonly w0: bigint;
}

function lengthPrefixed(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + b.length);
  // RFC 9383 §3.3: 8-byte little-endian length before each field.
  new DataView(out.buffer).setBigUint64(0, BigInt(b.length), true);
  out.set(b, 8);
  return out;
}

/** RFC 9383 §3.3 transcript TT. */
export function transcript(t: Spake2PlusTranscriptInputs): Uint8Array {
  return concatBytes(
    ...[
      t.context,
      t.idProver,
      t.idVerifier,
      M.toBytes(false),
      N.toBytes(false),
      t.shareP,
      t.shareV,
      t.Z,
      t.V,
      bigIntTo32(t.w0),
    ].map(lengthPrefixed),
  );
}

export interface Spake2PlusKeys {
  readonly K_main: Uint8Array;
  readonly K_confirmP: Uint8Array;
  readonly K_confirmV: Uint8Array;
  readonly K_shared: Uint8Array;
  /** MAC the prover sends: HMAC(K_confirmP, shareV). */
  readonly confirmP: Uint8Array;
  /** MAC the verifier sends: HMAC(K_confirmV, shareP). */
  readonly confirmV: Uint8Array;
}

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** RFC 9383 §3.4 key schedule. */
export function keySchedule(TT: Uint8Array, shareP: Uint8Array, shareV: Uint8Array): Spake2PlusKeys {
  const K_main = sha256(TT);
  const confirmationKeys = hkdf(sha256, K_main, undefined, utf8("ConfirmationKeys"), 64);
  const K_confirmP = confirmationKeys.slice(0, 32);
  const K_confirmV = confirmationKeys.slice(32, 64);
  const K_shared = hkdf(sha256, K_main, undefined, utf8("SharedKey"), 32);
  return {
    K_main,
    K_confirmP,
    K_confirmV,
    K_shared,
    confirmP: hmac(sha256, K_confirmP, shareV),
    confirmV: hmac(sha256, K_confirmV, shareP),
  };
}

export interface Spake2PlusIdentities {
  readonly context: Uint8Array;
  readonly idProver: Uint8Array;
  readonly idVerifier: Uint8Array;
}

export interface Spake2PlusResult extends Spake2PlusKeys {
  readonly Z: Uint8Array;
  readonly V: Uint8Array;
  readonly TT: Uint8Array;
}

/** Prover, after receiving shareV: Z = x·(shareV − w0·N), V = w1·(shareV − w0·N). */
export function proverFinish(
  ids: Spake2PlusIdentities,
  secrets: Spake2PlusProverSecrets,
  x: bigint,
  shareP: Uint8Array,
  shareV: Uint8Array,
): Spake2PlusResult {
  const Y = parseShare(shareV, "shareV");
  const base = Y.subtract(mul(N, secrets.w0));
  const Zp = mul(base, x);
  const Vp = mul(base, secrets.w1);
  checkNotIdentity(Zp, "Z");
  checkNotIdentity(Vp, "V");
  const Z = Zp.toBytes(false);
  const V = Vp.toBytes(false);
  const TT = transcript({ ...ids, shareP, shareV, Z, V, w0: secrets.w0 });
  return { ...keySchedule(TT, shareP, shareV), Z, V, TT };
}

/** Verifier, after receiving shareP: Z = y·(shareP − w0·M), V = y·L. */
export function verifierFinish(
  ids: Spake2PlusIdentities,
  record: Spake2PlusVerifierRecord,
  y: bigint,
  shareP: Uint8Array,
  shareV: Uint8Array,
): Spake2PlusResult {
  const X = parseShare(shareP, "shareP");
  const L = parseShare(record.L, "L");
  const Zp = mul(X.subtract(mul(M, record.w0)), y);
  const Vp = mul(L, y);
  checkNotIdentity(Zp, "Z");
  checkNotIdentity(Vp, "V");
  const Z = Zp.toBytes(false);
  const V = Vp.toBytes(false);
  const TT = transcript({ ...ids, shareP, shareV, Z, V, w0: record.w0 });
  return { ...keySchedule(TT, shareP, shareV), Z, V, TT };
}

/** Validates a share without using it (the verifier checks shareP before spending work on it). */
export function assertValidShare(bytes: Uint8Array, field: string): void {
  parseShare(bytes, field);
}

/** Constant-time MAC check. */
export function macMatches(expected: Uint8Array, received: Uint8Array): boolean {
  return equalBytes(expected, received);
}
