import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isLatchkeyError } from "../errors/index.js";
import { ReplayWindow } from "./replay-window.js";

describe("ReplayWindow", () => {
  it("accepts each counter once, in any order inside the window", () => {
    const w = new ReplayWindow(64);
    for (const c of [5, 3, 4, 0, 70, 10, 69]) {
      expect(w.check(c)).toBe("fresh");
      w.accept(c);
      expect(w.check(c)).toBe("replayed");
    }
    expect(w.highestAccepted).toBe(70);
    expect(w.lowestAcceptable).toBe(7);
    expect(w.check(6)).toBe("too-old");
    expect(w.check(7)).toBe("fresh");
    expect(w.check(3)).toBe("too-old");
  });

  it("refuses with stable codes and does not move on check", () => {
    const w = new ReplayWindow(32);
    w.accept(100);
    const code = (c: number): string => {
      try {
        w.assertFresh(c);
        return "fresh";
      } catch (e) {
        return isLatchkeyError(e) ? e.code : String(e);
      }
    };
    expect(code(100)).toBe("NOISE_FRAME_REPLAYED");
    expect(code(68)).toBe("NOISE_FRAME_TOO_OLD");
    expect(code(69)).toBe("fresh");
    expect(code(1e15)).toBe("fresh");
    expect(w.highestAccepted).toBe(100);
    expect(() => new ReplayWindow(33)).toThrow();
  });

  it("agrees with a simple model (a set of seen counters and the highest)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(32, 64, 1024),
        fc.array(fc.oneof(fc.nat({ max: 3000 }), fc.integer({ min: -40, max: 5 })), { maxLength: 300 }),
        (size, steps) => {
          const w = new ReplayWindow(size);
          const seen = new Set<number>();
          let highest = -1;
          for (const step of steps) {
            // Negative steps probe just below the current highest (reordering).
            const c = step < 0 ? Math.max(0, highest + step) : step;
            const expected =
              c > highest ? "fresh" : c <= highest - size ? "too-old" : seen.has(c) ? "replayed" : "fresh";
            expect(w.check(c)).toBe(expected);
            if (expected === "fresh") {
              w.accept(c);
              seen.add(c);
              highest = Math.max(highest, c);
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
