/** Grants as people see them: terms, doors and status now. */
import type { GrantTable } from "../db/schema.js";
import type { HubContext } from "../runtime/context.js";
import { grantStatus, termsOf } from "./live.js";
import type { GrantStatus, Schedule } from "./schedule.js";

export interface GrantView {
  readonly id: string;
  readonly personId: string;
  readonly siteId: string;
  readonly doorIds: string[];
  readonly category: string;
  readonly schedule: Schedule;
  readonly validFrom: number | null;
  readonly validUntil: number | null;
  readonly maxUses: number | null;
  readonly uses: number;
  readonly expiresAfterFirstUseSeconds: number | null;
  readonly status: GrantStatus;
  readonly createdAt: number;
  readonly revokedAt: number | null;
}

export async function grantView(ctx: HubContext, g: GrantTable): Promise<GrantView> {
  const doors = await ctx.db
    .selectFrom("grant_doors")
    .select("door_id")
    .where("grant_id", "=", g.id)
    .orderBy("door_id")
    .execute();
  const { schedule, validFrom, validUntil, maxUses, uses, expiresAfterFirstUseSeconds } = termsOf(g);
  return {
    id: g.id,
    personId: g.person_id,
    siteId: g.site_id,
    doorIds: doors.map((d) => d.door_id),
    category: g.category,
    schedule,
    validFrom,
    validUntil,
    maxUses,
    uses,
    expiresAfterFirstUseSeconds,
    status: await grantStatus(ctx, g),
    createdAt: g.created_at,
    revokedAt: g.revoked_at,
  };
}

/** A person's grants, oldest first. */
export async function personGrantViews(ctx: HubContext, personId: string): Promise<GrantView[]> {
  const rows = await ctx.db
    .selectFrom("grants")
    .selectAll()
    .where("person_id", "=", personId)
    .orderBy("created_at")
    .orderBy("id")
    .execute();
  const items = [];
  for (const r of rows) items.push(await grantView(ctx, r));
  return items;
}

export async function grantViewById(ctx: HubContext, grantId: string): Promise<GrantView> {
  return grantView(
    ctx,
    await ctx.db.selectFrom("grants").selectAll().where("id", "=", grantId).executeTakeFirstOrThrow(),
  );
}
