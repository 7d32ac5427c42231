import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { ACCOUNT_POLICY, ADDRESS_POLICY, delayAfter } from "./rate-limit.js";

describe("throttle delays", () => {
  it("are free at first, then grow, and never exceed a few minutes (no permanent lockout)", () => {
    expect(delayAfter(ACCOUNT_POLICY.freeFailures - 1, ACCOUNT_POLICY)).toBe(0);
    expect(delayAfter(ACCOUNT_POLICY.freeFailures, ACCOUNT_POLICY)).toBe(1_000);
    expect(delayAfter(ACCOUNT_POLICY.freeFailures + 3, ACCOUNT_POLICY)).toBe(8_000);
    fc.assert(
      fc.property(fc.nat({ max: 1_000_000 }), (n) => {
        for (const p of [ACCOUNT_POLICY, ADDRESS_POLICY]) {
          const d = delayAfter(n, p);
          if (d > 5 * 60_000 || d < 0 || d > delayAfter(n + 1, p)) return false;
        }
        return true;
      }),
      { numRuns: 200 },
    );
  });
});
