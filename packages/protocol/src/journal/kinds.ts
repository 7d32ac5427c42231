/**
 * What a lock can testify to. Numbers are part of the signed wire format: never renumber or reuse.
 * Names follow the Matter Door Lock cluster where it has one (MATTER-DOORLOCK.md).
 */
export const EventKind = {
  /** The runtime started; details: reason ("power-on" | "reset" | "watchdog"), bootCount. */
  Boot: 1,
  /** The journal was found cut short after a crash and repaired; details: droppedBytes. */
  JournalRecovered: 2,
  /**
   * The lock's clock was set or corrected; details: fromMs (absent if the clock was unknown), toMs,
   * source ("hub", "person", …); a person-authorised step adds authority, certificateSerial, subjectId.
   */
  ClockSet: 3,
  /** Signed every few minutes while idle so silence is provable; details: lockState, doorState, battery. */
  Heartbeat: 4,
  /** Factory reset: every user, credential and key is erased. */
  FactoryReset: 5,
  /** The lock was commissioned; details: ownerKeyHash, hubKeyHash. */
  Commissioned: 6,
  /** A clock step larger than the lock's bound was refused (the clock is unchanged); details: fromMs, toMs, source, limitMs. */
  ClockSetRefused: 7,
  /** Matter LockOperation: details operation ("Lock" | "Unlock" | "Unlatch" | "NonAccessUserEvent" | "ForcedUserEvent"), source. */
  LockOperation: 16,
  /** Matter LockOperationError: an access attempt that was refused; details: reason (DenyReason), source. */
  LockOperationError: 17,
  /** Matter DoorStateChange; details: doorState. */
  DoorStateChange: 32,
  /** Matter LockStateChange (bolt moved, including by hand); details: lockState, source. */
  LockStateChange: 33,
  /** Matter DoorLockAlarm; details: alarm (AlarmCode). */
  Alarm: 48,
  /** An alarm condition ended (door closed after DoorAjar, escutcheon refitted); details: alarm. */
  AlarmCleared: 49,
  /** Matter LockUserChange; details: dataType, operation ("Add" | "Clear" | "Modify"), userIndex, credentialIndex. */
  UserChange: 64,
  /** A lock setting changed (operating mode, auto-relock time, limits…); details: setting, value. */
  ConfigChange: 65,
  /** Battery level crossed a threshold; details: percent, level ("ok" | "low" | "critical"). */
  BatteryLevel: 80,
  /** The lock saw and acknowledged a ledger checkpoint (ledger issue); details: checkpoint hash, tree size. */
  CheckpointAck: 96,
} as const;
export type EventKind = (typeof EventKind)[keyof typeof EventKind];

/** Why an access attempt was refused. Stable strings: they are signed into events and shown to users. */
export const DenyReason = {
  UnknownCredential: "unknown-credential",
  DisabledUser: "disabled-user",
  OutsideSchedule: "outside-schedule",
  NoSchedule: "no-schedule",
  TimeUnknown: "time-unknown",
  Expired: "expired",
  UsesExhausted: "uses-exhausted",
  LockoutActive: "lockout-active",
  ModeForbids: "mode-forbids",
  RemoteOnlyAtKeypad: "remote-only-at-keypad",
  NonAccessUser: "non-access-user",
  InsufficientBattery: "insufficient-battery",
  CredentialRuleIncomplete: "credential-rule-incomplete",
  Jammed: "jammed",
  InvalidCertificate: "invalid-certificate",
  StaleChallenge: "stale-challenge",
  BadSignature: "bad-signature",
  Revoked: "revoked",
} as const;
export type DenyReason = (typeof DenyReason)[keyof typeof DenyReason];

/** Matter AlarmCodeEnum names. */
export const AlarmCode = {
  LockJammed: "LockJammed",
  LockFactoryReset: "LockFactoryReset",
  LockRadioPowerCycled: "LockRadioPowerCycled",
  WrongCodeEntryLimit: "WrongCodeEntryLimit",
  FrontEscutcheonRemoved: "FrontEscutcheonRemoved",
  DoorForcedOpen: "DoorForcedOpen",
  DoorAjar: "DoorAjar",
  ForcedUser: "ForcedUser",
  /** Latchkey additions beyond Matter. */
  ForcedRotation: "ForcedRotation",
  Drilling: "Drilling",
  BatteryLow: "BatteryLow",
  BatteryCritical: "BatteryCritical",
} as const;
export type AlarmCode = (typeof AlarmCode)[keyof typeof AlarmCode];

/** Matter OperationSourceEnum subset plus Latchkey's phone key. */
export const OperationSource = {
  Manual: "Manual",
  Keypad: "Keypad",
  Auto: "Auto",
  Button: "Button",
  Schedule: "Schedule",
  Remote: "Remote",
  RFID: "RFID",
  Biometric: "Biometric",
  PhoneKey: "PhoneKey",
  EmergencyPower: "EmergencyPower",
} as const;
export type OperationSource = (typeof OperationSource)[keyof typeof OperationSource];

/** Who acted: indexes only, never a secret. All fields optional (an auto-relock has no user). */
export interface EventActor {
  readonly userIndex?: number;
  readonly credentialType?: "PIN" | "RFID" | "Fingerprint" | "PhoneKey" | "ProgrammingPIN";
  readonly credentialIndex?: number;
}

/**
 * Extra facts of an event: flat, small, never secret. Encoded canonically (keys sorted) by the
 * event codec; at most 32 entries, keys at most 32 bytes, strings at most 256 bytes.
 */
export type EventDetails = Readonly<Record<string, string | number | boolean | Uint8Array>>;
