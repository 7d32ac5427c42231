/**
 * The hub's side of its locks: commissioning a waiting lock onto a door (PAKE over the setup
 * code, then recording its identity and an owner-signed commissioning record), admitting it to
 * the broker with a password both sides derive from their Noise keys, and the sync engine that
 * keeps every lock in step. `buildHub` creates one and routes reach it through the context.
 */
import { randomBytes } from "node:crypto";
import type { Kysely } from "kysely";
import {
  concatBytes,
  deriveBrokerPassword,
  encodeCommissioningRecordBody,
  epochMs,
  fromHex,
  isLatchkeyError,
  LatchkeyError,
  lockIdToBytes,
  toHex,
  type LockId,
} from "@latchkey/protocol";
import { nodeX25519 } from "@latchkey/protocol/node";
import { LockClient } from "../drivers/latchkey/lock-client.js";
import type { Logger } from "pino";
import type { HubDatabase } from "../db/schema.js";
import type { HubSecret } from "../keys/hub-secret.js";
import type { HubContext } from "../runtime/context.js";
import type { DeviceGateway } from "../gateway/device-gateway.js";
import { registerLock } from "../ingest/locks.js";
import type { SyncEngine } from "../sync/engine.js";
import { siteOwnerKey } from "../keys/site-keys.js";
import type { CommissioningLobby, LockClaim, WaitingLock } from "./lobby.js";
import { allTables } from "../db/access.js";

export interface LedgerIdentity {
  readonly origin: string;
  readonly publicKey: Uint8Array;
}

export interface LockServiceOptions {
  readonly db: Kysely<HubDatabase>;
  readonly secret: HubSecret;
  readonly gateway: DeviceGateway;
  readonly lobby: CommissioningLobby;
  readonly engine: SyncEngine;
  readonly ledger: LedgerIdentity;
  readonly now: () => number;
  readonly log: Logger;
  /** How long a commissioning exchange may take (PBKDF2 on both sides; default 60 s). */
  readonly commissionTimeoutMs?: number;
}

export interface CommissionedLockInfo {
  readonly lockId: string;
  readonly doorId: string;
  readonly commissionedAt: number;
}

/** The broker password of a lock, from the hub's Noise secret and the lock's channel key. */
export function lockBrokerPassword(
  hubNoiseSecret: Uint8Array,
  lockId: string,
  channelPublicKeyHex: string,
): string {
  return deriveBrokerPassword({
    x25519: nodeX25519,
    secretKey: hubNoiseSecret,
    publicKey: fromHex(channelPublicKeyHex),
    lockId: lockIdToBytes(lockId as LockId),
  });
}

/**
 * Broker passwords for the embedded broker, which asks synchronously: a cache of each admitted
 * lock's channel key, filled at start and on every commissioning.
 */
export class LockPasswords {
  readonly #channelKeys = new Map<string, string>();
  /** Never matches anything a lock can send (used for unknown ids). */
  readonly #nobody = randomBytes(32).toString("base64url");

  constructor(private readonly hubNoiseSecret: Uint8Array) {}

  remember(lockId: string, channelPublicKeyHex: string): void {
    this.#channelKeys.set(lockId, channelPublicKeyHex);
  }

  forget(lockId: string): void {
    this.#channelKeys.delete(lockId);
  }

  password(lockId: string): string {
    const key = this.#channelKeys.get(lockId);
    return key === undefined ? this.#nobody : lockBrokerPassword(this.hubNoiseSecret, lockId, key);
  }

  /** Loads every commissioned lock bound to a door. */
  static async load(db: Kysely<HubDatabase>, hubNoiseSecret: Uint8Array): Promise<LockPasswords> {
    const p = new LockPasswords(hubNoiseSecret);
    const rows = await db
      .selectFrom("locks")
      .select(["id", "channel_public_key"])
      .where("door_id", "is not", null)
      .where("channel_public_key", "is not", null)
      .execute();
    for (const r of rows) p.remember(r.id, r.channel_public_key ?? "");
    return p;
  }

