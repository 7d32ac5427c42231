import type { SyncPolicy } from "../config/sync-policy.js";
import { backoffMs } from "./backoff.js";

/** The lock refused too many requests in a row: the pass stops and the breaker opens. */
export class BreakerTrip extends Error {
  override readonly name = "BreakerTrip";
  constructor() {
    super("the lock refused too many requests in a row");
  }
}

/**
 * One lock's circuit breaker: consecutive failures (no answer, or refusals) back off
 * exponentially, and after `breakerThreshold` of them the breaker opens for a cool-down that
 * doubles with each trip up to `maxBreakerCooldownMs`. A success closes it and forgets the trips.
 */
export class Breaker {
  #failures = 0;
  #trips = 0;
  /** While open: when it closes again (Date.now clock). */
  openUntil: number | null = null;

  constructor(private readonly policy: SyncPolicy) {}

  /** Counts a failed pass; returns when to try again and whether the breaker opened. */
  failed(): { readonly retryAt: number; readonly cooldownMs: number | null } {
    this.#failures++;
    if (this.#failures < this.policy.breakerThreshold)
      return { retryAt: Date.now() + backoffMs(this.#failures, this.policy), cooldownMs: null };
    const p = this.policy;
    const cooldownMs = Math.min(p.maxBreakerCooldownMs, p.breakerCooldownMs * 2 ** this.#trips);
    this.#trips++;
    this.#failures = 0;
    this.openUntil = Date.now() + cooldownMs;
    return { retryAt: this.openUntil, cooldownMs };
  }

  /** A refusal counts toward the breaker like a failure, but the pass goes on until it trips. */
  refused(): void {
    this.#failures++;
    if (this.#failures >= this.policy.breakerThreshold) throw new BreakerTrip();
  }

  succeeded(): void {
    this.#failures = 0;
    this.#trips = 0;
  }

  /** Closes it now (the owner's "retry", or a sign the lock is back). */
  reset(): void {
    this.openUntil = null;
    this.#failures = 0;
  }

  /** When it is open now, the time it closes; null when closed (an elapsed cool-down closes it). */
  openNow(): number | null {
    if (this.openUntil === null) return null;
    if (Date.now() < this.openUntil) return this.openUntil;
    this.openUntil = null;
    return null;
  }
}
