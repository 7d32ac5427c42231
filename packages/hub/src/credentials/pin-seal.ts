/**
 * Seals a PIN to one lock's X25519 public key, so the hub stores a copy only that lock can read:
 * an ephemeral X25519 key agreement, HKDF-SHA-256 to a one-time key and nonce, and
 * ChaCha20-Poly1305 over the PIN with the context (credential and door ids) as associated data.
 *
 * Layout: version 0x01 (1) ‖ ephemeral public key (32) ‖ ciphertext ‖ tag (16).
 */
import { x25519 } from "@noble/curves/ed25519.js";
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { LatchkeyError, concatBytes, fromHex } from "@latchkey/protocol";

export const PIN_SEAL_INFO = "latchkey/pin-seal/v1";
const VERSION = 0x01;

function deriveKeyAndNonce(shared: Uint8Array, ephemeral: Uint8Array, recipient: Uint8Array) {
  if (shared.every((b) => b === 0)) {
    throw new LatchkeyError("HUB_SEAL_INVALID", "lock public key is a low-order point");
  }
  const okm = hkdf(
    sha256,
    shared,
    concatBytes(ephemeral, recipient),
    new TextEncoder().encode(PIN_SEAL_INFO),
    44,
  );
  return { key: okm.subarray(0, 32), nonce: okm.subarray(32, 44) };
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
  ephemeralPrivate: Uint8Array = x25519.utils.randomSecretKey(),
): Uint8Array {
  const ephemeral = x25519.getPublicKey(ephemeralPrivate);
  let shared: Uint8Array;
  try {
    shared = x25519.getSharedSecret(ephemeralPrivate, lockPublicKey);
  } catch (e) {
    throw new LatchkeyError("HUB_SEAL_INVALID", "lock public key is not a valid X25519 key", undefined, {
      cause: e,
    });
  }
  const { key, nonce } = deriveKeyAndNonce(shared, ephemeral, lockPublicKey);
  const body = chacha20poly1305(key, nonce, new TextEncoder().encode(context)).encrypt(
    new TextEncoder().encode(secret),
  );
  return concatBytes(Uint8Array.of(VERSION), ephemeral, body);
}

/** What a lock does with its private key; here for tests and for the lock runtime to reuse. */
export function openSealedPin(lockPrivateKey: Uint8Array, sealed: Uint8Array, context: string): string {
  if (sealed.length < 1 + 32 + 16) throw new LatchkeyError("HUB_SEAL_INVALID", "sealed PIN is too short");
  if (sealed[0] !== VERSION) throw new LatchkeyError("HUB_SEAL_INVALID", "sealed PIN has an unknown version");
  const ephemeral = sealed.subarray(1, 33);
  const recipient = x25519.getPublicKey(lockPrivateKey);
  let shared: Uint8Array;
  try {
    shared = x25519.getSharedSecret(lockPrivateKey, ephemeral);
  } catch (e) {
    throw new LatchkeyError("HUB_SEAL_INVALID", "sealed PIN has an invalid ephemeral key", undefined, {
      cause: e,
    });
  }
  const { key, nonce } = deriveKeyAndNonce(shared, ephemeral, recipient);
  try {
    const plain = chacha20poly1305(key, nonce, new TextEncoder().encode(context)).decrypt(
      sealed.subarray(33),
    );
    return new TextDecoder().decode(plain);
  } catch (e) {
    throw new LatchkeyError("HUB_SEAL_INVALID", "sealed PIN failed authentication", undefined, { cause: e });
  }
}
