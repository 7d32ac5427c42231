/**
 * From an iCalendar export (Airbnb, VRBO, Booking.com, …) to bookings: check-in and check-out
 * instants in the site's time zone, and a key that finds the same booking in the next download.
 *
 * Keys: a feed's UID is the booking's identity when the feed gives each event its own; an event
 * without a UID, or sharing its UID with another, is keyed by its dates and summary instead (a
 * feed that invents new UIDs on every download is matched the same way, in reconcile.ts).
 */
import ical from "node-ical";
import { LatchkeyError } from "@latchkey/protocol";

export interface FeedBooking {
  readonly key: string;
  readonly summary: string;
  readonly startsAt: number;
  readonly endsAt: number;
  readonly cancelled: boolean;
}

export interface StayTimes {
  readonly timeZone: string;
  /** "HH:MM" local check-in and check-out times for bookings given as whole days. */
  readonly checkIn: string;
  readonly checkOut: string;
}

/** Dates the services export for closed or blocked nights, which are nobody's stay. */
const NOT_A_STAY = /not available|unavailable|blocked|closed/i;

/** The offset of `timeZone` from UTC at `at`, in milliseconds (local minus UTC). */
function offsetAt(at: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(at);
  const n = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? "0");
  const local = Date.UTC(n("year"), n("month") - 1, n("day"), n("hour"), n("minute"), n("second"));
  return local - Math.floor(at / 1000) * 1000;
}

/** The instant a local date and "HH:MM" time name in `timeZone` (a time skipped by a clock change moves forward). */
export function localTimeToEpoch(
  date: { readonly year: number; readonly month: number; readonly day: number },
  hhmm: string,
  timeZone: string,
): number {
  const [h, m] = hhmm.split(":").map(Number);
  const asUtc = Date.UTC(date.year, date.month - 1, date.day, h ?? 0, m ?? 0);
  const first = asUtc - offsetAt(asUtc, timeZone);
  const second = asUtc - offsetAt(first, timeZone);
  return second;
}

/** Characters that would hide or reorder what a reader sees (the hub's name rule refuses them). */
const UNSAFE_TEXT = /[\p{Cc}\p{Cs}\u061C\u200E\u200F\u2028\u2029\u202A-\u202E\u2066-\u2069]/gu;

function text(value: unknown): string {
  const raw =
    typeof value === "string"
      ? value
      : typeof value === "object" && value !== null && "val" in value
        ? String(value.val)
        : "";
  return raw.replace(UNSAFE_TEXT, " ").trim().slice(0, 200);
}

function calendarDate(d: Date): { year: number; month: number; day: number } {
  // node-ical builds a DATE value at local midnight of this process: read it back the same way.
  return { year: d.getFullYear(), month: d.getMonth() + 1, day: d.getDate() };
}

/**
 * Replaces each event's UID with its position (node-ical keeps one event per UID, so events
 * sharing a UID would otherwise be lost) and answers the original UIDs by position.
 */
function numberEvents(body: string): { body: string; uids: (string | null)[] } {
  const uids: (string | null)[] = [];
  const unfolded = body.replace(/\r?\n[ \t]/g, "");
  const out = unfolded.replace(/BEGIN:VEVENT\r?\n([\s\S]*?)END:VEVENT/g, (_block, inner: string) => {
    const uidLine = /^UID(?:;[^:\r\n]*)?:(.*)$/m.exec(inner);
    uids.push(uidLine?.[1]?.trim() || null);
    const rest = inner.replace(/^UID(?:;[^:\r\n]*)?:.*\r?\n/m, "");
    return `BEGIN:VEVENT\r\nUID:latchkey-${uids.length - 1}\r\n${rest}END:VEVENT`;
  });
  return { body: out, uids };
}

/**
 * The stays in a downloaded feed. A body that is not a whole calendar (an error page, a cut-off
 * download) is refused, so it is never taken for a calendar with no bookings.
 */
export function parseFeed(body: string, stay: StayTimes): FeedBooking[] {
  const trimmed = body.trim();
  if (!/^BEGIN:VCALENDAR/i.test(trimmed) || !/END:VCALENDAR$/i.test(trimmed))
    throw new LatchkeyError("HUB_CALENDAR_FEED_UNAVAILABLE", "calendar feed is not a whole iCalendar file", {
      reason: "not a calendar",
    });
  const numbered = numberEvents(trimmed);
  let parsed: ical.CalendarResponse;
  try {
    parsed = ical.sync.parseICS(numbered.body);
  } catch {
    throw new LatchkeyError("HUB_CALENDAR_FEED_UNAVAILABLE", "calendar feed could not be parsed", {
      reason: "unparseable",
    });
  }
  const uidCounts = new Map<string, number>();
  for (const uid of numbered.uids) if (uid !== null) uidCounts.set(uid, (uidCounts.get(uid) ?? 0) + 1);
  const bookings: FeedBooking[] = [];
  const fingerprints = new Map<string, number>();
  for (const component of Object.values(parsed)) {
    if (component?.type !== "VEVENT" || !(component.start instanceof Date)) continue;
    const event = component;
    const summary = text(event.summary);
    if (NOT_A_STAY.test(summary)) continue;
    const allDay = event.datetype === "date" || event.start.dateOnly === true;
    let startsAt: number;
    let endsAt: number;
    if (allDay) {
      const first = calendarDate(event.start);
      const last =
        event.end instanceof Date
          ? calendarDate(event.end)
          : calendarDate(
              new Date(event.start.getFullYear(), event.start.getMonth(), event.start.getDate() + 1),
            );
      startsAt = localTimeToEpoch(first, stay.checkIn, stay.timeZone);
      endsAt = localTimeToEpoch(last, stay.checkOut, stay.timeZone);
    } else {
      startsAt = event.start.getTime();
      endsAt = event.end instanceof Date ? event.end.getTime() : startsAt;
    }
    if (!(endsAt > startsAt)) continue;
    const position = Number(/^latchkey-(\d+)$/.exec(event.uid)?.[1] ?? "-1");
    const uid = numbered.uids[position] ?? null;
    let key: string;
    if (uid !== null && uidCounts.get(uid) === 1) key = `uid:${uid}`;
    else {
      const fingerprint = `fp:${startsAt}/${endsAt}/${summary}`;
      const seen = fingerprints.get(fingerprint) ?? 0;
      fingerprints.set(fingerprint, seen + 1);
      key = seen === 0 ? fingerprint : `${fingerprint}#${seen}`;
    }
    bookings.push({ key, summary, startsAt, endsAt, cancelled: event.status === "CANCELLED" });
  }
  return bookings;
}
