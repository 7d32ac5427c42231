/**
 * Guest links over HTTP: an owner or manager makes a guest's PIN and gets a one-time link instead
 * of the PIN; the guest opens it, once, with no account. The token is sent in a POST body, never
 * in a URL, so it reaches no access log.
 */
import { Type } from "typebox";
import { defineRoute, type RouteDef } from "./route-table.js";
import { EpochMs, Id, Label, Strict, errorResponses } from "./schemas.js";
import { auditCall } from "./audit-routes.js";
import { PIN_MAX, PIN_MIN } from "../credentials/pin-policy.js";
import { createGuestPin, GUEST_LINK_MAX_DAYS, openGuestLink } from "../credentials/guest-links.js";
import { doorsSealedFor } from "../credentials/credentials.js";

const errors = errorResponses(400, 401, 403, 404, 409, 410, 415, 422, 429);

/** The same shape as GET /people/:personId/credentials items. */
const Credential = Strict({
  id: Id,
  personId: Id,
  kind: Type.Literal("pin"),
  label: Type.String(),
  status: Type.Literal("active"),
  createdAt: EpochMs,
  revokedAt: Type.Null(),
  sealedForDoors: Type.Array(Id),
});

const Weekday = Type.Union(
  (["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const).map((d) => Type.Literal(d)),
);
const Schedule = Type.Union([
  Strict({ kind: Type.Literal("always") }),
  Strict({
    kind: Type.Literal("weekly"),
    windows: Type.Array(Strict({ days: Type.Array(Weekday), start: Type.String(), end: Type.String() })),
  }),
]);
const Nullable = <T extends ReturnType<typeof Type.Integer>>(t: T) => Type.Union([t, Type.Null()]);

const GuestView = Strict({
  pin: Type.String(),
  personName: Type.String(),
  siteName: Type.String(),
  timeZone: Type.String(),
  access: Type.Array(
    Strict({
      doors: Type.Array(Type.String()),
      category: Type.String(),
      schedule: Schedule,
      validFrom: Nullable(EpochMs),
      validUntil: Nullable(EpochMs),
      maxUses: Nullable(Type.Integer()),
      expiresAfterFirstUseSeconds: Nullable(Type.Integer()),
      status: Type.String(),
    }),
  ),
});

export const GUEST_LINK_ROUTES: readonly RouteDef[] = [
  defineRoute({
    method: "POST",
    url: "/api/v1/people/:personId/guest-pin",
    summary:
      "Make a generated PIN and a one-time guest link that shows it (the PIN itself is never returned)",
    tags: ["credentials"],
    access: { kind: "site", permission: "site.manage", site: { param: "personId", table: "people" } },
    stepUp: true,
    status: 201,
    schema: {
      params: Strict({ personId: Id }),
      body: Strict({
        label: Type.Optional(Label),
        length: Type.Optional(Type.Integer({ minimum: PIN_MIN, maximum: PIN_MAX })),
        expiresInDays: Type.Optional(Type.Integer({ minimum: 1, maximum: GUEST_LINK_MAX_DAYS })),
      }),
      response: {
        201: Strict({
          credential: Credential,
          guestLink: Strict({ id: Id, url: Type.String(), expiresAt: EpochMs }),
        }),
        ...errors,
      },
    },
    async handler(call) {
      const { ctx, params, body } = call;
      const created = await createGuestPin(ctx, params.personId, body);
      const c = created.credential;
      await auditCall(call, {
        action: "credential.create",
        siteId: c.site_id,
        targetType: "credential",
        targetId: c.id,
        details: {
          kind: "pin",
          personId: c.person_id,
          delivery: "guest-link",
          linkId: created.linkId,
          linkExpiresAt: created.expiresAt,
        },
      });
      return {
        credential: {
          id: c.id,
          personId: c.person_id,
          kind: "pin" as const,
          label: c.label,
          status: "active" as const,
          createdAt: c.created_at,
          revokedAt: null,
          sealedForDoors: await doorsSealedFor(ctx, c.id),
        },
        guestLink: { id: created.linkId, url: created.url, expiresAt: created.expiresAt },
      };
    },
  }),
  defineRoute({
    method: "POST",
    url: "/api/v1/guest/open",
    summary:
      "Open a guest link, once: the PIN, the doors it opens and when. No account; the token is in the body",
    tags: ["credentials"],
    access: { kind: "public" },
    schema: {
      body: Strict({ token: Type.String({ pattern: "^[A-Za-z0-9_-]{43}$" }) }),
      response: { 200: GuestView, ...errors },
    },
    async handler(call) {
      return openGuestLink(call.ctx, call.body.token, call.caller.ip);
    },
  }),
];
