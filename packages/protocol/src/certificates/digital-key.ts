/**
 * Digital-key certificates: a site owner's signed statement "this holder key may open these doors,
 * in this window, at these times, with these permissions". Locks verify them offline against the
 * owner key installed at commissioning.
 *
 * Canonical fixed layout (big-endian), v1 — one encoding per content:
 *
 *   tag length u8 (=23) ‖ "latchkey/digital-key/v1"
 *   serial u64                       unique per owner; what revocation lists name
 *   subject id 16 bytes              the person on the hub (for events), opaque to the lock
 *   holder key type u8               1 = Ed25519 (32 bytes), 2 = P-256 uncompressed (65 bytes, passkeys)
 *   holder key
 *   not before u64 ms, not after u64 ms (inclusive; not after > not before)
 *   permissions u8                   bit 0 unlock, bit 1 remote unlock, bit 2 administer; others 0
 *   door count u8 (1–64) ‖ door ids 16 bytes each, strictly ascending
 *   window count u8 (0–16) ‖ windows: days mask u8 (Matter DaysMaskMap, 1–127), start hour u8,
 *                                     start minute u8, end hour u8, end minute u8 (end > start)
 *   signature 64                     Ed25519 by the owner key over every byte before it
 *
 * An empty window list means "any time inside the validity window". Windows use the lock's local
 * time (the offset the hub sets with SetTime).
 */
import { p256 } from "@noble/curves/nist.js";
import { LatchkeyError } from "../errors/error.js";
import { ByteReader, ByteWriter, equalBytes } from "../encoding/bytes.js";
import { nobleEd25519, type Ed25519 } from "../crypto/ed25519.js";
import { isRevoked, type RevocationList } from "./revocation.js";

export const DIGITAL_KEY_TAG = "latchkey/digital-key/v1";
const TAG_BYTES = new TextEncoder().encode(DIGITAL_KEY_TAG);

export const HolderKeyType = { Ed25519: 1, P256: 2 } as const;
export type HolderKeyType = (typeof HolderKeyType)[keyof typeof HolderKeyType];
const HOLDER_KEY_LENGTH: Record<HolderKeyType, number> = { 1: 32, 2: 65 };

export const DigitalKeyPermission = {
  Unlock: 0x01,
  RemoteUnlock: 0x02,
  Administer: 0x04,
} as const;
export type DigitalKeyPermission = (typeof DigitalKeyPermission)[keyof typeof DigitalKeyPermission];
const ALL_PERMISSIONS = 0x07;

export const MAX_DOORS = 64;
export const MAX_WINDOWS = 16;

export interface WeeklyWindow {
  /** Matter DaysMaskMap: Sunday = 0x01 … Saturday = 0x40. */
  readonly daysMask: number;
  readonly startHour: number;
  readonly startMinute: number;
  readonly endHour: number;
  readonly endMinute: number;
}

export interface DigitalKeyFields {
  readonly serial: bigint;
  readonly subjectId: Uint8Array;
  readonly holderKeyType: HolderKeyType;
  readonly holderKey: Uint8Array;
  readonly notBefore: number;
  readonly notAfter: number;
  readonly permissions: number;
  /** 16-byte lock ids (raw `LockId`). */
  readonly doorIds: readonly Uint8Array[];
  readonly schedule: readonly WeeklyWindow[];
}

export interface DigitalKey extends DigitalKeyFields {
  /** Every byte the signature covers. */
  readonly signedBytes: Uint8Array;
  readonly signature: Uint8Array;
}

