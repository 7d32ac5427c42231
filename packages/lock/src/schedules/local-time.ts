/**
 * Local wall time in the lock's IANA time zone, from `Intl.DateTimeFormat` (so DST follows the
 * platform's tz database). Schedules compare *wall* time: on a spring-forward day the skipped
 * local hour never occurs; on a fall-back day the repeated hour occurs twice.
 */
import { LatchkeyError } from "@latchkey/protocol";

export interface LocalTime {
  /** 0 = Sunday … 6 = Saturday (Matter's DaysMaskMap bit order). */
  readonly weekday: number;
  /** Minutes since local midnight, 0–1439. */
  readonly minuteOfDay: number;
  readonly year: number;
  readonly month: number;
  readonly day: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const WEEKDAYS: Readonly<Record<string, number>> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat("en-US", {
        timeZone,
        hourCycle: "h23",
        weekday: "short",
        year: "numeric",
        month: "numeric",
        day: "numeric",
        hour: "numeric",
        minute: "numeric",
      });
    } catch {
      throw new LatchkeyError("LOCK_SETTING_INVALID", "timeZone is not a known IANA time zone", {
        setting: "timeZone",
      });
    }
    formatters.set(timeZone, f);
  }
  return f;
}

/** Throws LOCK_SETTING_INVALID for an unknown zone. */
export function checkTimeZone(timeZone: string): void {
  if (typeof timeZone !== "string" || timeZone.length === 0 || timeZone.length > 64) {
    throw new LatchkeyError("LOCK_SETTING_INVALID", "timeZone must be an IANA zone name", {
      setting: "timeZone",
    });
  }
  formatter(timeZone);
}

// Formatting is the slow part of a decision; consecutive attempts usually fall in the same UTC
// minute, and zone offsets change only on whole minutes, so the last result per zone is reused.
const lastByZone = new Map<string, { minute: number; local: LocalTime }>();

export function localTime(epochMs: number, timeZone: string): LocalTime {
  const minute = Math.floor(epochMs / 60_000);
  const cached = lastByZone.get(timeZone);
  if (cached !== undefined && cached.minute === minute) return cached.local;
  const local = formatLocal(epochMs, timeZone);
  if (lastByZone.size > 16) lastByZone.clear();
  lastByZone.set(timeZone, { minute, local });
  return local;
}

function formatLocal(epochMs: number, timeZone: string): LocalTime {
  const parts: Partial<Record<Intl.DateTimeFormatPartTypes, string>> = {};
  for (const p of formatter(timeZone).formatToParts(epochMs)) parts[p.type] = p.value;
  return {
    weekday: WEEKDAYS[parts.weekday ?? ""] ?? 0,
    minuteOfDay: Number(parts.hour) * 60 + Number(parts.minute),
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
  };
}
