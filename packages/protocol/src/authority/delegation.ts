/**
 * Delegations: an authority-signed grant of a narrow power to a key the hub holds for automation.
 * Today the only power is renewing phone-key certificates: the hub's automation key may re-sign,
 * with a short lifetime, a digital key whose content an authority already signed (the *parent*).
 * It can only narrow the parent (fewer doors, fewer permissions, a window inside the parent's),
 * never widen it, never name another holder key, and only for the doors, window and lifetime the
 * delegation allows. There is no scope bit for unlocking, commissioning, revoking or changing
 * authority; decoders refuse unknown bits.
 *
 * Canonical fixed layout (big-endian), v1 — signed as an authorised record, purpose Delegation:
 *
 *   offset   size  field
 *        0      1  tag length (= 22)
 *        1     22  "latchkey/delegation/v1"
 *       23     16  site id
 *       39      8  serial u64 (≥ 1): names this delegation
 *       47     32  delegate key: the hub automation key's Ed25519 public key (not of small order)
 *       79      1  scope bits: bit 0 = renew phone-key certificates; other bits 0; at least one set
 *       80      8  not before, ms since the epoch
 *       88      8  not after, ms (> not before)
 *       96      8  max certificate lifetime, ms (1 ms – 31 days): notAfter − notBefore of a renewal
 *      104      1  certificate permissions allowed: bit 0 unlock, bit 1 remote unlock; nonzero;
 *                  bit 2 (administer) and above must be 0
 *      105      1  door count D (1–64)
 *      106   16·D  door ids (lock ids), strictly ascending
 */
import { ByteReader, ByteWriter, equalBytes } from "../encoding/bytes.js";
import { nobleEd25519, type Ed25519 } from "../crypto/ed25519.js";
import { LatchkeyError } from "../errors/error.js";
import {
  DigitalKeyPermission,
  MAX_DOORS,
  decodeDigitalKey,
  type DigitalKey,
  type DigitalKeyFields,
} from "../certificates/digital-key.js";
import { doorIdsProblem, invalid, isBytes, isInt, isStrongEd25519Key, malformed, readTag } from "./codec.js";
import { verifyAuthorisedRecord, type AuthorisedRecord, type AuthorisedRecordRefusal } from "./authorised.js";
import { AuthorityPurpose, SITE_ID_LENGTH } from "./purpose.js";
import type { AuthoritySetFields } from "./set.js";
import type { AuthoritySignatureOptions } from "./signature.js";
import type { AuthorityKey } from "./key.js";

export const DELEGATION_TAG = "latchkey/delegation/v1";
const TAG = new TextEncoder().encode(DELEGATION_TAG);
const WHAT = "delegation";

export const DelegationScope = {
  /** Re-sign an authority-signed digital key with a short lifetime (delegation.ts header). */
  RenewPhoneKeyCertificates: 0x01,
} as const;
export type DelegationScope = (typeof DelegationScope)[keyof typeof DelegationScope];
const ALL_SCOPES = 0x01;
const DELEGABLE_PERMISSIONS = DigitalKeyPermission.Unlock | DigitalKeyPermission.RemoteUnlock;
export const MAX_DELEGATED_CERTIFICATE_LIFETIME_MS = 31 * 24 * 3600_000;

export interface Delegation {
  readonly siteId: Uint8Array;
  readonly serial: bigint;
  readonly delegateKey: Uint8Array;
  readonly scope: number;
  readonly notBefore: number;
  readonly notAfter: number;
  readonly maxCertificateLifetimeMs: number;
  /** `DigitalKeyPermission` bits a renewed certificate may carry (never Administer). */
  readonly certificatePermissions: number;
  readonly doorIds: readonly Uint8Array[];
}

