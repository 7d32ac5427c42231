import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { isLatchkeyError } from "@latchkey/protocol";
import { checkPin, DEFAULT_SETTINGS, pinPolicyOf } from "@latchkey/lock";
import { DEFAULT_PIN_POLICY } from "@latchkey/protocol";
import {
  assertStrongPin,
  defaultPinLength,
  generateHubPin,
  PIN_MIN,
  strictestPinPolicy,
} from "./pin-policy.js";

function hubAccepts(pin: string, phone: string | null = null): boolean {
  try {
    assertStrongPin(pin, phone);
    return true;
  } catch (e) {
    if (!isLatchkeyError(e, "HUB_PIN_WEAK")) throw e;
    expect(e.message).not.toContain(pin);
    return false;
  }
}

function lockAccepts(pin: string): boolean {
  try {
    checkPin(pin, pinPolicyOf(DEFAULT_SETTINGS));
    return true;
  } catch (e) {
    if (!isLatchkeyError(e)) throw e;
    return false;
  }
}

describe("the hub's PIN policy is the lock's", () => {
  it("accepts a PIN only if a lock with default settings accepts it (4-digit PINs included)", () => {
    expect(PIN_MIN).toBe(pinPolicyOf(DEFAULT_SETTINGS).minLength);
    for (const pin of ["4817", "58392", "1234", "0000", "2580", "123123", "147147", "12a4"]) {
      expect(hubAccepts(pin), pin).toBe(false);
      expect(lockAccepts(pin), pin).toBe(false);
    }
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9]{3,13}$/), (pin) => {
        if (hubAccepts(pin)) expect(lockAccepts(pin)).toBe(true);
        expect(hubAccepts(pin)).toBe(lockAccepts(pin));
      }),
      { numRuns: 2000 },
    );
  });

  it("also refuses digits from the person's phone number (which a lock never knows)", () => {
    expect(hubAccepts("5551234", "+1 555 123 4567")).toBe(false);
    expect(hubAccepts("819200", "+44 20 8192 0000")).toBe(false);
    expect(hubAccepts("902184", "+44 20 8192 0000")).toBe(true);
  });

  it("generates PINs the lock accepts, and refuses lengths outside the policy", () => {
    fc.assert(
      fc.property(fc.integer({ min: 6, max: 12 }), (len) => {
        const pin = generateHubPin(len, "0612345678");
        return pin.length === len && hubAccepts(pin, "0612345678") && lockAccepts(pin);
      }),
      { numRuns: 100 },
    );
    let refused: unknown;
    try {
      generateHubPin(4, null);
    } catch (e) {
      refused = e;
    }
    expect(isLatchkeyError(refused, "HUB_PIN_WEAK")).toBe(true);
  });

  it("holds a site to the strictest of its locks' policies (the default when none reported)", () => {
    expect(strictestPinPolicy([])).toBe(DEFAULT_PIN_POLICY);
    const eight = { ...DEFAULT_PIN_POLICY, minLength: 8, rejectRuns: false };
    const lax = { minLength: 4, maxLength: 10, rejectRepeats: false, rejectRuns: true, rejectCommon: false };
    const site = strictestPinPolicy([eight, lax]);
    expect(site).toEqual({
      minLength: 8,
      maxLength: 10,
      rejectRepeats: true,
      rejectRuns: true,
      rejectCommon: true,
    });
    expect(defaultPinLength(site)).toBe(8);
    expect(defaultPinLength(lax)).toBe(6);
    expect(hubAccepts("58392071")).toBe(true);
    expect(() => assertStrongPin("583920", null, site)).toThrow(/8 to 10 digits/);
    expect(() => assertStrongPin("58392071", null, site)).not.toThrow();
  });
});
