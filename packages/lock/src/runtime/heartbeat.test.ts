import { afterEach, describe, expect, it } from "vitest";
import { EventKind, isLatchkeyError, type SignedLockEvent } from "@latchkey/protocol";
import { eventsOf, startTempLock } from "../virtual/scenario.js";
import type { VirtualLock } from "../virtual/virtual-lock.js";

const MON_10 = Date.UTC(2026, 2, 2, 10, 0);
const locks: VirtualLock[] = [];
afterEach(() => {
  for (const l of locks.splice(0)) l.runtime.shutdown();
});
function setup(initialSettings = {}): VirtualLock {
  const lock = startTempLock({ wallMs: MON_10, initialSettings });
  locks.push(lock);
  return lock;
}
const lockTimes = (events: SignedLockEvent[]): (number | null)[] => events.map((e) => e.lockTime);

describe("heartbeats make silence provable", () => {
  it("signs a Heartbeat after every heartbeatInterval of silence, with the lock's state", () => {
    const lock = setup();
    const start = lock.runtime.wallMs ?? 0;
    const events = eventsOf(lock, () => lock.advance(60 * 60_000));
    expect(events.every((e) => e.kind === EventKind.Heartbeat)).toBe(true);
    expect(lockTimes(events)).toEqual(Array.from({ length: 12 }, (_, i) => start + (i + 1) * 300_000));
    expect(events[0]?.details).toEqual({ lockState: "Locked", doorState: "Closed", battery: 100 });
  });

  it("restarts the silence timer at every event, so events are never further apart than the interval", () => {
    const lock = setup({ heartbeatInterval: 120, doorAjarTime: 3600 });
    lock.advance(100_000);
    lock.openDoor(); // an event at 100 s: the next heartbeat is due at 220 s, not 120 s
    const events = eventsOf(lock, () => lock.advance(130_000));
    expect(events.filter((e) => e.kind === EventKind.Heartbeat).map((e) => e.details.doorState)).toEqual([
      "Open",
    ]);
    const all = lock.runtime.journal.read(1);
    for (let i = 1; i < all.length; i++) {
      const gap = (all[i]?.lockTime ?? 0) - (all[i - 1]?.lockTime ?? 0);
      expect(gap).toBeLessThanOrEqual(120_000);
    }
  });

  it("keeps beating after a restart, continuing the journal's sequence", () => {
    const lock = setup();
    lock.advance(10 * 60_000);
    const before = lock.runtime.journal.nextSeq;
    const again = lock.restart();
    locks.push(again);
    const events = eventsOf(again, () => again.advance(5 * 60_000));
    expect(events.map((e) => e.kind)).toEqual([EventKind.Heartbeat]);
    expect(events[0]?.seq).toBe(before + 1); // the Boot event took `before`
  });

  it("refuses an interval that evidence could not use, and changes nothing", () => {
    const lock = setup();
    for (const bad of [0, 59, 901, 1.5]) {
      try {
        lock.runtime.updateSettings({ heartbeatInterval: bad });
        expect.unreachable();
      } catch (e) {
        expect(isLatchkeyError(e, "LOCK_SETTING_INVALID")).toBe(true);
      }
    }
    expect(lock.runtime.settings.heartbeatInterval).toBe(300);
  });
});
