import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { generatePin, pinWeakness } from "./pin-policy.js";

describe("PIN policy", () => {
  it("rejects guessable PINs", () => {
    for (const weak of [
      "1234",
      "0000",
      "9999",
      "4321",
      "8901",
      "1212",
      "123123",
      "147147",
      "12",
      "1234567890123",
      "12a4",
    ]) {
      expect(pinWeakness(weak)).not.toBeNull();
    }
    expect(pinWeakness("5551234", "+1 555 123 4567")).toMatch(/phone/);
    expect(pinWeakness("2345", "+1 555 123 4567")).not.toBeNull();
    expect(pinWeakness("1234567", "+1 555 123 4567")).not.toBeNull();
    expect(pinWeakness("3456", "+1 555 123 4567")).not.toBeNull();
    expect(pinWeakness("8192", "+44 20 8192 0000")).toMatch(/phone/);
    expect(pinWeakness("4817")).toBeNull();
    expect(pinWeakness("902184")).toBeNull();
  });

  it("generates PINs that always pass the policy, of the requested length", () => {
    fc.assert(
      fc.property(fc.integer({ min: 4, max: 12 }), (len) => {
        const pin = generatePin(len, "0612345678");
        return pin.length === len && pinWeakness(pin, "0612345678") === null;
      }),
      { numRuns: 100 },
    );
  });
});
