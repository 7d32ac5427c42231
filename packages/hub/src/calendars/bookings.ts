/**
 * Booking → guest code: one person per booking and a grant on the feed's doors for the stay,
 * issued `lead_minutes` before check-in; the PIN itself is generated when someone hands it over
 * (`handOverGuestCode`), as a guest link answered once. The hub keeps no copy of that link: a
 * link it could answer again would be a PIN it could read back (invariant 6), so a lost link is
 * replaced (`replaceBookingCode`), never re-read. A moved or extended stay keeps its PIN and gets
 * a grant for the new times; a cancelled or ended booking has its PIN and grant revoked. Each
 * step is audited (never a PIN or a link). Steps are stored as they are done, so a booking
 * half-issued before a crash is finished at the next pass instead of issued twice.
 */
import { LatchkeyError } from "@latchkey/protocol";
import type { HubContext } from "../runtime/context.js";
import { recordAudit, type AuditEntry } from "../audit/audit.js";
import { createPerson } from "../people/people.js";
import { createGrant, revokeGrant } from "../grants/grants.js";
import { revokeCredential } from "../credentials/credentials.js";
import { createGuestPin, GUEST_LINK_MAX_DAYS } from "../credentials/guest-links.js";
import { calendarDb, type CalendarBookingTable, type CalendarFeedTable } from "./calendar-tables.js";

const DAY_MS = 86_400_000;

/** Who asked for a change: an account and its address, or the poller (both null). */
export interface CalendarActor {
  readonly accountId: string | null;
  readonly ip: string | null;
}

const POLLER: CalendarActor = { accountId: null, ip: null };

async function audit(
  ctx: HubContext,
  booking: CalendarBookingTable,
  actor: CalendarActor,
  action: string,
  details: AuditEntry["details"] = {},
): Promise<void> {
  await recordAudit(ctx.db, ctx.now(), {
    actorAccountId: actor.accountId,
    ip: actor.ip,
    action,
    siteId: booking.site_id,
    targetType: "calendar-booking",
    targetId: booking.id,
    details: { feedId: booking.feed_id, ...details },
  });
}

async function setBooking(
  ctx: HubContext,
  id: string,
  changes: Partial<CalendarBookingTable>,
): Promise<void> {
  await calendarDb(ctx.db)
    .updateTable("calendar_bookings")
    .set({ ...changes, updated_at: ctx.now() })
    .where("id", "=", id)
    .execute();
}

function localDate(at: number, timeZone: string): string {
  return new Intl.DateTimeFormat("en-CA", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  }).format(at);
}

async function siteTimeZone(ctx: HubContext, siteId: string): Promise<string> {
  const site = await ctx.db
    .selectFrom("sites")
    .select("timezone")
    .where("id", "=", siteId)
    .executeTakeFirstOrThrow();
  return site.timezone;
}

/** The feed's doors that still exist on its site (a door removed since is left out). */
async function feedDoors(ctx: HubContext, feed: CalendarFeedTable) {
  const ids = JSON.parse(feed.door_ids) as string[];
  if (ids.length === 0) return [];
  return ctx.db
    .selectFrom("doors")
    .select(["id", "site_id"])
    .where("id", "in", ids)
    .where("site_id", "=", feed.site_id)
    .execute();
}

/** A guest link lasts until check-out, within what guest links allow. */
function linkDays(booking: CalendarBookingTable, now: number): number {
  return Math.min(GUEST_LINK_MAX_DAYS, Math.max(1, Math.ceil((booking.ends_at - now) / DAY_MS)));
}

async function newGuestCode(
  ctx: HubContext,
  booking: CalendarBookingTable,
  personId: string,
): Promise<{ credentialId: string; url: string; expiresAt: number }> {
  const created = await createGuestPin(ctx, personId, {
    label: "Booking",
    expiresInDays: linkDays(booking, ctx.now()),
  });
  await setBooking(ctx, booking.id, { credential_id: created.credential.id });
  return { credentialId: created.credential.id, url: created.url, expiresAt: created.expiresAt };
}

async function newStayGrant(
  ctx: HubContext,
  feed: CalendarFeedTable,
  booking: CalendarBookingTable,
  personId: string,
): Promise<string | null> {
  const doors = await feedDoors(ctx, feed);
  if (doors.length === 0) return null;
  const person = await ctx.db
    .selectFrom("people")
    .selectAll()
    .where("id", "=", personId)
    .executeTakeFirstOrThrow();
  const grant = await createGrant(ctx, {
    person,
    doors,
    category: "guest",
    terms: {
      schedule: { kind: "always" },
      validFrom: booking.starts_at,
      validUntil: booking.ends_at,
      maxUses: null,
      expiresAfterFirstUseSeconds: null,
    },
    createdBy: feed.created_by,
  });
  await setBooking(ctx, booking.id, { grant_id: grant.id });
  return grant.id;
}

