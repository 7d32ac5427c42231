import { afterEach, describe, expect, it } from "vitest";
import {
  AlarmCode,
  CredentialRule,
  DaysMask,
  DenyReason,
  EventKind,
  OperatingMode,
  UserType,
} from "@latchkey/protocol";
import { startTempLock, eventsOf } from "../virtual/scenario.js";
import { memoryJournalFactory } from "../journal/journal-factory.js";
import type { VirtualLock } from "../virtual/virtual-lock.js";
import type { Indication } from "../journal/event-log.js";

const MON_10 = Date.UTC(2026, 2, 2, 10, 0); // Monday 2 March 2026, 10:00 UTC
const HOUR = 3_600_000;
const locks: VirtualLock[] = [];
function newLock(wallMs: number | null = MON_10): VirtualLock {
  const lock = startTempLock({ wallMs, journal: memoryJournalFactory });
  locks.push(lock);
  return lock;
}
afterEach(() => {
  for (const l of locks.splice(0)) l.runtime.shutdown();
});

function relock(lock: VirtualLock): void {
  lock.advance(31_000);
  expect(lock.runtime.boltState).toBe("Locked");
}

describe("user types", () => {
  it("UnrestrictedUser opens at any time, even when the lock does not know the time", () => {
    const lock = newLock(null);
    const u = lock.runtime.addUser({ type: UserType.UnrestrictedUser });
    lock.runtime.setPin(u, "58392047");
    expect(lock.enterPin("58392047")).toEqual({ granted: true, userIndex: u });
    expect(lock.runtime.boltState).toBe("Unlocked");
  });

  it("WeekDayScheduleUser: inside the window yes, outside no, no schedule no, time unknown no", () => {
    const lock = newLock();
    const u = lock.runtime.addUser({ type: UserType.WeekDayScheduleUser });
    lock.runtime.setPin(u, "58392047");
    expect(lock.enterPin("58392047")).toMatchObject({ granted: false, reason: DenyReason.NoSchedule });
    lock.runtime.setWeekDaySchedule(u, {
      index: 1,
      daysMask: DaysMask.Monday,
      startMinute: 9 * 60,
      endMinute: 11 * 60,
    });
    expect(lock.enterPin("58392047").granted).toBe(true);
    relock(lock);
    lock.advance(2 * HOUR);
    expect(lock.enterPin("58392047")).toMatchObject({ granted: false, reason: DenyReason.OutsideSchedule });
    lock.clock.forgetWallTime();
    expect(lock.enterPin("58392047")).toMatchObject({ granted: false, reason: DenyReason.TimeUnknown });
  });

  it("week-day windows use the lock's time zone (Sydney, the morning after the DST change)", () => {
    // Monday 6 Oct 2025 09:30 AEDT (UTC+11) = Sunday 5 Oct 22:30 UTC.
    const lock = startTempLock({
      wallMs: Date.UTC(2025, 9, 5, 22, 30),
      journal: memoryJournalFactory,
      initialSettings: { timeZone: "Australia/Sydney" },
    });
    locks.push(lock);
    const u = lock.runtime.addUser({ type: UserType.WeekDayScheduleUser });
    lock.runtime.setPin(u, "58392047");
    lock.runtime.setWeekDaySchedule(u, {
      index: 1,
      daysMask: DaysMask.Monday,
      startMinute: 9 * 60,
      endMinute: 10 * 60,
    });
    expect(lock.enterPin("58392047").granted).toBe(true);
    relock(lock);
    lock.advance(30 * 60_000); // 10:00:31 local: closed
    expect(lock.enterPin("58392047")).toMatchObject({ granted: false, reason: DenyReason.OutsideSchedule });
  });

  it("YearDayScheduleUser: only inside its from–to interval", () => {
    const lock = newLock();
    const u = lock.runtime.addUser({ type: UserType.YearDayScheduleUser });
    lock.runtime.setPin(u, "58392047");
    lock.runtime.setYearDaySchedule(u, { index: 1, fromMs: MON_10 + HOUR, toMs: MON_10 + 2 * HOUR });
    expect(lock.enterPin("58392047")).toMatchObject({ granted: false, reason: DenyReason.OutsideSchedule });
    lock.advance(HOUR);
    expect(lock.enterPin("58392047").granted).toBe(true);
    relock(lock);
    lock.advance(HOUR);
    expect(lock.enterPin("58392047")).toMatchObject({ granted: false, reason: DenyReason.OutsideSchedule });
  });

  it("ScheduleRestrictedUser must satisfy both week-day and year-day schedules", () => {
    const lock = newLock();
    const u = lock.runtime.addUser({ type: UserType.ScheduleRestrictedUser });
    lock.runtime.setPin(u, "58392047");
    lock.runtime.setWeekDaySchedule(u, {
      index: 1,
      daysMask: DaysMask.Monday,
      startMinute: 9 * 60,
      endMinute: 17 * 60,
    });
    lock.runtime.setYearDaySchedule(u, {
      index: 1,
      fromMs: MON_10 + 7 * 24 * HOUR,
      toMs: MON_10 + 14 * 24 * HOUR,
    });
    expect(lock.enterPin("58392047")).toMatchObject({ granted: false, reason: DenyReason.OutsideSchedule });
    lock.advance(7 * 24 * HOUR);
    expect(lock.enterPin("58392047").granted).toBe(true);
    relock(lock);
    lock.advance(24 * HOUR); // Tuesday: year-day still fine, week-day not
    expect(lock.enterPin("58392047")).toMatchObject({ granted: false, reason: DenyReason.OutsideSchedule });
  });

  it("ProgrammingUser opens, and is the only keypad user in Vacation mode", () => {
    const lock = newLock();
    const admin = lock.runtime.addUser({ type: UserType.ProgrammingUser });
    const other = lock.runtime.addUser({ type: UserType.UnrestrictedUser });
    lock.runtime.setPin(admin, "58392047");
    lock.runtime.setPin(other, "40718263");
    lock.runtime.setOperatingMode(OperatingMode.Vacation);
    expect(lock.enterPin("40718263")).toMatchObject({ granted: false, reason: DenyReason.ModeForbids });
    expect(lock.enterPin("58392047").granted).toBe(true);
  });

  it("NonAccessUser is recognised, never opens, and generates a NonAccessUserEvent", () => {
    const lock = newLock();
    const u = lock.runtime.addUser({ type: UserType.NonAccessUser });
    lock.runtime.setPin(u, "58392047");
    const events = eventsOf(lock, () => {
      expect(lock.enterPin("58392047")).toMatchObject({ granted: false, reason: DenyReason.NonAccessUser });
    });
    expect(lock.runtime.boltState).toBe("Locked");
    expect(events.map((e) => [e.kind, e.details.operation, e.actor.userIndex])).toEqual([
      [EventKind.LockOperation, "NonAccessUserEvent", u],
    ]);
  });

  it("ForcedUser opens and raises a silent ForcedUser alarm: the door shows an ordinary grant", () => {
    const lock = newLock();
    const normal = lock.runtime.addUser({});
    const duress = lock.runtime.addUser({ type: UserType.ForcedUser });
    lock.runtime.setPin(normal, "40718263");
    lock.runtime.setPin(duress, "58392047");
    const seen: Indication[] = [];
    lock.runtime.onIndication((i) => seen.push(i));
    lock.enterPin("40718263");
    relock(lock);
    const normalSignals = seen.splice(0);
    const events = eventsOf(lock, () => {
      expect(lock.enterPin("58392047")).toEqual({ granted: true, userIndex: duress });
    });
    expect(seen).toEqual(normalSignals);
    expect(lock.runtime.boltState).toBe("Unlocked");
    expect(events.map((e) => [e.kind, e.details.operation ?? e.details.alarm])).toEqual([
      [EventKind.LockOperation, "ForcedUserEvent"],
      [EventKind.Alarm, AlarmCode.ForcedUser],
    ]);
  });

  it("DisposableUser opens once, then is disabled", () => {
    const lock = newLock();
    const u = lock.runtime.addUser({ type: UserType.DisposableUser });
    lock.runtime.setPin(u, "58392047");
    expect(lock.enterPin("58392047").granted).toBe(true);
    expect(lock.runtime.user(u)?.enabled).toBe(false);
    relock(lock);
    expect(lock.enterPin("58392047")).toMatchObject({ granted: false, reason: DenyReason.DisabledUser });
    lock.runtime.modifyUser(u, { enabled: true });
    lock.runtime.resetUsage(u);
    expect(lock.enterPin("58392047").granted).toBe(true);
  });

  it("ExpiringUser is valid for its timeout after the first use", () => {
    const lock = newLock();
    const u = lock.runtime.addUser({ type: UserType.ExpiringUser, expiringTimeoutMinutes: 90 });
    lock.runtime.setPin(u, "58392047");
    lock.advance(5 * HOUR); // the timeout starts at first use, not at creation
    expect(lock.enterPin("58392047").granted).toBe(true);
    relock(lock);
    lock.advance(80 * 60_000);
    expect(lock.enterPin("58392047").granted).toBe(true);
    relock(lock);
    lock.advance(10 * 60_000);
    expect(lock.enterPin("58392047")).toMatchObject({ granted: false, reason: DenyReason.Expired });
  });

  it("RemoteOnlyUser: PIN refused at the keypad, accepted in a remote unlock", () => {
    const lock = newLock();
    const u = lock.runtime.addUser({ type: UserType.RemoteOnlyUser });
    lock.runtime.setPin(u, "58392047");
    expect(lock.enterPin("58392047")).toMatchObject({
      granted: false,
      reason: DenyReason.RemoteOnlyAtKeypad,
    });
    expect(lock.runtime.boltState).toBe("Locked");
    expect(lock.runtime.remoteUnlock({ pin: "58392047" })).toEqual({ granted: true, userIndex: u });
  });

  it("users can be disabled and enabled", () => {
    const lock = newLock();
    const u = lock.runtime.addUser({});
    lock.runtime.setPin(u, "58392047");
    lock.runtime.modifyUser(u, { enabled: false });
    expect(lock.enterPin("58392047")).toMatchObject({ granted: false, reason: DenyReason.DisabledUser });
    lock.runtime.modifyUser(u, { enabled: true });
    expect(lock.enterPin("58392047").granted).toBe(true);
  });

  it("a use-count limit applies to any user type", () => {
    const lock = newLock();
    const u = lock.runtime.addUser({ maxUses: 2 });
    lock.runtime.setPin(u, "58392047");
    expect(lock.enterPin("58392047").granted).toBe(true);
    relock(lock);
    expect(lock.enterPin("58392047").granted).toBe(true);
    relock(lock);
    expect(lock.enterPin("58392047")).toMatchObject({ granted: false, reason: DenyReason.UsesExhausted });
  });
});

