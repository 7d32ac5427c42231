/**
 * What both commissioning sides share: the SPAKE2+ identities and context, the payloads sealed
 * under K_shared, and their plaintext layouts.
 *
 * Keys: HKDF-SHA256(K_shared, salt = none, info = "latchkey/commissioning/v1 hub->lock" or
 * "… lock->hub", 32 bytes), one per direction. Nonce: 4 zero bytes ‖ u64 message counter per
 * direction (hub→lock: CommPake3 = 0, CommComplete = 1; lock→hub: CommLockIdentity = 0). AAD:
 * the purpose tag ‖ the message type (u16), so a sealed blob cannot be moved to another message.
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { ByteReader, ByteWriter, concatBytes } from "../encoding/bytes.js";
import { LatchkeyError } from "../errors/error.js";
import { MessageType } from "../messages/catalogue.js";

export const COMMISSIONING_TAG = "latchkey/commissioning/v1";
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

export const SPAKE_IDS = {
  idProver: utf8("latchkey/hub"),
  idVerifier: utf8("latchkey/lock"),
} as const;

/**
 * SPAKE2+ Context: the tag ‖ SHA-256(CommHello bytes ‖ CommParams bytes). Both random values are
 * in it, so keys and MACs of one attempt are useless in any other.
 */
export function spakeContext(helloBytes: Uint8Array, paramsBytes: Uint8Array): Uint8Array {
  return concatBytes(utf8(COMMISSIONING_TAG), sha256(concatBytes(helloBytes, paramsBytes)));
}

export interface DirectionKeys {
  readonly hubToLock: Uint8Array;
  readonly lockToHub: Uint8Array;
}

export function directionKeys(kShared: Uint8Array): DirectionKeys {
  return {
    hubToLock: hkdf(sha256, kShared, undefined, utf8(`${COMMISSIONING_TAG} hub->lock`), 32),
    lockToHub: hkdf(sha256, kShared, undefined, utf8(`${COMMISSIONING_TAG} lock->hub`), 32),
  };
}

function nonce(counter: number): Uint8Array {
  return new ByteWriter().u32(0).u64(counter).finish();
}

function aad(messageType: number): Uint8Array {
  return concatBytes(utf8(COMMISSIONING_TAG), new ByteWriter().u16(messageType).finish());
}

export function seal(
  key: Uint8Array,
  counter: number,
  messageType: number,
  plaintext: Uint8Array,
): Uint8Array {
  return chacha20poly1305(key, nonce(counter), aad(messageType)).encrypt(plaintext);
}

export function open(key: Uint8Array, counter: number, messageType: number, sealed: Uint8Array): Uint8Array {
  try {
    return chacha20poly1305(key, nonce(counter), aad(messageType)).decrypt(sealed);
  } catch {
    throw new LatchkeyError("COMM_DECRYPT_FAILED", "commissioning payload failed authentication", {
      messageType,
    });
  }
}

/** Sent by the hub in CommPake3: the keys the lock will trust. */
export interface HubKeys {
  /** Ed25519 public key of the site owner: signs digital keys, revocation lists, commands. */
  readonly ownerSigningPublicKey: Uint8Array;
  /** X25519 static public key of the hub's Noise identity. */
  readonly hubStaticPublicKey: Uint8Array;
}

/** Returned by the lock in CommLockIdentity. */
export interface LockIdentityKeys {
  /** Ed25519 public key that signs the lock's journal events. */
  readonly signingPublicKey: Uint8Array;
  /** X25519 static public key of the lock's Noise identity. */
  readonly channelPublicKey: Uint8Array;
}

/** What the hub learns of a lock at commissioning: its keys and its 16-byte id (= door id). */
export interface CommissionedLock extends LockIdentityKeys {
  readonly lockId: Uint8Array;
}

function checkEd25519Key(k: Uint8Array, field: string): void {
  let ok = k instanceof Uint8Array && k.length === 32;
  if (ok) {
    try {
      ed25519.Point.fromBytes(k).assertValidity();
    } catch {
      ok = false;
    }
  }
  if (!ok)
    throw new LatchkeyError("COMM_INVALID_PARAMETERS", `${field} is not an Ed25519 public key`, { field });
}

function checkX25519Key(k: Uint8Array, field: string): void {
  // All-zero (and other low-order points) would make the later Noise DH output predictable.
  if (!(k instanceof Uint8Array) || k.length !== 32 || k.every((b) => b === 0)) {
    throw new LatchkeyError("COMM_INVALID_PARAMETERS", `${field} is not an X25519 public key`, { field });
  }
}

export function encodeHubKeys(k: HubKeys): Uint8Array {
  checkEd25519Key(k.ownerSigningPublicKey, "ownerSigningPublicKey");
  checkX25519Key(k.hubStaticPublicKey, "hubStaticPublicKey");
  return concatBytes(k.ownerSigningPublicKey, k.hubStaticPublicKey);
}

export function decodeHubKeys(b: Uint8Array): HubKeys {
  const r = new ByteReader(b, "hub keys");
  const keys = {
    ownerSigningPublicKey: r.bytesFixed(32, "ownerSigningPublicKey"),
    hubStaticPublicKey: r.bytesFixed(32, "hubStaticPublicKey"),
  };
  r.end();
  encodeHubKeys(keys);
  return keys;
}

export function encodeLockIdentity(k: LockIdentityKeys): Uint8Array {
  checkEd25519Key(k.signingPublicKey, "signingPublicKey");
  checkX25519Key(k.channelPublicKey, "channelPublicKey");
  return concatBytes(k.signingPublicKey, k.channelPublicKey);
}

export function decodeLockIdentity(b: Uint8Array): LockIdentityKeys {
  const r = new ByteReader(b, "lock identity");
  const keys = {
    signingPublicKey: r.bytesFixed(32, "signingPublicKey"),
    channelPublicKey: r.bytesFixed(32, "channelPublicKey"),
  };
  r.end();
  encodeLockIdentity(keys);
  return keys;
}

export const SEAL_COUNTER = {
  pake3: 0,
  complete: 1,
  lockIdentity: 0,
} as const;

export const SEALED_TYPES = {
  pake3: MessageType.CommPake3,
  lockIdentity: MessageType.CommLockIdentity,
  complete: MessageType.CommComplete,
} as const;

/** Short fingerprint of a public key for reports and events (never the key's secret). */
export function keyHash(publicKey: Uint8Array): Uint8Array {
  return sha256(publicKey).slice(0, 16);
}