  lockIds(): LockId[] {
    return [...this.#channelKeys.keys()] as LockId[];
  }
}

/** Failures in the order that best explains them: a lock's own answer before a silence. */
const FAILURE_RANK = ["COMM_CONFIRMATION_FAILED", "COMM_LOCKED_OUT", "LOCK_LINK_TIMEOUT"];

function failureRank(e: unknown): number {
  const code = isLatchkeyError(e) ? e.code : "LK_INTERNAL";
  const i = FAILURE_RANK.indexOf(code);
  return i === -1 ? (code === "LK_INTERNAL" ? FAILURE_RANK.length + 1 : FAILURE_RANK.length) : i;
}

/**
 * Runs `attempt` on every claimed session at once and resolves with the first to complete; the
 * others are abandoned by the caller's release. Rejects, once all have failed, with the failure
 * that says most (a refusal from a lock rather than a silence).
 */
async function firstToComplete<T>(
  claims: readonly LockClaim[],
  attempt: (c: LockClaim) => Promise<T>,
): Promise<T> {
  try {
    return await Promise.any(claims.map((c) => attempt(c)));
  } catch (e) {
    const errors = e instanceof AggregateError ? (e.errors as unknown[]) : [e];
    throw errors.reduce((best, x) => (failureRank(x) < failureRank(best) ? x : best));
  }
}

export class LockService {
  constructor(readonly opts: LockServiceOptions & { readonly passwords: LockPasswords }) {}

  get engine(): SyncEngine {
    return this.opts.engine;
  }

  /**
   * Locks waiting to be commissioned, without any lock already commissioned onto a door: anyone
   * can announce a lock id (it is printed on the label), and a replayed announcement of a lock in
   * service must not look like a new lock waiting.
   */
  async waiting(): Promise<WaitingLock[]> {
    const announced = this.opts.lobby.waiting();
    if (announced.length === 0) return announced;
    const commissioned = await this.opts.db
      .selectFrom("locks")
      .select("id")
      .where(
        "id",
        "in",
        announced.map((w) => w.lockId),
      )
      .where("door_id", "is not", null)
      .execute();
    const inService = new Set(commissioned.map((r) => r.id));
    return announced.filter((w) => !inService.has(w.lockId));
  }

