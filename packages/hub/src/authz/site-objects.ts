/**
 * Which site an object belongs to: every site-scoped route names one object in its path, and the
 * caller's permissions are checked on that object's site (unknown objects have no site: 404).
 */
import { allTables } from "../db/access.js";
import type { HubContext } from "../runtime/context.js";

/** The tables whose rows a route can name, each with its `site_id` (a site is its own). */
export type SiteObjectTable = "sites" | "doors" | "people" | "grants" | "credentials" | "locks";

export async function siteOfObject(
  ctx: HubContext,
  table: SiteObjectTable,
  id: string,
): Promise<string | null> {
  if (table === "sites") return id;
  const row = await allTables(ctx.db)
    .selectFrom(table)
    .select("site_id")
    .where("id", "=", id)
    .executeTakeFirst();
  return row?.site_id ?? null;
}
