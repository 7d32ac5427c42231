/**
 * Authority sets: which keys speak for a site. The first set (version 1) is installed on every
 * lock at commissioning; every later set is an authorised record signed by the *current* set's
 * keys (at least its threshold), names the set it replaces by hash, and has the next version. So
 * a lost passkey is replaced by a new set signed by a remaining key or the recovery key; from
 * then on the lost passkey signs nothing a lock or verifier accepts.
 *
 * Canonical fixed layout (big-endian), v1:
 *
 *   offset   size  field
 *        0      1  tag length (= 25)
 *        1     25  "latchkey/authority-set/v1"
 *       26     16  site id
 *       42      8  version u64 (1 for the first set; each later set exactly one more)
 *       50     32  previous: SHA-256 of the previous set's encoding (32 zero bytes for version 1)
 *       82      8  issued at, ms since the epoch (the signer's clock; informative)
 *       90      1  threshold t (1 ≤ t ≤ n): distinct keys that must sign a record
 *       91      1  key count n (1–8)
 *       92         n times: u16 length K ‖ authority key encoding (key.ts), the encodings in
 *                  strictly ascending byte order; no two keys share a public key or credential id
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { ByteReader, ByteWriter, equalBytes } from "../encoding/bytes.js";
import { LatchkeyError } from "../errors/error.js";
import { compareBytes, invalid, isBytes, isInt, isList, malformed, readTag } from "./codec.js";
import { decodeAuthorityKey, encodeAuthorityKey, sameAuthorityKey, type AuthorityKey } from "./key.js";
import { AuthorityPurpose, SITE_ID_LENGTH } from "./purpose.js";
import type { AuthoritySignatureOptions } from "./signature.js";
import {
  decodeAuthorisedRecord,
  verifyAuthorisedRecord,
  type AuthorisedRecord,
  type AuthorisedRecordRefusal,
} from "./authorised.js";

export const AUTHORITY_SET_TAG = "latchkey/authority-set/v1";
const TAG = new TextEncoder().encode(AUTHORITY_SET_TAG);
const WHAT = "authority set";
export const MAX_AUTHORITY_KEYS = 8;
const ZERO_HASH = new Uint8Array(32);

export interface AuthoritySetFields {
  readonly siteId: Uint8Array;
  readonly version: number;
  /** SHA-256 of the previous set's encoding; 32 zero bytes for version 1. */
  readonly previous: Uint8Array;
  readonly issuedAt: number;
  readonly threshold: number;
  /** In canonical order (`canonicalAuthorityKeys`). */
  readonly keys: readonly AuthorityKey[];
}

export interface AuthoritySet extends AuthoritySetFields {
  /** The canonical encoding (what the next set's `previous` hashes). */
  readonly bytes: Uint8Array;
}

/** Sorts keys into canonical order (by encoding); callers may pass them in any order. */
export function canonicalAuthorityKeys(keys: readonly AuthorityKey[]): AuthorityKey[] {
  return [...keys]
    .map((k) => ({ k, e: encodeAuthorityKey(k) }))
    .sort((a, b) => compareBytes(a.e, b.e))
    .map(({ k }) => k);
}

/** Every rule of the layout, for encoding (AUTHORITY_INVALID_FIELDS) and decoding (AUTHORITY_MALFORMED). */
function setProblem(f: AuthoritySetFields, encoded: readonly Uint8Array[]): [string, string] | null {
  if (!isBytes(f.siteId, SITE_ID_LENGTH)) return ["siteId", "must be 16 bytes"];
  if (!isInt(f.version, 1, Number.MAX_SAFE_INTEGER)) return ["version", "must be a positive integer"];
  if (!isBytes(f.previous, 32)) return ["previous", "must be 32 bytes"];
  if ((f.version === 1) !== equalBytes(f.previous, ZERO_HASH))
    return ["previous", "must be 32 zero bytes exactly when version is 1"];
  if (!isInt(f.issuedAt, 0, Number.MAX_SAFE_INTEGER)) return ["issuedAt", "must be ms since the epoch"];
  const n = encoded.length;
  if (n < 1 || n > MAX_AUTHORITY_KEYS) return ["keys", `must hold 1–${MAX_AUTHORITY_KEYS} keys`];
  if (!isInt(f.threshold, 1, n)) return ["threshold", "must be 1 to the number of keys"];
  for (let i = 1; i < n; i++) {
    if (compareBytes(encoded[i - 1] as Uint8Array, encoded[i] as Uint8Array) >= 0)
      return [`keys[${i}]`, "must be in strictly ascending order"];
  }
  for (let i = 0; i < n; i++)
    for (let j = 0; j < i; j++)
      if (sameAuthorityKey(f.keys[i] as AuthorityKey, f.keys[j] as AuthorityKey))
        return [`keys[${i}]`, "repeats a public key or credential id"];
  return null;
}

