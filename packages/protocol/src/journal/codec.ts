/**
 * The canonical, fixed-layout encoding of a lock journal event, its signature and its hash.
 * Layout, signing input and rules: docs/journal-format.md. Two implementations that follow the
 * document produce the same bytes; the decoder accepts only canonical bytes, so
 * `encodeSignedLockEvent(decodeSignedLockEvent(r))` always equals `r`.
 *
 *   record    = body ‖ signature(64)       (body: version 1 or 2; the lock writes version 2)
 *   signature = Ed25519(lock signing key, "latchkey/lock-event/v1" ‖ body)
 *   hash      = SHA-256(record)            (the next event's prevHash)
 */
import { sha256 } from "@noble/hashes/sha2.js";
import type { Ed25519 } from "../crypto/ed25519.js";
import { ByteReader, ByteWriter, concatBytes, fromHex, toHex } from "../encoding/bytes.js";
import { LatchkeyError } from "../errors/error.js";
import type { EpochMs, LockId } from "../units.js";
import type { LockEvent, SignedLockEvent } from "./event.js";
import { EventKind, type EventActor, type EventDetails } from "./kinds.js";

/** Domain-separation tag prepended to the body before signing. */
export const LOCK_EVENT_PURPOSE = "latchkey/lock-event/v1";
/** The version the lock writes: 2 adds the monotonic reading (ms since boot). */
export const LOCK_EVENT_VERSION = 2;
/** Version 1 (no monotonic reading): still decoded and re-encoded, for journals and bundles made before. */
export const LOCK_EVENT_VERSION_1 = 1;
export const LOCK_ID_BYTES = 16;
export const BOOT_ID_BYTES = 16;
export const EVENT_HASH_BYTES = 32;
export const EVENT_SIGNATURE_BYTES = 64;
/** prevHash of the first event (seq 1). */
export const ZERO_HASH: Uint8Array = new Uint8Array(EVENT_HASH_BYTES);

/** Limits on `details` (kinds.ts): entries, key bytes, string/bytes value bytes. */
export const DETAILS_MAX_ENTRIES = 32;
export const DETAILS_MAX_KEY_BYTES = 32;
export const DETAILS_MAX_VALUE_BYTES = 256;
/** Keys are ASCII identifiers so byte order, UTF-16 order and JSON all agree, and no key can be "__proto__". */
const DETAIL_KEY_PATTERN = /^[A-Za-z][A-Za-z0-9_.-]*$/;

/** Fixed part of the body (everything but the details entries), in bytes: version 2. */
export const EVENT_FIXED_BODY_BYTES = 98;
/** The same for version 1 (no 8-byte monotonic reading). */
export const EVENT_FIXED_BODY_BYTES_V1 = 90;
const DETAILS_MAX_BYTES = DETAILS_MAX_ENTRIES * (1 + DETAILS_MAX_KEY_BYTES + 1 + 2 + DETAILS_MAX_VALUE_BYTES);
/** Smallest valid record of any version: a version-1 fixed body, no details, signature. */
export const EVENT_RECORD_MIN_BYTES = EVENT_FIXED_BODY_BYTES_V1 + EVENT_SIGNATURE_BYTES;
/** Largest valid record of any version: version 2 with 32 entries of the largest key and value. */
export const EVENT_RECORD_MAX_BYTES = EVENT_FIXED_BODY_BYTES + DETAILS_MAX_BYTES + EVENT_SIGNATURE_BYTES;

const PURPOSE_BYTES = new TextEncoder().encode(LOCK_EVENT_PURPOSE);

/** Flags byte (offset 51 in version 2, 43 in version 1). */
const FLAG_TIME_KNOWN = 0x01;
const FLAG_USER_INDEX = 0x02;
const FLAG_CREDENTIAL_TYPE = 0x04;
const FLAG_CREDENTIAL_INDEX = 0x08;
const FLAGS_DEFINED = FLAG_TIME_KNOWN | FLAG_USER_INDEX | FLAG_CREDENTIAL_TYPE | FLAG_CREDENTIAL_INDEX;

