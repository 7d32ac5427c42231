/**
 * Phone keys: the lock issues a fresh, single-use challenge; the phone signs
 * `domain ‖ nonce ‖ lockId` with the key registered on the lock. `verifyPhoneKeyPresentation` is
 * the one decision step for phone keys: certificate checks (issuer, validity, doors, revocation)
 * plug in through `PhoneKeyPolicy.extraCheck` without touching the runtime.
 */
import { randomBytes } from "node:crypto";
import { p256 } from "@noble/curves/nist.js";
import { DenyReason, concatBytes, type Ed25519 } from "@latchkey/protocol";
import type { PhoneKeyCredential } from "./credential.js";

/** The protocol's phone-key format (`signPhoneKeyUnlock` in @latchkey/protocol signs the same bytes). */
export const PHONE_UNLOCK_DOMAIN = "latchkey/phone-key-unlock/v1";

export interface PhoneChallenge {
  readonly nonce: Uint8Array;
  /** Monotonic milliseconds after which the challenge is refused. */
  readonly expiresAtMono: number;
}

export interface PhoneKeyPresentation {
  readonly publicKey: Uint8Array;
  readonly nonce: Uint8Array;
  readonly signature: Uint8Array;
  /** Opaque extra material (a certificate chain) for `extraCheck`; unused by the base check. */
  readonly certificate?: Uint8Array;
}

export type PhoneKeyCheck =
  | { readonly ok: true }
  /** `detail` (e.g. the certificate's refusal, "expired") is journaled beside the reason. */
  | { readonly ok: false; readonly reason: DenyReason; readonly detail?: string };

export interface PhoneKeyPolicy {
  readonly ed25519: Ed25519;
  /** Called after the signature checked out; return a DenyReason to refuse (e.g. InvalidCertificate). */
  readonly extraCheck?: (
    credential: PhoneKeyCredential,
    presentation: PhoneKeyPresentation,
    nowMs: number | null,
  ) => PhoneKeyCheck;
}

/** `"latchkey/phone-key-unlock/v1" ‖ challenge ‖ door (lock) id`, as docs/digital-keys.md specifies. */
export function phoneUnlockMessage(lockId: Uint8Array, nonce: Uint8Array): Uint8Array {
  return concatBytes(new TextEncoder().encode(PHONE_UNLOCK_DOMAIN), nonce, lockId);
}

/** Outstanding challenges; each is consumed by its first use, valid or not. */
export class PhoneChallenges {
  private readonly open = new Map<string, PhoneChallenge>();
  constructor(private readonly lifetimeMs: number) {}

  issue(nowMono: number): PhoneChallenge {
    // Bounded: drop expired ones so a flood of requests cannot grow memory without limit.
    for (const [k, c] of this.open) if (c.expiresAtMono <= nowMono) this.open.delete(k);
    if (this.open.size >= 64) {
      const oldest = this.open.keys().next().value;
      if (oldest !== undefined) this.open.delete(oldest);
    }
    const challenge = { nonce: new Uint8Array(randomBytes(32)), expiresAtMono: nowMono + this.lifetimeMs };
    this.open.set(Buffer.from(challenge.nonce).toString("hex"), challenge);
    return challenge;
  }

  /** True when the nonce was issued, is unexpired and unused; consumes it either way. */
  consume(nonce: Uint8Array, nowMono: number): boolean {
    const key = Buffer.from(nonce).toString("hex");
    const c = this.open.get(key);
    if (c === undefined) return false;
    this.open.delete(key);
    return c.expiresAtMono > nowMono;
  }
}

export function verifyPhoneSignature(
  credential: PhoneKeyCredential,
  message: Uint8Array,
  signature: Uint8Array,
  ed25519: Ed25519,
): boolean {
  if (credential.algorithm === "Ed25519") return ed25519.verify(credential.publicKey, message, signature);
  try {
    // ECDSA P-256 over SHA-256(message), 64-byte compact (r ‖ s) signature, low-S not required.
    return p256.verify(signature, message, credential.publicKey, { lowS: false });
  } catch {
    return false;
  }
}

/**
 * The phone-key decision step: fresh challenge, signature by the registered key, then the policy's
 * extra check. The caller has already found `credential` by the presented public key.
 */
export function verifyPhoneKeyPresentation(
  credential: PhoneKeyCredential,
  presentation: PhoneKeyPresentation,
  ctx: {
    lockId: Uint8Array;
    challenges: PhoneChallenges;
    nowMono: number;
    nowMs: number | null;
    policy: PhoneKeyPolicy;
  },
): PhoneKeyCheck {
  if (!ctx.challenges.consume(presentation.nonce, ctx.nowMono))
    return { ok: false, reason: DenyReason.StaleChallenge };
  const message = phoneUnlockMessage(ctx.lockId, presentation.nonce);
  if (!verifyPhoneSignature(credential, message, presentation.signature, ctx.policy.ed25519)) {
    return { ok: false, reason: DenyReason.BadSignature };
  }
  return ctx.policy.extraCheck?.(credential, presentation, ctx.nowMs) ?? { ok: true };
}
