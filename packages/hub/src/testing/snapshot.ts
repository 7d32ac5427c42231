/** Test support: a canonical dump of every table except sessions, to prove "nothing changed". */
import type { TestHub } from "./hub-fixture.js";
import type { Database, HubDatabase } from "../db/schema.js";
import type { GuestLinkTables } from "../credentials/guest-link-table.js";

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
  grants: true,
  grant_doors: true,
} as const satisfies Record<keyof Database, boolean>;

/** Lock, sync and link tables (migrations 0002–0005); alerts and the ledger's own rows grow on their own. */
const MORE_TABLES = [
  "locks",
  "lock_events",
  "quarantine",
  "site_keys",
  "revoked_certificates",
  "lock_users",
  "credential_sync",
  "guest_links",
] as const;

type AllTables = HubDatabase & GuestLinkTables;

export async function snapshot(t: TestHub): Promise<string> {
  const out: Record<string, string[]> = {};
  const db = t.hub.ctx.db.withTables<Pick<AllTables, keyof AllTables>>();
  const names = [
    ...(Object.entries(TABLES) as [keyof Database, boolean][]).filter(([, on]) => on).map(([n]) => n),
    ...MORE_TABLES,
  ];
  for (const table of names) {
    const rows = (await db.selectFrom(table).selectAll().execute()) as Record<string, unknown>[];
    out[table] = rows.map((r) => JSON.stringify(r, Object.keys(r).sort())).sort();
  }
  return JSON.stringify(out);
}
