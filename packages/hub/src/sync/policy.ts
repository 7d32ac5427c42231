import type { SyncPolicy } from "../config/sync-policy.js";

export type { SyncPolicy };

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

/** Backoff for the n-th attempt (1-based): base·2^(n-1), capped, with ±20 % jitter. */
export function backoffMs(attempt: number, p: Pick<SyncPolicy, "baseBackoffMs" | "maxBackoffMs">): number {
  const raw = Math.min(p.maxBackoffMs, p.baseBackoffMs * 2 ** Math.max(0, Math.min(30, attempt - 1)));
  return Math.round(raw * (0.8 + Math.random() * 0.4));
}
