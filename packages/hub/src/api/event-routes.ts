/**
 * Door activity in the API: a site's lock-signed events, newest first, with filters (door,
 * person, kind, lock-time window) and a ledger-index cursor; and the evidence export of chosen
 * doors over a window, as a downloadable bundle (step-up).
 */
import { Type } from "typebox";
import { defineRoute, type RouteDef } from "./route-table.js";
import { ErrorBody, Id, Strict, errorResponses } from "./schemas.js";
import { auditCall } from "./audit-routes.js";
import { eventsLedger, evidenceSigner } from "./ledger-access.js";
import { EVENT_KIND_BY_NAME, siteEvents } from "../events/query.js";
import { exportSiteEvidence } from "../events/evidence.js";
import type { Ledger } from "../ledger/index.js";

const errors = errorResponses(400, 401, 403, 404, 409);
const MsString = Type.String({ pattern: "^(?:0|[1-9][0-9]{0,14})$" });
const EventsLimit = Type.String({ pattern: "^(?:[1-9][0-9]?|1[0-9]{2}|200)$" });
/** One EventKind name, or several separated by commas (any of them). */
const KIND_NAMES = [...EVENT_KIND_BY_NAME.keys()].join("|");
const KindNames = Type.String({ pattern: `^(?:${KIND_NAMES})(?:,(?:${KIND_NAMES})){0,15}$`, maxLength: 400 });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const EventItem = Strict({
  lockId: Type.String(),
  doorId: Nullable(Type.String()),
  doorName: Nullable(Type.String()),
  seq: Type.Integer({ minimum: 1 }),
  kind: Type.String(),
  at: Nullable(Type.Integer()),
  personId: Nullable(Type.String()),
  personName: Nullable(Type.String()),
  userIndex: Nullable(Type.Integer()),
  credentialType: Nullable(Type.String()),
  source: Nullable(Type.String()),
  operation: Nullable(Type.String()),
  outcome: Type.Union(
    ["granted", "denied", "locked", "alarm", "alarm-cleared", "info"].map((o) => Type.Literal(o)),
  ),
  reason: Nullable(Type.String()),
  alarm: Nullable(Type.String()),
  ledgerIndex: Type.Integer({ minimum: 0 }),
  sealedByLock: Type.Literal(true),
});

export const EVENT_ROUTES: readonly RouteDef[] = [
  defineRoute({
    method: "GET",
    url: "/api/v1/sites/:siteId/events",
    summary:
      "The site's lock-signed events, newest first (ledger order): filter by door, person, kind (one or several, comma-separated) and lock time; page with before=<ledgerIndex> or read any position with offset (count=true adds the total)",
    tags: ["events"],
    access: { kind: "site", permission: "site.read", site: { param: "siteId", table: "sites" } },
    schema: {
      params: Strict({ siteId: Id }),
      querystring: Strict({
        doorId: Type.Optional(Id),
        personId: Type.Optional(Id),
        kind: Type.Optional(KindNames),
        from: Type.Optional(MsString),
        to: Type.Optional(MsString),
        before: Type.Optional(Type.String({ pattern: "^[1-9][0-9]{0,15}$" })),
        offset: Type.Optional(Type.String({ pattern: "^(?:0|[1-9][0-9]{0,8})$" })),
        limit: Type.Optional(EventsLimit),
        count: Type.Optional(Type.Union([Type.Literal("true"), Type.Literal("false")])),
      }),
      response: {
        200: Strict({
          items: Type.Array(EventItem),
          nextBefore: Nullable(Type.String()),
          total: Nullable(Type.Integer({ minimum: 0 })),
          top: Nullable(Type.String()),
        }),
        ...errors,
      },
    },
    async handler({ ctx, params, query }) {
      const page = await siteEvents(ctx, eventsLedger(ctx), {
        siteId: params.siteId,
        limit: Number(query.limit ?? "50"),
        ...(query.doorId === undefined ? {} : { doorId: query.doorId }),
        ...(query.personId === undefined ? {} : { personId: query.personId }),
        ...(query.kind === undefined
          ? {}
          : { kinds: [...new Set(query.kind.split(",").map((k) => EVENT_KIND_BY_NAME.get(k) as number))] }),
        ...(query.from === undefined ? {} : { from: Number(query.from) }),
        ...(query.to === undefined ? {} : { to: Number(query.to) }),
        ...(query.before === undefined ? {} : { before: Number(query.before) }),
        ...(query.offset === undefined ? {} : { offset: Number(query.offset) }),
        count: query.count === "true",
      });
      return {
        items: page.items,
        nextBefore: page.nextBefore === null ? null : String(page.nextBefore),
        total: page.total,
        top: page.top === null ? null : String(page.top),
      };
    },
  }),
  defineRoute({
    method: "POST",
    url: "/api/v1/sites/:siteId/evidence",
    summary:
      "Export an evidence bundle for chosen doors over a window (step-up): the sealed JSON file an insurer verifies offline",
    tags: ["events"],
    access: { kind: "site", permission: "site.manage", site: { param: "siteId", table: "sites" } },
    stepUp: true,
    schema: {
      params: Strict({ siteId: Id }),
      body: Strict({
        doorIds: Type.Array(Id, { minItems: 1, maxItems: 50, uniqueItems: true }),
        from: Type.Integer({ minimum: 0, maximum: 8_640_000_000_000_000 }),
        to: Type.Integer({ minimum: 0, maximum: 8_640_000_000_000_000 }),
      }),
      response: { 200: Type.Unknown(), ...errors, 422: ErrorBody },
    },
    async handler(call) {
      const { ctx, params, body, reply } = call;
      const sources = { ledger: () => eventsLedger(ctx), signer: (l: Ledger) => evidenceSigner(ctx, l) };
      const bytes = await exportSiteEvidence(ctx, sources, {
        siteId: params.siteId,
        doorIds: body.doorIds,
        from: body.from,
        to: body.to,
      });
      await auditCall(call, {
        action: "evidence.export",
        siteId: call.caller.siteId,
        targetType: "site",
        targetId: params.siteId,
        details: { doors: body.doorIds.length, from: body.from, to: body.to },
      });
      const name = `latchkey-evidence-${new Date(body.from).toISOString().slice(0, 10)}.json`;
      void reply.header("content-disposition", `attachment; filename="${name}"`);
      void reply.type("application/json; charset=utf-8");
      return Buffer.from(bytes);
    },
  }),
];
