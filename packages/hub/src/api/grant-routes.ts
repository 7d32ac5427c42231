/**
 * Grants: a person × doors × schedule × category. Doors may belong to other sites than the
 * person's, provided the caller manages each of them. A new grant must not make two people share
 * a PIN on a door.
 */
import { Type } from "typebox";
import { defineRoute, type RouteDef } from "./route-table.js";
import { EpochMs, Id, Ok, Strict, errorResponses } from "./schemas.js";
import { auditCall } from "./audit-routes.js";
import { WEEKDAYS } from "../grants/schedule.js";
import { createGrant, grantTargets, revokeGrant } from "../grants/grants.js";
import { grantView, grantViewById, personGrantViews } from "../grants/views.js";

const errors = errorResponses(400, 401, 403, 404, 409, 415, 422);

export const CATEGORIES = [
  "family",
  "resident",
  "staff",
  "guest",
  "cleaner",
  "dog_walker",
  "contractor",
  "delivery",
  "caregiver",
  "other",
] as const;
const Category = Type.Union(CATEGORIES.map((c) => Type.Literal(c)));
const HHMM = Type.String({ pattern: "^(?:[01][0-9]|2[0-3]):[0-5][0-9]$" });
const Window = Strict({
  days: Type.Array(Type.Union(WEEKDAYS.map((d) => Type.Literal(d))), { minItems: 1, maxItems: 7 }),
  start: HHMM,
  end: HHMM,
});
const ScheduleSchema = Type.Union([
  Strict({ kind: Type.Literal("always") }),
  Strict({ kind: Type.Literal("weekly"), windows: Type.Array(Window, { minItems: 1, maxItems: 14 }) }),
]);
const StatusSchema = Type.Union(
  ["active", "scheduled", "outside_window", "expired", "used_up", "revoked"].map((s) => Type.Literal(s)),
);

const Grant = Strict({
  id: Id,
  personId: Id,
  siteId: Id,
  doorIds: Type.Array(Id),
  category: Category,
  schedule: ScheduleSchema,
  validFrom: Type.Union([EpochMs, Type.Null()]),
  validUntil: Type.Union([EpochMs, Type.Null()]),
  maxUses: Type.Union([Type.Integer(), Type.Null()]),
  uses: Type.Integer(),
  expiresAfterFirstUseSeconds: Type.Union([Type.Integer(), Type.Null()]),
  status: StatusSchema,
  createdAt: EpochMs,
  revokedAt: Type.Union([EpochMs, Type.Null()]),
});

export const GRANT_ROUTES: readonly RouteDef[] = [
  defineRoute({
    method: "GET",
    url: "/api/v1/people/:personId/grants",
    summary: "A person's grants, with their status now",
    tags: ["grants"],
    access: { kind: "site", permission: "site.read", site: { param: "personId", table: "people" } },
    schema: {
      params: Strict({ personId: Id }),
      response: { 200: Strict({ items: Type.Array(Grant) }), ...errors },
    },
    async handler(call) {
      return { items: await personGrantViews(call.ctx, call.params.personId) };
    },
  }),
  defineRoute({
    method: "POST",
    url: "/api/v1/people/:personId/grants",
    summary: "Grant a person access to doors under a schedule (validFrom in the future sends access ahead)",
    tags: ["grants"],
    access: { kind: "site", permission: "site.manage", site: { param: "personId", table: "people" } },
    stepUp: true,
    status: 201,
    schema: {
      params: Strict({ personId: Id }),
      body: Strict({
        doorIds: Type.Array(Id, { minItems: 1, maxItems: 100, uniqueItems: true }),
        category: Category,
        schedule: ScheduleSchema,
        validFrom: Type.Optional(EpochMs),
        validUntil: Type.Optional(EpochMs),
        maxUses: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
        expiresAfterFirstUseSeconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 366 * 86_400 })),
      }),
      response: { 201: Grant, ...errors },
    },
    async handler(call) {
      const { ctx, params, body } = call;
      const { person, doors } = await grantTargets(ctx, params.personId, body.doorIds);
      for (const siteId of new Set(doors.map((d) => d.site_id)))
        await call.requireSite(siteId, "site.manage");
      const row = await createGrant(ctx, {
        person,
        doors,
        category: body.category,
        terms: {
          schedule: body.schedule,
          validFrom: body.validFrom ?? null,
          validUntil: body.validUntil ?? null,
          maxUses: body.maxUses ?? null,
          expiresAfterFirstUseSeconds: body.expiresAfterFirstUseSeconds ?? null,
        },
        createdBy: call.caller.account?.id ?? null,
      });
      await auditCall(call, {
        action: "grant.create",
        siteId: person.site_id,
        targetType: "grant",
        targetId: row.id,
        details: { personId: person.id, doors: body.doorIds.length, category: body.category },
      });
      return grantView(ctx, row);
    },
  }),
  defineRoute({
    method: "GET",
    url: "/api/v1/grants/:grantId",
    summary: "A grant",
    tags: ["grants"],
    access: { kind: "site", permission: "site.read", site: { param: "grantId", table: "grants" } },
    schema: { params: Strict({ grantId: Id }), response: { 200: Grant, ...errors } },
    handler(call) {
      return grantViewById(call.ctx, call.params.grantId);
    },
  }),
  defineRoute({
    method: "POST",
    url: "/api/v1/grants/:grantId/revoke",
    summary: "Revoke a grant now",
    tags: ["grants"],
    access: { kind: "site", permission: "site.manage", site: { param: "grantId", table: "grants" } },
    schema: { params: Strict({ grantId: Id }), response: { 200: Ok, ...errors } },
    async handler(call) {
      const { ctx, params } = call;
      await revokeGrant(ctx, params.grantId);
      await auditCall(call, {
        action: "grant.revoke",
        siteId: call.caller.siteId,
        targetType: "grant",
        targetId: params.grantId,
      });
      return { ok: true as const };
    },
  }),
];
