import { afterEach, describe, expect, it } from "vitest";
import { DenyReason, EventKind, isLatchkeyError, OperatingMode, UserType } from "@latchkey/protocol";
import { startTempLock, eventsOf } from "../virtual/scenario.js";
import { memoryJournalFactory } from "../journal/journal-factory.js";
import type { VirtualLock } from "../virtual/virtual-lock.js";

const MON_10 = Date.UTC(2026, 2, 2, 10, 0);
const locks: VirtualLock[] = [];
afterEach(() => {
  for (const l of locks.splice(0)) l.runtime.shutdown();
});
function setup(): { lock: VirtualLock; user: number } {
  const lock = startTempLock({ wallMs: MON_10, journal: memoryJournalFactory });
  locks.push(lock);
  const user = lock.runtime.addUser({});
  lock.runtime.setPin(user, "58392047");
  return { lock, user };
}

describe("operating modes", () => {
  it("Normal: keypad and remote both work", () => {
    const { lock } = setup();
    expect(lock.enterPin("58392047").granted).toBe(true);
    expect(lock.runtime.remoteLock().granted).toBe(true);
    expect(lock.runtime.remoteUnlock({ pin: "58392047" }).granted).toBe(true);
  });

  it("Vacation: local readers refused (except the programming user), remote still works", () => {
    const { lock } = setup();
    lock.runtime.setOperatingMode(OperatingMode.Vacation);
    expect(lock.enterPin("58392047")).toMatchObject({ granted: false, reason: DenyReason.ModeForbids });
    expect(lock.runtime.remoteUnlock({ pin: "58392047" }).granted).toBe(true);
  });

  it("Privacy: needs the bolt locked to enter; refuses every credential and remote command; the inside knob ends it", () => {
    const { lock } = setup();
    lock.enterPin("58392047");
    let refused = false;
    try {
      lock.runtime.setOperatingMode(OperatingMode.Privacy);
    } catch (e) {
      refused = isLatchkeyError(e, "LOCK_MODE_REFUSED");
    }
    expect(refused).toBe(true);
    expect(lock.runtime.settings.operatingMode).toBe(OperatingMode.Normal);
    lock.runtime.lockButton();
    lock.runtime.setOperatingMode(OperatingMode.Privacy);
    expect(lock.enterPin("58392047")).toMatchObject({ reason: DenyReason.ModeForbids });
    expect(lock.runtime.remoteUnlock({ pin: "58392047" })).toMatchObject({ reason: DenyReason.ModeForbids });
    expect(lock.runtime.remoteLock()).toMatchObject({ reason: DenyReason.ModeForbids });
    expect(lock.runtime.boltState).toBe("Locked");
    lock.runtime.manualBolt("Unlocked");
    expect(lock.runtime.settings.operatingMode).toBe(OperatingMode.Normal);
  });

  it("NoRemoteLockUnlock: remote lock and unlock refused, keypad works", () => {
    const { lock } = setup();
    lock.runtime.setOperatingMode(OperatingMode.NoRemoteLockUnlock);
    expect(lock.runtime.remoteUnlock({ pin: "58392047" })).toMatchObject({ reason: DenyReason.ModeForbids });
    expect(lock.runtime.boltState).toBe("Locked");
    expect(lock.enterPin("58392047").granted).toBe(true);
    expect(lock.runtime.remoteLock()).toMatchObject({ reason: DenyReason.ModeForbids });
    expect(lock.runtime.boltState).toBe("Unlocked");
  });

  it("Passage: unlocks, stays unlocked (no auto-relock), opens without validation; leaving relocks", () => {
    const { lock } = setup();
    const events = eventsOf(lock, () => lock.runtime.setOperatingMode(OperatingMode.Passage));
    expect(events.map((e) => e.kind)).toEqual([EventKind.ConfigChange, EventKind.LockOperation]);
    expect(lock.runtime.boltState).toBe("Unlocked");
    lock.advance(10 * 60_000);
    expect(lock.runtime.boltState).toBe("Unlocked");
    expect(lock.enterPin("40718263")).toEqual({ granted: true, userIndex: null });
    lock.runtime.setOperatingMode(OperatingMode.Normal);
    expect(lock.runtime.boltState).toBe("Locked");
  });

  it("a holiday schedule overrides the operating mode while it runs", () => {
    const { lock } = setup();
    lock.runtime.setHolidaySchedule({
      index: 1,
      fromMs: MON_10 + 3_600_000,
      toMs: MON_10 + 7_200_000,
      operatingMode: OperatingMode.Vacation,
    });
    expect(lock.runtime.effectiveMode).toBe(OperatingMode.Normal);
    lock.advance(3_600_000);
    expect(lock.runtime.effectiveMode).toBe(OperatingMode.Vacation);
    expect(lock.enterPin("58392047")).toMatchObject({ reason: DenyReason.ModeForbids });
    lock.advance(3_600_000);
    expect(lock.enterPin("58392047").granted).toBe(true);
  });

  it("RequirePINforRemoteOperation: a remote lock without a valid PIN is refused", () => {
    const { lock } = setup();
    const admin = lock.runtime.addUser({ type: UserType.ProgrammingUser });
    lock.runtime.setPin(admin, "40718263");
    lock.runtime.updateSettings({ requirePinForRemoteOperation: true });
    lock.enterPin("58392047");
    expect(lock.runtime.remoteLock()).toMatchObject({ reason: DenyReason.UnknownCredential });
    expect(lock.runtime.boltState).toBe("Unlocked");
    expect(lock.runtime.remoteLock({ pin: "40718263" }).granted).toBe(true);
    expect(lock.runtime.boltState).toBe("Locked");
  });
});
