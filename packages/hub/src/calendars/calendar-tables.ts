/**
 * The booking-calendar tables (migration 0010_calendar_feeds). Kept apart from `Database`, like
 * the guest-link table, so code that enumerates the core tables is unaffected; query them
 * through `calendarDb`.
 */
import type { Kysely } from "kysely";
import type { Database, HubDatabase } from "../db/schema.js";
import type { GuestLinkTables } from "../credentials/guest-link-table.js";

export type CalendarFeedTable = {
  id: string;
  site_id: string;
  name: string;
  /** The export URL sealed under the hub secret: it is itself a credential to the bookings. */
  url_sealed: string;
  /** The URL's host alone, to show which service a feed comes from. */
  url_host: string;
  /** JSON array of door ids the guests are given. */
  door_ids: string;
  /** How long before check-in the code is created (and sent to the locks). */
  lead_minutes: number;
  /** "HH:MM" in the site's time zone, for bookings given as whole days. */
  check_in: string;
  check_out: string;
  created_at: number;
  created_by: string | null;
  next_poll_at: number;
  last_success_at: number | null;
  consecutive_failures: number;
  last_error: string | null;
  /** Successive downloads that were empty while the hub still had bookings from the feed. */
  empty_polls: number;
  /** The open alert raised after repeated failures, resolved by the next good download. */
  alert_id: number | null;
};

/** "booked" (current or future), "cancelled" (gone from the feed or marked so) or "ended". */
export type BookingState = "booked" | "cancelled" | "ended";

export type CalendarBookingTable = {
  id: string;
  feed_id: string;
  site_id: string;
  /** "uid:<UID>" when the feed's UID is usable, else "fp:<start>/<end>/<summary>". */
  booking_key: string;
  summary: string;
  starts_at: number;
  ends_at: number;
  state: BookingState;
  person_id: string | null;
  grant_id: string | null;
  credential_id: string | null;
  /** When a cancelled or ended booking's code and grant were revoked (they are, once). */
  withdrawn_at: number | null;
  created_at: number;
  updated_at: number;
};

export type CalendarTables = {
  calendar_feeds: CalendarFeedTable;
  calendar_bookings: CalendarBookingTable;
};

export function calendarDb(db: Kysely<Database>): Kysely<HubDatabase & CalendarTables & GuestLinkTables> {
  return db.withTables<CalendarTables & GuestLinkTables & Pick<HubDatabase, keyof HubDatabase>>();
}
