import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { isLatchkeyError } from "@latchkey/protocol";
import { grantStatusAt, localWeekMinute, validateTerms, type GrantTerms } from "./schedule.js";

const base: GrantTerms = {
  schedule: { kind: "always" },
  validFrom: null,
  validUntil: null,
  maxUses: null,
  uses: 0,
  expiresAfterFirstUseSeconds: null,
  firstUsedAt: null,
  revokedAt: null,
};
// Friday 20 Nov 2026, 10:30 in Paris = 09:30 UTC.
const fri1030Paris = Date.UTC(2026, 10, 20, 9, 30);

describe("grant schedules", () => {
  it("weekly windows apply in the site's time zone", () => {
    expect(localWeekMinute(fri1030Paris, "Europe/Paris")).toEqual({ day: 4, minute: 630 });
    const cleaner: GrantTerms = {
      ...base,
      schedule: { kind: "weekly", windows: [{ days: ["fri"], start: "10:00", end: "12:00" }] },
    };
    expect(grantStatusAt(cleaner, fri1030Paris, "Europe/Paris")).toBe("active");
    // The same instant is 04:30 in New York: outside the window.
    expect(grantStatusAt(cleaner, fri1030Paris, "America/New_York")).toBe("outside_window");
    expect(grantStatusAt(cleaner, fri1030Paris + 2 * 3600_000, "Europe/Paris")).toBe("outside_window");
    expect(grantStatusAt(cleaner, fri1030Paris + 7 * 86400_000, "Europe/Paris")).toBe("active");
  });

  it("overnight windows cover the morning after", () => {
    const night: GrantTerms = {
      ...base,
      schedule: { kind: "weekly", windows: [{ days: ["thu"], start: "22:00", end: "02:00" }] },
    };
    expect(grantStatusAt(night, Date.UTC(2026, 10, 19, 23, 0), "UTC")).toBe("active"); // Thu 23:00
    expect(grantStatusAt(night, Date.UTC(2026, 10, 20, 1, 0), "UTC")).toBe("active"); // Fri 01:00
    expect(grantStatusAt(night, Date.UTC(2026, 10, 20, 3, 0), "UTC")).toBe("outside_window");
  });

  it("date range, send-ahead, one-time, use count, expiry after first use, revocation", () => {
    const t = fri1030Paris;
    expect(grantStatusAt({ ...base, validFrom: t + 1, validUntil: t + 10 }, t, "UTC")).toBe("scheduled");
    expect(grantStatusAt({ ...base, validFrom: t - 1, validUntil: t + 10 }, t, "UTC")).toBe("active");
    expect(grantStatusAt({ ...base, validUntil: t }, t, "UTC")).toBe("expired");
    expect(grantStatusAt({ ...base, maxUses: 1, uses: 0 }, t, "UTC")).toBe("active");
    expect(grantStatusAt({ ...base, maxUses: 1, uses: 1 }, t, "UTC")).toBe("used_up");
    expect(
      grantStatusAt({ ...base, expiresAfterFirstUseSeconds: 3600, firstUsedAt: t - 3_599_000 }, t, "UTC"),
    ).toBe("active");
    expect(
      grantStatusAt({ ...base, expiresAfterFirstUseSeconds: 3600, firstUsedAt: t - 3_600_000 }, t, "UTC"),
    ).toBe("expired");
    expect(grantStatusAt({ ...base, revokedAt: t }, t, "UTC")).toBe("revoked");
  });

  it("nothing is active outside [validFrom, validUntil), whatever the schedule", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2e12 }),
        fc.integer({ min: 1, max: 1e10 }),
        fc.integer({ min: -1e10, max: 1e10 }),
        (from, len, offset) => {
          const at = from + offset;
          const s = grantStatusAt({ ...base, validFrom: from, validUntil: from + len }, at, "UTC");
          return (s === "active") === (at >= from && at < from + len);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("rejects inconsistent terms with HUB_GRANT_INVALID", () => {
    const bad = [
      { ...base, validFrom: 10, validUntil: 10 },
      {
        ...base,
        schedule: {
          kind: "weekly" as const,
          windows: [{ days: ["mon" as const], start: "10:00", end: "10:00" }],
        },
      },
      {
        ...base,
        schedule: {
          kind: "weekly" as const,
          windows: [{ days: ["mon" as const, "mon" as const], start: "10:00", end: "11:00" }],
        },
      },
    ];
    for (const terms of bad) {
      try {
        validateTerms(terms);
        expect.unreachable();
      } catch (e) {
        expect(isLatchkeyError(e, "HUB_GRANT_INVALID")).toBe(true);
      }
    }
  });
});
