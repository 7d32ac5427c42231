/**
 * Every schedule on one lock: week-day and year-day schedules per user (looked up by user, so a
 * decision touches only that user's few entries) and the lock-wide holiday schedules.
 */
import { DenyReason, LatchkeyError, type OperatingMode, UserType } from "@latchkey/protocol";
import { localTime } from "./local-time.js";
import {
  checkHoliday,
  checkScheduleIndex,
  checkWeekDay,
  checkYearDay,
  insideInterval,
  insideWeekDay,
  type HolidaySchedule,
  type WeekDaySchedule,
  type YearDaySchedule,
} from "./schedule.js";

export interface ScheduleCapacity {
  readonly weekDayPerUser: number;
  readonly yearDayPerUser: number;
  readonly holidays: number;
}

export const DEFAULT_SCHEDULE_CAPACITY: ScheduleCapacity = {
  weekDayPerUser: 10,
  yearDayPerUser: 10,
  holidays: 32,
};

/** Every schedule, flattened for the state file. */
export interface ScheduleSnapshot {
  readonly weekDay: readonly { readonly userIndex: number; readonly schedule: WeekDaySchedule }[];
  readonly yearDay: readonly { readonly userIndex: number; readonly schedule: YearDaySchedule }[];
  readonly holidays: readonly HolidaySchedule[];
}

export class ScheduleBook {
  readonly weekDay = new Map<number, Map<number, WeekDaySchedule>>();
  readonly yearDay = new Map<number, Map<number, YearDaySchedule>>();
  readonly holidays = new Map<number, HolidaySchedule>();

  constructor(readonly capacity: ScheduleCapacity = DEFAULT_SCHEDULE_CAPACITY) {}

  /** Validates and stores a user's week-day schedule; returns whether it replaced one. */
  setWeekDay(userIndex: number, schedule: WeekDaySchedule): boolean {
    checkScheduleIndex(schedule.index, this.capacity.weekDayPerUser);
    checkWeekDay(schedule);
    const existed = this.weekDay.get(userIndex)?.has(schedule.index) === true;
    this.putWeekDay(userIndex, { ...schedule });
    return existed;
  }

  /** Validates and stores a user's year-day schedule; returns whether it replaced one. */
  setYearDay(userIndex: number, schedule: YearDaySchedule): boolean {
    checkScheduleIndex(schedule.index, this.capacity.yearDayPerUser);
    checkYearDay(schedule);
    const existed = this.yearDay.get(userIndex)?.has(schedule.index) === true;
    this.putYearDay(userIndex, { ...schedule });
    return existed;
  }

  /** Validates and stores a holiday schedule; returns whether it replaced one. */
  setHoliday(schedule: HolidaySchedule): boolean {
    checkScheduleIndex(schedule.index, this.capacity.holidays);
    checkHoliday(schedule);
    const existed = this.holidays.has(schedule.index);
    this.holidays.set(schedule.index, { ...schedule });
    return existed;
  }

  snapshot(): ScheduleSnapshot {
    const weekDay: { userIndex: number; schedule: WeekDaySchedule }[] = [];
    for (const [userIndex, m] of this.weekDay)
      for (const schedule of m.values()) weekDay.push({ userIndex, schedule });
    const yearDay: { userIndex: number; schedule: YearDaySchedule }[] = [];
    for (const [userIndex, m] of this.yearDay)
      for (const schedule of m.values()) yearDay.push({ userIndex, schedule });
    return { weekDay, yearDay, holidays: [...this.holidays.values()] };
  }

  /** Rebuilds from a snapshot through the same checks as the setters (a bad record throws). */
  restore(s: ScheduleSnapshot, userExists: (userIndex: number) => boolean): void {
    for (const { userIndex, schedule } of s.weekDay) {
      if (!userExists(userIndex)) throw new Error("schedule of a missing user");
      this.setWeekDay(userIndex, schedule);
    }
    for (const { userIndex, schedule } of s.yearDay) {
      if (!userExists(userIndex)) throw new Error("schedule of a missing user");
      this.setYearDay(userIndex, schedule);
    }
    for (const h of s.holidays) this.setHoliday(h);
  }

