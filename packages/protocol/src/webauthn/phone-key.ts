/**
 * Phone-key unlock at the door (phone ↔ lock, Ed25519 holder key): the phone signs
 * "latchkey/phone-key-unlock/v1" ‖ challenge ‖ door id with the key its certificate names. The
 * same single-use challenges as remote unlocks; the certificate needs the unlock permission.
 */
import { nobleEd25519, type Ed25519 } from "../crypto/ed25519.js";
import {
  HolderKeyType,
  DigitalKeyPermission,
  verifyDigitalKey,
  type DigitalKey,
  type DigitalKeyRefusal,
} from "../certificates/digital-key.js";
import type { RevocationList } from "../certificates/revocation.js";
import { concatBytes } from "../encoding/bytes.js";
import type { ChallengeBook, ChallengeStatus } from "./challenge-book.js";

export const PHONE_KEY_UNLOCK_TAG = "latchkey/phone-key-unlock/v1";

export function phoneKeyUnlockMessage(challenge: Uint8Array, doorId: Uint8Array): Uint8Array {
  return concatBytes(new TextEncoder().encode(PHONE_KEY_UNLOCK_TAG), challenge, doorId);
}

export function signPhoneKeyUnlock(
  holderSeed: Uint8Array,
  challenge: Uint8Array,
  doorId: Uint8Array,
  ed: Ed25519 = nobleEd25519,
): Uint8Array {
  return ed.sign(holderSeed, phoneKeyUnlockMessage(challenge, doorId));
}

export type PhoneKeyRefusal =
  DigitalKeyRefusal | Exclude<ChallengeStatus, "ok"> | "wrong-key-type" | "bad-holder-signature";

export type PhoneKeyVerdict =
  | { readonly ok: true; readonly key: DigitalKey }
  | { readonly ok: false; readonly reason: PhoneKeyRefusal; readonly key: DigitalKey | null };

export function verifyPhoneKeyUnlock(
  req: { readonly certificate: Uint8Array; readonly challenge: Uint8Array; readonly signature: Uint8Array },
  ctx: {
    readonly challenges: ChallengeBook;
    readonly ownerPublicKey: Uint8Array;
    readonly doorId: Uint8Array;
    readonly now: number;
    readonly revocationList: RevocationList | null;
    readonly utcOffsetMinutes?: number;
    readonly ed25519?: Ed25519;
  },
): PhoneKeyVerdict {
  const ed = ctx.ed25519 ?? nobleEd25519;
  const cert = verifyDigitalKey(req.certificate, {
    ownerPublicKey: ctx.ownerPublicKey,
    doorId: ctx.doorId,
    now: ctx.now,
    revocationList: ctx.revocationList,
    permission: DigitalKeyPermission.Unlock,
    utcOffsetMinutes: ctx.utcOffsetMinutes ?? 0,
    ed25519: ed,
  });
  if (!cert.ok) return cert;
  const key = cert.key;
  if (key.holderKeyType !== HolderKeyType.Ed25519) return { ok: false, reason: "wrong-key-type", key };
  const status = ctx.challenges.check(req.challenge);
  if (status !== "ok") return { ok: false, reason: status, key };
  if (!ed.verify(key.holderKey, phoneKeyUnlockMessage(req.challenge, ctx.doorId), req.signature))
    return { ok: false, reason: "bad-holder-signature", key };
  ctx.challenges.consume(req.challenge);
  return { ok: true, key };
}
