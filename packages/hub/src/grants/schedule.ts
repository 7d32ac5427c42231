/**
 * Grant schedules and their evaluation. A grant combines: a validity window (valid from / until:
 * "date range", and "send ahead" when valid-from is in the future), a schedule (always, or weekly
 * windows in the site's time zone), a use-count limit (1 = one-time), and an optional lifetime
 * counted from the first use ("expires N seconds after first use").
 */
import { LatchkeyError } from "@latchkey/protocol";

export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface WeeklyWindow {
  readonly days: readonly Weekday[];
  /** "HH:MM", local time of the site. */
  readonly start: string;
  /** "HH:MM"; earlier than start means the window runs past midnight. */
  readonly end: string;
}

export type Schedule =
  { readonly kind: "always" } | { readonly kind: "weekly"; readonly windows: readonly WeeklyWindow[] };

export interface GrantTerms {
  readonly schedule: Schedule;
  readonly validFrom: number | null;
  readonly validUntil: number | null;
  readonly maxUses: number | null;
  readonly uses: number;
  readonly expiresAfterFirstUseSeconds: number | null;
  readonly firstUsedAt: number | null;
  readonly revokedAt: number | null;
}

export type GrantStatus = "active" | "scheduled" | "outside_window" | "expired" | "used_up" | "revoked";

function minutes(hhmm: string): number {
  const [h, m] = hhmm.split(":").map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

export function validateTerms(terms: Omit<GrantTerms, "uses" | "firstUsedAt" | "revokedAt">): void {
  if (terms.validFrom !== null && terms.validUntil !== null && terms.validUntil <= terms.validFrom) {
    throw new LatchkeyError("HUB_GRANT_INVALID", "validUntil must be after validFrom", {
      field: "validUntil",
    });
  }
  if (terms.schedule.kind === "weekly") {
    terms.schedule.windows.forEach((w, i) => {
      if (w.start === w.end)
        throw new LatchkeyError("HUB_GRANT_INVALID", `window ${i} starts and ends at the same time`, {
          field: `schedule.windows.${i}`,
        });
      if (new Set(w.days).size !== w.days.length)
        throw new LatchkeyError("HUB_GRANT_INVALID", `window ${i} repeats a day`, {
          field: `schedule.windows.${i}.days`,
        });
    });
  }
}

/** The weekday index (0 = Monday) and minute of the day of `at` in `timeZone`. */
export function localWeekMinute(at: number, timeZone: string): { day: number; minute: number } {
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone,
    weekday: "short",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(at);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  const day = WEEKDAYS.indexOf(get("weekday").toLowerCase().slice(0, 3) as Weekday);
  return { day, minute: Number(get("hour")) * 60 + Number(get("minute")) };
}

function inWeekly(windows: readonly WeeklyWindow[], at: number, timeZone: string): boolean {
  const { day, minute } = localWeekMinute(at, timeZone);
  const yesterday = (day + 6) % 7;
  return windows.some((w) => {
    const s = minutes(w.start);
    const e = minutes(w.end);
    const days = w.days.map((d) => WEEKDAYS.indexOf(d));
    if (s < e) return days.includes(day) && minute >= s && minute < e;
    // Overnight window: the evening part today, or the morning part of a window that began yesterday.
    return (days.includes(day) && minute >= s) || (days.includes(yesterday) && minute < e);
  });
}

/** Whether the grant lets its person in at `at`, and if not, why. */
export function grantStatusAt(terms: GrantTerms, at: number, timeZone: string): GrantStatus {
  if (terms.revokedAt !== null && terms.revokedAt <= at) return "revoked";
  if (terms.validUntil !== null && at >= terms.validUntil) return "expired";
  if (
    terms.expiresAfterFirstUseSeconds !== null &&
    terms.firstUsedAt !== null &&
    at >= terms.firstUsedAt + terms.expiresAfterFirstUseSeconds * 1000
  ) {
    return "expired";
  }
  if (terms.maxUses !== null && terms.uses >= terms.maxUses) return "used_up";
  if (terms.validFrom !== null && at < terms.validFrom) return "scheduled";
  if (terms.schedule.kind === "weekly" && !inWeekly(terms.schedule.windows, at, timeZone))
    return "outside_window";
  return "active";
}

/** A grant that can still open a door now or later (for duplicate checks and sealing). */
export function isLive(status: GrantStatus): boolean {
  return status === "active" || status === "scheduled" || status === "outside_window";
}

export function assertTimeZone(timeZone: string): void {
  try {
    new Intl.DateTimeFormat("en-GB", { timeZone });
  } catch {
    throw new LatchkeyError("HUB_BAD_REQUEST", "timezone is not an IANA time zone name", {
      field: "timezone",
    });
  }
}
