/**
 * Phone keys on a commissioned lock need the owner's word: the presentation must carry a
 * digital-key certificate (docs/digital-keys.md) signed by the owner key installed at
 * commissioning, naming this door, valid at the lock's time, not revoked, with the unlock
 * permission, inside its weekly windows, and certifying exactly the phone key presented.
 * Refusals map to the runtime's DenyReason (journaled with the certificate's own reason).
 * A lock that was never commissioned has no owner key, so it refuses every phone key.
 */
import {
  DenyReason,
  DigitalKeyPermission,
  HolderKeyType,
  equalBytes,
  verifyDigitalKey,
  type DigitalKeyRefusal,
  type Ed25519,
} from "@latchkey/protocol";
import type { PhoneKeyCheck, PhoneKeyPolicy } from "../credentials/phone-key.js";
import type { LockCommissioning } from "./lock-commissioning.js";

/** How a certificate refusal is journaled (the exact refusal goes into the event's details too). */
export function denyReasonOfCertificate(
  reason: DigitalKeyRefusal | "wrong-key-type" | "key-mismatch",
): DenyReason {
  switch (reason) {
    case "revoked":
      return DenyReason.Revoked;
    case "expired":
      return DenyReason.Expired;
    case "outside-schedule":
      return DenyReason.OutsideSchedule;
    case "bad-signature":
    case "key-mismatch":
    case "malformed":
    case "not-yet-valid":
    case "permission-missing":
    case "wrong-door":
    case "wrong-key-type":
      return DenyReason.InvalidCertificate;
  }
}

export function certificatePhoneKeyCheck(p: {
  readonly commissioning: LockCommissioning;
  readonly doorId: Uint8Array;
  readonly ed25519: Ed25519;
}): NonNullable<PhoneKeyPolicy["extraCheck"]> {
  return (credential, presentation, nowMs): PhoneKeyCheck => {
    const owner = p.commissioning.ownerPublicKey;
    // Without an owner key nothing can vouch for a phone key: refuse rather than trust the key alone.
    if (owner === null)
      return { ok: false, reason: DenyReason.InvalidCertificate, detail: "not-commissioned" };
    if (presentation.certificate === undefined || presentation.certificate.length === 0)
      return { ok: false, reason: DenyReason.InvalidCertificate, detail: "missing" };
    if (nowMs === null) return { ok: false, reason: DenyReason.TimeUnknown, detail: "time-unknown" };
    const verdict = verifyDigitalKey(presentation.certificate, {
      ownerPublicKey: owner,
      doorId: p.doorId,
      now: nowMs,
      revocationList: p.commissioning.revocation?.list ?? null,
      permission: DigitalKeyPermission.Unlock,
      utcOffsetMinutes: p.commissioning.utcOffsetMinutes,
      ed25519: p.ed25519,
    });
    if (!verdict.ok)
      return { ok: false, reason: denyReasonOfCertificate(verdict.reason), detail: verdict.reason };
    const key = verdict.key;
    const expectedType = credential.algorithm === "Ed25519" ? HolderKeyType.Ed25519 : HolderKeyType.P256;
    if (key.holderKeyType !== expectedType || !equalBytes(key.holderKey, credential.publicKey))
      return { ok: false, reason: DenyReason.InvalidCertificate, detail: "key-mismatch" };
    return { ok: true };
  };
}
