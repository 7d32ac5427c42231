/** Reading the audit trail of a site, newest first, a page at a time. */
import { Type } from "typebox";
import { recordAudit, type AuditEntry } from "../audit/audit.js";
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
      const limit = Number(query.limit ?? "50");
      let q = ctx.db
        .selectFrom("audit")
        .selectAll()
        .where("site_id", "=", params.siteId)
        .orderBy("id", "desc")
        .limit(limit);
      if (query.before !== undefined) q = q.where("id", "<", Number(query.before));
      const rows = await q.execute();
      return {
        items: rows.map((r) => ({
          id: Number(r.id),
          at: r.at,
          actorAccountId: r.actor_account_id,
          action: r.action,
          siteId: r.site_id,
          targetType: r.target_type,
          targetId: r.target_id,
          details: JSON.parse(r.details) as Record<string, unknown>,
        })),
        nextBefore: rows.length === limit ? String(rows[rows.length - 1]?.id) : null,
      };
    },
  }),
];
