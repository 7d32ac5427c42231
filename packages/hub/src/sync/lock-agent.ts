/**
 * One commissioned lock's agent: it keeps a session with the lock through the driver and works
 * one request at a time, in this order: read the lock's condition (lock-condition.ts), pull and
 * ingest its events (event-intake.ts), have it co-sign the ledger's checkpoint, then bring its
 * users and credentials in line (credential-push.ts). Presence (presence.ts) and the breaker
 * (breaker.ts) decide when it tries again: an unreachable lock is probed at a slow, growing
 * interval; one that answers but keeps refusing rests behind its breaker.
 */
import { LatchkeyError, fromHex, type LockId } from "@latchkey/protocol";
import { LockUnreachable, type LockSession } from "../drivers/lock-driver.js";
import { Breaker, BreakerTrip } from "./breaker.js";
import { CheckpointCosigning } from "./checkpoint-ack.js";
import type { AgentContext } from "./context.js";
import { CredentialPush } from "./credential-push.js";
import { takeEvents } from "./event-intake.js";
import { LockConditionReader } from "./lock-condition.js";
import { LockPresence } from "./presence.js";

export class LockAgent {
  #session: LockSession | null = null;
  #running = false;
  #again = false;
  #timer: NodeJS.Timeout | null = null;
  /** When #timer fires (Infinity: no timer). */
  #timerAt = Number.POSITIVE_INFINITY;
  #lastPullAt = 0;
  #idle: Promise<void> = Promise.resolve();
  /** Serializes passes and `withSession` calls: one request at a time per lock. */
  #chain: Promise<unknown> = Promise.resolve();
  /** A hint asked for a new session on the next pass (and when one last did). */
  #reopen = false;
  #reopenedAt = 0;
  /** The handshake in flight, if any: a hint aborts it to start over. */
  #handshake: AbortController | null = null;
  readonly #breaker: Breaker;
  readonly #presence: LockPresence;
  readonly #condition: LockConditionReader;
  readonly #checkpoint: CheckpointCosigning;
  readonly #push: CredentialPush;

