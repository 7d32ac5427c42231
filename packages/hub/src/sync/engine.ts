/**
 * The sync engine: one agent per commissioned lock drives that lock toward the desired state the
 * hub database holds (reconcile.ts), over a Noise KK session carried by the device gateway.
 *
 * An agent works only while its lock is connected, one request at a time, in this order:
 * read the lock's state (battery, bolt, door, clock — the clock is set when it drifts), pull and
 * ingest its signed events (verify → ledger → acknowledge), take away what should go, set up
 * user slots and schedules, then send credentials. Every credential × lock row is persisted
 * before and after each step (`sending` is written before the request leaves), so a hub killed at
 * any point resumes where it was: a `sending` row is simply sent again (SetCredential on the
 * same slot is idempotent on the lock).
 *
 * Failure handling is per lock: a refusal marks the row failed(reason) and retries it with
 * exponential backoff; an unreachable lock leaves rows pending; after `breakerThreshold`
 * consecutive failures the lock's breaker opens and the agent rests for a cool-down that doubles
 * up to `maxBreakerCooldownMs`. Agents never wait on each other, so one failing or offline lock
 * never holds up the rest.
 */
import type { Kysely } from "kysely";
import {
  CLEAR_ALL_SCHEDULES,
  checkpointTextHash,
  parseNote,
  decodeSignedLockEvent,
  EventKind,
  fromHex,
  isLatchkeyError,
  LatchkeyError,
  lockIdToBytes,
  UserStatus,
  UserType as WireUserType,
  CredentialRule,
  CredentialType as WireCredentialType,
  type LockId,
  type MessageOf,
} from "@latchkey/protocol";
import { LockClient, LockRefusal } from "@latchkey/lock";
import type { Logger } from "pino";
import type { HubDatabase, CredentialSyncTable, LockUserTable } from "../db/schema.js";
import type { DeviceGateway } from "../gateway/device-gateway.js";
import type { Ingestor } from "../ingest/ingest.js";
import { AlertKind, insertAlerts } from "../ingest/alerts.js";
import type { DesiredUser } from "./desired.js";
import {
  hasWorkToDo,
  locksOfSite,
  locksWithDueRows,
  reconcileSite,
  sitesWithLocks,
  SYNC_STATES,
  SyncState,
} from "./reconcile.js";
import { revocationVersion as revocationVersion_, signedRevocationList } from "./revocation.js";
import type { HubSecret } from "../keys/hub-secret.js";

export interface SyncPolicy {
  /** Per request to a lock (default 10 s). */
  readonly requestTimeoutMs: number;
  readonly baseBackoffMs: number;
  readonly maxBackoffMs: number;
  /** Consecutive failures on one lock that open its breaker. */
  readonly breakerThreshold: number;
  readonly breakerCooldownMs: number;
  readonly maxBreakerCooldownMs: number;
  /** How often grants are re-evaluated (a grant expiring needs no request to take effect). */
  readonly reconcileEveryMs: number;
  /**
   * How often a connected lock's state is read and its events pulled when it pushes nothing (a
   * push triggers both at once). This is the clock check and the safety net for a lost push;
   * each agent spreads it by ±10 % so a fleet's reads do not bunch up.
   */
  readonly stateEveryMs: number;
  /** Clock difference above which the hub sets the lock's clock. */
  readonly clockToleranceMs: number;
  /**
   * How often a connected lock is asked to acknowledge the latest ledger checkpoint (and once
   * per connection). Each acknowledgement is itself a signed event, so this bounds the churn.
   */
  readonly checkpointAckEveryMs: number;
}

/** Sync state counts (metrics) are re-read at most this often. */
const COUNTS_EVERY_MS = 1_000;
/** A change to a site is reconciled this long after the last one in a burst… */
const KICK_DEBOUNCE_MS = 100;
/** …but never later than this after the first. */
const KICK_MAX_DELAY_MS = 1_000;

export const DEFAULT_SYNC_POLICY: SyncPolicy = {
  requestTimeoutMs: 10_000,
  baseBackoffMs: 1_000,
  maxBackoffMs: 5 * 60_000,
  breakerThreshold: 5,
  breakerCooldownMs: 30_000,
  maxBreakerCooldownMs: 10 * 60_000,
  reconcileEveryMs: 30_000,
  stateEveryMs: 5 * 60_000,
  clockToleranceMs: 2_000,
  checkpointAckEveryMs: 15 * 60_000,
};