/** Credential type codes: Matter CredentialTypeEnum numbers; PhoneKey is Latchkey's own (0x80). */
const CREDENTIAL_TYPE_CODES = {
  ProgrammingPIN: 0,
  PIN: 1,
  RFID: 2,
  Fingerprint: 3,
  PhoneKey: 0x80,
} as const satisfies Record<NonNullable<EventActor["credentialType"]>, number>;
type CredentialType = keyof typeof CREDENTIAL_TYPE_CODES;
const CREDENTIAL_TYPE_BY_CODE = new Map<number, CredentialType>(
  Object.entries(CREDENTIAL_TYPE_CODES).map(([name, code]) => [code, name as CredentialType]),
);

/** Detail value type tags. */
const VALUE_STRING = 0x01;
const VALUE_INT = 0x02;
const VALUE_FLOAT = 0x03;
const VALUE_FALSE = 0x04;
const VALUE_TRUE = 0x05;
const VALUE_BYTES = 0x06;

const KNOWN_KINDS = new Set<number>(Object.values(EventKind));

export function isEventKind(n: number): n is EventKind {
  return KNOWN_KINDS.has(n);
}

function invalid(
  field: string,
  message: string,
  details: Record<string, string | number | boolean> = {},
): never {
  throw new LatchkeyError("JOURNAL_EVENT_INVALID", `lock event: ${field} ${message}`, { field, ...details });
}

function checkLength(value: Uint8Array, length: number, field: string): void {
  if (!(value instanceof Uint8Array) || value.length !== length) {
    invalid(field, `must be ${length} bytes`, { expected: length });
  }
}

function checkU16(value: number, field: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff) invalid(field, "must be an integer 0–65535");
}

const utf8 = new TextEncoder();

/** Detail entries sorted by key, validated against the limits; throws JOURNAL_EVENT_INVALID. */
function canonicalDetails(details: EventDetails): [string, EventDetails[string]][] {
  const entries = Object.entries(details);
  if (entries.length > DETAILS_MAX_ENTRIES) {
    invalid("details", `has ${entries.length} entries, at most ${DETAILS_MAX_ENTRIES} allowed`, {
      entries: entries.length,
    });
  }
  for (const [key, value] of entries) {
    if (key.length === 0 || key.length > DETAILS_MAX_KEY_BYTES || !DETAIL_KEY_PATTERN.test(key)) {
      invalid(
        "details",
        `key #${entries.findIndex(([k]) => k === key)} is not an ASCII identifier of 1–32 bytes`,
        {
          keyLength: key.length,
        },
      );
    }
    if (typeof value === "string") {
      const n = utf8.encode(value).length;
      if (n > DETAILS_MAX_VALUE_BYTES)
        invalid(`details.${key}`, `is ${n} bytes, at most 256 allowed`, { length: n });
    } else if (value instanceof Uint8Array) {
      if (value.length > DETAILS_MAX_VALUE_BYTES) {
        invalid(`details.${key}`, `is ${value.length} bytes, at most 256 allowed`, { length: value.length });
      }
    } else if (typeof value === "number") {
      if (!Number.isFinite(value)) invalid(`details.${key}`, "must be a finite number");
      if (Number.isInteger(value) && !Number.isSafeInteger(value)) {
        invalid(`details.${key}`, "is an integer outside ±(2^53-1)");
      }
    } else if (typeof value !== "boolean") {
      invalid(`details.${key}`, "must be a string, number, boolean or bytes");
    }
  }
  // ASCII keys: code-unit order is byte order.
  return entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function writeDetailValue(w: ByteWriter, value: EventDetails[string]): void {
  if (typeof value === "string") {
    w.u8(VALUE_STRING).utf8Var16(value);
  } else if (value instanceof Uint8Array) {
    w.u8(VALUE_BYTES).bytesVar16(value);
  } else if (typeof value === "boolean") {
    w.u8(value ? VALUE_TRUE : VALUE_FALSE);
  } else if (Number.isInteger(value)) {
    w.u8(VALUE_INT).u64(BigInt.asUintN(64, BigInt(value)));
  } else {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, value);
    w.u8(VALUE_FLOAT).bytes(b);
  }
}

