/**
 * Alerts from what happened at a door: a lock-signed alarm, once it is sealed in the ledger,
 * becomes an alert (and so a notification). Each alarm event is one alert, named after the
 * lock's own alarm code (protocol journal/kinds.ts AlarmCode, after Matter's DoorLockAlarm);
 * its details are the alarm, the event's seq and the lock's time — never who or which code.
 */
import { AlarmCode, EventKind, type SignedLockEvent } from "@latchkey/protocol";
import { AlertKind, type NewAlert } from "./alerts.js";

/** Which alert each alarm code raises; codes not listed (a radio power cycle…) raise none. */
const ALARM_ALERTS: Readonly<Partial<Record<string, AlertKind>>> = {
  [AlarmCode.DoorForcedOpen]: AlertKind.DoorForced,
  [AlarmCode.ForcedRotation]: AlertKind.DoorForced,
  [AlarmCode.Drilling]: AlertKind.DoorForced,
  [AlarmCode.FrontEscutcheonRemoved]: AlertKind.Tamper,
  [AlarmCode.LockJammed]: AlertKind.Jammed,
  [AlarmCode.WrongCodeEntryLimit]: AlertKind.Lockout,
  [AlarmCode.ForcedUser]: AlertKind.Duress,
  [AlarmCode.BatteryLow]: AlertKind.BatteryLow,
  [AlarmCode.BatteryCritical]: AlertKind.BatteryLow,
  [AlarmCode.DoorAjar]: AlertKind.DoorHeldOpen,
  [AlarmCode.LockFactoryReset]: AlertKind.FactoryReset,
};

/** The alerts raised by `events` of one lock, in their order. */
export function doorEventAlerts(lockId: string, events: readonly SignedLockEvent[]): NewAlert[] {
  const alerts: NewAlert[] = [];
  for (const e of events) {
    if (e.kind !== EventKind.Alarm) continue;
    const alarm = e.details.alarm;
    if (typeof alarm !== "string") continue;
    const kind = ALARM_ALERTS[alarm];
    if (kind === undefined) continue;
    alerts.push({ kind, lockId, details: { alarm, seq: e.seq, lockTime: e.lockTime } });
  }
  return alerts;
}
