/**
 * Booking calendars over HTTP: a site's managers add an export URL (Airbnb, VRBO, Booking.com)
 * with the doors its guests get, list and remove calendars, poll one now, and replace a
 * booking's code. Guests' PINs never pass here: a booking's code is handed over as a guest link
 * (one-time), shown only to managers after a fresh second factor. The feed URL is a secret to the
 * bookings, so only its host is ever answered.
 */
import { Type } from "typebox";
import { defineRoute, type Call, type RouteDef, type RouteSchema } from "./route-table.js";
import { EpochMs, Id, Name, Ok, Strict, errorResponses } from "./schemas.js";
import { addFeed, listFeeds, removeFeed, siteFeed, MAX_LEAD_MINUTES } from "../calendars/feeds.js";
import {
  handOverGuestCode,
  listBookings,
  replaceBookingCode,
  type CalendarActor,
} from "../calendars/bookings.js";
import { pollFeed } from "../calendars/poller.js";

const errors = errorResponses(400, 401, 403, 404, 409, 415, 422, 429);
const Clock = Type.String({ pattern: "^([01][0-9]|2[0-3]):[0-5][0-9]$" });
const Nullable = <T extends ReturnType<typeof Type.Integer> | ReturnType<typeof Type.String>>(t: T) =>
  Type.Union([t, Type.Null()]);

const Feed = Strict({
  id: Id,
  siteId: Id,
  name: Type.String(),
  host: Type.String(),
  doorIds: Type.Array(Id),
  leadMinutes: Type.Integer(),
  checkIn: Type.String(),
  checkOut: Type.String(),
  createdAt: EpochMs,
  nextPollAt: EpochMs,
  lastSuccessAt: Nullable(EpochMs),
  consecutiveFailures: Type.Integer(),
  lastError: Nullable(Type.String()),
  alertId: Nullable(Type.Integer()),
});

const Booking = Strict({
  id: Id,
  feedId: Id,
  summary: Type.String(),
  startsAt: EpochMs,
  endsAt: EpochMs,
  state: Type.String(),
  personId: Type.Union([Id, Type.Null()]),
  credentialId: Type.Union([Id, Type.Null()]),
});

/** A booking with the guest link of its new code, answered once (hand-over and replacement). */
const HandedOverCode = Strict({
  booking: Booking,
  guestLink: Strict({ url: Type.String(), expiresAt: EpochMs }),
});

const FeedParams = Strict({ siteId: Id, feedId: Id });
const BookingParams = Strict({ siteId: Id, feedId: Id, bookingId: Id });
const site = { param: "siteId", table: "sites" } as const;

function actor(call: Call<RouteSchema>): CalendarActor {
  return { accountId: call.caller.account?.id ?? null, ip: call.caller.ip };
}

