/** Noise SymmetricState (spec rev 34, section 5.2) for SHA256. */
import { LatchkeyError } from "../errors/error.js";
import { CipherState } from "./cipher-state.js";
import { HASH_LEN, hash, noiseHkdf, type NoiseCipher } from "./suite.js";

const EMPTY = new Uint8Array(0);

export class SymmetricState {
  private cs: CipherState;
  private ck: Uint8Array;
  private h: Uint8Array;

  private constructor(cipher: NoiseCipher, ck: Uint8Array, h: Uint8Array, cs?: CipherState) {
    this.cs = cs ?? new CipherState(cipher);
    this.ck = ck;
    this.h = h;
  }

  static initialize(cipher: NoiseCipher, protocolName: string): SymmetricState {
    const name = new TextEncoder().encode(protocolName);
    let h: Uint8Array;
    if (name.length <= HASH_LEN) {
      h = new Uint8Array(HASH_LEN);
      h.set(name);
    } else {
      h = hash(name);
    }
    return new SymmetricState(cipher, h.slice(), h);
  }

  clone(): SymmetricState {
    return new SymmetricState(this.cs.cipher, this.ck.slice(), this.h.slice(), this.cs.clone());
  }

  get handshakeHash(): Uint8Array {
    return this.h.slice();
  }

  hasKey(): boolean {
    return this.cs.hasKey();
  }

  mixKey(ikm: Uint8Array): void {
    const [ck, tempK] = noiseHkdf(this.ck, ikm, 2);
    this.ck = ck;
    this.cs = new CipherState(this.cs.cipher, tempK);
  }

  mixHash(data: Uint8Array): void {
    this.h = hash(this.h, data);
  }

  mixKeyAndHash(ikm: Uint8Array): void {
    const [ck, tempH, tempK] = noiseHkdf(this.ck, ikm, 3);
    this.ck = ck;
    this.mixHash(tempH);
    this.cs = new CipherState(this.cs.cipher, tempK);
  }

  encryptAndHash(plaintext: Uint8Array): Uint8Array {
    const ct = this.cs.encryptWithAd(this.h, plaintext);
    this.mixHash(ct);
    return ct;
  }

  /** Throws NOISE_HANDSHAKE_AUTH_FAILED when the ciphertext does not authenticate. */
  decryptAndHash(ciphertext: Uint8Array, field: string): Uint8Array {
    const pt = this.cs.decryptWithAd(this.h, ciphertext);
    if (pt === null) {
      throw new LatchkeyError("NOISE_HANDSHAKE_AUTH_FAILED", `handshake ${field} failed authentication`, {
        field,
        length: ciphertext.length,
      });
    }
    this.mixHash(ciphertext);
    return pt;
  }

  /** Split(): the initiator sends with the first state and receives with the second. */
  split(): [CipherState, CipherState] {
    const [k1, k2] = noiseHkdf(this.ck, EMPTY, 2);
    return [new CipherState(this.cs.cipher, k1), new CipherState(this.cs.cipher, k2)];
  }

  destroy(): void {
    this.ck.fill(0);
    this.cs.destroy();
  }
}