/**
 * The canonical body of an event (everything the signature covers, without the purpose tag).
 * Throws JOURNAL_EVENT_INVALID naming the field when the event cannot be encoded.
 */
export function encodeLockEventBody(event: LockEvent): Uint8Array {
  const version = event.version;
  if (version !== LOCK_EVENT_VERSION && version !== LOCK_EVENT_VERSION_1)
    invalid("version", "must be 1 or 2");
  if (!isEventKind(event.kind)) invalid("kind", `${String(event.kind)} is not a known event kind`);
  checkLength(event.lockId, LOCK_ID_BYTES, "lockId");
  if (!Number.isSafeInteger(event.seq) || event.seq < 1)
    invalid("seq", "must be an integer from 1 to 2^53-1");
  checkLength(event.bootId, BOOT_ID_BYTES, "bootId");
  const mono = event.monotonicMs;
  if (version === LOCK_EVENT_VERSION) {
    if (mono === undefined || !Number.isSafeInteger(mono) || mono < 0) {
      invalid("monotonicMs", "must be an integer number of ms since boot (version 2)");
    }
  } else if (mono !== undefined) {
    invalid("monotonicMs", "cannot be carried by a version 1 event");
  }
  const time = event.lockTime;
  if (time !== null && (!Number.isSafeInteger(time) || time < 0)) {
    invalid("lockTime", "must be null or an integer number of ms since the epoch");
  }
  const actor = event.actor;
  let flags = time === null ? 0 : FLAG_TIME_KNOWN;
  if (actor.userIndex !== undefined) {
    checkU16(actor.userIndex, "actor.userIndex");
    flags |= FLAG_USER_INDEX;
  }
  let credentialCode = 0;
  if (actor.credentialType !== undefined) {
    const code = (CREDENTIAL_TYPE_CODES as Record<string, number | undefined>)[actor.credentialType];
    if (code === undefined) invalid("actor.credentialType", "is not a known credential type");
    credentialCode = code;
    flags |= FLAG_CREDENTIAL_TYPE;
  }
  if (actor.credentialIndex !== undefined) {
    checkU16(actor.credentialIndex, "actor.credentialIndex");
    flags |= FLAG_CREDENTIAL_INDEX;
  }
  checkLength(event.prevHash, EVENT_HASH_BYTES, "prevHash");
  const details = canonicalDetails(event.details);

  const w = new ByteWriter()
    .u8(version)
    .u16(event.kind)
    .bytes(event.lockId)
    .u64(event.seq)
    .bytes(event.bootId);
  if (version === LOCK_EVENT_VERSION) w.u64(mono ?? 0);
  w.u8(flags)
    .u64(time ?? 0)
    .u16(actor.userIndex ?? 0)
    .u8(credentialCode)
    .u16(actor.credentialIndex ?? 0)
    .bytes(event.prevHash)
    .u8(details.length);
  for (const [key, value] of details) {
    w.u8(key.length).bytes(utf8.encode(key));
    writeDetailValue(w, value);
  }
  return w.finish();
}

/** The exact bytes the lock signs: purpose tag ‖ body. */
export function lockEventSigningInput(body: Uint8Array): Uint8Array {
  return concatBytes(PURPOSE_BYTES, body);
}

/** SHA-256 of a full signed record: the event's hash and the next event's prevHash. */
export function lockEventHash(record: Uint8Array): Uint8Array {
  return sha256(record);
}

