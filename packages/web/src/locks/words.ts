/**
 * Lock facts in words: bolt and door states, why a lock refused someone (the lock's signed
 * DenyReason names), and where a credential stands on a lock (sync states and their reasons).
 */
import type { LockStateName, SyncRow, SyncStateName } from "../api/types.js";

export const LOCK_STATE_LABELS: Record<LockStateName, string> = {
  locked: "Locked",
  unlocked: "Unlocked",
  "not-fully-locked": "Not fully locked",
};

/** The virtual lock's bolt state names ("Locked", "NotFullyLocked" …) in words. */
export function boltWords(state: string): string {
  if (state === "Locked") return "Locked";
  if (state === "Unlocked" || state === "Unlatched") return "Unlocked";
  if (state === "NotFullyLocked") return "Not fully locked";
  return state;
}

/** Why a lock refused an attempt (protocol DenyReason values). */
export const DENY_REASONS: Record<string, string> = {
  "unknown-credential": "not a code or card this lock knows",
  "disabled-user": "this person is disabled on the lock",
  "outside-schedule": "outside schedule",
  "no-schedule": "no schedule allows this person here",
  "time-unknown": "the lock does not know the time yet",
  expired: "access has expired",
  "uses-exhausted": "all allowed uses are used up",
  "lockout-active": "locked out after too many wrong tries",
  "mode-forbids": "the lock's mode does not allow this",
  "remote-only-at-keypad": "this code only works remotely",
  "non-access-user": "this person has no door access",
  "insufficient-battery": "battery too low to move the bolt",
  "credential-rule-incomplete": "a second credential is needed",
  jammed: "the bolt is jammed",
  "invalid-certificate": "the phone key's certificate is not valid",
  "stale-challenge": "the request was too old",
  "bad-signature": "the signature did not check out",
  revoked: "this credential is revoked",
};

export function denyWords(reason: string | null): string {
  if (reason === null) return "no reason given";
  return DENY_REASONS[reason] ?? reason.replace(/-/g, " ");
}

/** The lock's answer to a demo input, as the panel shows it. */
export function answerWords(a: { result: "granted" | "denied" | "done"; reason: string | null }): string {
  if (a.result === "granted") return "Granted";
  if (a.result === "denied") return `Denied: ${denyWords(a.reason)}`;
  return "Done";
}

export const SYNC_STATE_LABELS: Record<SyncStateName, string> = {
  idle: "Not needed here",
  pending: "Waiting to be sent",
  sending: "Sending",
  set: "Set on the lock",
  failed: "Failed",
  removing: "Being removed",
  removed: "Removed from the lock",
};

/** Sync reasons: the engine's own sentences and the lock's refusal codes. */
const SYNC_REASONS: Record<string, string> = {
  "lock unreachable": "the lock is not reachable right now",
  "no sealed copy for this lock":
    "this PIN was made before the lock was added, so it was never sealed to it; make a new PIN",
  "removed at the lock": "it was removed at the lock itself",
  LOCK_CAPACITY: "the lock has no free slot left",
  LOCK_CREDENTIAL_DUPLICATE:
    "the lock already has this PIN or card for another user; replace the PIN with a new one (Replace PIN)",
  LOCK_PIN_WEAK: "the lock refused the PIN as too easy to guess",
  LOCK_PIN_FORMAT: "the PIN's length is outside what the lock accepts",
  LOCK_CREDENTIAL_INVALID: "the lock refused the card or key as malformed",
  LOCK_SEALED_SECRET_INVALID: "the lock could not open the sealed PIN (it was sealed for another key)",
  LOCK_USER_INVALID: "the lock refused this person's settings",
  LOCK_SCHEDULE_INVALID: "the lock refused the schedule",
  LOCK_MESSAGE_UNSUPPORTED: "this lock does not support this kind of credential",
  LOCK_POWERED_OFF: "the lock is powered off",
  LOCK_NOT_COMMISSIONED: "the lock was reset and is no longer added to this hub",
  LOCK_LINK_TIMEOUT: "the lock did not answer in time",
  LOCK_STATE_CORRUPT: "the lock reported a fault in its storage",
};

export function syncReasonWords(reason: string): string {
  return SYNC_REASONS[reason] ?? `the lock refused (${reason})`;
}

/** One line for a credential's state on one lock. */
export function syncWords(row: Pick<SyncRow, "state" | "reason">): string {
  const label = SYNC_STATE_LABELS[row.state];
  if (row.reason === null || row.state === "set" || row.state === "sending") return label;
  if (row.state === "removed" && row.reason !== "removed at the lock") return label;
  return `${label}: ${syncReasonWords(row.reason)}`;
}