  /**
   * Commissions the waiting lock (`lockId`, or the only one waiting) onto `doorId` with its setup
   * code. Nothing is stored unless the lock completes the exchange.
   */
  async commission(o: { doorId: string; setupCode: string; lockId?: string }): Promise<CommissionedLockInfo> {
    const { db, secret, lobby, now, log } = this.opts;
    const door = await db
      .selectFrom("doors")
      .innerJoin("sites", "sites.id", "doors.site_id")
      .select([
        "doors.id as id",
        "doors.name as name",
        "doors.site_id as siteId",
        "sites.timezone as timeZone",
      ])
      .where("doors.id", "=", o.doorId)
      .executeTakeFirstOrThrow();
    const bound = await db
      .selectFrom("locks")
      .select("id")
      .where("door_id", "=", o.doorId)
      .executeTakeFirst();
    if (bound !== undefined)
      throw new LatchkeyError("HUB_DOOR_HAS_LOCK", "this door already has a lock; remove it first", {
        lockId: bound.id,
      });
    const waiting = (await this.waiting()).filter(
      (w) => o.lockId === undefined || w.lockId === o.lockId.toLowerCase(),
    );
    if (waiting.length === 0)
      throw new LatchkeyError(
        "HUB_COMMISSION_NO_LOCK",
        o.lockId === undefined
          ? "no lock is waiting to be commissioned; power it on (or factory-reset it) and make sure it reaches this hub"
          : `lock ${o.lockId} is not waiting to be commissioned`,
      );
    if (waiting.length > 1 && o.lockId === undefined)
      throw new LatchkeyError(
        "HUB_COMMISSION_AMBIGUOUS",
        `${waiting.length} locks are waiting; name one by its lock id`,
        {
          waiting: waiting.length,
        },
      );
    const target = waiting[0] as WaitingLock;
    // Every session announcing this id is tried at once: only the real lock can finish the PAKE
    // (a replay or a forgery on another session cannot), so a fake cannot make us pick it.
    const claims = lobby.claimAll(target.lockId);
    if (claims.length === 0)
      throw new LatchkeyError(
        "HUB_COMMISSION_NO_LOCK",
        `lock ${target.lockId} is being commissioned already`,
      );
    const owner = await siteOwnerKey(db, secret, door.siteId, now());
    const hubNoise = secret.noiseStaticSecret();
    let identity;
    try {
      identity = await firstToComplete(claims, (claim) =>
        LockClient.commission(claim.transport, {
          setupCode: o.setupCode,
          hubKeys: {
            ownerSigningPublicKey: owner.publicKey,
            hubStaticPublicKey: nodeX25519.publicKey(hubNoise),
          },
          timeoutMs: this.opts.commissionTimeoutMs ?? 60_000,
        }),
      );
    } catch (e) {
      const why = isLatchkeyError(e) ? e.code : "LK_INTERNAL";
      log.warn({ lockId: target.lockId, reason: why, sessions: claims.length }, "commissioning failed");
      const others =
        claims.length > 1
          ? ` (${claims.length} devices announced this lock id; at most one of them is the lock)`
          : "";
      throw new LatchkeyError(
        "HUB_COMMISSION_FAILED",
        (why === "COMM_CONFIRMATION_FAILED"
          ? "the setup code is wrong (the lock counts wrong tries and locks out after five)"
          : why === "COMM_LOCKED_OUT"
            ? "the lock is locked out after wrong setup codes; wait and try again"
            : why === "LOCK_LINK_TIMEOUT"
              ? "the lock did not answer in time"
              : `the lock refused commissioning (${why})`) + others,
        { reason: why, ...(claims.length > 1 ? { announcers: claims.length } : {}) },
      );
    } finally {
      for (const claim of claims) claim.release();
      hubNoise.fill(0);
    }
    const lockId = toHex(identity.lockId);
    if (lockId !== target.lockId)
      log.warn(
        { announced: target.lockId, proved: lockId },
        "a lock announced one id and proved another; recording the proved one",
      );
    const commissionedAt = now();
    const record = encodeCommissioningRecordBody({
      lockId: identity.lockId,
      lockSigningKey: identity.signingPublicKey,
      ownerKey: owner.publicKey,
      ledgerKey: this.opts.ledger.publicKey,
      commissionedAtMs: epochMs(commissionedAt),
      ledgerOrigin: this.opts.ledger.origin,
      doorName: door.name.slice(0, 128) || "Door",
      timeZone: door.timeZone,
    });
    const signedRecord = concatBytes(record, owner.sign(record));
    const channelHex = toHex(identity.channelPublicKey);
    await db.transaction().execute(async (trx) => {
      const existing = await trx
        .selectFrom("locks")
        .select(["id", "door_id"])
        .where("id", "=", lockId)
        .executeTakeFirst();
      if (existing === undefined) {
        await registerLock(trx, {
          signingPublicKey: identity.signingPublicKey,
          channelPublicKey: identity.channelPublicKey,
          doorId: o.doorId,
          commissionedAt,
        });
      }
      // A lock factory-reset and commissioned again keeps its identity and its event history.
      await trx
        .updateTable("locks")
        .set({
          door_id: o.doorId,
          site_id: door.siteId,
          channel_public_key: channelHex,
          commissioning_record: toHex(signedRecord),
          commissioned_at: commissionedAt,
          state_json: null,
        })
        .where("id", "=", lockId)
        .execute();
      await trx
        .updateTable("doors")
        .set({ lock_id: lockId, lock_public_key: channelHex })
        .where("id", "=", o.doorId)
        .execute();
      // A recommissioned lock is empty: everything the hub had set there must be sent again.
      await trx.updateTable("lock_users").set({ applied_json: null }).where("lock_id", "=", lockId).execute();
      await trx
        .updateTable("credential_sync")
        .set({ state: "pending", attempts: 0, next_attempt_at: 0 })
        .where("lock_id", "=", lockId)
        .where("state", "in", ["set", "sending", "failed", "removing"])
        .execute();
    });
    this.opts.passwords.remember(lockId, channelHex);
    this.opts.gateway.admitLock(lockId as LockId);
    log.info({ lockId, doorId: o.doorId }, "lock commissioned");
    this.opts.engine.kickLock(door.siteId, lockId);
    return { lockId, doorId: o.doorId, commissionedAt };
  }