/**
 * Sign an event with the lock's 32-byte seed. Returns the signed event (with its hash) and its
 * canonical record bytes, which is what storage and the wire carry.
 */
export function signLockEvent(
  event: LockEvent,
  signingSeed: Uint8Array,
  ed25519: Ed25519,
): { event: SignedLockEvent; record: Uint8Array } {
  return signLockEventWith(event, (input) => ed25519.sign(signingSeed, input));
}

/**
 * `signLockEvent` with a signer bound to the key (e.g. a cached node:crypto KeyObject, or a
 * hardware key): `sign` receives the purpose-tagged signing input and returns the 64-byte signature.
 */
export function signLockEventWith(
  event: LockEvent,
  sign: (signingInput: Uint8Array) => Uint8Array,
): { event: SignedLockEvent; record: Uint8Array } {
  const body = encodeLockEventBody(event);
  const signature = sign(lockEventSigningInput(body));
  if (signature.length !== EVENT_SIGNATURE_BYTES) invalid("signature", "must be 64 bytes");
  const record = concatBytes(body, signature);
  return { event: { ...event, signature, hash: lockEventHash(record) }, record };
}

/** Canonical record bytes of a signed event (body ‖ signature). Does not check the signature. */
export function encodeSignedLockEvent(event: SignedLockEvent): Uint8Array {
  const body = encodeLockEventBody(event);
  checkLength(event.signature, EVENT_SIGNATURE_BYTES, "signature");
  return concatBytes(body, event.signature);
}

function nonCanonical(message: string, details: Record<string, string | number | boolean>): never {
  throw new LatchkeyError("JOURNAL_NON_CANONICAL", `journal event: ${message}`, details);
}

function readDetailValue(r: ByteReader, key: string): string | number | boolean | Uint8Array {
  const tag = r.u8(`details.${key} type`);
  switch (tag) {
    case VALUE_STRING:
      return r.utf8Var16(`details.${key}`, DETAILS_MAX_VALUE_BYTES);
    case VALUE_BYTES:
      return r.bytesVar16(`details.${key}`, DETAILS_MAX_VALUE_BYTES);
    case VALUE_FALSE:
      return false;
    case VALUE_TRUE:
      return true;
    case VALUE_INT: {
      const v = r.i64SafeNumber(`details.${key}`);
      if (v === null) {
        throw new LatchkeyError("LK_DECODE_INVALID", `journal event: details.${key} is outside ±(2^53-1)`, {
          field: `details.${key}`,
        });
      }
      return v;
    }
    case VALUE_FLOAT: {
      const raw = r.bytesFixed(8, `details.${key}`);
      const v = new DataView(raw.buffer, raw.byteOffset, 8).getFloat64(0);
      if (!Number.isFinite(v)) {
        throw new LatchkeyError("LK_DECODE_INVALID", `journal event: details.${key} is not a finite number`, {
          field: `details.${key}`,
        });
      }
      // Integers (and -0) must use the integer encoding: one value, one encoding.
      if (Number.isInteger(v)) nonCanonical(`details.${key} is an integer stored as a float`, { field: key });
      return v;
    }
    default:
      throw new LatchkeyError(
        "LK_DECODE_INVALID",
        `journal event: details.${key} has unknown value type ${tag}`,
        {
          field: `details.${key}`,
          type: tag,
        },
      );
  }
}

/**
 * Decode one signed record. Checks the total length first (JOURNAL_RECORD_SIZE), then the version
 * (JOURNAL_UNSUPPORTED_VERSION) and kind (JOURNAL_UNKNOWN_KIND), then every field; rejects
 * non-canonical bytes (JOURNAL_NON_CANONICAL) and bad values (LK_DECODE_*). Never throws anything
 * but a LatchkeyError. Does NOT verify the signature: use `verifyLockEventRecord` or `verify.ts`.
 * The byte fields (lockId, bootId, prevHash, signature) are views of `record`, not copies: a
 * verifier decodes 100,000 of them, and neither side ever writes to them.
 */
