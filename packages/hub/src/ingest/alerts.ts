/**
 * Alerts for people: a gap in a lock's events, a quarantined record, a lock that saw another
 * checkpoint than ours, a lock that stopped answering. Details are JSON of ids, seqs and
 * reasons — never secrets. An alert is open until acknowledged, or until its condition ends by
 * itself (resolved: the offline lock answers again).
 */
import type { Kysely } from "kysely";
import type { HubDatabase } from "../db/schema.js";
import { alertMessages } from "../outbound/alert-messages.js";
import { enqueue } from "../outbound/outbox.js";

export const AlertKind = {
  /** Events are missing: a record arrived with a seq beyond the next expected one. */
  IngestGap: "ingest-gap",
  /** A record failed verification (bad signature, broken link, wrong lock, malformed) and was kept aside. */
  IngestQuarantine: "ingest-quarantine",
  /** A lock signed two different events with the same seq. */
  IngestConflict: "ingest-conflict",
  /** A lock acknowledged a checkpoint that differs from ours at that size: a forked history. */
  CheckpointFork: "checkpoint-fork",
  /** A lock acknowledged a checkpoint size the hub never signed. */
  CheckpointUnknown: "checkpoint-unknown",
  /** A lock reports a credential change the hub did not make (added or removed at the lock). */
  SyncDrift: "sync-drift",
  /** A lock has not answered its authenticated heartbeats for a while (resolved when it does). */
  LockOffline: "lock-offline",
  // From the lock's own signed alarms (door-alerts.ts):
  /** The door was opened with the bolt thrown, the cylinder forced round, or drilled. */
  DoorForced: "door-forced",
  /** The lock's front cover (escutcheon) was removed. */
  Tamper: "tamper",
  /** The bolt could not move. */
  Jammed: "jammed",
  /** Too many wrong codes: the keypad is locked out for a while. */
  Lockout: "lockout",
  /** A duress code was used: sent only to channels that name "alert.duress" (outbound/outbox.ts). */
  Duress: "duress",
  BatteryLow: "battery-low",
  /** The door was left open past the lock's ajar time. */
  DoorHeldOpen: "door-held-open",
  /** The lock was reset to factory settings: every code and key on it is gone. */
  FactoryReset: "factory-reset",
} as const;
export type AlertKind = (typeof AlertKind)[keyof typeof AlertKind];

export interface NewAlert {
  readonly kind: AlertKind;
  readonly lockId: string | null;
  readonly details: Readonly<Record<string, string | number | boolean | null>>;
}

export async function insertAlerts(
  db: Kysely<HubDatabase>,
  alerts: readonly NewAlert[],
  at: number,
): Promise<void> {
  if (alerts.length === 0) return;
  await db
    .insertInto("alerts")
    .values(
      alerts.map((a) => ({
        kind: a.kind,
        lock_id: a.lockId,
        details: JSON.stringify(a.details),
        created_at: at,
        acknowledged_at: null,
        acknowledged_by: null,
      })),
    )
    .execute();
  // Told to the notification channels that want it, in the same transaction when `db` is one.
  for (const message of await alertMessages(db, alerts, at)) await enqueue(db, message, at);
}

/**
 * Raises one alert of `kind` for a lock unless one is already open (neither acknowledged nor
 * resolved): a condition that persists is one alert, not one per check. Returns whether it did.
 */
export async function raiseOnce(db: Kysely<HubDatabase>, alert: NewAlert, at: number): Promise<boolean> {
  if (alert.lockId === null) throw new Error("raiseOnce needs a lock");
  const open = await db
    .selectFrom("alerts")
    .select("id")
    .where("kind", "=", alert.kind)
    .where("lock_id", "=", alert.lockId)
    .where("acknowledged_at", "is", null)
    .where("resolved_at", "is", null)
    .executeTakeFirst();
  if (open !== undefined) return false;
  await insertAlerts(db, [alert], at);
  return true;
}

/** Marks a lock's unresolved alerts of `kind` resolved (their condition ended); returns how many. */
export async function resolveAlerts(
  db: Kysely<HubDatabase>,
  kind: AlertKind,
  lockId: string,
  at: number,
): Promise<number> {
  const r = await db
    .updateTable("alerts")
    .set({ resolved_at: at })
    .where("kind", "=", kind)
    .where("lock_id", "=", lockId)
    .where("resolved_at", "is", null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}

export interface AlertItem {
  readonly id: number;
  readonly kind: string;
  readonly lockId: string | null;
  readonly details: Record<string, unknown>;
  readonly createdAt: number;
  readonly acknowledgedAt: number | null;
  readonly resolvedAt: number | null;
}

export async function listAlerts(
  db: Kysely<HubDatabase>,
  opts: { readonly lockId?: string; readonly openOnly?: boolean } = {},
): Promise<AlertItem[]> {
  let q = db.selectFrom("alerts").selectAll().orderBy("id");
  if (opts.lockId !== undefined) q = q.where("lock_id", "=", opts.lockId);
  if (opts.openOnly === true) q = q.where("acknowledged_at", "is", null).where("resolved_at", "is", null);
  return (await q.execute()).map((r) => ({
    id: Number(r.id),
    kind: r.kind,
    lockId: r.lock_id,
    details: JSON.parse(r.details) as Record<string, unknown>,
    createdAt: Number(r.created_at),
    acknowledgedAt: r.acknowledged_at === null ? null : Number(r.acknowledged_at),
    resolvedAt: r.resolved_at === null ? null : Number(r.resolved_at),
  }));
}

export async function acknowledgeAlert(
  db: Kysely<HubDatabase>,
  id: number,
  by: string,
  at: number,
): Promise<boolean> {
  const r = await db
    .updateTable("alerts")
    .set({ acknowledged_at: at, acknowledged_by: by })
    .where("id", "=", id)
    .where("acknowledged_at", "is", null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}