  /**
   * Locks the door's bolt now (a remote lock; no person's authority needed to make a door safer).
   * HUB_LOCK_UNKNOWN without a lock, HUB_LOCK_OFFLINE when it does not answer; otherwise the
   * lock's own result ("OK", or why it refused).
   */
  async lockDoor(doorId: string): Promise<string> {
    const lock = await this.opts.db
      .selectFrom("locks")
      .select("id")
      .where("door_id", "=", doorId)
      .executeTakeFirst();
    if (lock === undefined) throw new LatchkeyError("HUB_LOCK_UNKNOWN", "this door has no commissioned lock");
    const result = await this.opts.engine.withSession(lock.id, (session) => session.remoteLock());
    // The bolt moved (or not): the next pass reads the lock's condition again.
    this.opts.engine.agent(lock.id).refreshState();
    return result;
  }

  /** Unbinds a lock from its door and refuses it on the broker (its events stay in the ledger). */
  async remove(lockId: string): Promise<void> {
    const { db } = this.opts;
    await db.transaction().execute(async (trx) => {
      await trx
        .updateTable("doors")
        .set({ lock_id: null, lock_public_key: null })
        .where("lock_id", "=", lockId)
        .execute();
      await trx.updateTable("locks").set({ door_id: null }).where("id", "=", lockId).execute();
      await trx.deleteFrom("credential_sync").where("lock_id", "=", lockId).execute();
      await trx.deleteFrom("lock_users").where("lock_id", "=", lockId).execute();
    });
    this.opts.passwords.forget(lockId);
    this.opts.gateway.revokeLock(lockId as LockId);
    await this.opts.engine.agent(lockId).stop();
    await this.opts.engine.refreshCounts();
  }
}

/**
 * Removes the door's lock from the hub and returns its id (HUB_LOCK_UNKNOWN when the door has
 * none). `locks` gives the running lock service (it throws while the device gateway is down).
 */
export async function removeDoorLock(
  ctx: HubContext,
  locks: () => LockService,
  doorId: string,
): Promise<string> {
  const lock = await allTables(ctx.db)
    .selectFrom("locks")
    .select("id")
    .where("door_id", "=", doorId)
    .executeTakeFirst();
  if (lock === undefined) throw new LatchkeyError("HUB_LOCK_UNKNOWN", "this door has no commissioned lock");
  await locks().remove(lock.id);
  return lock.id;
}

/**
 * Retries now wherever the credential is failed or waiting (on `lockId` only, when given),
 * resetting each lock's breaker; returns on how many locks a retry started. `locks` gives the
 * running lock service, needed only when there is something to retry.
 */
export async function retryCredentialSync(
  ctx: HubContext,
  locks: () => LockService,
  credentialId: string,
  lockId?: string,
): Promise<number> {
  let q = allTables(ctx.db)
    .selectFrom("credential_sync")
    .select("lock_id")
    .where("credential_id", "=", credentialId)
    .where("state", "in", ["failed", "pending", "removing"]);
  if (lockId !== undefined) q = q.where("lock_id", "=", lockId.toLowerCase());
  const rows = await q.execute();
  let retried = 0;
  for (const r of rows) if (await locks().engine.retry(credentialId, r.lock_id)) retried++;
  return retried;
}
