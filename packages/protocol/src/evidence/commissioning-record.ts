/**
 * The commissioning record: the site owner's signed statement, made when a lock is commissioned,
 * that binds the door to the lock's event-signing key and to the hub's ledger. An evidence
 * verifier trusts the owner's key (whose fingerprint it shows and can pin) and derives every
 * other key from this record. The lock's own `Commissioned` journal event names the owner's key
 * hash in return.
 *
 * Layout (big-endian), then a 64-byte Ed25519 signature by the owner key over every byte before it:
 *
 *   "latchkey/commissioning-record/v1"   32 bytes  purpose tag and version
 *   lockId                               16        first 16 bytes of SHA-256(lockSigningKey)
 *   lockSigningKey                       32        Ed25519: signs the lock's journal events
 *   ownerKey                             32        Ed25519: the key that signs this record
 *   ledgerKey                            32        Ed25519: the hub's checkpoint (note) key
 *   commissionedAtMs                     u64       hub clock at commissioning
 *   ledgerOrigin                         u16 ‖ UTF-8 (1–255 bytes)   checkpoint origin line
 *   doorName                             u16 ‖ UTF-8 (1–128 bytes)   as shown in reports
 *   timeZone                             u16 ‖ UTF-8 (1–64 bytes)    IANA zone for local times
 *   signature                            64
 */
import type { Ed25519 } from "../crypto/ed25519.js";
import { ByteReader, ByteWriter, concatBytes, equalBytes } from "../encoding/bytes.js";
import { LatchkeyError } from "../errors/error.js";
import { lockIdBytesFromPublicKey } from "../journal/codec.js";
import type { EpochMs } from "../units.js";

export const COMMISSIONING_RECORD_TAG = "latchkey/commissioning-record/v1";
const TAG_BYTES = new TextEncoder().encode(COMMISSIONING_RECORD_TAG);
const utf8 = new TextEncoder();

export interface CommissioningRecord {
  readonly lockId: Uint8Array;
  readonly lockSigningKey: Uint8Array;
  readonly ownerKey: Uint8Array;
  readonly ledgerKey: Uint8Array;
  readonly commissionedAtMs: EpochMs;
  readonly ledgerOrigin: string;
  readonly doorName: string;
  readonly timeZone: string;
}

export interface SignedCommissioningRecord extends CommissioningRecord {
  readonly signature: Uint8Array;
  /** The full encoding (body ‖ signature), as carried in a bundle. */
  readonly bytes: Uint8Array;
}

function bad(message: string, field: string): LatchkeyError {
  return new LatchkeyError("EVIDENCE_COMMISSIONING_INVALID", `commissioning record: ${field} ${message}`, {
    field,
  });
}

function text(s: string, field: string, max: number): Uint8Array {
  const b = utf8.encode(s);
  if (b.length < 1 || b.length > max) throw bad(`must be 1–${max} bytes of UTF-8`, field);
  return b;
}

export function encodeCommissioningRecordBody(r: CommissioningRecord): Uint8Array {
  for (const [field, key] of [
    ["lockSigningKey", r.lockSigningKey],
    ["ownerKey", r.ownerKey],
    ["ledgerKey", r.ledgerKey],
  ] as const) {
    if (!(key instanceof Uint8Array) || key.length !== 32) throw bad("must be 32 bytes", field);
  }
  if (!equalBytes(r.lockId, lockIdBytesFromPublicKey(r.lockSigningKey))) {
    throw bad("is not the lock id of lockSigningKey", "lockId");
  }
  if (!Number.isSafeInteger(r.commissionedAtMs) || r.commissionedAtMs < 0)
    throw bad("must be a non-negative integer", "commissionedAtMs");
  return new ByteWriter()
    .bytes(TAG_BYTES)
    .bytes(r.lockId)
    .bytes(r.lockSigningKey)
    .bytes(r.ownerKey)
    .bytes(r.ledgerKey)
    .u64(r.commissionedAtMs)
    .bytesVar16(text(r.ledgerOrigin, "ledgerOrigin", 255))
    .bytesVar16(text(r.doorName, "doorName", 128))
    .bytesVar16(text(r.timeZone, "timeZone", 64))
    .finish();
}

/** Signs a record with the owner's 32-byte seed (whose public key must be `ownerKey`). */
export function signCommissioningRecord(
  r: CommissioningRecord,
  ownerSeed: Uint8Array,
  ed: Ed25519,
): SignedCommissioningRecord {
  if (!equalBytes(ed.publicKey(ownerSeed), r.ownerKey))
    throw bad("is not the signing seed's key", "ownerKey");
  const body = encodeCommissioningRecordBody(r);
  const signature = ed.sign(ownerSeed, body);
  return { ...r, signature, bytes: concatBytes(body, signature) };
}

/**
 * Strict decoding (no signature check): tag, lengths, UTF-8, no trailing bytes; re-encodes and
 * compares so only the canonical form is accepted. Throws EVIDENCE_MALFORMED.
 */
export function decodeCommissioningRecord(bytes: Uint8Array): SignedCommissioningRecord {
  try {
    const r = new ByteReader(bytes, "commissioning record");
    if (!equalBytes(r.bytesFixed(TAG_BYTES.length, "purpose tag"), TAG_BYTES)) {
      throw new LatchkeyError(
        "EVIDENCE_MALFORMED",
        `commissioning record: tag is not ${COMMISSIONING_RECORD_TAG}`,
      );
    }
    const record: CommissioningRecord = {
      lockId: r.bytesFixed(16, "lockId"),
      lockSigningKey: r.bytesFixed(32, "lockSigningKey"),
      ownerKey: r.bytesFixed(32, "ownerKey"),
      ledgerKey: r.bytesFixed(32, "ledgerKey"),
      commissionedAtMs: r.u64Number("commissionedAtMs") as EpochMs,
      ledgerOrigin: r.utf8Var16("ledgerOrigin", 255),
      doorName: r.utf8Var16("doorName", 128),
      timeZone: r.utf8Var16("timeZone", 64),
    };
    const signature = r.bytesFixed(64, "signature");
    r.end();
    const body = encodeCommissioningRecordBody(record);
    if (!equalBytes(concatBytes(body, signature), bytes)) {
      throw new LatchkeyError("EVIDENCE_MALFORMED", "commissioning record is not in canonical form");
    }
    return { ...record, signature, bytes: bytes.slice() };
  } catch (e) {
    if (e instanceof LatchkeyError && e.code !== "EVIDENCE_MALFORMED") {
      throw new LatchkeyError("EVIDENCE_MALFORMED", e.message, e.details ? { ...e.details } : undefined);
    }
    throw e;
  }
}

/** True when the owner's signature over the record verifies under the record's ownerKey. */
export function verifyCommissioningRecordSignature(r: SignedCommissioningRecord, ed: Ed25519): boolean {
  return ed.verify(r.ownerKey, r.bytes.subarray(0, r.bytes.length - 64), r.signature);
}
