/** A door's lock X25519 public key as the API takes it: 64 hex characters (HUB_SEAL_INVALID). */
import { LatchkeyError, fromHex } from "@latchkey/protocol";

export function parseLockPublicKey(hex: string): Uint8Array {
  if (!/^[0-9a-f]{64}$/i.test(hex)) {
    throw new LatchkeyError("HUB_SEAL_INVALID", "lock X25519 public key must be 64 hex characters");
  }
  return fromHex(hex.toLowerCase());
}