export interface SyncEngineOptions {
  readonly db: Kysely<HubDatabase>;
  readonly gateway: DeviceGateway;
  /** The hub's X25519 static secret (Noise KK). */
  readonly hubStaticSecretKey: Uint8Array;
  readonly ingestor: Ingestor;
  /** Signs revocation lists with the site's owner key (absent: lists are not pushed). */
  readonly secret?: HubSecret;
  /** The ledger whose checkpoints locks co-sign (CheckpointAck events). */
  readonly checkpoints?: { latestCheckpoint(): Promise<{ size: number; note: string } | undefined> };
  /** The hub's clock: lock clocks are set from it, timestamps come from it. */
  readonly now: () => number;
  readonly log: Logger;
  readonly policy?: Partial<SyncPolicy>;
}

/** What the hub last learned of a lock's condition (from its StateReport). */
export interface LockCondition {
  readonly lockState: number | null;
  readonly doorState: number | null;
  readonly operatingMode: number | null;
  readonly batteryPercent: number | null;
  readonly firmwareVersion: string;
  readonly lastSeq: number;
  readonly revocationVersion: number;
  readonly appliedTimeZone: string | null;
}

type Row = CredentialSyncTable;

class TransportFailure extends Error {}

export class SyncEngine {
  readonly policy: SyncPolicy;
  readonly #agents = new Map<string, LockAgent>();
  readonly #counts = new Map<string, number>();
  readonly #reconciling = new Map<string, Promise<void>>();
  readonly #kicks = new Map<string, { timer: NodeJS.Timeout; first: number }>();
  readonly #reconcileAgain = new Map<string, Promise<void>>();
  /** Each lock's clock minus the hub's at its last state report, in ms (before any correction). */
  readonly clockDrift = new Map<string, number>();
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;
  #countsAt = 0;
  #countsNext: Promise<void> | null = null;
  readonly #unsubscribe: (() => void)[] = [];

  constructor(readonly opts: SyncEngineOptions) {
    this.policy = { ...DEFAULT_SYNC_POLICY, ...opts.policy };
  }

