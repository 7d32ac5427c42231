/**
 * Grants → what a lock holds. Each case is checked against the lock runtime's own semantics
 * (Matter user types; week-day windows in local time; year-day in UTC), and the combinations a
 * lock cannot hold exactly are refused with a reason, never approximated.
 */
import { describe, expect, it } from "vitest";
import type { GrantTerms } from "../grants/schedule.js";
import { desiredUser, YEAR_DAY_OPEN_END_MS } from "./desired.js";
import { transition } from "./reconcile.js";

const base: GrantTerms & { createdAt: number } = {
  schedule: { kind: "always" },
  validFrom: null,
  validUntil: null,
  maxUses: null,
  uses: 0,
  expiresAfterFirstUseSeconds: null,
  firstUsedAt: null,
  revokedAt: null,
  createdAt: 1_700_000_000_000,
};
const g = (over: Partial<GrantTerms>) => ({ ...base, ...over });
const FRI = 0x20;
const SAT = 0x40;

describe("desiredUser", () => {
  it("maps each grant shape to the lock's user type and schedules", () => {
    expect(desiredUser([g({})])).toEqual({
      ok: true,
      user: { userType: "UnrestrictedUser", expiringTimeoutMinutes: 0, weekDay: [], yearDay: [] },
    });
    const friday = g({
      schedule: { kind: "weekly", windows: [{ days: ["fri"], start: "10:00", end: "12:00" }] },
    });
    expect(desiredUser([friday])).toEqual({
      ok: true,
      user: {
        userType: "WeekDayScheduleUser",
        expiringTimeoutMinutes: 0,
        weekDay: [{ daysMask: FRI, startMinute: 600, endMinute: 720 }],
        yearDay: [],
      },
    });
    const dated = g({ validFrom: 1000, validUntil: 5000 });
    expect(desiredUser([dated])).toMatchObject({
      ok: true,
      user: { userType: "YearDayScheduleUser", yearDay: [{ fromMs: 1000, toMs: 5000 }] },
    });
    // Only an end date: from the grant's creation; only a start: until the wire's last instant.
    expect(desiredUser([g({ validUntil: 5000 })])).toMatchObject({
      user: { yearDay: [{ fromMs: base.createdAt, toMs: 5000 }] },
    });
    expect(desiredUser([g({ validFrom: 1000 })])).toMatchObject({
      user: { yearDay: [{ fromMs: 1000, toMs: YEAR_DAY_OPEN_END_MS }] },
    });
    expect(desiredUser([{ ...friday, validFrom: 1000, validUntil: 5000 }])).toMatchObject({
      user: { userType: "ScheduleRestrictedUser", weekDay: [{ daysMask: FRI }], yearDay: [{ fromMs: 1000 }] },
    });
    expect(desiredUser([g({ maxUses: 1 })])).toMatchObject({ user: { userType: "DisposableUser" } });
    expect(desiredUser([g({ expiresAfterFirstUseSeconds: 3600 })])).toMatchObject({
      user: { userType: "ExpiringUser", expiringTimeoutMinutes: 60 },
    });
  });

  it("splits a window past midnight into two local days and merges equal spans", () => {
    const night = g({
      schedule: {
        kind: "weekly",
        windows: [
          { days: ["fri"], start: "22:00", end: "02:00" },
          { days: ["sat"], start: "22:00", end: "00:00" },
        ],
      },
    });
    const r = desiredUser([night]);
    expect(r).toMatchObject({
      ok: true,
      user: {
        weekDay: [
          { daysMask: SAT, startMinute: 0, endMinute: 120 },
          { daysMask: FRI | SAT, startMinute: 1320, endMinute: 1440 },
        ],
      },
    });
  });

  it("unites weekly grants on the same dates; a plain always grant wins", () => {
    const a = g({ schedule: { kind: "weekly", windows: [{ days: ["mon"], start: "08:00", end: "09:00" }] } });
    const b = g({ schedule: { kind: "weekly", windows: [{ days: ["tue"], start: "08:00", end: "09:00" }] } });
    expect(desiredUser([a, b])).toMatchObject({
      user: { weekDay: [{ daysMask: 0x02 | 0x04, startMinute: 480 }] },
    });
    expect(desiredUser([a, g({})])).toMatchObject({ user: { userType: "UnrestrictedUser" } });
  });

  it("refuses what a lock cannot hold exactly, with a reason the owner can act on", () => {
    const a = g({
      validFrom: 1000,
      validUntil: 2000,
      schedule: { kind: "weekly", windows: [{ days: ["mon"], start: "08:00", end: "09:00" }] },
    });
    const b = g({
      validFrom: 3000,
      validUntil: 4000,
      schedule: { kind: "weekly", windows: [{ days: ["tue"], start: "08:00", end: "09:00" }] },
    });
    for (const grants of [
      [a, b],
      [g({ maxUses: 1 }), g({ validFrom: 5 })],
      [g({ maxUses: 3 })],
      [{ ...a, maxUses: 1 }],
    ]) {
      const r = desiredUser(grants);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.reason).toMatch(/^schedule-not-representable: /);
    }
    expect(desiredUser([])).toEqual({ ok: false, reason: "no live grant" });
  });
});

describe("credential × lock transitions", () => {
  const row = (state: string, attempts = 0, reason: string | null = null) => ({ state, attempts, reason });
  it("wanted: idle, removed and removing go back to pending; set stays set", () => {
    for (const s of ["idle", "removed", "removing"])
      expect(transition(row(s), true, false, null)?.state).toBe("pending");
    expect(transition(row("set"), true, false, null)).toBeNull();
    expect(transition(row("failed", 3, "LOCK_CREDENTIAL_DUPLICATE"), true, false, null)).toBeNull();
    expect(transition(row("failed", 0, "schedule-not-representable: x"), true, false, null)?.state).toBe(
      "pending",
    );
  });
  it("unwanted: whatever may be on the lock is removed; what never left the hub is parked", () => {
    expect(transition(row("set"), false, true, null)?.state).toBe("removing");
    expect(transition(row("sending", 1), false, true, null)?.state).toBe("removing");
    expect(transition(row("pending", 2), false, true, null)?.state).toBe("removing");
    expect(transition(row("pending", 0), false, true, null)?.state).toBe("removed");
    expect(transition(row("pending", 0), false, false, null)?.state).toBe("idle");
    expect(transition(row("failed", 2, "LOCK_LINK_TIMEOUT"), false, false, null)?.state).toBe("removing");
    expect(transition(row("idle"), false, true, null)?.state).toBe("removed");
    expect(transition(row("idle"), false, false, "schedule-not-representable: y")).toEqual({
      state: "failed",
      reason: "schedule-not-representable: y",
      resetAttempts: true,
    });
  });
});
