import { describe, expect, it } from "vitest";
import { daysPhrase, termsSentence, zonedParts, zonedToEpoch } from "./sentence.js";

const LONDON = "Europe/London";
const NOW = Date.UTC(2026, 10, 20, 12, 0);

describe("grant terms as a sentence", () => {
  it("reads a cleaner's Friday mornings over a winter", () => {
    const terms = {
      schedule: {
        kind: "weekly" as const,
        windows: [{ days: ["fri" as const], start: "10:00", end: "12:00" }],
      },
      validFrom: zonedToEpoch("2026-12-01", "00:00", LONDON),
      validUntil: zonedToEpoch("2027-03-01", "00:00", LONDON),
      maxUses: null,
      expiresAfterFirstUseSeconds: null,
    };
    expect(termsSentence(terms, LONDON, NOW)).toBe(
      "Every Friday 10:00–12:00, from 1 December to 28 February 2027",
    );
  });

  it("names day groups, overnight windows, one-time use and expiry after first use", () => {
    expect(daysPhrase(["mon", "tue", "wed", "thu", "fri"])).toBe("Weekdays");
    expect(daysPhrase(["sun", "sat"])).toBe("Weekends");
    expect(daysPhrase(["tue", "wed", "thu"])).toBe("Tuesday to Thursday");
    expect(daysPhrase(["mon", "wed", "fri"])).toBe("Every Monday, Wednesday and Friday");
    expect(
      termsSentence(
        {
          schedule: { kind: "weekly", windows: [{ days: ["sat"], start: "22:00", end: "06:00" }] },
          validFrom: null,
          validUntil: null,
          maxUses: 1,
          expiresAfterFirstUseSeconds: 7200,
        },
        LONDON,
        NOW,
      ),
    ).toBe("Every Saturday 22:00–06:00 (overnight), once, for 2 hours after the first use");
    expect(
      termsSentence(
        {
          schedule: { kind: "always" },
          validFrom: null,
          validUntil: null,
          maxUses: 5,
          expiresAfterFirstUseSeconds: null,
        },
        LONDON,
        NOW,
      ),
    ).toBe("At any time, up to 5 times");
  });

  it("converts site-local wall time to an instant across daylight saving changes", () => {
    // London is UTC+0 in winter and UTC+1 in summer; New York UTC-5 / UTC-4.
    expect(zonedToEpoch("2026-12-01", "10:00", LONDON)).toBe(Date.UTC(2026, 11, 1, 10, 0));
    expect(zonedToEpoch("2026-07-01", "10:00", LONDON)).toBe(Date.UTC(2026, 6, 1, 9, 0));
    expect(zonedToEpoch("2026-03-08", "12:00", "America/New_York")).toBe(Date.UTC(2026, 2, 8, 16, 0));
    expect(zonedParts(Date.UTC(2026, 6, 1, 9, 0), LONDON)).toEqual({
      year: 2026,
      month: 7,
      day: 1,
      time: "10:00",
    });
  });
});