function delegationProblem(d: Delegation): [string, string] | null {
  if (typeof d !== "object" || d === null) return ["delegation", "must be an object"];
  if (!isBytes(d.siteId, SITE_ID_LENGTH)) return ["siteId", "must be 16 bytes"];
  if (typeof d.serial !== "bigint" || d.serial < 1n || d.serial > 0xffffffffffffffffn)
    return ["serial", "must be a u64 of at least 1"];
  if (!isBytes(d.delegateKey) || !isStrongEd25519Key(d.delegateKey))
    return ["delegateKey", "must be a 32-byte Ed25519 key not of small order"];
  if (!isInt(d.scope, 1, ALL_SCOPES)) return ["scope", "must grant something and use only known bits"];
  if (!isInt(d.notBefore, 0, Number.MAX_SAFE_INTEGER) || !isInt(d.notAfter, 0, Number.MAX_SAFE_INTEGER))
    return ["validity", "times must be ms since the epoch"];
  if (d.notAfter <= d.notBefore) return ["notAfter", "must be after notBefore"];
  if (!isInt(d.maxCertificateLifetimeMs, 1, MAX_DELEGATED_CERTIFICATE_LIFETIME_MS))
    return ["maxCertificateLifetimeMs", "must be 1 ms to 31 days"];
  if (!isInt(d.certificatePermissions, 1, 0xff) || (d.certificatePermissions & ~DELEGABLE_PERMISSIONS) !== 0)
    return ["certificatePermissions", "must be unlock and/or remote unlock only"];
  return doorIdsProblem(d.doorIds, MAX_DOORS);
}

export function encodeDelegation(d: Delegation): Uint8Array {
  const problem = delegationProblem(d);
  if (problem !== null) invalid(WHAT, problem[0], problem[1]);
  const w = new ByteWriter().u8(TAG.length).bytes(TAG).bytes(d.siteId).u64(d.serial).bytes(d.delegateKey);
  w.u8(d.scope).u64(d.notBefore).u64(d.notAfter).u64(d.maxCertificateLifetimeMs);
  w.u8(d.certificatePermissions).u8(d.doorIds.length);
  for (const id of d.doorIds) w.bytes(id);
  return w.finish();
}

/** AUTHORITY_MALFORMED or LK_DECODE_* only. */
export function decodeDelegation(bytes: Uint8Array): Delegation {
  const r = new ByteReader(bytes, WHAT);
  readTag(r, TAG, WHAT);
  const siteId = r.bytesFixed(SITE_ID_LENGTH, "siteId");
  const serial = r.u64("serial");
  const delegateKey = r.bytesFixed(32, "delegateKey");
  const scope = r.u8("scope");
  const notBefore = r.u64Number("notBefore");
  const notAfter = r.u64Number("notAfter");
  const maxCertificateLifetimeMs = r.u64Number("maxCertificateLifetimeMs");
  const certificatePermissions = r.u8("certificatePermissions");
  const count = r.u8("door count");
  if (count > MAX_DOORS) malformed(WHAT, "doorIds", `must list 1–${MAX_DOORS} doors`);
  const doorIds: Uint8Array[] = [];
  for (let i = 0; i < count; i++) doorIds.push(r.bytesFixed(16, `doorIds[${i}]`));
  r.end();
  const d = {
    siteId,
    serial,
    delegateKey,
    scope,
    notBefore,
    notAfter,
    maxCertificateLifetimeMs,
    certificatePermissions,
    doorIds,
  };
  const problem = delegationProblem(d);
  if (problem !== null) malformed(WHAT, problem[0], problem[1]);
  return d;
}

export type DelegationRefusal = AuthorisedRecordRefusal | "wrong-site";

export type DelegationVerdict =
  | { readonly ok: true; readonly delegation: Delegation; readonly signers: readonly AuthorityKey[] }
  | { readonly ok: false; readonly reason: DelegationRefusal };

/** Verifies an authorised delegation against the site's current authority set. Never throws for bad input. */
export function verifyDelegation(
  authorised: Uint8Array | AuthorisedRecord,
  set: AuthoritySetFields,
  opts: AuthoritySignatureOptions = {},
): DelegationVerdict {
  const v = verifyAuthorisedRecord(authorised, AuthorityPurpose.Delegation, set, opts);
  if (!v.ok) return { ok: false, reason: v.reason };
  let delegation: Delegation;
  try {
    delegation = decodeDelegation(v.record);
  } catch (e) {
    if (e instanceof LatchkeyError) return { ok: false, reason: "malformed" };
    throw e;
  }
  if (!equalBytes(delegation.siteId, set.siteId)) return { ok: false, reason: "wrong-site" };
  return { ok: true, delegation, signers: v.signers };
}

