/**
 * The access decision: a pure function of the lock's state, the presented (already matched)
 * credential, the source and the time. Every refusal carries a DenyReason. Stateful follow-ups
 * (use counting, disposable users, Dual/Tri collection, lockout counters, the motor) are
 * door-access.ts's job; this function only decides.
 */
import { DenyReason, OperatingMode, OperationSource, UserType } from "@latchkey/protocol";
import type { Credential } from "../credentials/credential.js";
import type { ScheduleBook } from "../schedules/schedule-book.js";
import type { UserUsage } from "../users/user-book.js";
import { type User } from "../users/user.js";

export interface AccessContext {
  readonly users: ReadonlyMap<number, User>;
  readonly schedules: ScheduleBook;
  readonly usage: ReadonlyMap<number, UserUsage>;
  readonly timeZone: string;
  /** The mode in force now (a holiday may override the configured one). */
  readonly mode: OperatingMode;
  readonly lockoutActive: boolean;
  /** Lock wall time, null when the lock does not know the time. */
  readonly nowMs: number | null;
}

export type AccessDecision =
  | { readonly granted: true; readonly user: User; readonly credential: Credential; readonly forced: boolean }
  | {
      readonly granted: false;
      readonly reason: DenyReason;
      readonly user?: User;
      readonly credential?: Credential;
    };

const LOCAL_SOURCES = new Set<OperationSource>([
  OperationSource.Keypad,
  OperationSource.RFID,
  OperationSource.Biometric,
  OperationSource.PhoneKey,
]);

export function isLocalSource(source: OperationSource): boolean {
  return LOCAL_SOURCES.has(source);
}

export function decideAccess(
  ctx: AccessContext,
  credential: Credential | undefined,
  source: OperationSource,
): AccessDecision {
  if (ctx.lockoutActive) return { granted: false, reason: DenyReason.LockoutActive };
  if (ctx.mode === OperatingMode.Privacy) return { granted: false, reason: DenyReason.ModeForbids };
  if (ctx.mode === OperatingMode.NoRemoteLockUnlock && source === OperationSource.Remote) {
    return { granted: false, reason: DenyReason.ModeForbids };
  }
  if (credential === undefined) return { granted: false, reason: DenyReason.UnknownCredential };
  const user = ctx.users.get(credential.userIndex);
  if (user === undefined) return { granted: false, reason: DenyReason.UnknownCredential, credential };
  const deny = (reason: DenyReason): AccessDecision => ({ granted: false, reason, user, credential });

  if (!user.enabled) return deny(DenyReason.DisabledUser);
  if (user.type === UserType.NonAccessUser) return deny(DenyReason.NonAccessUser);
  if (user.type === UserType.RemoteOnlyUser && source !== OperationSource.Remote) {
    return deny(DenyReason.RemoteOnlyAtKeypad);
  }
  // Vacation: only remote interaction; the keypad (and other local readers) only for the
  // programming ("master") user.
  if (
    ctx.mode === OperatingMode.Vacation &&
    isLocalSource(source) &&
    user.type !== UserType.ProgrammingUser
  ) {
    return deny(DenyReason.ModeForbids);
  }
  const scheduleDeny = ctx.schedules.check(user.index, user.type, ctx.nowMs, ctx.timeZone);
  if (scheduleDeny !== null) return deny(scheduleDeny);

  const usage = ctx.usage.get(user.index);
  if (user.type === UserType.ExpiringUser && usage?.firstUseMs !== undefined) {
    if (ctx.nowMs === null) return deny(DenyReason.TimeUnknown);
    const timeoutMs = (user.expiringTimeoutMinutes ?? 0) * 60_000;
    if (ctx.nowMs >= usage.firstUseMs + timeoutMs || ctx.nowMs < usage.firstUseMs)
      return deny(DenyReason.Expired);
  }
  if (user.type === UserType.ExpiringUser && usage?.firstUseMs === undefined && ctx.nowMs === null) {
    // The first use starts the timeout; without a clock it could never be enforced.
    return deny(DenyReason.TimeUnknown);
  }
  if (user.maxUses !== undefined && (usage?.uses ?? 0) >= user.maxUses) return deny(DenyReason.UsesExhausted);

  return { granted: true, user, credential, forced: user.type === UserType.ForcedUser };
}
