/**
 * Lock users, modelled on the Matter Door Lock cluster (UserTypeEnum, CredentialRuleEnum, with
 * the protocol's numbers). A user is a person's slot on one lock; credentials and schedules refer
 * to it by its 1-based index.
 */
import { CredentialRule, isEnumValue, LatchkeyError, UserType, type UserIndex } from "@latchkey/protocol";

/** How many distinct credentials of the user must be presented together. */
export const CREDENTIALS_REQUIRED: Readonly<Record<CredentialRule, number>> = {
  [CredentialRule.Single]: 1,
  [CredentialRule.Dual]: 2,
  [CredentialRule.Tri]: 3,
};

export interface User {
  readonly index: UserIndex;
  /** Display name (not secret; appears in the lock's admin API, never in events). */
  readonly name: string;
  readonly type: UserType;
  readonly enabled: boolean;
  readonly credentialRule: CredentialRule;
  /** ExpiringUser only: minutes of validity after the first use (Matter: 1–2880). */
  readonly expiringTimeoutMinutes?: number;
  /** Optional use-count limit for any user type; null/undefined = unlimited. */
  readonly maxUses?: number;
}

/** Fields a caller may give when adding or modifying a user. */
export interface UserInput {
  readonly name?: string;
  readonly type?: UserType;
  readonly enabled?: boolean;
  readonly credentialRule?: CredentialRule;
  readonly expiringTimeoutMinutes?: number;
  readonly maxUses?: number;
}

export const MAX_USER_NAME_BYTES = 64;

function invalid(field: string, message: string, details: Record<string, string | number> = {}): never {
  throw new LatchkeyError("LOCK_USER_INVALID", message, { field, ...details });
}

export function checkUserIndex(index: number, maxUsers: number): UserIndex {
  if (!Number.isInteger(index) || index < 1 || index > maxUsers) {
    invalid("userIndex", `user index must be an integer from 1 to ${maxUsers}`, { userIndex: String(index) });
  }
  return index as UserIndex;
}

/** Builds a validated user record from `input` applied over `base` (a new user when base is undefined). */
export function buildUser(index: UserIndex, input: UserInput, base?: User): User {
  const name = input.name ?? base?.name ?? "";
  if (typeof name !== "string" || Buffer.byteLength(name, "utf8") > MAX_USER_NAME_BYTES) {
    invalid("name", `user name must be a string of at most ${MAX_USER_NAME_BYTES} bytes`);
  }
  const type = input.type ?? base?.type ?? UserType.UnrestrictedUser;
  if (typeof type !== "number" || !isEnumValue(UserType, type)) invalid("type", "unknown user type");
  const credentialRule = input.credentialRule ?? base?.credentialRule ?? CredentialRule.Single;
  if (typeof credentialRule !== "number" || !isEnumValue(CredentialRule, credentialRule))
    invalid("credentialRule", "unknown credential rule");
  const enabled = input.enabled ?? base?.enabled ?? true;
  if (typeof enabled !== "boolean") invalid("enabled", "enabled must be a boolean");
  // A user changed away from ExpiringUser drops its timeout instead of failing validation.
  let expiringTimeoutMinutes =
    input.expiringTimeoutMinutes ??
    (type === UserType.ExpiringUser ? base?.expiringTimeoutMinutes : undefined);
  if (type === UserType.ExpiringUser) {
    expiringTimeoutMinutes ??= 60;
    if (
      !Number.isInteger(expiringTimeoutMinutes) ||
      expiringTimeoutMinutes < 1 ||
      expiringTimeoutMinutes > 2880
    ) {
      invalid("expiringTimeoutMinutes", "expiring timeout must be an integer from 1 to 2880 minutes");
    }
  } else if (expiringTimeoutMinutes !== undefined) {
    invalid("expiringTimeoutMinutes", "only an ExpiringUser has an expiring timeout");
  }
  const maxUses = input.maxUses ?? base?.maxUses;
  if (maxUses !== undefined && (!Number.isInteger(maxUses) || maxUses < 1 || maxUses > 1_000_000)) {
    invalid("maxUses", "use limit must be an integer from 1 to 1000000");
  }
  return {
    index,
    name,
    type,
    enabled,
    credentialRule,
    ...(expiringTimeoutMinutes !== undefined ? { expiringTimeoutMinutes } : {}),
    ...(maxUses !== undefined ? { maxUses } : {}),
  };
}

/** User types whose access depends on schedules (denied when the lock does not know the time). */
export function isScheduleUser(type: UserType): boolean {
  return (
    type === UserType.WeekDayScheduleUser ||
    type === UserType.YearDayScheduleUser ||
    type === UserType.ScheduleRestrictedUser
  );
}