  async start(): Promise<void> {
    const onUp = (lockId: LockId): void => this.agent(lockId).wake();
    const onDown = (lockId: LockId): void => {
      this.#agents.get(lockId)?.disconnected();
      // "Last seen" is when it went away, not its last periodic state read.
      this.opts.db
        .updateTable("locks")
        .set({ last_seen_at: this.opts.now() })
        .where("id", "=", lockId)
        .execute()
        .catch((e: unknown) =>
          this.opts.log.error({ err: e, lockId }, "recording a lock's last contact failed"),
        );
    };
    this.opts.gateway.on("lockConnected", onUp);
    this.opts.gateway.on("lockDisconnected", onDown);
    this.#unsubscribe.push(
      () => this.opts.gateway.off("lockConnected", onUp),
      () => this.opts.gateway.off("lockDisconnected", onDown),
    );
    await this.reconcileAll();
    for (const id of this.opts.gateway.connectedLocks()) this.agent(id).wake();
    this.#timer = setInterval(() => {
      this.reconcileAll().catch((e: unknown) => this.opts.log.error({ err: e }, "sync reconcile failed"));
    }, this.policy.reconcileEveryMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== null) clearInterval(this.#timer);
    for (const k of this.#kicks.values()) clearTimeout(k.timer);
    this.#kicks.clear();
    for (const u of this.#unsubscribe) u();
    await Promise.all([...this.#agents.values()].map((a) => a.stop()));
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  agent(lockId: string): LockAgent {
    let a = this.#agents.get(lockId);
    if (a === undefined) {
      a = new LockAgent(this, lockId as LockId);
      this.#agents.set(lockId, a);
    }
    return a;
  }

  /** Pushes a site's new revocation list at once: its locks read their state on their next pass. */
  async revocationChanged(siteId: string): Promise<void> {
    const locks = await locksOfSite(this.opts.db, siteId).select("locks.id as id").execute();
    for (const l of locks) this.agent(l.id).refreshState();
  }

  /**
   * Re-reads grants of one site (after an API change) and wakes the locks whose rows moved.
   * Coalesced per site: calls that arrive while one runs share a single follow-up run, so a
   * burst of changes (a thousand doors added) costs a few passes, not a thousand.
   */
  reconcile(siteId: string): Promise<void> {
    const running = this.#reconciling.get(siteId);
    if (running !== undefined) {
      let again = this.#reconcileAgain.get(siteId);
      if (again === undefined) {
        again = running
          .catch(() => undefined)
          .then(() => {
            this.#reconcileAgain.delete(siteId);
            return this.reconcile(siteId);
          });
        this.#reconcileAgain.set(siteId, again);
      }
      return again;
    }
    const run = (async () => {
      try {
        const changed = await reconcileSite(this.opts.db, siteId, this.opts.now());
        for (const id of changed) this.agent(id).wake();
        await this.refreshCounts();
      } finally {
        this.#reconciling.delete(siteId);
      }
    })();
    this.#reconciling.set(siteId, run);
    return run;
  }

  /** Fire-and-forget form for request handlers: the response never waits on locks. */
  kick(siteId: string): void {
    if (this.#stopped) return;
    // Debounced per site: a burst of changes (a thousand doors added in a row) becomes one
    // reconcile shortly after it, but never later than KICK_MAX_DELAY_MS after the first change.
    const now = Date.now();
    const pending = this.#kicks.get(siteId);
    if (pending !== undefined) clearTimeout(pending.timer);
    const first = pending?.first ?? now;
    const delay = Math.max(0, Math.min(KICK_DEBOUNCE_MS, first + KICK_MAX_DELAY_MS - now));
    const timer = setTimeout(() => {
      this.#kicks.delete(siteId);
      this.reconcile(siteId).catch((e: unknown) =>
        this.opts.log.error({ err: e, siteId }, "sync reconcile failed"),
      );
    }, delay);
    timer.unref();
    this.#kicks.set(siteId, { timer, first });
  }

  /** Reconciles one lock (a lock just commissioned): no need to revisit the rest of its site. */
  kickLock(siteId: string, lockId: string): void {
    reconcileSite(this.opts.db, siteId, this.opts.now(), new Set([lockId]))
      .then(async (changed) => {
        for (const id of changed) this.agent(id).wake();
        this.agent(lockId).wake();
        await this.refreshCounts();
      })
      .catch((e: unknown) => this.opts.log.error({ err: e, siteId, lockId }, "sync reconcile failed"));
  }

  async reconcileAll(): Promise<void> {
    for (const siteId of await sitesWithLocks(this.opts.db)) await this.reconcile(siteId);
    // Agents wake themselves for their own retries and state reads; this is the safety net for a
    // retry that came due without a timer (rows changed by another hub sharing the database).
    // Only locks with due work are woken: a pass per connected lock every 30 s is 330 passes a
    // second on a 10,000-lock hub, nearly all of them for nothing.
    const { gateway } = this.opts;
    for (const id of await locksWithDueRows(this.opts.db, Date.now()))
      if (gateway.isConnected(id as LockId)) this.agent(id).wake();
  }

  /** The largest clock difference seen at the last state report of any lock, in seconds. */
  maxClockDriftSeconds(): number {
    let max = 0;
    for (const d of this.clockDrift.values()) max = Math.max(max, Math.abs(d));
    return max / 1000;
  }

  /** Rows per state, for `latchkey_credential_sync{state}` (refreshed after every change). */
  counts(): Readonly<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const s of SYNC_STATES) out[s] = this.#counts.get(s) ?? 0;
    return out;
  }

  /**
   * Refreshes the per-state counts soon: at most once a second, since each refresh scans
   * credential_sync and every lock's pass asks for one (on a 10,000-lock site that scan per pass
   * was quadratic work). Resolves when the refresh that covers this call is done.
   */
  refreshCounts(): Promise<void> {
    if (this.#countsNext !== null) return this.#countsNext;
    const wait = Math.max(0, this.#countsAt + COUNTS_EVERY_MS - Date.now());
    this.#countsNext = new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#countsNext = null;
        this.#countsAt = Date.now();
        if (this.#stopped) return resolve();
        this.#readCounts()
          .catch((e: unknown) => this.opts.log.error({ err: e }, "sync state counts failed"))
          .finally(resolve);
      }, wait);
      timer.unref();
    });
    return this.#countsNext;
  }

  async #readCounts(): Promise<void> {
    const rows = await this.opts.db
      .selectFrom("credential_sync")
      .select(["state", (eb) => eb.fn.countAll<number>().as("n")])
      .groupBy("state")
      .execute();
    this.#counts.clear();
    for (const r of rows) this.#counts.set(r.state, Number(r.n));
  }

  /** Moves one failed row back to pending now (the "retry" button). */
  async retry(credentialId: string, lockId: string): Promise<boolean> {
    const r = await this.opts.db
      .updateTable("credential_sync")
      .set({ next_attempt_at: 0, updated_at: this.opts.now() })
      .where("credential_id", "=", credentialId)
      .where("lock_id", "=", lockId)
      .where("state", "in", [SyncState.Failed, SyncState.Pending, SyncState.Removing])
      .executeTakeFirst();
    const a = this.#agents.get(lockId);
    if (a !== undefined) {
      a.resetBreaker();
      a.wake();
    }
    return Number(r.numUpdatedRows) > 0;
  }

  /**
   * Runs `fn` on the lock's session, in turn with the lock's sync work (never concurrently with
   * it). Throws HUB_LOCK_OFFLINE when the lock is not connected.
   */
  withClient<T>(lockId: string, fn: (client: LockClient) => Promise<T>): Promise<T> {
    return this.agent(lockId).withClient(fn);
  }

  isOnline(lockId: string): boolean {
    return this.#agents.get(lockId)?.online === true;
  }

  breakerOpenUntil(lockId: string): number | null {
    return this.#agents.get(lockId)?.breakerUntil ?? null;
  }
}

/** Backoff for the n-th attempt (1-based): base·2^(n-1), capped, with ±20 % jitter. */
export function backoffMs(attempt: number, p: Pick<SyncPolicy, "baseBackoffMs" | "maxBackoffMs">): number {
  const raw = Math.min(p.maxBackoffMs, p.baseBackoffMs * 2 ** Math.max(0, Math.min(30, attempt - 1)));
  return Math.round(raw * (0.8 + Math.random() * 0.4));
}

export class LockAgent {
  #client: LockClient | null = null;
  #running = false;
  #again = false;
  #timer: NodeJS.Timeout | null = null;
  /** When #timer fires (Infinity: no timer). */
  #timerAt = Number.POSITIVE_INFINITY;
  #failures = 0;
  #breakerTrips = 0;
  breakerUntil: number | null = null;
  #lastStateAt = 0;
  #lastPullAt = 0;
  /** This agent's state-read period: the policy's, spread ±10 % so a fleet's reads do not bunch up. */
  readonly #stateEveryMs: number;
  #checkpointAckAt = 0;
  #checkpointAckSize = -1;
  #idle: Promise<void> = Promise.resolve();
  /** Serializes passes and `withClient` calls: one request at a time per lock. */
  #chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly engine: SyncEngine,
    readonly lockId: LockId,
  ) {
    this.#stateEveryMs = Math.round(engine.policy.stateEveryMs * (0.9 + Math.random() * 0.2));
  }

  get online(): boolean {
    return this.#client !== null;
  }

  /** Runs a pass soon (coalesced: a pass in progress runs once more). */
  wake(): void {
    if (this.engine.stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = true;
    this.#idle = this.#loop().finally(() => {
      this.#running = false;
    });
  }

  /** Reads the lock's state (and pushes what depends on it) on the next pass, which starts now. */
  refreshState(): void {
    this.#lastStateAt = 0;
    this.wake();
  }

  disconnected(): void {
    this.#client?.close();
    this.#client = null;
    // Nothing to do until it is back (reconnecting wakes the agent).
    this.#clearTimer();
  }

  resetBreaker(): void {
    this.breakerUntil = null;
    this.#failures = 0;
  }

  async stop(): Promise<void> {
    this.#clearTimer();
    this.#client?.close();
    this.#client = null;
    await this.#idle.catch(() => undefined);
  }

  /** Runs a pass at `at` (ms, Date.now clock) unless one is already due earlier. */
  #wakeAt(at: number): void {
    if (this.#timer !== null && this.#timerAt <= at) return;
    this.#clearTimer();
    const delay = Math.max(10, at - Date.now());
    this.#timerAt = Date.now() + delay;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#timerAt = Number.POSITIVE_INFINITY;
      this.wake();
    }, delay);
    this.#timer.unref();
  }

  #clearTimer(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#timerAt = Number.POSITIVE_INFINITY;
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(fn, fn);
    this.#chain = run.catch(() => undefined);
    return run;
  }

  withClient<T>(fn: (client: LockClient) => Promise<T>): Promise<T> {
    return this.#exclusive(async () => {
      const offline = (): LatchkeyError =>
        new LatchkeyError("HUB_LOCK_OFFLINE", "the lock is not connected to the hub", {
          lockId: this.lockId,
        });
      if (!this.engine.opts.gateway.isConnected(this.lockId)) throw offline();
      let client = this.#client;
      if (client === null) {
        const lock = await this.engine.opts.db
          .selectFrom("locks")
          .select("channel_public_key")
          .where("id", "=", this.lockId)
          .where("door_id", "is not", null)
          .executeTakeFirst();
        if (lock === undefined || lock.channel_public_key === null) throw offline();
        try {
          client = await this.#connect(lock.channel_public_key);
        } catch {
          throw offline();
        }
      }
      return fn(client);
    });
  }

  async #loop(): Promise<void> {
    do {
      this.#again = false;
      try {
        await this.#exclusive(() => this.#pass());
      } catch (e) {
        this.#failed(e);
      }
    } while (this.#again && !this.engine.stopped);
  }

  #failed(e: unknown): void {
    const { log } = this.engine.opts;
    if (!(e instanceof TransportFailure)) log.error({ err: e, lockId: this.lockId }, "sync pass failed");
    else log.warn({ lockId: this.lockId, err: e.message }, "lock unreachable");
    this.#client?.close();
    this.#client = null;
    this.#countFailure();
  }

  #countFailure(): void {
    this.#failures++;
    if (this.#failures >= this.engine.policy.breakerThreshold) {
      const p = this.engine.policy;
      const cooldown = Math.min(p.maxBreakerCooldownMs, p.breakerCooldownMs * 2 ** this.#breakerTrips);
      this.#breakerTrips++;
      this.#failures = 0;
      this.breakerUntil = Date.now() + cooldown;
      this.engine.opts.log.warn({ lockId: this.lockId, cooldownMs: cooldown }, "lock breaker open");
      this.#wakeAt(this.breakerUntil);
    } else if (this.engine.opts.gateway.isConnected(this.lockId)) {
      this.#wakeAt(Date.now() + backoffMs(this.#failures, this.engine.policy));
    }
  }

  #succeeded(): void {
    this.#failures = 0;
    this.#breakerTrips = 0;
  }

  async #pass(): Promise<void> {
    const { gateway } = this.engine.opts;
    if (!gateway.isConnected(this.lockId)) {
      this.disconnected();
      return;
    }
    if (this.breakerUntil !== null) {
      if (Date.now() < this.breakerUntil) return this.#wakeAt(this.breakerUntil);
      this.breakerUntil = null;
    }
    const lock = await this.engine.opts.db
      .selectFrom("locks")
      .innerJoin("doors", "doors.id", "locks.door_id")
      .innerJoin("sites", "sites.id", "doors.site_id")
      .select([
        "locks.channel_public_key as channel",
        "locks.signing_public_key as signing",
        "locks.state_json as stateJson",
        "sites.timezone as timeZone",
        "sites.id as siteId",
      ])
      .where("locks.id", "=", this.lockId)
      .executeTakeFirst();
    if (lock === undefined || lock.channel === null) return; // not (or no longer) ours
    const client = this.#client ?? (await this.#connect(lock.channel));
    await this.#state(client, lock.timeZone, lock.stateJson, lock.siteId);
    // Locks push their events; a pull (a round trip per lock) is the safety net for a lost push,
    // run on connect, after a push, and otherwise at the state-read cadence — not on every pass.
    if (Date.now() - this.#lastPullAt >= this.#stateEveryMs) {
      await this.#pullEvents(client, fromHex(lock.signing));
      this.#lastPullAt = Date.now();
    }
    if (await this.#acknowledgeCheckpoint(client)) await this.#pullEvents(client, fromHex(lock.signing));
    await this.#sync(client);
    this.#succeeded();
    // The next state read (clock check, safety-net pull) when nothing else wakes the agent first.
    this.#wakeAt(Math.min(this.#lastStateAt, this.#lastPullAt) + this.#stateEveryMs);
    void this.engine.refreshCounts();
  }

  async #connect(channelHex: string): Promise<LockClient> {
    const { gateway, hubStaticSecretKey } = this.engine.opts;
    try {
      const client = await LockClient.connectHub(gateway.openLockTransport(this.lockId), {
        hubStaticSecretKey,
        lock: { channelPublicKey: fromHex(channelHex), lockId: lockIdToBytes(this.lockId) },
        timeoutMs: this.engine.policy.requestTimeoutMs,
      });
      // A pushed event may be a bolt, door or battery change: read the state on this pass too.
      client.onPush(() => {
        this.#lastStateAt = 0;
        this.#lastPullAt = 0;
        this.wake();
      });
      client.connection.onClose(() => {
        if (this.#client === client) this.#client = null;
      });
      this.#client = client;
      this.#lastStateAt = 0;
      this.#lastPullAt = 0;
      this.#checkpointAckAt = 0;
      return client;
    } catch (e) {
      throw new TransportFailure(`handshake failed: ${(e as Error).message}`);
    }
  }

  /** A request whose failure to arrive (timeout, closed session) is a transport failure. */
  async #ask<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof LockRefusal) throw e;
      if (isLatchkeyError(e) && (e.code === "LOCK_LINK_TIMEOUT" || e.code.startsWith("NOISE_")))
        throw new TransportFailure(e.message);
      throw e;
    }
  }

  async #state(
    client: LockClient,
    timeZone: string,
    stateJson: string | null,
    siteId: string,
  ): Promise<void> {
    const { db, now } = this.engine.opts;
    const previous = stateJson === null ? null : (JSON.parse(stateJson) as Partial<LockCondition>);
    const due = Date.now() - this.#lastStateAt >= this.#stateEveryMs;
    if (!due && previous?.appliedTimeZone === timeZone) return;
    const report = await this.#ask(() => client.getState());
    const hubNow = now();
    let drift = report.lockTimeMs === null ? null : report.lockTimeMs - hubNow;
    if (drift === null) this.engine.clockDrift.delete(this.lockId);
    else this.engine.clockDrift.set(this.lockId, drift);
    if (drift === null || Math.abs(drift) > this.engine.policy.clockToleranceMs) {
      const code = await this.#ask(() => client.setTime(now(), 0));
      if (code === "OK") drift = 0;
    }
    let appliedTimeZone = previous?.appliedTimeZone ?? null;
    if (appliedTimeZone !== timeZone) {
      const code = await this.#ask(() => client.result({ kind: "SetTimeZone", timeZone }));
      if (code === "OK") appliedTimeZone = timeZone;
      else this.engine.opts.log.warn({ lockId: this.lockId, code }, "lock refused the site's time zone");
    }
    let revocationVersion = report.revocationVersion;
    const secret = this.engine.opts.secret;
    if (secret !== undefined && (await revocationVersion_(db, siteId)) > report.revocationVersion) {
      const current = await signedRevocationList(db, secret, siteId, now());
      if (current !== null) {
        const code = await this.#ask(() => client.installRevocationList(current.list));
        if (code === "OK") revocationVersion = current.version;
        else this.engine.opts.log.warn({ lockId: this.lockId, code }, "lock refused the revocation list");
      }
    }
    const condition: LockCondition = {
      lockState: report.lockState,
      doorState: report.doorState,
      operatingMode: report.operatingMode,
      batteryPercent: report.batteryPercent,
      firmwareVersion: report.firmwareVersion,
      lastSeq: report.lastSeq,
      revocationVersion,
      appliedTimeZone,
    };
    await db
      .updateTable("locks")
      .set({
        state_json: JSON.stringify(condition),
        state_at: hubNow,
        last_seen_at: hubNow,
        clock_drift_ms: drift,
      })
      .where("id", "=", this.lockId)
      .execute();
    this.#lastStateAt = Date.now();
  }

  /**
   * Asks the lock to co-sign the latest checkpoint: the lock journals a signed CheckpointAck,
   * which ingestion hands to the ledger, so the hub cannot fork history behind the lock's back.
   */
  async #acknowledgeCheckpoint(client: LockClient): Promise<boolean> {
    const source = this.engine.opts.checkpoints;
    if (source === undefined) return false;
    if (Date.now() - this.#checkpointAckAt < this.engine.policy.checkpointAckEveryMs) return false;
    const cp = await source.latestCheckpoint();
    // The empty tree's checkpoint has nothing to co-sign (and the wire needs a size ≥ 1).
    if (cp === undefined || cp.size < 1 || cp.size === this.#checkpointAckSize) return false;
    const hash = checkpointTextHash(parseNote(cp.note).text);
    await this.#ask(() => client.acknowledgeCheckpoint(cp.size, hash));
    this.#checkpointAckAt = Date.now();
    this.#checkpointAckSize = cp.size;
    return true;
  }

  async #pullEvents(client: LockClient, signingPublicKey: Uint8Array): Promise<void> {
    const { ingestor } = this.engine.opts;
    let batch = await this.#ask(() => client.expect({ kind: "EventBatch", records: [] }, "EventBatch"));
    let lastAck = -1;
    while (batch.records.length > 0) {
      const result = await ingestor.ingestBatch(
        { id: this.lockId, publicKey: signingPublicKey },
        batch.records,
      );
      await this.#detectDrift(batch.records);
      const ack = result.ack;
      if (ack === null || ack.seq <= lastAck) break;
      lastAck = ack.seq;
      batch = await this.#ask(() =>
        client.expect({ kind: "EventAck", upToSeq: ack.seq, hash: ack.hash }, "EventBatch"),
      );
    }
  }

  /**
   * Credential changes the lock reports that the hub did not make: reported as alerts, never
   * silently overwritten. A credential the hub believes set but the lock cleared is marked failed
   * ("removed at the lock"), so the owner sees it and can retry.
   */
  async #detectDrift(records: readonly Uint8Array[]): Promise<void> {
    const { db, now } = this.engine.opts;
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
        .where("lock_id", "=", this.lockId)
        .where("wire_type", "=", wireType)
        .where("credential_index", "=", index)
        .executeTakeFirst();
      const operation = event.details.operation;
      const ours = row !== undefined && (row.state === SyncState.Sending || row.state === SyncState.Set);
      if ((operation === "Add" || operation === "Modify") && !ours) {
        await insertAlerts(
          db,
          [
            {
              kind: AlertKind.SyncDrift,
              lockId: this.lockId,
              details: {
                seq: event.seq,
                credentialType: type,
                credentialIndex: index,
                change: "added at the lock",
              },
            },
          ],
          now(),
        );
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
          .where("lock_id", "=", this.lockId)
          .execute();
        await insertAlerts(
          db,
          [
            {
              kind: AlertKind.SyncDrift,
              lockId: this.lockId,
              details: {
                seq: event.seq,
                credentialType: type,
                credentialIndex: index,
                change: "removed at the lock",
              },
            },
          ],
          now(),
        );
      }
    }
  }

  async #sync(client: LockClient): Promise<void> {
    const { db } = this.engine.opts;
    const at = Date.now();
    const rows = await db
      .selectFrom("credential_sync")
      .selectAll()
      .where("lock_id", "=", this.lockId)
      .where(hasWorkToDo)
      // Least-tried first: a few refused rows must not starve the rest behind the breaker.
      .orderBy("attempts")
      .orderBy("credential_index")
      .execute();
    let nextDue = Number.POSITIVE_INFINITY;
    const due = rows.filter((r) => {
      if (Number(r.next_attempt_at) <= at) return true;
      nextDue = Math.min(nextDue, Number(r.next_attempt_at));
      return false;
    });
    for (const r of due.filter((r) => r.state === SyncState.Removing)) await this.#remove(client, r);
    const users = await db.selectFrom("lock_users").selectAll().where("lock_id", "=", this.lockId).execute();
    const userOk = new Map<number, string | null>();
    for (const u of users) {
      if (u.desired_json === u.applied_json) {
        userOk.set(Number(u.user_index), null);
        continue;
      }
      userOk.set(Number(u.user_index), await this.#applyUser(client, u));
    }
    for (const r of due.filter((r) => r.state !== SyncState.Removing)) {
      const refusal = userOk.get(Number(r.user_index));
      if (refusal !== null && refusal !== undefined) {
        await this.#mark(r, SyncState.Failed, refusal, Number(r.attempts) + 1);
        continue;
      }
      await this.#send(client, r);
    }
    if (Number.isFinite(nextDue)) this.#wakeAt(nextDue);
    const failed = await db
      .selectFrom("credential_sync")
      .select((eb) => eb.fn.min("next_attempt_at").as("next"))
      .where("lock_id", "=", this.lockId)
      .where("state", "in", [SyncState.Failed, SyncState.Pending, SyncState.Removing])
      .where("next_attempt_at", ">", at)
      .executeTakeFirst();
    const next = Number(failed?.next ?? NaN);
    if (Number.isFinite(next) && next < Number.MAX_SAFE_INTEGER) this.#wakeAt(next);
  }

  async #mark(
    r: Row,
    state: SyncState,
    reason: string | null,
    attempts: number,
    extra: Partial<Row> = {},
  ): Promise<void> {
    const { db, now } = this.engine.opts;
    const retryAt =
      state === SyncState.Failed ||
      (state === SyncState.Pending && attempts > 0) ||
      (state === SyncState.Removing && reason !== null)
        ? Date.now() + backoffMs(attempts, this.engine.policy)
        : Date.now();
    await db
      .updateTable("credential_sync")
      .set({ state, reason, attempts, next_attempt_at: retryAt, updated_at: now(), ...extra })
      .where("credential_id", "=", r.credential_id)
      .where("lock_id", "=", r.lock_id)
      .execute();
  }

  async #send(client: LockClient, r: Row): Promise<void> {
    if (r.sealed === null)
      return this.#mark(r, SyncState.Failed, "no sealed copy for this lock", Number(r.attempts));
    const attempts = Number(r.attempts) + 1;
    await this.#mark(r, SyncState.Sending, null, attempts);
    let code: string;
    try {
      code = await this.#ask(() =>
        client.result({
          kind: "SetCredential",
          credentialType: Number(r.wire_type) as MessageOf<"SetCredential">["credentialType"],
          credentialIndex: Number(r.credential_index),
          userIndex: Number(r.user_index),
          sealedData: fromHex(r.sealed ?? ""),
        }),
      );
    } catch (e) {
      if (e instanceof TransportFailure) await this.#mark(r, SyncState.Pending, "lock unreachable", attempts);
      throw e;
    }
    if (code === "OK") {
      await this.#mark(r, SyncState.Set, null, 0);
      this.#succeeded();
    } else {
      await this.#mark(r, SyncState.Failed, code, attempts);
      this.#refused();
    }
  }

  /** A refusal counts toward the breaker like a transport failure, but the pass goes on. */
  #refused(): void {
    this.#failures++;
    if (this.#failures >= this.engine.policy.breakerThreshold) throw new BreakerTrip();
  }

  async #remove(client: LockClient, r: Row): Promise<void> {
    const { db } = this.engine.opts;
    const attempts = Number(r.attempts) + 1;
    let code: string;
    try {
      code = await this.#ask(() =>
        client.result({
          kind: "ClearCredential",
          credentialType: Number(r.wire_type) as MessageOf<"ClearCredential">["credentialType"],
          credentialIndex: Number(r.credential_index),
        }),
      );
    } catch (e) {
      if (e instanceof TransportFailure)
        await this.#mark(r, SyncState.Removing, "lock unreachable", attempts);
      throw e;
    }
    if (code !== "OK") {
      await this.#mark(r, SyncState.Removing, code, attempts);
      this.#refused();
      return;
    }
    const cred = await db
      .selectFrom("credentials")
      .select("status")
      .where("id", "=", r.credential_id)
      .executeTakeFirst();
    // A revoked credential's sealed copy is destroyed; an ungranted one stays for a later grant.
    await this.#mark(r, SyncState.Removed, r.reason, 0, cred?.status === "active" ? {} : { sealed: null });
    this.#succeeded();
  }

  /** Applies a user slot (or clears it); returns null when done, else the refusal reason. */
  async #applyUser(client: LockClient, u: LockUserTable): Promise<string | null> {
    const { db, now } = this.engine.opts;
    const index = Number(u.user_index);
    const save = (applied: string | null): Promise<unknown> =>
      db
        .updateTable("lock_users")
        .set({ applied_json: applied, updated_at: now() })
        .where("lock_id", "=", this.lockId)
        .where("person_id", "=", u.person_id)
        .execute();
    if (u.desired_json === null) {
      // Only once none of the person's credentials is still on the lock.
      const still = await db
        .selectFrom("credential_sync")
        .select("credential_id")
        .where("lock_id", "=", this.lockId)
        .where("user_index", "=", index)
        .where("state", "in", [SyncState.Set, SyncState.Sending, SyncState.Removing])
        .executeTakeFirst();
      if (still !== undefined) return null;
      const code = await this.#ask(() => client.result({ kind: "ClearUser", userIndex: index }));
      if (code !== "OK" && code !== "LOCK_USER_UNKNOWN") return code;
      await save(null);
      return null;
    }
    const want = JSON.parse(u.desired_json) as DesiredUser;
    const steps: MessageOf<
      | "SetUser"
      | "ClearWeekDaySchedule"
      | "SetWeekDaySchedule"
      | "ClearYearDaySchedule"
      | "SetYearDaySchedule"
    >[] = [
      {
        kind: "SetUser",
        userIndex: index,
        userType: WireUserType[want.userType],
        userStatus: UserStatus.OccupiedEnabled,
        credentialRule: CredentialRule.Single,
        uniqueId: null,
        expiringTimeoutMinutes: want.expiringTimeoutMinutes,
        // Names stay on the hub: the lock needs none to decide.
        name: "",
      },
      { kind: "ClearWeekDaySchedule", userIndex: index, weekDayIndex: CLEAR_ALL_SCHEDULES },
      ...want.weekDay.map((w, i) => ({
        kind: "SetWeekDaySchedule" as const,
        userIndex: index,
        weekDayIndex: i + 1,
        daysMask: w.daysMask,
        startHour: Math.floor(w.startMinute / 60),
        startMinute: w.startMinute % 60,
        endHour: Math.floor(w.endMinute / 60),
        endMinute: w.endMinute % 60,
      })),
      { kind: "ClearYearDaySchedule", userIndex: index, yearDayIndex: CLEAR_ALL_SCHEDULES },
      ...want.yearDay.map((y, i) => ({
        kind: "SetYearDaySchedule" as const,
        userIndex: index,
        yearDayIndex: i + 1,
        localStartTime: Math.floor(y.fromMs / 1000),
        localEndTime: Math.floor(y.toMs / 1000),
      })),
    ];
    for (const step of steps) {
      const code = await this.#ask(() => client.result(step));
      if (code !== "OK") {
        this.#refused();
        return `${step.kind}: ${code}`;
      }
    }
    await save(u.desired_json);
    return null;
  }
}

class BreakerTrip extends TransportFailure {
  constructor() {
    super("the lock refused too many requests in a row");
  }
}
