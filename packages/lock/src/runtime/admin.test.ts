/**
 * Bad administrative input is refused with a stable LOCK_ code and changes nothing: neither the
 * persisted state file nor the journal moves.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { OperatingMode } from "@latchkey/protocol";
import { type ErrorCode, isLatchkeyError, UserType } from "@latchkey/protocol";
import { startTempLock, tempLockDir } from "../virtual/scenario.js";
import { memoryJournalFactory } from "../journal/journal-factory.js";
import type { VirtualLock } from "../virtual/virtual-lock.js";
import { STATE_FILE } from "../persistence/state-file.js";
import type { LockSettings } from "../settings/settings.js";

const locks: VirtualLock[] = [];
afterEach(() => {
  for (const l of locks.splice(0)) l.runtime.shutdown();
});

function setup(): { lock: VirtualLock; user: number; dir: string } {
  const dir = tempLockDir();
  const lock = startTempLock({
    dir,
    journal: memoryJournalFactory,
    capacity: { users: 3, credentialsPerType: 4, weekDayPerUser: 2 },
  });
  locks.push(lock);
  const user = lock.runtime.addUser({ name: "resident" });
  lock.runtime.setPin(user, "58392047");
  lock.runtime.setCard(user, Uint8Array.from([1, 2, 3, 4]));
  return { lock, user, dir };
}

const ATTACKS: [string, ErrorCode, (lock: VirtualLock, user: number) => void][] = [
  ["PIN too short", "LOCK_PIN_FORMAT", (l, u) => l.runtime.setPin(u, "58392")],
  ["PIN too long", "LOCK_PIN_FORMAT", (l, u) => l.runtime.setPin(u, "5839204718264")],
  ["PIN with letters", "LOCK_PIN_FORMAT", (l, u) => l.runtime.setPin(u, "58392a")],
  ["weak PIN (run)", "LOCK_PIN_WEAK", (l, u) => l.runtime.setPin(u, "123456")],
  ["weak PIN (repeat)", "LOCK_PIN_WEAK", (l, u) => l.runtime.setPin(u, "777777")],
  [
    "duplicate PIN",
    "LOCK_CREDENTIAL_DUPLICATE",
    (l) => l.runtime.setPin(l.runtime.addUser({}, 3) && 3, "58392047"),
  ],
  [
    "duplicate card",
    "LOCK_CREDENTIAL_DUPLICATE",
    (l, u) => l.runtime.setCard(u, Uint8Array.from([1, 2, 3, 4])),
  ],
  ["PIN for unknown user", "LOCK_USER_UNKNOWN", (l) => l.runtime.setPin(2, "40718263")],
  ["user index out of range", "LOCK_USER_INVALID", (l) => l.runtime.addUser({}, 4)],
  ["occupied user index", "LOCK_USER_EXISTS", (l, u) => l.runtime.addUser({}, u)],
  [
    "expiring timeout out of range",
    "LOCK_USER_INVALID",
    (l, u) => l.runtime.modifyUser(u, { type: UserType.ExpiringUser, expiringTimeoutMinutes: 2881 }),
  ],
  ["unknown user type", "LOCK_USER_INVALID", (l, u) => l.runtime.modifyUser(u, { type: 99 as UserType })],
  ["card UID of 5 bytes", "LOCK_CREDENTIAL_INVALID", (l, u) => l.runtime.setCard(u, new Uint8Array(5))],
  [
    "card key of 20 bytes",
    "LOCK_CREDENTIAL_INVALID",
    (l, u) => l.runtime.setCard(u, new Uint8Array(4).fill(9), new Uint8Array(20)),
  ],
  [
    "Ed25519 key of 33 bytes",
    "LOCK_CREDENTIAL_INVALID",
    (l, u) => l.runtime.setPhoneKey(u, "Ed25519", new Uint8Array(33)),
  ],
  [
    "P-256 key without 0x04",
    "LOCK_CREDENTIAL_INVALID",
    (l, u) => l.runtime.setPhoneKey(u, "P-256", new Uint8Array(65)),
  ],
  ["clear unknown credential", "LOCK_CREDENTIAL_UNKNOWN", (l) => l.runtime.clearCredential("PIN", 3)],
  [
    "schedule end before start",
    "LOCK_SCHEDULE_INVALID",
    (l, u) => l.runtime.setWeekDaySchedule(u, { index: 1, daysMask: 1, startMinute: 600, endMinute: 600 }),
  ],
  [
    "schedule minute past midnight",
    "LOCK_SCHEDULE_INVALID",
    (l, u) => l.runtime.setWeekDaySchedule(u, { index: 1, daysMask: 1, startMinute: 0, endMinute: 1441 }),
  ],
  [
    "schedule days mask 0",
    "LOCK_SCHEDULE_INVALID",
    (l, u) => l.runtime.setWeekDaySchedule(u, { index: 1, daysMask: 0, startMinute: 0, endMinute: 60 }),
  ],
  [
    "schedule index beyond capacity",
    "LOCK_SCHEDULE_INVALID",
    (l, u) => l.runtime.setWeekDaySchedule(u, { index: 3, daysMask: 1, startMinute: 0, endMinute: 60 }),
  ],
  [
    "year-day to before from",
    "LOCK_SCHEDULE_INVALID",
    (l, u) => l.runtime.setYearDaySchedule(u, { index: 1, fromMs: 2000, toMs: 1000 }),
  ],
  [
    "holiday with unknown mode",
    "LOCK_SCHEDULE_INVALID",
    (l) => l.runtime.setHolidaySchedule({ index: 1, fromMs: 0, toMs: 1, operatingMode: 99 as OperatingMode }),
  ],
  ["clear unknown schedule", "LOCK_SCHEDULE_UNKNOWN", (l, u) => l.runtime.clearWeekDaySchedule(u, 1)],
  [
    "unknown time zone",
    "LOCK_SETTING_INVALID",
    (l) => l.runtime.updateSettings({ timeZone: "Mars/Olympus" }),
  ],
  ["wrong-code limit 0", "LOCK_SETTING_INVALID", (l) => l.runtime.updateSettings({ wrongCodeEntryLimit: 0 })],
  [
    "disable time 256",
    "LOCK_SETTING_INVALID",
    (l) => l.runtime.updateSettings({ userCodeTemporaryDisableTime: 256 }),
  ],
  [
    "unknown setting",
    "LOCK_SETTING_INVALID",
    (l) => l.runtime.updateSettings({ colour: "red" } as unknown as Partial<LockSettings>),
  ],
  [
    "battery thresholds out of order",
    "LOCK_SETTING_INVALID",
    (l) => l.runtime.updateSettings({ batteryCriticalPercent: 15 }),
  ],
  ["min PIN length 3", "LOCK_SETTING_INVALID", (l) => l.runtime.updateSettings({ minPinLength: 3 })],
  [
    "no free user slot",
    "LOCK_CAPACITY",
    (l) => {
      l.runtime.addUser({}, 2);
      l.runtime.addUser({}, 3);
      l.runtime.addUser({});
    },
  ],
];

describe("bad administrative input is refused and changes nothing", () => {
  for (const [name, code, attack] of ATTACKS) {
    it(`${name} → ${code}`, () => {
      const { lock, user, dir } = setup();
      const stateBefore = readFileSync(join(dir, STATE_FILE));
      const seqBefore = lock.runtime.journal.nextSeq;
      const usersBefore = JSON.stringify(lock.runtime.users());
      const credsBefore = JSON.stringify(lock.runtime.credentials());
      let caught: unknown;
      try {
        attack(lock, user);
      } catch (e) {
        caught = e;
      }
      expect(isLatchkeyError(caught, code)).toBe(true);
      if (name !== "no free user slot" && name !== "duplicate PIN") {
        expect(readFileSync(join(dir, STATE_FILE)).equals(stateBefore)).toBe(true);
        expect(lock.runtime.journal.nextSeq).toBe(seqBefore);
        expect(JSON.stringify(lock.runtime.users())).toBe(usersBefore);
        expect(JSON.stringify(lock.runtime.credentials())).toBe(credsBefore);
      } else {
        // The refused step itself added nothing: the only new users are the ones the attack created first.
        expect(lock.runtime.credentials()).toEqual(JSON.parse(credsBefore));
      }
    });
  }

  it("clearing a user's last credential clears the user (Matter); clearing a user removes its credentials and schedules", () => {
    const { lock, user } = setup();
    lock.runtime.clearCredential("RFID", 1);
    expect(lock.runtime.user(user)).toBeDefined();
    lock.runtime.clearCredential("PIN", 1);
    expect(lock.runtime.user(user)).toBeUndefined();
    const again = lock.runtime.addUser({ type: UserType.ExpiringUser, expiringTimeoutMinutes: 30 });
    lock.runtime.setPin(again, "58392047");
    lock.runtime.modifyUser(again, { type: UserType.UnrestrictedUser });
    expect(lock.runtime.user(again)?.expiringTimeoutMinutes).toBeUndefined();
    lock.runtime.setWeekDaySchedule(again, { index: 1, daysMask: 1, startMinute: 0, endMinute: 60 });
    lock.runtime.clearUser(again);
    expect(lock.runtime.credentials()).toEqual([]);
    expect(lock.runtime.scheduleEntryCount).toBe(0);
  });
});
