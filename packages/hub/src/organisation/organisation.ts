/**
 * The organisation: the top of the model (organisation → sites → doors). A hub serves exactly
 * one, created with the owner account at first-run setup.
 */
import { randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import type { Database } from "../db/schema.js";
import type { HubContext } from "../runtime/context.js";

export interface Organisation {
  readonly id: string;
  readonly name: string;
  readonly createdAt: number;
}

export const DEFAULT_ORGANISATION_NAME = "My organisation";

/** Creates the organisation, inside the first-run transaction `trx`. */
export async function createOrganisation(trx: Kysely<Database>, name: string, now: number): Promise<void> {
  await trx.insertInto("organisation").values({ id: randomUUID(), name, created_at: now }).execute();
}

export async function loadOrganisation(ctx: HubContext): Promise<Organisation> {
  const row = await ctx.db.selectFrom("organisation").selectAll().executeTakeFirstOrThrow();
  return { id: row.id, name: row.name, createdAt: row.created_at };
}

export async function renameOrganisation(ctx: HubContext, name: string): Promise<Organisation> {
  await ctx.db.updateTable("organisation").set({ name }).execute();
  return loadOrganisation(ctx);
}
