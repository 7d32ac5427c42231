/**
 * Ed25519 behind a small interface. Pure code (browsers, the offline verifier page) uses the
 * @noble implementation here; Node processes pass `nodeEd25519` from `@latchkey/protocol/node`,
 * which is several times faster for bulk verification (journals, evidence bundles).
 */
import { ed25519 } from "@noble/curves/ed25519.js";

export interface Ed25519 {
  /** 32-byte secret seed → 32-byte public key. */
  publicKey(secretSeed: Uint8Array): Uint8Array;
  sign(secretSeed: Uint8Array, message: Uint8Array): Uint8Array;
  /** False (never a throw) for malformed keys or signatures. */
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
}

export const nobleEd25519: Ed25519 = {
  publicKey: (seed) => ed25519.getPublicKey(seed),
  sign: (seed, message) => ed25519.sign(message, seed),
  verify: (publicKey, message, signature) => {
    try {
      return ed25519.verify(signature, message, publicKey);
    } catch {
      return false;
    }
  },
};