export function decodeSignedLockEvent(
  record: Uint8Array,
  /** SHA-256 for the event's hash (default @noble's; verifiers in Node pass node:crypto's). */
  sha256Fn: (data: Uint8Array) => Uint8Array = lockEventHash,
): SignedLockEvent {
  if (record.length < EVENT_RECORD_MIN_BYTES || record.length > EVENT_RECORD_MAX_BYTES) {
    throw new LatchkeyError(
      "JOURNAL_RECORD_SIZE",
      `journal event: record is ${record.length} bytes, valid records are ${EVENT_RECORD_MIN_BYTES}–${EVENT_RECORD_MAX_BYTES}`,
      { length: record.length, min: EVENT_RECORD_MIN_BYTES, max: EVENT_RECORD_MAX_BYTES },
    );
  }
  const r = new ByteReader(record, "journal event");
  const version = r.u8("version");
  if (version !== LOCK_EVENT_VERSION && version !== LOCK_EVENT_VERSION_1) {
    throw new LatchkeyError(
      "JOURNAL_UNSUPPORTED_VERSION",
      `journal event: version ${version} is not supported`,
      {
        version,
      },
    );
  }
  const kind = r.u16("kind");
  if (!isEventKind(kind)) {
    throw new LatchkeyError("JOURNAL_UNKNOWN_KIND", `journal event: kind ${kind} is not known`, { kind });
  }
  const lockId = r.viewOf(LOCK_ID_BYTES, "lockId");
  const seq = r.u64Number("seq");
  if (seq < 1)
    throw new LatchkeyError("LK_DECODE_INVALID", "journal event: seq must be at least 1", { field: "seq" });
  const bootId = r.viewOf(BOOT_ID_BYTES, "bootId");
  // Version 2: the lock's monotonic clock (ms since this boot), which no one but the lock can set.
  const monotonicMs = version === LOCK_EVENT_VERSION ? r.u64Number("monotonicMs") : undefined;
  const flags = r.u8("flags");
  if ((flags & ~FLAGS_DEFINED) !== 0)
    nonCanonical(`reserved flag bits set (0x${flags.toString(16)})`, { flags });
  const rawTime = r.u64Number("lockTime");
  const userIndex = r.u16("actor.userIndex");
  const credentialCode = r.u8("actor.credentialType");
  const credentialIndex = r.u16("actor.credentialIndex");
  // Absent fields are zero: anything else would give one event two encodings.
  if (!(flags & FLAG_TIME_KNOWN) && rawTime !== 0) nonCanonical("lockTime set while flagged unknown", {});
  if (!(flags & FLAG_USER_INDEX) && userIndex !== 0) nonCanonical("userIndex set while flagged absent", {});
  if (!(flags & FLAG_CREDENTIAL_TYPE) && credentialCode !== 0) {
    nonCanonical("credentialType set while flagged absent", {});
  }
  if (!(flags & FLAG_CREDENTIAL_INDEX) && credentialIndex !== 0) {
    nonCanonical("credentialIndex set while flagged absent", {});
  }
  let credentialType: CredentialType | undefined;
  if (flags & FLAG_CREDENTIAL_TYPE) {
    credentialType = CREDENTIAL_TYPE_BY_CODE.get(credentialCode);
    if (credentialType === undefined) {
      throw new LatchkeyError(
        "LK_DECODE_INVALID",
        `journal event: credential type ${credentialCode} is not known`,
        {
          field: "actor.credentialType",
          value: credentialCode,
        },
      );
    }
  }
  const prevHash = r.viewOf(EVENT_HASH_BYTES, "prevHash");
  const count = r.u8("details count");
  if (count > DETAILS_MAX_ENTRIES) {
    throw new LatchkeyError("LK_DECODE_INVALID", `journal event: ${count} details, at most 32 allowed`, {
      field: "details count",
      count,
    });
  }
  const details: Record<string, string | number | boolean | Uint8Array> = {};
  let previousKey = "";
  for (let i = 0; i < count; i++) {
    const keyLength = r.u8(`details[${i}] key length`);
    if (keyLength < 1 || keyLength > DETAILS_MAX_KEY_BYTES) {
      throw new LatchkeyError("LK_DECODE_INVALID", `journal event: details[${i}] key is ${keyLength} bytes`, {
        field: `details[${i}] key`,
        length: keyLength,
      });
    }
    const keyBytes = r.viewOf(keyLength, `details[${i}] key`);
    const key = String.fromCharCode(...keyBytes);
    if (!DETAIL_KEY_PATTERN.test(key)) {
      throw new LatchkeyError(
        "LK_DECODE_INVALID",
        `journal event: details[${i}] key is not an ASCII identifier`,
        {
          field: `details[${i}] key`,
        },
      );
    }
    if (i > 0 && !(previousKey < key)) {
      nonCanonical(`details[${i}] key is not after the previous key in byte order`, { index: i });
    }
    previousKey = key;
    details[key] = readDetailValue(r, key);
  }
  const signature = r.viewOf(EVENT_SIGNATURE_BYTES, "signature");
  r.end();

  const actor: { userIndex?: number; credentialType?: CredentialType; credentialIndex?: number } = {};
  if (flags & FLAG_USER_INDEX) actor.userIndex = userIndex;
  if (credentialType !== undefined) actor.credentialType = credentialType;
  if (flags & FLAG_CREDENTIAL_INDEX) actor.credentialIndex = credentialIndex;
  return {
    version,
    lockId,
    seq,
    bootId,
    ...(monotonicMs === undefined ? {} : { monotonicMs }),
    lockTime: flags & FLAG_TIME_KNOWN ? (rawTime as EpochMs) : null,
    kind,
    actor,
    details,
    prevHash,
    signature,
    hash: sha256Fn(record),
  };
}

