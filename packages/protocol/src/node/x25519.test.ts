import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { isLatchkeyError } from "../errors/error.js";
import { fromHex, toHex } from "../encoding/bytes.js";
import { nobleX25519 } from "../noise/suite.js";
import { nodeX25519 } from "./x25519.js";

describe("nodeX25519", () => {
  it("matches RFC 7748 section 6.1", () => {
    const alice = fromHex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    const bobPublic = fromHex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
    expect(toHex(nodeX25519.publicKey(alice))).toBe(
      "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
    );
    expect(toHex(nodeX25519.sharedSecret(alice, bobPublic))).toBe(
      "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742",
    );
  });

  it("agrees with the @noble implementation on random keys, including generated pairs", () => {
    for (let i = 0; i < 20; i++) {
      const a = new Uint8Array(randomBytes(32));
      const b = nodeX25519.generateKeyPair?.();
      if (b === undefined) throw new Error("generateKeyPair missing");
      expect(b.publicKey).toEqual(nobleX25519.publicKey(b.secretKey));
      expect(nodeX25519.sharedSecret(a, b.publicKey)).toEqual(nobleX25519.sharedSecret(a, b.publicKey));
    }
  });

  it("refuses low-order and malformed public keys with NOISE_HANDSHAKE_BAD_KEY", () => {
    const secret = new Uint8Array(randomBytes(32));
    for (const bad of [new Uint8Array(32), Uint8Array.of(1, ...new Uint8Array(31)), new Uint8Array(31)]) {
      try {
        nodeX25519.sharedSecret(secret, bad);
        expect.unreachable();
      } catch (e) {
        expect(isLatchkeyError(e, "NOISE_HANDSHAKE_BAD_KEY")).toBe(true);
      }
    }
  });
});