function invalidFields(field: string, why: string): never {
  throw new LatchkeyError("CERT_INVALID_FIELDS", `digital key: ${field} ${why}`, { field });
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

function isUncompressedP256Point(k: Uint8Array): boolean {
  if (k[0] !== 0x04) return false;
  try {
    p256.Point.fromBytes(k).assertValidity();
    return true;
  } catch {
    return false;
  }
}

/** Not a type guard on purpose: Array.isArray would widen a readonly array to any[]. */
function isList(x: unknown): boolean {
  return Array.isArray(x);
}

function int(v: number, min: number, max: number): boolean {
  return Number.isSafeInteger(v) && v >= min && v <= max;
}

function windowProblem(w: WeeklyWindow): string | null {
  if (!int(w.daysMask, 1, 0x7f)) return "days mask must be 1–127";
  if (!int(w.startHour, 0, 23) || !int(w.endHour, 0, 23)) return "hours must be 0–23";
  if (!int(w.startMinute, 0, 59) || !int(w.endMinute, 0, 59)) return "minutes must be 0–59";
  if (w.endHour * 60 + w.endMinute <= w.startHour * 60 + w.startMinute) return "must end after it starts";
  return null;
}

/** Every rule of the layout, shared by signing (CERT_INVALID_FIELDS) and decoding (CERT_MALFORMED). */
function fieldProblem(f: DigitalKeyFields): [field: string, why: string] | null {
  if (typeof f.serial !== "bigint" || f.serial < 0n || f.serial > 0xffffffffffffffffn)
    return ["serial", "must be a u64"];
  if (!(f.subjectId instanceof Uint8Array) || f.subjectId.length !== 16)
    return ["subjectId", "must be 16 bytes"];
  const keyLength = HOLDER_KEY_LENGTH[f.holderKeyType];
  if (keyLength === undefined) return ["holderKeyType", "is unknown"];
  if (!(f.holderKey instanceof Uint8Array) || f.holderKey.length !== keyLength)
    return ["holderKey", `must be ${keyLength} bytes`];
  if (f.holderKeyType === HolderKeyType.P256 && !isUncompressedP256Point(f.holderKey))
    return ["holderKey", "must be an uncompressed P-256 point"];
  if (!int(f.notBefore, 0, Number.MAX_SAFE_INTEGER) || !int(f.notAfter, 0, Number.MAX_SAFE_INTEGER))
    return ["validity", "times must be ms since the epoch"];
  if (f.notAfter <= f.notBefore) return ["notAfter", "must be after notBefore"];
  if (!int(f.permissions, 1, ALL_PERMISSIONS))
    return ["permissions", "must grant something and use only known bits"];
  if (!isList(f.doorIds) || f.doorIds.length < 1 || f.doorIds.length > MAX_DOORS)
    return ["doorIds", `must list 1–${MAX_DOORS} doors`];
  for (let i = 0; i < f.doorIds.length; i++) {
    const d = f.doorIds[i];
    if (!(d instanceof Uint8Array) || d.length !== 16) return [`doorIds[${i}]`, "must be 16 bytes"];
    const prev = f.doorIds[i - 1];
    if (prev !== undefined && compareBytes(prev, d) >= 0)
      return [`doorIds[${i}]`, "must be strictly ascending"];
  }
  if (!isList(f.schedule) || f.schedule.length > MAX_WINDOWS)
    return ["schedule", `must hold at most ${MAX_WINDOWS} windows`];
  for (let i = 0; i < f.schedule.length; i++) {
    const w = f.schedule[i];
    const problem = w === undefined ? "is missing" : windowProblem(w);
    if (problem !== null) return [`schedule[${i}]`, problem];
  }
  return null;
}

function encodeBody(f: DigitalKeyFields): Uint8Array {
  const w = new ByteWriter().u8(TAG_BYTES.length).bytes(TAG_BYTES);
  w.u64(f.serial).bytes(f.subjectId).u8(f.holderKeyType).bytes(f.holderKey);
  w.u64(f.notBefore).u64(f.notAfter).u8(f.permissions);
  w.u8(f.doorIds.length);
  for (const d of f.doorIds) w.bytes(d);
  w.u8(f.schedule.length);
  for (const s of f.schedule)
    w.u8(s.daysMask).u8(s.startHour).u8(s.startMinute).u8(s.endHour).u8(s.endMinute);
  return w.finish();
}

/** Sorts door ids into canonical order (callers may pass them in any order). */
export function canonicalDoorIds(doorIds: readonly Uint8Array[]): Uint8Array[] {
  return [...doorIds].sort(compareBytes);
}

/** Signs a certificate with the owner's Ed25519 seed; CERT_INVALID_FIELDS on bad fields. */
export function signDigitalKey(
  fields: DigitalKeyFields,
  ownerSecretSeed: Uint8Array,
  ed: Ed25519 = nobleEd25519,
): Uint8Array {
  const problem = fieldProblem(fields);
  if (problem !== null) invalidFields(problem[0], problem[1]);
  const body = encodeBody(fields);
  const out = new Uint8Array(body.length + 64);
  out.set(body);
  out.set(ed.sign(ownerSecretSeed, body), body.length);
  return out;
}

function malformed(why: string, field: string): never {
  throw new LatchkeyError("CERT_MALFORMED", `digital key: ${why}`, { field });
}

/** Decodes without verifying the signature. Throws CERT_MALFORMED or LK_DECODE_* only. */
export function decodeDigitalKey(bytes: Uint8Array): DigitalKey {
  const r = new ByteReader(bytes, "digital key");
  const tagLength = r.u8("tag length");
  if (tagLength !== TAG_BYTES.length) malformed("unknown tag or version", "tag");
  if (!equalBytes(r.bytesFixed(tagLength, "tag"), TAG_BYTES)) malformed("unknown tag or version", "tag");
  const serial = r.u64("serial");
  const subjectId = r.bytesFixed(16, "subjectId");
  const holderKeyType = r.u8("holderKeyType") as HolderKeyType;
  const keyLength = HOLDER_KEY_LENGTH[holderKeyType];
  if (keyLength === undefined) malformed("unknown holder key type", "holderKeyType");
  const holderKey = r.bytesFixed(keyLength, "holderKey");
  const notBefore = r.u64Number("notBefore");
  const notAfter = r.u64Number("notAfter");
  const permissions = r.u8("permissions");
  const doorCount = r.u8("door count");
  if (doorCount > MAX_DOORS) malformed("too many doors", "doorIds");
  const doorIds: Uint8Array[] = [];
  for (let i = 0; i < doorCount; i++) doorIds.push(r.bytesFixed(16, `doorIds[${i}]`));
  const windowCount = r.u8("window count");
  if (windowCount > MAX_WINDOWS) malformed("too many schedule windows", "schedule");
  const schedule: WeeklyWindow[] = [];
  for (let i = 0; i < windowCount; i++) {
    schedule.push({
      daysMask: r.u8(`schedule[${i}].daysMask`),
      startHour: r.u8(`schedule[${i}].startHour`),
      startMinute: r.u8(`schedule[${i}].startMinute`),
      endHour: r.u8(`schedule[${i}].endHour`),
      endMinute: r.u8(`schedule[${i}].endMinute`),
    });
  }
  const signedLength = r.position;
  const signature = r.bytesFixed(64, "signature");
  r.end();
  const key = {
    serial,
    subjectId,
    holderKeyType,
    holderKey,
    notBefore,
    notAfter,
    permissions,
    doorIds,
    schedule,
    signedBytes: bytes.slice(0, signedLength),
    signature,
  };
  const problem = fieldProblem(key);
  if (problem !== null) malformed(`${problem[0]} ${problem[1]}`, problem[0]);
  return key;
}

export type DigitalKeyRefusal =
  | "malformed"
  | "bad-signature"
  | "revoked"
  | "wrong-door"
  | "not-yet-valid"
  | "expired"
  | "permission-missing"
  | "outside-schedule";

export type DigitalKeyVerdict =
  | { readonly ok: true; readonly key: DigitalKey }
  | { readonly ok: false; readonly reason: DigitalKeyRefusal; readonly key: DigitalKey | null };

export interface VerifyDigitalKeyOptions {
  /** The site owner's Ed25519 public key installed at commissioning. */
  readonly ownerPublicKey: Uint8Array;
  /** This lock's 16-byte id. */
  readonly doorId: Uint8Array;
  /** The lock's clock (UTC ms). */
  readonly now: number;
  /** The installed, verified revocation list (null when none was ever installed). */
  readonly revocationList: RevocationList | null;
  /** The permission the request needs (one bit of `DigitalKeyPermission`). */
  readonly permission: DigitalKeyPermission;
  /** Local time offset for weekly windows (minutes east of UTC); 0 by default. */
  readonly utcOffsetMinutes?: number;
  readonly ed25519?: Ed25519;
}

/** Whether `utcMs` falls inside one of the windows (local time = UTC + offset). */
export function insideSchedule(
  schedule: readonly WeeklyWindow[],
  utcMs: number,
  utcOffsetMinutes = 0,
): boolean {
  if (schedule.length === 0) return true;
  const local = new Date(utcMs + utcOffsetMinutes * 60_000);
  const dayBit = 1 << local.getUTCDay(); // Sunday = 0 → 0x01, as Matter's DaysMaskMap
  const minute = local.getUTCHours() * 60 + local.getUTCMinutes();
  return schedule.some(
    (w) =>
      (w.daysMask & dayBit) !== 0 &&
      minute >= w.startHour * 60 + w.startMinute &&
      minute < w.endHour * 60 + w.endMinute,
  );
}

/**
 * Verifies a certificate for one request at one door. Never throws for bad input: a refusal
 * names its reason. Checks, in order: decoding, owner signature, revocation, door, validity
 * window, permission, weekly schedule.
 */
export function verifyDigitalKey(certificate: Uint8Array, o: VerifyDigitalKeyOptions): DigitalKeyVerdict {
  let key: DigitalKey;
  try {
    key = decodeDigitalKey(certificate);
  } catch (e) {
    if (e instanceof LatchkeyError) return { ok: false, reason: "malformed", key: null };
    throw e;
  }
  const refuse = (reason: DigitalKeyRefusal): DigitalKeyVerdict => ({ ok: false, reason, key });
  if (!(o.ed25519 ?? nobleEd25519).verify(o.ownerPublicKey, key.signedBytes, key.signature))
    return refuse("bad-signature");
  if (o.revocationList !== null && isRevoked(o.revocationList, key.serial)) return refuse("revoked");
  if (!key.doorIds.some((d) => equalBytes(d, o.doorId))) return refuse("wrong-door");
  if (o.now < key.notBefore) return refuse("not-yet-valid");
  if (o.now > key.notAfter) return refuse("expired");
  if ((key.permissions & o.permission) !== o.permission) return refuse("permission-missing");
  if (!insideSchedule(key.schedule, o.now, o.utcOffsetMinutes ?? 0)) return refuse("outside-schedule");
  return { ok: true, key };
}
