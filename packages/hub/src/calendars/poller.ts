/**
 * Polling booking calendars. Each feed is downloaded when due (its `next_poll_at`, kept in the
 * database so a restart resumes where it was), its bookings are matched to the stored ones and
 * the codes brought in line (bookings.ts). A failed download changes no booking; after
 * `FAILURES_BEFORE_ALERT` failures in a row an alert is raised, and resolved by the next good
 * download. A download that suddenly holds no bookings is only believed once it has been seen
 * `EMPTY_POLLS_BEFORE_BELIEVED` times in a row, so a broken export revokes nobody.
 */
import { randomUUID } from "node:crypto";
import { isLatchkeyError } from "@latchkey/protocol";
import type { HubContext } from "../runtime/context.js";
import { recordAudit } from "../audit/audit.js";
import { calendarDb, type CalendarBookingTable, type CalendarFeedTable } from "./calendar-tables.js";
import { DEFAULT_FETCH_LIMITS, fetchFeed, type FeedFetcher, type FetchLimits } from "./feed-fetch.js";
import type { FeedBooking } from "./feed-parse.js";
import { settleBookings } from "./bookings.js";
import { feedUrlContext, getFeed } from "./feeds.js";

export const POLL_EVERY_MS = 15 * 60_000;
export const TICK_EVERY_MS = 60_000;
export const FAILURES_BEFORE_ALERT = 3;
export const EMPTY_POLLS_BEFORE_BELIEVED = 3;
export const CALENDAR_FEED_ALERT = "calendar-feed-failing";

export interface PollOptions {
  readonly fetcher?: FeedFetcher;
  readonly limits?: FetchLimits;
}

export type PollOutcome =
  | { readonly ok: true; readonly bookings: number; readonly held: boolean }
  | { readonly ok: false; readonly reason: string; readonly consecutiveFailures: number };

// One poll per feed at a time in this process (the timer and "poll now" may meet).
const inFlight = new Map<string, Promise<PollOutcome>>();

async function updateFeed(
  ctx: HubContext,
  feedId: string,
  changes: Partial<CalendarFeedTable>,
): Promise<void> {
  await calendarDb(ctx.db).updateTable("calendar_feeds").set(changes).where("id", "=", feedId).execute();
}

function feedAudit(
  ctx: HubContext,
  feed: CalendarFeedTable,
  action: string,
  details: Record<string, string | number | null>,
) {
  return recordAudit(ctx.db, ctx.now(), {
    actorAccountId: null,
    action,
    siteId: feed.site_id,
    targetType: "calendar-feed",
    targetId: feed.id,
    details,
  });
}

