/**
 * Ed25519 checkpoint cosignatures, exactly as specified by https://c2sp.org/tlog-cosignature
 * ("cosignature/v1"):
 *
 *   key ID    = SHA-256(<name> ‖ "\n" ‖ 0x04 ‖ 32-byte Ed25519 public key)[:4]
 *   signature = timestamped_signature { u64 timestamp (big-endian); opaque ed25519_signature[64] }
 *   message   = "cosignature/v1\n" ‖ "time " <timestamp, ASCII decimal> "\n" ‖ <checkpoint text>
 *
 * The timestamp is POSIX seconds and must not exceed 2^63 − 1 (Latchkey: 2^53 − 1). A v1
 * cosignature states that, as of that time, this is the largest consistent tree the cosigner
 * has seen for the origin. Witnesses and locks cosign the hub's checkpoints, which is what stops
 * the hub from showing different histories to different parties.
 */
import { LatchkeyError } from "../errors/error.js";
import type { Ed25519 } from "../crypto/ed25519.js";

import { isValidKeyName, noteKeyId, SIG_TYPE_COSIGNATURE_V1, type NoteSignature } from "./signed-note.js";

const encoder = new TextEncoder();

export interface Cosigner {
  readonly name: string;
  readonly publicKey: Uint8Array;
  /** Key ID for type 0x04. */
  readonly keyId: number;
}

export interface Cosignature {
  readonly name: string;
  readonly keyId: number;
  /** POSIX seconds. */
  readonly timestamp: number;
  readonly signature: Uint8Array;
}

export function cosignerOf(name: string, publicKey: Uint8Array): Cosigner {
  if (!isValidKeyName(name))
    throw new LatchkeyError("NOTE_KEY_MALFORMED", "cosigner name is empty or has a space or '+'");
  if (publicKey.length !== 32)
    throw new LatchkeyError("NOTE_KEY_MALFORMED", "cosigner Ed25519 key must be 32 bytes");
  return { name, publicKey, keyId: noteKeyId(name, SIG_TYPE_COSIGNATURE_V1, publicKey) };
}

/** The exact bytes a cosigner signs. */
export function cosignatureMessage(timestamp: number, checkpointText: string): Uint8Array {
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new LatchkeyError(
      "NOTE_COSIGNATURE_MALFORMED",
      "cosignature timestamp must be a non-negative integer",
    );
  }
  return encoder.encode(`cosignature/v1\ntime ${timestamp}\n${checkpointText}`);
}

/** Signs a checkpoint's text; returns the note signature to append to the checkpoint. */
export function signCosignature(
  checkpointText: string,
  name: string,
  seed: Uint8Array,
  timestamp: number,
  ed: Ed25519,
): NoteSignature {
  const cosigner = cosignerOf(name, ed.publicKey(seed));
  const sig = ed.sign(seed, cosignatureMessage(timestamp, checkpointText));
  const body = new Uint8Array(8 + 64);
  new DataView(body.buffer).setBigUint64(0, BigInt(timestamp));
  body.set(sig, 8);
  return { name, keyId: cosigner.keyId, signature: body };
}

/** Splits a note signature's bytes (after the key ID) into timestamp and Ed25519 signature. */
export function decodeCosignature(sig: NoteSignature): Cosignature {
  if (sig.signature.length !== 8 + 64) {
    throw new LatchkeyError(
      "NOTE_COSIGNATURE_MALFORMED",
      `cosignature is ${sig.signature.length} bytes after the key ID, expected 72`,
      { length: sig.signature.length },
    );
  }
  const ts = new DataView(sig.signature.buffer, sig.signature.byteOffset, 8).getBigUint64(0);
  if (ts > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new LatchkeyError("NOTE_COSIGNATURE_MALFORMED", "cosignature timestamp is beyond 2^53 − 1");
  }
  return { name: sig.name, keyId: sig.keyId, timestamp: Number(ts), signature: sig.signature.slice(8) };
}

/**
 * Verifies a cosignature by `cosigner` over `checkpointText`. Returns the decoded cosignature;
 * throws NOTE_KEY_MALFORMED if the signature line is not from this cosigner (name or key ID),
 * NOTE_COSIGNATURE_MALFORMED for a bad layout and NOTE_SIGNATURE_INVALID if it does not verify.
 */
export function verifyCosignature(
  checkpointText: string,
  sig: NoteSignature,
  cosigner: Cosigner,
  ed: Ed25519,
): Cosignature {
  if (sig.name !== cosigner.name || sig.keyId !== cosigner.keyId) {
    throw new LatchkeyError(
      "NOTE_KEY_MALFORMED",
      "signature is not from this cosigner (name or key ID differs)",
    );
  }
  const c = decodeCosignature(sig);
  if (!ed.verify(cosigner.publicKey, cosignatureMessage(c.timestamp, checkpointText), c.signature)) {
    throw new LatchkeyError("NOTE_SIGNATURE_INVALID", `cosignature by ${sig.name} does not verify`, {
      name: sig.name,
    });
  }
  return c;
}