  get entryCount(): number {
    let n = this.holidays.size;
    for (const m of this.weekDay.values()) n += m.size;
    for (const m of this.yearDay.values()) n += m.size;
    return n;
  }

  putWeekDay(userIndex: number, s: WeekDaySchedule): void {
    let m = this.weekDay.get(userIndex);
    if (m === undefined) this.weekDay.set(userIndex, (m = new Map<number, WeekDaySchedule>()));
    m.set(s.index, s);
  }

  putYearDay(userIndex: number, s: YearDaySchedule): void {
    let m = this.yearDay.get(userIndex);
    if (m === undefined) this.yearDay.set(userIndex, (m = new Map<number, YearDaySchedule>()));
    m.set(s.index, s);
  }

  removeWeekDay(userIndex: number, index: number): WeekDaySchedule {
    const s = this.weekDay.get(userIndex)?.get(index);
    if (s === undefined) unknown("weekDay", index);
    this.weekDay.get(userIndex)?.delete(index);
    return s;
  }

  removeYearDay(userIndex: number, index: number): YearDaySchedule {
    const s = this.yearDay.get(userIndex)?.get(index);
    if (s === undefined) unknown("yearDay", index);
    this.yearDay.get(userIndex)?.delete(index);
    return s;
  }

  removeHoliday(index: number): HolidaySchedule {
    const s = this.holidays.get(index);
    if (s === undefined) unknown("holiday", index);
    this.holidays.delete(index);
    return s;
  }

  removeUser(userIndex: number): void {
    this.weekDay.delete(userIndex);
    this.yearDay.delete(userIndex);
  }

  /** The operating mode a holiday imposes now, if one is active (lowest index wins). */
  holidayMode(nowMs: number | null): OperatingMode | null {
    if (nowMs === null) return null;
    let best: HolidaySchedule | null = null;
    for (const h of this.holidays.values()) {
      if (insideInterval(h, nowMs) && (best === null || h.index < best.index)) best = h;
    }
    return best?.operatingMode ?? null;
  }

  /**
   * Whether the user's schedules allow access now; null when they do. Week-day users need a
   * week-day window, year-day users a year-day interval; schedule-restricted users need both
   * kinds that exist. Users of other types are not schedule-bound.
   */
  check(userIndex: number, type: UserType, nowMs: number | null, timeZone: string): DenyReason | null {
    const needWeek = type === UserType.WeekDayScheduleUser || type === UserType.ScheduleRestrictedUser;
    const needYear = type === UserType.YearDayScheduleUser || type === UserType.ScheduleRestrictedUser;
    if (!needWeek && !needYear) return null;
    const week = this.weekDay.get(userIndex);
    const year = this.yearDay.get(userIndex);
    const hasWeek = week !== undefined && week.size > 0;
    const hasYear = year !== undefined && year.size > 0;
    const useWeek = needWeek && hasWeek;
    const useYear = needYear && hasYear;
    if (!useWeek && !useYear) return DenyReason.NoSchedule;
    if (nowMs === null) return DenyReason.TimeUnknown;
    if (useWeek) {
      const local = localTime(nowMs, timeZone);
      let inside = false;
      for (const s of week.values()) if (insideWeekDay(s, local)) inside = true;
      if (!inside) return DenyReason.OutsideSchedule;
    }
    if (useYear) {
      let inside = false;
      for (const s of year.values()) if (insideInterval(s, nowMs)) inside = true;
      if (!inside) return DenyReason.OutsideSchedule;
    }
    return null;
  }
}

function unknown(kind: string, index: number): never {
  throw new LatchkeyError("LOCK_SCHEDULE_UNKNOWN", `no ${kind} schedule at index ${index}`, {
    kind,
    scheduleIndex: index,
  });
}