/** Creates what the booking still lacks: its person and its grant (the code comes at hand-over). */
async function issue(
  ctx: HubContext,
  feed: CalendarFeedTable,
  booking: CalendarBookingTable,
  actor: CalendarActor = POLLER,
): Promise<void> {
  let personId = booking.person_id;
  if (personId === null) {
    const timeZone = await siteTimeZone(ctx, booking.site_id);
    const person = await createPerson(ctx, booking.site_id, {
      name: `${guestName(booking.summary)} (${localDate(booking.starts_at, timeZone)})`,
      email: null,
      phone: null,
    });
    personId = person.id;
    await setBooking(ctx, booking.id, { person_id: personId });
  }
  const grantId = booking.grant_id ?? (await newStayGrant(ctx, feed, booking, personId));
  await audit(ctx, booking, actor, "calendar.booking.issue", {
    personId,
    grantId,
    startsAt: booking.starts_at,
    endsAt: booking.ends_at,
  });
}

/** Revokes the booking's code and grant, once (marked withdrawn). */
async function withdraw(ctx: HubContext, booking: CalendarBookingTable): Promise<void> {
  if (booking.withdrawn_at !== null) return;
  if (booking.credential_id !== null) await revokeCredential(ctx, booking.credential_id);
  if (booking.grant_id !== null) await revokeGrant(ctx, booking.grant_id);
  await setBooking(ctx, booking.id, { withdrawn_at: ctx.now() });
}

/** Gives an issued booking a grant for its current times when they changed; the PIN stays. */
async function followTimes(
  ctx: HubContext,
  feed: CalendarFeedTable,
  booking: CalendarBookingTable,
): Promise<void> {
  if (booking.person_id === null) return;
  if (booking.grant_id !== null) {
    const grant = await ctx.db
      .selectFrom("grants")
      .select(["valid_from", "valid_until"])
      .where("id", "=", booking.grant_id)
      .executeTakeFirst();
    if (
      grant !== undefined &&
      Number(grant.valid_from) === booking.starts_at &&
      Number(grant.valid_until) === booking.ends_at
    )
      return;
  }
  const replaced = booking.grant_id;
  const grantId = await newStayGrant(ctx, feed, booking, booking.person_id);
  if (replaced !== null) await revokeGrant(ctx, replaced);
  await audit(ctx, booking, POLLER, "calendar.booking.code-times", {
    grantId,
    replacedGrantId: replaced,
    startsAt: booking.starts_at,
    endsAt: booking.ends_at,
  });
}

/**
 * Brings every booking of the feed to what it should hold at `now`: ended stays closed, codes
 * issued once within the lead time, codes of cancelled stays withdrawn, grants following times.
 */
export async function settleBookings(ctx: HubContext, feed: CalendarFeedTable): Promise<void> {
  const now = ctx.now();
  const bookings = await calendarDb(ctx.db)
    .selectFrom("calendar_bookings")
    .selectAll()
    .where("feed_id", "=", feed.id)
    .orderBy("starts_at")
    .orderBy("id")
    .execute();
  for (const raw of bookings) {
    const booking = { ...raw, starts_at: Number(raw.starts_at), ends_at: Number(raw.ends_at) };
    const issued = booking.credential_id !== null || booking.grant_id !== null;
    if (booking.state === "booked" && booking.ends_at <= now) {
      await setBooking(ctx, booking.id, { state: "ended" });
      if (issued) await withdraw(ctx, booking);
      await audit(ctx, booking, POLLER, "calendar.booking.end", { codeRevoked: issued });
    } else if (booking.state === "cancelled" && issued && booking.withdrawn_at === null) {
      await withdraw(ctx, booking);
      await audit(ctx, booking, POLLER, "calendar.booking.code-revoke", {});
    } else if (booking.state === "booked" && booking.person_id !== null) {
      // Issued already: a stay moved outside the lead time keeps its access and code, for the new times.
      await followTimes(ctx, feed, booking);
    } else if (booking.state === "booked" && now >= booking.starts_at - feed.lead_minutes * 60_000) {
      await issue(ctx, feed, booking);
    }
  }
}

export interface BookingView {
  readonly id: string;
  readonly feedId: string;
  readonly summary: string;
  readonly startsAt: number;
  readonly endsAt: number;
  readonly state: string;
  readonly personId: string | null;
  readonly credentialId: string | null;
}

