/**
 * What the hub shows of its locks: each lock with its condition (bolt, door, battery, firmware),
 * its presence and breaker from the sync engine and its credentials' sync counts; and where one
 * credential stands on every lock.
 */
import { DoorState, LatchkeyError } from "@latchkey/protocol";
import type { HubContext } from "../runtime/context.js";
import type { LockCondition } from "../sync/lock-condition.js";
import type { LockService } from "./service.js";
import { allTables } from "../db/access.js";
import { BOLT_STATE, type BoltState } from "../drivers/lock-driver.js";

export type { BoltState } from "../drivers/lock-driver.js";

export interface LockView {
  readonly id: string;
  readonly doorId: string | null;
  readonly online: boolean;
  readonly commissionedAt: number;
  readonly lastSeenAt: number | null;
  readonly clockDriftMs: number | null;
  readonly clockNeedsAuthorisation: boolean;
  readonly condition: {
    readonly lockState: BoltState;
    readonly doorState: "open" | "closed";
    readonly batteryPercent: number | null;
    readonly firmwareVersion: string;
    readonly lastSeq: number;
  } | null;
  readonly breakerOpenUntil: number | null;
  /** Credential sync state → how many of the lock's credentials are in it. */
  readonly sync: Record<string, number>;
}

export type SyncStateName = "idle" | "pending" | "sending" | "set" | "failed" | "removing" | "removed";

export interface CredentialSyncState {
  readonly lockId: string;
  readonly doorId: string | null;
  readonly state: SyncStateName;
  readonly reason: string | null;
  readonly attempts: number;
  /** When the engine tries again (only while it still has work to do on this lock). */
  readonly nextAttemptAt: number | null;
  readonly updatedAt: number;
}

/** Latest representable Date, for a retry the engine has put off indefinitely. */
const MAX_EPOCH_MS = 8_640_000_000_000_000;

/**
 * The locks on one door or of one site. `locks` is the running lock service, or null while the
 * device gateway is down (every lock then shows offline, with no breaker).
 */
async function lockViews(
  ctx: HubContext,
  locks: LockService | null,
  where: { doorId?: string; siteId?: string },
): Promise<LockView[]> {
  const db = allTables(ctx.db);
  let q = db.selectFrom("locks").innerJoin("doors", "doors.id", "locks.door_id").selectAll("locks");
  if (where.doorId !== undefined) q = q.where("locks.door_id", "=", where.doorId);
  if (where.siteId !== undefined) q = q.where("doors.site_id", "=", where.siteId);
  const rows = await q.orderBy("locks.id").execute();
  const out: LockView[] = [];
  for (const r of rows) {
    const counts = await db
      .selectFrom("credential_sync")
      .select(["state", (eb) => eb.fn.countAll<number>().as("n")])
      .where("lock_id", "=", r.id)
      .groupBy("state")
      .execute();
    const c = r.state_json === null ? null : (JSON.parse(r.state_json) as LockCondition);
    out.push({
      id: r.id,
      doorId: r.door_id,
      // Presence from the authenticated channel (heartbeats), never from the broker.
      online: locks?.engine.isOnline(r.id) ?? false,
      commissionedAt: Number(r.commissioned_at),
      lastSeenAt: r.last_seen_at === null ? null : Number(r.last_seen_at),
      clockDriftMs: r.clock_drift_ms === null ? null : Number(r.clock_drift_ms),
      clockNeedsAuthorisation: c?.clockNeedsAuthorisation === true,
      condition:
        c === null
          ? null
          : {
              lockState: BOLT_STATE[c.lockState ?? -1] ?? "not-fully-locked",
              doorState: c.doorState === DoorState.DoorClosed ? "closed" : "open",
              batteryPercent: c.batteryPercent,
              firmwareVersion: c.firmwareVersion,
              lastSeq: c.lastSeq,
            },
      breakerOpenUntil: locks?.engine.breakerOpenUntil(r.id) ?? null,
      sync: Object.fromEntries(counts.map((x) => [x.state, Number(x.n)])),
    });
  }
  return out;
}

/** The door's lock (HUB_LOCK_UNKNOWN when none is commissioned onto it). */
export async function doorLockView(
  ctx: HubContext,
  locks: LockService | null,
  doorId: string,
): Promise<LockView> {
  const [view] = await lockViews(ctx, locks, { doorId });
  if (view === undefined) throw new LatchkeyError("HUB_LOCK_UNKNOWN", "this door has no commissioned lock");
  return view;
}

/** The lock just commissioned onto the door (its absence is the hub's own fault). */
export async function commissionedLockView(
  ctx: HubContext,
  locks: LockService,
  doorId: string,
): Promise<LockView> {
  const [view] = await lockViews(ctx, locks, { doorId });
  if (view === undefined) throw new LatchkeyError("LK_INTERNAL", "commissioned lock not found");
  return view;
}

/** Every lock of the site (the fleet). */
export function siteLockViews(
  ctx: HubContext,
  locks: LockService | null,
  siteId: string,
): Promise<LockView[]> {
  return lockViews(ctx, locks, { siteId });
}

/** Where a credential stands on each lock, by lock id. */
export async function credentialSyncStates(
  ctx: HubContext,
  credentialId: string,
): Promise<CredentialSyncState[]> {
  const rows = await allTables(ctx.db)
    .selectFrom("credential_sync")
    .innerJoin("locks", "locks.id", "credential_sync.lock_id")
    .select([
      "credential_sync.lock_id as lockId",
      "locks.door_id as doorId",
      "credential_sync.state as state",
      "credential_sync.reason as reason",
      "credential_sync.attempts as attempts",
      "credential_sync.next_attempt_at as nextAttemptAt",
      "credential_sync.updated_at as updatedAt",
    ])
    .where("credential_sync.credential_id", "=", credentialId)
    .orderBy("credential_sync.lock_id")
    .execute();
  return rows.map((r) => ({
    lockId: r.lockId,
    doorId: r.doorId,
    state: r.state as SyncStateName,
    reason: r.reason,
    attempts: Number(r.attempts),
    nextAttemptAt:
      r.state === "failed" || r.state === "pending" || r.state === "removing"
        ? Math.min(Number(r.nextAttemptAt), MAX_EPOCH_MS)
        : null,
    updatedAt: Number(r.updatedAt),
  }));
}
