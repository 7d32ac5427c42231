/**
 * The audit trail: every administrative action, with who, what, when. All writers go through
 * `recordAudit`. The audit table is also the ledger's outbox: the audit feed
 * (ledger-service/audit-feed.ts) appends each row, as an AdminAction leaf built by `auditLeaf`, to
 * the ledger and stores the leaf's index in `audit.ledger_index`. The row commits with the action
 * it describes (inside the caller's transaction, if any); the hub flushes the feed before it
 * answers a state-changing request, and at start, so an acknowledged action is in the ledger and
 * a crash in between is caught up at the next start.
 */
import { createHash } from "node:crypto";
import type { Kysely, Selectable } from "kysely";
import { LedgerLeafKind, type AdminActionLeaf, type EpochMs } from "@latchkey/protocol";
import type { AuditTable, Database } from "../db/schema.js";

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

const MAX_LEAF_DETAILS = 4096;
const utf8 = new TextEncoder();

/** Cuts a string to at most `max` UTF-8 bytes without splitting a character. */
function clip(s: string, max: number): string {
  if (utf8.encode(s).length <= max) return s;
  let out = "";
  for (const ch of s) {
    if (utf8.encode(out + ch).length > max) break;
    out += ch;
  }
  return out;
}

/**
 * The ledger leaf of an audit row: who (account id), what (action), on what (target) and the
 * row's non-secret details, with the audit id so the feed can recognise its own leaves. The IP
 * address is left out: the ledger is permanent and needs no personal data to prove an action.
 */
export function auditLeaf(row: Selectable<AuditTable>): AdminActionLeaf {
  const auditId = Number(row.id);
  const details = JSON.parse(row.details) as Record<string, unknown>;
  let body = JSON.stringify({ auditId, siteId: row.site_id, details });
  if (utf8.encode(body).length > MAX_LEAF_DETAILS) {
    const digest = createHash("sha256").update(row.details).digest("hex");
    body = JSON.stringify({ auditId, siteId: row.site_id, detailsSha256: digest, truncated: true });
  }
  const target =
    row.target_type === null
      ? ""
      : row.target_id === null
        ? row.target_type
        : `${row.target_type}:${row.target_id}`;
  return {
    kind: LedgerLeafKind.AdminAction,
    hubTimeMs: row.at as EpochMs,
    actor: row.actor_account_id === null ? "system" : `account:${row.actor_account_id}`,
    action: clip(row.action, 64),
    target: clip(target, 256),
    details: utf8.encode(body),
  };
}

/** The audit id an AdminAction leaf written by `auditLeaf` carries, or null. */
export function auditIdOfLeaf(leaf: AdminActionLeaf): number | null {
  try {
    const parsed = JSON.parse(new TextDecoder().decode(leaf.details)) as { auditId?: unknown };
    return typeof parsed.auditId === "number" && Number.isSafeInteger(parsed.auditId) ? parsed.auditId : null;
  } catch {
    return null;
  }
}