export const CALENDAR_ROUTES: readonly RouteDef[] = [
  defineRoute({
    method: "GET",
    url: "/api/v1/sites/:siteId/calendars",
    summary: "The site's booking calendars and their health (the feed URL is never shown, only its host)",
    tags: ["calendars"],
    access: { kind: "site", permission: "site.read", site },
    schema: {
      params: Strict({ siteId: Id }),
      response: { 200: Strict({ items: Type.Array(Feed) }), ...errors },
    },
    async handler(call) {
      return { items: await listFeeds(call.ctx, call.site()) };
    },
  }),
  defineRoute({
    method: "POST",
    url: "/api/v1/sites/:siteId/calendars",
    summary:
      "Subscribe doors of the site to a booking calendar (iCal export URL): each booking gets a guest code for its stay, made `leadMinutes` before check-in",
    tags: ["calendars"],
    access: { kind: "site", permission: "site.manage", site },
    // It gives each future guest a code, as a grant does.
    stepUp: true,
    status: 201,
    schema: {
      params: Strict({ siteId: Id }),
      body: Strict({
        name: Name,
        url: Type.String({ minLength: 8, maxLength: 2048, pattern: "^https?://" }),
        doorIds: Type.Array(Id, { minItems: 1, maxItems: 50 }),
        leadMinutes: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_LEAD_MINUTES })),
        checkIn: Type.Optional(Clock),
        checkOut: Type.Optional(Clock),
      }),
      response: { 201: Feed, ...errors },
    },
    async handler(call) {
      return addFeed(call.ctx, call.site(), call.body, actor(call));
    },
  }),
  defineRoute({
    method: "POST",
    url: "/api/v1/sites/:siteId/calendars/:feedId/poll",
    summary:
      "Download the calendar now and bring its guests' codes in line; a failed download is answered (ok: false) and changes nothing",
    tags: ["calendars"],
    access: { kind: "site", permission: "site.manage", site },
    schema: {
      params: FeedParams,
      response: {
        200: Strict({
          ok: Type.Boolean(),
          bookings: Type.Optional(Type.Integer()),
          held: Type.Optional(Type.Boolean()),
          reason: Type.Optional(Type.String()),
          consecutiveFailures: Type.Optional(Type.Integer()),
        }),
        ...errors,
      },
    },
    async handler(call) {
      const feed = await siteFeed(call.ctx, call.site(), call.params.feedId);
      return pollFeed(call.ctx, feed.id);
    },
  }),
  defineRoute({
    method: "GET",
    url: "/api/v1/sites/:siteId/calendars/:feedId/bookings",
    summary: "The calendar's bookings, soonest first, with the person and code each was given",
    tags: ["calendars"],
    access: { kind: "site", permission: "site.read", site },
    schema: { params: FeedParams, response: { 200: Strict({ items: Type.Array(Booking) }), ...errors } },
    async handler(call) {
      const feed = await siteFeed(call.ctx, call.site(), call.params.feedId);
      return { items: await listBookings(call.ctx, feed.id) };
    },
  }),
  defineRoute({
    method: "POST",
    url: "/api/v1/sites/:siteId/calendars/:feedId/bookings/:bookingId/guest-link",
    summary:
      "Hand a booking's code over: its PIN is made now and answered once, as a guest link to send to the guest (the hub keeps no copy; a lost link is replaced)",
    tags: ["calendars"],
    access: { kind: "site", permission: "site.manage", site },
    stepUp: true,
    status: 201,
    schema: {
      params: BookingParams,
      response: {
        201: HandedOverCode,
        ...errors,
      },
    },
    async handler(call) {
      const feed = await siteFeed(call.ctx, call.site(), call.params.feedId);
      return handOverGuestCode(call.ctx, feed.id, call.params.bookingId, actor(call));
    },
  }),
  defineRoute({
    method: "POST",
    url: "/api/v1/sites/:siteId/calendars/:feedId/bookings/:bookingId/replace-code",
    summary:
      "Replace a booking's code: the old PIN is revoked from every lock and a new one made, answered as a new guest link",
    tags: ["calendars"],
    access: { kind: "site", permission: "site.manage", site },
    stepUp: true,
    status: 201,
    schema: {
      params: BookingParams,
      response: {
        201: HandedOverCode,
        ...errors,
      },
    },
    async handler(call) {
      const feed = await siteFeed(call.ctx, call.site(), call.params.feedId);
      return replaceBookingCode(call.ctx, feed.id, call.params.bookingId, actor(call));
    },
  }),
  defineRoute({
    method: "DELETE",
    url: "/api/v1/sites/:siteId/calendars/:feedId",
    summary: "Unsubscribe from a calendar: the codes of its current bookings are revoked first",
    tags: ["calendars"],
    access: { kind: "site", permission: "site.manage", site },
    schema: { params: FeedParams, response: { 200: Ok, ...errors } },
    async handler(call) {
      const feed = await siteFeed(call.ctx, call.site(), call.params.feedId);
      await removeFeed(call.ctx, feed.id, actor(call));
      return { ok: true as const };
    },
  }),
];
