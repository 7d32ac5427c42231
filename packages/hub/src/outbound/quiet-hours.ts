/**
 * Quiet hours: a daily window, in a time zone, during which a channel's non-urgent messages wait
 * until the window ends. "22:00"–"07:00" runs past midnight; equal start and end mean no window.
 */
import { LatchkeyError } from "@latchkey/protocol";

export interface QuietHours {
  /** "HH:MM", local to `timeZone`. */
  readonly start: string;
  readonly end: string;
  /** IANA time zone, e.g. "Europe/London". */
  readonly timeZone: string;
}

const CLOCK = /^([01][0-9]|2[0-3]):([0-5][0-9])$/;

function minutesOf(clock: string): number {
  const m = CLOCK.exec(clock);
  if (m === null)
    throw new LatchkeyError("HUB_BAD_REQUEST", "quiet hours are HH:MM, 00:00 to 23:59", {
      field: "quietHours",
    });
  return Number(m[1]) * 60 + Number(m[2]);
}

export function checkQuietHours(q: QuietHours): QuietHours {
  minutesOf(q.start);
  minutesOf(q.end);
  try {
    new Intl.DateTimeFormat("en-GB", { timeZone: q.timeZone });
  } catch {
    throw new LatchkeyError("HUB_BAD_REQUEST", "quiet hours need a known IANA time zone", {
      field: "quietHours",
    });
  }
  return { start: q.start, end: q.end, timeZone: q.timeZone };
}

/** Minutes past local midnight at `at` in `timeZone`. */
function localMinutes(at: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone,
    hourCycle: "h23",
    hour: "2-digit",
    minute: "2-digit",
  }).formatToParts(at);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return get("hour") * 60 + get("minute");
}

/**
 * When a message made at `at` may go: null if `at` is outside the window, else the window's end
 * (to the minute; across a clock change the wait can be an hour off, never more).
 */
export function quietUntil(q: QuietHours, at: number): number | null {
  const start = minutesOf(q.start);
  const end = minutesOf(q.end);
  if (start === end) return null;
  const now = localMinutes(at, q.timeZone);
  const inside = start < end ? now >= start && now < end : now >= start || now < end;
  if (!inside) return null;
  const wait = (end - now + 1440) % 1440;
  const startOfMinute = at - (at % 60_000);
  return startOfMinute + wait * 60_000;
}
