/**
 * What one person's user slot on one lock should hold, from that person's live grants on the
 * lock's door. The lock decides access offline, so the grant's terms become the lock's own
 * Matter concepts: user type, week-day schedules (site-local wall clock; the lock is told the
 * site's time zone) and year-day schedules (absolute UTC instants).
 *
 *   one grant, always, no dates            → UnrestrictedUser
 *   weekly windows                         → WeekDayScheduleUser
 *   valid from / until                     → YearDayScheduleUser
 *   weekly windows and dates               → ScheduleRestrictedUser (both must match)
 *   one use, no other terms                → DisposableUser
 *   expires N minutes after first use      → ExpiringUser
 *
 * Several live grants on one door combine only when the lock can hold their union exactly: any
 * plain "always" grant wins; otherwise all must share the same dates (their weekly windows are
 * united). Anything else (two date ranges with different windows, use limits beside schedules)
 * would give the lock either more or less access than the grants say, so it is refused with a
 * reason the owner can act on, never approximated.
 */
import type { UserSlot, WeekDayEntry } from "../drivers/lock-driver.js";
import { WEEKDAYS, type Weekday, type GrantTerms } from "../grants/schedule.js";

/** Matter DaysMaskMap bit of each weekday (Sunday = 0x01 … Saturday = 0x40). */
const DAY_BIT: Readonly<Record<Weekday, number>> = {
  sun: 0x01,
  mon: 0x02,
  tue: 0x04,
  wed: 0x08,
  thu: 0x10,
  fri: 0x20,
  sat: 0x40,
};
const MAX_EXPIRING_MINUTES = 2880;
/** A lock keeps at most this many week-day and year-day entries per user (DEFAULT_CAPACITY). */
export const MAX_SCHEDULES_PER_USER = 10;

/** The user configuration wanted on a lock. */
export type DesiredUser = UserSlot;

export type DesiredOutcome =
  { readonly ok: true; readonly user: DesiredUser } | { readonly ok: false; readonly reason: string };

