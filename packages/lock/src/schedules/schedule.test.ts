/**
 * Week-day windows are evaluated on local wall time. The oracle here computes local time from
 * the published DST rules (independently of Intl), so the property tests check the runtime's
 * `Intl.DateTimeFormat` path against the rules themselves.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { ALL_DAYS_MASK, DaysMask, DenyReason, UserType } from "@latchkey/protocol";
import { localTime } from "./local-time.js";
import { insideWeekDay, type WeekDaySchedule } from "./schedule.js";
import { ScheduleBook } from "./schedule-book.js";

const HOUR = 3_600_000;

/** Sunday on or before `day` of month (0-based month) in `year`, as a UTC date number. */
function lastSunday(year: number, month: number): number {
  const last = new Date(Date.UTC(year, month + 1, 0));
  return last.getUTCDate() - last.getUTCDay();
}
function firstSunday(year: number, month: number): number {
  const first = new Date(Date.UTC(year, month, 1));
  return 1 + ((7 - first.getUTCDay()) % 7);
}

/** UK: BST from 01:00 UTC on the last Sunday of March to 01:00 UTC on the last Sunday of October. */
function londonOffsetHours(t: number): number {
  const y = new Date(t).getUTCFullYear();
  const start = Date.UTC(y, 2, lastSunday(y, 2), 1);
  const end = Date.UTC(y, 9, lastSunday(y, 9), 1);
  return t >= start && t < end ? 1 : 0;
}

/** NSW (since 2008): AEDT from 02:00 AEST on the first Sunday of October to 03:00 AEDT on the first Sunday of April. */
function sydneyOffsetHours(t: number): number {
  const y = new Date(t + 10 * HOUR).getUTCFullYear();
  const dstEnd = Date.UTC(y, 3, firstSunday(y, 3), 3) - 11 * HOUR;
  const dstStart = Date.UTC(y, 9, firstSunday(y, 9), 2) - 10 * HOUR;
  return t < dstEnd || t >= dstStart ? 11 : 10;
}

function oracle(t: number, offsetHours: (t: number) => number): { weekday: number; minuteOfDay: number } {
  const local = new Date(t + offsetHours(t) * HOUR);
  return { weekday: local.getUTCDay(), minuteOfDay: local.getUTCHours() * 60 + local.getUTCMinutes() };
}

const ZONES = [
  { zone: "Europe/London", offset: londonOffsetHours },
  { zone: "Australia/Sydney", offset: sydneyOffsetHours },
] as const;

// 2010–2035, minute resolution, with extra weight on the hours around DST changes.
const anyInstant = fc
  .integer({ min: Date.UTC(2010, 0, 1) / 60_000, max: Date.UTC(2035, 0, 1) / 60_000 })
  .map((m) => m * 60_000);
const nearDstChange = fc
  .record({
    year: fc.integer({ min: 2010, max: 2034 }),
    which: fc.constantFrom(
      (y: number) => Date.UTC(y, 2, lastSunday(y, 2), 1),
      (y: number) => Date.UTC(y, 9, lastSunday(y, 9), 1),
      (y: number) => Date.UTC(y, 3, firstSunday(y, 3), 3) - 11 * HOUR,
      (y: number) => Date.UTC(y, 9, firstSunday(y, 9), 2) - 10 * HOUR,
    ),
    deltaMin: fc.integer({ min: -180, max: 180 }),
  })
  .map(({ year, which, deltaMin }) => which(year) + deltaMin * 60_000);
const instant = fc.oneof(anyInstant, nearDstChange);

const windowArb = fc
  .record({
    daysMask: fc.integer({ min: 1, max: ALL_DAYS_MASK }),
    a: fc.integer({ min: 0, max: 1439 }),
    b: fc.integer({ min: 1, max: 1440 }),
  })
  .filter(({ a, b }) => a < b)
  .map(({ daysMask, a, b }): WeekDaySchedule => ({ index: 1, daysMask, startMinute: a, endMinute: b }));

describe("local wall time", () => {
  for (const { zone, offset } of ZONES) {
    it(`matches the published DST rules in ${zone}`, () => {
      fc.assert(
        fc.property(instant, (t) => {
          const got = localTime(t, zone);
          const want = oracle(t, offset);
          expect({ weekday: got.weekday, minuteOfDay: got.minuteOfDay }).toEqual(want);
        }),
        { numRuns: 400 },
      );
    });

    it(`week-day windows in ${zone} are inside exactly when the local wall time is`, () => {
      fc.assert(
        fc.property(windowArb, instant, (w, t) => {
          const o = oracle(t, offset);
          const expected =
            (w.daysMask & (1 << o.weekday)) !== 0 &&
            o.minuteOfDay >= w.startMinute &&
            o.minuteOfDay < w.endMinute;
          expect(insideWeekDay(w, localTime(t, zone))).toBe(expected);
        }),
        { numRuns: 400 },
      );
    });
  }
});