export type DelegatedCertificateRefusal =
  | "malformed"
  | "bad-signature"
  | "out-of-scope"
  | "delegation-not-yet-valid"
  | "delegation-expired"
  | "outside-delegation"
  | "lifetime-exceeded"
  | "permission-exceeded"
  | "door-not-delegated"
  | "not-the-parent"
  | "outside-parent";

export type DelegatedCertificateVerdict =
  | { readonly ok: true; readonly key: DigitalKey }
  | { readonly ok: false; readonly reason: DelegatedCertificateRefusal; readonly key: DigitalKey | null };

function sameSchedule(a: DigitalKeyFields["schedule"], b: DigitalKeyFields["schedule"]): boolean {
  return (
    a.length === b.length &&
    a.every((w, i) => {
      const v = b[i];
      return (
        v !== undefined &&
        w.daysMask === v.daysMask &&
        w.startHour === v.startHour &&
        w.startMinute === v.startMinute &&
        w.endHour === v.endHour &&
        w.endMinute === v.endMinute
      );
    })
  );
}

/**
 * Decides whether a digital-key certificate signed by a delegated key is within the delegation:
 *  - the certificate (digital-key v1) verifies under `delegation.delegateKey` (`bad-signature`);
 *  - the delegation has the renew scope (`out-of-scope`) and is valid at `now`
 *    (`delegation-not-yet-valid`, `delegation-expired`);
 *  - its window lies inside the delegation's (`outside-delegation`) and is no longer than the
 *    delegation's maximum lifetime (`lifetime-exceeded`);
 *  - its permissions are within both the delegation's and the parent's (`permission-exceeded`);
 *  - every door it names is in both the delegation's and the parent's list (`door-not-delegated`);
 *  - it is the parent's renewal: same serial (so revoking the parent revokes every renewal),
 *    subject, holder key and weekly schedule (`not-the-parent`), and its window lies inside the
 *    parent's (`outside-parent`).
 * `parent` must already be verified as authority-signed (purpose DigitalKey) by the caller; the
 * door, time, permission and schedule checks of the request itself remain `verifyDigitalKey`'s,
 * with the delegate key as the signer. Never throws for bad input.
 */
export function verifyDelegatedCertificate(
  certificate: Uint8Array,
  o: {
    readonly delegation: Delegation;
    readonly parent: DigitalKeyFields;
    readonly now: number;
    readonly ed25519?: Ed25519;
  },
): DelegatedCertificateVerdict {
  let key: DigitalKey;
  try {
    key = decodeDigitalKey(certificate);
  } catch (e) {
    if (e instanceof LatchkeyError) return { ok: false, reason: "malformed", key: null };
    throw e;
  }
  const refuse = (reason: DelegatedCertificateRefusal): DelegatedCertificateVerdict => ({
    ok: false,
    reason,
    key,
  });
  const d = o.delegation;
  const p = o.parent;
  if (!(o.ed25519 ?? nobleEd25519).verify(d.delegateKey, key.signedBytes, key.signature))
    return refuse("bad-signature");
  if ((d.scope & DelegationScope.RenewPhoneKeyCertificates) === 0) return refuse("out-of-scope");
  if (o.now < d.notBefore) return refuse("delegation-not-yet-valid");
  if (o.now > d.notAfter) return refuse("delegation-expired");
  if (key.notBefore < d.notBefore || key.notAfter > d.notAfter) return refuse("outside-delegation");
  if (key.notAfter - key.notBefore > d.maxCertificateLifetimeMs) return refuse("lifetime-exceeded");
  if ((key.permissions & ~(d.certificatePermissions & p.permissions)) !== 0)
    return refuse("permission-exceeded");
  const inList = (list: readonly Uint8Array[], id: Uint8Array): boolean =>
    list.some((x) => equalBytes(x, id));
  if (!key.doorIds.every((id) => inList(d.doorIds, id) && inList(p.doorIds, id)))
    return refuse("door-not-delegated");
  if (
    key.serial !== p.serial ||
    !equalBytes(key.subjectId, p.subjectId) ||
    key.holderKeyType !== p.holderKeyType ||
    !equalBytes(key.holderKey, p.holderKey) ||
    !sameSchedule(key.schedule, p.schedule)
  )
    return refuse("not-the-parent");
  if (key.notBefore < p.notBefore || key.notAfter > p.notAfter) return refuse("outside-parent");
  return { ok: true, key };
}
