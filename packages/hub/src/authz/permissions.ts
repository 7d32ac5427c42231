/**
 * Roles and what they may do. The organisation owner may do everything everywhere; every other
 * role is held per site. Residents, guests and service providers manage nothing through the
 * administrative API: their access is what grants give them at the door.
 */
import type { HubContext } from "../runtime/context.js";

export const SITE_ROLES = ["manager", "resident", "guest", "service_provider"] as const;
export type SiteRole = (typeof SITE_ROLES)[number];

export const SITE_PERMISSIONS = [
  "site.read",
  "site.manage",
  "site.members",
  "site.delete",
  "audit.read",
] as const;
export type SitePermission = (typeof SITE_PERMISSIONS)[number];

const ROLE_PERMISSIONS: Record<SiteRole, readonly SitePermission[]> = {
  manager: ["site.read", "site.manage", "site.members", "audit.read"],
  resident: [],
  guest: [],
  service_provider: [],
};

export interface Principal {
  readonly accountId: string;
  readonly isOwner: boolean;
}

export async function hasSitePermission(
  ctx: HubContext,
  principal: Principal,
  siteId: string,
  permission: SitePermission,
): Promise<boolean> {
  const site = await ctx.db.selectFrom("sites").select("id").where("id", "=", siteId).executeTakeFirst();
  if (site === undefined) return false;
  if (principal.isOwner) return true;
  const row = await ctx.db
    .selectFrom("site_roles")
    .select("role")
    .where("account_id", "=", principal.accountId)
    .where("site_id", "=", siteId)
    .executeTakeFirst();
  if (row === undefined) return false;
  const perms = ROLE_PERMISSIONS[row.role as SiteRole] as readonly SitePermission[] | undefined;
  return perms?.includes(permission) ?? false;
}

/** Site ids on which the principal holds a permission (owner: every site). */
export async function sitesWithPermission(
  ctx: HubContext,
  principal: Principal,
  permission: SitePermission,
): Promise<string[]> {
  if (principal.isOwner) return (await ctx.db.selectFrom("sites").select("id").execute()).map((r) => r.id);
  const roles = SITE_ROLES.filter((r) => ROLE_PERMISSIONS[r].includes(permission));
  if (roles.length === 0) return [];
  const rows = await ctx.db
    .selectFrom("site_roles")
    .select("site_id")
    .where("account_id", "=", principal.accountId)
    .where("role", "in", roles)
    .execute();
  return rows.map((r) => r.site_id);
}
