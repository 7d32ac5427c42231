/**
 * The audit trail: every administrative action, with who, what, when. All writers go through
 * `recordAudit`, the single point where the ledger will later take a copy of each entry.
 */
import type { Kysely } from "kysely";
import type { Database } from "../db/schema.js";

export interface AuditEntry {
  readonly actorAccountId: string | null;
  /** Dotted verb, e.g. "door.create", "account.totp.enrol". */
  readonly action: string;
  readonly siteId?: string | null;
  readonly targetType?: string;
  readonly targetId?: string;
  /** Non-secret facts only (ids, names, counts). */
  readonly details?: Record<string, string | number | boolean | null>;
  readonly ip?: string | null;
}

export async function recordAudit(db: Kysely<Database>, at: number, entry: AuditEntry): Promise<void> {
  await db
    .insertInto("audit")
    .values({
      at,
      actor_account_id: entry.actorAccountId,
      action: entry.action,
      site_id: entry.siteId ?? null,
      target_type: entry.targetType ?? null,
      target_id: entry.targetId ?? null,
      details: JSON.stringify(entry.details ?? {}),
      ip: entry.ip ?? null,
    })
    .execute();
}
