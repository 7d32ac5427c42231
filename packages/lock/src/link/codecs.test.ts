import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isLatchkeyError, toHex } from "@latchkey/protocol";
import { decodePhoneIdentityProof, encodePhoneIdentityProof } from "./identity-proof.js";

function onlyLatchkeyErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    expect(isLatchkeyError(e)).toBe(true);
  }
}

describe("phone identity proof", () => {
  it("golden bytes and round trip", () => {
    const proof = {
      certificate: Uint8Array.of(0xc0, 0xc1, 0xc2),
      bindingSignature: new Uint8Array(64).fill(0x5a),
    };
    const bytes = encodePhoneIdentityProof(proof);
    expect(toHex(bytes)).toBe(
      "01" + // version
        "0003" + // certificate length (u16)
        "c0c1c2" + // certificate
        "5a".repeat(64), // binding signature
    );
    expect(decodePhoneIdentityProof(bytes)).toEqual(proof);
  });

  it("decoding random and mutated bytes throws only LatchkeyErrors", () => {
    const valid = encodePhoneIdentityProof({
      certificate: new Uint8Array(40).fill(1),
      bindingSignature: new Uint8Array(64),
    });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) =>
        onlyLatchkeyErrors(() => decodePhoneIdentityProof(b)),
      ),
      {
        numRuns: 300,
      },
    );
    fc.assert(
      fc.property(
        fc.nat(valid.length - 1),
        fc.integer({ min: 1, max: 255 }),
        fc.nat(valid.length),
        (i, x, cut) => {
          const m = valid.slice();
          m[i] = (m[i] ?? 0) ^ x;
          onlyLatchkeyErrors(() => decodePhoneIdentityProof(m));
          onlyLatchkeyErrors(() => decodePhoneIdentityProof(valid.slice(0, cut)));
        },
      ),
      { numRuns: 300 },
    );
  });
});
