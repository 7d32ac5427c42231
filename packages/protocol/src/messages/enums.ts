/**
 * Small enums shared by the message catalogue, with Matter Door Lock cluster (0x0101) names and
 * numbers, so a Matter bridge maps them one to one (see MATTER-DOORLOCK.md). The numbers are part
 * of the wire format: never renumber or reuse.
 */

/** Matter UserTypeEnum. */
export const UserType = {
  UnrestrictedUser: 0,
  YearDayScheduleUser: 1,
  WeekDayScheduleUser: 2,
  ProgrammingUser: 3,
  NonAccessUser: 4,
  ForcedUser: 5,
  DisposableUser: 6,
  ExpiringUser: 7,
  ScheduleRestrictedUser: 8,
  RemoteOnlyUser: 9,
} as const;
export type UserType = (typeof UserType)[keyof typeof UserType];

/** Matter UserStatusEnum (2 is unused in Matter). */
export const UserStatus = {
  Available: 0,
  OccupiedEnabled: 1,
  OccupiedDisabled: 3,
} as const;
export type UserStatus = (typeof UserStatus)[keyof typeof UserStatus];

/** Matter CredentialRuleEnum: how many credentials must be presented together. */
export const CredentialRule = {
  Single: 0,
  Dual: 1,
  Tri: 2,
} as const;
export type CredentialRule = (typeof CredentialRule)[keyof typeof CredentialRule];

/** Matter CredentialTypeEnum. */
export const CredentialType = {
  ProgrammingPIN: 0,
  PIN: 1,
  RFID: 2,
  Fingerprint: 3,
  FingerVein: 4,
  Face: 5,
  AliroCredentialIssuerKey: 6,
  AliroEvictableEndpointKey: 7,
  AliroNonEvictableEndpointKey: 8,
} as const;
export type CredentialType = (typeof CredentialType)[keyof typeof CredentialType];

/** Matter OperatingModeEnum. */
export const OperatingMode = {
  Normal: 0,
  Vacation: 1,
  Privacy: 2,
  NoRemoteLockUnlock: 3,
  Passage: 4,
} as const;
export type OperatingMode = (typeof OperatingMode)[keyof typeof OperatingMode];

/** Matter LockStateEnum (nullable in Matter: `null` = unknown, 0xFF on the wire). */
export const LockState = {
  NotFullyLocked: 0,
  Locked: 1,
  Unlocked: 2,
  Unlatched: 3,
} as const;
export type LockState = (typeof LockState)[keyof typeof LockState];

/** Matter DoorStateEnum (nullable in Matter: `null` = unknown, 0xFF on the wire). */
export const DoorState = {
  DoorOpen: 0,
  DoorClosed: 1,
  DoorJammed: 2,
  DoorForcedOpen: 3,
  DoorUnspecifiedError: 4,
  DoorAjar: 5,
} as const;
export type DoorState = (typeof DoorState)[keyof typeof DoorState];

/** Matter DaysMaskMap bits (local time). */
export const DaysMask = {
  Sunday: 0x01,
  Monday: 0x02,
  Tuesday: 0x04,
  Wednesday: 0x08,
  Thursday: 0x10,
  Friday: 0x20,
  Saturday: 0x40,
} as const;
export const ALL_DAYS_MASK = 0x7f;

export function isEnumValue(e: Readonly<Record<string, number>>, v: number): boolean {
  return Object.values(e).includes(v);
}

type NumericEnum = Readonly<Record<string, number>>;

/**
 * The name of an enum value, for what people read (signed event details, a lock's state file,
 * a terminal); undefined for a value the enum does not have.
 */
export function enumName<E extends NumericEnum>(e: E, value: number): (keyof E & string) | undefined {
  for (const [name, v] of Object.entries(e)) if (v === value) return name;
  return undefined;
}

/** The value of an enum name (the inverse of `enumName`); undefined for an unknown name. */
export function enumValue<E extends NumericEnum>(e: E, name: string): E[keyof E] | undefined {
  return Object.hasOwn(e, name) ? (e[name] as E[keyof E]) : undefined;
}
