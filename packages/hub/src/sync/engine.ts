/**
 * The sync engine: one agent per commissioned lock (lock-agent.ts) drives that lock toward the
 * desired state the hub database holds (reconcile.ts), through the lock's driver
 * (drivers/lock-driver.ts). Agents never wait on each other, so one failing or offline lock never
 * holds up the rest. The engine re-reads grants when a site changes (`kick`, at once; a burst coalesces) and every
 * `reconcileEveryMs` (a grant expiring needs no request to take effect), wakes the agents whose
 * rows moved, and keeps the counts the metrics show.
 */
import type { LockId } from "@latchkey/protocol";
import type { LockSession } from "../drivers/lock-driver.js";
import type { AgentContext, SyncEngineOptions } from "./context.js";
import { LockAgent } from "./lock-agent.js";
import { DEFAULT_SYNC_POLICY, type SyncPolicy } from "../config/sync-policy.js";
import {
  locksOfSite,
  locksWithDueRows,
  reconcileSite,
  sitesWithLocks,
  SYNC_STATES,
  SyncState,
} from "./reconcile.js";

/** Sync state counts (metrics) are re-read at most this often. */
const COUNTS_EVERY_MS = 1_000;

export class SyncEngine implements AgentContext {
  readonly policy: SyncPolicy;
  readonly #agents = new Map<string, LockAgent>();
  readonly #counts = new Map<string, number>();
  readonly #reconciling = new Map<string, Promise<void>>();
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
    this.#unsubscribe.push(this.opts.driver.onHint((lockId) => this.#agents.get(lockId)?.hint()));
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
      if (this.opts.driver.hinted(id as LockId)) a.wake();
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
    for (const u of this.#unsubscribe) u();
    await Promise.all(
      [...this.#reconciling.values(), ...this.#reconcileAgain.values()].map((r) => r.catch(() => undefined)),
    );
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
            return this.#stopped ? undefined : this.reconcile(siteId);
          });
        this.#reconcileAgain.set(siteId, again);
      }
      return again;
    }
    const run = (async () => {
      try {
        const changed = await reconcileSite(this.opts.db, siteId, this.opts.now());
        for (const id of changed) this.agent(id).wake();
      } finally {
        this.#reconciling.delete(siteId);
      }
    })();
    this.#reconciling.set(siteId, run);
    // The caller gets fresh counts, but the site's next change does not wait for them: counts are
    // read at most once a second, and holding the slot meanwhile delayed a revocation that came
    // right after another change by up to that second.
    return run.then(() => this.refreshCounts());
  }

  /**
   * Fire-and-forget form for domain changes: the caller never waits on locks. Not delayed: a
   * revocation starts at once (a debounce cost every single change its delay); a burst of changes
   * (a thousand doors added in a row) still costs two passes, since `reconcile` coalesces every
   * call that arrives while one runs into one follow-up.
   */
  kick(siteId: string): void {
    if (this.#stopped) return;
    this.reconcile(siteId).catch((e: unknown) =>
      this.opts.log.error({ err: e, siteId }, "sync reconcile failed"),
    );
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
        if (this.opts.driver.hinted(lockId as LockId)) a.wake();
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
  withSession<T>(lockId: string, fn: (session: LockSession) => Promise<T>): Promise<T> {
    return this.agent(lockId).withSession(fn);
  }

  isOnline(lockId: string): boolean {
    return this.#agents.get(lockId)?.online === true;
  }

  breakerOpenUntil(lockId: string): number | null {
    return this.#agents.get(lockId)?.breakerUntil ?? null;
  }
}
