/**
 * Secrets the lock must keep in state.json (challenge-card keys) are sealed with AES-256-GCM under
 * a key derived from the lock's secret in keys.bin, so the state file alone reveals none of them.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from "node:crypto";
import { LatchkeyError } from "@latchkey/protocol";

const WRAP_DOMAIN = "latchkey/lock-state-wrap/v1";

export function wrapKeyFrom(lockSecret: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac("sha256", lockSecret).update(WRAP_DOMAIN).digest());
}

/** nonce(12) ‖ ciphertext ‖ tag(16); `label` (e.g. the card UID) is bound as associated data. */
export function sealSecret(wrapKey: Uint8Array, label: Uint8Array, secret: Uint8Array): Uint8Array {
  const nonce = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", wrapKey, nonce);
  cipher.setAAD(label);
  const body = Buffer.concat([cipher.update(secret), cipher.final()]);
  return new Uint8Array(Buffer.concat([nonce, body, cipher.getAuthTag()]));
}

export function openSecret(wrapKey: Uint8Array, label: Uint8Array, sealed: Uint8Array): Uint8Array {
  try {
    if (sealed.length < 12 + 16) throw new Error("short");
    const decipher = createDecipheriv("aes-256-gcm", wrapKey, sealed.subarray(0, 12));
    decipher.setAAD(label);
    decipher.setAuthTag(sealed.subarray(sealed.length - 16));
    return new Uint8Array(
      Buffer.concat([decipher.update(sealed.subarray(12, sealed.length - 16)), decipher.final()]),
    );
  } catch (e) {
    throw new LatchkeyError(
      "LOCK_STATE_CORRUPT",
      "state.json: a sealed card key does not open",
      { field: "key" },
      { cause: e },
    );
  }
}
