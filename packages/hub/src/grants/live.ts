/** A grant row as the schedule module's terms, and its status now. */
import type { HubContext } from "../runtime/context.js";
import type { GrantTable } from "../db/schema.js";
import { grantStatusAt, type GrantStatus, type GrantTerms, type Schedule } from "./schedule.js";

export function termsOf(g: GrantTable): GrantTerms {
  return {
    schedule: JSON.parse(g.schedule) as Schedule,
    validFrom: g.valid_from,
    validUntil: g.valid_until,
    maxUses: g.max_uses,
    uses: g.uses,
    expiresAfterFirstUseSeconds: g.expire_after_first_use === 0 ? null : g.expire_after_first_use,
    firstUsedAt: g.first_used_at,
    revokedAt: g.revoked_at,
  };
}

export async function grantStatus(ctx: HubContext, g: GrantTable): Promise<GrantStatus> {
  const site = await ctx.db
    .selectFrom("sites")
    .select("timezone")
    .where("id", "=", g.site_id)
    .executeTakeFirst();
  return grantStatusAt(termsOf(g), ctx.now(), site?.timezone ?? "UTC");
}
