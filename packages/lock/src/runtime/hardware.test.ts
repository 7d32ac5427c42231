import { afterEach, describe, expect, it } from "vitest";
import { AlarmCode, DenyReason, EventKind, epochMs, type SignedLockEvent } from "@latchkey/protocol";
import { startTempLock, eventsOf } from "../virtual/scenario.js";
import type { VirtualLock } from "../virtual/virtual-lock.js";

const MON_10 = Date.UTC(2026, 2, 2, 10, 0);
const locks: VirtualLock[] = [];
afterEach(() => {
  for (const l of locks.splice(0)) l.runtime.shutdown();
});
function setup(initialSettings = {}): VirtualLock {
  const lock = startTempLock({ wallMs: MON_10, initialSettings });
  locks.push(lock);
  const user = lock.runtime.addUser({});
  lock.runtime.setPin(user, "58392047");
  return lock;
}
const alarms = (events: SignedLockEvent[]): unknown[] =>
  events.filter((e) => e.kind === EventKind.Alarm).map((e) => e.details.alarm);

describe("bolt, door and timers", () => {
  it("auto-relocks after AutoRelockTime; 0 turns it off", () => {
    const lock = setup({ autoRelockTime: 10 });
    lock.enterPin("58392047");
    lock.advance(9_999);
    expect(lock.runtime.boltState).toBe("Unlocked");
    const events = eventsOf(lock, () => lock.advance(1));
    expect(events.map((e) => [e.details.operation, e.details.source])).toEqual([["Lock", "Auto"]]);
    lock.runtime.updateSettings({ autoRelockTime: 0 });
    lock.enterPin("58392047");
    lock.advance(3_600_000);
    expect(lock.runtime.boltState).toBe("Unlocked");
  });

  it("relocks only once the door has closed", () => {
    const lock = setup({ autoRelockTime: 10 });
    lock.enterPin("58392047");
    lock.openDoor();
    lock.advance(20_000);
    expect(lock.runtime.boltState).toBe("Unlocked");
    lock.closeDoor();
    expect(lock.runtime.boltState).toBe("Locked");
  });

  it("DoorAjar after the configured time, cleared when the door closes", () => {
    const lock = setup({ doorAjarTime: 30 });
    lock.enterPin("58392047");
    const events = eventsOf(lock, () => {
      lock.openDoor();
      lock.advance(30_000);
      lock.closeDoor();
    });
    expect(alarms(events)).toEqual([AlarmCode.DoorAjar]);
    expect(
      events.some((e) => e.kind === EventKind.AlarmCleared && e.details.alarm === AlarmCode.DoorAjar),
    ).toBe(true);
  });

  it("DoorForcedOpen when the door opens while the bolt is thrown", () => {
    const lock = setup();
    const events = eventsOf(lock, () => lock.openDoor());
    expect(alarms(events)).toEqual([AlarmCode.DoorForcedOpen]);
  });

  it("tamper: escutcheon removed (and refitted), forced rotation, drilling", () => {
    const lock = setup();
    const events = eventsOf(lock, () => {
      lock.tamper("escutcheon-removed");
      lock.tamper("escutcheon-removed"); // still removed: no second alarm
      lock.tamper("forced-rotation");
      lock.tamper("drilling");
      lock.tamper("escutcheon-refitted");
    });
    expect(alarms(events)).toEqual([
      AlarmCode.FrontEscutcheonRemoved,
      AlarmCode.ForcedRotation,
      AlarmCode.Drilling,
    ]);
    expect(events.at(-1)?.kind).toBe(EventKind.AlarmCleared);
  });

  it("jam → LockJammed alarm, bolt NotFullyLocked, access reported as Jammed", () => {
    const lock = setup();
    lock.injectJam();
    const events = eventsOf(lock, () =>
      expect(lock.enterPin("58392047")).toMatchObject({ reason: DenyReason.Jammed }),
    );
    expect(alarms(events)).toEqual([AlarmCode.LockJammed]);
    // The stalled motor ran until stall detection gave up.
    expect(events[0]?.details.motorMs).toBe(lock.hardware.motor.stallDetectMs);
    expect(lock.runtime.boltState).toBe("NotFullyLocked");
    lock.injectJam(false);
    expect(lock.enterPin("58392047").granted).toBe(true);
  });
});

describe("battery", () => {
  it("warns at 20 % and 10 %, stops driving the motor below critical; emergency power still opens", () => {
    const lock = setup();
    const events = eventsOf(lock, () => {
      lock.setBattery(50);
      lock.setBattery(20);
      lock.setBattery(15);
      lock.setBattery(10);
      lock.setBattery(4);
    });
    expect(
      events
        .filter((e) => e.kind === EventKind.BatteryLevel)
        .map((e) => [e.details.percent, e.details.level]),
    ).toEqual([
      [20, "low"],
      [10, "low"],
      [4, "critical"],
    ]);
    expect(alarms(events)).toEqual([AlarmCode.BatteryLow, AlarmCode.BatteryLow, AlarmCode.BatteryCritical]);
    const moves = lock.hardware.motor.movements;
    expect(lock.enterPin("58392047")).toMatchObject({ reason: DenyReason.InsufficientBattery });
    expect(lock.hardware.motor.movements).toBe(moves);
    lock.setEmergencyPower(true);
    const opened = eventsOf(lock, () => expect(lock.enterPin("58392047").granted).toBe(true));
    expect(opened[0]?.details.emergencyPower).toBe(true);
    lock.setBattery(100);
    expect(lock.runtime.journal.read(1).at(-1)?.details.level).toBe("ok");
  });
});

describe("power and clock", () => {
  it("fail-secure: the bolt locks on power loss; fail-safe: it unlocks", () => {
    const secure = setup({ powerLossBehaviour: "fail-secure" });
    secure.enterPin("58392047");
    secure.powerCycle();
    expect(secure.runtime.boltState).toBe("Locked");
    const safe = setup({ powerLossBehaviour: "fail-safe" });
    safe.powerCycle();
    expect(safe.runtime.boltState).toBe("Unlocked");
    const powerLoss = safe.runtime.journal.read(1).find((e) => e.details.reason === "power-loss");
    expect(powerLoss?.details.lockState).toBe("Unlocked");
  });

  it("setting the clock journals ClockSet with the old and new time; an unknown clock has no fromMs", () => {
    const lock = startTempLock({ wallMs: null });
    locks.push(lock);
    const first = eventsOf(lock, () => lock.runtime.setTime(epochMs(MON_10), "hub"));
    expect(first.map((e) => [e.kind, e.details.fromMs, e.details.toMs, e.lockTime])).toEqual([
      [EventKind.ClockSet, undefined, MON_10, MON_10],
    ]);
    lock.clock.driftPpm = 100; // runs fast: 0.36 s per hour
    lock.advance(3_600_000);
    const second = eventsOf(lock, () => lock.runtime.setTime(epochMs(MON_10 + 3_600_000), "hub"));
    expect(second[0]?.details.fromMs).toBe(MON_10 + 3_600_360);
  });
});
