/**
 * The MQTT broker password a commissioned lock uses to log in to the hub's broker. Nothing is
 * sent to establish it: both sides derive it from the static X25519 keys they exchanged at
 * commissioning, so the hub computes it with (hub static secret, lock channel public key) and the
 * lock with (its channel secret, the hub static public key it installed):
 *
 *   base64url-nopad( HKDF-SHA256(ikm = X25519(secret, public), salt = empty,
 *                                info = "latchkey/broker-password/v1" ‖ lockId (16 bytes), L = 32) )
 *
 * The lock id in `info` binds the password to one lock; a fresh pair of keys gives a fresh
 * password. The value is a secret: never log it.
 */
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { concatBytes } from "../encoding/bytes.js";
import { LatchkeyError, isLatchkeyError } from "../errors/error.js";
import type { X25519 } from "../noise/suite.js";
import { base64UrlEncode } from "../webauthn/assertion.js";

export const BROKER_PASSWORD_INFO = "latchkey/broker-password/v1";
export const BROKER_PASSWORD_LOCK_ID_LENGTH = 16;
/** Bytes of HKDF output; the password is their base64url (43 characters). */
export const BROKER_PASSWORD_BYTES = 32;

export interface BrokerPasswordInput {
  readonly x25519: X25519;
  /** Own static X25519 secret key (32 bytes). */
  readonly secretKey: Uint8Array;
  /** The peer's static X25519 public key (32 bytes). */
  readonly publicKey: Uint8Array;
  /** The lock's 16-byte id. */
  readonly lockId: Uint8Array;
}

function refuse(why: string, cause?: unknown): never {
  throw new LatchkeyError(
    "COMM_INVALID_PARAMETERS",
    `broker password: ${why}`,
    undefined,
    cause === undefined ? undefined : { cause },
  );
}

/** Derives the lock's broker password; COMM_INVALID_PARAMETERS for wrong lengths or a low-order key. */
export function deriveBrokerPassword(o: BrokerPasswordInput): string {
  if (!(o.secretKey instanceof Uint8Array) || o.secretKey.length !== 32)
    refuse("secret key must be 32 bytes");
  if (!(o.publicKey instanceof Uint8Array) || o.publicKey.length !== 32)
    refuse("public key must be 32 bytes");
  if (!(o.lockId instanceof Uint8Array) || o.lockId.length !== BROKER_PASSWORD_LOCK_ID_LENGTH)
    refuse(`lock id must be ${BROKER_PASSWORD_LOCK_ID_LENGTH} bytes`);
  let shared: Uint8Array;
  try {
    shared = o.x25519.sharedSecret(o.secretKey, o.publicKey);
  } catch (e) {
    if (isLatchkeyError(e)) refuse("the public key gives no shared secret", e);
    throw e;
  }
  if (shared.length !== 32 || shared.every((b) => b === 0)) refuse("the public key gives no shared secret");
  const info = concatBytes(new TextEncoder().encode(BROKER_PASSWORD_INFO), o.lockId);
  return base64UrlEncode(hkdf(sha256, shared, undefined, info, BROKER_PASSWORD_BYTES));
}
