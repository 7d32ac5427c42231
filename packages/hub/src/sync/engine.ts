/**
 * The sync engine: one agent per commissioned lock drives that lock toward the desired state the
 * hub database holds (reconcile.ts), over a Noise KK session carried by the device gateway.
 *
 * Presence comes only from the authenticated channel. A lock is online while its Noise session
 * answers: every authenticated reply or push counts, and when nothing else was heard for a
 * heartbeat period (30–60 s by default, spread per lock) the agent asks GetState. After two
 * missed heartbeats (plus one request timeout) without an answer the lock is shown offline, and
 * a `lock-offline` alert is raised after `offlineAlertAfterMs` more; the alert is resolved when
 * the lock answers again. What the broker says (the `status` topic, connect and disconnect
 * events) is a hint only: a hint that a lock is there makes its agent try a session now, but no
 * hint can mark a lock offline, stall its sync or hide it. An offline lock is probed at a slow,
 * growing interval (from a heartbeat period up to `maxBreakerCooldownMs`).
 *
 * Each session starts with a handshake counter that the agent stores in `locks.channel_counter`
 * before the first handshake message leaves: max(the hub's clock in ms, the last one + 1). The
 * lock answers only a counter above the highest it accepted, so a captured first message is never
 * answered again, across lock and hub restarts (docs/secure-channel.md).
 *
 * An agent works one request at a time, in this order:
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
import { sql, type Kysely } from "kysely";
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
  type PinPolicy,
} from "@latchkey/protocol";
import { LockClient, LockRefusal } from "@latchkey/lock";
import type { Logger } from "pino";
import type { HubDatabase, CredentialSyncTable, LockUserTable } from "../db/schema.js";
import type { DeviceGateway } from "../gateway/device-gateway.js";
import type { Ingestor } from "../ingest/ingest.js";
import { AlertKind, insertAlerts, raiseOnce, resolveAlerts } from "../ingest/alerts.js";
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
  /**
   * Clock difference above which the hub sets the lock's clock. Every step is a signed ClockSet
   * that voids any absence claim across it (evidence-format.md, "Time rules"), so the hub lets a
   * lock drift this far first: about one correction a fortnight for a 20 ppm clock, and 30 s is
   * nothing to a schedule.
   */
  readonly clockToleranceMs: number;
  /**
   * Largest clock step the hub asks of a lock (the lock's own bound is 5 min by default): a
   * bigger difference is not drift but a wrong clock on one side, and a lock refuses such a step
   * without a person's authorisation. The hub then leaves the clock alone and says so.
   */
  readonly clockStepMaxMs: number;
  /**
   * How long a connected lock may stay silent before the agent asks it a GetState (its
   * heartbeat); each agent spreads it over ×0.67–1.33 (30–60 s by default). A lock is shown
   * offline after two missed heartbeats plus one request timeout.
   */
  readonly heartbeatEveryMs: number;
  /** How long a lock is shown offline before a `lock-offline` alert is raised. */
  readonly offlineAlertAfterMs: number;
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
  clockToleranceMs: 30_000,
  clockStepMaxMs: 5 * 60_000,
  checkpointAckEveryMs: 15 * 60_000,
  heartbeatEveryMs: 45_000,
  offlineAlertAfterMs: 2 * 60_000,
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
  /** The PIN policy the lock reported (absent in rows written before locks reported one). */
  readonly pinPolicy?: PinPolicy;
  /** The lock's clock is off by more than a drift step: a person must authorise setting it. */
  readonly clockNeedsAuthorisation?: boolean;
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
  #online = 0;

  constructor(readonly opts: SyncEngineOptions) {
    this.policy = { ...DEFAULT_SYNC_POLICY, ...opts.policy };
  }

  async start(): Promise<void> {
    // A hint only (the broker's word, or an unauthenticated status message): try a session now.
    const onHint = (lockId: LockId): void => this.#agents.get(lockId)?.hint();
    this.opts.gateway.on("lockConnected", onHint);
    this.#unsubscribe.push(() => this.opts.gateway.off("lockConnected", onHint));
    await this.reconcileAll();
    // Every commissioned lock has an agent from the start, so one that never comes back is
    // shown offline and alerted; first attempts are spread over a heartbeat period.
    const bound = await this.opts.db
      .selectFrom("locks")
      .select("id")
      .where("door_id", "is not", null)
      .where("channel_public_key", "is not", null)
      .execute();
    for (const { id } of bound) {
      const a = this.agent(id);
      if (this.opts.gateway.isConnected(id as LockId)) a.wake();
      else a.wakeWithin(a.heartbeatEveryMs);
    }
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
        for (const id of changed) if (id !== lockId) this.agent(id).wake();
        // A lock just commissioned reconnects with its own login first: a handshake sent before
        // it listens is lost and waited out. Its broker hint (it subscribed) wakes the agent, as
        // now if it came before the agent existed; a slow pass is the fallback.
        const a = this.agent(lockId);
        if (this.opts.gateway.isConnected(lockId as LockId)) a.wake();
        else a.wakeWithin(a.heartbeatEveryMs);
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
    for (const id of await locksWithDueRows(this.opts.db, Date.now()))
      if (this.#agents.get(id)?.online === true) this.agent(id).wake();
  }

  /** Locks whose authenticated session answers now (`latchkey_locks_connected`). */
  onlineCount(): number {
    return this.#online;
  }

  /** Called by an agent when its lock's presence changes. */
  presenceChanged(online: boolean): void {
    this.#online += online ? 1 : -1;
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
   * it). Throws HUB_LOCK_OFFLINE when the lock is not online (its session does not answer).
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
  /** The clock difference that needs a person (set when first seen; cleared once the clocks agree). */
  #clockNeedsPerson: number | null = null;
  #idle: Promise<void> = Promise.resolve();
  /** Serializes passes and `withClient` calls: one request at a time per lock. */
  #chain: Promise<unknown> = Promise.resolve();
  /** This agent's heartbeat period: the policy's, spread ×0.67–1.33 over the fleet. */
  readonly heartbeatEveryMs: number;
  /** Presence: the lock's authenticated session answered within the offline bound. */
  #online = false;
  /** When the lock last answered on its authenticated session (Date.now), and the hub's clock then. */
  #heardAt = 0;
  #heardAtHub: number | null = null;
  #offlineTimer: NodeJS.Timeout | null = null;
  #heartbeatTimer: NodeJS.Timeout | null = null;
  #alertTimer: NodeJS.Timeout | null = null;
  /** An offline alert may be open (unknown at start: a previous run may have raised one). */
  #alertMayBeOpen = true;
  /** Probes of an offline lock so far (their interval grows with each). */
  #probes = 0;
  /** A hint asked for a new session on the next pass (and when one last did). */
  #reopen = false;
  #reopenedAt = 0;

  constructor(
    private readonly engine: SyncEngine,
    readonly lockId: LockId,
  ) {
    this.#stateEveryMs = Math.round(engine.policy.stateEveryMs * (0.9 + Math.random() * 0.2));
    this.heartbeatEveryMs = Math.round(engine.policy.heartbeatEveryMs * (0.67 + Math.random() * 0.66));
    // Offline until its session answers: alerted if it never does.
    this.#armAlert(this.offlineAfterMs + engine.policy.offlineAlertAfterMs);
  }

  get online(): boolean {
    return this.#online;
  }

  /** No authenticated answer for this long: shown offline (two missed heartbeats and a timeout). */
  get offlineAfterMs(): number {
    return 2 * this.heartbeatEveryMs + this.engine.policy.requestTimeoutMs;
  }

  /**
   * The broker hints the lock is there: an offline lock tries a session now (probing restarts).
   * An online one may have restarted and lost its session, so a new session is opened now rather
   * than after a heartbeat times out — at most once per heartbeat period, since anyone on an
   * external broker can publish the hint.
   */
  hint(): void {
    if (this.#online) {
      if (Date.now() - this.#reopenedAt < this.heartbeatEveryMs) return;
      this.#reopenedAt = Date.now();
      this.#reopen = true;
      this.wake();
      return;
    }
    this.#probes = 0;
    this.resetBreaker();
    this.wake();
  }

  /** A first pass at a random moment within `ms` (a fleet's start spread out). */
  wakeWithin(ms: number): void {
    this.#wakeAt(Date.now() + Math.random() * ms);
  }

  /** The lock answered on its authenticated session. */
  #heard(): void {
    this.#heardAt = Date.now();
    this.#heardAtHub = this.engine.opts.now();
    this.#probes = 0;
    if (!this.#online) {
      this.#online = true;
      this.engine.presenceChanged(true);
      this.#clearAlertTimer();
      if (this.#alertMayBeOpen) {
        this.#alertMayBeOpen = false;
        resolveAlerts(this.engine.opts.db, AlertKind.LockOffline, this.lockId, this.engine.opts.now()).catch(
          (e: unknown) =>
            this.engine.opts.log.error({ err: e, lockId: this.lockId }, "resolving an alert failed"),
        );
      }
    }
    this.#armOfflineCheck();
    this.#armHeartbeat();
  }

  /**
   * The heartbeat: when nothing was heard for a heartbeat period (no reply, no push), one
   * GetState on the open session — no database work, so a 10,000-lock fleet costs about 220
   * small requests a second at the default period. Its timer is re-armed only when it fires.
   */
  #armHeartbeat(): void {
    if (this.#heartbeatTimer !== null || this.engine.stopped) return;
    const delay = Math.max(10, this.#heardAt + this.heartbeatEveryMs - Date.now());
    this.#heartbeatTimer = setTimeout(() => {
      this.#heartbeatTimer = null;
      if (!this.#online) return;
      if (Date.now() - this.#heardAt < this.heartbeatEveryMs) return this.#armHeartbeat();
      this.#exclusive(async () => {
        const client = this.#client;
        if (client === null || Date.now() - this.#heardAt < this.heartbeatEveryMs) return;
        await this.#ask(() => client.getState());
      }).catch((e: unknown) => this.#failed(e));
      // Re-armed by the answer; without one, the session is re-opened by the failure's retry.
    }, delay);
    this.#heartbeatTimer.unref();
  }

  /** One timer per lock, re-armed only when it fires (not on every answer). */
  #armOfflineCheck(): void {
    if (this.#offlineTimer !== null || this.engine.stopped) return;
    const delay = Math.max(10, this.#heardAt + this.offlineAfterMs - Date.now());
    this.#offlineTimer = setTimeout(() => {
      this.#offlineTimer = null;
      if (!this.#online) return;
      if (Date.now() - this.#heardAt < this.offlineAfterMs) this.#armOfflineCheck();
      else this.#wentOffline();
    }, delay);
    this.#offlineTimer.unref();
  }

  #wentOffline(): void {
    this.#online = false;
    this.engine.presenceChanged(false);
    this.engine.opts.log.warn({ lockId: this.lockId }, "lock offline: its session stopped answering");
    this.#client?.close();
    this.#client = null;
    // "Last seen" is its last authenticated answer.
    this.engine.opts.db
      .updateTable("locks")
      .set({ last_seen_at: this.#heardAtHub })
      .where("id", "=", this.lockId)
      .execute()
      .catch((e: unknown) =>
        this.engine.opts.log.error({ err: e, lockId: this.lockId }, "recording a lock's last contact failed"),
      );
    this.#armAlert(this.engine.policy.offlineAlertAfterMs);
    this.#probe();
  }

  /** The next attempt at a session with an offline lock: a heartbeat period, doubling, capped. */
  #probe(): void {
    const p = this.engine.policy;
    const delay = Math.min(p.maxBreakerCooldownMs, this.heartbeatEveryMs * 2 ** Math.min(20, this.#probes));
    this.#probes++;
    this.#wakeAt(Date.now() + delay * (0.8 + Math.random() * 0.4));
  }

  #armAlert(delayMs: number): void {
    this.#clearAlertTimer();
    if (this.engine.stopped) return;
    this.#alertTimer = setTimeout(() => {
      this.#alertTimer = null;
      this.#raiseOfflineAlert().catch((e: unknown) =>
        this.engine.opts.log.error({ err: e, lockId: this.lockId }, "raising an alert failed"),
      );
    }, delayMs);
    this.#alertTimer.unref();
  }

  #clearAlertTimer(): void {
    if (this.#alertTimer !== null) clearTimeout(this.#alertTimer);
    this.#alertTimer = null;
  }

  async #raiseOfflineAlert(): Promise<void> {
    if (this.#online || this.engine.stopped) return;
    const { db, now } = this.engine.opts;
    const bound = await db
      .selectFrom("locks")
      .select("last_seen_at")
      .where("id", "=", this.lockId)
      .where("door_id", "is not", null)
      .where("channel_public_key", "is not", null)
      .executeTakeFirst();
    if (bound === undefined || this.#online) return; // no longer ours, or back meanwhile
    const lastSeenAt = this.#heardAtHub ?? (bound.last_seen_at === null ? null : Number(bound.last_seen_at));
    this.#alertMayBeOpen = true;
    await raiseOnce(db, { kind: AlertKind.LockOffline, lockId: this.lockId, details: { lastSeenAt } }, now());
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

  resetBreaker(): void {
    this.breakerUntil = null;
    this.#failures = 0;
  }

  async stop(): Promise<void> {
    this.#clearTimer();
    this.#clearAlertTimer();
    if (this.#offlineTimer !== null) clearTimeout(this.#offlineTimer);
    if (this.#heartbeatTimer !== null) clearTimeout(this.#heartbeatTimer);
    this.#offlineTimer = this.#heartbeatTimer = null;
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
      if (!this.#online) throw offline();
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
      const session = client;
      try {
        const out = await fn(session);
        this.#heard();
        return out;
      } catch (e) {
        if (e instanceof LockRefusal) this.#heard();
        throw e;
      }
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
    // A probe of a lock already shown offline failing is expected: no warning each time.
    else if (this.#online) log.warn({ lockId: this.lockId, err: e.message }, "lock unreachable");
    else log.debug({ lockId: this.lockId, err: e.message }, "offline lock still unreachable");
    this.#client?.close();
    this.#client = null;
    this.#countFailure();
  }

  #countFailure(): void {
    // An offline lock is probed at its own slow pace; the breaker is for locks that answer.
    if (!this.#online) return this.#probe();
    this.#failures++;
    if (this.#failures >= this.engine.policy.breakerThreshold) {
      const p = this.engine.policy;
      const cooldown = Math.min(p.maxBreakerCooldownMs, p.breakerCooldownMs * 2 ** this.#breakerTrips);
      this.#breakerTrips++;
      this.#failures = 0;
      this.breakerUntil = Date.now() + cooldown;
      this.engine.opts.log.warn({ lockId: this.lockId, cooldownMs: cooldown }, "lock breaker open");
      this.#wakeAt(this.breakerUntil);
    } else {
      this.#wakeAt(Date.now() + backoffMs(this.#failures, this.engine.policy));
    }
  }

  #succeeded(): void {
    this.#failures = 0;
    this.#breakerTrips = 0;
  }

  async #pass(): Promise<void> {
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
    if (this.#reopen) {
      this.#reopen = false;
      this.#client?.close();
      this.#client = null;
    }
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
      const handshakeCounter = await this.#nextHandshakeCounter();
      const client = await LockClient.connectHub(gateway.openLockTransport(this.lockId), {
        hubStaticSecretKey,
        lock: { channelPublicKey: fromHex(channelHex), lockId: lockIdToBytes(this.lockId) },
        timeoutMs: this.engine.policy.requestTimeoutMs,
        handshakeCounter,
      });
      this.#heard();
      // A pushed event may be a bolt, door or battery change: read the state on this pass too.
      client.onPush(() => {
        this.#heard();
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

  /**
   * The counter for the next first handshake message, stored before the message leaves:
   * max(hub clock in ms, last + 1). The clock term keeps it above every counter used before even
   * after the database is restored from an old backup; the +1 covers a clock set back.
   */
  async #nextHandshakeCounter(): Promise<number> {
    const now = Math.floor(Date.now());
    // One statement, so two hub processes sharing the database never hand out the same counter.
    const row = await this.engine.opts.db
      .updateTable("locks")
      .set({
        channel_counter: sql<number>`case when channel_counter + 1 > ${now} then channel_counter + 1 else ${now} end`,
      })
      .where("id", "=", this.lockId)
      .returning("channel_counter")
      .executeTakeFirstOrThrow();
    return Number(row.channel_counter);
  }

  /**
   * A request whose failure to arrive (timeout, closed session) is a transport failure; any
   * answer, a refusal included, is the lock speaking on its authenticated session.
   */
  async #ask<T>(fn: () => Promise<T>): Promise<T> {
    try {
      const answer = await fn();
      this.#heard();
      return answer;
    } catch (e) {
      if (e instanceof LockRefusal) {
        this.#heard();
        throw e;
      }
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
    const policy = this.engine.policy;
    if (drift !== null && Math.abs(drift) <= policy.clockToleranceMs) this.#clockNeedsPerson = null;
    else if (this.#clockNeedsPerson === null) {
      // Small steps only, and never again once refused: each refusal is a signed event at the
      // lock, and walking its clock in allowed steps is exactly what the bound is there to stop.
      const code =
        drift !== null && Math.abs(drift) > policy.clockStepMaxMs
          ? "LOCK_CLOCK_STEP_REFUSED"
          : await this.#ask(() => client.setTime(now(), 0));
      if (code === "OK") drift = 0;
      else if (code === "LOCK_CLOCK_STEP_REFUSED") {
        this.#clockNeedsPerson = drift ?? 0;
        this.engine.opts.log.warn(
          { lockId: this.lockId, driftMs: drift, code },
          "clock needs authorisation: the lock's clock differs from the hub's by more than a drift step",
        );
      } else this.engine.opts.log.warn({ lockId: this.lockId, code }, "lock refused the time");
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
      pinPolicy: report.pinPolicy,
      ...(this.#clockNeedsPerson === null ? {} : { clockNeedsAuthorisation: true }),
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
