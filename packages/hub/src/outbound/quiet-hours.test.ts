import { describe, expect, it } from "vitest";
import { isLatchkeyError } from "@latchkey/protocol";
import { checkQuietHours, quietUntil } from "./quiet-hours.js";

const at = (iso: string) => Date.parse(iso);

describe("quiet hours", () => {
  const night = { start: "22:00", end: "07:00", timeZone: "Europe/London" };

  it("holds a message made inside a window that runs past midnight until its end, local time", () => {
    // 23:30 GMT in November: held until 07:00 the next morning.
    expect(quietUntil(night, at("2026-11-20T23:30:15Z"))).toBe(at("2026-11-21T07:00:00Z"));
    // 06:59 BST in June (05:59 UTC): held one minute, to 07:00 BST.
    expect(quietUntil(night, at("2026-06-21T05:59:00Z"))).toBe(at("2026-06-21T06:00:00Z"));
  });

  it("lets a message outside the window go now, and a window with equal ends is no window", () => {
    expect(quietUntil(night, at("2026-11-20T12:00:00Z"))).toBeNull();
    expect(quietUntil(night, at("2026-11-20T07:00:00Z"))).toBeNull();
    expect(quietUntil({ ...night, start: "09:00", end: "09:00" }, at("2026-11-20T09:30:00Z"))).toBeNull();
  });

  it("handles a window within one day, in another time zone", () => {
    const lunch = { start: "12:00", end: "13:30", timeZone: "America/New_York" };
    // 12:15 EST = 17:15 UTC: held until 13:30 EST = 18:30 UTC.
    expect(quietUntil(lunch, at("2026-11-20T17:15:00Z"))).toBe(at("2026-11-20T18:30:00Z"));
    expect(quietUntil(lunch, at("2026-11-20T18:30:00Z"))).toBeNull();
  });

  it("refuses a malformed time or an unknown time zone, naming the field", () => {
    for (const bad of [
      { ...night, start: "24:00" },
      { ...night, end: "7:00" },
      { ...night, timeZone: "Mars/Olympus" },
    ]) {
      let error: unknown = null;
      try {
        checkQuietHours(bad);
      } catch (e) {
        error = e;
      }
      expect(isLatchkeyError(error, "HUB_BAD_REQUEST") && error.details?.field).toBe("quietHours");
    }
  });
});