  constructor(
    private readonly ctx: AgentContext,
    readonly lockId: LockId,
  ) {
    this.#breaker = new Breaker(ctx.policy);
    this.#condition = new LockConditionReader(ctx, lockId);
    this.#checkpoint = new CheckpointCosigning(ctx);
    this.#push = new CredentialPush(ctx, lockId, this.#breaker);
    this.#presence = new LockPresence(ctx, lockId, {
      heartbeatDue: () => {
        this.#exclusive(async () => {
          const session = this.#session;
          if (session === null || !this.#presence.silent) return;
          await session.readState();
        }).catch((e: unknown) => this.#failed(e));
      },
      wentOffline: () => {
        this.#closeSession();
        this.#probe();
      },
    });
  }

  get online(): boolean {
    return this.#presence.online;
  }

  get heartbeatEveryMs(): number {
    return this.#presence.heartbeatEveryMs;
  }

  /** No authenticated answer for this long: shown offline. */
  get offlineAfterMs(): number {
    return this.#presence.offlineAfterMs;
  }

  /** While its breaker is open: when it closes. */
  get breakerUntil(): number | null {
    return this.#breaker.openUntil;
  }

  /**
   * The broker hints the lock is there: an offline lock tries a session now (probing restarts).
   * An online one may have restarted and lost its session, so a new session is opened now rather
   * than after a heartbeat times out — at most once per heartbeat period, since anyone on an
   * external broker can publish the hint.
   */
  hint(): void {
    if (this.online) {
      if (Date.now() - this.#reopenedAt < this.heartbeatEveryMs) return;
      this.#reopenedAt = Date.now();
      this.#reopen = true;
      this.wake();
      return;
    }
    this.#presence.resetProbes();
    this.resetBreaker();
    this.wake();
    // A handshake sent before the lock listened (a lock just commissioned, still reconnecting with
    // its own login) is lost: start over now rather than wait out the request timeout.
    this.#handshake?.abort();
  }

  /** A first pass at a random moment within `ms` (a fleet's start spread out). */
  wakeWithin(ms: number): void {
    this.#wakeAt(Date.now() + Math.random() * ms);
  }

  /** Runs a pass soon (coalesced: a pass in progress runs once more). */
  wake(): void {
    if (this.ctx.stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = true;
    this.#idle = this.#loop().finally(() => {
      this.#running = false;
    });
  }

  /** Reads the lock's condition (and pushes what depends on it) on the next pass, which starts now. */
  refreshState(): void {
    this.#condition.forget();
    this.wake();
  }

  resetBreaker(): void {
    this.#breaker.reset();
  }

  async stop(): Promise<void> {
    this.#clearTimer();
    this.#handshake?.abort();
    this.#presence.stop();
    this.#closeSession();
    await this.#idle.catch(() => undefined);
  }

  /**
   * Runs `fn` on the lock's session, in turn with the lock's sync work (never concurrently with
   * it). Throws HUB_LOCK_OFFLINE when the lock is not online (its session does not answer).
   */
  withSession<T>(fn: (session: LockSession) => Promise<T>): Promise<T> {
    return this.#exclusive(async () => {
      const offline = (): LatchkeyError =>
        new LatchkeyError("HUB_LOCK_OFFLINE", "the lock is not connected to the hub", {
          lockId: this.lockId,
        });
      if (!this.online) throw offline();
      let session = this.#session;
      if (session === null) {
        const lock = await this.ctx.opts.db
          .selectFrom("locks")
          .select("channel_public_key")
          .where("id", "=", this.lockId)
          .where("door_id", "is not", null)
          .executeTakeFirst();
        if (lock === undefined || lock.channel_public_key === null) throw offline();
        try {
          session = await this.#connect(lock.channel_public_key);
        } catch {
          throw offline();
        }
      }
      return fn(session);
    });
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

  #probe(): void {
    this.#wakeAt(Date.now() + this.#presence.nextProbeDelayMs());
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(fn, fn);
    this.#chain = run.catch(() => undefined);
    return run;
  }

  #closeSession(): void {
    this.#session?.close();
    this.#session = null;
  }

  async #loop(): Promise<void> {
    do {
      this.#again = false;
      try {
        await this.#exclusive(() => this.#pass());
      } catch (e) {
        this.#failed(e);
      }
    } while (this.#again && !this.ctx.stopped);
  }

  #failed(e: unknown): void {
    // Given up for a new attempt, which the hint that aborted it has already asked for.
    if (e instanceof HandshakeRestarted) return;
    const { log } = this.ctx.opts;
    const expected = e instanceof LockUnreachable || e instanceof BreakerTrip;
    if (!expected) log.error({ err: e, lockId: this.lockId }, "sync pass failed");
    // A probe of a lock already shown offline failing is expected: no warning each time.
    else if (this.online) log.warn({ lockId: this.lockId, err: e.message }, "lock unreachable");
    else log.debug({ lockId: this.lockId, err: e.message }, "offline lock still unreachable");
    this.#closeSession();
    // An offline lock is probed at its own slow pace; the breaker is for locks that answer.
    if (!this.online) return this.#probe();
    const next = this.#breaker.failed();
    if (next.cooldownMs !== null)
      log.warn({ lockId: this.lockId, cooldownMs: next.cooldownMs }, "lock breaker open");
    this.#wakeAt(next.retryAt);
  }

  async #pass(): Promise<void> {
    const breakerOpen = this.#breaker.openNow();
    if (breakerOpen !== null) return this.#wakeAt(breakerOpen);
    const lock = await this.ctx.opts.db
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
      this.#closeSession();
    }
    const session = this.#session ?? (await this.#connect(lock.channel));
    await this.#condition.refresh(session, lock);
    // Locks push their events; a pull (a round trip per lock) is the safety net for a lost push,
    // run on connect, after a push, and otherwise at the state-read cadence — not on every pass.
    const signing = fromHex(lock.signing);
    if (Date.now() - this.#lastPullAt >= this.#condition.everyMs) {
      await takeEvents(this.ctx.opts, session, signing);
      this.#lastPullAt = Date.now();
    }
    if (await this.#checkpoint.maybeAcknowledge(session)) await takeEvents(this.ctx.opts, session, signing);
    const nextDue = await this.#push.run(session);
    if (Number.isFinite(nextDue)) this.#wakeAt(nextDue);
    this.#breaker.succeeded();
    // The next state read (clock check, safety-net pull) when nothing else wakes the agent first.
    this.#wakeAt(Math.min(this.#condition.readAt, this.#lastPullAt) + this.#condition.everyMs);
    void this.ctx.refreshCounts();
  }

  async #connect(channelPublicKey: string): Promise<LockSession> {
    const attempt = new AbortController();
    this.#handshake = attempt;
    let session: LockSession;
    try {
      session = await this.ctx.opts.driver.open(
        { lockId: this.lockId, channelPublicKey },
        { timeoutMs: this.ctx.policy.requestTimeoutMs, signal: attempt.signal },
      );
    } catch (e) {
      if (attempt.signal.aborted && !this.ctx.stopped) throw new HandshakeRestarted();
      throw e;
    } finally {
      if (this.#handshake === attempt) this.#handshake = null;
    }
    session.onAnswer(() => this.#presence.heard());
    this.#presence.heard();
    // New events may be a bolt, door or battery change: read the condition on this pass too.
    session.onEvents(() => {
      this.#condition.forget();
      this.#lastPullAt = 0;
      this.wake();
    });
    session.onClose(() => {
      if (this.#session === session) this.#session = null;
    });
    this.#session = session;
    this.#condition.forget();
    this.#lastPullAt = 0;
    this.#checkpoint.forget();
    return session;
  }
}

/** A handshake given up because a hint said the lock only now listens (a new one follows). */
class HandshakeRestarted extends Error {
  constructor() {
    super("handshake restarted: the lock has just come online");
  }
}
