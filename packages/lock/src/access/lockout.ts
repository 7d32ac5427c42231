/**
 * Matter's wrong-code lockout: after WrongCodeEntryLimit unknown or unproven presentations in a
 * row the lock refuses every credential for UserCodeTemporaryDisableTime. A lockout survives
 * reboots: with a known clock it ends at its recorded wall time (never later than a full lockout
 * from now, so a clock set backwards cannot stretch it); without a clock it restarts in full.
 */
import { AlarmCode, DenyReason, EventKind } from "@latchkey/protocol";
import type { Clock, TimerHandle } from "../hardware/hal.js";
import type { LockReporter } from "../journal/event-log.js";

/** Refusals that count towards the lockout (an unknown or unproven credential). */
const COUNTS_AS_WRONG_CODE = new Set<DenyReason>([DenyReason.UnknownCredential, DenyReason.BadSignature]);

export function countsAsWrongCode(reason: DenyReason): boolean {
  return COUNTS_AS_WRONG_CODE.has(reason);
}

export interface LockoutState {
  readonly failedAttempts: number;
  /** Wall time the lockout ends, when the clock was known at its start. */
  readonly endsAtWallMs: number | null;
  /** Lockout length; 0 when no lockout is active. Used when the clock is unknown at boot. */
  readonly durationMs: number;
}

export interface LockoutOptions {
  readonly clock: Clock;
  readonly report: LockReporter;
  /** Read at each count, so settings changes apply at once. */
  readonly limits: () => { readonly wrongCodeEntryLimit: number; readonly lockoutMs: number };
  /** Called whenever the counters change (they are persisted). */
  readonly changed: () => void;
}

export class WrongCodeLockout {
  readonly #o: LockoutOptions;
  #failedAttempts = 0;
  #endsMono: number | null = null;
  #endsWall: number | null = null;
  #durationMs = 0;
  #timer: TimerHandle | undefined;
  #stopped = false;

  constructor(options: LockoutOptions) {
    this.#o = options;
  }

  get active(): boolean {
    return this.#endsMono !== null && this.#o.clock.monotonicMs() < this.#endsMono;
  }
  get failedAttempts(): number {
    return this.#failedAttempts;
  }

  /** One more wrong code; the limit starts a lockout and raises the alarm. */
  countWrongCode(): void {
    this.#failedAttempts++;
    const { wrongCodeEntryLimit, lockoutMs } = this.#o.limits();
    if (this.#failedAttempts >= wrongCodeEntryLimit) {
      const wall = this.#o.clock.wallMs();
      this.#failedAttempts = 0;
      this.#start(lockoutMs, wall === null ? null : wall + lockoutMs);
      this.#o.changed();
      this.#o.report.alarm(AlarmCode.WrongCodeEntryLimit);
    } else {
      this.#o.changed();
    }
  }

  /** A granted (or recognised) credential resets the count. */
  resetWrongCodes(): void {
    this.#failedAttempts = 0;
  }

  /** Ends any lockout silently and forgets the count (factory reset). */
  clear(): void {
    this.#failedAttempts = 0;
    this.#timer?.cancel();
    this.#endsMono = null;
    this.#endsWall = null;
    this.#durationMs = 0;
  }

  state(): LockoutState {
    const active = this.active;
    return {
      failedAttempts: this.#failedAttempts,
      endsAtWallMs: active ? this.#endsWall : null,
      durationMs: active ? this.#durationMs : 0,
    };
  }

  /** Restores the count (validated) from the counters file; `resume` then restarts a lockout. */
  restore(s: LockoutState): void {
    this.#failedAttempts = checkInt(s.failedAttempts, 255, "failedAttempts");
    checkInt(s.durationMs, 255_000, "lockout duration");
    if (s.endsAtWallMs !== null) checkInt(s.endsAtWallMs, Number.MAX_SAFE_INTEGER, "lockout end");
  }

  /** Restarts a lockout recorded before a reboot (see the module comment). */
  resume(s: LockoutState | undefined): void {
    if (s === undefined || s.durationMs <= 0) return;
    const wall = this.#o.clock.wallMs();
    let remaining = s.durationMs;
    if (wall !== null && s.endsAtWallMs !== null) remaining = Math.min(s.durationMs, s.endsAtWallMs - wall);
    if (remaining > 0) this.#start(remaining, wall === null ? s.endsAtWallMs : wall + remaining);
    else this.#o.changed();
  }

  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
  }

  #start(remainingMs: number, endsAtWall: number | null): void {
    this.#durationMs = remainingMs;
    this.#endsWall = endsAtWall;
    this.#endsMono = this.#o.clock.monotonicMs() + remainingMs;
    this.#timer?.cancel();
    this.#timer = this.#o.clock.setTimer(remainingMs, () => {
      if (this.#stopped) return;
      this.#endsMono = null;
      this.#endsWall = null;
      this.#durationMs = 0;
      this.#o.changed();
      this.#o.report.event(EventKind.AlarmCleared, {}, { alarm: AlarmCode.WrongCodeEntryLimit });
    });
  }
}

function checkInt(v: unknown, max: number, what: string): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0 || v > max)
    throw new Error(`${what} out of range`);
  return v;
}
