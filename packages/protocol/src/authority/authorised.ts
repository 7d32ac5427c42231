/**
 * An authorised record: a record together with the authority signatures that approve it for one
 * purpose — the unit the hub stores and relays and a lock or verifier checks.
 *
 * Canonical fixed layout (big-endian), v1:
 *
 *   offset   size  field
 *        0      1  tag length (= 29)
 *        1     29  "latchkey/authorised-record/v1"
 *       30      1  purpose (1–7, `AuthorityPurpose`; says which tag the signatures used)
 *       31      4  record length N (1–1 048 576)
 *       35      N  record bytes (the record's own canonical encoding, itself purpose-tagged)
 *     35+N      1  signature count S (1–8)
 *   then S times:  u16 length ‖ authority signature encoding (signature.ts)
 *
 * The signatures are not covered by anything, so their order is free; each signing key counts
 * once towards the set's threshold.
 */
import { ByteReader, ByteWriter } from "../encoding/bytes.js";
import { LatchkeyError } from "../errors/error.js";
import { invalid, isBytes, isInt, isList, malformed, readTag } from "./codec.js";
import type { AuthorityKey } from "./key.js";
import { isAuthorityPurpose, type AuthorityPurpose } from "./purpose.js";
import type { AuthoritySetFields } from "./set.js";
import {
  decodeAuthoritySignature,
  encodeAuthoritySignature,
  verifyAuthoritySignature,
  type AuthoritySignature,
  type AuthoritySignatureOptions,
  type AuthoritySignatureRefusal,
} from "./signature.js";

export const AUTHORISED_RECORD_TAG = "latchkey/authorised-record/v1";
const TAG = new TextEncoder().encode(AUTHORISED_RECORD_TAG);
const WHAT = "authorised record";
export const MAX_AUTHORISED_RECORD_BYTES = 1_048_576;
export const MAX_AUTHORITY_SIGNATURES = 8;

export interface AuthorisedRecord {
  readonly purpose: AuthorityPurpose;
  readonly record: Uint8Array;
  readonly signatures: readonly AuthoritySignature[];
}

export function encodeAuthorisedRecord(a: AuthorisedRecord): Uint8Array {
  if (!isAuthorityPurpose(a.purpose)) invalid(WHAT, "purpose", "is unknown");
  if (!isBytes(a.record) || !isInt(a.record.length, 1, MAX_AUTHORISED_RECORD_BYTES))
    invalid(WHAT, "record", `must be 1–${MAX_AUTHORISED_RECORD_BYTES} bytes`);
  if (!isList(a.signatures) || !isInt(a.signatures.length, 1, MAX_AUTHORITY_SIGNATURES))
    invalid(WHAT, "signatures", `must hold 1–${MAX_AUTHORITY_SIGNATURES} signatures`);
  const w = new ByteWriter().u8(TAG.length).bytes(TAG).u8(a.purpose);
  w.u32(a.record.length).bytes(a.record).u8(a.signatures.length);
  for (const s of a.signatures) w.bytesVar16(encodeAuthoritySignature(s));
  return w.finish();
}

/** Decodes (does not verify); AUTHORITY_MALFORMED or LK_DECODE_* only. */
export function decodeAuthorisedRecord(bytes: Uint8Array): AuthorisedRecord {
  const r = new ByteReader(bytes, WHAT);
  readTag(r, TAG, WHAT);
  const purpose = r.u8("purpose");
  if (!isAuthorityPurpose(purpose)) malformed(WHAT, "purpose", "is unknown");
  const length = r.u32("record length");
  // Check the declared size before reading it.
  if (!isInt(length, 1, MAX_AUTHORISED_RECORD_BYTES)) malformed(WHAT, "record", "has a bad length");
  const record = r.bytesFixed(length, "record");
  const count = r.u8("signature count");
  if (!isInt(count, 1, MAX_AUTHORITY_SIGNATURES))
    malformed(WHAT, "signatures", `must hold 1–${MAX_AUTHORITY_SIGNATURES} signatures`);
  const signatures: AuthoritySignature[] = [];
  for (let i = 0; i < count; i++) signatures.push(decodeAuthoritySignature(r.bytesVar16(`signatures[${i}]`)));
  r.end();
  return { purpose, record, signatures };
}

export type AuthorisedRecordRefusal = AuthoritySignatureRefusal | "wrong-purpose" | "below-threshold";

export type AuthorisedRecordVerdict =
  | {
      readonly ok: true;
      readonly record: Uint8Array;
      /** The distinct keys whose signatures verified (at least the set's threshold). */
      readonly signers: readonly AuthorityKey[];
      /** Per verified signer (same order): its signature counter, to store for the next check. */
      readonly signCounts: readonly number[];
    }
  | {
      readonly ok: false;
      readonly reason: AuthorisedRecordRefusal;
      /** The signature the reason is about (index in the record's list), when it is about one. */
      readonly signatureIndex?: number;
    };

/**
 * Verifies that `authorised` approves a record for `purpose` under `set`: the purpose byte is the
 * expected one (`wrong-purpose`), and at least `set.threshold` distinct keys of the set signed it.
 * When too few did, the refusal is the first failing signature's reason, or `below-threshold`
 * when every signature verified but too few keys signed. Never throws for bad input.
 */
export function verifyAuthorisedRecord(
  authorised: Uint8Array | AuthorisedRecord,
  purpose: AuthorityPurpose,
  set: AuthoritySetFields,
  opts: AuthoritySignatureOptions = {},
): AuthorisedRecordVerdict {
  let a: AuthorisedRecord;
  if (authorised instanceof Uint8Array) {
    try {
      a = decodeAuthorisedRecord(authorised);
    } catch (e) {
      if (e instanceof LatchkeyError) return { ok: false, reason: "malformed" };
      throw e;
    }
  } else a = authorised;
  if (a.purpose !== purpose) return { ok: false, reason: "wrong-purpose" };
  if (!isList(a.signatures) || a.signatures.length > MAX_AUTHORITY_SIGNATURES)
    return { ok: false, reason: "malformed" };
  const signers = new Map<number, number>();
  let firstFailure: { reason: AuthoritySignatureRefusal; index: number } | null = null;
  a.signatures.forEach((s, index) => {
    const v = verifyAuthoritySignature(purpose, a.record, s, set, opts);
    if (v.ok) {
      if (!signers.has(v.keyIndex)) signers.set(v.keyIndex, v.signCount);
    } else firstFailure ??= { reason: v.reason, index };
  });
  // At least one signer even if a hand-made set claims threshold 0.
  if (signers.size < Math.max(1, set.threshold)) {
    const failure = firstFailure as { reason: AuthoritySignatureRefusal; index: number } | null;
    return failure === null
      ? { ok: false, reason: "below-threshold" }
      : { ok: false, reason: failure.reason, signatureIndex: failure.index };
  }
  const order = [...signers.keys()].sort((x, y) => x - y);
  return {
    ok: true,
    record: a.record.slice(),
    signers: order.map((i) => set.keys[i] as AuthorityKey),
    signCounts: order.map((i) => signers.get(i) ?? 0),
  };
}
