/**
 * Setting the lock's real-time clock. A clock the lock does not know may be set to anything; a
 * known clock moves at most the step limit either way per call: drift correction needs seconds,
 * and anything bigger could move a signed event in or out of an evidence window. A larger step
 * changes nothing, journals a signed ClockSetRefused (the attempt itself is evidence) and throws
 * LOCK_CLOCK_STEP_REFUSED. docs/lock-runtime.md.
 */
import { EventKind, LatchkeyError, type EpochMs } from "@latchkey/protocol";
import type { LockReporter } from "../journal/event-log.js";
import type { Clock } from "./hal.js";

/** Default bound of one clock step taken without a person's authorisation. */
export const CLOCK_STEP_LIMIT_MS = 5 * 60_000;

/** Sets `clock` to `ms` (step-bounded unless `stepLimitMs` is Infinity); journals ClockSet. */
export function setWallClock(
  clock: Clock,
  report: LockReporter,
  ms: EpochMs,
  source: string,
  stepLimitMs: number,
): void {
  if (!Number.isSafeInteger(ms) || ms < 0) {
    throw new LatchkeyError("LOCK_SETTING_INVALID", "time must be a non-negative epoch millisecond", {
      setting: "time",
    });
  }
  const from = clock.wallMs();
  const src = source.slice(0, 32);
  if (from !== null && Math.abs(ms - from) > stepLimitMs) {
    report.event(
      EventKind.ClockSetRefused,
      {},
      { fromMs: from, toMs: ms, source: src, limitMs: stepLimitMs },
    );
    throw new LatchkeyError(
      "LOCK_CLOCK_STEP_REFUSED",
      `a clock step of ${Math.round((ms - from) / 1000)} s is larger than the lock's bound of ${stepLimitMs / 1000} s; a person must authorise it`,
      { fromMs: from, toMs: ms, limitMs: stepLimitMs },
    );
  }
  clock.setWallMs(ms);
  report.event(EventKind.ClockSet, {}, { ...(from === null ? {} : { fromMs: from }), toMs: ms, source: src });
}
