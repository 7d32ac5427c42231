import { describe, it, expect } from "vitest";
import { createDecipheriv, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync } from "node:crypto";
import fc from "fast-check";
import { isLatchkeyError, toHex } from "@latchkey/protocol";
import { openSealedPin, parseLockPublicKey, sealToLock, PIN_SEAL_INFO } from "./pin-seal.js";

function nodeLockKeyPair() {
  const { publicKey, privateKey } = generateKeyPairSync("x25519");
  const pub = Buffer.from(publicKey.export({ format: "jwk" }).x ?? "", "base64url");
  const priv = Buffer.from(privateKey.export({ format: "jwk" }).d ?? "", "base64url");
  return { pub: new Uint8Array(pub), priv: new Uint8Array(priv), privateKey };
}

describe("sealToLock", () => {
  it("is opened by an independent node:crypto implementation (X25519 + HKDF + ChaCha20-Poly1305)", () => {
    const lock = nodeLockKeyPair();
    const sealed = sealToLock(lock.pub, "482913", "cred-1/door-1");
    expect(sealed[0]).toBe(1);
    const eph = Buffer.from(sealed.subarray(1, 33));
    const shared = diffieHellman({
      privateKey: lock.privateKey,
      publicKey: createPublicKey({
        key: { kty: "OKP", crv: "X25519", x: eph.toString("base64url") },
        format: "jwk",
      }),
    });
    const okm = Buffer.from(hkdfSync("sha256", shared, Buffer.concat([eph, lock.pub]), PIN_SEAL_INFO, 44));
    const body = sealed.subarray(33);
    const d = createDecipheriv("chacha20-poly1305", okm.subarray(0, 32), okm.subarray(32), {
      authTagLength: 16,
    });
    d.setAAD(Buffer.from("cred-1/door-1"), { plaintextLength: body.length - 16 });
    d.setAuthTag(Buffer.from(body.subarray(body.length - 16)));
    const plain = Buffer.concat([
      d.update(Buffer.from(body.subarray(0, body.length - 16))),
      d.final(),
    ]).toString();
    expect(plain).toBe("482913");
    expect(openSealedPin(lock.priv, sealed, "cred-1/door-1")).toBe("482913");
    // The clear PIN never appears in the sealed bytes.
    expect(Buffer.from(sealed).includes(Buffer.from("482913"))).toBe(false);
  });

  it("each seal is fresh (ephemeral key), and a wrong lock or context cannot open it", () => {
    const a = nodeLockKeyPair();
    const b = nodeLockKeyPair();
    const s1 = sealToLock(a.pub, "1357", "c");
    const s2 = sealToLock(a.pub, "1357", "c");
    expect(toHex(s1)).not.toBe(toHex(s2));
    expect(() => openSealedPin(b.priv, s1, "c")).toThrow(/authentication/);
    expect(() => openSealedPin(a.priv, s1, "other")).toThrow(/authentication/);
  });

  it("rejects a low-order lock key and malformed keys with HUB_SEAL_INVALID", () => {
    for (const bad of [() => sealToLock(new Uint8Array(32), "1357", "c"), () => parseLockPublicKey("zz")]) {
      try {
        bad();
        expect.unreachable();
      } catch (e) {
        expect(isLatchkeyError(e, "HUB_SEAL_INVALID")).toBe(true);
      }
    }
  });

  it("any tampered byte is refused with HUB_SEAL_INVALID, never another error", () => {
    const lock = nodeLockKeyPair();
    const sealed = sealToLock(lock.pub, "902184", "ctx");
    fc.assert(
      fc.property(fc.nat({ max: sealed.length - 1 }), fc.integer({ min: 1, max: 255 }), (i, x) => {
        const t = sealed.slice();
        t[i] = (t[i] ?? 0) ^ x;
        try {
          openSealedPin(lock.priv, t, "ctx");
          return false;
        } catch (e) {
          return isLatchkeyError(e, "HUB_SEAL_INVALID");
        }
      }),
      { numRuns: 100 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        try {
          openSealedPin(lock.priv, bytes, "ctx");
          return false;
        } catch (e) {
          return isLatchkeyError(e, "HUB_SEAL_INVALID");
        }
      }),
      { numRuns: 100 },
    );
  });
});
