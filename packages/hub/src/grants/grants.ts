/**
 * Granting and revoking access: a person × doors × schedule × category. Who may grant which doors
 * is decided before (the caller must manage each door's site); here are the rules of the grant
 * itself and its transaction. Each change, once committed, tells the desired-state notifier for
 * every site whose locks it concerns.
 */
import { randomUUID } from "node:crypto";
import { LatchkeyError } from "@latchkey/protocol";
import type { GrantTable, PersonTable } from "../db/schema.js";
import type { HubContext } from "../runtime/context.js";
import { validateTerms, type GrantTerms } from "./schedule.js";

export interface NewGrant {
  readonly person: PersonTable;
  /** The doors, already checked to exist and to be the caller's to manage. */
  readonly doors: readonly { readonly id: string; readonly site_id: string }[];
  readonly category: string;
  readonly terms: Omit<GrantTerms, "uses" | "firstUsedAt" | "revokedAt">;
  readonly createdBy: string | null;
}

export interface GrantTargets {
  readonly person: PersonTable;
  readonly doors: { readonly id: string; readonly site_id: string }[];
}

/**
 * The person and the doors a new grant would name; the caller must then manage each door's site
 * (`NewGrant.doors`). A missing door is HUB_NOT_FOUND, the answer a door the caller may not
 * manage gets too, so the two look exactly alike.
 */
export async function grantTargets(
  ctx: HubContext,
  personId: string,
  doorIds: readonly string[],
): Promise<GrantTargets> {
  const person = await ctx.db
    .selectFrom("people")
    .selectAll()
    .where("id", "=", personId)
    .executeTakeFirstOrThrow();
  const doors = await ctx.db
    .selectFrom("doors")
    .select(["id", "site_id"])
    .where("id", "in", doorIds)
    .execute();
  if (doors.length !== doorIds.length) throw new LatchkeyError("HUB_NOT_FOUND", "not found");
  return { person, doors };
}

export async function createGrant(ctx: HubContext, grant: NewGrant): Promise<GrantTable> {
  const { person, doors, terms } = grant;
  validateTerms(terms);
  const row: GrantTable = {
    id: randomUUID(),
    person_id: person.id,
    site_id: person.site_id,
    category: grant.category,
    schedule: JSON.stringify(terms.schedule),
    valid_from: terms.validFrom,
    valid_until: terms.validUntil,
    max_uses: terms.maxUses,
    uses: 0,
    expire_after_first_use: terms.expiresAfterFirstUseSeconds ?? 0,
    first_used_at: null,
    created_at: ctx.now(),
    created_by: grant.createdBy,
    revoked_at: null,
  };
  await ctx.db.transaction().execute(async (trx) => {
    await trx.insertInto("grants").values(row).execute();
    await trx
      .insertInto("grant_doors")
      .values(doors.map((d) => ({ grant_id: row.id, door_id: d.id })))
      .execute();
  });
  for (const siteId of new Set([person.site_id, ...doors.map((d) => d.site_id)]))
    ctx.desiredState.siteChanged(siteId);
  return row;
}

/** Revokes a grant now (a grant already revoked stays as it was). */
export async function revokeGrant(ctx: HubContext, grantId: string): Promise<void> {
  const grant = await ctx.db
    .selectFrom("grants")
    .select("site_id")
    .where("id", "=", grantId)
    .executeTakeFirstOrThrow();
  const doorSites = await ctx.db
    .selectFrom("grant_doors")
    .innerJoin("doors", "doors.id", "grant_doors.door_id")
    .select("doors.site_id")
    .where("grant_doors.grant_id", "=", grantId)
    .execute();
  await ctx.db
    .updateTable("grants")
    .set({ revoked_at: ctx.now() })
    .where("id", "=", grantId)
    .where("revoked_at", "is", null)
    .execute();
  for (const siteId of new Set([grant.site_id, ...doorSites.map((d) => d.site_id)]))
    ctx.desiredState.siteChanged(siteId);
}
