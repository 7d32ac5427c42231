/**
 * Revoking certificates (phone keys, remote-unlock keys) of a site, as its people do it: the
 * signed list and its version live in sync/revocation.ts; here a revocation also starts the work
 * that brings it to the site's locks, once it has committed.
 */
import type { HubContext } from "../runtime/context.js";
import { revocationVersion, revokeCertificate } from "../sync/revocation.js";
import type { LockService } from "./service.js";
import { allTables } from "../db/access.js";

export interface SiteRevocations {
  /** The list version the site's locks should hold. */
  readonly version: number;
  /** Revoked serials (decimal), oldest revocation first. */
  readonly items: { readonly serial: string; readonly revokedAt: number }[];
}

export async function siteRevocations(ctx: HubContext, siteId: string): Promise<SiteRevocations> {
  const db = allTables(ctx.db);
  const rows = await db
    .selectFrom("revoked_certificates")
    .selectAll()
    .where("site_id", "=", siteId)
    .orderBy("revoked_at")
    .execute();
  return {
    version: await revocationVersion(db, siteId),
    items: rows.map((r) => ({ serial: r.serial, revokedAt: Number(r.revoked_at) })),
  };
}

/**
 * Revokes a certificate serial of the site and returns the list's new version. The site's locks
 * then get the new list: each reads its state again at once (`locks` is the running lock
 * service, or null while the device gateway is down) and the site is reconciled.
 */
export async function revokeSiteCertificate(
  ctx: HubContext,
  locks: LockService | null,
  siteId: string,
  serial: bigint,
): Promise<number> {
  const version = await revokeCertificate(allTables(ctx.db), ctx.secret, siteId, serial, ctx.now());
  await locks?.engine.revocationChanged(siteId);
  ctx.desiredState.siteChanged(siteId);
  return version;
}