function view(b: CalendarBookingTable): BookingView {
  return {
    id: b.id,
    feedId: b.feed_id,
    summary: b.summary,
    startsAt: Number(b.starts_at),
    endsAt: Number(b.ends_at),
    state: b.state,
    personId: b.person_id,
    credentialId: b.credential_id,
  };
}

/** A feed's bookings, soonest first. */
export async function listBookings(ctx: HubContext, feedId: string): Promise<BookingView[]> {
  const rows = await calendarDb(ctx.db)
    .selectFrom("calendar_bookings")
    .selectAll()
    .where("feed_id", "=", feedId)
    .orderBy("starts_at")
    .orderBy("id")
    .execute();
  return rows.map(view);
}

/** A booking of the feed; one of another feed is HUB_NOT_FOUND, like one that does not exist. */
async function bookingRow(ctx: HubContext, feedId: string, bookingId: string): Promise<CalendarBookingTable> {
  const booking = await calendarDb(ctx.db)
    .selectFrom("calendar_bookings")
    .selectAll()
    .where("id", "=", bookingId)
    .where("feed_id", "=", feedId)
    .executeTakeFirst();
  if (booking === undefined) throw new LatchkeyError("HUB_NOT_FOUND", "not found");
  return booking;
}

/**
 * Hands a booking's code over: generates its PIN (issuing the guest's access first if the lead
 * time has not come yet) and answers the guest link that shows it once. Answered here only: a
 * booking whose code was handed over already is HUB_CONFLICT, and a lost link is replaced.
 */
export async function handOverGuestCode(
  ctx: HubContext,
  feedId: string,
  bookingId: string,
  actor: CalendarActor,
): Promise<{ booking: BookingView; guestLink: { url: string; expiresAt: number } }> {
  const row = await bookingRow(ctx, feedId, bookingId);
  if (row.state !== "booked")
    throw new LatchkeyError("HUB_CONFLICT", "only a current booking can be given a code", {
      field: "bookingId",
    });
  if (row.credential_id !== null)
    throw new LatchkeyError(
      "HUB_CONFLICT",
      "this booking's code was handed over already and the hub keeps no copy of its link; replace the code for a new link",
      { field: "bookingId" },
    );
  const booking = { ...row, starts_at: Number(row.starts_at), ends_at: Number(row.ends_at) };
  if (booking.person_id === null || booking.grant_id === null) {
    const feed = await calendarDb(ctx.db)
      .selectFrom("calendar_feeds")
      .selectAll()
      .where("id", "=", feedId)
      .executeTakeFirstOrThrow();
    await issue(ctx, feed, booking, actor);
  }
  const issued = await bookingRow(ctx, feedId, bookingId);
  if (issued.person_id === null) throw new LatchkeyError("LK_INTERNAL", "booking has no guest after issuing");
  const code = await newGuestCode(ctx, booking, issued.person_id);
  await audit(ctx, booking, actor, "calendar.booking.code-handover", { credentialId: code.credentialId });
  return {
    booking: view(await bookingRow(ctx, feedId, bookingId)),
    guestLink: { url: code.url, expiresAt: code.expiresAt },
  };
}

/**
 * Replaces a booking's code on demand (a guest lost it, or it was shared): the old PIN is
 * revoked and a new one made, with a new guest link that is answered here.
 */
export async function replaceBookingCode(
  ctx: HubContext,
  feedId: string,
  bookingId: string,
  actor: CalendarActor,
): Promise<{ booking: BookingView; guestLink: { url: string; expiresAt: number } }> {
  const booking = await bookingRow(ctx, feedId, bookingId);
  if (booking.state !== "booked" || booking.person_id === null || booking.credential_id === null)
    throw new LatchkeyError(
      "HUB_CONFLICT",
      "only a current booking whose code was issued can have it replaced",
      {
        field: "bookingId",
      },
    );
  const normalised = { ...booking, starts_at: Number(booking.starts_at), ends_at: Number(booking.ends_at) };
  await revokeCredential(ctx, booking.credential_id);
  const code = await newGuestCode(ctx, normalised, booking.person_id);
  await audit(ctx, booking, actor, "calendar.booking.code-replace", {
    replacedCredentialId: booking.credential_id,
    credentialId: code.credentialId,
  });
  return {
    booking: view(await bookingRow(ctx, feedId, bookingId)),
    guestLink: { url: code.url, expiresAt: code.expiresAt },
  };
}

export { withdraw as withdrawBookingCode };

/** The guest's name as shown on their person: the summary without the service's "Reserved" prefix. */
export function guestName(summary: string): string {
  const name = summary.replace(/^(reserved|reservation|booked|booking)\b\s*[-:\u2013]?\s*/i, "").trim();
  return name === "" ? "Guest" : name.slice(0, 80);
}
