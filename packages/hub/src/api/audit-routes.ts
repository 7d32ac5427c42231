/** The audit trail over HTTP: recording a route's action, and reading a site's trail. */
import { Type } from "typebox";
import { recordAudit, type AuditEntry } from "../audit/audit.js";
import { siteAuditPage } from "../audit/query.js";
import { defineRoute, type Call, type RouteDef, type RouteSchema } from "./route-table.js";
import { EpochMs, ErrorBody, Id, Limit, Strict } from "./schemas.js";

/** Records an action by the calling account (the one audit call routes use). */
export async function auditCall(
  call: Call<RouteSchema>,
  entry: Omit<AuditEntry, "actorAccountId" | "ip">,
): Promise<void> {
  await recordAudit(call.ctx.db, call.ctx.now(), {
    ...entry,
    actorAccountId: call.caller.account?.id ?? null,
    ip: call.caller.ip,
  });
}

const AuditItem = Strict({
  id: Type.Integer(),
  at: EpochMs,
  actorAccountId: Type.Union([Type.String(), Type.Null()]),
  action: Type.String(),
  siteId: Type.Union([Type.String(), Type.Null()]),
  targetType: Type.Union([Type.String(), Type.Null()]),
  targetId: Type.Union([Type.String(), Type.Null()]),
  details: Type.Record(Type.String(), Type.Unknown()),
});

export const AUDIT_ROUTES: readonly RouteDef[] = [
  defineRoute({
    method: "GET",
    url: "/api/v1/sites/:siteId/audit",
    summary: "Audit entries of a site, newest first (`before` = the last id of the previous page)",
    tags: ["audit"],
    access: { kind: "site", permission: "audit.read", site: { param: "siteId", table: "sites" } },
    schema: {
      params: Strict({ siteId: Id }),
      querystring: Strict({
        limit: Type.Optional(Limit),
        before: Type.Optional(Type.String({ pattern: "^[1-9][0-9]{0,15}$" })),
      }),
      response: {
        200: Strict({ items: Type.Array(AuditItem), nextBefore: Type.Union([Type.String(), Type.Null()]) }),
        400: ErrorBody,
        404: ErrorBody,
      },
    },
    async handler({ ctx, params, query }) {
      const page = await siteAuditPage(ctx, params.siteId, {
        limit: Number(query.limit ?? "50"),
        before: query.before === undefined ? undefined : Number(query.before),
      });
      return { items: page.items, nextBefore: page.nextBefore === null ? null : String(page.nextBefore) };
    },
  }),
];
