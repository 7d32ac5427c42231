/**
 * The remote-unlock intent: what an approver's passkey signs when they open a door from the web
 * app. The WebAuthn challenge is not the lock's nonce itself but SHA-256 of a fixed 121-byte
 * record that binds the nonce to the proposal the approver saw and the picture shown with it:
 *
 *   offset  size  field
 *        0    25  ASCII "latchkey/remote-unlock/v1" (purpose tag; no length prefix, no NUL)
 *       25    32  nonce: the lock's one-time challenge (UnlockChallenge.challenge)
 *       57    16  proposal id: the hub's unlock-request id (its 32 hex digits as bytes)
 *       73    32  snapshot hash: SHA-256 of the exact image bytes displayed; 32 zero bytes = no snapshot
 *      105    16  door id: the lock's 16-byte id (the id digital-key certificates name)
 *
 *   challenge = SHA-256(intent), 32 bytes, base64url in clientDataJSON (WebAuthn L3 §5.8.1)
 *
 * The browser builds it from what it displayed (it hashes the snapshot bytes itself), the lock
 * rebuilds it from UnlockWithAssertion's fields and its own id, and the assertion verifies only if
 * the two agree — so a hub that swaps the proposal or the picture after the person signed gets a
 * refusal (`challenge-mismatch`), and the lock's event names what the person actually approved.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { LatchkeyError } from "../errors/error.js";

export const REMOTE_UNLOCK_INTENT_TAG = "latchkey/remote-unlock/v1";
export const REMOTE_UNLOCK_INTENT_LENGTH = 121;
export const PROPOSAL_ID_LENGTH = 16;
export const SNAPSHOT_HASH_LENGTH = 32;

export interface RemoteUnlockIntent {
  /** The lock's one-time challenge (32 bytes). */
  readonly nonce: Uint8Array;
  /** The unlock request (proposal) being approved (16 bytes). */
  readonly proposalId: Uint8Array;
  /** SHA-256 of the snapshot bytes shown to the approver; 32 zero bytes when there was none. */
  readonly snapshotHash: Uint8Array;
  /** The lock's id (16 bytes). */
  readonly doorId: Uint8Array;
}

const FIELDS = [
  ["nonce", 32],
  ["proposalId", PROPOSAL_ID_LENGTH],
  ["snapshotHash", SNAPSHOT_HASH_LENGTH],
  ["doorId", 16],
] as const;

/** Whether every field has its fixed length (a verifier refuses otherwise, without throwing). */
export function isWellFormedIntent(i: RemoteUnlockIntent): boolean {
  return FIELDS.every(([name, length]) => i[name] instanceof Uint8Array && i[name].length === length);
}

/** The 121 intent bytes; WEBAUTHN_INTENT_INVALID when a field has the wrong length. */
export function encodeRemoteUnlockIntent(i: RemoteUnlockIntent): Uint8Array {
  for (const [name, length] of FIELDS) {
    if (!(i[name] instanceof Uint8Array) || i[name].length !== length)
      throw new LatchkeyError(
        "WEBAUTHN_INTENT_INVALID",
        `remote-unlock intent: ${name} must be ${length} bytes`,
        {
          field: name,
          expected: length,
        },
      );
  }
  const out = new Uint8Array(REMOTE_UNLOCK_INTENT_LENGTH);
  let at = 0;
  for (const b of [
    new TextEncoder().encode(REMOTE_UNLOCK_INTENT_TAG),
    i.nonce,
    i.proposalId,
    i.snapshotHash,
    i.doorId,
  ]) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

/** The WebAuthn challenge for an intent: SHA-256 of its 121 bytes. */
export function remoteUnlockChallenge(i: RemoteUnlockIntent): Uint8Array {
  return sha256(encodeRemoteUnlockIntent(i));
}
