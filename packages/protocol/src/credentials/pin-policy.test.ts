import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  checkPinPolicyShape,
  DEFAULT_PIN_POLICY,
  generatePin,
  pinLengthChoices,
  pinWeakness,
  PIN_LENGTH_LIMITS,
} from "./pin-policy.js";

const ruleOf = (pin: string, policy = DEFAULT_PIN_POLICY, phone: string | null = null) =>
  pinWeakness(pin, policy, phone)?.rule ?? null;

describe("the one PIN policy", () => {
  it("defaults to the reference lock's 6 to 12 digits", () => {
    expect(DEFAULT_PIN_POLICY).toMatchObject({ minLength: 6, maxLength: 12 });
    expect(ruleOf("4817")).toBe("length");
    expect(ruleOf("58392")).toBe("length");
    expect(ruleOf("5839201746382")).toBe("length");
    expect(ruleOf("583920")).toBeNull();
    expect(ruleOf("4817", { ...DEFAULT_PIN_POLICY, minLength: 4 })).toBeNull();
    expect(pinLengthChoices()).toEqual([6, 7, 8, 9, 10, 11, 12]);
  });

  it("refuses non-digits, repeats, runs, common PINs and digits from the phone number", () => {
    expect(ruleOf("12a456")).toBe("format");
    expect(ruleOf("")).toBe("format");
    expect(ruleOf("111111")).toBe("repeat");
    expect(ruleOf("123123")).toBe("repeat");
    expect(ruleOf("696969")).toBe("repeat");
    expect(ruleOf("123456")).toBe("run");
    expect(ruleOf("987654")).toBe("run");
    expect(ruleOf("890123")).toBe("run");
    expect(ruleOf("159753")).toBe("common");
    expect(ruleOf("2580", { ...DEFAULT_PIN_POLICY, minLength: 4 })).toBe("common");
    expect(ruleOf("5551234", DEFAULT_PIN_POLICY, "+1 555 123 4567")).toBe("phone");
    expect(ruleOf("819200", DEFAULT_PIN_POLICY, "+44 20 8192 0000")).toBe("phone");
    expect(ruleOf("902184", DEFAULT_PIN_POLICY, "+44 20 8192 0000")).toBeNull();
  });

  it("reasons never contain the PIN", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9]{4,13}$/), (pin) => {
        const w = pinWeakness(pin, DEFAULT_PIN_POLICY, "+33 6 12 34 56 78");
        return w === null || !w.reason.includes(pin);
      }),
    );
  });

  it("each weak-PIN rule can be switched off", () => {
    const lax = { ...DEFAULT_PIN_POLICY, rejectRepeats: false, rejectRuns: false, rejectCommon: false };
    for (const pin of ["111111", "123456", "159753"]) expect(ruleOf(pin, lax)).toBeNull();
  });

  it("checks a policy's shape against the length limits", () => {
    expect(PIN_LENGTH_LIMITS).toEqual({ min: 4, max: 12 });
    expect(checkPinPolicyShape(DEFAULT_PIN_POLICY)).toBeNull();
    expect(checkPinPolicyShape({ ...DEFAULT_PIN_POLICY, minLength: 3 })).toMatch(/minPinLength/);
    expect(checkPinPolicyShape({ ...DEFAULT_PIN_POLICY, minLength: 8, maxLength: 7 })).toMatch(
      /maxPinLength/,
    );
  });

  it("generates PINs of the asked length that pass the policy, and none outside its range", () => {
    fc.assert(
      fc.property(fc.integer({ min: 6, max: 12 }), (len) => {
        const pin = generatePin(len, DEFAULT_PIN_POLICY, "0612345678");
        return (
          pin !== null && pin.length === len && pinWeakness(pin, DEFAULT_PIN_POLICY, "0612345678") === null
        );
      }),
      { numRuns: 100 },
    );
    expect(generatePin(4)).toBeNull();
    expect(generatePin(13)).toBeNull();
  });
});