/** True when `record`'s signature verifies under `publicKey`. Never throws for malformed input. */
export function verifyLockEventRecord(record: Uint8Array, publicKey: Uint8Array, ed25519: Ed25519): boolean {
  if (record.length < EVENT_RECORD_MIN_BYTES) return false;
  const split = record.length - EVENT_SIGNATURE_BYTES;
  return ed25519.verify(publicKey, lockEventSigningInput(record.subarray(0, split)), record.subarray(split));
}

/** Raw 16-byte lock id: the first 16 bytes of SHA-256 of the lock's Ed25519 signing public key. */
export function lockIdBytesFromPublicKey(publicKey: Uint8Array): Uint8Array {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) {
    throw new LatchkeyError("JOURNAL_EVENT_INVALID", "lock signing public key must be 32 bytes", {
      field: "publicKey",
      length: publicKey?.length ?? 0,
    });
  }
  return sha256(publicKey).slice(0, LOCK_ID_BYTES);
}

/** The `LockId` string (lower-case hex of the raw id) of a lock's signing public key. */
export function lockIdFromPublicKey(publicKey: Uint8Array): LockId {
  return toHex(lockIdBytesFromPublicKey(publicKey)) as LockId;
}

/** Raw 16 bytes of a `LockId`; throws LK_DECODE_INVALID unless it is 32 hex digits. */
export function lockIdToBytes(id: LockId): Uint8Array {
  const bytes = fromHex(id);
  if (bytes.length !== LOCK_ID_BYTES) {
    throw new LatchkeyError("LK_DECODE_INVALID", `lock id must be ${LOCK_ID_BYTES * 2} hex digits`, {
      field: "lockId",
      length: id.length,
    });
  }
  return bytes;
}

/** `LockId` string of a raw 16-byte id. */
export function lockIdFromBytes(bytes: Uint8Array): LockId {
  checkLength(bytes, LOCK_ID_BYTES, "lockId");
  return toHex(bytes) as LockId;
}
