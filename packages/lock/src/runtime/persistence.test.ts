/**
 * Restarting from the state directory restores everything, appends a Boot event and continues
 * the journal's sequence; lockouts and expiring users survive reboots (property-based).
 */
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import fc from "fast-check";
import { DenyReason, EventKind, isLatchkeyError, OperatingMode, UserType } from "@latchkey/protocol";
import { startTempLock, tempLockDir } from "../virtual/scenario.js";
import { VirtualLock } from "../virtual/virtual-lock.js";
import { VirtualClock } from "../virtual/virtual-clock.js";
import { VirtualCard } from "../virtual/virtual-card.js";
import { KEYS_FILE } from "../persistence/lock-keys.js";
import { STATE_FILE } from "../persistence/state-file.js";

const MON_10 = Date.UTC(2026, 2, 2, 10, 0);
const locks: VirtualLock[] = [];
afterEach(() => {
  for (const l of locks.splice(0)) l.runtime.shutdown();
});
function track(lock: VirtualLock): VirtualLock {
  locks.push(lock);
  return lock;
}

describe("restart from the directory", () => {
  it("restores users, credentials, schedules, settings, usage and keys; Boot continues the sequence", () => {
    const dir = tempLockDir();
    const lock = track(startTempLock({ dir, initialSettings: { timeZone: "Europe/London" } }));
    const rt = lock.runtime;
    const u = rt.addUser({ name: "Cleaner", type: UserType.WeekDayScheduleUser, maxUses: 5 });
    rt.setPin(u, "58392047");
    rt.setCard(u, Uint8Array.from([1, 2, 3, 4]), new Uint8Array(16).fill(3));
    rt.setWeekDaySchedule(u, { index: 1, daysMask: 0x7f, startMinute: 0, endMinute: 1440 });
    rt.setHolidaySchedule({
      index: 2,
      fromMs: MON_10 + 86_400_000,
      toMs: MON_10 + 2 * 86_400_000,
      operatingMode: OperatingMode.Vacation,
    });
    rt.updateSettings({ autoRelockTime: 5 });
    lock.enterPin("58392047");
    const lockId = rt.lockId;
    const seq = rt.journal.nextSeq;

    lock.restart();
    const after = lock.runtime;
    expect(after.lockId).toBe(lockId);
    expect(after.bootCount).toBe(2);
    expect(after.users()).toEqual(rt.users());
    expect(after.credentials()).toEqual(rt.credentials());
    expect(after.settings).toEqual(rt.settings);
    expect(after.usage(u)).toEqual({ uses: 1 });
    expect(after.scheduleEntryCount).toBe(2);
    const boot = after.journal.read(seq);
    expect(boot.map((e) => [e.seq, e.kind, e.details.bootCount, e.details.reason])).toEqual([
      [seq, EventKind.Boot, 2, "reset"],
    ]);
    expect(after.journal.read(1).map((e) => e.seq)).toEqual(Array.from({ length: seq }, (_, i) => i + 1));
    lock.advance(5_000);
    expect(lock.enterPin("58392047").granted).toBe(true);
    lock.advance(5_000);
    // The sealed challenge-card key came back from state.json.
    expect(
      lock.tapCard(new VirtualCard(Uint8Array.from([1, 2, 3, 4]), new Uint8Array(16).fill(3))).granted,
    ).toBe(true);
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
    expect(existsSync(join(dir, KEYS_FILE))).toBe(true);
  });

  it("a damaged state file is refused with LOCK_STATE_CORRUPT", () => {
    const dir = tempLockDir();
    const lock = track(startTempLock({ dir }));
    lock.runtime.shutdown();
    writeFileSync(join(dir, STATE_FILE), '{"version":1,"users":[{"index":0}]');
    let caught: unknown;
    try {
      VirtualLock.start({ dir });
    } catch (e) {
      caught = e;
    }
    expect(isLatchkeyError(caught, "LOCK_STATE_CORRUPT")).toBe(true);
  });
});

describe("lockout across reboots", () => {
  it("property: a lockout lasts its full time, whether the lock restarts (clock kept) in between or not", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 120 }),
        fc.integer({ min: 0, max: 130_000 }),
        fc.boolean(),
        (disableSeconds, rebootAfterMs, powerCut) => {
          const clock = new VirtualClock(MON_10);
          const lock = track(
            startTempLock({
              clock,
              initialSettings: { wrongCodeEntryLimit: 1, userCodeTemporaryDisableTime: disableSeconds },
            }),
          );
          const u = lock.runtime.addUser({});
          lock.runtime.setPin(u, "58392047");
          lock.enterPin("40718263");
          expect(lock.runtime.lockoutActive).toBe(true);
          lock.advance(rebootAfterMs);
          if (powerCut) lock.powerCycle();
          else lock.restart();
          const remaining = disableSeconds * 1000 - rebootAfterMs;
          if (remaining > 0) {
            expect(lock.enterPin("58392047")).toMatchObject({ reason: DenyReason.LockoutActive });
            lock.advance(remaining - 1);
            expect(lock.runtime.lockoutActive).toBe(true);
            lock.advance(1);
          }
          expect(lock.runtime.lockoutActive).toBe(false);
          expect(lock.enterPin("58392047").granted).toBe(true);
          lock.runtime.shutdown();
        },
      ),
      { numRuns: 12 },
    );
  });

  it("when the clock is lost in the power cut, the lockout restarts in full", () => {
    const lock = track(
      startTempLock({ initialSettings: { wrongCodeEntryLimit: 1, userCodeTemporaryDisableTime: 60 } }),
    );
    const u = lock.runtime.addUser({});
    lock.runtime.setPin(u, "58392047");
    lock.enterPin("40718263");
    lock.advance(50_000);
    lock.powerCycle({ keepTime: false });
    lock.advance(59_000);
    expect(lock.runtime.lockoutActive).toBe(true);
    lock.advance(1_000);
    expect(lock.runtime.lockoutActive).toBe(false);
  });
});

describe("expiring users across reboots", () => {
  it("property: the timeout runs from the first use, through any number of reboots", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2880 }),
        fc.array(fc.integer({ min: 0, max: 2000 * 60_000 }), { minLength: 1, maxLength: 3 }),
        (timeoutMinutes, rebootGaps) => {
          const lock = track(startTempLock({ initialSettings: { autoRelockTime: 0 } }));
          const u = lock.runtime.addUser({
            type: UserType.ExpiringUser,
            expiringTimeoutMinutes: timeoutMinutes,
          });
          lock.runtime.setPin(u, "58392047");
          expect(lock.enterPin("58392047").granted).toBe(true);
          let elapsed = 0;
          for (const gap of rebootGaps) {
            lock.advance(gap);
            elapsed += gap;
            lock.powerCycle();
            const expected = elapsed < timeoutMinutes * 60_000;
            expect(lock.enterPin("58392047").granted).toBe(expected);
            if (!expected) expect(lock.enterPin("58392047")).toMatchObject({ reason: DenyReason.Expired });
          }
          lock.runtime.shutdown();
        },
      ),
      { numRuns: 12 },
    );
  });

  it("an expiring user is denied (TimeUnknown) when the lock lost its clock", () => {
    const lock = track(startTempLock());
    const u = lock.runtime.addUser({ type: UserType.ExpiringUser, expiringTimeoutMinutes: 60 });
    lock.runtime.setPin(u, "58392047");
    lock.enterPin("58392047");
    lock.powerCycle({ keepTime: false });
    expect(lock.enterPin("58392047")).toMatchObject({ reason: DenyReason.TimeUnknown });
  });
});
