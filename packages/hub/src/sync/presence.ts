/**
 * Whether a lock is there, from its authenticated session only. A lock is online while its
 * session answers: every answer or push counts, and when nothing was heard for a heartbeat period
 * (30–60 s by default, spread per lock) the agent asks it something. After two missed heartbeats
 * (plus one request timeout) without an answer the lock is shown offline, and a `lock-offline`
 * alert is raised after `offlineAlertAfterMs` more; the alert is resolved when it answers again.
 * What the broker says is a hint only (LockAgent.hint): no hint can mark a lock offline.
 */
import type { LockId } from "@latchkey/protocol";
import { AlertKind, raiseOnce, resolveAlerts } from "../ingest/alerts.js";
import type { AgentContext } from "./context.js";

export interface PresenceHooks {
  /** Nothing was heard for a heartbeat period: ask the lock something on its open session. */
  heartbeatDue(): void;
  /** The session stopped answering: close it and probe at a slow pace. */
  wentOffline(): void;
}

export class LockPresence {
  #online = false;
  /** When the lock last answered (Date.now), and the hub's clock then. */
  #heardAt = 0;
  #heardAtHub: number | null = null;
  #offlineTimer: NodeJS.Timeout | null = null;
  #heartbeatTimer: NodeJS.Timeout | null = null;
  #alertTimer: NodeJS.Timeout | null = null;
  /** An offline alert may be open (unknown at start: a previous run may have raised one). */
  #alertMayBeOpen = true;
  /** Probes of an offline lock so far (their interval grows with each). */
  #probes = 0;
  /** This lock's heartbeat period: the policy's, spread ×0.67–1.33 over the fleet. */
  readonly heartbeatEveryMs: number;

  constructor(
    private readonly ctx: AgentContext,
    readonly lockId: LockId,
    private readonly hooks: PresenceHooks,
  ) {
    this.heartbeatEveryMs = Math.round(ctx.policy.heartbeatEveryMs * (0.67 + Math.random() * 0.66));
    // Offline until its session answers: alerted if it never does.
    this.#armAlert(this.offlineAfterMs + ctx.policy.offlineAlertAfterMs);
  }

  get online(): boolean {
    return this.#online;
  }

  /** No answer for this long: shown offline (two missed heartbeats and a request timeout). */
  get offlineAfterMs(): number {
    return 2 * this.heartbeatEveryMs + this.ctx.policy.requestTimeoutMs;
  }

  /** Nothing heard for a heartbeat period. */
  get silent(): boolean {
    return Date.now() - this.#heardAt >= this.heartbeatEveryMs;
  }

  /** The lock answered on its authenticated session. */
  heard(): void {
    this.#heardAt = Date.now();
    this.#heardAtHub = this.ctx.opts.now();
    this.#probes = 0;
    if (!this.#online) {
      this.#online = true;
      this.ctx.presenceChanged(true);
      this.#clearAlertTimer();
      if (this.#alertMayBeOpen) {
        this.#alertMayBeOpen = false;
        resolveAlerts(this.ctx.opts.db, AlertKind.LockOffline, this.lockId, this.ctx.opts.now()).catch(
          (e: unknown) =>
            this.ctx.opts.log.error({ err: e, lockId: this.lockId }, "resolving an alert failed"),
        );
      }
    }
    this.#armOfflineCheck();
    this.#armHeartbeat();
  }

  /** The next attempt at a session with an offline lock: a heartbeat period, doubling, capped. */
  nextProbeDelayMs(): number {
    const delay = Math.min(
      this.ctx.policy.maxBreakerCooldownMs,
      this.heartbeatEveryMs * 2 ** Math.min(20, this.#probes),
    );
    this.#probes++;
    return delay * (0.8 + Math.random() * 0.4);
  }

  /** Probing starts over (a hint that the lock is there). */
  resetProbes(): void {
    this.#probes = 0;
  }

  stop(): void {
    this.#clearAlertTimer();
    if (this.#offlineTimer !== null) clearTimeout(this.#offlineTimer);
    if (this.#heartbeatTimer !== null) clearTimeout(this.#heartbeatTimer);
    this.#offlineTimer = this.#heartbeatTimer = null;
  }

  /**
   * The heartbeat: when nothing was heard for a heartbeat period, one request on the open session
   * (no database work, so a 10,000-lock fleet costs about 220 small requests a second at the
   * default period). Its timer is re-armed only when it fires, not on every answer.
   */
  #armHeartbeat(): void {
    if (this.#heartbeatTimer !== null || this.ctx.stopped) return;
    const delay = Math.max(10, this.#heardAt + this.heartbeatEveryMs - Date.now());
    this.#heartbeatTimer = setTimeout(() => {
      this.#heartbeatTimer = null;
      if (!this.#online) return;
      if (!this.silent) return this.#armHeartbeat();
      // Re-armed by the answer; without one, the session is re-opened by the failure's retry.
      this.hooks.heartbeatDue();
    }, delay);
    this.#heartbeatTimer.unref();
  }

  /** One timer per lock, re-armed only when it fires (not on every answer). */
  #armOfflineCheck(): void {
    if (this.#offlineTimer !== null || this.ctx.stopped) return;
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
    const { db, log } = this.ctx.opts;
    this.#online = false;
    this.ctx.presenceChanged(false);
    log.warn({ lockId: this.lockId }, "lock offline: its session stopped answering");
    // "Last seen" is its last authenticated answer.
    db.updateTable("locks")
      .set({ last_seen_at: this.#heardAtHub })
      .where("id", "=", this.lockId)
      .execute()
      .catch((e: unknown) =>
        log.error({ err: e, lockId: this.lockId }, "recording a lock's last contact failed"),
      );
    this.#armAlert(this.ctx.policy.offlineAlertAfterMs);
    this.hooks.wentOffline();
  }

  #armAlert(delayMs: number): void {
    this.#clearAlertTimer();
    if (this.ctx.stopped) return;
    this.#alertTimer = setTimeout(() => {
      this.#alertTimer = null;
      this.#raiseOfflineAlert().catch((e: unknown) =>
        this.ctx.opts.log.error({ err: e, lockId: this.lockId }, "raising an alert failed"),
      );
    }, delayMs);
    this.#alertTimer.unref();
  }

  #clearAlertTimer(): void {
    if (this.#alertTimer !== null) clearTimeout(this.#alertTimer);
    this.#alertTimer = null;
  }

  async #raiseOfflineAlert(): Promise<void> {
    if (this.#online || this.ctx.stopped) return;
    const { db, now } = this.ctx.opts;
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
}