async function recordFailure(ctx: HubContext, feed: CalendarFeedTable, reason: string): Promise<PollOutcome> {
  const now = ctx.now();
  const failures = Number(feed.consecutive_failures) + 1;
  let alertId = feed.alert_id;
  if (failures >= FAILURES_BEFORE_ALERT && alertId === null) {
    const alert = await calendarDb(ctx.db)
      .insertInto("alerts")
      .values({
        kind: CALENDAR_FEED_ALERT,
        lock_id: null,
        details: JSON.stringify({ siteId: feed.site_id, feedId: feed.id, failures, reason }),
        created_at: now,
        acknowledged_at: null,
        acknowledged_by: null,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    alertId = Number(alert.id);
    await feedAudit(ctx, feed, "calendar.feed.failing", { failures, reason, alertId });
  }
  await updateFeed(ctx, feed.id, {
    consecutive_failures: failures,
    last_error: reason,
    alert_id: alertId,
    next_poll_at: now + POLL_EVERY_MS,
  });
  ctx.log.warn({ feedId: feed.id, failures, reason }, "calendar feed download failed");
  return { ok: false, reason, consecutiveFailures: failures };
}

async function recordSuccess(ctx: HubContext, feed: CalendarFeedTable, emptyPolls: number): Promise<void> {
  const now = ctx.now();
  if (feed.alert_id !== null) {
    await calendarDb(ctx.db)
      .updateTable("alerts")
      .set({ resolved_at: now })
      .where("id", "=", Number(feed.alert_id))
      .where("resolved_at", "is", null)
      .execute();
    await feedAudit(ctx, feed, "calendar.feed.recovered", { alertId: Number(feed.alert_id) });
  }
  await updateFeed(ctx, feed.id, {
    consecutive_failures: 0,
    last_error: null,
    alert_id: null,
    last_success_at: now,
    empty_polls: emptyPolls,
    next_poll_at: now + POLL_EVERY_MS,
  });
}

function bookingAudit(
  ctx: HubContext,
  booking: Pick<CalendarBookingTable, "id" | "feed_id" | "site_id">,
  action: string,
  details: Record<string, string | number | boolean | null>,
) {
  return recordAudit(ctx.db, ctx.now(), {
    actorAccountId: null,
    action,
    siteId: booking.site_id,
    targetType: "calendar-booking",
    targetId: booking.id,
    details: { feedId: booking.feed_id, ...details },
  });
}

/**
 * Matches a download to the stored bookings: by key first, then an unmatched stored booking with
 * the same dates and summary (a feed that renews its UIDs) takes the new key rather than being
 * cancelled and made again. Stored bookings missing from the download are cancelled, or ended
 * if their stay is over.
 */
async function applyDownload(
  ctx: HubContext,
  feed: CalendarFeedTable,
  found: readonly FeedBooking[],
): Promise<void> {
  const db = calendarDb(ctx.db);
  const now = ctx.now();
  const stored = (
    await db.selectFrom("calendar_bookings").selectAll().where("feed_id", "=", feed.id).execute()
  ).map((b) => ({ ...b, starts_at: Number(b.starts_at), ends_at: Number(b.ends_at) }));
  const byKey = new Map(stored.map((b) => [b.booking_key, b]));
  const foundKeys = new Set(found.map((f) => f.key));
  const matched = new Set<string>();
  for (const booking of found) {
    let row = byKey.get(booking.key);
    if (row === undefined) {
      row = stored.find(
        (s) =>
          !matched.has(s.id) &&
          !foundKeys.has(s.booking_key) &&
          s.state !== "ended" &&
          s.starts_at === booking.startsAt &&
          s.ends_at === booking.endsAt &&
          s.summary === booking.summary,
      );
      if (row !== undefined) {
        await db
          .updateTable("calendar_bookings")
          .set({ booking_key: booking.key, updated_at: now })
          .where("id", "=", row.id)
          .execute();
        row = { ...row, booking_key: booking.key };
      }
    }
    if (row !== undefined) matched.add(row.id);
    if (booking.cancelled) {
      if (row?.state === "booked") {
        await db
          .updateTable("calendar_bookings")
          .set({ state: "cancelled", updated_at: now })
          .where("id", "=", row.id)
          .execute();
        await bookingAudit(ctx, row, "calendar.booking.cancel", { marked: true });
      }
      continue;
    }
    if (booking.endsAt <= now) continue;
    if (row === undefined) {
      const id = randomUUID();
      await db
        .insertInto("calendar_bookings")
        .values({
          id,
          feed_id: feed.id,
          site_id: feed.site_id,
          booking_key: booking.key,
          summary: booking.summary,
          starts_at: booking.startsAt,
          ends_at: booking.endsAt,
          state: "booked",
          person_id: null,
          grant_id: null,
          credential_id: null,
          withdrawn_at: null,
          created_at: now,
          updated_at: now,
        })
        .execute();
      await bookingAudit(ctx, { id, feed_id: feed.id, site_id: feed.site_id }, "calendar.booking.add", {
        startsAt: booking.startsAt,
        endsAt: booking.endsAt,
      });
      continue;
    }
    if (row.state === "ended") continue;
    const reopened = row.state === "cancelled";
    const moved = row.starts_at !== booking.startsAt || row.ends_at !== booking.endsAt;
    if (!reopened && !moved && row.summary === booking.summary) continue;
    await db
      .updateTable("calendar_bookings")
      .set({
        summary: booking.summary,
        starts_at: booking.startsAt,
        ends_at: booking.endsAt,
        state: "booked",
        // A booking back from cancellation starts afresh: its old code was withdrawn.
        ...(reopened ? { person_id: null, grant_id: null, credential_id: null, withdrawn_at: null } : {}),
        updated_at: now,
      })
      .where("id", "=", row.id)
      .execute();
    if (reopened)
      await bookingAudit(ctx, row, "calendar.booking.add", {
        startsAt: booking.startsAt,
        endsAt: booking.endsAt,
        reopened: true,
      });
    else if (moved)
      await bookingAudit(
        ctx,
        row,
        row.starts_at !== booking.startsAt
          ? "calendar.booking.move"
          : booking.endsAt > row.ends_at
            ? "calendar.booking.extend"
            : "calendar.booking.shorten",
        {
          fromStartsAt: row.starts_at,
          fromEndsAt: row.ends_at,
          startsAt: booking.startsAt,
          endsAt: booking.endsAt,
        },
      );
  }
  for (const row of stored) {
    if (matched.has(row.id) || row.state !== "booked") continue;
    const state = row.ends_at <= now ? "ended" : "cancelled";
    await db
      .updateTable("calendar_bookings")
      .set({ state, updated_at: now })
      .where("id", "=", row.id)
      .execute();
    if (state === "cancelled") await bookingAudit(ctx, row, "calendar.booking.cancel", { marked: false });
  }
}

async function pollOnce(ctx: HubContext, feedId: string, options: PollOptions): Promise<PollOutcome> {
  const feed = await getFeed(ctx, feedId);
  const site = await ctx.db
    .selectFrom("sites")
    .select("timezone")
    .where("id", "=", feed.site_id)
    .executeTakeFirstOrThrow();
  let found: FeedBooking[];
  try {
    const url = ctx.secret.open(feed.url_sealed, feedUrlContext(feed.id));
    const limits = options.limits ?? {
      ...DEFAULT_FETCH_LIMITS,
      allowPrivateAddresses: ctx.config.calendarPrivateFeeds,
    };
    const body = await (options.fetcher ?? fetchFeed)(url, limits);
    // Loaded at the first download: node-ical and its Temporal polyfills are a fifth of the hub's
    // code, and most hubs have no booking calendar.
    const { parseFeed } = await import("./feed-parse.js");
    found = parseFeed(body, { timeZone: site.timezone, checkIn: feed.check_in, checkOut: feed.check_out });
  } catch (e) {
    if (!isLatchkeyError(e, "HUB_CALENDAR_FEED_UNAVAILABLE")) throw e;
    return recordFailure(ctx, feed, String(e.details?.reason ?? e.message));
  }
  let held = false;
  let emptyPolls = 0;
  if (found.length === 0) {
    const live = await calendarDb(ctx.db)
      .selectFrom("calendar_bookings")
      .select("id")
      .where("feed_id", "=", feed.id)
      .where("state", "=", "booked")
      .where("ends_at", ">", ctx.now())
      .executeTakeFirst();
    if (live !== undefined) {
      emptyPolls = Number(feed.empty_polls) + 1;
      held = emptyPolls < EMPTY_POLLS_BEFORE_BELIEVED;
      if (held) await feedAudit(ctx, feed, "calendar.feed.empty-held", { emptyPolls });
    }
  }
  if (!held) await applyDownload(ctx, feed, found);
  await recordSuccess(ctx, feed, held ? emptyPolls : 0);
  await settleBookings(ctx, await getFeed(ctx, feed.id));
  return { ok: true, bookings: found.length, held };
}

/** Downloads one feed now and brings its bookings' codes in line. */
export function pollFeed(ctx: HubContext, feedId: string, options: PollOptions = {}): Promise<PollOutcome> {
  const running = inFlight.get(feedId);
  if (running !== undefined) return running;
  const poll = pollOnce(ctx, feedId, options).finally(() => inFlight.delete(feedId));
  inFlight.set(feedId, poll);
  return poll;
}

/**
 * One pass of the poller: every feed due is downloaded; the others' stored bookings are still
 * settled (codes come due within their lead time, stays end) without a download.
 */
export async function pollCalendars(ctx: HubContext, options: PollOptions = {}): Promise<void> {
  // A feed left behind by a deleted site has no time zone to read its bookings in: skipped.
  const feeds = await calendarDb(ctx.db)
    .selectFrom("calendar_feeds")
    .innerJoin("sites", "sites.id", "calendar_feeds.site_id")
    .selectAll("calendar_feeds")
    .orderBy("calendar_feeds.id")
    .execute();
  for (const feed of feeds) {
    try {
      if (Number(feed.next_poll_at) <= ctx.now()) await pollFeed(ctx, feed.id, options);
      else await settleBookings(ctx, feed);
    } catch (e) {
      ctx.log.error({ err: e, feedId: feed.id }, "calendar feed poll failed");
    }
  }
}

export interface CalendarPoller {
  stop(): Promise<void>;
}

/** Runs `pollCalendars` now and every `TICK_EVERY_MS`, one pass at a time; `stop` waits for the pass under way. */
export function startCalendarPoller(
  ctx: HubContext,
  options: PollOptions & {
    /** Delay before the first pass (the hub passes a few seconds: start-up first, then downloads). */
    readonly firstPassAfterMs?: number;
  } = {},
): CalendarPoller {
  let running: Promise<void> = Promise.resolve();
  let busy = false;
  const tick = () => {
    if (busy) return;
    busy = true;
    running = pollCalendars(ctx, options)
      .catch((e: unknown) => ctx.log.error({ err: e }, "calendar poller pass failed"))
      .finally(() => {
        busy = false;
      });
  };
  const timer = setInterval(tick, TICK_EVERY_MS);
  timer.unref();
  const first = options.firstPassAfterMs ?? 0;
  const firstTimer = first > 0 ? setTimeout(tick, first) : null;
  firstTimer?.unref();
  if (first <= 0) tick();
  return {
    async stop() {
      clearInterval(timer);
      if (firstTimer !== null) clearTimeout(firstTimer);
      await running;
    },
  };
}