/** The canonical encoding; AUTHORITY_INVALID_FIELDS on bad fields (keys must be in canonical order). */
export function encodeAuthoritySet(f: AuthoritySetFields): Uint8Array {
  if (!isList(f.keys)) invalid(WHAT, "keys", "must be a list");
  const encoded = f.keys.map(encodeAuthorityKey);
  const problem = setProblem(f, encoded);
  if (problem !== null) invalid(WHAT, problem[0], problem[1]);
  const w = new ByteWriter().u8(TAG.length).bytes(TAG).bytes(f.siteId).u64(f.version).bytes(f.previous);
  w.u64(f.issuedAt).u8(f.threshold).u8(encoded.length);
  for (const e of encoded) w.bytesVar16(e);
  return w.finish();
}

/** Decodes a set (no signatures here); AUTHORITY_MALFORMED or LK_DECODE_* only. */
export function decodeAuthoritySet(bytes: Uint8Array): AuthoritySet {
  const r = new ByteReader(bytes, WHAT);
  readTag(r, TAG, WHAT);
  const siteId = r.bytesFixed(SITE_ID_LENGTH, "siteId");
  const version = r.u64Number("version");
  const previous = r.bytesFixed(32, "previous");
  const issuedAt = r.u64Number("issuedAt");
  const threshold = r.u8("threshold");
  const count = r.u8("key count");
  if (count < 1 || count > MAX_AUTHORITY_KEYS)
    malformed(WHAT, "keys", `must hold 1–${MAX_AUTHORITY_KEYS} keys`);
  const encoded: Uint8Array[] = [];
  for (let i = 0; i < count; i++) encoded.push(r.bytesVar16(`keys[${i}]`));
  r.end();
  const keys = encoded.map(decodeAuthorityKey);
  const set = { siteId, version, previous, issuedAt, threshold, keys, bytes: bytes.slice() };
  const problem = setProblem(set, encoded);
  if (problem !== null) malformed(WHAT, problem[0], problem[1]);
  return set;
}

/** The encoding of a site's first set (version 1); keys in any order, threshold 1 by default. */
export function firstAuthoritySet(o: {
  readonly siteId: Uint8Array;
  readonly keys: readonly AuthorityKey[];
  readonly issuedAt: number;
  readonly threshold?: number;
}): Uint8Array {
  return encodeAuthoritySet({
    siteId: o.siteId,
    version: 1,
    previous: ZERO_HASH,
    issuedAt: o.issuedAt,
    threshold: o.threshold ?? 1,
    keys: canonicalAuthorityKeys(o.keys),
  });
}

/**
 * The encoding of the set that replaces `current` (next version, naming it by hash); keys in any
 * order, threshold 1 by default. It still has to be signed by `current`'s keys.
 */
export function nextAuthoritySet(
  current: AuthoritySet,
  o: { readonly keys: readonly AuthorityKey[]; readonly issuedAt: number; readonly threshold?: number },
): Uint8Array {
  return encodeAuthoritySet({
    siteId: current.siteId,
    version: current.version + 1,
    previous: authoritySetHash(current),
    issuedAt: o.issuedAt,
    threshold: o.threshold ?? 1,
    keys: canonicalAuthorityKeys(o.keys),
  });
}

/** SHA-256 of a set's encoding: what the next set names as `previous`. */
export function authoritySetHash(set: AuthoritySet): Uint8Array {
  return sha256(set.bytes);
}

