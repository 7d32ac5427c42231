/**
 * The lock's decision on a remote unlock by a person: their digital-key certificate (owner-signed,
 * for this door, valid now, not revoked, with the remote-unlock permission, holding a P-256
 * passkey) plus a WebAuthn assertion by that passkey whose challenge is SHA-256 of the unlock
 * intent (unlock-intent.ts): the nonce this lock issued (unused, fresh), the proposal id, the
 * snapshot hash and this door's id. Changing any of them after the person signed is a
 * `challenge-mismatch`. Only a request that passes every check spends the nonce; any refusal
 * leaves the challenge book untouched and names its reason.
 */
import type { Ed25519 } from "../crypto/ed25519.js";
import {
  HolderKeyType,
  DigitalKeyPermission,
  verifyDigitalKey,
  type DigitalKey,
  type DigitalKeyRefusal,
} from "../certificates/digital-key.js";
import type { RevocationList } from "../certificates/revocation.js";
import { verifyAssertion, type WebAuthnAssertion, type WebAuthnRefusal } from "./assertion.js";
import type { ChallengeBook, ChallengeStatus } from "./challenge-book.js";
import { isWellFormedIntent, remoteUnlockChallenge } from "./unlock-intent.js";

export type RemoteUnlockRefusal =
  DigitalKeyRefusal | WebAuthnRefusal | Exclude<ChallengeStatus, "ok"> | "wrong-key-type";

export type RemoteUnlockVerdict =
  | {
      readonly ok: true;
      readonly key: DigitalKey;
      /** Store per certificate serial; pass back as `previousSignCount` next time. */
      readonly signCount: number;
      /** What the person's signature covers (copies of the request's fields), for the lock's event. */
      readonly proposalId: Uint8Array;
      readonly snapshotHash: Uint8Array;
    }
  | { readonly ok: false; readonly reason: RemoteUnlockRefusal; readonly key: DigitalKey | null };

export interface RemoteUnlockRequest extends WebAuthnAssertion {
  readonly certificate: Uint8Array;
  /** The lock's nonce the intent was built on (32 bytes). */
  readonly challenge: Uint8Array;
  /** The proposal the person approved (16 bytes). */
  readonly proposalId: Uint8Array;
  /** SHA-256 of the snapshot they were shown; 32 zero bytes when none. */
  readonly snapshotHash: Uint8Array;
}

export interface RemoteUnlockContext {
  readonly challenges: ChallengeBook;
  readonly ownerPublicKey: Uint8Array;
  readonly doorId: Uint8Array;
  readonly now: number;
  readonly revocationList: RevocationList | null;
  /** Origins of the hub's web app, e.g. ["https://latchkey.home.arpa:8443"]. */
  readonly origins: readonly string[];
  readonly rpId: string;
  /** The stored signature counter for a certificate serial (0 if never seen). */
  readonly previousSignCount: (serial: bigint) => number;
  readonly utcOffsetMinutes?: number;
  readonly requireUserVerification?: boolean;
  readonly ed25519?: Ed25519;
}

export function verifyRemoteUnlock(req: RemoteUnlockRequest, ctx: RemoteUnlockContext): RemoteUnlockVerdict {
  const certVerdict = verifyDigitalKey(req.certificate, {
    ownerPublicKey: ctx.ownerPublicKey,
    doorId: ctx.doorId,
    now: ctx.now,
    revocationList: ctx.revocationList,
    permission: DigitalKeyPermission.RemoteUnlock,
    ...(ctx.utcOffsetMinutes === undefined ? {} : { utcOffsetMinutes: ctx.utcOffsetMinutes }),
    ...(ctx.ed25519 === undefined ? {} : { ed25519: ctx.ed25519 }),
  });
  if (!certVerdict.ok) return certVerdict;
  const key = certVerdict.key;
  if (key.holderKeyType !== HolderKeyType.P256) return { ok: false, reason: "wrong-key-type", key };

  const intent = {
    nonce: req.challenge,
    proposalId: req.proposalId,
    snapshotHash: req.snapshotHash,
    doorId: ctx.doorId,
  };
  if (!isWellFormedIntent(intent)) return { ok: false, reason: "malformed", key };
  const status = ctx.challenges.check(req.challenge);
  if (status !== "ok") return { ok: false, reason: status, key };

  // The signed challenge must be this intent's: another proposal, picture, door or nonce fails here.
  const verdict = verifyAssertion(req, key.holderKey, {
    challenge: remoteUnlockChallenge(intent),
    origins: ctx.origins,
    rpId: ctx.rpId,
    previousSignCount: ctx.previousSignCount(key.serial),
    ...(ctx.requireUserVerification === undefined
      ? {}
      : { requireUserVerification: ctx.requireUserVerification }),
  });
  if (!verdict.ok) return { ok: false, reason: verdict.reason, key };
  ctx.challenges.consume(req.challenge);
  return {
    ok: true,
    key,
    signCount: verdict.signCount,
    proposalId: req.proposalId.slice(),
    snapshotHash: req.snapshotHash.slice(),
  };
}
