/** Reading the audit trail of a site, newest first, a page at a time. */
import type { HubContext } from "../runtime/context.js";

export interface AuditRecord {
  readonly id: number;
  readonly at: number;
  readonly actorAccountId: string | null;
  readonly action: string;
  readonly siteId: string | null;
  readonly targetType: string | null;
  readonly targetId: string | null;
  readonly details: Record<string, unknown>;
}

/**
 * At most `limit` of a site's audit entries before the id `before`, newest first; `nextBefore` is
 * the id to continue from, or null when this page was the last.
 */
export async function siteAuditPage(
  ctx: HubContext,
  siteId: string,
  page: { readonly limit: number; readonly before?: number },
): Promise<{ items: AuditRecord[]; nextBefore: number | null }> {
  let q = ctx.db
    .selectFrom("audit")
    .selectAll()
    .where("site_id", "=", siteId)
    .orderBy("id", "desc")
    .limit(page.limit);
  if (page.before !== undefined) q = q.where("id", "<", page.before);
  const rows = await q.execute();
  const items = rows.map((r) => ({
    id: Number(r.id),
    at: r.at,
    actorAccountId: r.actor_account_id,
    action: r.action,
    siteId: r.site_id,
    targetType: r.target_type,
    targetId: r.target_id,
    details: JSON.parse(r.details) as Record<string, unknown>,
  }));
  return { items, nextBefore: items.length === page.limit ? (items[items.length - 1]?.id ?? null) : null };
}
