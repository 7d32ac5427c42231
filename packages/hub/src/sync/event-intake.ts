/**
 * Taking a lock's events: each batch is verified and stored by the ingestor (→ ledger) before
 * the lock is told it may forget it, and read for credential changes the hub did not make.
 */
import {
  decodeSignedLockEvent,
  EventKind,
  CredentialType as WireCredentialType,
  type LockId,
} from "@latchkey/protocol";
import type { LockSession } from "../drivers/lock-driver.js";
import { AlertKind, insertAlerts } from "../ingest/alerts.js";
import type { SyncEngineOptions } from "./context.js";
import { SyncState } from "./reconcile.js";

/** Pulls the lock's unacknowledged events until it is caught up. */
export async function takeEvents(
  ctx: Pick<SyncEngineOptions, "db" | "now" | "ingestor">,
  session: LockSession,
  signingPublicKey: Uint8Array,
): Promise<void> {
  await session.pullEvents(async (records) => {
    const result = await ctx.ingestor.ingestBatch(
      { id: session.lockId, publicKey: signingPublicKey },
      records,
    );
    await detectCredentialDrift(ctx, session.lockId, records);
    return result.ack;
  });
}

/**
 * Credential changes the lock reports that the hub did not make: reported as alerts, never
 * silently overwritten. A credential the hub believes set but the lock cleared is marked failed
 * ("removed at the lock"), so the owner sees it and can retry.
 */
export async function detectCredentialDrift(
  ctx: Pick<SyncEngineOptions, "db" | "now">,
  lockId: LockId,
  records: readonly Uint8Array[],
): Promise<void> {
  const { db, now } = ctx;
  for (const record of records) {
    let event;
    try {
      event = decodeSignedLockEvent(record);
    } catch {
      continue; // quarantined by the ingestor already
    }
    if (event.kind !== EventKind.UserChange) continue;
    const type = event.actor.credentialType;
    const index = event.actor.credentialIndex;
    if ((type !== "PIN" && type !== "RFID") || index === undefined) continue;
    const wireType = type === "PIN" ? WireCredentialType.PIN : WireCredentialType.RFID;
    const row = await db
      .selectFrom("credential_sync")
      .selectAll()
      .where("lock_id", "=", lockId)
      .where("wire_type", "=", wireType)
      .where("credential_index", "=", index)
      .executeTakeFirst();
    const operation = event.details.operation;
    const ours = row !== undefined && (row.state === SyncState.Sending || row.state === SyncState.Set);
    const drift = (change: string): Promise<unknown> =>
      insertAlerts(
        db,
        [
          {
            kind: AlertKind.SyncDrift,
            lockId,
            details: { seq: event.seq, credentialType: type, credentialIndex: index, change },
          },
        ],
        now(),
      );
    if ((operation === "Add" || operation === "Modify") && !ours) {
      await drift("added at the lock");
    } else if (operation === "Clear" && row?.state === SyncState.Set) {
      await db
        .updateTable("credential_sync")
        .set({
          state: SyncState.Failed,
          reason: "removed at the lock",
          updated_at: now(),
          next_attempt_at: Number.MAX_SAFE_INTEGER,
        })
        .where("credential_id", "=", row.credential_id)
        .where("lock_id", "=", lockId)
        .execute();
      await drift("removed at the lock");
    }
  }
}
