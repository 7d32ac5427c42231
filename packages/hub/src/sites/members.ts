/**
 * Who holds which role on a site. A site's managers manage its members, but a manager's role is
 * the owner's alone to give, change or take. A name that is not already a member is invited
 * (a one-time link) whether or not an account has it, so the answer reveals nothing about other
 * accounts; the role applies once the link is accepted. Nothing a lock holds depends on roles,
 * so the locks are not told.
 */
import { LatchkeyError } from "@latchkey/protocol";
import type { HubContext } from "../runtime/context.js";
import type { SiteRole } from "../authz/permissions.js";
import { createLink } from "../accounts/links.js";

export interface SiteMember {
  readonly accountId: string;
  readonly username: string;
  readonly role: string;
  readonly since: number;
}

/** What adding a member did: changed an existing member's role, or made an invitation. */
export type MemberAdded =
  | { readonly kind: "role-set"; readonly accountId: string }
  | { readonly kind: "invited"; readonly inviteLink: string };

const notFound = () => new LatchkeyError("HUB_NOT_FOUND", "not found");

export async function listMembers(ctx: HubContext, siteId: string): Promise<SiteMember[]> {
  const rows = await ctx.db
    .selectFrom("site_roles")
    .innerJoin("accounts", "accounts.id", "site_roles.account_id")
    .select(["site_roles.account_id", "accounts.username", "site_roles.role", "site_roles.created_at"])
    .where("site_roles.site_id", "=", siteId)
    .orderBy("accounts.username")
    .execute();
  return rows.map((r) => ({
    accountId: r.account_id,
    username: r.username,
    role: r.role,
    since: r.created_at,
  }));
}

/**
 * Gives `username` (already normalised) `role` on the site: a member has the role changed in
 * place (the member list shows them anyway); anyone else — a name nobody has, an account of
 * another site, the owner — gets an invitation, answered alike for all. Whoever holds the link
 * accepts it with the account's password (an existing account) or a new one (a new account).
 */
export async function addMember(
  ctx: HubContext,
  siteId: string,
  member: { readonly username: string; readonly role: SiteRole },
  callerIsOwner: boolean,
): Promise<MemberAdded> {
  if (member.role === "manager" && !callerIsOwner) throw notFound();
  const existing = await ctx.db
    .selectFrom("site_roles")
    .innerJoin("accounts", "accounts.id", "site_roles.account_id")
    .select(["site_roles.account_id", "site_roles.role"])
    .where("site_roles.site_id", "=", siteId)
    .where("accounts.username", "=", member.username)
    .executeTakeFirst();
  if (existing !== undefined) {
    if (existing.role === "manager" && !callerIsOwner) throw notFound();
    await ctx.db
      .updateTable("site_roles")
      .set({ role: member.role })
      .where("account_id", "=", existing.account_id)
      .where("site_id", "=", siteId)
      .execute();
    return { kind: "role-set", accountId: existing.account_id };
  }
  const { url } = await createLink(ctx, "invite", { siteId, role: member.role, username: member.username });
  return { kind: "invited", inviteLink: url };
}

/**
 * Removes an account's role on this site only; answers the role it held. The account's sessions
 * and its roles elsewhere are not this site's to end (every request re-reads the roles, so the
 * site is out of reach at once).
 */
export async function removeMember(
  ctx: HubContext,
  siteId: string,
  accountId: string,
  callerIsOwner: boolean,
): Promise<string> {
  const existing = await ctx.db
    .selectFrom("site_roles")
    .select("role")
    .where("account_id", "=", accountId)
    .where("site_id", "=", siteId)
    .executeTakeFirst();
  if (existing === undefined || (existing.role === "manager" && !callerIsOwner)) throw notFound();
  await ctx.db
    .deleteFrom("site_roles")
    .where("account_id", "=", accountId)
    .where("site_id", "=", siteId)
    .execute();
  return existing.role;
}
