/**
 * Noise CipherState (spec rev 34, section 5.1) with two additions for Latchkey's framing:
 * `encryptWithNonce`/`decryptWithNonce` take the nonce from the frame (explicit counters, section
 * 11.4) instead of the internal counter, and `rekeyed()` returns a new state so a receiver can try
 * a candidate key without losing the current one.
 */
import { LatchkeyError } from "../errors/error.js";
import { KEY_LEN, MAX_NONCE, type NoiseCipher } from "./suite.js";

const EMPTY = new Uint8Array(0);
const ZEROS_32 = new Uint8Array(32);

export class CipherState {
  private k: Uint8Array | null;
  private n = 0n;

  constructor(
    readonly cipher: NoiseCipher,
    key: Uint8Array | null = null,
  ) {
    if (key !== null && key.length !== KEY_LEN) {
      throw new LatchkeyError("NOISE_CONFIG_INVALID", `cipher key must be ${KEY_LEN} bytes`, {
        length: key.length,
      });
    }
    this.k = key === null ? null : key.slice();
  }

  hasKey(): boolean {
    return this.k !== null;
  }

  /** The implicit nonce of the next EncryptWithAd/DecryptWithAd. */
  get nonce(): bigint {
    return this.n;
  }

  clone(): CipherState {
    const c = new CipherState(this.cipher, this.k);
    c.n = this.n;
    return c;
  }

  /** EncryptWithAd: with no key the plaintext passes through (handshake before the first DH). */
  encryptWithAd(ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    if (this.k === null) return plaintext.slice();
    const out = this.encryptWithNonce(this.n, ad, plaintext);
    this.n += 1n;
    return out;
  }

  /** DecryptWithAd: null on authentication failure, and then the nonce is not advanced. */
  decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array): Uint8Array | null {
    if (this.k === null) return ciphertext.slice();
    const out = this.decryptWithNonce(this.n, ad, ciphertext);
    if (out !== null) this.n += 1n;
    return out;
  }

  encryptWithNonce(nonce: bigint, ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    const k = this.requireKey();
    if (nonce >= MAX_NONCE) throw new LatchkeyError("NOISE_COUNTER_EXHAUSTED", "nonce space exhausted");
    return this.cipher.encrypt(k, nonce, ad, plaintext);
  }

  decryptWithNonce(nonce: bigint, ad: Uint8Array, ciphertext: Uint8Array): Uint8Array | null {
    const k = this.requireKey();
    if (nonce >= MAX_NONCE) return null;
    return this.cipher.decrypt(k, nonce, ad, ciphertext);
  }

  /** Noise REKEY(k): k' = first 32 bytes of ENCRYPT(k, 2^64-1, empty, 32 zero bytes). */
  rekeyed(): CipherState {
    const k = this.requireKey();
    const next = new CipherState(
      this.cipher,
      this.cipher.encrypt(k, MAX_NONCE, EMPTY, ZEROS_32).subarray(0, KEY_LEN),
    );
    next.n = this.n;
    return next;
  }

  /** Best-effort erasure of the key (JavaScript gives no guarantee, but it limits exposure). */
  destroy(): void {
    this.k?.fill(0);
    this.k = null;
  }

  private requireKey(): Uint8Array {
    if (this.k === null) throw new LatchkeyError("NOISE_WRONG_STATE", "cipher state has no key");
    return this.k;
  }
}
