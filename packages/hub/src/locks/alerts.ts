/**
 * A site's alerts about its locks (missing events, quarantined records, forked checkpoints,
 * drift, locks offline) as people see them, and acknowledging one. Ingestion raises and resolves
 * them (ingest/alerts.ts).
 */
import { LatchkeyError } from "@latchkey/protocol";
import type { HubContext } from "../runtime/context.js";
import { acknowledgeAlert } from "../ingest/alerts.js";
import { allTables } from "../db/access.js";

export type AlertDetails = Record<string, string | number | boolean | null>;

export interface SiteAlert {
  readonly id: number;
  readonly kind: string;
  readonly lockId: string | null;
  readonly doorId: string | null;
  readonly details: AlertDetails;
  readonly createdAt: number;
  readonly acknowledgedAt: number | null;
  readonly resolvedAt: number | null;
}

/** The newest alerts one listing shows. */
const LISTED_ALERTS = 200;

/** The site's alerts, newest first: only open ones (neither acknowledged nor resolved) unless `all`. */
export async function siteAlerts(ctx: HubContext, siteId: string, all: boolean): Promise<SiteAlert[]> {
  let q = allTables(ctx.db)
    .selectFrom("alerts")
    .innerJoin("locks", "locks.id", "alerts.lock_id")
    .select([
      "alerts.id as id",
      "alerts.kind as kind",
      "alerts.lock_id as lockId",
      "locks.door_id as doorId",
      "alerts.details as details",
      "alerts.created_at as createdAt",
      "alerts.acknowledged_at as acknowledgedAt",
      "alerts.resolved_at as resolvedAt",
    ])
    .where("locks.site_id", "=", siteId)
    .orderBy("alerts.id", "desc")
    .limit(LISTED_ALERTS);
  if (!all) q = q.where("alerts.acknowledged_at", "is", null).where("alerts.resolved_at", "is", null);
  const rows = await q.execute();
  return rows.map((r) => ({
    id: Number(r.id),
    kind: r.kind,
    lockId: r.lockId,
    doorId: r.doorId,
    details: JSON.parse(r.details) as AlertDetails,
    createdAt: Number(r.createdAt),
    acknowledgedAt: r.acknowledgedAt === null ? null : Number(r.acknowledgedAt),
    resolvedAt: r.resolvedAt === null ? null : Number(r.resolvedAt),
  }));
}

/**
 * Acknowledges one of the site's alerts on behalf of `accountId` (it stays on record, no longer
 * open). An alert of another site is HUB_NOT_FOUND, like one that does not exist.
 */
export async function acknowledgeSiteAlert(
  ctx: HubContext,
  siteId: string,
  alertId: number,
  accountId: string,
): Promise<void> {
  const db = allTables(ctx.db);
  const alert = await db
    .selectFrom("alerts")
    .innerJoin("locks", "locks.id", "alerts.lock_id")
    .select("alerts.id as id")
    .where("alerts.id", "=", alertId)
    .where("locks.site_id", "=", siteId)
    .executeTakeFirst();
  if (alert === undefined) throw new LatchkeyError("HUB_NOT_FOUND", "not found");
  await acknowledgeAlert(db, Number(alert.id), accountId, ctx.now());
}
