/**
 * Grant terms as one plain sentence ("Every Friday 10:00–12:00, from 1 December to 28 February,
 * once"), and the site-local date arithmetic the schedule editor needs. Pure: no DOM, no React,
 * unit-tested.
 */
import type { Category, GrantStatus, GrantTerms, Schedule, Weekday, WeeklyWindow } from "../api/types.js";
import { WEEKDAYS } from "../api/types.js";

export const DAY_NAMES: Record<Weekday, string> = {
  mon: "Monday",
  tue: "Tuesday",
  wed: "Wednesday",
  thu: "Thursday",
  fri: "Friday",
  sat: "Saturday",
  sun: "Sunday",
};

export const CATEGORY_LABELS: Record<Category, string> = {
  family: "Family",
  resident: "Resident",
  staff: "Staff",
  guest: "Guest",
  cleaner: "Cleaner",
  dog_walker: "Dog walker",
  contractor: "Contractor",
  delivery: "Delivery",
  caregiver: "Caregiver",
  other: "Other",
};

export const STATUS_LABELS: Record<GrantStatus, string> = {
  active: "Can enter now",
  scheduled: "Starts later",
  outside_window: "Outside their hours now",
  expired: "Expired",
  used_up: "Used up",
  revoked: "Revoked",
};

/** "a, b and c" */
export function listJoin(items: readonly string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1] ?? ""}`;
}

export function daysPhrase(days: readonly Weekday[]): string {
  const set = new Set(days);
  const ordered = WEEKDAYS.filter((d) => set.has(d));
  const key = ordered.join(",");
  if (ordered.length === 7) return "Every day";
  if (key === "mon,tue,wed,thu,fri") return "Weekdays";
  if (key === "sat,sun") return "Weekends";
  // A run of three or more consecutive days reads as a range.
  const idx = ordered.map((d) => WEEKDAYS.indexOf(d));
  const consecutive = idx.length >= 3 && idx.every((v, i) => i === 0 || v === (idx[i - 1] ?? -2) + 1);
  if (consecutive)
    return `${DAY_NAMES[ordered[0] ?? "mon"]} to ${DAY_NAMES[ordered[ordered.length - 1] ?? "sun"]}`;
  return `Every ${listJoin(ordered.map((d) => DAY_NAMES[d]))}`;
}

export function windowPhrase(w: WeeklyWindow): string {
  const overnight = w.end < w.start;
  return `${daysPhrase(w.days)} ${w.start}–${w.end}${overnight ? " (overnight)" : ""}`;
}

export function schedulePhrase(schedule: Schedule): string {
  if (schedule.kind === "always") return "At any time";
  return schedule.windows.map(windowPhrase).join("; ");
}

/** The calendar date and time of `at` in `timeZone`. */
export function zonedParts(
  at: number,
  timeZone: string,
): { year: number; month: number; day: number; time: string } {
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone,
    year: "numeric",
    month: "numeric",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(at);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? "0";
  return {
    year: Number(get("year")),
    month: Number(get("month")),
    day: Number(get("day")),
    time: `${get("hour")}:${get("minute")}`,
  };
}

/** Epoch ms of a wall-clock date and time ("2026-12-01", "10:00") in `timeZone`. */
export function zonedToEpoch(date: string, time: string, timeZone: string): number {
  const [y, mo, d] = date.split("-").map(Number);
  const [h, mi] = time.split(":").map(Number);
  const wall = Date.UTC(y ?? 1970, (mo ?? 1) - 1, d ?? 1, h ?? 0, mi ?? 0);
  // Guess with the offset at the wall time, then correct once for a DST change in between.
  let guess = wall;
  for (let i = 0; i < 2; i++) {
    const p = zonedParts(guess, timeZone);
    const [ph, pm] = p.time.split(":").map(Number);
    const seen = Date.UTC(p.year, p.month - 1, p.day, ph ?? 0, pm ?? 0);
    guess += wall - seen;
  }
  return guess;
}

const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

/** "1 December" (with the year when it is not `nowYear`), and the time unless it is midnight. */
export function datePhrase(at: number, timeZone: string, nowYear: number): string {
  const p = zonedParts(at, timeZone);
  const base = `${p.day} ${MONTHS[p.month - 1] ?? ""}${p.year === nowYear ? "" : ` ${p.year}`}`;
  return p.time === "00:00" ? base : `${base} ${p.time}`;
}

/** `validUntil` is exclusive: a grant "until 28 February" ends at midnight starting 1 March. */
export function untilPhrase(at: number, timeZone: string, nowYear: number): string {
  const p = zonedParts(at, timeZone);
  if (p.time === "00:00") return datePhrase(at - 60_000, timeZone, nowYear).replace(/ 23:59$/, "");
  return datePhrase(at, timeZone, nowYear);
}

function durationPhrase(seconds: number): string {
  if (seconds % 86_400 === 0) return `${seconds / 86_400} day${seconds === 86_400 ? "" : "s"}`;
  if (seconds % 3600 === 0) return `${seconds / 3600} hour${seconds === 3600 ? "" : "s"}`;
  return `${Math.round(seconds / 60)} minutes`;
}

/** The whole grant as one sentence, in the site's time zone. */
export function termsSentence(terms: Omit<GrantTerms, "category">, timeZone: string, now: number): string {
  const year = zonedParts(now, timeZone).year;
  const parts = [schedulePhrase(terms.schedule)];
  const { validFrom, validUntil } = terms;
  if (validFrom !== null && validUntil !== null)
    parts.push(`from ${datePhrase(validFrom, timeZone, year)} to ${untilPhrase(validUntil, timeZone, year)}`);
  else if (validFrom !== null) parts.push(`from ${datePhrase(validFrom, timeZone, year)}`);
  else if (validUntil !== null) parts.push(`until ${untilPhrase(validUntil, timeZone, year)}`);
  if (terms.maxUses === 1) parts.push("once");
  else if (terms.maxUses !== null) parts.push(`up to ${terms.maxUses} times`);
  if (terms.expiresAfterFirstUseSeconds !== null)
    parts.push(`for ${durationPhrase(terms.expiresAfterFirstUseSeconds)} after the first use`);
  return parts.join(", ");
}
