import { createCipheriv, createPrivateKey, createPublicKey, diffieHellman, hkdfSync } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { x25519 } from "@noble/curves/ed25519.js";
import { concatBytes, fromHex, toHex } from "../encoding/bytes.js";
import { isLatchkeyError } from "../errors/error.js";
import {
  SEALED_SECRET_INFO,
  credentialSealContext,
  lockCommandSealContext,
  openSealedSecret,
  sealSecret,
} from "./sealed-secret.js";

const RECIPIENT_SECRET = new Uint8Array(32).fill(0x11);
const RECIPIENT = x25519.getPublicKey(RECIPIENT_SECRET);
const EPHEMERAL_SECRET = new Uint8Array(32).fill(0x22);
const LOCK_ID = new Uint8Array(16).fill(0xab);
const CONTEXT = credentialSealContext({
  lockId: LOCK_ID,
  credentialType: 1,
  userIndex: 3,
  credentialIndex: 7,
});
const PIN = new TextEncoder().encode("583920");

describe("sealed secrets", () => {
  it("golden bytes", () => {
    expect(CONTEXT).toBe(
      "latchkey/credential/v1 lock=abababababababababababababababab type=1 user=3 index=7",
    );
    expect(lockCommandSealContext(LOCK_ID)).toBe(
      "latchkey/lock-command/v1 lock=abababababababababababababababab command=lock",
    );
    const sealed = sealSecret(RECIPIENT, PIN, CONTEXT, EPHEMERAL_SECRET);
    expect(toHex(sealed)).toBe(
      "01" + // version
        "0faa684ed28867b97f4a6a2dee5df8ce974e76b7018e3f22a1c4cf2678570f20" + // ephemeral X25519 public key (32)
        "aee7566f99fd" + // ChaCha20-Poly1305 ciphertext of "583920" (6)
        "c373e1dca5ba710ab65a6cd53be7356e", // Poly1305 tag (16)
    );
    expect(new TextDecoder().decode(openSealedSecret(RECIPIENT_SECRET, sealed, CONTEXT))).toBe("583920");
  });

  it("matches an independent node:crypto implementation of the layout", () => {
    const sealed = sealSecret(RECIPIENT, PIN, CONTEXT, EPHEMERAL_SECRET);
    const pkcs8 = (k: Uint8Array) =>
      createPrivateKey({
        key: Buffer.concat([Buffer.from("302e020100300506032b656e04220420", "hex"), k]),
        format: "der",
        type: "pkcs8",
      });
    const ephemeralPublic = new Uint8Array(
      Buffer.from(createPublicKey(pkcs8(EPHEMERAL_SECRET)).export({ format: "jwk" }).x ?? "", "base64url"),
    );
    const shared = diffieHellman({
      privateKey: pkcs8(EPHEMERAL_SECRET),
      publicKey: createPublicKey({
        key: { kty: "OKP", crv: "X25519", x: Buffer.from(RECIPIENT).toString("base64url") },
        format: "jwk",
      }),
    });
    const okm = new Uint8Array(
      hkdfSync("sha256", shared, concatBytes(ephemeralPublic, RECIPIENT), SEALED_SECRET_INFO, 44),
    );
    const cipher = createCipheriv("chacha20-poly1305", okm.subarray(0, 32), okm.subarray(32, 44), {
      authTagLength: 16,
    });
    cipher.setAAD(new TextEncoder().encode(CONTEXT), { plaintextLength: PIN.length });
    const body = Buffer.concat([cipher.update(PIN), cipher.final(), cipher.getAuthTag()]);
    expect(toHex(sealed)).toBe(toHex(concatBytes(Uint8Array.of(1), ephemeralPublic, body)));
  });

  it("opens only with the right key and the exact context (another user, slot, type or lock fails)", () => {
    const sealed = sealSecret(RECIPIENT, PIN, CONTEXT);
    const others = [
      credentialSealContext({ lockId: LOCK_ID, credentialType: 1, userIndex: 4, credentialIndex: 7 }),
      credentialSealContext({ lockId: LOCK_ID, credentialType: 1, userIndex: 3, credentialIndex: 8 }),
      credentialSealContext({ lockId: LOCK_ID, credentialType: 2, userIndex: 3, credentialIndex: 7 }),
      credentialSealContext({
        lockId: new Uint8Array(16),
        credentialType: 1,
        userIndex: 3,
        credentialIndex: 7,
      }),
      lockCommandSealContext(LOCK_ID),
    ];
    for (const ctx of others) {
      expect(() => openSealedSecret(RECIPIENT_SECRET, sealed, ctx)).toThrow(/failed authentication/);
    }
    expect(() => openSealedSecret(new Uint8Array(32).fill(0x33), sealed, CONTEXT)).toThrow(
      /failed authentication/,
    );
    // The message never names the secret.
    try {
      openSealedSecret(RECIPIENT_SECRET, sealed, others[0] ?? "");
    } catch (e) {
      expect(String(e)).not.toContain("583920");
    }
  });

  it("refuses short blobs, unknown versions, low-order keys", () => {
    expect(() => openSealedSecret(RECIPIENT_SECRET, new Uint8Array(48), CONTEXT)).toThrow(/too short/);
    const v2 = sealSecret(RECIPIENT, PIN, CONTEXT);
    v2[0] = 2;
    expect(() => openSealedSecret(RECIPIENT_SECRET, v2, CONTEXT)).toThrow(/unknown version/);
    expect(() => sealSecret(new Uint8Array(32), PIN, CONTEXT)).toThrow();
    expect(() =>
      credentialSealContext({ lockId: fromHex("ab"), credentialType: 1, userIndex: 1, credentialIndex: 1 }),
    ).toThrow();
  });

  it("opening never throws anything but LOCK_SEALED_SECRET_INVALID (random and mutated blobs)", () => {
    const valid = sealSecret(RECIPIENT, PIN, CONTEXT);
    const check = (bytes: Uint8Array): void => {
      try {
        openSealedSecret(RECIPIENT_SECRET, bytes, CONTEXT);
      } catch (e) {
        expect(isLatchkeyError(e, "LOCK_SEALED_SECRET_INVALID")).toBe(true);
      }
    };
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => check(b)),
      { numRuns: 200 },
    );
    fc.assert(
      fc.property(fc.nat(valid.length * 8 - 1), (bit) => {
        const m = valid.slice();
        m[bit >> 3] = (m[bit >> 3] ?? 0) ^ (1 << (bit & 7));
        expect(() => openSealedSecret(RECIPIENT_SECRET, m, CONTEXT)).toThrow();
        check(m);
      }),
      { numRuns: 200 },
    );
  });
});
