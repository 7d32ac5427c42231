/**
 * Copies audit rows into the ledger as AdminAction leaves, exactly once each, in id order per
 * flush. See intents.ts for the crash protocol; the audit table is the outbox. On PostgreSQL, ids
 * of concurrent transactions can commit out of order, so the feed selects rows whose
 * `ledger_index` is still null rather than "ids above a cursor".
 */
import type { Kysely } from "kysely";
import { LedgerLeafKind } from "@latchkey/protocol";
import { auditIdOfLeaf, auditLeaf } from "../audit/audit.js";
import type { HubDatabase } from "../db/schema.js";
import type { Ledger } from "../ledger/index.js";
import type { Exclusive } from "./exclusive.js";
import { beginIntent, endIntent, openIntent, scanLedger } from "./intents.js";

const OWNER = "audit";
const PAGE = 256;

export class AuditFeed {
  constructor(
    private readonly db: Kysely<HubDatabase>,
    private readonly ledger: Ledger,
    private readonly exclusive: Exclusive,
    private readonly now: () => number,
  ) {}

  /** Appends every audit row not yet in the ledger; resolves when they are durable there. */
  flush(): Promise<number> {
    return this.exclusive.run(OWNER, async () => {
      await this.recover();
      let total = 0;
      for (;;) {
        const rows = await this.db
          .selectFrom("audit")
          .selectAll()
          .where("ledger_index", "is", null)
          .orderBy("id")
          .limit(PAGE)
          .execute();
        if (rows.length === 0) return total;
        await beginIntent(this.db, OWNER, await this.ledger.size(), this.now());
        const appended = await this.ledger.appendMany(rows.map(auditLeaf));
        await this.db.transaction().execute(async (trx) => {
          for (const [i, row] of rows.entries()) {
            await trx
              .updateTable("audit")
              .set({ ledger_index: (appended[i] as { index: number }).index })
              .where("id", "=", row.id)
              .execute();
          }
          await endIntent(trx, OWNER);
        });
        total += rows.length;
        if (rows.length < PAGE) return total;
      }
    });
  }

  /** Completes a flush that a crash interrupted: the ledger says which rows made it. */
  private async recover(): Promise<void> {
    const from = await openIntent(this.db, OWNER);
    if (from === undefined) return;
    const found: { auditId: number; index: number }[] = [];
    await scanLedger(this.ledger, from, (e) => {
      if (e.leaf.kind !== LedgerLeafKind.AdminAction) return;
      const auditId = auditIdOfLeaf(e.leaf);
      if (auditId !== null) found.push({ auditId, index: e.index });
    });
    await this.db.transaction().execute(async (trx) => {
      for (const f of found) {
        await trx
          .updateTable("audit")
          .set({ ledger_index: f.index })
          .where("id", "=", f.auditId)
          .where("ledger_index", "is", null)
          .execute();
      }
      await endIntent(trx, OWNER);
    });
  }
}
