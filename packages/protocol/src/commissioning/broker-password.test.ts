import { describe, expect, it } from "vitest";
import { fromHex } from "../encoding/bytes.js";
import { LatchkeyError } from "../errors/error.js";
import { nodeX25519 } from "../node/x25519.js";
import { nobleX25519 } from "../noise/suite.js";
import { deriveBrokerPassword } from "./broker-password.js";

function thrownCode(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof LatchkeyError) return e.code;
    throw e;
  }
  return "no error";
}

// RFC 7748 section 6.1 key pairs (Alice = hub, Bob = lock here).
const hubSecret = fromHex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
const hubPublic = fromHex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
const lockSecret = fromHex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
const lockPublic = fromHex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
const lockId = fromHex("000102030405060708090a0b0c0d0e0f");

describe("deriveBrokerPassword", () => {
  it("gives a fixed known answer (RFC 7748 keys; HKDF checked against node:crypto hkdfSync)", () => {
    // X25519 = 4a5d9d5b…161742 (RFC 7748); HKDF-SHA256(salt empty, info "latchkey/broker-password/v1" ‖ id).
    expect(
      deriveBrokerPassword({ x25519: nobleX25519, secretKey: hubSecret, publicKey: lockPublic, lockId }),
    ).toBe("qOjlIbR3isf5pc5mXkGqt0v35VOgYFAYqVnUjwtY1Sk");
  });

  it("agrees on both sides and across X25519 implementations", () => {
    const hub = deriveBrokerPassword({
      x25519: nodeX25519,
      secretKey: hubSecret,
      publicKey: lockPublic,
      lockId,
    });
    const lock = deriveBrokerPassword({
      x25519: nobleX25519,
      secretKey: lockSecret,
      publicKey: hubPublic,
      lockId,
    });
    expect(lock).toBe(hub);
    expect(hub).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it("differs per lock id and per key", () => {
    const base = deriveBrokerPassword({
      x25519: nodeX25519,
      secretKey: hubSecret,
      publicKey: lockPublic,
      lockId,
    });
    const otherId = lockId.slice();
    otherId[15] = (otherId[15] ?? 0) ^ 1;
    expect(
      deriveBrokerPassword({
        x25519: nodeX25519,
        secretKey: hubSecret,
        publicKey: lockPublic,
        lockId: otherId,
      }),
    ).not.toBe(base);
    const otherLock = nodeX25519.generateKeyPair!();
    expect(
      deriveBrokerPassword({
        x25519: nodeX25519,
        secretKey: hubSecret,
        publicKey: otherLock.publicKey,
        lockId,
      }),
    ).not.toBe(base);
    const otherHub = nodeX25519.generateKeyPair!();
    expect(
      deriveBrokerPassword({
        x25519: nodeX25519,
        secretKey: otherHub.secretKey,
        publicKey: lockPublic,
        lockId,
      }),
    ).not.toBe(base);
  });

  it("refuses wrong lengths and a low-order public key with COMM_INVALID_PARAMETERS", () => {
    const ok = { secretKey: hubSecret, publicKey: lockPublic, lockId };
    for (const x25519 of [nodeX25519, nobleX25519]) {
      expect(thrownCode(() => deriveBrokerPassword({ x25519, ...ok, lockId: lockId.subarray(0, 15) }))).toBe(
        "COMM_INVALID_PARAMETERS",
      );
      expect(thrownCode(() => deriveBrokerPassword({ x25519, ...ok, lockId: new Uint8Array(17) }))).toBe(
        "COMM_INVALID_PARAMETERS",
      );
      expect(thrownCode(() => deriveBrokerPassword({ x25519, ...ok, secretKey: new Uint8Array(31) }))).toBe(
        "COMM_INVALID_PARAMETERS",
      );
      expect(thrownCode(() => deriveBrokerPassword({ x25519, ...ok, publicKey: new Uint8Array(33) }))).toBe(
        "COMM_INVALID_PARAMETERS",
      );
      // The all-zero point (low order): the DH output is all zero.
      expect(thrownCode(() => deriveBrokerPassword({ x25519, ...ok, publicKey: new Uint8Array(32) }))).toBe(
        "COMM_INVALID_PARAMETERS",
      );
    }
  });

  it("refuses an all-zero DH output even from an X25519 that does not check it", () => {
    const lax = { publicKey: () => new Uint8Array(32), sharedSecret: () => new Uint8Array(32) };
    expect(
      thrownCode(() =>
        deriveBrokerPassword({ x25519: lax, secretKey: hubSecret, publicKey: lockPublic, lockId }),
      ),
    ).toBe("COMM_INVALID_PARAMETERS");
  });
});