export type AuthoritySetRefusal =
  AuthorisedRecordRefusal | "wrong-site" | "not-first" | "stale-version" | "version-gap" | "wrong-previous";

export type AuthoritySetVerdict =
  | { readonly ok: true; readonly set: AuthoritySet; readonly signers: readonly AuthorityKey[] }
  | {
      readonly ok: false;
      readonly reason: AuthoritySetRefusal;
      /** In a chain: the index of the update refused. */
      readonly index?: number;
    };

function decodeSigned(
  authorised: Uint8Array | AuthorisedRecord,
): { a: AuthorisedRecord; set: AuthoritySet } | null {
  try {
    const a = authorised instanceof Uint8Array ? decodeAuthorisedRecord(authorised) : authorised;
    return { a, set: decodeAuthoritySet(a.record) };
  } catch (e) {
    if (e instanceof LatchkeyError) return null;
    throw e;
  }
}

/**
 * Verifies the first set of a site (what commissioning installs): version 1, no previous, this
 * site, and signed by at least its own threshold of its own keys — the owner proves they hold
 * the keys they name.
 */
export function verifyFirstAuthoritySet(
  authorised: Uint8Array | AuthorisedRecord,
  siteId: Uint8Array,
  opts: AuthoritySignatureOptions = {},
): AuthoritySetVerdict {
  const decoded = decodeSigned(authorised);
  if (decoded === null) return { ok: false, reason: "malformed" };
  const { a, set } = decoded;
  if (a.purpose !== AuthorityPurpose.AuthoritySet) return { ok: false, reason: "wrong-purpose" };
  if (!equalBytes(set.siteId, siteId)) return { ok: false, reason: "wrong-site" };
  if (set.version !== 1) return { ok: false, reason: "not-first" };
  const v = verifyAuthorisedRecord(a, AuthorityPurpose.AuthoritySet, set, opts);
  return v.ok ? { ok: true, set, signers: v.signers } : { ok: false, reason: v.reason };
}

/**
 * Verifies the set that replaces `current`: same site, version exactly one more (an older or
 * equal one is `stale-version`, a skipped one `version-gap`), `previous` = SHA-256 of current's
 * encoding (`wrong-previous`: a fork), signed by at least current's threshold of current's keys.
 * The new set's own keys do not count: a lost passkey's replacement is vouched for by the keys
 * that remain.
 */
export function verifyAuthoritySetUpdate(
  current: AuthoritySet,
  authorised: Uint8Array | AuthorisedRecord,
  opts: AuthoritySignatureOptions = {},
): AuthoritySetVerdict {
  const decoded = decodeSigned(authorised);
  if (decoded === null) return { ok: false, reason: "malformed" };
  const { a, set } = decoded;
  if (a.purpose !== AuthorityPurpose.AuthoritySet) return { ok: false, reason: "wrong-purpose" };
  if (!equalBytes(set.siteId, current.siteId)) return { ok: false, reason: "wrong-site" };
  if (set.version <= current.version) return { ok: false, reason: "stale-version" };
  if (set.version !== current.version + 1) return { ok: false, reason: "version-gap" };
  if (!equalBytes(set.previous, authoritySetHash(current))) return { ok: false, reason: "wrong-previous" };
  const v = verifyAuthorisedRecord(a, AuthorityPurpose.AuthoritySet, current, opts);
  return v.ok ? { ok: true, set, signers: v.signers } : { ok: false, reason: v.reason };
}

/**
 * Follows a chain of updates from the installed set, in order; the verdict is the last set, or
 * the first refusal with the update's index. An empty chain returns the installed set.
 */
export function verifyAuthoritySetChain(
  installed: AuthoritySet,
  updates: readonly (Uint8Array | AuthorisedRecord)[],
  opts: AuthoritySignatureOptions = {},
): AuthoritySetVerdict {
  let current = installed;
  let signers: readonly AuthorityKey[] = [];
  for (let index = 0; index < updates.length; index++) {
    const v = verifyAuthoritySetUpdate(current, updates[index] as Uint8Array | AuthorisedRecord, opts);
    if (!v.ok) return { ok: false, reason: v.reason, index };
    current = v.set;
    signers = v.signers;
  }
  return { ok: true, set: current, signers };
}
