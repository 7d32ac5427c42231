/**
 * node:crypto X25519 behind the channel's `X25519` interface: about ten times faster than the
 * pure @noble default, so Node hubs and locks pass it as the `x25519` option. Public keys are
 * imported as JWK because DER import is several times slower on Node 20.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  type KeyObject,
} from "node:crypto";
import { LatchkeyError } from "../errors/error.js";
import type { X25519 } from "../noise/suite.js";

const PKCS8_PREFIX = Buffer.from("302e020100300506032b656e04220420", "hex");
const b64url = (b: Uint8Array): string => Buffer.from(b).toString("base64url");

// Importing a private key costs more than the DH itself, and handshakes copy the static key per
// session, so cache KeyObjects by a hash of the key (never the key itself), bounded in size.
const MAX_CACHED_KEYS = 256;
const privateKeys = new Map<string, KeyObject>();
const cacheId = (secretKey: Uint8Array): string => createHash("sha256").update(secretKey).digest("base64");
function remember(id: string, key: KeyObject): void {
  if (privateKeys.size >= MAX_CACHED_KEYS) privateKeys.clear();
  privateKeys.set(id, key);
}
function privateKeyObject(secretKey: Uint8Array): KeyObject {
  if (secretKey.length !== 32) throw new RangeError("X25519 secret key must be 32 bytes");
  const id = cacheId(secretKey);
  let key = privateKeys.get(id);
  if (key === undefined) {
    key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, secretKey]), format: "der", type: "pkcs8" });
    remember(id, key);
  }
  return key;
}

function badKey(cause?: unknown): LatchkeyError {
  return new LatchkeyError("NOISE_HANDSHAKE_BAD_KEY", "X25519 public key gives no shared secret", undefined, {
    cause,
  });
}

export const nodeX25519: X25519 = {
  publicKey: (secretKey) => {
    const jwk = createPublicKey(privateKeyObject(secretKey)).export({ format: "jwk" });
    return new Uint8Array(Buffer.from(jwk.x ?? "", "base64url"));
  },
  sharedSecret: (secretKey, publicKey) => {
    if (publicKey.length !== 32) throw badKey();
    let shared: Buffer;
    try {
      shared = diffieHellman({
        privateKey: privateKeyObject(secretKey),
        publicKey: createPublicKey({
          key: { kty: "OKP", crv: "X25519", x: b64url(publicKey) },
          format: "jwk",
        }),
      });
    } catch (cause) {
      throw badKey(cause);
    }
    // A low-order public key yields all zeros; refuse it exactly like the @noble implementation.
    if (shared.every((b) => b === 0)) throw badKey();
    return new Uint8Array(shared);
  },
  generateKeyPair: () => {
    const { privateKey } = generateKeyPairSync("x25519");
    const jwk = privateKey.export({ format: "jwk" });
    const secretKey = new Uint8Array(Buffer.from(jwk.d ?? "", "base64url"));
    remember(cacheId(secretKey), privateKey);
    return { secretKey, publicKey: new Uint8Array(Buffer.from(jwk.x ?? "", "base64url")) };
  },
};
