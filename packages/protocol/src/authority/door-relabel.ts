/**
 * Door relabels: an authority's signed statement of a door's name and time zone, replacing the
 * ones in the lock's commissioning record (version 0) for reports and verifiers. The time zone
 * matters to evidence (the report's local times), so the hub cannot change it on its own.
 *
 * Canonical fixed layout (big-endian), v1 — signed as an authorised record, purpose DoorRelabel:
 *
 *   offset   size  field
 *        0      1  tag length (= 24)
 *        1     24  "latchkey/door-relabel/v1"
 *       25     16  lock id (the door's lock, as in its commissioning record)
 *       41      8  version u64 (≥ 1; strictly increases per lock; the commissioning record is 0)
 *       49      8  issued at, ms since the epoch (the signer's clock; informative)
 *       57      2  door name length N (1–128) ‖ N bytes UTF-8
 *     59+N      2  time zone length Z (1–64) ‖ Z bytes: IANA zone name (A–Z a–z 0–9 / _ - +)
 */
import { ByteReader, ByteWriter, equalBytes } from "../encoding/bytes.js";
import { LatchkeyError } from "../errors/error.js";
import { decodeUtf8, invalid, isBytes, isInt, malformed, readTag, utf8Within } from "./codec.js";
import { verifyAuthorisedRecord, type AuthorisedRecord, type AuthorisedRecordRefusal } from "./authorised.js";
import type { AuthorityKey } from "./key.js";
import { AuthorityPurpose } from "./purpose.js";
import type { AuthoritySetFields } from "./set.js";
import type { AuthoritySignatureOptions } from "./signature.js";

export const DOOR_RELABEL_TAG = "latchkey/door-relabel/v1";
const TAG = new TextEncoder().encode(DOOR_RELABEL_TAG);
const WHAT = "door relabel";
export const MAX_DOOR_NAME_BYTES = 128;
export const MAX_TIME_ZONE_BYTES = 64;
const TIME_ZONE = /^[A-Za-z0-9/_+-]+$/;

export interface DoorRelabel {
  readonly lockId: Uint8Array;
  readonly version: number;
  readonly issuedAt: number;
  readonly doorName: string;
  readonly timeZone: string;
}

function relabelProblem(d: DoorRelabel): [string, string] | null {
  if (typeof d !== "object" || d === null) return ["relabel", "must be an object"];
  if (!isBytes(d.lockId, 16)) return ["lockId", "must be 16 bytes"];
  if (!isInt(d.version, 1, Number.MAX_SAFE_INTEGER)) return ["version", "must be a positive integer"];
  if (!isInt(d.issuedAt, 0, Number.MAX_SAFE_INTEGER)) return ["issuedAt", "must be ms since the epoch"];
  if (utf8Within(d.doorName, MAX_DOOR_NAME_BYTES) === null)
    return ["doorName", `must be 1–${MAX_DOOR_NAME_BYTES} bytes of UTF-8`];
  if (utf8Within(d.timeZone, MAX_TIME_ZONE_BYTES) === null || !TIME_ZONE.test(d.timeZone))
    return ["timeZone", `must be an IANA zone name of 1–${MAX_TIME_ZONE_BYTES} characters`];
  return null;
}

export function encodeDoorRelabel(d: DoorRelabel): Uint8Array {
  const problem = relabelProblem(d);
  if (problem !== null) invalid(WHAT, problem[0], problem[1]);
  return new ByteWriter()
    .u8(TAG.length)
    .bytes(TAG)
    .bytes(d.lockId)
    .u64(d.version)
    .u64(d.issuedAt)
    .utf8Var16(d.doorName)
    .utf8Var16(d.timeZone)
    .finish();
}

/** AUTHORITY_MALFORMED or LK_DECODE_* only. */
export function decodeDoorRelabel(bytes: Uint8Array): DoorRelabel {
  const r = new ByteReader(bytes, WHAT);
  readTag(r, TAG, WHAT);
  const lockId = r.bytesFixed(16, "lockId");
  const version = r.u64Number("version");
  const issuedAt = r.u64Number("issuedAt");
  const doorName = decodeUtf8(r.bytesVar16("doorName", MAX_DOOR_NAME_BYTES), WHAT, "doorName");
  const timeZone = decodeUtf8(r.bytesVar16("timeZone", MAX_TIME_ZONE_BYTES), WHAT, "timeZone");
  r.end();
  const d = { lockId, version, issuedAt, doorName, timeZone };
  const problem = relabelProblem(d);
  if (problem !== null) malformed(WHAT, problem[0], problem[1]);
  return d;
}

export type DoorRelabelRefusal = AuthorisedRecordRefusal | "wrong-lock" | "stale-version";

export type DoorRelabelVerdict =
  | { readonly ok: true; readonly relabel: DoorRelabel; readonly signers: readonly AuthorityKey[] }
  | { readonly ok: false; readonly reason: DoorRelabelRefusal };

/**
 * Verifies an authorised relabel for the lock `lockId` whose installed label has
 * `installedVersion` (0 = the commissioning record's): authority-signed under `set`, this lock
 * (`wrong-lock`), and a newer version (`stale-version` otherwise, so an old name cannot come
 * back). Never throws for bad input.
 */
export function verifyDoorRelabel(
  authorised: Uint8Array | AuthorisedRecord,
  set: AuthoritySetFields,
  o: { readonly lockId: Uint8Array; readonly installedVersion: number },
  opts: AuthoritySignatureOptions = {},
): DoorRelabelVerdict {
  const v = verifyAuthorisedRecord(authorised, AuthorityPurpose.DoorRelabel, set, opts);
  if (!v.ok) return { ok: false, reason: v.reason };
  let relabel: DoorRelabel;
  try {
    relabel = decodeDoorRelabel(v.record);
  } catch (e) {
    if (e instanceof LatchkeyError) return { ok: false, reason: "malformed" };
    throw e;
  }
  if (!equalBytes(relabel.lockId, o.lockId)) return { ok: false, reason: "wrong-lock" };
  if (relabel.version <= o.installedVersion) return { ok: false, reason: "stale-version" };
  return { ok: true, relabel, signers: v.signers };
}
