/**
 * PINs are stored only as HMAC-SHA256 under a per-lock secret, so a stolen state file does not
 * reveal them without the secret and two locks store the same PIN differently. The keyed hash is
 * also the lookup key (one map lookup per attempt, no scan); the final comparison is constant-time.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

export const PIN_HASH_DOMAIN = "latchkey/lock-pin/v1";

export function pinHash(secret: Uint8Array, pin: string): Uint8Array {
  return new Uint8Array(
    createHmac("sha256", secret).update(PIN_HASH_DOMAIN).update("\0").update(pin).digest(),
  );
}

export function sameHash(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
