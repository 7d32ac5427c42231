/**
 * A secret (a PIN, card data, a phone key) sealed to one lock's X25519 channel key, so whoever
 * stores or relays the blob (the hub) cannot read it. Sealing: an ephemeral X25519 key agreement,
 * HKDF-SHA-256 (salt = ephemeral public ‖ recipient public, info = "latchkey/pin-seal/v1", 44
 * bytes → 32-byte key ‖ 12-byte nonce), ChaCha20-Poly1305 with a *context string* as associated
 * data, so a blob sealed for one purpose (this lock, this user, this slot) opens nowhere else.
 *
 * Layout: version 0x01 (1) ‖ ephemeral X25519 public key (32) ‖ ciphertext ‖ tag (16).
 * The key and nonce are single-use (a fresh ephemeral key per seal), so a fixed nonce is safe.
 */
import { x25519 } from "@noble/curves/ed25519.js";
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { concatBytes, toHex } from "../encoding/bytes.js";
import { LatchkeyError } from "../errors/error.js";

export const SEALED_SECRET_VERSION = 0x01;
export const SEALED_SECRET_INFO = "latchkey/pin-seal/v1";
/** version + ephemeral key + tag. */
export const SEALED_SECRET_OVERHEAD = 1 + 32 + 16;

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

function invalid(message: string, details?: Record<string, string | number>, cause?: unknown): LatchkeyError {
  return new LatchkeyError(
    "LOCK_SEALED_SECRET_INVALID",
    message,
    details,
    cause === undefined ? undefined : { cause },
  );
}

function keyAndNonce(
  shared: Uint8Array,
  ephemeral: Uint8Array,
  recipient: Uint8Array,
): { key: Uint8Array; nonce: Uint8Array } {
  if (shared.every((b) => b === 0)) throw invalid("X25519 key agreement gave a low-order result");
  const okm = hkdf(sha256, shared, concatBytes(ephemeral, recipient), utf8(SEALED_SECRET_INFO), 44);
  return { key: okm.subarray(0, 32), nonce: okm.subarray(32, 44) };
}

/** Seals `plaintext` to `recipientPublicKey` under `context` (see the *SealContext helpers). */
export function sealSecret(
  recipientPublicKey: Uint8Array,
  plaintext: Uint8Array,
  context: string,
  ephemeralSecretKey: Uint8Array = x25519.utils.randomSecretKey(),
): Uint8Array {
  if (!(recipientPublicKey instanceof Uint8Array) || recipientPublicKey.length !== 32)
    throw invalid("recipient X25519 public key must be 32 bytes", { field: "recipientPublicKey" });
  const ephemeral = x25519.getPublicKey(ephemeralSecretKey);
  let shared: Uint8Array;
  try {
    shared = x25519.getSharedSecret(ephemeralSecretKey, recipientPublicKey);
  } catch (e) {
    throw invalid("recipient public key is not a valid X25519 key", { field: "recipientPublicKey" }, e);
  }
  const { key, nonce } = keyAndNonce(shared, ephemeral, recipientPublicKey);
  const body = chacha20poly1305(key, nonce, utf8(context)).encrypt(plaintext);
  return concatBytes(Uint8Array.of(SEALED_SECRET_VERSION), ephemeral, body);
}

/**
 * Opens a sealed secret with the recipient's X25519 secret key. Throws LOCK_SEALED_SECRET_INVALID
 * (never naming the content) when the blob is short, of another version, sealed to another key or
 * under another context, or altered.
 */
export function openSealedSecret(
  recipientSecretKey: Uint8Array,
  sealed: Uint8Array,
  context: string,
  recipientPublicKey: Uint8Array = x25519.getPublicKey(recipientSecretKey),
): Uint8Array {
  if (!(sealed instanceof Uint8Array) || sealed.length < SEALED_SECRET_OVERHEAD)
    throw invalid("sealed secret is too short", { length: sealed?.length ?? -1 });
  if (sealed[0] !== SEALED_SECRET_VERSION)
    throw invalid("sealed secret has an unknown version", { version: sealed[0] ?? -1 });
  const ephemeral = sealed.subarray(1, 33);
  let shared: Uint8Array;
  try {
    shared = x25519.getSharedSecret(recipientSecretKey, ephemeral);
  } catch (e) {
    throw invalid("sealed secret has an invalid ephemeral key", { field: "ephemeral" }, e);
  }
  const { key, nonce } = keyAndNonce(shared, ephemeral, recipientPublicKey);
  try {
    return chacha20poly1305(key, nonce, utf8(context)).decrypt(sealed.subarray(33));
  } catch (e) {
    throw invalid("sealed secret failed authentication (wrong key or context, or altered)", undefined, e);
  }
}

function lockHex(lockId: Uint8Array | string): string {
  const hex = typeof lockId === "string" ? lockId.toLowerCase() : toHex(lockId);
  if (!/^[0-9a-f]{32}$/.test(hex)) throw invalid("lock id must be 16 bytes", { field: "lockId" });
  return hex;
}

function index(v: number, field: string): string {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw invalid(`${field} must be 0..65535`, { field });
  return String(v);
}

/**
 * Context of credential data in `SetCredential.sealedData`:
 * `latchkey/credential/v1 lock=<32 hex> type=<Matter CredentialType> user=<userIndex> index=<credentialIndex>`
 * (decimal numbers, single spaces). The blob opens only on that lock, for that user and slot.
 */
export function credentialSealContext(c: {
  readonly lockId: Uint8Array | string;
  readonly credentialType: number;
  readonly userIndex: number;
  readonly credentialIndex: number;
}): string {
  return (
    `latchkey/credential/v1 lock=${lockHex(c.lockId)} type=${index(c.credentialType, "credentialType")}` +
    ` user=${index(c.userIndex, "userIndex")} index=${index(c.credentialIndex, "credentialIndex")}`
  );
}

/** Context of the PIN in `Lock.sealedPin`: `latchkey/lock-command/v1 lock=<32 hex> command=lock`. */
export function lockCommandSealContext(lockId: Uint8Array | string): string {
  return `latchkey/lock-command/v1 lock=${lockHex(lockId)} command=lock`;
}
