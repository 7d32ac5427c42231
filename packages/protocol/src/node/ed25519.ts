/** node:crypto Ed25519 for Node processes (lock runtime, hub); same contract as `nobleEd25519`. */
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from "node:crypto";
import type { Ed25519 } from "../crypto/ed25519.js";

// DER prefixes for raw 32-byte Ed25519 keys (RFC 8410): PKCS#8 private and SPKI public.
const PKCS8_PREFIX = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);
const SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]);

// Building a KeyObject costs far more than a signature, so keep one per seed array. A WeakMap
// keyed by the caller's array holds no copy of the secret beyond the KeyObject itself and lets
// both go when the caller drops the seed. Callers must not mutate a seed after first use.
const privateKeyCache = new WeakMap<Uint8Array, KeyObject>();
function privateKeyObject(seed: Uint8Array): KeyObject {
  if (seed.length !== 32) throw new RangeError("Ed25519 seed must be 32 bytes");
  let key = privateKeyCache.get(seed);
  if (key === undefined) {
    key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: "der", type: "pkcs8" });
    privateKeyCache.set(seed, key);
  }
  return key;
}

// Verification of many events by the same key is the hot path: cache a few public KeyObjects.
const publicKeyCache = new Map<string, KeyObject>();
function publicKeyObject(pub: Uint8Array): KeyObject {
  const id = Buffer.from(pub).toString("hex");
  let key = publicKeyCache.get(id);
  if (key === undefined) {
    key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, pub]), format: "der", type: "spki" });
    if (publicKeyCache.size > 1024) publicKeyCache.clear();
    publicKeyCache.set(id, key);
  }
  return key;
}

export const nodeEd25519: Ed25519 = {
  publicKey: (seed) => {
    const der = createPublicKey(privateKeyObject(seed)).export({ format: "der", type: "spki" });
    return new Uint8Array(der.subarray(der.length - 32));
  },
  sign: (seed, message) => new Uint8Array(sign(null, message, privateKeyObject(seed))),
  verify: (pub, message, signature) => {
    if (pub.length !== 32 || signature.length !== 64) return false;
    try {
      return verify(null, message, publicKeyObject(pub), signature);
    } catch {
      return false;
    }
  },
};
