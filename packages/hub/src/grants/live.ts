/** Which doors a person can still open (live grants), used for PIN duplicates and sealing. */
import type { HubContext } from "../server/context.js";
import type { GrantTable } from "../db/schema.js";
import { grantStatusAt, isLive, type GrantStatus, type GrantTerms, type Schedule } from "./schedule.js";

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

export async function liveDoorIds(
  ctx: HubContext,
  personIds: readonly string[],
): Promise<Map<string, Set<string>>> {
  const result = new Map<string, Set<string>>();
  if (personIds.length === 0) return result;
  const grants = await ctx.db
    .selectFrom("grants")
    .selectAll()
    .where("person_id", "in", personIds)
    .where("revoked_at", "is", null)
    .execute();
  for (const g of grants) {
    if (!isLive(await grantStatus(ctx, g))) continue;
    const doors = await ctx.db
      .selectFrom("grant_doors")
      .select("door_id")
      .where("grant_id", "=", g.id)
      .execute();
    const set = result.get(g.person_id) ?? new Set<string>();
    for (const d of doors) set.add(d.door_id);
    result.set(g.person_id, set);
  }
  return result;
}

/**
 * Whether a PIN with keyed hash `hmac` would collide on any of `doorIds` with another active PIN
 * (of another person with a live grant there, or a second copy of the same person's).
 */
export async function pinCollides(
  ctx: HubContext,
  hmac: string,
  doorIds: ReadonlySet<string>,
  personId: string,
  ignoreCredentialId?: string,
): Promise<boolean> {
  let q = ctx.db
    .selectFrom("credentials")
    .select(["id", "person_id"])
    .where("secret_hmac", "=", hmac)
    .where("kind", "=", "pin")
    .where("status", "=", "active");
  if (ignoreCredentialId !== undefined) q = q.where("id", "!=", ignoreCredentialId);
  const same = await q.execute();
  if (same.length === 0) return false;
  if (same.some((c) => c.person_id === personId)) return true;
  const live = await liveDoorIds(ctx, [...new Set(same.map((c) => c.person_id))]);
  for (const doors of live.values()) for (const d of doors) if (doorIds.has(d)) return true;
  return false;
}
