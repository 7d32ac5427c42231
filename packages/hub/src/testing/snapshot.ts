/** Test support: a canonical dump of every table except sessions, to prove "nothing changed". */
import type { TestHub } from "./hub-fixture.js";
import type { Database } from "../db/schema.js";

const TABLES = {
  accounts: true,
  passkeys: true,
  recovery_codes: true,
  one_time_links: true,
  // Sessions are the caller's own state (last-seen time); everything else must stay put.
  sessions: false,
  rate_limits: true,
  audit: true,
  organisation: true,
  sites: true,
  site_roles: true,
  doors: true,
  people: true,
  credentials: true,
  pin_seals: true,
  grants: true,
  grant_doors: true,
} as const satisfies Record<keyof Database, boolean>;

export async function snapshot(t: TestHub): Promise<string> {
  const out: Record<string, string[]> = {};
  for (const [table, include] of Object.entries(TABLES) as [keyof Database, boolean][]) {
    if (!include) continue;
    const rows = (await t.hub.ctx.db.selectFrom(table).selectAll().execute()) as Record<string, unknown>[];
    out[table] = rows.map((r) => JSON.stringify(r, Object.keys(r).sort())).sort();
  }
  return JSON.stringify(out);
}
