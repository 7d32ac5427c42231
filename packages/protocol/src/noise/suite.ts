/**
 * The Noise crypto functions (spec rev 34, sections 4 and 12) for the suites Latchkey supports:
 * DH 25519, cipher ChaChaPoly or AESGCM, hash SHA256. X25519 sits behind a small interface so a
 * Node process can pass a faster node:crypto implementation; the default is @noble.
 */
import { x25519 } from "@noble/curves/ed25519.js";
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { gcm } from "@noble/ciphers/aes.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { hmac } from "@noble/hashes/hmac.js";
import { LatchkeyError } from "../errors/error.js";

export const DH_LEN = 32;
export const HASH_LEN = 32;
export const KEY_LEN = 32;
export const TAG_LEN = 16;
/** Noise's largest message (section 3). */
export const NOISE_MAX_MESSAGE = 65535;
/** 2^64-1: the nonce Noise reserves for REKEY. */
export const MAX_NONCE = 0xffffffffffffffffn;

export interface X25519 {
  /** 32-byte secret key → 32-byte public key. */
  publicKey(secretKey: Uint8Array): Uint8Array;
  /** DH(secret, public); throws NOISE_HANDSHAKE_BAD_KEY when the result is all zero (low-order key). */
  sharedSecret(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array;
  /** A fresh key pair, when the implementation can make one faster than publicKey(random). */
  generateKeyPair?(): { secretKey: Uint8Array; publicKey: Uint8Array };
}

export const nobleX25519: X25519 = {
  publicKey: (secretKey) => x25519.getPublicKey(secretKey),
  sharedSecret: (secretKey, publicKey) => {
    try {
      return x25519.getSharedSecret(secretKey, publicKey);
    } catch (cause) {
      // noble refuses an all-zero output, which only a low-order public key produces.
      throw new LatchkeyError(
        "NOISE_HANDSHAKE_BAD_KEY",
        "X25519 public key gives no shared secret",
        undefined,
        {
          cause,
        },
      );
    }
  },
};

export type CipherName = "ChaChaPoly" | "AESGCM";

/** An AEAD with Noise's 64-bit nonce encoding. `decrypt` returns null on authentication failure. */
export interface NoiseCipher {
  readonly name: CipherName;
  encrypt(key: Uint8Array, nonce: bigint, ad: Uint8Array, plaintext: Uint8Array): Uint8Array;
  decrypt(key: Uint8Array, nonce: bigint, ad: Uint8Array, ciphertext: Uint8Array): Uint8Array | null;
}

function nonceBytes(n: bigint, littleEndian: boolean): Uint8Array {
  // 32 bits of zeros followed by the 64-bit counter (little-endian for ChaChaPoly, big for AESGCM).
  const out = new Uint8Array(12);
  new DataView(out.buffer).setBigUint64(4, n, littleEndian);
  return out;
}

export const chaChaPoly: NoiseCipher = {
  name: "ChaChaPoly",
  encrypt: (k, n, ad, pt) => chacha20poly1305(k, nonceBytes(n, true), ad).encrypt(pt),
  decrypt: (k, n, ad, ct) => {
    if (ct.length < TAG_LEN) return null;
    try {
      return chacha20poly1305(k, nonceBytes(n, true), ad).decrypt(ct);
    } catch {
      return null;
    }
  },
};

export const aesGcm: NoiseCipher = {
  name: "AESGCM",
  encrypt: (k, n, ad, pt) => gcm(k, nonceBytes(n, false), ad).encrypt(pt),
  decrypt: (k, n, ad, ct) => {
    if (ct.length < TAG_LEN) return null;
    try {
      return gcm(k, nonceBytes(n, false), ad).decrypt(ct);
    } catch {
      return null;
    }
  },
};

export function cipherByName(name: CipherName): NoiseCipher {
  return name === "ChaChaPoly" ? chaChaPoly : aesGcm;
}

export function hash(...parts: Uint8Array[]): Uint8Array {
  const h = sha256.create();
  for (const p of parts) h.update(p);
  return h.digest();
}

/** Noise HKDF (section 4.3) with HMAC-SHA256: two or three outputs of HASH_LEN bytes. */
export function noiseHkdf(chainingKey: Uint8Array, ikm: Uint8Array, outputs: 2): [Uint8Array, Uint8Array];
export function noiseHkdf(
  chainingKey: Uint8Array,
  ikm: Uint8Array,
  outputs: 3,
): [Uint8Array, Uint8Array, Uint8Array];
export function noiseHkdf(chainingKey: Uint8Array, ikm: Uint8Array, outputs: 2 | 3): Uint8Array[] {
  const tempKey = hmac(sha256, chainingKey, ikm);
  const out1 = hmac(sha256, tempKey, Uint8Array.of(1));
  const in2 = new Uint8Array(HASH_LEN + 1);
  in2.set(out1);
  in2[HASH_LEN] = 2;
  const out2 = hmac(sha256, tempKey, in2);
  if (outputs === 2) return [out1, out2];
  const in3 = new Uint8Array(HASH_LEN + 1);
  in3.set(out2);
  in3[HASH_LEN] = 3;
  return [out1, out2, hmac(sha256, tempKey, in3)];
}

/** Fresh random bytes from the platform CSPRNG (Web Crypto, present in Node ≥ 20 and browsers). */
export function platformRandomBytes(n: number): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(n));
}
