import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { DEFAULT_PIN_POLICY as PROTOCOL_PIN_POLICY, isLatchkeyError, pinWeakness } from "@latchkey/protocol";
import { checkPin, DEFAULT_PIN_POLICY } from "./pin-policy.js";
import { pinHash, sameHash } from "./pin-hash.js";

function codeOf(pin: string, policy = DEFAULT_PIN_POLICY): string | null {
  try {
    checkPin(pin, policy);
    return null;
  } catch (e) {
    if (!isLatchkeyError(e)) throw e;
    if (/^[0-9]{4,}$/.test(pin)) expect(e.message).not.toContain(pin);
    return `${e.code}${e.details?.rule === undefined ? "" : ":" + String(e.details.rule)}`;
  }
}

describe("PIN policy", () => {
  it("refuses non-digits and lengths outside the range", () => {
    expect(codeOf("12a456")).toBe("LOCK_PIN_FORMAT");
    expect(codeOf("")).toBe("LOCK_PIN_FORMAT");
    expect(codeOf("58392")).toBe("LOCK_PIN_FORMAT");
    expect(codeOf("5839201746382")).toBe("LOCK_PIN_FORMAT");
    expect(codeOf("5839", { ...DEFAULT_PIN_POLICY, minLength: 4 })).toBeNull();
  });

  it("refuses repeats, runs and common PINs", () => {
    expect(codeOf("111111")).toBe("LOCK_PIN_WEAK:repeat");
    expect(codeOf("121212")).toBe("LOCK_PIN_WEAK:repeat");
    expect(codeOf("123123")).toBe("LOCK_PIN_WEAK:repeat");
    expect(codeOf("123456")).toBe("LOCK_PIN_WEAK:run");
    expect(codeOf("987654")).toBe("LOCK_PIN_WEAK:run");
    expect(codeOf("890123")).toBe("LOCK_PIN_WEAK:run");
    expect(codeOf("696969")).toBe("LOCK_PIN_WEAK:repeat");
    expect(codeOf("159753")).toBe("LOCK_PIN_WEAK:common");
    expect(codeOf("112233")).toBe("LOCK_PIN_WEAK:common");
    expect(codeOf("583920")).toBeNull();
  });

  it("each weak-PIN rule can be switched off", () => {
    const lax = { ...DEFAULT_PIN_POLICY, rejectRepeats: false, rejectRuns: false, rejectCommon: false };
    for (const pin of ["111111", "123456", "159753"]) expect(codeOf(pin, lax)).toBeNull();
  });

  it("stores a keyed hash: different secrets give different hashes, comparison is exact", () => {
    const a = new Uint8Array(32).fill(1);
    const b = new Uint8Array(32).fill(2);
    expect(sameHash(pinHash(a, "583920"), pinHash(a, "583920"))).toBe(true);
    expect(sameHash(pinHash(a, "583920"), pinHash(b, "583920"))).toBe(false);
    expect(sameHash(pinHash(a, "583920"), pinHash(a, "583921"))).toBe(false);
  });

  it("is the protocol's one policy: the lock refuses exactly what the hub's policy refuses", () => {
    expect(DEFAULT_PIN_POLICY).toBe(PROTOCOL_PIN_POLICY);
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9]{3,13}$/), (pin) => {
        expect(codeOf(pin) === null).toBe(pinWeakness(pin, PROTOCOL_PIN_POLICY) === null);
      }),
      { numRuns: 2000 },
    );
  });

  it("never throws anything but a LatchkeyError for any string", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), (s) => {
        codeOf(s);
      }),
      { numRuns: 300 },
    );
  });
});
