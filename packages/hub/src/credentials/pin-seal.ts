/**
 * Seals a PIN to one lock's X25519 public key, so the hub stores a copy only that lock can read.
 * The format is the protocol's sealed secret (`@latchkey/protocol` sealed-secret: ephemeral
 * X25519, HKDF-SHA-256, ChaCha20-Poly1305 with the context as associated data); this module
 * speaks the hub's vocabulary (PIN strings, hex keys) and its error code, HUB_SEAL_INVALID.
 */
import {
  LatchkeyError,
  SEALED_SECRET_INFO,
  fromHex,
  isLatchkeyError,
  openSealedSecret,
  sealSecret,
} from "@latchkey/protocol";

export const PIN_SEAL_INFO = SEALED_SECRET_INFO;

/** Re-labels the protocol's refusal as the hub's, keeping the message (never the secret). */
function asHubError(e: unknown): never {
  if (isLatchkeyError(e, "LOCK_SEALED_SECRET_INVALID")) {
    throw new LatchkeyError("HUB_SEAL_INVALID", e.message, undefined, { cause: e });
  }
  throw e;
}

export function parseLockPublicKey(hex: string): Uint8Array {
  if (!/^[0-9a-f]{64}$/i.test(hex)) {
    throw new LatchkeyError("HUB_SEAL_INVALID", "lock X25519 public key must be 64 hex characters");
  }
  return fromHex(hex.toLowerCase());
}

export function sealToLock(
  lockPublicKey: Uint8Array,
  secret: string,
  context: string,
  ephemeralPrivate?: Uint8Array,
): Uint8Array {
  try {
    return sealSecret(lockPublicKey, new TextEncoder().encode(secret), context, ephemeralPrivate);
  } catch (e) {
    return asHubError(e);
  }
}

/** What a lock does with its private key; here for tests. */
export function openSealedPin(lockPrivateKey: Uint8Array, sealed: Uint8Array, context: string): string {
  try {
    return new TextDecoder().decode(openSealedSecret(lockPrivateKey, sealed, context));
  } catch (e) {
    return asHubError(e);
  }
}
