/**
 * How the sync engine paces its work with each lock (config: `syncPolicy`). It is configuration,
 * so it lives here, below the engine that reads it.
 */
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

/** The pace used where the configuration says nothing. */
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
