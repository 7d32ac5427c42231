/**
 * Matter-style schedules. Week-day: days mask + local start/end minute. Year-day: an absolute
 * UTC interval [from, to). Holiday: an absolute interval during which an operating mode applies.
 */
import { ALL_DAYS_MASK, isEnumValue, LatchkeyError, OperatingMode } from "@latchkey/protocol";
import type { LocalTime } from "./local-time.js";

export interface WeekDaySchedule {
  readonly index: number;
  /** Matter DaysMaskMap (protocol's `DaysMask` bits, Sunday = 0x01 … Saturday = 0x40). */
  readonly daysMask: number;
  /** Local minutes since midnight, 0–1439. */
  readonly startMinute: number;
  /** Local minutes since midnight, 1–1440 (exclusive), greater than startMinute. */
  readonly endMinute: number;
}

export interface YearDaySchedule {
  readonly index: number;
  /** Epoch milliseconds (UTC), inclusive. */
  readonly fromMs: number;
  /** Epoch milliseconds (UTC), exclusive. */
  readonly toMs: number;
}

export interface HolidaySchedule {
  readonly index: number;
  readonly fromMs: number;
  readonly toMs: number;
  readonly operatingMode: OperatingMode;
}

function bad(field: string, message: string): never {
  throw new LatchkeyError("LOCK_SCHEDULE_INVALID", message, { field });
}

export function checkScheduleIndex(index: number, max: number): void {
  if (!Number.isInteger(index) || index < 1 || index > max)
    bad("scheduleIndex", `schedule index must be 1–${max}`);
}

export function checkWeekDay(s: WeekDaySchedule): void {
  if (!Number.isInteger(s.daysMask) || s.daysMask < 1 || s.daysMask > ALL_DAYS_MASK)
    bad("daysMask", "days mask must be 1–127");
  if (!Number.isInteger(s.startMinute) || s.startMinute < 0 || s.startMinute > 1439)
    bad("startMinute", "start minute must be 0–1439");
  if (!Number.isInteger(s.endMinute) || s.endMinute < 1 || s.endMinute > 1440)
    bad("endMinute", "end minute must be 1–1440");
  if (s.endMinute <= s.startMinute) bad("endMinute", "end minute must be after start minute");
}

function checkInterval(fromMs: number, toMs: number): void {
  if (!Number.isSafeInteger(fromMs) || fromMs < 0)
    bad("fromMs", "from must be a non-negative epoch millisecond");
  if (!Number.isSafeInteger(toMs) || toMs <= fromMs) bad("toMs", "to must be after from");
}

export function checkYearDay(s: YearDaySchedule): void {
  checkInterval(s.fromMs, s.toMs);
}

export function checkHoliday(s: HolidaySchedule): void {
  checkInterval(s.fromMs, s.toMs);
  if (typeof s.operatingMode !== "number" || !isEnumValue(OperatingMode, s.operatingMode))
    bad("operatingMode", "unknown operating mode");
}

/** Inside when the local weekday's bit is set and start <= local minute < end (wall-clock rule). */
export function insideWeekDay(s: WeekDaySchedule, local: LocalTime): boolean {
  return (
    (s.daysMask & (1 << local.weekday)) !== 0 &&
    local.minuteOfDay >= s.startMinute &&
    local.minuteOfDay < s.endMinute
  );
}

export function insideInterval(s: { fromMs: number; toMs: number }, nowMs: number): boolean {
  return nowMs >= s.fromMs && nowMs < s.toMs;
}