describe("credential rules (Dual / Tri)", () => {
  it("Dual: PIN alone is incomplete; PIN then fingerprint within the window opens", () => {
    const lock = newLock();
    const u = lock.runtime.addUser({ credentialRule: CredentialRule.Dual });
    lock.runtime.setPin(u, "58392047");
    lock.runtime.setFingerprint(u, 3);
    expect(lock.enterPin("58392047")).toMatchObject({
      granted: false,
      reason: DenyReason.CredentialRuleIncomplete,
    });
    expect(lock.enterPin("58392047")).toMatchObject({
      granted: false,
      reason: DenyReason.CredentialRuleIncomplete,
    });
    expect(lock.runtime.boltState).toBe("Locked");
    lock.advance(5_000);
    expect(lock.touchFingerprint(3)).toEqual({ granted: true, userIndex: u });
    relock(lock);
    // Too slow: the window (15 s) lapses and collection starts again.
    lock.enterPin("58392047");
    lock.advance(16_000);
    expect(lock.touchFingerprint(3)).toMatchObject({
      granted: false,
      reason: DenyReason.CredentialRuleIncomplete,
    });
  });

  it("Tri needs three distinct credentials of the same user", () => {
    const lock = newLock();
    const u = lock.runtime.addUser({ credentialRule: CredentialRule.Tri });
    const other = lock.runtime.addUser({});
    lock.runtime.setPin(u, "58392047");
    lock.runtime.setFingerprint(u, 3);
    const uid = Uint8Array.from([1, 2, 3, 4]);
    lock.runtime.setCard(u, uid);
    lock.runtime.setFingerprint(other, 4);
    lock.enterPin("58392047");
    lock.touchFingerprint(4); // another user's finger does not count towards u
    expect(lock.touchFingerprint(3)).toMatchObject({
      granted: false,
      reason: DenyReason.CredentialRuleIncomplete,
    });
    lock.advance(5_000);
    expect(lock.runtime.attemptCard(uid)).toEqual({ granted: true, userIndex: u });
  });
});
