import type { SyncPolicy } from "../config/sync-policy.js";

/** Backoff for the n-th attempt (1-based): base·2^(n-1), capped, with ±20 % jitter. */
export function backoffMs(attempt: number, p: Pick<SyncPolicy, "baseBackoffMs" | "maxBackoffMs">): number {
  const raw = Math.min(p.maxBackoffMs, p.baseBackoffMs * 2 ** Math.max(0, Math.min(30, attempt - 1)));
  return Math.round(raw * (0.8 + Math.random() * 0.4));
}
