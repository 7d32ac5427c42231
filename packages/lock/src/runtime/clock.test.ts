/**
 * Time the hub cannot bend (docs/lock-runtime.md "Clock"): every event carries the lock's
 * monotonic reading beside its wall time; a known clock moves at most CLOCK_STEP_LIMIT_MS per step
 * unless a person authorised it; a refused step changes nothing and is itself journaled.
 */
import { afterEach, describe, expect, it } from "vitest";
import {
  EventKind,
  LatchkeyError,
  epochMs,
  verifyJournalEvents,
  LOCK_EVENT_VERSION,
} from "@latchkey/protocol";
import { nodeEd25519 } from "@latchkey/protocol/node";
import { eventsOf, startTempLock } from "../virtual/scenario.js";
import type { VirtualLock } from "../virtual/virtual-lock.js";
import { CLOCK_STEP_LIMIT_MS } from "../hardware/wall-clock.js";

const MON_10 = Date.UTC(2026, 2, 2, 10, 0);
const locks: VirtualLock[] = [];
afterEach(() => {
  for (const l of locks.splice(0)) l.runtime.shutdown();
});
function setup(wallMs: number | null = MON_10): VirtualLock {
  const lock = startTempLock({ wallMs });
  locks.push(lock);
  return lock;
}
function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof LatchkeyError) return e.code;
    throw e;
  }
  return "no error";
}

describe("lock clock: monotonic readings", () => {
  it("stamps every event with the hardware's monotonic clock (format v2), also after a restart", () => {
    const lock = setup();
    lock.advance(61_000);
    const [a] = eventsOf(lock, () => lock.runtime.addUser({}));
    expect(a?.version).toBe(LOCK_EVENT_VERSION);
    expect(a?.monotonicMs).toBe(lock.clock.monotonicMs());
    // Five minutes of silence: the heartbeat carries the monotonic time it fired at.
    const beats = eventsOf(lock, () => lock.advance(5 * 60_000));
    expect(beats.map((e) => [e.kind, e.monotonicMs])).toEqual([[EventKind.Heartbeat, 61_000 + 5 * 60_000]]);
    const bootBefore = lock.runtime.bootId;
    lock.restart();
    const boot = lock.runtime.journal.read(lock.runtime.journal.nextSeq - 1)[0];
    expect(boot?.kind).toBe(EventKind.Boot);
    expect(boot?.bootId).not.toEqual(bootBefore);
    expect(boot?.monotonicMs).toBe(lock.clock.monotonicMs());
  });
});

describe("lock clock: bounded steps", () => {
  it("sets an unknown clock to anything; journals ClockSet without fromMs", () => {
    const lock = setup(null);
    const [e] = eventsOf(lock, () => lock.runtime.setTime(epochMs(MON_10), "hub"));
    expect(e?.kind).toBe(EventKind.ClockSet);
    expect(e?.details).toEqual({ toMs: MON_10, source: "hub" });
    expect(lock.runtime.wallMs).toBe(MON_10);
  });

  it("takes drift corrections up to the bound either way, each journaled with old and new values", () => {
    const lock = setup();
    expect(lock.runtime.clockStepLimitMs).toBe(CLOCK_STEP_LIMIT_MS);
    const steps = [MON_10 + CLOCK_STEP_LIMIT_MS, MON_10, MON_10 - CLOCK_STEP_LIMIT_MS, MON_10 - 1500];
    let from = MON_10;
    for (const to of steps) {
      const [e] = eventsOf(lock, () => lock.runtime.setTime(epochMs(to), "hub"));
      expect(e?.kind).toBe(EventKind.ClockSet);
      expect(e?.details).toEqual({ fromMs: from, toMs: to, source: "hub" });
      expect(e?.lockTime).toBe(to);
      from = to;
    }
  });

  it("refuses a larger step: the clock is unchanged, the refusal is a signed ClockSetRefused", () => {
    const lock = setup();
    lock.advance(1000);
    for (const step of [CLOCK_STEP_LIMIT_MS + 1, -(CLOCK_STEP_LIMIT_MS + 1), 150 * 60_000]) {
      const before = lock.runtime.wallMs;
      const events = eventsOf(lock, () =>
        expect(codeOf(() => lock.runtime.setTime(epochMs(MON_10 + 1000 + step), "hub"))).toBe(
          "LOCK_CLOCK_STEP_REFUSED",
        ),
      );
      expect(lock.runtime.wallMs).toBe(before);
      expect(events.map((e) => [e.kind, e.details])).toEqual([
        [
          EventKind.ClockSetRefused,
          { fromMs: MON_10 + 1000, toMs: MON_10 + 1000 + step, source: "hub", limitMs: CLOCK_STEP_LIMIT_MS },
        ],
      ]);
      expect(events[0]?.lockTime).toBe(before);
    }
  });

  it("refuses times that are not epoch milliseconds, as before", () => {
    const lock = setup();
    expect(codeOf(() => lock.runtime.setTime(epochMs(-1), "hub"))).toBe("LOCK_SETTING_INVALID");
    expect(codeOf(() => lock.runtime.setTime(epochMs(MON_10 + 0.5), "hub"))).toBe("LOCK_SETTING_INVALID");
  });

  it("a journal of ClockSet and ClockSetRefused events verifies as one chain", () => {
    const lock = setup();
    lock.runtime.setTime(epochMs(MON_10 + 60_000), "hub");
    codeOf(() => lock.runtime.setTime(epochMs(MON_10 + 3_600_000), "hub"));
    const events = lock.runtime.journal.read(1);
    const result = verifyJournalEvents(events, { publicKey: lock.runtime.publicKey, ed25519: nodeEd25519 });
    expect(result.fault).toBeNull();
    expect(events.every((e) => e.version === LOCK_EVENT_VERSION && e.monotonicMs !== undefined)).toBe(true);
  });
});