/** Minutes inside a 01:00–03:00 every-day window over the local day containing `dayUtc`. */
function minutesInside(zone: string, fromUtc: number, toUtc: number): number {
  const w: WeekDaySchedule = { index: 1, daysMask: ALL_DAYS_MASK, startMinute: 60, endMinute: 180 };
  let n = 0;
  for (let t = fromUtc; t < toUtc; t += 60_000) if (insideWeekDay(w, localTime(t, zone))) n++;
  return n;
}

describe("a 01:00–03:00 window on DST-change days (documented behaviour)", () => {
  it("London spring forward (01:00 → 02:00): open one real hour, 02:00–03:00 BST", () => {
    // 2026-03-29: clocks go forward at 01:00 UTC.
    expect(minutesInside("Europe/London", Date.UTC(2026, 2, 28, 23), Date.UTC(2026, 2, 29, 23))).toBe(60);
    expect(
      insideWeekDay(
        { index: 1, daysMask: ALL_DAYS_MASK, startMinute: 60, endMinute: 180 },
        localTime(Date.UTC(2026, 2, 29, 1, 30), "Europe/London"),
      ),
    ).toBe(true);
  });

  it("London fall back (02:00 → 01:00): open three real hours (01:00–02:00 happens twice)", () => {
    expect(minutesInside("Europe/London", Date.UTC(2026, 9, 24, 23), Date.UTC(2026, 9, 25, 23))).toBe(180);
  });

  it("Sydney: spring forward 02:00 → 03:00 closes the window after one hour; fall back 03:00 → 02:00 opens it three", () => {
    // 2026-10-04 02:00 AEST = 2026-10-03 16:00 UTC; 2026-04-05 03:00 AEDT = 2026-04-04 16:00 UTC.
    expect(minutesInside("Australia/Sydney", Date.UTC(2026, 9, 3, 13), Date.UTC(2026, 9, 4, 13))).toBe(60);
    expect(minutesInside("Australia/Sydney", Date.UTC(2026, 3, 4, 13), Date.UTC(2026, 3, 5, 14))).toBe(180);
  });

  it("a normal day gives exactly two hours", () => {
    expect(minutesInside("Europe/London", Date.UTC(2026, 5, 10, 0), Date.UTC(2026, 5, 11, 0))).toBe(120);
  });
});

describe("schedule book", () => {
  const tz = "Europe/London";
  it("week-day, year-day and schedule-restricted users; no schedule; unknown time", () => {
    const book = new ScheduleBook();
    const monday10 = Date.UTC(2026, 2, 2, 10);
    expect(book.check(1, UserType.WeekDayScheduleUser, monday10, tz)).toBe(DenyReason.NoSchedule);
    book.putWeekDay(1, { index: 1, daysMask: DaysMask.Monday, startMinute: 9 * 60, endMinute: 12 * 60 });
    expect(book.check(1, UserType.WeekDayScheduleUser, monday10, tz)).toBeNull();
    expect(book.check(1, UserType.WeekDayScheduleUser, monday10 + 3 * HOUR, tz)).toBe(
      DenyReason.OutsideSchedule,
    );
    expect(book.check(1, UserType.WeekDayScheduleUser, null, tz)).toBe(DenyReason.TimeUnknown);
    expect(book.check(1, UserType.UnrestrictedUser, null, tz)).toBeNull();

    book.putYearDay(1, { index: 1, fromMs: monday10 + HOUR, toMs: monday10 + 30 * 24 * HOUR });
    expect(book.check(1, UserType.YearDayScheduleUser, monday10 + HOUR, tz)).toBeNull();
    expect(book.check(1, UserType.YearDayScheduleUser, monday10, tz)).toBe(DenyReason.OutsideSchedule);
    // Restricted: both kinds must hold.
    expect(book.check(1, UserType.ScheduleRestrictedUser, monday10, tz)).toBe(DenyReason.OutsideSchedule);
    expect(book.check(1, UserType.ScheduleRestrictedUser, monday10 + HOUR, tz)).toBeNull();
    expect(book.check(1, UserType.ScheduleRestrictedUser, monday10 + 7 * 24 * HOUR + 3 * HOUR, tz)).toBe(
      DenyReason.OutsideSchedule,
    );
  });

  it("the time-unknown rule: every schedule user with schedules is denied without a clock", () => {
    fc.assert(
      fc.property(
        windowArb,
        fc.constantFrom(UserType.WeekDayScheduleUser, UserType.ScheduleRestrictedUser),
        (w, type) => {
          const book = new ScheduleBook();
          book.putWeekDay(7, w);
          expect(book.check(7, type, null, tz)).toBe(DenyReason.TimeUnknown);
        },
      ),
      { numRuns: 50 },
    );
  });
});