function minutes(hhmm: string): number {
  const [h, m] = hhmm.split(":").map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

function nextDay(day: Weekday): Weekday {
  return WEEKDAYS[(WEEKDAYS.indexOf(day) + 1) % 7] as Weekday;
}

/** Weekly windows as lock entries; a window past midnight becomes two entries. Merged by time span. */
function weekEntries(terms: readonly GrantTerms[]): WeekDayEntry[] {
  const bySpan = new Map<string, number>();
  const add = (day: Weekday, start: number, end: number): void => {
    const key = `${start}-${end}`;
    bySpan.set(key, (bySpan.get(key) ?? 0) | DAY_BIT[day]);
  };
  for (const t of terms) {
    if (t.schedule.kind !== "weekly") continue;
    for (const w of t.schedule.windows) {
      const s = minutes(w.start);
      const e = minutes(w.end);
      for (const day of w.days) {
        if (e > s) add(day, s, e);
        else {
          add(day, s, 1440);
          if (e > 0) add(nextDay(day), 0, e);
        }
      }
    }
  }
  return [...bySpan.entries()]
    .map(([key, daysMask]) => {
      const [s, e] = key.split("-").map(Number);
      return { daysMask, startMinute: s ?? 0, endMinute: e ?? 1440 };
    })
    .sort((a, b) => a.startMinute - b.startMinute || a.endMinute - b.endMinute || a.daysMask - b.daysMask);
}

const plain = (t: GrantTerms): boolean =>
  t.schedule.kind === "always" &&
  t.validFrom === null &&
  t.validUntil === null &&
  t.maxUses === null &&
  t.expiresAfterFirstUseSeconds === null;

/**
 * The user for a person's live grants on one door. `createdAt` stands in for a missing
 * "valid from" when only "valid until" is set (a year-day entry needs both ends).
 */
export function desiredUser(grants: readonly (GrantTerms & { createdAt: number })[]): DesiredOutcome {
  if (grants.length === 0) return { ok: false, reason: "no live grant" };
  if (grants.some(plain))
    return {
      ok: true,
      user: { userType: "UnrestrictedUser", expiringTimeoutMinutes: 0, weekDay: [], yearDay: [] },
    };
  const limited = grants.filter((g) => g.maxUses !== null || g.expiresAfterFirstUseSeconds !== null);
  if (limited.length > 0) {
    const g = limited[0];
    if (grants.length > 1 || g === undefined)
      return {
        ok: false,
        reason:
          "schedule-not-representable: a use-limited grant cannot be combined with other grants on one door",
      };
    if (g.schedule.kind !== "always" || g.validFrom !== null || g.validUntil !== null)
      return {
        ok: false,
        reason:
          "schedule-not-representable: a lock cannot combine a use limit with a schedule; use dates and windows, or a one-time code alone",
      };
    if (g.expiresAfterFirstUseSeconds !== null) {
      const m = Math.ceil(g.expiresAfterFirstUseSeconds / 60);
      if (m < 1 || m > MAX_EXPIRING_MINUTES)
        return {
          ok: false,
          reason: `schedule-not-representable: a lock expires a code 1–${MAX_EXPIRING_MINUTES} minutes after first use`,
        };
      return {
        ok: true,
        user: { userType: "ExpiringUser", expiringTimeoutMinutes: m, weekDay: [], yearDay: [] },
      };
    }
    if (g.maxUses === 1)
      return {
        ok: true,
        user: { userType: "DisposableUser", expiringTimeoutMinutes: 0, weekDay: [], yearDay: [] },
      };
    return {
      ok: false,
      reason:
        "schedule-not-representable: a lock counts single uses only; use a one-time code or a date range",
    };
  }
  const range = (g: GrantTerms & { createdAt: number }): string =>
    g.validFrom === null && g.validUntil === null
      ? ""
      : `${g.validFrom ?? g.createdAt}-${g.validUntil ?? ""}`;
  const ranges = new Set(grants.map(range));
  if (ranges.size > 1)
    return {
      ok: false,
      reason:
        "schedule-not-representable: grants on one door with different dates; combine them into one grant",
    };
  const first = grants[0] as GrantTerms & { createdAt: number };
  const dated = range(first) !== "";
  const weekly = grants.every((g) => g.schedule.kind === "weekly");
  // A dated "always" grant beside a weekly one on the same dates: the always grant covers the week.
  const weekDay = weekly ? weekEntries(grants) : [];
  const yearDay = dated
    ? [{ fromMs: first.validFrom ?? first.createdAt, toMs: first.validUntil ?? YEAR_DAY_OPEN_END_MS }]
    : [];
  if (weekDay.length > MAX_SCHEDULES_PER_USER)
    return {
      ok: false,
      reason: `schedule-not-representable: a lock holds at most ${MAX_SCHEDULES_PER_USER} weekly windows per person`,
    };
  const userType = weekly
    ? dated
      ? "ScheduleRestrictedUser"
      : "WeekDayScheduleUser"
    : "YearDayScheduleUser";
  return { ok: true, user: { userType, expiringTimeoutMinutes: 0, weekDay, yearDay } };
}

/** "Until further notice": the largest instant the wire's u32 local-seconds field holds (2106). */
export const YEAR_DAY_OPEN_END_MS = 0xffff_ffff * 1000;

/** Canonical JSON of a desired user (stable key order), for change detection. */
export function userJson(u: DesiredUser): string {
  return JSON.stringify({
    userType: u.userType,
    expiringTimeoutMinutes: u.expiringTimeoutMinutes,
    weekDay: u.weekDay.map((w) => ({
      daysMask: w.daysMask,
      startMinute: w.startMinute,
      endMinute: w.endMinute,
    })),
    yearDay: u.yearDay.map((y) => ({ fromMs: y.fromMs, toMs: y.toMs })),
  });
}
