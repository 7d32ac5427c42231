/**
 * The guest link's sealed PIN. The key is derived from the link's token, which the hub never
 * stores (only its keyed hash): HKDF-SHA-256(the token's 32 bytes, no salt, info "latchkey/guest-link/v1") keys
 * ChaCha20-Poly1305, and the link id is the associated data, so a sealed copy moved to another
 * link does not open. Without the token the hub cannot read the PIN.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import { LatchkeyError } from "@latchkey/protocol";

export const GUEST_LINK_INFO = "latchkey/guest-link/v1";
const NONCE = 12;
const TAG = 16;

/** 32 random bytes, base64url (43 characters): the secret that travels in the link's fragment. */
export function newGuestToken(): string {
  return randomBytes(32).toString("base64url");
}

function keyOf(token: string): Buffer {
  return Buffer.from(
    hkdfSync("sha256", Buffer.from(token, "base64url"), Buffer.alloc(0), GUEST_LINK_INFO, 32),
  );
}

/** nonce ‖ ciphertext ‖ tag, base64url. */
export function sealPin(token: string, linkId: string, pin: string): string {
  const nonce = randomBytes(NONCE);
  const cipher = createCipheriv("chacha20-poly1305", keyOf(token), nonce, { authTagLength: TAG });
  cipher.setAAD(Buffer.from(linkId, "utf8"), { plaintextLength: Buffer.byteLength(pin) });
  const body = Buffer.concat([cipher.update(pin, "utf8"), cipher.final()]);
  return Buffer.concat([nonce, body, cipher.getAuthTag()]).toString("base64url");
}

/** The PIN, or LK_INTERNAL when the sealed copy does not open with this token and link id. */
export function openPin(token: string, linkId: string, sealed: string): string {
  const bytes = Buffer.from(sealed, "base64url");
  if (bytes.length < NONCE + TAG + 1) throw new LatchkeyError("LK_INTERNAL", "sealed guest PIN is too short");
  const nonce = bytes.subarray(0, NONCE);
  const tag = bytes.subarray(bytes.length - TAG);
  const body = bytes.subarray(NONCE, bytes.length - TAG);
  const decipher = createDecipheriv("chacha20-poly1305", keyOf(token), nonce, { authTagLength: TAG });
  decipher.setAAD(Buffer.from(linkId, "utf8"), { plaintextLength: body.length });
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(body), decipher.final()]).toString("utf8");
  } catch (e) {
    throw new LatchkeyError("LK_INTERNAL", "sealed guest PIN does not open", undefined, { cause: e });
  }
}
