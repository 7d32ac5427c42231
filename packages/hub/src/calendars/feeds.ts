/**
 * A site's booking calendars: adding one (its doors, lead time and default check-in/check-out
 * times), listing them with their health, removing one (its guests' codes are withdrawn first).
 */
import { randomUUID } from "node:crypto";
import { LatchkeyError } from "@latchkey/protocol";
import type { HubContext } from "../runtime/context.js";
import { recordAudit } from "../audit/audit.js";
import { calendarDb, type CalendarFeedTable } from "./calendar-tables.js";
import { feedUrlHost } from "./feed-fetch.js";
import { withdrawBookingCode, type CalendarActor } from "./bookings.js";

export const DEFAULT_LEAD_MINUTES = 48 * 60;
export const DEFAULT_CHECK_IN = "15:00";
export const DEFAULT_CHECK_OUT = "11:00";
/** The longest lead time: codes sealed to locks months ahead would only widen what a lost lock gives away. */
export const MAX_LEAD_MINUTES = 30 * 24 * 60;

export interface NewFeed {
  readonly name: string;
  readonly url: string;
  readonly doorIds: readonly string[];
  readonly leadMinutes?: number;
  readonly checkIn?: string;
  readonly checkOut?: string;
}

export interface FeedView {
  readonly id: string;
  readonly siteId: string;
  readonly name: string;
  readonly host: string;
  readonly doorIds: string[];
  readonly leadMinutes: number;
  readonly checkIn: string;
  readonly checkOut: string;
  readonly createdAt: number;
  readonly nextPollAt: number;
  readonly lastSuccessAt: number | null;
  readonly consecutiveFailures: number;
  readonly lastError: string | null;
  readonly alertId: number | null;
}

export function feedView(f: CalendarFeedTable): FeedView {
  return {
    id: f.id,
    siteId: f.site_id,
    name: f.name,
    host: f.url_host,
    doorIds: JSON.parse(f.door_ids) as string[],
    leadMinutes: Number(f.lead_minutes),
    checkIn: f.check_in,
    checkOut: f.check_out,
    createdAt: Number(f.created_at),
    nextPollAt: Number(f.next_poll_at),
    lastSuccessAt: f.last_success_at === null ? null : Number(f.last_success_at),
    consecutiveFailures: Number(f.consecutive_failures),
    lastError: f.last_error,
    alertId: f.alert_id === null ? null : Number(f.alert_id),
  };
}

export function feedUrlContext(feedId: string): string {
  return `calendar-feed-url:${feedId}`;
}

function assertClock(value: string, field: string): void {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(value);
  if (m === null) throw new LatchkeyError("HUB_BAD_REQUEST", `${field} must be HH:MM`, { field });
}

/** Adds a calendar to a site; every door must be one of the site's (else HUB_NOT_FOUND). */
export async function addFeed(
  ctx: HubContext,
  siteId: string,
  input: NewFeed,
  actor: CalendarActor,
): Promise<FeedView> {
  const host = feedUrlHost(input.url);
  const leadMinutes = input.leadMinutes ?? DEFAULT_LEAD_MINUTES;
  if (!Number.isInteger(leadMinutes) || leadMinutes < 0 || leadMinutes > MAX_LEAD_MINUTES)
    throw new LatchkeyError("HUB_BAD_REQUEST", `leadMinutes must be 0 to ${MAX_LEAD_MINUTES}`, {
      field: "leadMinutes",
    });
  const checkIn = input.checkIn ?? DEFAULT_CHECK_IN;
  const checkOut = input.checkOut ?? DEFAULT_CHECK_OUT;
  assertClock(checkIn, "checkIn");
  assertClock(checkOut, "checkOut");
  const doorIds = [...new Set(input.doorIds)];
  if (doorIds.length === 0)
    throw new LatchkeyError("HUB_BAD_REQUEST", "a calendar needs at least one door", { field: "doorIds" });
  const doors = await ctx.db
    .selectFrom("doors")
    .select("id")
    .where("id", "in", doorIds)
    .where("site_id", "=", siteId)
    .execute();
  if (doors.length !== doorIds.length) throw new LatchkeyError("HUB_NOT_FOUND", "not found");
  const now = ctx.now();
  const id = randomUUID();
  const row: CalendarFeedTable = {
    id,
    site_id: siteId,
    name: input.name,
    url_sealed: ctx.secret.seal(input.url, feedUrlContext(id)),
    url_host: host,
    door_ids: JSON.stringify(doorIds),
    lead_minutes: leadMinutes,
    check_in: checkIn,
    check_out: checkOut,
    created_at: now,
    created_by: actor.accountId,
    next_poll_at: now,
    last_success_at: null,
    consecutive_failures: 0,
    last_error: null,
    empty_polls: 0,
    alert_id: null,
  };
  await ctx.db.transaction().execute(async (trx) => {
    await calendarDb(trx).insertInto("calendar_feeds").values(row).execute();
    await recordAudit(trx, now, {
      actorAccountId: actor.accountId,
      ip: actor.ip,
      action: "calendar.feed.add",
      siteId,
      targetType: "calendar-feed",
      targetId: id,
      details: { name: input.name, host, doors: doorIds.length, leadMinutes, checkIn, checkOut },
    });
  });
  return feedView(row);
}

export async function getFeed(ctx: HubContext, feedId: string): Promise<CalendarFeedTable> {
  return calendarDb(ctx.db)
    .selectFrom("calendar_feeds")
    .selectAll()
    .where("id", "=", feedId)
    .executeTakeFirstOrThrow();
}

/** A feed of the site; a feed of another site is HUB_NOT_FOUND, like one that does not exist. */
export async function siteFeed(ctx: HubContext, siteId: string, feedId: string): Promise<CalendarFeedTable> {
  const feed = await calendarDb(ctx.db)
    .selectFrom("calendar_feeds")
    .selectAll()
    .where("id", "=", feedId)
    .where("site_id", "=", siteId)
    .executeTakeFirst();
  if (feed === undefined) throw new LatchkeyError("HUB_NOT_FOUND", "not found");
  return feed;
}

export async function listFeeds(ctx: HubContext, siteId: string): Promise<FeedView[]> {
  const rows = await calendarDb(ctx.db)
    .selectFrom("calendar_feeds")
    .selectAll()
    .where("site_id", "=", siteId)
    .orderBy("created_at")
    .orderBy("id")
    .execute();
  return rows.map(feedView);
}

/** Removes a calendar: the codes of its current bookings are withdrawn, then it is forgotten. */
export async function removeFeed(ctx: HubContext, feedId: string, actor: CalendarActor): Promise<void> {
  const feed = await getFeed(ctx, feedId);
  const db = calendarDb(ctx.db);
  const live = await db
    .selectFrom("calendar_bookings")
    .selectAll()
    .where("feed_id", "=", feedId)
    .where("state", "=", "booked")
    .execute();
  for (const booking of live) await withdrawBookingCode(ctx, booking);
  await ctx.db.transaction().execute(async (trx) => {
    await calendarDb(trx).deleteFrom("calendar_bookings").where("feed_id", "=", feedId).execute();
    await calendarDb(trx).deleteFrom("calendar_feeds").where("id", "=", feedId).execute();
    await recordAudit(trx, ctx.now(), {
      actorAccountId: actor.accountId,
      ip: actor.ip,
      action: "calendar.feed.remove",
      siteId: feed.site_id,
      targetType: "calendar-feed",
      targetId: feedId,
      details: { name: feed.name, codesRevoked: live.filter((b) => b.credential_id !== null).length },
    });
  });
}
